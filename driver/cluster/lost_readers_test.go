package cluster_test

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flint-engine/flint/driver/cluster"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/tpch"
)

// TestReadersOfAFrozenExecutorRestart: executor b holds the map outputs
// that reducers running on executor a read; b freezes (a hung machine), so
// a's fetches from it would wait forever. Once b is declared lost, a's
// reducers are cancelled and rerun after b's outputs are recomputed,
// without counting as failures, and the job completes.
func TestReadersOfAFrozenExecutorRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, c := startDriver(t, cluster.Config{HeartbeatTimeout: 300 * time.Millisecond})
	b := startExecutor(t, d.Addr(), "exec-b", 2, readsExchange)
	cat := tpchCatalog(t)
	n, _ := bind(t, cat, tpch.Query(3))
	req := submitRequest(t, n)
	// Partitioned joins: the reading stages have a task per partition, more
	// than b's slots.
	req.Options = &pb.JobOptions{Partitions: 4, BroadcastRows: math.SmallestNonzeroFloat64}
	id := submit(ctx, t, c, req)
	b.waitHeld(t, 2) // every scan ran on b; b's slots are taken by readers
	// a takes the other readers; they hang as a fetch from a frozen b
	// would. Tasks sent to a after b froze run.
	var frozen atomic.Bool
	a := startExecutor(t, d.Addr(), "exec-a", 2, func(r *pb.RunTaskRequest) bool {
		return readsExchange(r) && !frozen.Load()
	})
	a.waitHeld(t, 1)
	frozen.Store(true)
	b.freeze()
	tasks, final := watch(ctx, t, c, id)
	if final.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("job %s: %s", final.GetState(), final.GetError())
	}
	if a.cancelled.Load() == 0 {
		t.Fatal("the readers on a were not cancelled")
	}
	lostOnA := false
	for _, te := range tasks {
		if te.GetExecutorId() == a.id && te.GetState() == pb.TaskState_TASK_STATE_LOST {
			lostOnA = true
		}
		if te.GetExecutorId() == a.id && te.GetState() == pb.TaskState_TASK_STATE_FAILED {
			t.Errorf("a reader sent back by the loss of b counted as a failure: %v", te)
		}
	}
	if !lostOnA {
		t.Error("no attempt on a was reported lost with b's outputs")
	}
	checkAgainstLocal(ctx, t, c, cat, id, 3)
}
