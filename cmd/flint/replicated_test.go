package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// A replicated driver group of three real processes and two executors:
// flint drivers shows it, and a job whose leader is SIGKILLed mid-job
// finishes, with DuckDB's answer, under the next leader.

// members runs flint drivers --format json.
func members(t *testing.T, addrs string) ([]memberLine, int) {
	t.Helper()
	r := run(t, "drivers", "--driver", addrs, "--format", "json")
	var out []memberLine
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("flint drivers --format json printed %q: %v", r.stdout, err)
	}
	return out, r.code
}

// leaderOf waits for exactly one member to lead and returns its line.
func leaderOf(t *testing.T, addrs string) memberLine {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms, code := members(t, addrs)
		var leaders []memberLine
		for _, m := range ms {
			if m.State == "leader" {
				leaders = append(leaders, m)
			}
		}
		if code == 0 && len(leaders) == 1 {
			return leaders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single leader within 30s: %+v (exit %d)", ms, code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startGroup starts three replicated drivers and two executors, checks
// flint drivers shows one leader and two followers and that a follower
// alone refuses, naming the leader.
func startGroup(t *testing.T, driverArgs ...string) *clustertest.Cluster {
	t.Helper()
	return startGroupWith(t, clustertest.Options{DriverArgs: driverArgs})
}

// startGroupWith is startGroup with more options (the group's size, its
// executors and its timeouts are startGroup's).
func startGroupWith(t *testing.T, opts clustertest.Options) *clustertest.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	opts.Drivers, opts.Executors, opts.Binary, opts.HeartbeatTimeout = 3, 2, flintBin, 2*time.Second
	c := clustertest.Start(t, opts)
	lead := leaderOf(t, c.Addr())
	ms, _ := members(t, c.Addr())
	if len(ms) != 3 || lead.ID == "" || lead.Term == 0 || lead.LastIndex == 0 {
		t.Fatalf("flint drivers: %+v", ms)
	}
	for _, m := range ms {
		if m.State != "leader" && m.State != "follower" {
			t.Fatalf("member %s is %s", m.ID, m.State)
		}
	}
	for _, m := range ms {
		if m.State == "follower" {
			r := run(t, "jobs", "--driver", m.Address)
			if r.code == 0 || !strings.Contains(r.stderr, "leader at "+lead.Address) {
				t.Fatalf("flint jobs on follower %s: exit %d, stderr %q", m.Address, r.code, r.stderr)
			}
			break
		}
	}
	return c
}

// submitKillingLeader runs flint submit --wait with args on the group
// and, mid-job — once a task has succeeded, with the executors frozen so
// that the job cannot finish meanwhile — SIGKILLs the leader. It returns
// the job's ID and what flint submit printed after it, once flint submit
// has exited 0, and logs how long the group took to make progress again.
func submitKillingLeader(t *testing.T, c *clustertest.Cluster, args ...string) (string, string) {
	t.Helper()
	return submitLosingLeader(t, c, fault{leaderKilled, midMap}, args...)
}

// fault is how and when a test loses the leader of a job.
type fault struct {
	loss leaderLoss
	at   jobPoint
}

// jobPoint is when in a job a test loses its leader.
type jobPoint int

const (
	// midMap: once a task has succeeded, with the executors frozen so
	// that the job cannot finish meanwhile.
	midMap jobPoint = iota
	// midReduce: once a task has succeeded in a stage that started after
	// another stage completed (one reading that stage's map outputs),
	// the executors frozen likewise.
	midReduce
	// beforeCommit: once a write is decided (every task has succeeded)
	// and before its manifest is written: the drivers must run with
	// --fault-commit-delay, holding that window open.
	beforeCommit
)

func (p jobPoint) String() string {
	return [...]string{"mid-map", "mid-reduce", "before the commit"}[p]
}

// leaderLoss is how a test loses the leader.
type leaderLoss int

const (
	// leaderKilled: SIGKILL, as a crashed machine.
	leaderKilled leaderLoss = iota
	// leaderFrozen: SIGSTOP, as a hung machine (it keeps its
	// connections), SIGCONTed once the job has finished under its
	// successor, to which it must then defer.
	leaderFrozen
	// leaderIsolated: cut off from the other drivers (a network
	// partition; the cluster must be Partitionable) while it still runs
	// and executors and clients still reach it; healed once the job has
	// finished under its successor, to which it must then defer.
	leaderIsolated
)

func (l leaderLoss) String() string {
	return [...]string{"killed", "frozen", "isolated"}[l]
}

// submitLosingLeader is submitKillingLeader, losing the leader as f
// says.
func submitLosingLeader(t *testing.T, c *clustertest.Cluster, f fault, args ...string) (string, string) {
	t.Helper()
	loss := f.loss
	lead := leaderOf(t, c.Addr())
	var leader *clustertest.Process
	leaderIndex := -1
	for i, p := range c.Drivers() {
		if p.Addr == lead.Address {
			leader, leaderIndex = p, i
		}
	}
	if leader == nil {
		t.Fatalf("no driver process at the leader's address %s", lead.Address)
	}
	conn, err := driverclient.Dial(c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	known := jobIDs(ctx, t, conn)
	submit := startSubmit(t, append([]string{"submit", "--driver", c.Addr(), "--wait", "--partitions", "4"}, args...)...)

	id := newJob(ctx, t, conn, known)
	stream, err := conn.Client.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	var killedAt time.Time
	completed := false         // a stage has completed
	reduce := map[int32]bool{} // stages started after that
	committing := regexp.MustCompile(`msg="committing the write" job=` + regexp.QuoteMeta(id))
	for killedAt.IsZero() {
		if f.at == beforeCommit {
			if _, err := leader.WaitOutput(committing, time.Minute); err != nil {
				t.Fatal(err)
			}
		} else {
			ev, err := stream.Recv()
			if err != nil {
				t.Fatalf("watching job %s: %v", id, err)
			}
			if st := ev.GetStatus(); st != nil && st.GetState() != pb.JobState_JOB_STATE_RUNNING {
				t.Fatalf("job %s ended before the leader could be lost: %v", id, st)
			}
			if se := ev.GetStage(); se != nil {
				if se.GetCompleted() {
					completed = true
				} else if completed {
					reduce[se.GetStage()] = true
				}
				continue
			}
			if ev.GetTask().GetState() != pb.TaskState_TASK_STATE_SUCCEEDED ||
				(f.at == midReduce && !reduce[ev.GetTask().GetId().GetStage()]) {
				continue
			}
			for _, p := range c.Executors() {
				p.Stop()
			}
		}
		st, err := conn.Client.Status(ctx, &pb.StatusRequest{JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		if st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			t.Fatalf("job %s ended before the leader could be lost: %v", id, st)
		}
		done, all := 0, 0
		for _, s := range st.GetStages() {
			done += int(s.GetSucceeded())
			all += max(int(s.GetTasks()), 1)
		}
		switch loss {
		case leaderKilled:
			leader.Kill()
		case leaderFrozen:
			leader.Stop()
		case leaderIsolated:
			c.IsolateDriver(leaderIndex)
		}
		killedAt = time.Now()
		for _, p := range c.Executors() {
			p.Cont()
		}
		t.Logf("lost leader %s (%s, %s %s) with %d of at least %d tasks of job %s done", lead.ID, lead.Address, loss, f.at, done, all, id)
	}

	// Progress under the new leader: the first task it sees succeed.
	final, err := conn.Wait(ctx, id)
	if err != nil {
		t.Fatalf("waiting for job %s across the leader change: %v", id, conn.Error("", err))
	}
	if final.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s after the leader change: %v", id, final)
	}
	sawEnd := time.Since(killedAt)
	// The new leader's record of the job: the tasks it ran, stamped with
	// its clock.
	var progressAt, startedAt time.Time
	type taskRef struct{ stage, task int32 }
	ranAfter := map[taskRef]bool{}
	events, err := conn.Client.Watch(ctx, &pb.WatchRequest{JobId: id, Snapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	all := 0
	for {
		ev, err := events.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if st := ev.GetStatus(); st != nil && len(st.GetStages()) > 0 {
			all = 0
			for _, sp := range st.GetStages() {
				all += int(sp.GetTasks())
			}
		}
		if ev.GetTask().GetState() == pb.TaskState_TASK_STATE_RUNNING && ev.GetUnixMs() >= killedAt.UnixMilli() && startedAt.IsZero() {
			startedAt = time.UnixMilli(ev.GetUnixMs())
		}
		if ev.GetTask().GetState() == pb.TaskState_TASK_STATE_SUCCEEDED && ev.GetUnixMs() >= killedAt.UnixMilli() {
			if progressAt.IsZero() {
				progressAt = time.UnixMilli(ev.GetUnixMs())
			}
			ranAfter[taskRef{ev.GetTask().GetId().GetStage(), ev.GetTask().GetId().GetTask()}] = true
		}
	}
	// Map outputs finished before the loss, on executors that registered
	// again, are not recomputed (a hung leader's executors come back too).
	t.Logf("tasks run under the new leader: %d of %d", len(ranAfter), all)
	if len(ranAfter) >= all {
		t.Errorf("the new leader ran all %d tasks again: the map outputs of the old one were not reused", all)
	}
	if f.at == beforeCommit {
		// A decided write is committed with its replicated files.
		if len(ranAfter) > 0 {
			t.Errorf("the new leader ran %d tasks of a decided write again", len(ranAfter))
		}
		t.Logf("leader loss to the client seeing the write committed: %s", sawEnd.Round(time.Millisecond))
	} else if progressAt.IsZero() {
		t.Errorf("no task succeeded under the new leader")
	} else {
		t.Logf("leader loss to the first task started under the new leader: %s, to the first task succeeded: %s; until the client saw the job end: %s",
			startedAt.Sub(killedAt).Round(time.Millisecond), progressAt.Sub(killedAt).Round(time.Millisecond), sawEnd.Round(time.Millisecond))
	}

	select {
	case err := <-submit.exited:
		if err != nil {
			t.Fatalf("flint submit --wait: %v\n%s", err, submit.stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("flint submit --wait did not end:\n%s", submit.stderr.String())
	}
	gotID, rest, _ := strings.Cut(submit.stdout.String(), "\n")
	if gotID != id {
		t.Fatalf("flint submit printed job %q, the group ran %q", gotID, id)
	}

	// A new member leads in a later term; the lost one shows as
	// unreachable (killed, frozen) or as not leading (cut off); the
	// executors registered again with the new leader.
	now := leaderOf(t, c.Addr())
	if now.Term <= lead.Term || now.Address == lead.Address {
		t.Errorf("leader after the loss: %+v; before: %+v", now, lead)
	}
	ms, _ := members(t, c.Addr())
	for _, m := range ms {
		if m.Address != lead.Address {
			continue
		}
		if want := "unreachable"; loss != leaderIsolated && m.State != want {
			t.Errorf("the lost leader shows as %s, want %s", m.State, want)
		}
		if loss == leaderIsolated && (m.State == "leader" || m.State == "unreachable") {
			t.Errorf("the cut-off leader shows as %s", m.State)
		}
	}
	if loss != leaderKilled {
		// Back, the old leader learns of the new term and follows.
		if loss == leaderFrozen {
			leader.Cont()
		} else {
			c.Heal()
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			ms, _ := members(t, c.Addr())
			var back memberLine
			for _, m := range ms {
				if m.Address == lead.Address {
					back = m
				}
			}
			if back.State == "follower" && back.Term >= now.Term {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the old leader, back, is %+v; the group's leader %+v", back, now)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if again := leaderOf(t, c.Addr()); again.Address != now.Address {
			t.Errorf("leader after the old one came back: %+v, want %+v", again, now)
		}
	}
	for _, p := range c.Executors() {
		if _, err := p.WaitReregistered(2, 30*time.Second); err != nil {
			t.Error(err)
		}
	}
	for _, p := range c.Drivers() {
		if p.Addr == now.Address {
			line, err := p.WaitOutput(leadingLine, 10*time.Second)
			if err != nil {
				t.Error(err)
			}
			if at, err := time.Parse(time.RFC3339Nano, leadingLine.FindStringSubmatch(line)[1]); err == nil {
				t.Logf("new leader leading %s after the loss: %s", at.Sub(killedAt).Round(time.Millisecond), line)
			}
		}
	}
	return id, rest
}

// TestDriverGroupSurvivesLeaderKill: TPC-H Q9 whose leader is SIGKILLed
// mid-job gives DuckDB's answer through flint submit --wait.
func TestDriverGroupSurvivesLeaderKill(t *testing.T) {
	c := startGroup(t, "--http", "127.0.0.1:0")
	const query = "q09"
	id, result := submitKillingLeader(t, c, "--tables", tpchData, "-f", queries+query+".sql")
	// Every member's REST API answers for the leader.
	for _, p := range c.Drivers() {
		if p.Exited() {
			continue
		}
		line, err := p.WaitOutput(restLine, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + strings.TrimPrefix(line, `msg="REST API listening" addr=`) + "/jobs/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ State string }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || got.State != "succeeded" {
			t.Errorf("GET /jobs/%s on %s: %d %+v %v", id, p.Name, resp.StatusCode, got, err)
		}
	}
	want, err := os.ReadFile(answers + query + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(want), result); err != nil {
		t.Errorf("%s after the leader change: %v", query, err)
	}
}

// TestDriverGroupLeaderKilledMidReduce: TPC-H Q21 whose leader is
// SIGKILLed once a stage reading map outputs has had a task succeed gives
// DuckDB's answer under the next leader.
func TestDriverGroupLeaderKilledMidReduce(t *testing.T) {
	c := startGroup(t)
	const query = "q21"
	_, result := submitLosingLeader(t, c, fault{leaderKilled, midReduce}, "--tables", tpchData, "-f", queries+query+".sql")
	want, err := os.ReadFile(answers + query + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(want), result); err != nil {
		t.Errorf("%s after the leader change: %v", query, err)
	}
}

// TestDriverGroupKilledBeforeCommit: the leader of a COPY of TPC-H Q3 is
// SIGKILLed once every write task has succeeded and before the manifest
// is written; the next leader commits the dataset, once, without running
// a task again.
func TestDriverGroupKilledBeforeCommit(t *testing.T) {
	copyLosingLeader(t, startGroup(t, "--fault-commit-delay", "3s"), fault{leaderKilled, beforeCommit})
}

// TestDriverGroupCopyOnce: a COPY of TPC-H Q3 whose leader is SIGKILLed
// mid-job is committed once: the directory holds the manifest and
// exactly the files it lists, and reading them back gives DuckDB's
// answer.
func TestDriverGroupCopyOnce(t *testing.T) {
	copyLosingLeader(t, startGroup(t), fault{leaderKilled, midMap})
}

// TestDriverGroupLeaderPartitioned: the leader of a COPY of TPC-H Q3 is
// cut off from the other drivers mid-job (their raft links, both ways:
// executors and clients still reach it). It steps down, the others elect
// a leader that finishes the job, the old one's attempts are fenced and
// the dataset is committed once; healed, the old leader follows.
func TestDriverGroupLeaderPartitioned(t *testing.T) {
	copyLosingLeader(t, startGroupWith(t, clustertest.Options{Partitionable: true}), fault{leaderIsolated, midMap})
}

// copyLosingLeader runs a COPY of TPC-H Q3 on c, losing the leader as f
// says, and checks that the target holds one committed dataset
// with DuckDB's answer.
func copyLosingLeader(t *testing.T, c *clustertest.Cluster, f fault) {
	t.Helper()
	q, err := os.ReadFile(queries + "q03.sql")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "q03")
	script := filepath.Join(t.TempDir(), "copy.sql")
	copySQL := "COPY (" + strings.TrimRight(strings.TrimSpace(string(q)), ";") + ") TO '" + dir + "' (FORMAT parquet)"
	if err := os.WriteFile(script, []byte(copySQL), 0o644); err != nil {
		t.Fatal(err)
	}
	id, _ := submitLosingLeader(t, c, f, "--tables", tpchData, "-f", script)
	m, err := connectors.ReadManifest(context.Background(), fs.Local{}, dir)
	if err != nil || m == nil {
		t.Fatalf("manifest: %v %v", m, err)
	}
	if m.Job != id {
		t.Errorf("manifest of job %s, want %s", m.Job, id)
	}
	want := []string{connectors.ManifestName}
	for _, f := range m.Files {
		want = append(want, f.Path)
	}
	var got []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("the directory holds %v, the manifest lists %v", got, want)
	}
	read := mustRun(t, "sql", "--table", "r="+dir, "-e",
		"SELECT l_orderkey, revenue, o_orderdate, o_shippriority FROM r ORDER BY revenue DESC, o_orderdate")
	answer, err := os.ReadFile(answers + "q03.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(answer), read); err != nil {
		t.Errorf("the dataset read back: %v", err)
	}
}

var (
	leadingLine = regexp.MustCompile(`time=(\S+) level=\S+ msg="leading the driver group".*`)
	restLine    = regexp.MustCompile(`msg="REST API listening" addr=\S+`)
)

// TestDriversAlone: a driver that is not replicated shows as the leader of
// a group of one; a listed driver that does not answer is unreachable,
// and without a leader flint drivers exits 1.
func TestDriversAlone(t *testing.T) {
	c := startCluster(t)
	ms, code := members(t, c.Addr()+",127.0.0.1:1")
	if code != 0 || len(ms) != 2 || ms[0].State != "leader" || ms[0].Address != c.Addr() || ms[0].ID != "" ||
		ms[1].State != "unreachable" || ms[1].Error == "" {
		t.Fatalf("flint drivers: exit %d, %+v", code, ms)
	}
	r := run(t, "drivers", "--driver", "127.0.0.1:1")
	if r.code != 1 || !strings.Contains(r.stdout, "unreachable") || !strings.Contains(r.stderr, "no leader among 1 drivers") {
		t.Fatalf("flint drivers without a leader: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestDriverGroupLeaderFrozen: TPC-H Q18 whose leader hangs (SIGSTOP)
// mid-job gives DuckDB's answer under the next leader; the old leader,
// resumed, follows.
func TestDriverGroupLeaderFrozen(t *testing.T) {
	c := startGroup(t)
	const query = "q18"
	_, result := submitLosingLeader(t, c, fault{leaderFrozen, midMap}, "--tables", tpchData, "-f", queries+query+".sql")
	want, err := os.ReadFile(answers + query + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(want), result); err != nil {
		t.Errorf("%s after the leader hung: %v", query, err)
	}
}

// TestDriverRaftFlags: the raft flags go together, the member must be
// among the peers, and its client address must be its --listen.
func TestDriverRaftFlags(t *testing.T) {
	peers := "d1=127.0.0.1:1@127.0.0.1:2,d2=127.0.0.1:3@127.0.0.1:4"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--raft-id", "d1"}, "needs --raft-id, --raft-dir and --peers"},
		{[]string{"--raft-id", "d1", "--raft-dir", t.TempDir(), "--peers", "d1=127.0.0.1:1"}, "want ID=RAFTHOST:PORT@HOST:PORT"},
		{[]string{"--raft-id", "d9", "--raft-dir", t.TempDir(), "--peers", peers}, `--raft-id "d9" is not one of --peers`},
		{[]string{"--raft-id", "d2", "--raft-dir", t.TempDir(), "--peers", peers}, "must be the same"},
	} {
		r := run(t, append([]string{"driver", "--listen", "127.0.0.1:2"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("flint driver %v: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// backgroundSubmit is a flint command running while the test acts on
// the cluster; exited receives its end once.
type backgroundSubmit struct {
	stdout, stderr bytes.Buffer
	exited         chan error
}

// startSubmit starts flint with args; it is killed when the test ends if
// it is still running.
func startSubmit(t *testing.T, args ...string) *backgroundSubmit {
	t.Helper()
	b := &backgroundSubmit{exited: make(chan error, 1)}
	cmd := exec.Command(flintBin, args...)
	cmd.Stdout, cmd.Stderr = &b.stdout, &b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(done)
		b.exited <- err
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return b
}

// jobIDs are the jobs the group holds now.
func jobIDs(ctx context.Context, t *testing.T, conn *driverclient.Conn) map[string]bool {
	t.Helper()
	resp, err := conn.Client.ListJobs(ctx, &pb.ListJobsRequest{})
	if err != nil {
		t.Fatal(conn.Error("list jobs", err))
	}
	ids := map[string]bool{}
	for _, j := range resp.GetJobs() {
		ids[j.GetJobId()] = true
	}
	return ids
}

// newJob waits for a job not among known (one a submit just started) and
// returns its ID, as the leader lists it.
func newJob(ctx context.Context, t *testing.T, conn *driverclient.Conn, known map[string]bool) string {
	t.Helper()
	for {
		for id := range jobIDs(ctx, t, conn) {
			if !known[id] {
				return id
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}
