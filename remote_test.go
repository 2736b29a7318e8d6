package flint_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/wire"
)

// These tests check the client side of cluster mode (WithDriver) against a
// scripted driver over real gRPC on 127.0.0.1: what a session sends, how
// it follows a job, cancels it and reads its result. Running real queries
// on a real driver and executors is the "cluster" configuration of the
// TPC-H and .slt tests (package internal/clustertest).

// scriptDriver is a DriverServer whose jobs do what the test says.
type scriptDriver struct {
	pb.UnimplementedDriverServer

	submitErr error  // Submit fails with this
	fail      string // the job fails with this message
	block     bool   // the job runs until cancelled
	result    []byte // Arrow IPC stream of a successful job
	chunk     int    // result chunk size (default 5 bytes)
	breakAt   int    // if > 0, Results fails after this many bytes
	submitted chan *pb.SubmitRequest
	hold      chan struct{} // if set, Submit answers once it is closed

	mu        sync.Mutex
	reqs      []*pb.SubmitRequest
	cancelled []*pb.CancelRequest
	cancel    chan struct{}
}

func (d *scriptDriver) Submit(_ context.Context, req *pb.SubmitRequest) (*pb.SubmitResponse, error) {
	if d.submitErr != nil {
		return nil, d.submitErr
	}
	if _, err := wire.DecodeLogical(req.GetPlan()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "submit: %v", err)
	}
	d.mu.Lock()
	d.reqs = append(d.reqs, req)
	d.mu.Unlock()
	if d.submitted != nil {
		d.submitted <- req
	}
	if d.hold != nil {
		<-d.hold
	}
	return &pb.SubmitResponse{JobId: "job-1"}, nil
}

func (d *scriptDriver) finalStatus() *pb.JobStatus {
	if d.fail != "" {
		return &pb.JobStatus{JobId: "job-1", State: pb.JobState_JOB_STATE_FAILED, Error: d.fail}
	}
	return &pb.JobStatus{JobId: "job-1", State: pb.JobState_JOB_STATE_SUCCEEDED}
}

