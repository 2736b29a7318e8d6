package cluster_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// selfJoin joins the sample's lineitem with itself on l_suppkey: 36
// million joined rows, seconds of work for two small executors.
const selfJoin = `SELECT a.l_returnflag, count(*) AS n FROM lineitem a JOIN lineitem b ON a.l_suppkey = b.l_suppkey GROUP BY 1 ORDER BY 1`

// running is the number of attempts the executors run now.
func running(es ...*testExecutor) int {
	n := 0
	for _, e := range es {
		n += len(e.svc.Running())
	}
	return n
}

// interruptJob submits req, waits until the executors work on it and a
// little longer (delay), then ends the client's context — cancelled, or
// past its deadline — while driverclient.Await follows the job. Await
// must return that context's error, the job must end cancelled with the
// client's reason, and every executor must stop its attempts at once.
func interruptJob(t *testing.T, c pb.DriverClient, conn *driverclient.Conn, req *pb.SubmitRequest, delay time.Duration, deadline bool, es ...*testExecutor) string {
	t.Helper()
	bg := context.Background()
	id := submit(bg, t, c, req)
	waitFor(t, "the executors to run the job", func() bool { return running(es...) > 0 })
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	want := context.Canceled
	if deadline {
		want = context.DeadlineExceeded
		ctx, cancel = context.WithTimeout(bg, delay)
		defer cancel()
	} else {
		time.AfterFunc(delay, cancel)
	}
	st, err := conn.Await(ctx, id)
	if err == nil {
		t.Fatalf("job %s ended %s before its client gave up after %s: too short to test cancellation", id, st.GetState(), delay)
	}
	if !errors.Is(err, want) {
		t.Fatalf("Await: %v, want %v", err, want)
	}
	// The executors stop working at once: the attempts' contexts end
	// and their tasks return.
	stopped := time.Now()
	for running(es...) > 0 {
		if time.Since(stopped) > time.Second {
			t.Fatalf("executors still run %d attempts of job %s a second after it was cancelled", running(es...), id)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, final := watch(bg, t, c, id)
	// A client past its deadline ends the job as the driver would have.
	wantState := pb.JobState_JOB_STATE_CANCELLED
	if deadline {
		wantState = pb.JobState_JOB_STATE_TIMED_OUT
	}
	if final.State != wantState || !strings.Contains(final.Error, "client: "+want.Error()) {
		t.Fatalf("job %s ended %s: %q, want %s by the client", id, final.State, final.Error, wantState)
	}
	if _, _, err := results(bg, c, id); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("results of the cancelled job: %v", err)
	}
	return id
}

// TestClientGivesUp: a client whose context is cancelled, or passes its
// deadline, at random moments of a long job gets its context's error;
// the job is cancelled on the driver and its attempts stop on both
// executors at once. Reads and a write (whose target is left empty).
func TestClientGivesUp(t *testing.T) {
	d, c := startDriver(t, cluster.Config{})
	a := startExecutor(t, d.Addr(), "exec-a", 2, nil)
	b := startExecutor(t, d.Addr(), "exec-b", 2, nil)
	conn, err := driverclient.Dial(d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cat := tpchCatalog(t)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	runs := 6
	if testing.Short() {
		runs = 2
	}
	for i := range runs {
		delay := time.Duration(50+rng.IntN(350)) * time.Millisecond
		n, _ := bind(t, cat, selfJoin)
		interruptJob(t, c, conn, submitRequest(t, n), delay, i%2 == 1, a, b)
	}
	dir := filepath.Join(t.TempDir(), "out")
	req := writeRequest(t, "SELECT a.l_returnflag, a.l_orderkey FROM lineitem a JOIN lineitem b ON a.l_suppkey = b.l_suppkey", dir,
		&pb.WriteSpec{Format: "parquet", Mode: "error", PartitionBy: []*pb.PartitionColumn{{Name: "l_returnflag", Type: "VARCHAR"}}})
	interruptJob(t, c, conn, req, 300*time.Millisecond, false, a, b)
	// The write was aborted before the job showed its end.
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		if files := dirFiles(t, dir); len(files) > 0 {
			t.Errorf("the cancelled write left %v", files)
		}
	}
}
