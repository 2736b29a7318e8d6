package service_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/parquet/file"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/driver"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/executor/service"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/wire"
)

// ---------------------------------------------------------------- fake driver

// fakeDriver is a test double of the driver's executor-facing half: a real
// gRPC server implementing only RegisterExecutor and Heartbeat.
type fakeDriver struct {
	pb.UnimplementedDriverServer

	mu         sync.Mutex
	registered []*pb.RegisterExecutorRequest
	known      map[string]bool
	running    map[string][]*pb.TaskAttemptId // last heartbeat, by executor ID
	heartbeats map[string]int
}

func (d *fakeDriver) RegisterExecutor(_ context.Context, req *pb.RegisterExecutorRequest) (*pb.RegisterExecutorResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.registered = append(d.registered, req)
	d.known[req.ExecutorId] = true
	return &pb.RegisterExecutorResponse{HeartbeatIntervalMs: 20}, nil
}

func (d *fakeDriver) Heartbeat(_ context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running[req.ExecutorId] = req.Running
	d.heartbeats[req.ExecutorId]++
	return &pb.HeartbeatResponse{Reregister: !d.known[req.ExecutorId]}, nil
}

// forget makes the driver answer the executor's next heartbeat with
// reregister, as after declaring it lost.
func (d *fakeDriver) forget(id string) {
	d.mu.Lock()
	delete(d.known, id)
	d.mu.Unlock()
}

func (d *fakeDriver) registrations() []*pb.RegisterExecutorRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.registered)
}

// runningAfterHeartbeat returns what the executor reported in a heartbeat
// sent after the call (so it reflects the executor's state now or later).
func (d *fakeDriver) runningAfterHeartbeat(t *testing.T, id string) []*pb.TaskAttemptId {
	t.Helper()
	d.mu.Lock()
	n := d.heartbeats[id]
	d.mu.Unlock()
	var out []*pb.TaskAttemptId
	waitFor(t, "a heartbeat from "+id, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		out = d.running[id]
		return d.heartbeats[id] >= n+2
	})
	return out
}

func startDriver(t *testing.T, addr string) (*fakeDriver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDriver{known: map[string]bool{}, running: map[string][]*pb.TaskAttemptId{}, heartbeats: map[string]int{}}
	gs := grpc.NewServer()
	pb.RegisterDriverServer(gs, d)
	done := make(chan struct{})
	go func() { defer close(done); gs.Serve(lis) }()
	t.Cleanup(func() { gs.Stop(); <-done })
	return d, lis.Addr().String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---------------------------------------------------------------- executors

type node struct {
	exec    *service.Executor
	addr    string
	workDir string
	client  pb.ExecutorClient
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testConfig(t *testing.T, driverAddr string, logs io.Writer) service.Config {
	if logs == nil {
		logs = io.Discard
	}
	return service.Config{Driver: driverAddr, Listen: "127.0.0.1:0", Slots: 2, WorkDir: t.TempDir(),
		Log: slog.New(slog.NewTextHandler(logs, nil)), StopTimeout: 2 * time.Second,
		RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond}
}

func startNode(t *testing.T, cfg service.Config) node {
	t.Helper()
	e, err := service.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stop executor: %v", err)
		}
	})
	cc, err := grpc.NewClient(e.Addr(), shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return node{exec: e, addr: e.Addr(), workDir: cfg.WorkDir, client: pb.NewExecutorClient(cc)}
}

// startCluster starts a fake driver and n executors registered with it.
func startCluster(t *testing.T, n int) (*fakeDriver, []node) {
	d, addr := startDriver(t, "127.0.0.1:0")
	nodes := make([]node, n)
	for i := range nodes {
		nodes[i] = startNode(t, testConfig(t, addr, nil))
	}
	waitFor(t, "registrations", func() bool { return len(d.registrations()) >= n })
	return d, nodes
}

// ---------------------------------------------------------------- plans

var tpchDir = func() string {
	dir, err := filepath.Abs("../../testdata/tpch/sf-sample")
	if err != nil {
		panic(err)
	}
	return dir
}()