func (d *scriptDriver) Watch(req *pb.WatchRequest, stream grpc.ServerStreamingServer[pb.JobEvent]) error {
	if req.GetJobId() != "job-1" {
		return status.Errorf(codes.NotFound, "unknown job %q", req.GetJobId())
	}
	running := &pb.JobStatus{JobId: "job-1", State: pb.JobState_JOB_STATE_RUNNING,
		Stages: []*pb.StageProgress{{Stage: 0, Tasks: 2}}}
	if err := stream.Send(&pb.JobEvent{Event: &pb.JobEvent_Status{Status: running}}); err != nil {
		return err
	}
	if d.block {
		select {
		case <-d.cancel:
			return stream.Send(&pb.JobEvent{Event: &pb.JobEvent_Status{Status: &pb.JobStatus{
				JobId: "job-1", State: pb.JobState_JOB_STATE_CANCELLED, Error: "cancelled"}}})
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
	return stream.Send(&pb.JobEvent{Event: &pb.JobEvent_Status{Status: d.finalStatus()}})
}

func (d *scriptDriver) Cancel(_ context.Context, req *pb.CancelRequest) (*pb.CancelResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cancelled = append(d.cancelled, req)
	if len(d.cancelled) == 1 {
		close(d.cancel)
	}
	return &pb.CancelResponse{}, nil
}

func (d *scriptDriver) Results(req *pb.ResultsRequest, stream grpc.ServerStreamingServer[pb.ResultChunk]) error {
	if d.fail != "" {
		return status.Errorf(codes.FailedPrecondition, "job %s failed: %s", req.GetJobId(), d.fail)
	}
	size := d.chunk
	if size <= 0 {
		size = 5
	}
	for off := 0; off < len(d.result); off += size {
		if d.breakAt > 0 && off >= d.breakAt {
			return status.Error(codes.Internal, "result store lost")
		}
		if err := stream.Send(&pb.ResultChunk{Data: d.result[off:min(off+size, len(d.result))]}); err != nil {
			return err
		}
	}
	return nil
}

// start serves d on a free 127.0.0.1 port until the test ends.
func (d *scriptDriver) start(t *testing.T) string {
	t.Helper()
	d.cancel = make(chan struct{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterDriverServer(srv, d)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return lis.Addr().String()
}

// ipcStream builds the Arrow IPC stream of a two-column result whose
// columns are named as executors name them (not as the query does), in
// two batches, the second empty.
func ipcStream(t *testing.T) []byte {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id#3", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "name#4", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 2}, nil)
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"Ann", "Bob"}, nil)
	cols := []arrow.Array{ib.NewArray(), sb.NewArray()}
	b := array.NewRecordBatch(schema, cols, 2)
	empty := b.NewSlice(0, 0)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(empty); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range cols {
		a.Release()
	}
	b.Release()
	empty.Release()
	return buf.Bytes()
}

func remoteSession(t *testing.T, addr string, opts ...flint.Option) (*flint.Session, *memory.CheckedAllocator) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := flint.NewSession(context.Background(), append(opts, flint.WithDriver(addr), flint.WithAllocator(mem))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.RegisterTable(context.Background(), "people", "csv", cliData+"people.csv", nil); err != nil {
		t.Fatal(err)
	}
	return s, mem
}

func TestRemoteResult(t *testing.T) {
	d := &scriptDriver{result: ipcStream(t)}
	addr := d.start(t)
	s, mem := remoteSession(t, addr, flint.WithBatchSize(77), flint.WithBroadcastThreshold(0))
	ctx := context.Background()
	schema, batches, err := s.SQL(ctx, "SELECT id AS k, name FROM people WHERE id <= 2 AND name IN (SELECT name FROM people)").CollectWithSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
		mem.AssertSize(t, 0)
	}()
	if got := schema.Field(0).Name + "," + schema.Field(1).Name; got != "k,name" {
		t.Errorf("result columns %s, want k,name (the query's names)", got)
	}
	if len(batches) != 1 {
		t.Fatalf("%d batches, want 1 (empty batches are dropped)", len(batches))
	}
	b := batches[0]
	if b.Schema().Field(0).Name != "k" || b.NumRows() != 2 || b.Column(1).(*array.String).Value(1) != "Bob" {
		t.Errorf("unexpected result %v", b)
	}

	if len(d.reqs) != 1 {
		t.Fatalf("%d submits, want 1", len(d.reqs))
	}
	req := d.reqs[0]
	if strings.Join(req.GetOutputNames(), ",") != "k,name" {
		t.Errorf("output names %v, want [k name]", req.GetOutputNames())
	}
	o := req.GetOptions()
	if o.GetPartitions() != 0 || o.GetBatchSize() != 77 || o.GetBroadcastRows() != math.SmallestNonzeroFloat64 {
		t.Errorf("job options %v: want no partitions (not set), batch size 77, the smallest broadcast threshold (0 asked)", o)
	}
	// Every table location is absolute, including the subquery's scan.
	n, err := wire.DecodeLogical(req.GetPlan())
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(cliData + "people.csv")
	if err != nil {
		t.Fatal(err)
	}
	scans := 0
	var walk func(n plan.Node)
	walk = func(n plan.Node) {
		plan.WalkPlan(n, func(n plan.Node) bool {
			if sc, ok := n.(*plan.Scan); ok {
				scans++
				if sc.Source.Location != want {
					t.Errorf("scan location %q, want %q", sc.Source.Location, want)
				}
			}
			for _, e := range n.Exprs() {
				plan.WalkExpr(e, func(e plan.Expr) bool {
					if sq, ok := e.(*plan.Subquery); ok {
						walk(sq.Plan)
					}
					return true
				})
			}
			return true
		})
	}
	walk(n)
	if scans != 2 {
		t.Errorf("%d scans in the sent plan, want 2", scans)
	}
	// The session's own catalog keeps the relative location.
	src, _, _ := s.LookupTable("people")
	if src.Location != cliData+"people.csv" {
		t.Errorf("the catalog's location became %q", src.Location)
	}
}

func TestRemotePartitionsWhenSet(t *testing.T) {
	d := &scriptDriver{result: ipcStream(t)}
	s, _ := remoteSession(t, d.start(t), flint.WithPartitions(5))
	ctx := context.Background()
	batches, err := s.SQL(ctx, "SELECT id, name FROM people").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		b.Release()
	}
	o := d.reqs[0].GetOptions()
	// Broadcast 0: the driver's default threshold.
	if o.GetPartitions() != 5 || o.GetBatchSize() != 8192 || o.GetBroadcastRows() != 0 {
		t.Errorf("job options %v, want partitions 5, batch size 8192, broadcast 0", o)
	}
}

func TestRemoteJobFails(t *testing.T) {
	const msg = "stage 1 task 0: division by zero"
	d := &scriptDriver{fail: msg}
	s, _ := remoteSession(t, d.start(t))
	ctx := context.Background()
	_, err := s.SQL(ctx, "SELECT id FROM people").Collect(ctx)
	if err == nil || err.Error() != msg {
		t.Fatalf("error %v, want the driver's message %q", err, msg)
	}
	var je *flint.JobError
	if !errors.As(err, &je) || je.JobID != "job-1" || je.State != "failed" {
		t.Errorf("error %#v is not a JobError for job-1 failed", err)
	}
}

