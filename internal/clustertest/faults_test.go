//go:build linux

package clustertest_test

// Fault tests of cluster mode: a driver and executors as real OS processes,
// TPC-H Q9 over the SF0.01 sample with every join partitioned (broadcasts
// off), so the job has several shuffle stages. Each test checks that the
// job's result is identical to the fault-free run on the same cluster (row
// count and an order-independent checksum over all columns), which itself
// must match DuckDB's answer.
//
// Faults are driven by what the processes report, not by sleeps: the
// test follows the job's Watch stream, and at the chosen task event it
// freezes every executor (SIGSTOP, waiting until the kernel shows them
// stopped), asks the driver for the job's status to confirm the fault
// lands where it should, then kills or resumes processes. A freeze lasts
// milliseconds, well inside the heartbeat timeout. When a post-mortem of
// the event log shows the fault missed its window (the attempt finished
// before the kill), the trial is repeated.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/resultcmp"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/tpch"
)

const (
	faultQuery      = 9
	faultPartitions = 4
	// faultBatchSize keeps tasks busy long enough for a fault to land
	// inside them on a fast machine.
	faultBatchSize = 256
	// waitLimit bounds every wait of these tests: a loaded machine is
	// slow, a hung job must still end the test with a message.
	waitLimit = 3 * time.Minute
	// maxTrials bounds the repetitions of a fault that missed its window.
	maxTrials = 5
)

var sampleTables = []string{"customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"}

func startFaultCluster(t *testing.T, opts clustertest.Options) *clustertest.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	return clustertest.Start(t, opts)
}

// faultHarness runs the fault query on a cluster and follows its jobs.
type faultHarness struct {
	t      *testing.T
	c      *clustertest.Cluster
	s      *flint.Session
	client pb.DriverClient
	sql    string
	// inputs and consumers are the stage DAG (from EXPLAIN, planned as
	// the driver plans); final is the result stage.
	inputs, consumers map[int][]int
	final             int
	// ref is the fault-free result.
	ref checksum
}

func newFaultHarness(t *testing.T, c *clustertest.Cluster) *faultHarness {
	t.Helper()
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithDriver(c.Addr()), flint.WithPartitions(faultPartitions),
		flint.WithBroadcastThreshold(0), flint.WithBatchSize(faultBatchSize))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dir, err := filepath.Abs("../../testdata/tpch/sf-sample")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sampleTables {
		if err := s.RegisterTable(ctx, name, "parquet", filepath.Join(dir, name+".parquet"), nil); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := grpc.NewClient(c.Addr(), shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h := &faultHarness{t: t, c: c, s: s, client: pb.NewDriverClient(conn), sql: tpch.Query(faultQuery)}
	h.readStages()

	// The fault-free run: DuckDB's answer, and the reference of the
	// faulty runs.
	r := h.start()
	r.succeeded()
	batches := h.results(r.id)
	defer release(batches)
	answer, err := os.Open(fmt.Sprintf("../../testdata/tpch/answers/sample/q%02d.csv", faultQuery))
	if err != nil {
		t.Fatal(err)
	}
	defer answer.Close()
	if err := resultcmp.CompareCSV(answer, batches, resultcmp.Options{Ordered: true}); err != nil {
		t.Fatalf("fault-free run of Q%d differs from DuckDB's answer: %v", faultQuery, err)
	}
	h.ref = checksumOf(batches)
	if h.ref.rows == 0 {
		t.Fatal("fault-free run returned no rows")
	}
	return h
}

var (
	stageHeader = regexp.MustCompile(`^Stage (\d+) \(.*output: (\S+)`)
	stageRead   = regexp.MustCompile(`Read \S+ from stage (\d+)`)
)

// readStages learns the stage DAG from the EXPLAIN text's stage list.
func (h *faultHarness) readStages() {
	text, err := h.s.SQL(context.Background(), h.sql).Explain()
	if err != nil {
		h.t.Fatal(err)
	}
	h.inputs, h.consumers, h.final = map[int][]int{}, map[int][]int{}, -1
	_, stages, ok := strings.Cut(text, "== Stages ==\n")
	if !ok {
		h.t.Fatalf("EXPLAIN has no stage list:\n%s", text)
	}
	cur := -1
	for _, line := range strings.Split(stages, "\n") {
		if m := stageHeader.FindStringSubmatch(line); m != nil {
			cur, _ = strconv.Atoi(m[1])
			h.inputs[cur] = nil
			if m[2] == "result)" {
				h.final = cur
			}
			continue
		}
		if m := stageRead.FindStringSubmatch(line); m != nil && cur >= 0 {
			in, _ := strconv.Atoi(m[1])
			h.inputs[cur] = append(h.inputs[cur], in)
			h.consumers[in] = append(h.consumers[in], cur)
		}
	}
	if h.final < 0 || len(h.consumers) < 3 {
		h.t.Fatalf("want a result stage and several shuffles in:\n%s", stages)
	}
}

// proc is the live executor process registered under id, or nil.
func (h *faultHarness) proc(id string) *clustertest.Process {
	for _, p := range h.c.Executors() {
		if !p.Exited() && p.ExecutorID() == id {
			return p
		}
	}
	return nil
}

// live lists the executor processes still running.
func (h *faultHarness) live() []*clustertest.Process {
	var out []*clustertest.Process
	for _, p := range h.c.Executors() {
		if !p.Exited() {
			out = append(out, p)
		}
	}
	return out
}

// status is the job's status now, with its stages by ID.
func (h *faultHarness) status(id string) (*pb.JobStatus, map[int]*pb.StageProgress) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	st, err := h.client.Status(ctx, &pb.StatusRequest{JobId: id})
	if err != nil {
		h.t.Fatalf("status of job %s: %v", id, err)
	}
	stages := map[int]*pb.StageProgress{}
	for _, p := range st.GetStages() {
		stages[int(p.GetStage())] = p
	}
	return st, stages
}

