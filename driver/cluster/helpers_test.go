package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/driver"
	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/executor/service"
	"github.com/flint-engine/flint/internal/driverclient"
	"github.com/flint-engine/flint/internal/resultcmp"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/tpch"
	"github.com/flint-engine/flint/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sampleDir = "../../testdata/tpch/sf-sample"

// quietLog drops info logs so test output shows failures only.
func quietLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startDriver starts a driver on 127.0.0.1:0 with short timeouts and a
// client connected to it.
func startDriver(t *testing.T, cfg cluster.Config) (*cluster.Driver, pb.DriverClient) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 50 * time.Millisecond
	}
	if cfg.HeartbeatTimeout == 0 {
		cfg.HeartbeatTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLog(t)
	}
	d, err := cluster.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(d.Addr(), shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		d.Stop()
	})
	return d, pb.NewDriverClient(conn)
}

// testExecutor is an executor process's parts run in-process: the real
// executor service and Flight server on their own gRPC server, and a
// registration and heartbeat loop. hold, when set, makes matching RunTask
// calls hang until their context ends (to catch a job mid-way).
type testExecutor struct {
	id, addr string
	svc      *service.Service
	gs       *grpc.Server
	hold     func(*pb.RunTaskRequest) bool
	// fail, when set and returning a message, makes RunTask report that
	// task failure without running the task.
	fail func(*pb.RunTaskRequest) string

	dir       string        // work dir
	held      chan struct{} // one value per call that started hanging
	release   chan struct{} // closing it lets held (and later) calls run
	cancelled atomic.Int32  // held calls whose context ended
	endJobs   atomic.Int32
	// holdEnd, when set, makes EndJob calls wait until it is closed (or
	// their context ends).
	holdEnd atomic.Pointer[chan struct{}]

	stopHB   chan struct{}
	hbOnce   sync.Once
	killOnce sync.Once
	wg       sync.WaitGroup
}

func startExecutor(t *testing.T, driverAddr, id string, slots int, hold func(*pb.RunTaskRequest) bool) *testExecutor {
	t.Helper()
	return startTestExecutor(t, driverAddr, id, slots, hold, nil)
}

func startExecutorFailing(t *testing.T, driverAddr, id string, slots int, fail func(*pb.RunTaskRequest) string) *testExecutor {
	t.Helper()
	return startTestExecutor(t, driverAddr, id, slots, nil, fail)
}

func startTestExecutor(t *testing.T, driverAddr, id string, slots int, hold func(*pb.RunTaskRequest) bool, fail func(*pb.RunTaskRequest) string) *testExecutor {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e := &testExecutor{id: id, addr: lis.Addr().String(), dir: dir, hold: hold, fail: fail,
		held: make(chan struct{}, 100), release: make(chan struct{}), stopHB: make(chan struct{})}
	e.svc = service.NewService(dir, e.addr, slots, quietLog(t))
	e.gs = grpc.NewServer(append(shuffle.ServerOptions(), grpc.UnaryInterceptor(e.intercept))...)
	pb.RegisterExecutorServer(e.gs, e.svc)
	shuffle.NewFlightServer(dir).Register(e.gs)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.gs.Serve(lis)
	}()
	// A comma-separated driverAddr is a replicated group: the calls
	// follow its leader.
	conn, err := driverclient.Dial(driverAddr)
	if err != nil {
		t.Fatal(err)
	}
	client := conn.Client
	reg := &pb.RegisterExecutorRequest{ExecutorId: id, Address: e.addr, Slots: int32(slots)}
	if _, err := client.RegisterExecutor(context.Background(), reg); err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer conn.Close()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-e.stopHB:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			resp, err := client.Heartbeat(ctx, &pb.HeartbeatRequest{ExecutorId: id, Running: e.svc.Running()})
			if err == nil && resp.Reregister {
				client.RegisterExecutor(ctx, reg)
			}
			cancel()
		}
	}()
	t.Cleanup(e.kill)
	return e
}

func (e *testExecutor) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	switch r := req.(type) {
	case *pb.RunTaskRequest:
		if e.fail != nil {
			if msg := e.fail(r); msg != "" {
				return &pb.RunTaskResponse{Error: msg, Metrics: &pb.TaskMetrics{}}, nil
			}
		}
		if e.hold != nil && e.hold(r) {
			e.held <- struct{}{}
			select {
			case <-ctx.Done():
				e.cancelled.Add(1)
				return nil, ctx.Err()
			case <-e.release:
			}
		}
	case *pb.EndJobRequest:
		e.endJobs.Add(1)
		if hold := e.holdEnd.Load(); hold != nil {
			select {
			case <-*hold:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return handler(ctx, req)
}

// freeze stops heartbeats but keeps serving (a SIGSTOPped process).
func (e *testExecutor) freeze() { e.hbOnce.Do(func() { close(e.stopHB) }) }

// kill stops heartbeats and the server (a SIGKILLed process).
func (e *testExecutor) kill() {
	e.killOnce.Do(func() {
		e.freeze()
		e.gs.Stop()
		e.svc.Close()
		e.wg.Wait()
	})
}

// waitHeld waits for n hanging RunTask calls.
func (e *testExecutor) waitHeld(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-e.held:
		case <-time.After(20 * time.Second):
			t.Fatalf("executor %s: %d of %d tasks reached it", e.id, i, n)
		}
	}
}

