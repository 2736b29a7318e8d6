package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/driver/replica"
	"github.com/flint-engine/flint/internal/driverclient"
	"github.com/flint-engine/flint/internal/porttest"
	"github.com/flint-engine/flint/internal/resultcmp"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/tpch"
)

// freeAddr is an address free on 127.0.0.1 and not handed out before.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := porttest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// group is a replicated group of drivers in this process.
type group struct {
	t     *testing.T
	peers []replica.Peer
	dirs  []string
	ds    []*cluster.Driver
}

// start (re)starts member i on its addresses and directory. A restarted
// member binds the addresses it had, and one freed a moment ago may still
// be held (another test's connection took it as its own port): it tries
// again for a while.
func (g *group) start(i int) {
	g.t.Helper()
	if err := porttest.Retry(30, 100*time.Millisecond, func() error { return g.tryStart(i) }); err != nil {
		g.t.Fatal(err)
	}
}

// tryStart (re)starts member i, returning the error.
func (g *group) tryStart(i int) error {
	d, err := cluster.Start(cluster.Config{Listen: g.peers[i].ClientAddr, HeartbeatInterval: 50 * time.Millisecond,
		HeartbeatTimeout: 2 * time.Second, Logger: quietLog(g.t),
		Replica: &replica.Config{ID: g.peers[i].ID, Dir: g.dirs[i], Peers: g.peers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
			// Snapshots all along: members restore from them.
			SnapshotThreshold: 4, TrailingLogs: 2, SnapshotInterval: 50 * time.Millisecond}})
	if err != nil {
		return err
	}
	g.t.Cleanup(d.Stop)
	g.ds[i] = d
	return nil
}

func (g *group) addrs() string {
	var out []string
	for _, p := range g.peers {
		out = append(out, p.ClientAddr)
	}
	return strings.Join(out, ",")
}

