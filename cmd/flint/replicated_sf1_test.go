package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// TestDriverGroupTPCHSF1 is the replicated driver's acceptance run: the
// 22 TPC-H queries at SF1, each submitted as a job (flint submit --wait)
// to three drivers and two executors, with DuckDB's answers; the leader
// is SIGKILLed once during each of Q9, Q18 and Q21 (after a task of the
// job has succeeded, the executors frozen meanwhile so that the job
// cannot end first) and started again from its raft dir afterwards. It
// logs how long each job took to end after its leader was killed. It
// runs when FLINT_TPCH_SF1 names the SF1 Parquet files (flint bench tpch
// gen --sf 1 --out DIR); CI skips it.
func TestDriverGroupTPCHSF1(t *testing.T) {
	dir := os.Getenv("FLINT_TPCH_SF1")
	if dir == "" {
		t.Skip("set FLINT_TPCH_SF1 to a directory of TPC-H SF1 Parquet files")
	}
	c := startGroup(t)
	conn, err := driverclient.Dial(c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const sf1Answers = "../../testdata/tpch/answers/sf1/"
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		args := []string{"submit", "--driver", c.Addr(), "--wait", "--tables", dir, "-f", queries + name + ".sql"}
		var out string
		if q == 9 || q == 18 || q == 21 {
			out = killLeaderDuring(t, c, conn, name, args)
		} else {
			out = mustRun(t, args...)
		}
		_, result, _ := strings.Cut(out, "\n")
		want, err := os.ReadFile(sf1Answers + name + ".csv")
		if err != nil {
			t.Fatal(err)
		}
		if err := compareCSVText(string(want), result); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// killLeaderDuring runs flint submit with args and SIGKILLs the group's
// leader once a task of the new job has succeeded; it returns what flint
// submit printed (it must exit 0) and starts the killed member again.
func killLeaderDuring(t *testing.T, c *clustertest.Cluster, conn *driverclient.Conn, name string, args []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before, err := conn.Client.ListJobs(ctx, &pb.ListJobsRequest{})
	if err != nil {
		t.Fatal(conn.Error("list jobs", err))
	}
	known := map[string]bool{}
	for _, j := range before.GetJobs() {
		known[j.GetJobId()] = true
	}
	submit := exec.CommandContext(ctx, flintBin, args...)
	var stdout, stderr bytes.Buffer
	submit.Stdout, submit.Stderr = &stdout, &stderr
	if err := submit.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- submit.Wait() }()

	var id string
	for id == "" {
		resp, err := conn.Client.ListJobs(ctx, &pb.ListJobsRequest{})
		if err != nil {
			t.Fatal(conn.Error("list jobs", err))
		}
		for _, j := range resp.GetJobs() {
			if !known[j.GetJobId()] {
				id = j.GetJobId()
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	stream, err := conn.Client.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("%s: watching job %s: %v", name, id, err)
		}
		if st := ev.GetStatus(); st != nil && st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			t.Fatalf("%s: job %s ended before the leader could be killed: %v", name, id, st)
		}
		if ev.GetTask().GetState() == pb.TaskState_TASK_STATE_SUCCEEDED {
			break
		}
	}
	for _, p := range c.Executors() {
		p.Stop()
	}
	lead := leaderOf(t, c.Addr())
	victim := -1
	for i, p := range c.Drivers() {
		if p.Addr == lead.Address {
			victim = i
			p.Kill()
		}
	}
	killed := time.Now()
	for _, p := range c.Executors() {
		p.Cont()
	}
	if victim < 0 {
		t.Fatalf("%s: no driver process at the leader's address %s", name, lead.Address)
	}
	if err := <-exited; err != nil {
		t.Fatalf("%s: flint submit with leader %s killed: %v\n%s", name, lead.ID, err, stderr.String())
	}
	next := leaderOf(t, c.Addr())
	t.Logf("%s: job %s ended %v after its leader %s was killed (new leader %s)", name, id,
		time.Since(killed).Round(time.Millisecond), lead.ID, next.ID)
	c.RestartDriver(victim)
	if got := strings.TrimSpace(strings.SplitN(stdout.String(), "\n", 2)[0]); got != id {
		t.Errorf("%s: flint submit printed job %q; the group ran %s", name, got, id)
	}
	return stdout.String()
}
