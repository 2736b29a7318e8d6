package driverclient

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// member is a fake group member: it answers Status and Watch when it
// leads, else refuses with NotLeader naming *leader.
type member struct {
	pb.UnimplementedDriverServer
	name   string
	mu     *sync.Mutex
	leader *string // the leader's address ("" none)
	addr   string
	calls  atomic.Int32
	// leads makes the member answer whatever leader the others name (it
	// is known to them by an address the client cannot reach).
	leads bool
}

func (m *member) refusal() error {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if *m.leader == m.addr || m.leads {
		return nil
	}
	if *m.leader == lost {
		return NoQuorum(m.name, 6*time.Second, 3)
	}
	return NotLeader(m.name, *m.leader)
}

func (m *member) Status(_ context.Context, req *pb.StatusRequest) (*pb.JobStatus, error) {
	if err := m.refusal(); err != nil {
		return nil, err
	}
	return &pb.JobStatus{JobId: req.GetJobId(), Name: m.name}, nil
}

func (m *member) Watch(req *pb.WatchRequest, stream grpc.ServerStreamingServer[pb.JobEvent]) error {
	if err := m.refusal(); err != nil {
		return err
	}
	return stream.Send(&pb.JobEvent{Event: &pb.JobEvent_Status{Status: &pb.JobStatus{JobId: req.GetJobId(), Name: m.name}}})
}

func (m *member) Cancel(context.Context, *pb.CancelRequest) (*pb.CancelResponse, error) {
	return nil, status.Error(codes.NotFound, "no such job")
}

// lost as the leader makes every member refuse with NoQuorum.
const lost = "lost"

