package cluster_test

import (
	"context"
	iofs "io/fs"
	"net"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/executor/service"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// isWrite reports whether a task is a task of a write stage.
func isWrite(r *pb.RunTaskRequest) bool {
	for _, n := range r.GetTask().GetNodes() {
		if n.GetWrite() != nil {
			return true
		}
	}
	return false
}

// writeExecutor is an in-process executor whose RunTask answers can be
// swallowed: the attempt runs to its end on the executor, but the driver
// never hears of it (the executor then stops heartbeating and its call
// hangs until the driver gives up on it), as when an executor finishes a
// task and is cut off before it can answer.
type writeExecutor struct {
	id       string
	svc      *service.Service
	gs       *grpc.Server
	swallow  func(*pb.RunTaskRequest, *pb.RunTaskResponse) bool
	swallows atomic.Int32
	stopHB   chan struct{}
	hbOnce   sync.Once
	wg       sync.WaitGroup
}

func startWriteExecutor(t *testing.T, driverAddr, id string, swallow func(*pb.RunTaskRequest, *pb.RunTaskResponse) bool) *writeExecutor {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e := &writeExecutor{id: id, swallow: swallow, stopHB: make(chan struct{})}
	e.svc = service.NewService(dir, lis.Addr().String(), 2, quietLog(t))
	e.gs = grpc.NewServer(append(shuffle.ServerOptions(), grpc.UnaryInterceptor(e.intercept))...)
	pb.RegisterExecutorServer(e.gs, e.svc)
	shuffle.NewFlightServer(dir).Register(e.gs)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.gs.Serve(lis)
	}()
	conn, err := grpc.NewClient(driverAddr, shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	client := pb.NewDriverClient(conn)
	reg := &pb.RegisterExecutorRequest{ExecutorId: id, Address: lis.Addr().String(), Slots: 2}
	if _, err := client.RegisterExecutor(context.Background(), reg); err != nil {
		t.Fatal(err)
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
			client.Heartbeat(ctx, &pb.HeartbeatRequest{ExecutorId: id, Running: e.svc.Running()})
			cancel()
		}
	}()
	t.Cleanup(func() {
		e.hbOnce.Do(func() { close(e.stopHB) })
		e.gs.Stop()
		e.svc.Close()
		e.wg.Wait()
	})
	return e
}

func (e *writeExecutor) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	r, ok := req.(*pb.RunTaskRequest)
	if !ok || err != nil || e.swallow == nil {
		return resp, err
	}
	if out := resp.(*pb.RunTaskResponse); out.GetOk() && e.swallow(r, out) {
		e.swallows.Add(1)
		e.hbOnce.Do(func() { close(e.stopHB) })
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return resp, err
}

func writeRequest(t *testing.T, sql, dir string, spec *pb.WriteSpec) *pb.SubmitRequest {
	t.Helper()
	n, _ := bind(t, tpchCatalog(t), sql)
	req := submitRequest(t, n)
	spec.Location = dir
	req.Write = spec
	req.Options = &pb.JobOptions{Partitions: 4}
	return req
}

// dirFiles lists every file below dir, hidden ones included.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// checkCommitted checks the directory holds exactly the manifest's files
// and returns the rows of the written Parquet files, read back through a
// session-independent path (connectors), sorted.
func checkCommitted(t *testing.T, dir string) (*connectors.Manifest, []string) {
	t.Helper()
	ctx := context.Background()
	m, err := connectors.ReadManifest(ctx, fs.Local{}, dir)
	if err != nil || m == nil {
		t.Fatalf("manifest: %v %v", m, err)
	}
	want := []string{connectors.ManifestName}
	for _, f := range m.Files {
		want = append(want, f.Path)
	}
	sort.Strings(want)
	if got := dirFiles(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("directory holds %v\nmanifest lists %v", got, want)
	}
	var out []string
	for _, p := range m.Paths(dir) {
		src, err := connectors.Open(ctx, connectors.Parquet, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		splits, err := src.Splits(ctx, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range splits {
			rr, err := src.Open(ctx, sp, nil, 8192)
			if err != nil {
				t.Fatal(err)
			}
			for {
				b, err := rr.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if b == nil {
					break
				}
				out = append(out, rows([]arrow.RecordBatch{b})...)
				b.Release()
			}
			rr.Close()
		}
	}
	sort.Strings(out)
	return m, out
}

// TestWriteJob: a write job over two executors commits one manifest
// listing every task's files; its result is rows, files, bytes; the
// written rows are those local mode computes.
func TestWriteJob(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	startExecutor(t, d.Addr(), "exec-b", 2, nil)
	dir := filepath.Join(t.TempDir(), "out")
	const q = "SELECT o_orderstatus, count(*) AS n, sum(o_totalprice) AS total FROM orders GROUP BY o_orderstatus"
	id := submit(ctx, t, c, writeRequest(t, q, dir, &pb.WriteSpec{Format: "parquet"}))
	_, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %s", final.State, final.Error)
	}
	_, res, err := results(ctx, c, id)
	if err != nil {
		t.Fatal(err)
	}
	defer release(res)
	m, got := checkCommitted(t, dir)
	if r := rows(res); len(r) != 1 || !strings.HasPrefix(r[0], "3|") || m.Job != id {
		t.Errorf("result %v, manifest job %s", r, m.Job)
	}
	n, ids := bind(t, tpchCatalog(t), q)
	_, local := runLocal(t, n, ids, 4)
	defer release(local)
	want := rows(local)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("written rows %v, local mode %v", got, want)
	}

	// Mode error: the second write is refused at submit, verbatim.
	_, err = c.Submit(ctx, writeRequest(t, q, dir, &pb.WriteSpec{Format: "parquet"}))
	if err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Errorf("second write: %v", err)
	}
	if _, err := c.Submit(ctx, writeRequest(t, q, "relative/dir", &pb.WriteSpec{Format: "parquet"})); err == nil {
		t.Error("a relative write location must be refused")
	}
}

// TestWriteJobAttemptUnheard: an executor completes a write task's files
// but its answer never reaches the driver, which gives the task to the
// other executor. The commit must list that task's files once (the rerun)
// and remove the unheard attempt's files.
func TestWriteJobAttemptUnheard(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{HeartbeatTimeout: 300 * time.Millisecond})
	b := startWriteExecutor(t, d.Addr(), "exec-b", func(r *pb.RunTaskRequest, out *pb.RunTaskResponse) bool {
		return isWrite(r) && len(out.GetWritten()) > 0
	})
	dir := filepath.Join(t.TempDir(), "out")
	id := submit(ctx, t, c, writeRequest(t, "SELECT DISTINCT l_orderkey, l_linenumber, l_shipmode FROM lineitem", dir,
		&pb.WriteSpec{Format: "parquet", PartitionBy: []*pb.PartitionColumn{{Name: "l_shipmode", Type: "VARCHAR"}}}))
	waitFor(t, "an unheard write attempt", func() bool { return b.swallows.Load() > 0 })
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	_, final := watch(ctx, t, c, id)
	if final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %s", final.State, final.Error)
	}
	_, got := checkCommitted(t, dir)
	n, ids := bind(t, tpchCatalog(t), "SELECT DISTINCT l_orderkey, l_linenumber FROM lineitem")
	_, local := runLocal(t, n, ids, 4)
	defer release(local)
	want := rows(local)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("written %d rows, local mode %d (a lost or doubled task)", len(got), len(want))
	}
}
