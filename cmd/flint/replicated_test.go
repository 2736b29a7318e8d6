package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

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
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for {
		var m memberLine
		if err := dec.Decode(&m); err != nil {
			break
		}
		out = append(out, m)
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

func TestDriverGroupSurvivesLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	c := clustertest.Start(t, clustertest.Options{Drivers: 3, Executors: 2, Binary: flintBin, HeartbeatTimeout: 2 * time.Second})
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
	var leader *clustertest.Process
	for _, p := range c.Drivers() {
		if p.Addr == lead.Address {
			leader = p
		}
	}
	if leader == nil {
		t.Fatalf("no driver process at the leader's address %s", lead.Address)
	}
	// A follower alone refuses a job, naming the leader.
	for _, m := range ms {
		if m.State == "follower" {
			r := run(t, "jobs", "--driver", m.Address)
			if r.code == 0 || !strings.Contains(r.stderr, "leader at "+lead.Address) {
				t.Fatalf("flint jobs on follower %s: exit %d, stderr %q", m.Address, r.code, r.stderr)
			}
			break
		}
	}

	conn, err := driverclient.Dial(c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	query := "q09"
	submit := exec.Command(flintBin, "submit", "--driver", c.Addr(), "--tables", tpchData, "-f", queries+query+".sql",
		"--wait", "--partitions", "4")
	var stdout, stderr bytes.Buffer
	submit.Stdout, submit.Stderr = &stdout, &stderr
	if err := submit.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- submit.Wait() }()
	waited := false
	defer func() {
		if !waited {
			submit.Process.Kill()
			<-exited
		}
	}()

	// The job's ID, from the leader.
	var id string
	for id == "" {
		resp, err := conn.Client.ListJobs(ctx, &pb.ListJobsRequest{})
		if err != nil {
			t.Fatal(conn.Error("list jobs", err))
		}
		if len(resp.GetJobs()) > 0 {
			id = resp.GetJobs()[0].GetJobId()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Mid-job: once a task has succeeded and some stage is still to do,
	// the executors are frozen (the job cannot finish meanwhile) and the
	// leader is SIGKILLed.
	stream, err := conn.Client.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	var killedAt time.Time
	for killedAt.IsZero() {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("watching job %s: %v", id, err)
		}
		if st := ev.GetStatus(); st != nil && st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			t.Fatalf("job %s ended before the leader could be killed: %v", id, st)
		}
		if ev.GetTask().GetState() != pb.TaskState_TASK_STATE_SUCCEEDED {
			continue
		}
		for _, p := range c.Executors() {
			p.Stop()
		}
		st, err := conn.Client.Status(ctx, &pb.StatusRequest{JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		if st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			t.Fatalf("job %s ended before the leader could be killed: %v", id, st)
		}
		done, all := 0, 0
		for _, s := range st.GetStages() {
			done += int(s.GetSucceeded())
			all += max(int(s.GetTasks()), 1)
		}
		leader.Kill()
		killedAt = time.Now()
		for _, p := range c.Executors() {
			p.Cont()
		}
		t.Logf("killed leader %s (%s) with %d of at least %d tasks of job %s done", lead.ID, lead.Address, done, all, id)
	}

	// Progress under the new leader: the first task it sees succeed.
	var progressAt time.Time
	wctx := driverclient.WithEvents(ctx, func(ev *pb.JobEvent) {
		if progressAt.IsZero() && ev.GetTask().GetState() == pb.TaskState_TASK_STATE_SUCCEEDED {
			progressAt = time.Now()
		}
	})
	final, err := conn.Wait(wctx, id)
	if err != nil {
		t.Fatalf("waiting for job %s across the leader change: %v", id, conn.Error("", err))
	}
	if final.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s after the leader change: %v", id, final)
	}
	if !progressAt.IsZero() {
		t.Logf("leader loss to first task succeeded under the new leader: %s; to job end: %s",
			progressAt.Sub(killedAt).Round(time.Millisecond), time.Since(killedAt).Round(time.Millisecond))
	} else {
		t.Errorf("no task succeeded under the new leader")
	}

	// flint submit --wait followed the job to its end: its result is
	// DuckDB's.
	select {
	case err := <-exited:
		waited = true
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatalf("flint submit --wait: %v\n%s", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("flint submit --wait did not end:\n%s", stderr.String())
	}
	gotID, result, _ := strings.Cut(stdout.String(), "\n")
	if gotID != id {
		t.Fatalf("flint submit printed job %q, the group ran %q", gotID, id)
	}
	want, err := os.ReadFile(answers + query + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(want), result); err != nil {
		t.Errorf("%s after the leader change: %v", query, err)
	}

	// The killed member shows as unreachable; the executors registered
	// again with the new leader.
	ms, _ = members(t, c.Addr())
	for _, m := range ms {
		if m.Address == lead.Address && m.State != "unreachable" {
			t.Errorf("the killed leader shows as %s", m.State)
		}
	}
	for _, p := range c.Executors() {
		if _, err := p.WaitReregistered(2, 30*time.Second); err != nil {
			t.Error(err)
		}
	}
	now := leaderOf(t, c.Addr())
	if now.Term <= lead.Term || now.Address == lead.Address {
		t.Errorf("leader after the kill: %+v; before: %+v", now, lead)
	}
	for _, p := range c.Drivers() {
		if p.Addr == now.Address {
			line, err := p.WaitOutput(leadingLine, 10*time.Second)
			if err != nil {
				t.Error(err)
			}
			t.Logf("new leader: %s", line)
		}
	}
}

var leadingLine = regexp.MustCompile(`msg="leading the driver group".*`)