// newGroup starts n members on free addresses. An address is free when
// chosen and taken when bound: if another test's connection took one in
// between, the group starts again on new addresses.
func newGroup(t *testing.T, n int) *group {
	t.Helper()
	var g *group
	err := porttest.Retry(5, 0, func() error {
		g = &group{t: t, ds: make([]*cluster.Driver, n)}
		for i := range n {
			g.peers = append(g.peers, replica.Peer{ID: fmt.Sprintf("d%d", i+1), RaftAddr: freeAddr(t), ClientAddr: freeAddr(t)})
			g.dirs = append(g.dirs, t.TempDir())
		}
		for i := range n {
			if err := g.tryStart(i); err != nil {
				for _, d := range g.ds {
					if d != nil {
						d.Stop()
					}
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// startGroup starts n replicated drivers in this process and returns them
// with their client addresses, comma-separated.
func startGroup(t *testing.T, n int) ([]*cluster.Driver, string) {
	t.Helper()
	g := newGroup(t, n)
	return g.ds, g.addrs()
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

// writeQuery is written by the replicated write tests: its last stage
// reads an exchange.
const writeQuery = "SELECT o_orderstatus, count(*) AS n, sum(o_totalprice) AS total FROM orders GROUP BY o_orderstatus"

// checkWrittenOnce checks that job id committed writeQuery into dir
// exactly once: one manifest, naming the job, listing exactly the files
// in the directory, whose rows are local mode's; the job's result counts
// three rows.
func checkWrittenOnce(ctx context.Context, t *testing.T, c pb.DriverClient, dir, id string) {
	t.Helper()
	m, got := checkCommitted(t, dir)
	if m.Job != id {
		t.Errorf("manifest of job %s, want %s", m.Job, id)
	}
	n, ids := bind(t, tpchCatalog(t), writeQuery)
	_, local := runLocal(t, n, ids, 4)
	defer release(local)
	want := rows(local)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("written rows %v, local mode %v", got, want)
	}
	_, res, err := results(ctx, c, id)
	if err != nil {
		t.Fatal(err)
	}
	defer release(res)
	if r := rows(res); len(r) != 1 || !strings.HasPrefix(r[0], "3|") {
		t.Errorf("write result %v", r)
	}
}

// TestReplicatedWriteDecidedThenLeaderLeaves: the leader has committed
// the write's decision (every write task's success, with its files) and
// waits for the executors to drop the job before writing the manifest
// when it stops. The next leader writes the manifest, once.
func TestReplicatedWriteDecidedThenLeaderLeaves(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds, addrs := startGroup(t, 3)
	lead, _ := leaderOf(t, ds, nil)
	a := startExecutor(t, addrs, "exec-a", 2, nil)
	b := startExecutor(t, addrs, "exec-b", 2, nil)
	hold := make(chan struct{})
	a.holdEnd.Store(&hold)
	b.holdEnd.Store(&hold)
	conn, err := driverclient.Dial(addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dir := filepath.Join(t.TempDir(), "out")
	id := submit(ctx, t, conn.Client, writeRequest(t, writeQuery, dir, &pb.WriteSpec{Format: "parquet"}))
	waitFor(t, "the write's decision (EndJob before the commit)", func() bool { return a.endJobs.Load()+b.endJobs.Load() > 0 })
	if _, err := os.Stat(filepath.Join(dir, connectors.ManifestName)); err == nil {
		t.Fatal("the manifest was written before the executors dropped the job")
	}
	lead.Stop()
	close(hold)
	if _, err := os.Stat(filepath.Join(dir, connectors.ManifestName)); err == nil {
		t.Fatal("the stopped leader wrote the manifest")
	}
	leaderOf(t, ds, lead)
	st, err := conn.Wait(ctx, id)
	if err != nil {
		t.Fatal(conn.Error("job "+id, err))
	}
	if st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s under the new leader: %v", id, st)
	}
	checkWrittenOnce(ctx, t, conn.Client, dir, id)
}

// TestReplicatedWriteMidJob: a write whose leader stops while the write
// tasks (exchange readers) are held is resumed by the next leader and
// committed once.
func TestReplicatedWriteMidJob(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds, addrs := startGroup(t, 3)
	lead, _ := leaderOf(t, ds, nil)
	a := startExecutor(t, addrs, "exec-a", 2, readsExchange)
	b := startExecutor(t, addrs, "exec-b", 2, readsExchange)
	conn, err := driverclient.Dial(addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dir := filepath.Join(t.TempDir(), "out")
	id := submit(ctx, t, conn.Client, writeRequest(t, writeQuery, dir, &pb.WriteSpec{Format: "parquet"}))
	select {
	case <-a.held:
	case <-b.held:
	case <-time.After(20 * time.Second):
		t.Fatal("no write task reached an executor")
	}
	lead.Stop()
	close(a.release)
	close(b.release)
	leaderOf(t, ds, lead)
	st, err := conn.Wait(ctx, id)
	if err != nil {
		t.Fatal(conn.Error("job "+id, err))
	}
	if st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s under the new leader: %v", id, st)
	}
	checkWrittenOnce(ctx, t, conn.Client, dir, id)
}

// TestReplicatedGroupRestarts: every member stops while a job runs; the
// members come back from their directories (a snapshot, with the jobs'
// records, and the log after it), one leads, and the job is resumed and
// finishes with local mode's result.
func TestReplicatedGroupRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := newGroup(t, 3)
	leaderOf(t, g.ds, nil)
	a := startExecutor(t, g.addrs(), "exec-a", 2, readsExchange)
	b := startExecutor(t, g.addrs(), "exec-b", 2, readsExchange)
	conn, err := driverclient.Dial(g.addrs())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cat := tpchCatalog(t)
	const q = 5
	n, _ := bind(t, cat, tpch.Query(q))
	id := submit(ctx, t, conn.Client, submitRequest(t, n))
	select {
	case <-a.held:
	case <-b.held:
	case <-time.After(20 * time.Second):
		t.Fatal("no exchange reader reached an executor")
	}
	// Every member has taken a snapshot with the job in it (the log
	// holds more than SnapshotThreshold entries by now).
	waitFor(t, "a snapshot on every member", func() bool {
		for _, dir := range g.dirs {
			if entries, _ := os.ReadDir(filepath.Join(dir, "snapshots")); len(entries) == 0 {
				return false
			}
		}
		return true
	})
	for _, d := range g.ds {
		d.Stop()
	}
	close(a.release)
	close(b.release)
	for i := range g.ds {
		g.start(i)
	}
	leaderOf(t, g.ds, nil)
	st, err := conn.Wait(ctx, id)
	if err != nil {
		t.Fatal(conn.Error("job "+id, err))
	}
	if st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s after the group restarted: %v", id, st)
	}
	checkAgainstLocal(ctx, t, conn.Client, cat, id, q)
}

// TestReplicatedResultOutlivesLeader: a query that finished under one
// leader keeps its (small) result under the next.
func TestReplicatedResultOutlivesLeader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const q = 3
	conn, id := finishedThenLeaderStops(ctx, t, tpch.Query(q))
	checkAgainstLocal(ctx, t, conn.Client, tpchCatalog(t), id, q)
}

// finishedThenLeaderStops runs query on a group of three drivers and an
// executor until it succeeds, then stops the leader, before any client
// has read the result. It returns a connection to the group, under its
// next leader, and the job's ID.
func finishedThenLeaderStops(ctx context.Context, t *testing.T, query string) (*driverclient.Conn, string) {
	t.Helper()
	ds, addrs := startGroup(t, 3)
	lead, _ := leaderOf(t, ds, nil)
	startExecutor(t, addrs, "exec-a", 2, nil)
	conn, err := driverclient.Dial(addrs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n, _ := bind(t, tpchCatalog(t), query)
	id := submit(ctx, t, conn.Client, submitRequest(t, n))
	if st, err := conn.Wait(ctx, id); err != nil || st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %v, %v", id, st, err)
	}
	lead.Stop()
	leaderOf(t, ds, lead)
	st, err := conn.Client.Status(ctx, &pb.StatusRequest{JobId: id})
	if err != nil || st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s under the next leader: %v, %v", id, st, err)
	}
	return conn, id
}

// TestReplicatedSLAAlertOnce: a job past its SLA is alerted once by its
// leader; the next leader, resuming the job, does not alert again.
func TestReplicatedSLAAlertOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startReceiver(t)
	ds, addrs := startGroup(t, 3)
	lead, _ := leaderOf(t, ds, nil)
	a := startExecutor(t, addrs, "exec-a", 2, readsExchange)
	conn, err := driverclient.Dial(addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n, _ := bind(t, tpchCatalog(t), tpch.Query(1))
	req := submitRequest(t, n)
	req.Notify, req.SlaMs = []string{r.URL}, 100
	id := submit(ctx, t, conn.Client, req)
	a.waitHeld(t, 1)
	waitFor(t, "the SLA alert", func() bool { return len(r.events("sla")) > 0 })
	lead.Stop()
	leaderOf(t, ds, lead)
	waitFor(t, "the job resumed under the new leader", func() bool {
		st, err := conn.Client.Status(ctx, &pb.StatusRequest{JobId: id})
		return err == nil && st.GetState() == pb.JobState_JOB_STATE_RUNNING
	})
	time.Sleep(time.Second) // the new leader checks SLAs on every tick
	if sla := r.events("sla"); len(sla) != 1 || sla[0].JobID != id {
		t.Fatalf("SLA alerts %+v, want one of %s", sla, id)
	}
	if _, err := conn.Client.Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: "test"}); err != nil {
		t.Fatal(conn.Error("cancel", err))
	}
	close(a.release)
}