// results fetches a finished job's result over the Results stream.
func (h *faultHarness) results(id string) []arrow.RecordBatch {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	stream, err := h.client.Results(ctx, &pb.ResultsRequest{JobId: id})
	if err != nil {
		h.t.Fatalf("results of job %s: %v", id, err)
	}
	var data bytes.Buffer
	for {
		ch, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			h.t.Fatalf("results of job %s: %v", id, err)
		}
		data.Write(ch.GetData())
	}
	rd, err := ipc.NewReader(&data)
	if err != nil {
		h.t.Fatalf("results of job %s: %v", id, err)
	}
	defer rd.Release()
	var out []arrow.RecordBatch
	for rd.Next() {
		b := rd.RecordBatch()
		b.Retain()
		out = append(out, b)
	}
	if err := rd.Err(); err != nil {
		release(out)
		h.t.Fatalf("results of job %s: %v", id, err)
	}
	return out
}

// checkResult fails the test unless the job's result is the fault-free one.
func (h *faultHarness) checkResult(r *jobRun) {
	h.t.Helper()
	batches := h.results(r.id)
	defer release(batches)
	if got := checksumOf(batches); got != h.ref {
		h.t.Errorf("job %s: result %+v differs from the fault-free run %+v", r.id, got, h.ref)
	}
}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

// checksum identifies a result up to row order: the schema, the row
// count and two sums of per-row hashes (FNV-1 and FNV-1a over every
// column's type and canonical text, NULL distinct from any text).
type checksum struct {
	schema     string
	rows       int64
	sum1, sum2 uint64
}

func checksumOf(bs []arrow.RecordBatch) checksum {
	var c checksum
	if len(bs) > 0 {
		c.schema = bs[0].Schema().String()
	}
	var row []byte
	for _, b := range bs {
		for i := 0; i < int(b.NumRows()); i++ {
			row = row[:0]
			for _, col := range b.Columns() {
				row = append(row, col.DataType().String()...)
				if col.IsNull(i) {
					row = append(row, 0)
				} else {
					row = append(row, 1)
					row = append(row, resultcmp.FormatValue(col, i)...)
				}
				row = append(row, 0x1e)
			}
			h1, h2 := fnv.New64(), fnv.New64a()
			h1.Write(row)
			h2.Write(row)
			c.sum1 += h1.Sum64()
			c.sum2 += h2.Sum64()
			c.rows++
		}
	}
	return c
}

