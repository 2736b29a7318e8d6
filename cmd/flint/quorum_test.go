package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// TestDriverGroupQuorumLoss: two of three drivers are SIGKILLed while
// TPC-H Q18 runs — the two followers, or the leader and a follower. The
// driver left alone commits nothing more and says why: flint drivers,
// flint status and the running flint submit --wait fail within seconds,
// naming the lost quorum, instead of hanging. The first of the lost
// drivers, started again from its raft dir, gives the group a leader
// back; the job resumes, and flint submit --wait retried with the same
// idempotency key gets that job's answer, DuckDB's. The group ran one
// job.
func TestDriverGroupQuorumLoss(t *testing.T) {
	t.Run("followers", func(t *testing.T) { quorumLoss(t, false) })
	t.Run("leader", func(t *testing.T) { quorumLoss(t, true) })
}

func quorumLoss(t *testing.T, killLeader bool) {
	c := startGroup(t)
	lead := leaderOf(t, c.Addr())
	var killed []int
	var survivor *clustertest.Process
	for i, p := range c.Drivers() {
		isLeader := p.Addr == lead.Address
		switch {
		case killLeader && isLeader:
			killed = append([]int{i}, killed...) // the leader comes back
		case isLeader || (killLeader && survivor == nil):
			survivor = p
		default:
			killed = append(killed, i)
		}
	}
	if survivor == nil || len(killed) != 2 {
		t.Fatalf("leader %+v among drivers %v", lead, c.Addr())
	}
	conn, err := driverclient.Dial(c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	const query = "q18"
	args := []string{"submit", "--driver", c.Addr(), "--wait", "--partitions", "4", "--idempotency-key", "quorum-" + query,
		"--tables", tpchData, "-f", queries + query + ".sql"}
	submit := startSubmit(t, args...)
	stdout, stderr := &submit.stdout, &submit.stderr

	// Mid-job (a task done, the executors frozen so that the job cannot
	// end meanwhile), both followers die.
	id := newJob(ctx, t, conn, nil)
	stream, err := conn.Client.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("watching job %s: %v", id, err)
		}
		if st := ev.GetStatus(); st != nil && st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			t.Fatalf("job %s ended before the drivers could be killed: %v", id, st)
		}
		if ev.GetTask().GetState() == pb.TaskState_TASK_STATE_SUCCEEDED {
			break
		}
	}
	for _, p := range c.Executors() {
		p.Stop()
	}
	st, err := conn.Client.Status(ctx, &pb.StatusRequest{JobId: id})
	if err != nil || st.GetState() != pb.JobState_JOB_STATE_RUNNING {
		t.Fatalf("job %s before the kill: %v %v", id, st, err)
	}
	drivers := c.Drivers()
	for _, i := range killed {
		drivers[i].Kill()
	}
	killedAt := time.Now()
	for _, p := range c.Executors() {
		p.Cont()
	}
	t.Logf("killed %s and %s (leader %s at %s); %s left alone with job %s running", drivers[killed[0]].Addr,
		drivers[killed[1]].Addr, lead.ID, lead.Address, survivor.Addr, id)

	// The client following the job is told, in seconds, that the group
	// lost its quorum; it printed the job's ID first.
	select {
	case err := <-submit.exited:
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		gotID, _, _ := strings.Cut(stdout.String(), "\n")
		if code != 1 || gotID != id || !strings.Contains(stderr.String(), "lost its quorum") {
			t.Fatalf("flint submit --wait after the quorum loss: exit %d (%v), stdout %q, stderr %q", code, err, stdout.String(), stderr.String())
		}
		t.Logf("flint submit --wait gave up %s after the quorum loss: %s", time.Since(killedAt).Round(time.Millisecond),
			strings.TrimSpace(stderr.String()))
	case <-time.After(40 * time.Second):
		t.Fatalf("flint submit --wait still waits 40s after the quorum loss:\n%s", stderr.String())
	}

	// flint drivers says so, and so does a new client call, at once.
	r := run(t, "drivers", "--driver", c.Addr(), "--format", "json")
	if r.code != 1 || !strings.Contains(r.stderr, "lost its quorum (1 of 3 answer, a leader needs 2)") {
		t.Errorf("flint drivers without a quorum: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	began := time.Now()
	r = run(t, "status", "--driver", c.Addr(), id)
	took := time.Since(began)
	if r.code != 1 || !strings.Contains(r.stderr, "lost its quorum") || took > 10*time.Second {
		t.Errorf("flint status without a quorum: exit %d after %s, stdout %q, stderr %q", r.code, took, r.stdout, r.stderr)
	}
	t.Logf("flint status without a quorum: exit %d after %s: %s", r.code, took.Round(time.Millisecond), strings.TrimSpace(r.stderr))

	// The driver left alone does not lead, and applies nothing.
	alone := func() memberLine {
		ms, _ := members(t, survivor.Addr)
		if len(ms) != 1 || ms[0].State == "leader" || ms[0].State == "unreachable" {
			t.Fatalf("the driver left alone: %+v", ms)
		}
		return ms[0]
	}
	before := alone()
	time.Sleep(2 * time.Second)
	after := alone()
	if after.Applied != before.Applied {
		t.Errorf("the driver left alone applied entries %d to %d without a quorum", before.Applied+1, after.Applied)
	}
	t.Logf("the driver left alone: %s in term %d, applied index %d", after.State, after.Term, after.Applied)

	// One lost driver back: a leader, and the job moves on.
	back := c.RestartDriver(killed[0])
	regainedAt := time.Now()
	now := leaderOf(t, c.Addr())
	elected := time.Since(regainedAt)
	t.Logf("driver %s started again from its raft dir; %s (%s) leads in term %d after %s", back.Addr, now.ID, now.Address,
		now.Term, elected.Round(time.Millisecond))

	r = run(t, args...)
	if r.code != 0 {
		t.Fatalf("flint submit --wait retried: exit %d, stderr %q", r.code, r.stderr)
	}
	gotID, result, _ := strings.Cut(r.stdout, "\n")
	if gotID != id || !strings.Contains(r.stderr, "already submitted") {
		t.Errorf("flint submit --wait retried with the key: job %q (stderr %q), want %s", gotID, r.stderr, id)
	}
	want, err := os.ReadFile(answers + query + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(want), result); err != nil {
		t.Errorf("%s after the quorum came back: %v", query, err)
	}

	// The new leader's record of the job: the first task it saw succeed,
	// and the job's end.
	events, err := conn.Client.Watch(ctx, &pb.WatchRequest{JobId: id, Snapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	var progressAt, endAt time.Time
	succeeded := 0
	for {
		ev, err := events.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if st := ev.GetStatus(); st != nil && st.GetState() == pb.JobState_JOB_STATE_SUCCEEDED {
			succeeded++
			endAt = time.UnixMilli(st.GetFinishedUnixMs())
		}
		if ev.GetTask().GetState() == pb.TaskState_TASK_STATE_SUCCEEDED && progressAt.IsZero() && ev.GetUnixMs() >= regainedAt.UnixMilli() {
			progressAt = time.UnixMilli(ev.GetUnixMs())
		}
	}
	if progressAt.IsZero() || endAt.IsZero() {
		t.Errorf("job %s under the new leader: first task succeeded at %v, job ended at %v", id, progressAt, endAt)
	} else {
		t.Logf("quorum regained (driver started) to a leader: %s, to the first task succeeded: %s, to the job's end: %s",
			elected.Round(time.Millisecond), progressAt.Sub(regainedAt).Round(time.Millisecond), endAt.Sub(regainedAt).Round(time.Millisecond))
	}
	if succeeded != 1 {
		t.Errorf("job %s succeeded %d times in the leader's record", id, succeeded)
	}

	// One job in the group, succeeded.
	r = run(t, "jobs", "--driver", c.Addr(), "--format", "json")
	var jobs []jobLine
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for {
		var j jobLine
		if err := dec.Decode(&j); err != nil {
			break
		}
		jobs = append(jobs, j)
	}
	if r.code != 0 || len(jobs) != 1 || jobs[0].JobID != id || jobs[0].State != "succeeded" {
		t.Errorf("flint jobs: exit %d, %+v, want job %s succeeded alone", r.code, jobs, id)
	}
}
