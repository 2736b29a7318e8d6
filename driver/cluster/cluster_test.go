package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/internal/resultcmp"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/tpch"
)

// checkAgainstLocal runs TPC-H query q on the cluster and checks the
// result against local mode (identical schema and rows in order) and
// against DuckDB's answer.
func checkAgainstLocal(ctx context.Context, t *testing.T, c pb.DriverClient, cat catalog, id string, q int) {
	t.Helper()
	schema, got, err := results(ctx, c, id)
	if err != nil {
		t.Fatalf("Q%d results: %v", q, err)
	}
	defer release(got)
	ref, refIDs := bind(t, cat, tpch.Query(q))
	wantSchema, want := runLocal(t, ref, refIDs, 4)
	defer release(want)
	if !schema.Equal(wantSchema) {
		t.Errorf("Q%d schema:\n got %s\nwant %s", q, schema, wantSchema)
	}
	if g, w := rows(got), rows(want); !slices.Equal(g, w) {
		t.Errorf("Q%d: cluster result differs from local mode\n got %d rows %q\nwant %d rows %q", q, len(g), head(g), len(w), head(w))
	}
	answer, err := os.Open(filepath.Join("../../testdata/tpch/answers/sample", fmt.Sprintf("q%02d.csv", q)))
	if err != nil {
		t.Fatal(err)
	}
	defer answer.Close()
	if err := resultcmp.CompareCSV(answer, got, resultcmp.Options{Ordered: true, CheckNames: true}); err != nil {
		t.Errorf("Q%d against DuckDB: %v", q, err)
	}
}

func head(rs []string) []string { return rs[:min(len(rs), 5)] }

func submit(ctx context.Context, t *testing.T, c pb.DriverClient, req *pb.SubmitRequest) string {
	t.Helper()
	resp, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return resp.JobId
}

// TestTPCHMatchesLocal runs TPC-H queries over two executors and compares
// each result with local mode and with DuckDB.
func TestTPCHMatchesLocal(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	a := startExecutor(t, d.Addr(), "exec-a", 2, nil)
	b := startExecutor(t, d.Addr(), "exec-b", 2, nil)
	cat := tpchCatalog(t)
	queries := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}
	if testing.Short() {
		queries = []int{1, 3, 13, 18, 22}
	}
	used := map[string]bool{}
	for _, q := range queries {
		t.Run(fmt.Sprintf("q%02d", q), func(t *testing.T) {
			n, _ := bind(t, cat, tpch.Query(q))
			req := submitRequest(t, n)
			req.Name = fmt.Sprintf("tpch q%d", q)
			id := submit(ctx, t, c, req)
			tasks, final := watch(ctx, t, c, id)
			if final.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
				t.Fatalf("Q%d: %s %s", q, final.GetState(), final.GetError())
			}
			for _, te := range tasks {
				used[te.ExecutorId] = true
				if te.State == pb.TaskState_TASK_STATE_FAILED {
					t.Errorf("Q%d: task failed: %s", q, te.Error)
				}
			}
			checkAgainstLocal(ctx, t, c, cat, id, q)
			st, err := c.Status(ctx, &pb.StatusRequest{JobId: id})
			if err != nil {
				t.Fatal(err)
			}
			if st.State != pb.JobState_JOB_STATE_SUCCEEDED || st.Name != req.Name || st.FinishedUnixMs < st.SubmittedUnixMs || len(st.Stages) == 0 {
				t.Fatalf("status %v", st)
			}
			for _, sp := range st.Stages {
				if sp.Tasks == 0 || sp.Succeeded != sp.Tasks || sp.Running != 0 {
					t.Errorf("stage progress %v", sp)
				}
			}
		})
	}
	if !used[a.id] || !used[b.id] {
		t.Errorf("tasks ran on %v, want both executors", used)
	}
	if a.endJobs.Load() == 0 || b.endJobs.Load() == 0 {
		t.Errorf("EndJob calls: %d, %d; want every job ended on every executor", a.endJobs.Load(), b.endJobs.Load())
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	e := startExecutor(t, d.Addr(), "exec-a", 2, readsExchange)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(1))
	id := submit(ctx, t, c, submitRequest(t, n))
	e.waitHeld(t, 1)
	if _, err := c.Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: "by the test"}); err != nil {
		t.Fatal(err)
	}
	_, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_CANCELLED || final.Error != "cancelled: by the test" {
		t.Fatalf("final status %v", final)
	}
	waitFor(t, "the running attempt to be cancelled on the executor", func() bool { return e.cancelled.Load() >= 1 })
	waitFor(t, "EndJob", func() bool { return e.endJobs.Load() >= 1 })
	_, _, err := results(ctx, c, id)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "cancelled: by the test") {
		t.Fatalf("results of a cancelled job: %v", err)
	}
	// Cancelling again, or a finished job, is harmless.
	if _, err := c.Cancel(ctx, &pb.CancelRequest{JobId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cancel(ctx, &pb.CancelRequest{JobId: "job-nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("cancel of an unknown job: %v", err)
	}
}

func TestDeadline(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	e := startExecutor(t, d.Addr(), "exec-a", 2, readsExchange)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(1))
	req := submitRequest(t, n)
	req.DeadlineMs = 300
	start := time.Now()
	id := submit(ctx, t, c, req)
	_, final := watch(ctx, t, c, id)
	took := time.Since(start)
	if final.State != pb.JobState_JOB_STATE_TIMED_OUT || final.Error != "deadline exceeded after 300ms" {
		t.Fatalf("final status %v", final)
	}
	if took < 300*time.Millisecond || took > 5*time.Second {
		t.Fatalf("job failed after %s, deadline 300ms", took)
	}
	waitFor(t, "the held attempts to be cancelled", func() bool { return e.cancelled.Load() >= 1 })
	waitFor(t, "EndJob", func() bool { return e.endJobs.Load() >= 1 })
}

func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	cat := tpchCatalog(t)
	n, _ := bind(t, cat, tpch.Query(6))
	req := submitRequest(t, n)
	req.IdempotencyKey = "nightly-q6"
	first, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Existing {
		t.Fatal("first submit reported an existing job")
	}
	// Concurrent resubmits (a client retrying) all get the first job.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Submit(ctx, req)
			if err != nil {
				t.Error(err)
				return
			}
			if !resp.Existing {
				t.Error("resubmit with the same key did not report existing")
			}
			mu.Lock()
			ids = append(ids, resp.JobId)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != first.JobId {
			t.Fatalf("resubmit got job %s, want %s", id, first.JobId)
		}
	}
	req.IdempotencyKey = "nightly-q6-bis"
	other := submit(ctx, t, c, req)
	if other == first.JobId {
		t.Fatal("a different key must start a new job")
	}
	checkAgainstLocal(ctx, t, c, cat, first.JobId, 6)
	checkAgainstLocal(ctx, t, c, cat, other, 6)
}