// jobRun is one submitted job whose events the test reads in order.
type jobRun struct {
	h      *faultHarness
	id     string
	events <-chan *pb.JobEvent
	recv   chan error // the stream's end: nil for a clean end
	// tasks are the task events read so far, in the driver's order.
	tasks []*pb.TaskEvent
	final *pb.JobStatus
}

// start submits the fault query and follows its events.
func (h *faultHarness) start() *jobRun {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	id, _, err := h.s.SQL(ctx, h.sql).Submit(ctx, flint.SubmitOptions{Name: h.t.Name()})
	if err != nil {
		cancel()
		h.t.Fatalf("submit: %v", err)
	}
	stream, err := h.client.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		cancel()
		h.t.Fatalf("watch job %s: %v", id, err)
	}
	events := make(chan *pb.JobEvent, 1024)
	r := &jobRun{h: h, id: id, events: events, recv: make(chan error, 1)}
	go func() {
		defer close(events)
		for {
			ev, err := stream.Recv()
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				r.recv <- err
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				r.recv <- ctx.Err()
				return
			}
		}
	}()
	h.t.Cleanup(func() {
		cancel()
		for range events { // let the reader end before goleak looks
		}
	})
	return r
}

// next reads one event; false at the end of the stream.
func (r *jobRun) next() (*pb.JobEvent, bool) {
	ev, ok := <-r.events
	if !ok {
		if err := <-r.recv; err != nil {
			r.h.t.Fatalf("watching job %s: %v", r.id, err)
		}
		r.recv <- nil
		return nil, false
	}
	if te := ev.GetTask(); te != nil {
		r.tasks = append(r.tasks, te)
	}
	if st := ev.GetStatus(); st != nil && st.GetState() != pb.JobState_JOB_STATE_RUNNING {
		r.final = st
	}
	return ev, true
}

// until reads events until f accepts a task event (true) or the job ends
// (false).
func (r *jobRun) until(f func(*pb.TaskEvent) bool) bool {
	for {
		ev, ok := r.next()
		if !ok {
			return false
		}
		if te := ev.GetTask(); te != nil && r.final == nil && f(te) {
			return true
		}
	}
}

// finish reads the remaining events and returns the final status.
func (r *jobRun) finish() *pb.JobStatus {
	r.h.t.Helper()
	for {
		if _, ok := r.next(); !ok {
			break
		}
	}
	if r.final == nil {
		r.h.t.Fatalf("job %s: the event stream ended without a final status", r.id)
	}
	return r.final
}

// succeeded waits for the job and fails the test unless it succeeded.
func (r *jobRun) succeeded() {
	r.h.t.Helper()
	if st := r.finish(); st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		r.h.t.Fatalf("job %s ended %s: %s", r.id, st.GetState(), st.GetError())
	}
}

func sameAttempt(a, b *pb.TaskAttemptId) bool {
	return a.GetStage() == b.GetStage() && a.GetTask() == b.GetTask() && a.GetAttempt() == b.GetAttempt()
}

// attemptSucceeded reports whether the attempt has a SUCCEEDED event.
func (r *jobRun) attemptSucceeded(id *pb.TaskAttemptId) bool {
	for _, te := range r.tasks {
		if sameAttempt(te.GetId(), id) && te.GetState() == pb.TaskState_TASK_STATE_SUCCEEDED {
			return true
		}
	}
	return false
}

// rerunElsewhere reports whether the task of id succeeded again, in a
// later attempt on an executor other than exec.
func (r *jobRun) rerunElsewhere(id *pb.TaskAttemptId, exec string) bool {
	for _, te := range r.tasks {
		x := te.GetId()
		if x.GetStage() == id.GetStage() && x.GetTask() == id.GetTask() && x.GetAttempt() > id.GetAttempt() &&
			te.GetState() == pb.TaskState_TASK_STATE_SUCCEEDED && te.GetExecutorId() != exec {
			return true
		}
	}
	return false
}