// readsExchange holds tasks that read another stage's output.
func readsExchange(r *pb.RunTaskRequest) bool { return len(r.GetTask().GetInputs()) > 0 }

// catalog resolves the TPC-H sample tables for the binder.
type catalog map[string]*plan.TableSource

func (c catalog) LookupTable(name string) (*plan.TableSource, plan.Node, bool) {
	t, ok := c[strings.ToLower(name)]
	return t, nil, ok
}

func (c catalog) TableNames() []string {
	var names []string
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func tpchCatalog(t *testing.T) catalog {
	t.Helper()
	c := catalog{}
	for _, name := range tpch.Tables {
		loc, err := filepath.Abs(filepath.Join(sampleDir, name+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		src, err := connectors.Open(context.Background(), connectors.Parquet, loc, nil)
		if err != nil {
			t.Fatal(err)
		}
		c[name] = &plan.TableSource{Name: name, Format: "parquet", Location: loc, Schema: src.Schema(), RowCount: src.Stats().RowCount}
	}
	return c
}

// bind binds one SQL query to a fresh logical plan, returning the IDs it
// used too.
func bind(t *testing.T, cat catalog, sql string) (plan.Node, *plan.IDGen) {
	t.Helper()
	stmts, err := parser.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := stmts[len(stmts)-1].(*ast.Query)
	if !ok {
		t.Fatalf("not a query: %s", sql)
	}
	ids := &plan.IDGen{}
	n, err := binder.New(cat, ids).BindQuery(sql, q)
	if err != nil {
		t.Fatal(err)
	}
	return n, ids
}

func submitRequest(t *testing.T, n plan.Node) *pb.SubmitRequest {
	t.Helper()
	p, err := wire.EncodeLogical(n)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range n.Schema() {
		names = append(names, c.Name)
	}
	return &pb.SubmitRequest{Plan: p, OutputNames: names}
}

// results reads a job's result stream.
func results(ctx context.Context, c pb.DriverClient, id string) (*arrow.Schema, []arrow.RecordBatch, error) {
	stream, err := c.Results(ctx, &pb.ResultsRequest{JobId: id})
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if len(chunk.Data) > resultChunkLimit {
			return nil, nil, fmt.Errorf("chunk of %d bytes", len(chunk.Data))
		}
		buf.Write(chunk.Data)
	}
	r, err := ipc.NewReader(&buf)
	if err != nil {
		return nil, nil, err
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for r.Next() {
		b := r.RecordBatch()
		b.Retain()
		out = append(out, b)
	}
	return r.Schema(), out, r.Err()
}

const resultChunkLimit = 1 << 20

// runLocal runs n in local mode, the reference of cluster mode.
func runLocal(t *testing.T, n plan.Node, ids *plan.IDGen, partitions int) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	c, err := planner.Compile(n, ids, planner.Options{Partitions: partitions, BroadcastRows: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := exec.WithBatchSize(context.Background(), 8192)
	batches, err := driver.NewLocal(2).Execute(ctx, c.Stages)
	if err != nil {
		t.Fatal(err)
	}
	fields := make([]arrow.Field, len(n.Schema()))
	for i, col := range n.Schema() {
		fields[i] = arrow.Field{Name: col.Name, Type: col.Type, Nullable: col.Nullable}
		if len(batches) > 0 {
			fields[i].Type = batches[0].Column(i).DataType()
		}
	}
	return arrow.NewSchema(fields, nil), batches
}

// rows renders batches row by row.
func rows(bs []arrow.RecordBatch) []string {
	var out []string
	for _, b := range bs {
		for r := 0; r < int(b.NumRows()); r++ {
			cells := make([]string, b.NumCols())
			for c := range cells {
				cells[c] = resultcmp.FormatValue(b.Column(c), r)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

// watch collects a job's events until its final status.
func watch(ctx context.Context, t *testing.T, c pb.DriverClient, id string) ([]*pb.TaskEvent, *pb.JobStatus) {
	t.Helper()
	stream, err := c.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []*pb.TaskEvent
	var last *pb.JobStatus
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return tasks, last
		}
		if err != nil {
			t.Fatalf("watch %s: %v", id, err)
		}
		if te := ev.GetTask(); te != nil {
			tasks = append(tasks, te)
		}
		if st := ev.GetStatus(); st != nil {
			last = st
		}
	}
}

// stringColumn is the values of a string column of batches.
func stringColumn(bs []arrow.RecordBatch, col int) []string {
	var out []string
	for _, b := range bs {
		a := b.Column(col).(*array.String)
		for i := 0; i < a.Len(); i++ {
			out = append(out, a.Value(i))
		}
	}
	return out
}