// TestReplicatedLargeResultOutlivesLeader: a query whose result is too
// large to replicate succeeds, and its leader stops before any client has
// read the result. The next leader fetches it again from the executor
// that kept the final tasks' outputs, and serves all of it: the rows of
// lineitem.parquet as arrow-go's Parquet reader reads them.
func TestReplicatedLargeResultOutlivesLeader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, id := finishedThenLeaderStops(ctx, t, "SELECT l_orderkey, l_linenumber, l_comment FROM lineitem")
	_, got, err := results(ctx, conn.Client, id)
	if err != nil {
		t.Fatalf("results of job %s under the next leader: %v", id, conn.Error("", err))
	}
	defer release(got)

	tbl, err := resultcmp.ReadParquet("../../testdata/tpch/sf-sample/lineitem.parquet")
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var want []arrow.RecordBatch
	tr := array.NewTableReader(tbl, 8192)
	defer tr.Release()
	for tr.Next() {
		b := tr.RecordBatch()
		var cols []arrow.Array
		var fields []arrow.Field
		for _, name := range []string{"l_orderkey", "l_linenumber", "l_comment"} {
			i := b.Schema().FieldIndices(name)[0]
			cols, fields = append(cols, b.Column(i)), append(fields, b.Schema().Field(i))
		}
		want = append(want, array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, b.NumRows()))
	}
	defer release(want)
	g, w := rows(got), rows(want)
	sort.Strings(g)
	sort.Strings(w)
	if len(w) < 20000 { // the comments alone pass 256 KiB
		t.Fatalf("lineitem.parquet has %d rows: too few to pass the replicated result's limit", len(w))
	}
	if !slices.Equal(g, w) {
		t.Fatalf("result under the next leader: %d rows %q; lineitem.parquet: %d rows %q", len(g), head(g), len(w), head(w))
	}
}