// describe is a task event for messages.
func describe(te *pb.TaskEvent) string {
	return fmt.Sprintf("stage %d task %d attempt %d %s on %s", te.GetId().GetStage(), te.GetId().GetTask(),
		te.GetId().GetAttempt(), strings.TrimPrefix(te.GetState().String(), "TASK_STATE_"), te.GetExecutorId())
}

// freeze stops the processes (SIGSTOP) and waits until every thread of
// each is stopped.
func freeze(t *testing.T, ps []*clustertest.Process) {
	t.Helper()
	for _, p := range ps {
		p.Stop()
	}
	for _, p := range ps {
		waitStopped(t, p)
	}
}

func thaw(ps []*clustertest.Process) {
	for _, p := range ps {
		p.Cont()
	}
}

// waitStopped waits until the kernel shows every thread of p stopped (or
// p gone).
func waitStopped(t *testing.T, p *clustertest.Process) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !p.Exited() {
		threads, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", p.Pid()))
		if err != nil || len(threads) == 0 {
			return
		}
		stopped := true
		for _, th := range threads {
			b, err := os.ReadFile(th)
			if err != nil {
				continue // the thread has ended
			}
			if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && !bytes.ContainsAny(b[i+2:i+3], "tTZX") {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) not stopped %s after SIGSTOP", p.Name, p.Pid(), waitLimit)
		}
		time.Sleep(time.Millisecond)
	}
}

var registeredLine = regexp.MustCompile(`msg="registered with driver"`)

func lostLine(executorID string) *regexp.Regexp {
	return regexp.MustCompile(`msg="executor lost" executor=` + regexp.QuoteMeta(executorID) + `\s.*`)
}

// TestKillExecutorAfterMapOutput: an executor is SIGKILLed after writing a
// map output that a stage not yet started needs; the output is recomputed
// elsewhere and the result is unchanged.
func TestKillExecutorAfterMapOutput(t *testing.T) {
	c := startFaultCluster(t, clustertest.Options{Executors: 2, HeartbeatTimeout: 2 * time.Second})
	h := newFaultHarness(t, c)
	for trial := 1; trial <= maxTrials; trial++ {
		r := h.start()
		var trigger *pb.TaskEvent
		r.until(func(te *pb.TaskEvent) bool {
			stage := int(te.GetId().GetStage())
			if te.GetState() != pb.TaskState_TASK_STATE_SUCCEEDED || stage == h.final {
				return false
			}
			victim := h.proc(te.GetExecutorId())
			if victim == nil {
				return false
			}
			live := h.live()
			freeze(t, live)
			defer thaw(live)
			st, stages := h.status(r.id)
			if st.GetState() != pb.JobState_JOB_STATE_RUNNING {
				return false
			}
			for _, cons := range h.consumers[stage] {
				if p := stages[cons]; p.GetRunning() == 0 && p.GetSucceeded() == 0 {
					// cons has not started: it must read this output.
					victim.Kill()
					trigger = te
					return true
				}
			}
			return false
		})
		r.succeeded()
		if trigger == nil {
			t.Logf("trial %d: no map output with a consumer not started yet; again", trial)
			continue
		}
		t.Logf("killed %s after %s", trigger.GetExecutorId(), describe(trigger))
		h.checkResult(r)
		if !r.rerunElsewhere(trigger.GetId(), trigger.GetExecutorId()) {
			t.Errorf("the map output of %s was not recomputed on another executor", describe(trigger))
		}
		if _, err := c.Driver().WaitOutput(lostLine(trigger.GetExecutorId()), waitLimit); err != nil {
			t.Error(err)
		}
		return
	}
	t.Fatalf("no trial in %d found a map output to lose", maxTrials)
}