// compile binds sql over the TPC-H sample and plans it as a session would.
func compile(t *testing.T, sql string, broadcastRows float64) *physical.StagePlan {
	t.Helper()
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lineitem", "customer", "nation", "orders"} {
		if err := s.RegisterTable(ctx, name, "parquet", filepath.Join(tpchDir, name+".parquet"), nil); err != nil {
			t.Fatal(err)
		}
	}
	stmt, err := parser.ParseOne(sql)
	if err != nil {
		t.Fatal(err)
	}
	var ids plan.IDGen
	n, err := binder.New(s, &ids).BindQuery(sql, stmt.(*ast.Query))
	if err != nil {
		t.Fatal(err)
	}
	c, err := planner.Compile(n, &ids, planner.Options{Partitions: 3, BroadcastRows: broadcastRows})
	if err != nil {
		t.Fatal(err)
	}
	return c.Stages
}

// stageTasks lists a stage's tasks as local mode does: one per scan split
// (at least one), or Stage.Tasks.
func stageTasks(t *testing.T, ctx context.Context, st *physical.Stage) []physical.Task {
	t.Helper()
	if st.Scan == nil {
		tasks := make([]physical.Task, st.Tasks)
		for i := range tasks {
			tasks[i] = physical.Task{Stage: st, Index: i}
		}
		return tasks
	}
	src, err := executor.OpenSource(ctx, connectors.NewSourceCache(0), st.Scan.Source)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := src.Splits(ctx, st.Scan.Prune, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) == 1 && splits[0].Rows >= 2 && strings.HasSuffix(splits[0].Path, ".parquet") {
		// The sample files are one row group each: cut it in two row
		// ranges so that scan stages have several tasks too.
		sp, half := splits[0], splits[0].Rows/2
		a, b := sp, sp
		a.Length, a.Rows = half, half
		b.Offset, b.Length, b.Rows = sp.Offset+half, sp.Rows-half, sp.Rows-half
		splits = []connectors.Split{a, b}
	}
	if len(splits) == 0 {
		return []physical.Task{{Stage: st}}
	}
	tasks := make([]physical.Task, len(splits))
	for i, sp := range splits {
		tasks[i] = physical.Task{Stage: st, Index: i, Splits: []connectors.Split{sp}}
	}
	return tasks
}

// job is a minimal scheduler standing in for the driver: it runs stages in
// order, task i on node i mod len(nodes), and remembers where outputs are.
type job struct {
	t       *testing.T
	id      string
	nodes   []node
	opts    *pb.JobOptions
	schemas map[int]*arrow.Schema
	locs    map[int][]wire.InputLocation
	metrics map[int][]*pb.TaskMetrics // by stage
}

func newJob(t *testing.T, id string, nodes []node) *job {
	return &job{t: t, id: id, nodes: nodes, opts: &pb.JobOptions{BatchSize: 1000},
		schemas: map[int]*arrow.Schema{}, locs: map[int][]wire.InputLocation{}, metrics: map[int][]*pb.TaskMetrics{}}
}

// spec is the TaskSpec of one task, reading the recorded outputs.
func (j *job) spec(task physical.Task, attempt int) *pb.RunTaskRequest {
	j.t.Helper()
	s := &wire.TaskSpec{Task: task, JobID: j.id, Attempt: attempt,
		ExchangeSchemas: map[int]*arrow.Schema{}, Inputs: map[int][]wire.InputLocation{}}
	for _, in := range task.Stage.Inputs {
		s.ExchangeSchemas[in] = j.schemas[in]
		s.Inputs[in] = j.locs[in]
	}
	p, err := wire.EncodeTask(s)
	if err != nil {
		j.t.Fatal(err)
	}
	return &pb.RunTaskRequest{Task: p, Options: j.opts}
}