func TestRemoteSubmitRejected(t *testing.T) {
	d := &scriptDriver{submitErr: status.Error(codes.InvalidArgument, "submit: plan: correlated subquery not supported")}
	s, _ := remoteSession(t, d.start(t))
	ctx := context.Background()
	_, err := s.SQL(ctx, "SELECT id FROM people").Collect(ctx)
	if err == nil || err.Error() != "submit: plan: correlated subquery not supported" {
		t.Fatalf("error %v, want the driver's message", err)
	}
}

func TestRemoteResultStreamBreaks(t *testing.T) {
	d := &scriptDriver{result: ipcStream(t), breakAt: 200}
	s, mem := remoteSession(t, d.start(t))
	ctx := context.Background()
	_, err := s.SQL(ctx, "SELECT id, name FROM people").Collect(ctx)
	if err == nil || !strings.Contains(err.Error(), "result store lost") {
		t.Fatalf("error %v, want the stream's error", err)
	}
	mem.AssertSize(t, 0)
}

func TestRemoteCancel(t *testing.T) {
	d := &scriptDriver{block: true, submitted: make(chan *pb.SubmitRequest, 1)}
	s, _ := remoteSession(t, d.start(t))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-d.submitted
		time.Sleep(50 * time.Millisecond) // let the client start watching
		cancel()
	}()
	_, err := s.SQL(ctx, "SELECT id FROM people").Collect(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cancelled) != 1 || d.cancelled[0].GetJobId() != "job-1" {
		t.Fatalf("cancel requests %v, want one for job-1", d.cancelled)
	}
}

// TestRemoteCancelDuringSubmit: a context cancelled while Submit is in
// flight still cancels the job the driver created.
func TestRemoteCancelDuringSubmit(t *testing.T) {
	d := &scriptDriver{block: true, submitted: make(chan *pb.SubmitRequest, 1), hold: make(chan struct{})}
	s, _ := remoteSession(t, d.start(t))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-d.submitted
		cancel()
		time.Sleep(50 * time.Millisecond)
		close(d.hold)
	}()
	_, err := s.SQL(ctx, "SELECT id FROM people").Collect(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cancelled) != 1 || d.cancelled[0].GetJobId() != "job-1" {
		t.Fatalf("cancel requests %v, want one for job-1", d.cancelled)
	}
}

func TestRemoteExplainStaysLocal(t *testing.T) {
	d := &scriptDriver{submitErr: status.Error(codes.Internal, "EXPLAIN must not reach the driver")}
	s, _ := remoteSession(t, d.start(t))
	ctx := context.Background()
	batches, err := s.SQL(ctx, "EXPLAIN SELECT id FROM people").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, b := range batches {
		rows += int(b.NumRows())
		b.Release()
	}
	if rows < 4 {
		t.Errorf("EXPLAIN returned %d lines", rows)
	}
}

func TestRemoteSubmit(t *testing.T) {
	d := &scriptDriver{}
	s, _ := remoteSession(t, d.start(t))
	ctx := context.Background()
	id, existing, err := s.SQL(ctx, "SELECT id FROM people").Submit(ctx,
		flint.SubmitOptions{Name: "nightly", IdempotencyKey: "k1", Deadline: 1500 * time.Millisecond, Rerun: true,
			Labels: map[string]string{"dag": "etl"}, Notify: []string{"http://hooks/x"}, SLA: 200 * time.Microsecond})
	if err != nil || id != "job-1" || existing {
		t.Fatalf("Submit = %q, %v, %v", id, existing, err)
	}
	req := d.reqs[0]
	// An SLA under a millisecond still asks for one (1ms), not none.
	want := &pb.SubmitRequest{Name: "nightly", IdempotencyKey: "k1", DeadlineMs: 1500, Rerun: true,
		Labels: map[string]string{"dag": "etl"}, Notify: []string{"http://hooks/x"}, SlaMs: 1}
	got := &pb.SubmitRequest{Name: req.Name, IdempotencyKey: req.IdempotencyKey, DeadlineMs: req.DeadlineMs, Rerun: req.Rerun,
		Labels: req.Labels, Notify: req.Notify, SlaMs: req.SlaMs}
	if !proto.Equal(got, want) {
		t.Errorf("submit request %v, want %v", got, want)
	}

	local, err := flint.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := local.SQL(ctx, "SELECT 1").Submit(ctx, flint.SubmitOptions{}); err == nil {
		t.Error("Submit on a local session succeeded")
	}
}

func TestRemoteUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	s, _ := remoteSession(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = s.SQL(ctx, "SELECT id FROM people").Collect(ctx)
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("error %v, want one naming the driver %s", err, addr)
	}
}