// TestKillExecutorDuringReduce: an executor is SIGKILLed while it runs a
// task of a stage that reads a shuffle; the task is rerun elsewhere and
// the result is unchanged.
func TestKillExecutorDuringReduce(t *testing.T) {
	c := startFaultCluster(t, clustertest.Options{Executors: 2, HeartbeatTimeout: 2 * time.Second})
	h := newFaultHarness(t, c)
	for trial := 1; trial <= maxTrials; trial++ {
		if len(h.live()) < 2 {
			c.StartExecutor()
		}
		r := h.start()
		var trigger *pb.TaskEvent
		r.until(func(te *pb.TaskEvent) bool {
			stage := int(te.GetId().GetStage())
			if te.GetState() != pb.TaskState_TASK_STATE_RUNNING || len(h.inputs[stage]) == 0 {
				return false
			}
			victim := h.proc(te.GetExecutorId())
			if victim == nil {
				return false
			}
			live := h.live()
			freeze(t, live)
			defer thaw(live)
			st, stages := h.status(r.id)
			if p := stages[stage]; st.GetState() != pb.JobState_JOB_STATE_RUNNING || p.GetSucceeded() >= p.GetTasks() {
				return false
			}
			victim.Kill()
			trigger = te
			return true
		})
		r.succeeded()
		switch {
		case trigger == nil:
			t.Logf("trial %d: no reduce task to interrupt; again", trial)
			continue
		case r.attemptSucceeded(trigger.GetId()):
			t.Logf("trial %d: %s finished before the kill; again", trial, describe(trigger))
			continue
		}
		t.Logf("killed %s during %s", trigger.GetExecutorId(), describe(trigger))
		h.checkResult(r)
		if !r.rerunElsewhere(trigger.GetId(), trigger.GetExecutorId()) {
			t.Errorf("the reduce task of %s was not rerun on another executor", describe(trigger))
		}
		return
	}
	t.Fatalf("no trial in %d killed an executor inside a reduce task", maxTrials)
}

// TestFrozenExecutorPastHeartbeatTimeout: an executor frozen (SIGSTOP)
// while it runs a reduce task is declared lost after the heartbeat
// timeout; resumed (SIGCONT), what it still sends for its old attempts
// is ignored, it registers again under a new ID and takes work.
func TestFrozenExecutorPastHeartbeatTimeout(t *testing.T) {
	c := startFaultCluster(t, clustertest.Options{Executors: 2, HeartbeatTimeout: time.Second})
	h := newFaultHarness(t, c)
	for trial := 1; trial <= maxTrials; trial++ {
		r := h.start()
		var trigger *pb.TaskEvent
		var victim *clustertest.Process
		r.until(func(te *pb.TaskEvent) bool {
			stage := int(te.GetId().GetStage())
			if te.GetState() != pb.TaskState_TASK_STATE_RUNNING || len(h.inputs[stage]) == 0 {
				return false
			}
			if victim = h.proc(te.GetExecutorId()); victim == nil {
				return false
			}
			freeze(t, []*clustertest.Process{victim})
			trigger = te
			return true
		})
		if trigger == nil {
			r.succeeded()
			t.Logf("trial %d: no reduce task to freeze; again", trial)
			continue
		}
		oldID := trigger.GetExecutorId()
		regs := len(registeredLine.FindAllStringIndex(victim.Output(), -1))
		if _, err := c.Driver().WaitOutput(lostLine(oldID), waitLimit); err != nil {
			victim.Cont()
			t.Fatal(err)
		}
		victim.Cont()
		newID, err := victim.WaitReregistered(regs+1, waitLimit)
		if err != nil {
			t.Fatal(err)
		}
		r.succeeded()
		if r.attemptSucceeded(trigger.GetId()) {
			t.Logf("trial %d: %s finished before the freeze; again", trial, describe(trigger))
			continue
		}
		t.Logf("froze %s during %s; it came back as %s", oldID, describe(trigger), newID)
		h.checkResult(r)
		if newID == oldID {
			t.Errorf("re-registered under its old ID %s", oldID)
		}
		lostAt := -1
		for i, te := range r.tasks {
			if te.GetExecutorId() != oldID {
				continue
			}
			switch te.GetState() {
			case pb.TaskState_TASK_STATE_LOST:
				if lostAt < 0 {
					lostAt = i
				}
			case pb.TaskState_TASK_STATE_SUCCEEDED:
				if lostAt >= 0 {
					t.Errorf("a result of the lost executor was accepted: %s", describe(te))
				}
			}
		}
		if lostAt < 0 {
			t.Errorf("no task of %s was reported lost", oldID)
		}
		if !r.rerunElsewhere(trigger.GetId(), oldID) {
			t.Errorf("the frozen %s was not rerun elsewhere", describe(trigger))
		}

		// Back under its new ID, the executor takes work.
		r2 := h.start()
		r2.succeeded()
		h.checkResult(r2)
		ran := 0
		for _, te := range r2.tasks {
			if te.GetExecutorId() == newID && te.GetState() == pb.TaskState_TASK_STATE_SUCCEEDED {
				ran++
			}
		}
		if ran == 0 {
			t.Errorf("the re-registered executor %s ran no task of the next job", newID)
		}
		return
	}
	t.Fatalf("no trial in %d froze an executor inside a reduce task", maxTrials)
}

