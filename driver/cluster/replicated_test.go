package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/driver/replica"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/tpch"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startGroup starts n replicated drivers in this process and returns them
// with their client addresses, comma-separated.
func startGroup(t *testing.T, n int) ([]*cluster.Driver, string) {
	t.Helper()
	var peers []replica.Peer
	for i := range n {
		peers = append(peers, replica.Peer{ID: fmt.Sprintf("d%d", i+1), RaftAddr: freeAddr(t), ClientAddr: freeAddr(t)})
	}
	var ds []*cluster.Driver
	var addrs []string
	for i := range n {
		d, err := cluster.Start(cluster.Config{Listen: peers[i].ClientAddr, HeartbeatInterval: 50 * time.Millisecond,
			HeartbeatTimeout: 2 * time.Second, Logger: quietLog(t),
			Replica: &replica.Config{ID: peers[i].ID, Dir: t.TempDir(), Peers: peers, LogOutput: io.Discard,
				HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Stop)
		ds = append(ds, d)
		addrs = append(addrs, peers[i].ClientAddr)
	}
	return ds, strings.Join(addrs, ",")
}

// leaderOf waits until one of the running drivers leads and serves.
func leaderOf(t *testing.T, ds []*cluster.Driver, skip *cluster.Driver) (*cluster.Driver, *pb.MemberResponse) {
	t.Helper()
	var lead *cluster.Driver
	var m *pb.MemberResponse
	waitFor(t, "a leader", func() bool {
		for _, d := range ds {
			if d == skip {
				continue
			}
			if r, err := d.Member(context.Background(), &pb.MemberRequest{}); err == nil && r.GetState() == "leader" {
				if _, err := d.ListJobs(context.Background(), &pb.ListJobsRequest{}); err == nil {
					lead, m = d, r
					return true
				}
			}
		}
		return false
	})
	return lead, m
}

// TestReplicatedLeaderLeaves: three drivers in one process, two
// executors given all three. A follower refuses a job and names the
// leader; a job caught mid-way (its exchange readers held) survives its
// leader stopping: the next leader resumes it, the executors register
// with it, and the result is local mode's.
func TestReplicatedLeaderLeaves(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds, addrs := startGroup(t, 3)
	lead, first := leaderOf(t, ds, nil)
	for _, d := range ds {
		if d == lead {
			continue
		}
		alone, err := driverclient.Dial(d.Addr())
		if err != nil {
			t.Fatal(err)
		}
		var refusal error
		waitFor(t, "a follower to name the leader", func() bool {
			_, refusal = alone.Client.Submit(ctx, &pb.SubmitRequest{})
			return driverclient.LeaderOf(refusal) != ""
		})
		alone.Close()
		if got := driverclient.LeaderOf(refusal); got != first.GetAddress() {
			t.Fatalf("follower %s refused with %v; want the leader %s named", d.Addr(), refusal, first.GetAddress())
		}
	}
	a := startExecutor(t, addrs, "exec-a", 2, readsExchange)
	b := startExecutor(t, addrs, "exec-b", 2, readsExchange)
	conn, err := driverclient.Dial(addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cat := tpchCatalog(t)
	const q = 3
	n, _ := bind(t, cat, tpch.Query(q))
	id := submit(ctx, t, conn.Client, submitRequest(t, n))
	select {
	case <-a.held:
	case <-b.held:
	case <-time.After(20 * time.Second):
		t.Fatal("no exchange reader reached an executor")
	}
	lead.Stop()
	close(a.release)
	close(b.release)
	next, m := leaderOf(t, ds, lead)
	if m.GetTerm() <= first.GetTerm() {
		t.Errorf("new leader's term %d, the first's %d", m.GetTerm(), first.GetTerm())
	}
	st, err := conn.Wait(ctx, id)
	if err != nil {
		t.Fatal(conn.Error("job "+id, err))
	}
	if st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s under the new leader %s: %v", id, next.Addr(), st)
	}
	checkAgainstLocal(ctx, t, conn.Client, cat, id, q)
}