func TestNoExecutors(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{HeartbeatTimeout: 200 * time.Millisecond, NoExecutorTimeout: 400 * time.Millisecond})
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	start := time.Now()
	id := submit(ctx, t, c, submitRequest(t, n))
	_, _, err := results(ctx, c, id)
	took := time.Since(start)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "no executors available: no live executor for") {
		t.Fatalf("results: %v", err)
	}
	if took < 400*time.Millisecond || took > 5*time.Second {
		t.Fatalf("failed after %s, bound 400ms", took)
	}

	// The last executor vanishing mid-job ends the same way.
	e := startExecutor(t, d.Addr(), "exec-a", 2, readsExchange)
	id = submit(ctx, t, c, submitRequest(t, n))
	e.waitHeld(t, 1)
	e.freeze()
	_, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_FAILED || !strings.Contains(final.Error, "no executors available") {
		t.Fatalf("final status %v", final)
	}
}

// lostMidJob runs Q3 on executor b alone, which hangs on every task that
// reads an exchange; once it does (every scan task has run on it), a second
// executor a joins and b is stopped the given way. b's map outputs must be
// recomputed and its tasks rerun on a, with the same result as local mode.
func lostMidJob(t *testing.T, cfg cluster.Config, stop func(*testExecutor)) {
	ctx := context.Background()
	d, c := startDriver(t, cfg)
	b := startExecutor(t, d.Addr(), "exec-b", 2, readsExchange)
	cat := tpchCatalog(t)
	n, _ := bind(t, cat, tpch.Query(3))
	id := submit(ctx, t, c, submitRequest(t, n))
	b.waitHeld(t, 1)
	a := startExecutor(t, d.Addr(), "exec-a", 2, nil)
	stop(b)
	tasks, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %s", final.State, final.Error)
	}
	var lostOrFailedOnB, mapsOnB, mapRerunOnA bool
	ranOnB := map[[2]int32]bool{} // stage, task
	for _, te := range tasks {
		switch {
		case te.ExecutorId == b.id && te.State == pb.TaskState_TASK_STATE_SUCCEEDED:
			mapsOnB = true
			ranOnB[[2]int32{te.Id.Stage, te.Id.Task}] = true
		case te.ExecutorId == b.id && (te.State == pb.TaskState_TASK_STATE_LOST || te.State == pb.TaskState_TASK_STATE_FAILED):
			lostOrFailedOnB = true
		case te.ExecutorId == a.id && te.State == pb.TaskState_TASK_STATE_SUCCEEDED && ranOnB[[2]int32{te.Id.Stage, te.Id.Task}]:
			mapRerunOnA = true
		}
	}
	if !mapsOnB || !lostOrFailedOnB || !mapRerunOnA {
		t.Fatalf("map outputs on b: %v, attempts lost on b: %v, map tasks of b rerun on a: %v", mapsOnB, lostOrFailedOnB, mapRerunOnA)
	}
	checkAgainstLocal(ctx, t, c, cat, id, 3)
}