// TestAllExecutorsKilled: with every executor gone the job fails, naming
// the cause, within the heartbeat timeout plus the no-executor timeout.
func TestAllExecutorsKilled(t *testing.T) {
	const hb, noExec, slack = time.Second, 2 * time.Second, 5 * time.Second
	c := startFaultCluster(t, clustertest.Options{Executors: 2, HeartbeatTimeout: hb,
		DriverArgs: []string{"--no-executor-timeout", noExec.String()}})
	h := newFaultHarness(t, c)
	r := h.start()
	var killed time.Time
	if !r.until(func(te *pb.TaskEvent) bool {
		if te.GetState() != pb.TaskState_TASK_STATE_RUNNING {
			return false
		}
		killed = time.Now() // before: the driver may see them die before Kill returns
		for _, p := range h.live() {
			p.Kill()
		}
		return true
	}) {
		t.Fatal("the job ended before any task ran")
	}
	st := r.finish()
	elapsed := time.Since(killed)
	if st.GetState() != pb.JobState_JOB_STATE_FAILED || !strings.Contains(st.GetError(), "no executors available") {
		t.Fatalf("job ended %s (%q), want failed with no executors available", st.GetState(), st.GetError())
	}
	if elapsed < noExec || elapsed > hb+noExec+slack {
		t.Errorf("job failed %s after the executors died, want between %s and %s", elapsed, noExec, hb+noExec+slack)
	}
	t.Logf("failed %s after the kill: %s", elapsed.Round(time.Millisecond), st.GetError())

	// A query submitted with no executor at all fails the same way, and
	// the client gets the driver's message.
	start := time.Now()
	_, err := h.s.SQL(context.Background(), h.sql).Collect(context.Background())
	var je *flint.JobError
	if !errors.As(err, &je) || je.State != "failed" || !strings.Contains(err.Error(), "no executors available") {
		t.Fatalf("query without executors: %v, want a failed job with no executors available", err)
	}
	if elapsed := time.Since(start); elapsed < noExec || elapsed > noExec+slack {
		t.Errorf("query without executors failed after %s, want between %s and %s", elapsed, noExec, noExec+slack)
	}
}