func (j *job) runStage(ctx context.Context, st *physical.Stage) {
	j.t.Helper()
	tasks := stageTasks(j.t, ctx, st)
	resps := make([]*pb.RunTaskResponse, len(tasks))
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for i, task := range tasks {
		req := j.spec(task, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i], errs[i] = j.nodes[i%len(j.nodes)].client.RunTask(ctx, req)
		}()
	}
	wg.Wait()
	for i, r := range resps {
		if errs[i] != nil {
			j.t.Fatalf("stage %d task %d: RunTask: %v", st.ID, i, errs[i])
		}
		if !r.Ok {
			j.t.Fatalf("stage %d task %d failed: %s", st.ID, i, r.Error)
		}
		s, err := wire.DecodeArrowSchema(r.OutputSchema)
		if err != nil {
			j.t.Fatal(err)
		}
		if prev := j.schemas[st.ID]; prev != nil && !prev.Equal(s) {
			j.t.Fatalf("stage %d: tasks report schemas %s and %s", st.ID, prev, s)
		}
		j.schemas[st.ID] = s
		j.locs[st.ID] = append(j.locs[st.ID], wire.InputLocation{ExecutorAddress: j.nodes[i%len(j.nodes)].addr, MapTask: i})
		j.metrics[st.ID] = append(j.metrics[st.ID], r.Metrics)
	}
}