// TestExecutorKilledMidJob: the executor's server goes away (SIGKILL):
// its RunTask calls fail at once and it is declared lost without waiting
// for the heartbeat timeout.
func TestExecutorKilledMidJob(t *testing.T) {
	start := time.Now()
	lostMidJob(t, cluster.Config{HeartbeatTimeout: time.Minute}, (*testExecutor).kill)
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("took %s: the killed executor was not declared lost early", took)
	}
}

// TestExecutorFrozenMidJob: the executor stops heartbeating but keeps its
// connections (SIGSTOP): it is declared lost after the heartbeat timeout
// and its RunTask calls are cancelled.
func TestExecutorFrozenMidJob(t *testing.T) {
	var b *testExecutor
	lostMidJob(t, cluster.Config{HeartbeatTimeout: 300 * time.Millisecond}, func(e *testExecutor) { b = e; e.freeze() })
	waitFor(t, "the frozen executor's attempts to be cancelled", func() bool { return b.cancelled.Load() >= 1 })
}

func TestExplain(t *testing.T) {
	ctx := context.Background()
	_, c := startDriver(t, cluster.Config{})
	n, _ := bind(t, tpchCatalog(t), tpch.Query(3))
	req := submitRequest(t, n)
	req.Explain = true
	id := submit(ctx, t, c, req)
	schema, got, err := results(ctx, c, id)
	if err != nil {
		t.Fatal(err)
	}
	defer release(got)
	text := strings.Join(stringColumn(got, 0), "\n")
	if schema.NumFields() != 1 || schema.Field(0).Name != "plan" || !strings.Contains(text, "== Physical plan ==") || !strings.Contains(text, "Stage 0") {
		t.Fatalf("explain result %s:\n%s", schema, text)
	}
}

func TestBadRequests(t *testing.T) {
	ctx := context.Background()
	_, c := startDriver(t, cluster.Config{})
	if _, err := c.Submit(ctx, &pb.SubmitRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("submit without a plan: %v", err)
	}
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.Plan.Version = 99
	if _, err := c.Submit(ctx, req); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "version") {
		t.Errorf("submit with a bad plan version: %v", err)
	}
	req = submitRequest(t, n)
	req.OutputNames = []string{"a", "b", "c"}
	if _, err := c.Submit(ctx, req); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "3 output names") {
		t.Errorf("submit with wrong output names: %v", err)
	}
	if _, err := c.Status(ctx, &pb.StatusRequest{JobId: "job-nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("status of an unknown job: %v", err)
	}
	if _, err := c.RegisterExecutor(ctx, &pb.RegisterExecutorRequest{ExecutorId: "e", Address: "127.0.0.1:1"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("register without slots: %v", err)
	}
	hb, err := c.Heartbeat(ctx, &pb.HeartbeatRequest{ExecutorId: "never-registered"})
	if err != nil || !hb.Reregister {
		t.Errorf("heartbeat of an unknown executor: %v %v", hb, err)
	}
}

func TestFinishedJobsAreBounded(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{MaxFinishedJobs: 1})
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.IdempotencyKey = "k"
	first := submit(ctx, t, c, req)
	watch(ctx, t, c, first)
	req.IdempotencyKey = ""
	second := submit(ctx, t, c, req)
	watch(ctx, t, c, second)
	if _, err := c.Status(ctx, &pb.StatusRequest{JobId: first}); status.Code(err) != codes.NotFound {
		t.Fatalf("the older finished job is still kept: %v", err)
	}
	if _, _, err := results(ctx, c, second); err != nil {
		t.Fatal(err)
	}
	// The dropped job's key is free again.
	req.IdempotencyKey = "k"
	if resp, err := c.Submit(ctx, req); err != nil || resp.Existing {
		t.Fatalf("resubmit after the job was dropped: %v %v", resp, err)
	}
}

// TestStopWithRunningJob: stopping the driver fails the running job, ends
// it on the executors and leaves no goroutine behind (TestMain checks).
func TestStopWithRunningJob(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	e := startExecutor(t, d.Addr(), "exec-a", 2, readsExchange)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(1))
	id := submit(ctx, t, c, submitRequest(t, n))
	e.waitHeld(t, 1)
	stream, err := c.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	d.Stop()
	var last *pb.JobStatus
	for {
		ev, err := stream.Recv()
		if err != nil {
			break
		}
		if st := ev.GetStatus(); st != nil {
			last = st
		}
	}
	if last.GetState() != pb.JobState_JOB_STATE_FAILED || last.GetError() != "driver shutting down" {
		t.Fatalf("last status seen: %v", last)
	}
	if e.endJobs.Load() == 0 || e.cancelled.Load() == 0 {
		t.Fatalf("EndJob calls %d, cancelled attempts %d", e.endJobs.Load(), e.cancelled.Load())
	}
}