// startMembers serves n members on 127.0.0.1 and returns them with a
// free address where nothing listens (a dead member).
func startMembers(t *testing.T, n int) ([]*member, *sync.Mutex, *string, string) {
	t.Helper()
	mu, leader := &sync.Mutex{}, new(string)
	var ms []*member
	for i := range n {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		m := &member{name: string(rune('a' + i)), mu: mu, leader: leader, addr: lis.Addr().String()}
		gs := grpc.NewServer()
		pb.RegisterDriverServer(gs, m)
		done := make(chan struct{})
		go func() { defer close(done); gs.Serve(lis) }()
		t.Cleanup(func() { gs.Stop(); <-done })
		ms = append(ms, m)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	lis.Close()
	return ms, mu, leader, dead
}

func TestLeaderOf(t *testing.T) {
	if got := LeaderOf(NotLeader("d1", "h:7077")); got != "h:7077" {
		t.Errorf("LeaderOf = %q", got)
	}
	for _, err := range []error{NotLeader("d1", ""), status.Error(codes.NotFound, "leader at h:1"), errors.New("leader at h:1"), nil} {
		if got := LeaderOf(err); got != "" {
			t.Errorf("LeaderOf(%v) = %q, want none", err, got)
		}
	}
	if got := SplitAddrs(" a:1, ,b:2,"); strings.Join(got, "|") != "a:1|b:2" {
		t.Errorf("SplitAddrs = %q", got)
	}
}

// TestGroupFollowsTheLeader: calls through a group whose first member is
// dead and whose second refuses reach the leader the refusal names, for
// unary calls and server streams alike; other errors come back at once;
// when the leader changes, calls follow it.
func TestGroupFollowsTheLeader(t *testing.T) {
	ms, mu, leader, dead := startMembers(t, 3)
	*leader = ms[2].addr
	c, err := Dial(strings.Join([]string{dead, ms[0].addr, ms[1].addr, ms[2].addr}, ","))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.Client.Status(ctx, &pb.StatusRequest{JobId: "j"})
	if err != nil || st.GetName() != "c" {
		t.Fatalf("Status through the group: %v, %v; want member c's answer", st, err)
	}
	if n := ms[1].calls.Load(); n != 0 {
		t.Errorf("member b was asked %d times; a's refusal named c", n)
	}
	if _, err := c.Client.Cancel(ctx, &pb.CancelRequest{JobId: "j"}); status.Code(err) != codes.NotFound {
		t.Fatalf("Cancel: %v, want the leader's NotFound", err)
	}

	// The leader moves to a: the next calls (a stream first) follow.
	mu.Lock()
	*leader = ms[0].addr
	mu.Unlock()
	stream, err := c.Client.Watch(ctx, &pb.WatchRequest{JobId: "j"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := stream.Recv()
	if err != nil || ev.GetStatus().GetName() != "a" {
		t.Fatalf("Watch through the group: %v, %v; want member a's event", ev, err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("end of the stream: %v", err)
	}
	if st, err := c.Client.Status(ctx, &pb.StatusRequest{JobId: "j"}); err != nil || st.GetName() != "a" {
		t.Fatalf("Status after the move: %v, %v", st, err)
	}
	if got := c.group.Leader(); got != ms[0].addr {
		t.Errorf("group leader %s, want %s", got, ms[0].addr)
	}
}

// TestGroupWithoutLeader: while no member leads, a call keeps trying
// until its context ends, and returns the refusal.
func TestGroupWithoutLeader(t *testing.T) {
	ms, _, _, _ := startMembers(t, 2)
	g, err := NewGroup([]string{ms[0].addr, ms[1].addr}, shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err = pb.NewDriverClient(g).Status(ctx, &pb.StatusRequest{JobId: "j"})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "no leader known") {
		t.Fatalf("Status without a leader: %v", err)
	}
	if a, b := ms[0].calls.Load(), ms[1].calls.Load(); a < 2 || b < 2 {
		t.Errorf("members asked %d and %d times: want retries on both", a, b)
	}
}

// TestGroupFollowsANewMember: a refusal naming a leader the client was
// not given (a driver added to the group since) sends calls there.
func TestGroupFollowsANewMember(t *testing.T) {
	ms, mu, leader, _ := startMembers(t, 2)
	mu.Lock()
	*leader = ms[1].addr
	mu.Unlock()
	c, err := Dial(ms[0].addr + "," + ms[0].addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 2 {
		st, err := c.Client.Status(ctx, &pb.StatusRequest{JobId: "j"})
		if err != nil || st.GetName() != "b" {
			t.Fatalf("Status through the group: %v, %v; want the new member b's answer", st, err)
		}
	}
	if n := ms[0].calls.Load(); n != 1 {
		t.Errorf("member a was asked %d times, want once: the group keeps the new leader", n)
	}
}

// TestGroupQuorumLost: when the members that answer say that the group
// has lost its quorum and the others do not answer, calls and streams
// fail at once with an error naming every member's answer, not after
// FailoverTimeout.
func TestGroupQuorumLost(t *testing.T) {
	ms, mu, leader, dead := startMembers(t, 1)
	mu.Lock()
	*leader = lost
	mu.Unlock()
	g, err := NewGroup([]string{dead, ms[0].addr}, shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := pb.NewDriverClient(g)
	began := time.Now()
	_, err = c.Status(ctx, &pb.StatusRequest{JobId: "j"})
	if !IsNoQuorum(err) || !strings.Contains(err.Error(), dead+": does not answer") ||
		!strings.Contains(err.Error(), ms[0].addr+": driver a has had no leader for 6s: its group has lost its quorum (a leader needs 2 of its 3 members up)") {
		t.Fatalf("Status without a quorum: %v", err)
	}
	stream, err := c.Watch(ctx, &pb.WatchRequest{JobId: "j"})
	if err == nil {
		_, err = stream.Recv()
	}
	if !IsNoQuorum(err) {
		t.Fatalf("Watch without a quorum: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the calls took %s to fail", took)
	}
	// A member that refuses without saying the quorum is lost (an
	// election may be under way) keeps the call trying.
	mu.Lock()
	*leader = ""
	mu.Unlock()
	short, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()
	if _, err := c.Status(short, &pb.StatusRequest{JobId: "j"}); IsNoQuorum(err) || status.Code(err) != codes.Unavailable {
		t.Errorf("Status during an election: %v", err)
	}
}

// TestGroupMemberThatNeverConnects: a member whose address accepts TCP
// but never speaks (as a vanished container's address that answers
// nothing) holds a call up for ConnectTimeout, not until the call's
// deadline: the call goes on to the leader.
func TestGroupMemberThatNeverConnects(t *testing.T) {
	ms, mu, leader, _ := startMembers(t, 1)
	mu.Lock()
	*leader = ms[0].addr
	mu.Unlock()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var heldMu sync.Mutex
	var held []net.Conn
	defer func() {
		heldMu.Lock()
		defer heldMu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, c) // never answered
			heldMu.Unlock()
		}
	}()
	g, err := NewGroup([]string{silent.Addr().String(), ms[0].addr}, shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	began := time.Now()
	st, err := pb.NewDriverClient(g).Status(ctx, &pb.StatusRequest{JobId: "j"})
	if err != nil || st.GetName() != "a" {
		t.Fatalf("Status: %v %v", st, err)
	}
	if took := time.Since(began); took > ConnectTimeout+2*time.Second {
		t.Errorf("the call took %s: held up by the member that never connects", took)
	}
}

// TestGroupPassesOverAnUnreachableLeader: when members name the leader by
// an address that does not resolve here (a name inside the drivers'
// network), the client passes over it and finds the leader among the
// addresses it was given.
func TestGroupPassesOverAnUnreachableLeader(t *testing.T) {
	ms, mu, leader, _ := startMembers(t, 3)
	mu.Lock()
	*leader = "driver-2.invalid:7070"
	mu.Unlock()
	ms[2].leads = true
	c, err := Dial(ms[0].addr + "," + ms[1].addr + "," + ms[2].addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 3 {
		st, err := c.Client.Status(ctx, &pb.StatusRequest{JobId: "j"})
		if err != nil || st.GetName() != "c" {
			t.Fatalf("Status through the group: %v, %v; want member c's answer", st, err)
		}
	}
}