// TestExecutorJoinsMidJob: an executor started while a job runs takes
// some of its tasks. The one executor there is (one slot) is frozen while
// it has tasks waiting, so the job is certainly still running when the
// new one registers; it resumes once the new one has started a task.
func TestExecutorJoinsMidJob(t *testing.T) {
	c := startFaultCluster(t, clustertest.Options{Executors: 1, Slots: 1, HeartbeatTimeout: time.Minute})
	h := newFaultHarness(t, c)
	first := c.Executor(0)
	r := h.start()
	var joined *clustertest.Process
	r.until(func(te *pb.TaskEvent) bool {
		if te.GetState() != pb.TaskState_TASK_STATE_RUNNING {
			return false
		}
		freeze(t, []*clustertest.Process{first})
		st, stages := h.status(r.id)
		waiting := false
		for _, p := range stages {
			waiting = waiting || (p.GetRunning() > 0 && p.GetTasks() > p.GetSucceeded()+p.GetRunning())
		}
		if st.GetState() != pb.JobState_JOB_STATE_RUNNING || !waiting {
			thaw([]*clustertest.Process{first})
			return false
		}
		joined = c.StartExecutor()
		return true
	})
	if joined == nil {
		t.Fatal("the job never had tasks waiting for a slot")
	}
	id := joined.ExecutorID()
	started := r.until(func(te *pb.TaskEvent) bool {
		return te.GetExecutorId() == id && te.GetState() == pb.TaskState_TASK_STATE_RUNNING
	})
	first.Cont()
	if !started {
		t.Fatalf("the job ended without a task on the executor started mid-job (%s)", id)
	}
	r.succeeded()
	h.checkResult(r)
	ran := 0
	for _, te := range r.tasks {
		if te.GetExecutorId() == id && te.GetState() == pb.TaskState_TASK_STATE_SUCCEEDED {
			ran++
		}
	}
	if ran == 0 {
		t.Errorf("no task succeeded on the executor started mid-job (%s)", id)
	}
	t.Logf("%d tasks succeeded on the executor started mid-job", ran)
}

// TestHungExecutorNotResumed: an executor freezes (SIGSTOP) for good while
// tasks on another executor read its map outputs. Once it is declared lost,
// those readers, which would wait for it forever, are restarted; its
// outputs are recomputed and the job completes with it still frozen.
func TestHungExecutorNotResumed(t *testing.T) {
	c := startFaultCluster(t, clustertest.Options{Executors: 2, HeartbeatTimeout: time.Second})
	h := newFaultHarness(t, c)
	for trial := 1; trial <= maxTrials; trial++ {
		r := h.start()
		var victim *clustertest.Process
		var trigger *pb.TaskEvent
		r.until(func(te *pb.TaskEvent) bool {
			stage := int(te.GetId().GetStage())
			if te.GetState() != pb.TaskState_TASK_STATE_SUCCEEDED || stage == h.final {
				return false
			}
			p := h.proc(te.GetExecutorId())
			if p == nil {
				return false
			}
			live := h.live()
			freeze(t, live)
			st, stages := h.status(r.id)
			reading := false
			for _, cons := range h.consumers[stage] {
				reading = reading || stages[cons].GetRunning() > 0
			}
			if st.GetState() != pb.JobState_JOB_STATE_RUNNING || !reading {
				thaw(live)
				return false
			}
			for _, o := range live {
				if o != p {
					o.Cont()
				}
			}
			victim, trigger = p, te
			return true
		})
		if victim == nil {
			r.succeeded()
			t.Logf("trial %d: no map output read while the job ran; again", trial)
			continue
		}
		hungID := trigger.GetExecutorId()
		r.succeeded() // with the victim still frozen
		if victim.Exited() {
			t.Fatalf("%s exited", victim.Name)
		}
		restarted := false
		for _, te := range r.tasks {
			restarted = restarted || (te.GetState() == pb.TaskState_TASK_STATE_LOST && te.GetExecutorId() != hungID &&
				strings.Contains(te.GetError(), "lost with executor "+hungID))
		}
		if !restarted {
			// Every reader of its outputs ran on the frozen executor itself.
			regs := len(registeredLine.FindAllStringIndex(victim.Output(), -1))
			victim.Cont()
			if _, err := victim.WaitReregistered(regs+1, waitLimit); err != nil {
				t.Fatal(err)
			}
			t.Logf("trial %d: no reader on another executor was waiting for %s; again", trial, hungID)
			continue
		}
		t.Logf("froze %s for good after %s", hungID, describe(trigger))
		h.checkResult(r)
		if !r.rerunElsewhere(trigger.GetId(), hungID) {
			t.Errorf("the map output of %s was not recomputed", describe(trigger))
		}
		return
	}
	t.Fatalf("no trial in %d left readers waiting on a frozen executor", maxTrials)
}
