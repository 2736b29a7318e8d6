package driverclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// A replicated driver group answers only on its leader; the other members
// refuse every call with NotLeader, naming the leader's client address
// when they know it. Group, a grpc.ClientConnInterface over every member,
// sends each call to the member it believes leads and follows the
// refusals (or tries the next member when one is unreachable) until a
// leader answers, FailoverTimeout passes or the call's context ends.

// leaderMarker starts the leader's address in a NotLeader message.
const leaderMarker = "leader at "

// NotLeader is the error a member that does not lead answers with: code
// Unavailable, and leader (when known) in the message for clients to
// follow (LeaderOf).
func NotLeader(member, leader string) error {
	if leader == "" {
		return status.Errorf(codes.Unavailable, "driver %s is not the leader of its group (no leader known yet)", member)
	}
	return status.Errorf(codes.Unavailable, "driver %s is not the leader of its group; %s%s", member, leaderMarker, leader)
}

// quorumMarker is in the refusal of a member that has been without a
// leader for so long that its group has lost its quorum (NoQuorum).
const quorumMarker = "lost its quorum"

// NoQuorum is the refusal of a member that has known of no leader for
// leaderless, much longer than an election takes: fewer than a majority
// of its group's voters are up (or reach each other), so none can be
// elected and nothing the group holds moves on until enough come back.
// Like NotLeader it is Unavailable; a Group that finds no leader but
// such members gives up at once (see each) instead of trying for
// FailoverTimeout.
func NoQuorum(member string, leaderless time.Duration, voters int) error {
	return status.Errorf(codes.Unavailable, "driver %s has had no leader for %s: its group has %s (a leader needs %d of its %d members up)",
		member, leaderless.Round(100*time.Millisecond), quorumMarker, voters/2+1, voters)
}

// IsNoQuorum reports whether err is a NoQuorum refusal, or a Group's
// error made of them.
func IsNoQuorum(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unavailable && strings.Contains(st.Message(), quorumMarker)
}

// refused reports whether err is a NotLeader refusal: the member answers,
// and may yet see a leader elected.
func refused(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unavailable && strings.Contains(st.Message(), "is not the leader")
}

// LeaderOf is the leader's address a NotLeader error names ("" if err is
// none, or names none).
func LeaderOf(err error) string {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable {
		return ""
	}
	_, after, found := strings.Cut(st.Message(), leaderMarker)
	if !found {
		return ""
	}
	return strings.TrimSpace(after)
}

// SplitAddrs splits a comma-separated list of driver addresses.
func SplitAddrs(list string) []string {
	var out []string
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// FailoverTimeout bounds how long one call keeps looking for a leader: an
// election takes a second or two, a group without a majority longer.
var FailoverTimeout = 30 * time.Second

// ConnectTimeout bounds how long a call waits for a connection to a
// member before it tries the next one. A member whose machine or
// container is gone may not refuse connections: its address leads
// nowhere (no RST), and gRPC would wait for the connection until the
// call's deadline. A member that answers connects in milliseconds.
var ConnectTimeout = time.Second

// Group is a connection to every member of a driver group. Safe for
// concurrent use.
type Group struct {
	opts  []grpc.DialOption
	mu    sync.Mutex
	addrs []string
	conns []*grpc.ClientConn
	cur   int // the member believed to lead
	// given is how many of addrs the client was given; the others were
	// named as leader by a member (added to the group since). One of
	// those that cannot be reached from here (a name that only resolves
	// inside the drivers' network) is passed over from then on: unreached.
	given     int
	unreached map[int]bool
}

var _ grpc.ClientConnInterface = (*Group)(nil)

// KeepaliveTime is how often a Group pings a member on a connection with
// calls in flight, and KeepaliveTimeout how long it waits for the answer
// before it drops the connection (failing its calls, which then go to
// another member). gRPC pings 10s apart at the most, so this is a
// backstop: a job followed on a group notices a member that hangs
// sooner (Conn.probe). A replicated driver accepts pings that often
// (ServerKeepalive).
const (
	KeepaliveTime    = 10 * time.Second
	KeepaliveTimeout = 2 * time.Second
)

// ServerKeepalive is the server option of a group member that lets
// Groups ping it every KeepaliveTime.
func ServerKeepalive() grpc.ServerOption {
	return grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: KeepaliveTime / 2, PermitWithoutStream: true})
}

