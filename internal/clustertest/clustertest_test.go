package clustertest_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		clustertest.RemoveBinary()
		os.Exit(code)
	}))
}

// count runs a query on the cluster and returns its single integer.
func count(t *testing.T, ctx context.Context, addr, sql string) int64 {
	t.Helper()
	s, err := flint.NewSession(ctx, flint.WithDriver(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	people, err := filepath.Abs("../../testdata/cli/people.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterTable(ctx, "people", "csv", people, nil); err != nil {
		t.Fatal(err)
	}
	batches, err := s.SQL(ctx, sql).Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	if len(batches) != 1 || batches[0].NumRows() != 1 {
		t.Fatalf("%s: want one row, got %v", sql, batches)
	}
	return batches[0].Column(0).(interface{ Value(int) int64 }).Value(0)
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes")
	}
	ctx := context.Background()
	c := clustertest.Start(t, clustertest.Options{Executors: 2, HeartbeatTimeout: 2 * time.Second})
	const q = "SELECT count(*) FROM people a JOIN people b ON a.dept = b.dept"
	// eng: 2×2, ops: 2×2 (the NULL dept matches nothing).
	if n := count(t, ctx, c.Addr(), q); n != 8 {
		t.Fatalf("count = %d, want 8", n)
	}
	ids := map[string]bool{}
	for _, p := range c.Executors() {
		id := p.ExecutorID()
		if id == "" || ids[id] {
			t.Fatalf("%s: executor ID %q (empty or duplicate)", p.Name, id)
		}
		ids[id] = true
	}

	// SIGSTOP then SIGCONT: the process survives.
	e0 := c.Executor(0)
	e0.Stop()
	e0.Cont()
	if e0.Exited() {
		t.Fatal("executor 0 exited after SIGSTOP/SIGCONT")
	}

	// A killed executor is gone; one started later registers and the
	// cluster still answers.
	e1 := c.Executor(1)
	e1.Kill()
	if !e1.Exited() || alive(e1.Pid()) {
		t.Fatal("executor 1 still running after Kill")
	}
	e2 := c.StartExecutor()
	if e2.ExecutorID() == "" || c.Executor(2) != e2 {
		t.Fatal("the new executor is not registered as executor 2")
	}
	if n := count(t, ctx, c.Addr(), q); n != 8 {
		t.Fatalf("count after replacing an executor = %d, want 8", n)
	}

	// Close leaves nothing running, stopped processes included.
	c.Executor(2).Stop()
	pids := []int{c.Driver().Pid()}
	for _, p := range c.Executors() {
		pids = append(pids, p.Pid())
	}
	c.Close()
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still running after Close", pid)
		}
	}
	c.Close() // idempotent
}

func TestExecutorRejoinsAfterLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes")
	}
	c := clustertest.Start(t, clustertest.Options{Executors: 1, HeartbeatTimeout: time.Second})
	e := c.Executor(0)
	first := e.ExecutorID()
	// Frozen past the heartbeat timeout, the executor is declared lost and
	// registers again under a new ID once it runs again.
	e.Stop()
	time.Sleep(2500 * time.Millisecond)
	e.Cont()
	id, err := e.WaitReregistered(2, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if id == first {
		t.Fatalf("re-registered under the same ID %s", id)
	}
	if n := count(t, context.Background(), c.Addr(), "SELECT count(*) FROM people"); n != 5 {
		t.Fatalf("count = %d, want 5", n)
	}
}