// TestTaskFailuresRetriedElsewhere: an executor whose tasks all fail (a
// full disk) costs the job only retries, which go to the other executor.
func TestTaskFailuresRetriedElsewhere(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	a := startExecutor(t, d.Addr(), "exec-a", 2, nil)
	b := startExecutorFailing(t, d.Addr(), "exec-b", 2, func(*pb.RunTaskRequest) string { return "disk full on exec-b" })
	cat := tpchCatalog(t)
	n, _ := bind(t, cat, tpch.Query(3))
	req := submitRequest(t, n)
	req.Options = &pb.JobOptions{MaxAttempts: 2}
	id := submit(ctx, t, c, req)
	tasks, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %s", final.State, final.Error)
	}
	failedOnB := 0
	for _, te := range tasks {
		if te.State == pb.TaskState_TASK_STATE_FAILED {
			if te.ExecutorId != b.id || !strings.Contains(te.Error, "disk full on exec-b") {
				t.Fatalf("unexpected failure %v", te)
			}
			failedOnB++
		}
		if te.State == pb.TaskState_TASK_STATE_SUCCEEDED && te.ExecutorId != a.id {
			t.Fatalf("success on %s", te.ExecutorId)
		}
	}
	if failedOnB == 0 {
		t.Fatal("no task was sent to the failing executor")
	}
	checkAgainstLocal(ctx, t, c, cat, id, 3)
}

// TestTaskFailsForGood: a task that fails on every attempt fails the job
// with its error after MaxAttempts.
func TestTaskFailsForGood(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	startExecutorFailing(t, d.Addr(), "exec-a", 2, func(r *pb.RunTaskRequest) string {
		if r.GetTask().GetStage().GetId() == 0 && r.GetTask().GetIndex() == 0 {
			return "corrupt row group"
		}
		return ""
	})
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.Options = &pb.JobOptions{MaxAttempts: 3}
	id := submit(ctx, t, c, req)
	tasks, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_FAILED || final.Error != "stage 0 task 0 failed after 3 attempts: corrupt row group" {
		t.Fatalf("final status %v", final)
	}
	var attempts []int32
	for _, te := range tasks {
		if te.State == pb.TaskState_TASK_STATE_FAILED {
			attempts = append(attempts, te.Id.Attempt)
		}
	}
	if !slices.Equal(attempts, []int32{0, 1, 2}) {
		t.Fatalf("failed attempts %v, want 0, 1, 2", attempts)
	}
}

// TestTableGoneBeforeSplitting: a scan stage whose files cannot be listed
// fails the job with an error naming the table.
func TestTableGoneBeforeSplitting(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(sampleDir, "nation.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "nation.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cat := tpchCatalog(t)
	cat["nation"].Location = path
	n, _ := bind(t, cat, "select count(*) from nation")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	id := submit(ctx, t, c, submitRequest(t, n))
	_, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_FAILED || !strings.HasPrefix(final.Error, "stage 0: table nation: ") {
		t.Fatalf("final status %v", final)
	}
}

// TestFetchFailureRecomputesMapOutput: map outputs vanish from a live
// executor's disk before they are read; the readers report fetch failures
// and only those map tasks run again.
func TestFetchFailureRecomputesMapOutput(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	a := startExecutor(t, d.Addr(), "exec-a", 2, readsExchange)
	b := startExecutor(t, d.Addr(), "exec-b", 2, readsExchange)
	cat := tpchCatalog(t)
	n, _ := bind(t, cat, tpch.Query(3))
	id := submit(ctx, t, c, submitRequest(t, n))
	a.waitHeld(t, 1) // the scan stages are complete
	removed := 0
	for _, e := range []*testExecutor{a, b} {
		err := filepath.WalkDir(e.dir, func(path string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				removed++
				return os.Remove(path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if removed == 0 {
		t.Fatal("no map output files to remove")
	}
	close(a.release)
	close(b.release)
	tasks, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %s", final.State, final.Error)
	}
	fetchFailed, rerun := false, false
	for _, te := range tasks {
		if te.State == pb.TaskState_TASK_STATE_FAILED && strings.Contains(te.Error, "fetch") {
			fetchFailed = true
		}
		if te.State == pb.TaskState_TASK_STATE_SUCCEEDED && te.Id.Attempt > 0 {
			rerun = true
		}
	}
	if !fetchFailed || !rerun {
		t.Fatalf("fetch failures reported: %v, map tasks rerun: %v", fetchFailed, rerun)
	}
	checkAgainstLocal(ctx, t, c, cat, id, 3)
}