// NewGroup connects (lazily, as gRPC does) to every address.
func NewGroup(addrs []string, opts ...grpc.DialOption) (*Group, error) {
	if len(addrs) == 0 {
		return nil, errors.New("no driver address")
	}
	opts = append(opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: KeepaliveTime, Timeout: KeepaliveTimeout}))
	g := &Group{addrs: addrs, opts: opts, given: len(addrs), unreached: map[int]bool{}}
	for _, a := range addrs {
		c, err := grpc.NewClient(a, opts...)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("driver %s: %w", a, err)
		}
		g.conns = append(g.conns, c)
	}
	return g, nil
}

// Close closes every connection.
func (g *Group) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var errs []error
	for _, c := range g.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Leader is the address of the member calls go to first.
func (g *Group) Leader() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addrs[g.cur]
}

func (g *Group) current() (int, *grpc.ClientConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cur, g.conns[g.cur]
}

// indexOf is the index of member connection c.
func (g *Group) indexOf(c *grpc.ClientConn) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Index(g.conns, c)
}

// size is the number of members the group knows.
func (g *Group) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// moveOn picks the member to try after member i failed with err: the
// leader it named (one added to the group since the client started is
// connected to and kept, unless it proved unreachable from here), else
// the next one.
func (g *Group) moveOn(i int, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != i {
		return // another call moved on already
	}
	if i >= g.given && !refused(err) && !IsNoQuorum(err) {
		g.unreached[i] = true
	}
	if l := LeaderOf(err); l != "" {
		j := slices.Index(g.addrs, l)
		switch {
		case j >= 0 && j != i && !g.unreached[j]:
			g.cur = j
			return
		case j < 0:
			if c, err := grpc.NewClient(l, g.opts...); err == nil {
				g.addrs, g.conns = append(g.addrs, l), append(g.conns, c)
				g.cur = len(g.conns) - 1
				return
			}
		}
	}
	for n := 1; n <= len(g.addrs); n++ {
		if j := (i + n) % len(g.addrs); !g.unreached[j] {
			g.cur = j
			return
		}
	}
}

// maxElectionPoll bounds the pause between rounds of members while no
// member leads (an election is under way): a new leader is found within
// that much of being elected. A round costs each member one refusal.
const maxElectionPoll = 200 * time.Millisecond

// retryable reports whether a call that failed with err may succeed on
// another member (or the same one later): it was refused by a member that
// does not lead, or found no member to talk to.
func retryable(err error) bool { return status.Code(err) == codes.Unavailable }

// each calls call on the leader until it answers with something else
// than Unavailable; after a round of members without an answer it waits
// a little (an election is under way). When every member has either not
// answered or refused with NoQuorum (at least one), the group has lost
// its quorum: each returns that at once, naming every member's answer.
// last holds each member's latest answer to the call (a stream's
// opening and first message share it).
func (g *Group) each(ctx context.Context, last *[]error, call func(*grpc.ClientConn) error) error {
	deadline := time.Now().Add(FailoverTimeout)
	wait := 50 * time.Millisecond
	for tries := 1; ; tries++ {
		i, conn := g.current()
		err := connected(ctx, conn)
		if err == nil {
			err = call(conn)
		}
		*last = answered(*last, i, err)
		if err != nil && retryable(err) && ctx.Err() == nil {
			if qerr := g.quorumLost(*last); qerr != nil {
				return qerr
			}
		}
		if err != nil && ctx.Err() != nil && status.Code(err) == codes.DeadlineExceeded {
			// The member did not answer in the caller's time: it may
			// hang (a stopped process keeps its connections). The next
			// call tries another; a follower sends it back if it leads.
			g.moveOn(i, err)
		}
		if err == nil || !retryable(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		g.moveOn(i, err)
		if tries%g.size() == 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
			wait = min(2*wait, maxElectionPoll)
		}
	}
}

// answered records member i's answer err in last, grown as members are
// added (a leader the client was not given).
func answered(last []error, i int, err error) []error {
	for len(last) <= i {
		last = append(last, nil)
	}
	last[i] = err
	return last
}