// run runs every stage and fetches the final stage's result in task order.
func (j *job) run(ctx context.Context, sp *physical.StagePlan) []arrow.RecordBatch {
	j.t.Helper()
	for _, st := range sp.Stages {
		j.runStage(ctx, st)
	}
	final := sp.Final()
	rr := shuffle.NewRemoteReader(j.t.TempDir(), j.id, "")
	defer rr.Close()
	var locs []shuffle.MapOutputLocation
	for _, l := range j.locs[final.ID] {
		locs = append(locs, shuffle.MapOutputLocation{Address: l.ExecutorAddress, MapTask: l.MapTask, Attempt: l.Attempt})
	}
	groups, err := rr.Read(ctx, final.ID, 0, locs)
	if err != nil {
		j.t.Fatalf("fetch result: %v", err)
	}
	var out []arrow.RecordBatch
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func (j *job) end(ctx context.Context) {
	j.t.Helper()
	for _, n := range j.nodes {
		if _, err := n.client.EndJob(ctx, &pb.EndJobRequest{JobId: j.id}); err != nil {
			j.t.Fatalf("EndJob on %s: %v", n.addr, err)
		}
	}
}

func rowStrings(bs []arrow.RecordBatch) []string {
	var out []string
	for _, b := range bs {
		for r := 0; r < int(b.NumRows()); r++ {
			vals := make([]string, b.NumCols())
			for c, col := range b.Columns() {
				vals[c] = col.ValueStr(r)
			}
			out = append(out, strings.Join(vals, "|"))
		}
	}
	return out
}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

func localRows(t *testing.T, ctx context.Context, sp *physical.StagePlan) []string {
	t.Helper()
	bs, err := driver.NewLocal(2).Execute(exec.WithBatchSize(ctx, 1000), sp)
	if err != nil {
		t.Fatal(err)
	}
	defer release(bs)
	return rowStrings(bs)
}

// ---------------------------------------------------------------- tests

// TestStagesMatchLocalMode runs whole stage plans task by task over two
// executors (map outputs fetched over Flight or read locally) and compares
// the result with local mode on the same stage plan.
func TestStagesMatchLocalMode(t *testing.T) {
	ctx := context.Background()
	_, nodes := startCluster(t, 2)
	tests := []struct {
		name      string
		sql       string
		broadcast float64
		ordered   bool
		kinds     []physical.ExchangeKind // exchanges the plan must have
	}{
		{"group by", "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1", 1e6, false,
			[]physical.ExchangeKind{physical.ExchangeHash}},
		{"broadcast join, order by", "SELECT n_name, count(*) AS c FROM customer JOIN nation ON c_nationkey = n_nationkey GROUP BY n_name ORDER BY n_name", 1e6, true,
			[]physical.ExchangeKind{physical.ExchangeBroadcast, physical.ExchangeHash, physical.ExchangeSingle}},
		{"partitioned join", "SELECT o_orderpriority, count(*), sum(o_totalprice) FROM orders JOIN customer ON o_custkey = c_custkey WHERE c_mktsegment = 'BUILDING' GROUP BY 1 ORDER BY 1", 0, true,
			[]physical.ExchangeKind{physical.ExchangeHash, physical.ExchangeSingle}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := compile(t, tc.sql, tc.broadcast)
			kinds := map[physical.ExchangeKind]bool{}
			for _, st := range sp.Stages {
				if st.Output != nil {
					kinds[st.Output.Kind] = true
				}
			}
			for _, k := range tc.kinds {
				if !kinds[k] {
					t.Fatalf("plan lacks a %v exchange:\n%s", k, sp.Format())
				}
			}
			j := newJob(t, "job-match-"+string(rune('a'+i)), nodes)
			res := j.run(ctx, sp)
			got := rowStrings(res)
			release(res)
			want := localRows(t, ctx, sp)
			if !tc.ordered {
				slices.Sort(got)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) || len(got) == 0 {
				t.Fatalf("cluster result\n%s\nlocal mode\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var resultRows int64
			for _, m := range j.metrics[sp.Final().ID] {
				resultRows += m.RowsOut
			}
			if resultRows != int64(len(got)) {
				t.Errorf("final tasks report %d rows out, result has %d", resultRows, len(got))
			}
			j.end(ctx)
		})
	}
}

// TestGroupByCountsEveryRow checks the group-by result against the row
// count in the Parquet file's own metadata, and the task metrics.
func TestGroupByCountsEveryRow(t *testing.T) {
	ctx := context.Background()
	_, nodes := startCluster(t, 2)
	sp := compile(t, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1", 1e6)
	j := newJob(t, "job-count", nodes)
	res := j.run(ctx, sp)
	defer release(res)
	defer j.end(ctx)

	pf, err := file.OpenParquetFile(filepath.Join(tpchDir, "lineitem.parquet"), false)
	if err != nil {
		t.Fatal(err)
	}
	want := pf.NumRows()
	pf.Close()
	var total int64
	for _, b := range res {
		counts := b.Column(1)
		for r := 0; r < counts.Len(); r++ {
			n, err := strconv.ParseInt(counts.ValueStr(r), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	if total != want {
		t.Errorf("counts add up to %d, lineitem has %d rows", total, want)
	}

	scan := sp.Stages[0]
	if scan.Scan == nil {
		t.Fatalf("stage 0 is not the scan stage")
	}
	var inputRows, written int64
	for _, m := range j.metrics[scan.ID] {
		inputRows += m.InputRows
		written += m.ShuffleWriteRows
		if m.ShuffleWriteBytes <= 0 || m.BytesOut != m.ShuffleWriteBytes {
			t.Errorf("scan task metrics: write bytes %d, bytes out %d", m.ShuffleWriteBytes, m.BytesOut)
		}
	}
	if inputRows != want {
		t.Errorf("scan tasks report %d input rows, want %d", inputRows, want)
	}
	var read int64
	for _, st := range sp.Stages {
		if slices.Contains(st.Inputs, scan.ID) {
			for _, m := range j.metrics[st.ID] {
				read += m.ShuffleReadRows
			}
		}
	}
	if written == 0 || read != written {
		t.Errorf("scan stage wrote %d rows, its consumers read %d", written, read)
	}
}

// TestFetchFailure points a reduce task at map outputs that do not exist,
// one local (wrong attempt) and one on the other executor: both come back
// as fetch failures naming the map output.
func TestFetchFailure(t *testing.T) {
	ctx := context.Background()
	_, nodes := startCluster(t, 2)
	sp := compile(t, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1", 1e6)
	j := newJob(t, "job-fetch", nodes[:1])
	defer j.end(ctx)
	j.runStage(ctx, sp.Stages[0])
	if len(j.locs[0]) < 2 {
		t.Fatalf("want at least 2 map tasks, got %d", len(j.locs[0]))
	}
	j.locs[0][0].Attempt = 9                     // local, never written
	j.locs[0][1].ExecutorAddress = nodes[1].addr // remote, never written there
	reduce := sp.Stages[1]
	if !slices.Contains(reduce.Inputs, 0) {
		t.Fatalf("stage 1 does not read stage 0: %v", reduce.Inputs)
	}
	resp, err := nodes[0].client.RunTask(ctx, j.spec(stageTasks(t, ctx, reduce)[0], 0))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Ok {
		t.Fatal("task reading missing map outputs succeeded")
	}
	got := map[[2]int32]*pb.FetchFailure{}
	for _, f := range resp.FetchFailures {
		got[[2]int32{f.MapTask, f.Attempt}] = f
	}
	if len(got) != 2 {
		t.Fatalf("want 2 fetch failures, got %v (error %s)", resp.FetchFailures, resp.Error)
	}
	if f := got[[2]int32{0, 9}]; f == nil || f.Exchange != 0 || f.Address != nodes[0].addr {
		t.Errorf("local failure: %v", f)
	}
	if f := got[[2]int32{1, 0}]; f == nil || f.Exchange != 0 || f.Address != nodes[1].addr {
		t.Errorf("remote failure: %v", f)
	}
	if !strings.Contains(resp.Error, "stage 1") {
		t.Errorf("error does not name the stage: %s", resp.Error)
	}
}

// TestEndJobRemovesFiles checks that a job's files exist while it runs and
// are gone after EndJob, and that the executor then refuses its tasks.
func TestEndJobRemovesFiles(t *testing.T) {
	ctx := context.Background()
	_, nodes := startCluster(t, 1)
	sp := compile(t, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1", 1e6)
	j := newJob(t, "job-end", nodes)
	j.runStage(ctx, sp.Stages[0])
	dir := shuffle.JobDir(nodes[0].workDir, j.id)
	if _, err := os.Stat(shuffle.IndexPath(nodes[0].workDir, shuffle.MapOutputID{Job: j.id, Exchange: 0, MapTask: 0})); err != nil {
		t.Fatalf("map output not on disk: %v", err)
	}
	j.end(ctx)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("job dir after EndJob: %v", err)
	}
	resp, err := nodes[0].client.RunTask(ctx, j.spec(stageTasks(t, ctx, sp.Stages[0])[0], 1))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Ok || !strings.Contains(resp.Error, "job ended") {
		t.Fatalf("task of an ended job: ok=%v error=%q", resp.Ok, resp.Error)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("job dir recreated by a late task: %v", err)
	}
}

// TestEndJobKeepsExchange: EndJob with keep_exchange removes the job's
// other files and keeps that exchange's outputs (a replicated driver's
// final stage); a second EndJob without it removes them.
func TestEndJobKeepsExchange(t *testing.T) {
	ctx := context.Background()
	_, nodes := startCluster(t, 1)
	sp := compile(t, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1", 1e6)
	j := newJob(t, "job-keep", nodes)
	j.runStage(ctx, sp.Stages[0])
	j.runStage(ctx, sp.Stages[1])
	work := nodes[0].workDir
	first := shuffle.IndexPath(work, shuffle.MapOutputID{Job: j.id, Exchange: 0, MapTask: 0})
	final := shuffle.IndexPath(work, shuffle.MapOutputID{Job: j.id, Exchange: 1, MapTask: 0})
	for _, p := range []string{first, final} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("map output not on disk: %v", err)
		}
	}
	keep := int32(1)
	if _, err := nodes[0].client.EndJob(ctx, &pb.EndJobRequest{JobId: j.id, KeepExchange: &keep}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("exchange 0 after EndJob keeping exchange 1: %v", err)
	}
	if _, err := os.Stat(final); err != nil {
		t.Errorf("exchange 1 after EndJob keeping it: %v", err)
	}
	j.end(ctx)
	if _, err := os.Stat(shuffle.JobDir(work, j.id)); !os.IsNotExist(err) {
		t.Fatalf("job dir after the second EndJob: %v", err)
	}
}

// blockingFlight is a Flight server whose DoGet never sends: a map output
// on a hung executor.
type blockingFlight struct {
	flight.BaseFlightServer
	started, ended chan struct{}
}

func (b *blockingFlight) DoGet(_ *flight.Ticket, s flight.FlightService_DoGetServer) error {
	b.started <- struct{}{}
	<-s.Context().Done()
	b.ended <- struct{}{}
	return s.Context().Err()
}

func startBlockingFlight(t *testing.T) (*blockingFlight, string) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blockingFlight{started: make(chan struct{}, 16), ended: make(chan struct{}, 16)}
	gs := grpc.NewServer(shuffle.ServerOptions()...)
	flight.RegisterFlightServiceServer(gs, b)
	done := make(chan struct{})
	go func() { defer close(done); gs.Serve(lis) }()
	t.Cleanup(func() { gs.Stop(); <-done })
	return b, lis.Addr().String()
}

// hungTask starts a reduce task whose input hangs and returns once the
// executor is fetching it.
func hungTask(t *testing.T, ctx context.Context, d *fakeDriver, n node, jobID string) (<-chan *pb.RunTaskResponse, <-chan error, *blockingFlight) {
	sp := compile(t, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1", 1e6)
	j := newJob(t, jobID, []node{n})
	j.runStage(ctx, sp.Stages[0])
	b, addr := startBlockingFlight(t)
	for i := range j.locs[0] {
		j.locs[0][i].ExecutorAddress = addr
	}
	req := j.spec(stageTasks(t, ctx, sp.Stages[1])[0], 0)
	resps, errs := make(chan *pb.RunTaskResponse, 1), make(chan error, 1)
	go func() {
		r, err := n.client.RunTask(ctx, req)
		resps <- r
		errs <- err
	}()
	select {
	case <-b.started:
	case <-time.After(10 * time.Second):
		t.Fatal("task never fetched its input")
	}
	running := d.runningAfterHeartbeat(t, n.exec.ID())
	if len(running) != 1 || running[0].JobId != jobID || running[0].Stage != 1 || running[0].Task != 0 {
		t.Fatalf("heartbeat running = %v, want job %s stage 1 task 0", running, jobID)
	}
	return resps, errs, b
}

// TestCancelStopsTask cancels a RunTask call whose task hangs on a fetch:
// the executor stops the task (the fetch is cancelled, heartbeats stop
// listing it) promptly.
func TestCancelStopsTask(t *testing.T) {
	d, nodes := startCluster(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, errs, b := hungTask(t, ctx, d, nodes[0], "job-cancel")
	start := time.Now()
	cancel()
	if err := <-errs; status.Code(err) != codes.Canceled {
		t.Fatalf("cancelled RunTask returned %v", err)
	}
	select {
	case <-b.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the executor did not cancel the task's fetch")
	}
	if running := d.runningAfterHeartbeat(t, nodes[0].exec.ID()); len(running) != 0 {
		t.Fatalf("still running after cancel: %v", running)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("cancel took %v", el)
	}
	if _, err := nodes[0].client.EndJob(context.Background(), &pb.EndJobRequest{JobId: "job-cancel"}); err != nil {
		t.Fatal(err)
	}
}

// TestEndJobCancelsRunningTask ends a job while one of its tasks hangs:
// the task fails with "job ended" and EndJob returns once it stopped.
func TestEndJobCancelsRunningTask(t *testing.T) {
	d, nodes := startCluster(t, 1)
	ctx := context.Background()
	resps, errs, _ := hungTask(t, ctx, d, nodes[0], "job-end-running")
	if _, err := nodes[0].client.EndJob(ctx, &pb.EndJobRequest{JobId: "job-end-running"}); err != nil {
		t.Fatal(err)
	}
	resp, err := <-resps, <-errs
	if err != nil {
		t.Fatal(err)
	}
	if resp.Ok || !strings.Contains(resp.Error, "job ended") {
		t.Fatalf("task of an ended job: ok=%v error=%q", resp.Ok, resp.Error)
	}
	if _, err := os.Stat(shuffle.JobDir(nodes[0].workDir, "job-end-running")); !os.IsNotExist(err) {
		t.Fatalf("job dir after EndJob: %v", err)
	}
}

// TestBadTask sends garbage: the response says what is wrong.
func TestBadTask(t *testing.T) {
	_, nodes := startCluster(t, 1)
	resp, err := nodes[0].client.RunTask(context.Background(), &pb.RunTaskRequest{Task: &pb.Task{Version: 999}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Ok || !strings.Contains(resp.Error, "version") {
		t.Fatalf("bad task: ok=%v error=%q", resp.Ok, resp.Error)
	}
	sp := compile(t, "SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1", 1e6)
	j := newJob(t, "../escape", nodes)
	resp, err = nodes[0].client.RunTask(context.Background(), j.spec(stageTasks(t, context.Background(), sp.Stages[0])[0], 0))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Ok || !strings.Contains(resp.Error, "invalid job id") {
		t.Fatalf("bad job id: ok=%v error=%q", resp.Ok, resp.Error)
	}
}

// TestRegistration starts an executor before its driver: it keeps trying,
// registers once the driver is up, and registers again under a new ID when
// the driver forgets it.
func TestRegistration(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	var logs syncBuffer
	n := startNode(t, testConfig(t, addr, &logs))
	time.Sleep(200 * time.Millisecond) // several failed attempts
	if n.exec.ID() == "" {
		t.Fatal("no executor ID")
	}
	d, _ := startDriver(t, addr)
	waitFor(t, "registration", func() bool { return len(d.registrations()) == 1 })
	first := d.registrations()[0]
	if first.Address != n.addr || first.Slots != 2 || first.ExecutorId != n.exec.ID() {
		t.Fatalf("registration %v, executor at %s with ID %s", first, n.addr, n.exec.ID())
	}
	d.forget(first.ExecutorId)
	waitFor(t, "registration under a new ID", func() bool { return len(d.registrations()) == 2 })
	second := d.registrations()[1]
	if second.ExecutorId == first.ExecutorId || second.Address != n.addr {
		t.Fatalf("re-registration %v after %v", second, first)
	}
	for _, want := range []string{"cannot reach driver", "registered with driver", "registering again"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

// TestRunStopsOnCancel runs the CLI entry point and cancels it.
func TestRunStopsOnCancel(t *testing.T) {
	d, addr := startDriver(t, "127.0.0.1:0")
	cfg := testConfig(t, addr, nil)
	stale := filepath.Join(cfg.WorkDir, "old-job")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- service.Run(ctx, cfg) }()
	waitFor(t, "registration", func() bool { return len(d.registrations()) == 1 })
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale job dir survived the start: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestCancelStopsBusyTask cancels a RunTask call while its task is busy
// joining (the probe side of lineitem joined with itself on l_suppkey,
// millions of rows per task): the call returns codes.Canceled promptly,
// heartbeats stop listing the attempt, and the executor logs how long
// the task took to stop once its context ended.
func TestCancelStopsBusyTask(t *testing.T) {
	d, addr := startDriver(t, "127.0.0.1:0")
	logs := &syncBuffer{}
	n := startNode(t, testConfig(t, addr, logs))
	waitFor(t, "registration", func() bool { return len(d.registrations()) == 1 })
	sp := compile(t, `SELECT a.l_returnflag, count(*) FROM lineitem a JOIN lineitem b ON a.l_suppkey = b.l_suppkey GROUP BY 1`, 1e6)
	bg := context.Background()
	j := newJob(t, "job-busy", []node{n})
	j.runStage(bg, sp.Stages[0]) // the broadcast build side
	probe := sp.Stages[1]
	if probe.Output == nil || probe.Scan == nil {
		t.Fatalf("stage 1 is not the scanning probe side:\n%v", sp)
	}
	// One task probes every row: about a second of work, uncancelled.
	tasks := stageTasks(t, bg, probe)
	task := tasks[0]
	for _, o := range tasks[1:] {
		task.Splits = append(task.Splits, o.Splits...)
	}
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	errs := make(chan error, 1)
	go func() {
		_, err := n.client.RunTask(ctx, j.spec(task, 0))
		errs <- err
	}()
	running := d.runningAfterHeartbeat(t, n.exec.ID())
	if len(running) != 1 || running[0].Stage != int32(probe.ID) {
		t.Fatalf("heartbeat running = %v, want the probe task", running)
	}
	time.Sleep(200 * time.Millisecond) // well into the join
	select {
	case err := <-errs:
		t.Fatalf("the task ended before it was cancelled (%v): it is too short to test cancellation", err)
	default:
	}
	cancel()
	start := time.Now()
	if err := <-errs; status.Code(err) != codes.Canceled {
		t.Fatalf("cancelled RunTask returned %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("RunTask returned %s after the cancel", el)
	}
	if running := d.runningAfterHeartbeat(t, n.exec.ID()); len(running) != 0 {
		t.Fatalf("still running after cancel: %v", running)
	}
	m := regexp.MustCompile(`msg="task cancelled" job=job-busy stage=1 task=0 attempt=0 cause="context canceled" stopped_in=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no task cancelled line in the logs:\n%s", logs.String())
	}
	t.Logf("stopped in %s", m[1])
	if stopped, err := time.ParseDuration(m[1]); err != nil || stopped > 500*time.Millisecond {
		t.Errorf("the task stopped %s after its context ended (%v)", m[1], err)
	}
	j.end(bg)
}