// connected waits until the connection c to a member is ready, at most
// ConnectTimeout; else it returns an Unavailable error, as a call on a
// connection that failed would be. A connection that has just failed
// (TRANSIENT_FAILURE) is left to the call, which fails at once.
func connected(ctx context.Context, c *grpc.ClientConn) error {
	wait, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	for {
		s := c.GetState()
		switch s {
		case connectivity.Ready, connectivity.TransientFailure, connectivity.Shutdown:
			return nil
		case connectivity.Idle:
			c.Connect()
		}
		if !c.WaitForStateChange(wait, s) {
			if ctx.Err() != nil {
				return nil // the caller's context ended: the call says so
			}
			return status.Errorf(codes.Unavailable, "no connection within %s (%s)", ConnectTimeout, strings.ToLower(s.String()))
		}
	}
}

// quorumLost is the error of a group whose members (their latest
// answers in last) either do not answer or say that the group has lost
// its quorum, at least one of them; nil otherwise.
func (g *Group) quorumLost(last []error) error {
	g.mu.Lock()
	addrs := append([]string(nil), g.addrs...)
	g.mu.Unlock()
	if len(last) < len(addrs) {
		return nil // a member not asked yet
	}
	said := false
	for _, err := range last {
		switch {
		case err == nil || !retryable(err):
			return nil
		case IsNoQuorum(err):
			said = true
		case refused(err):
			return nil // a member that may yet see a leader elected
		}
	}
	if !said {
		return nil
	}
	parts := make([]string, len(last))
	for i, err := range last {
		msg := status.Convert(err).Message()
		if !refused(err) && !IsNoQuorum(err) {
			msg = "does not answer (" + msg + ")"
		}
		parts[i] = addrs[i] + ": " + msg
	}
	return status.Errorf(codes.Unavailable, "the driver group has %s, no driver leads: %s", quorumMarker, strings.Join(parts, "; "))
}

// Invoke implements grpc.ClientConnInterface.
func (g *Group) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	last := make([]error, g.size())
	return g.each(ctx, &last, func(c *grpc.ClientConn) error { return c.Invoke(ctx, method, args, reply, opts...) })
}

// NewStream implements grpc.ClientConnInterface. A server stream whose
// first message is a refusal is opened again on the leader, with the
// request sent again; once a message has arrived the stream is the
// member's, and its errors are the caller's.
func (g *Group) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	var member int // the member the stream was last opened on
	last := make([]error, g.size())
	open := func() (grpc.ClientStream, error) {
		var s grpc.ClientStream
		err := g.each(ctx, &last, func(c *grpc.ClientConn) error {
			var err error
			member = g.indexOf(c)
			s, err = c.NewStream(ctx, desc, method, opts...)
			return err
		})
		return s, err
	}
	s, err := open()
	if err != nil || desc.ClientStreams || !desc.ServerStreams {
		return s, err
	}
	return &retryStream{ClientStream: s, g: g, ctx: ctx, open: open, member: &member, last: &last}, nil
}

// retryStream is a server stream that moves to another member while its
// first message has not arrived.
type retryStream struct {
	grpc.ClientStream
	g        *Group
	ctx      context.Context
	open     func() (grpc.ClientStream, error)
	sent     []any
	closed   bool
	received bool
	member   *int     // the member of the stream now
	last     *[]error // each member's latest answer
}

func (s *retryStream) SendMsg(m any) error {
	s.sent = append(s.sent, m)
	return s.ClientStream.SendMsg(m)
}

func (s *retryStream) CloseSend() error {
	s.closed = true
	return s.ClientStream.CloseSend()
}

func (s *retryStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if s.received || err == nil {
		s.received = s.received || err == nil
		return err
	}
	deadline := time.Now().Add(FailoverTimeout)
	wait := 50 * time.Millisecond
	// Opening a stream sends nothing yet: refusals come here, and so does
	// the news of a lost quorum.
	for retryable(err) && s.ctx.Err() == nil && time.Now().Before(deadline) {
		*s.last = answered(*s.last, *s.member, err)
		if qerr := s.g.quorumLost(*s.last); qerr != nil {
			return qerr
		}
		s.g.moveOn(*s.member, err)
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, maxElectionPoll)
		ns, oerr := s.open()
		if oerr != nil {
			return oerr
		}
		s.ClientStream = ns
		if err = s.replay(); err == nil {
			err = ns.RecvMsg(m)
		}
	}
	s.received = err == nil
	return err
}

func (s *retryStream) replay() error {
	for _, m := range s.sent {
		if err := s.ClientStream.SendMsg(m); err != nil {
			return err
		}
	}
	if s.closed {
		return s.ClientStream.CloseSend()
	}
	return nil
}
