package executor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/mempool"
)

// A failed broadcast build is not cached: the next task builds again (in
// cluster mode the build side's map output may have been recomputed).
func TestJoinTableRetriesAfterFailure(t *testing.T) {
	env := NewEnv(nil, nil)
	defer env.Close()
	view := env.WithStore(nil)
	ctx := context.Background()
	lost := errors.New("map output lost")
	builds := 0
	if _, err := env.joinTable(ctx, 3, func() (*exec.JoinTable, error) { builds++; return nil, lost }); !errors.Is(err, lost) {
		t.Fatalf("first build: %v", err)
	}
	want := &exec.JoinTable{}
	got, err := view.joinTable(ctx, 3, func() (*exec.JoinTable, error) { builds++; return want, nil })
	if err != nil || got != want || builds != 2 {
		t.Fatalf("second build: %v, %v after %d builds", got, err, builds)
	}
	got, err = env.joinTable(ctx, 3, func() (*exec.JoinTable, error) { builds++; return nil, lost })
	if err != nil || got != want || builds != 2 {
		t.Fatalf("built table not shared with the view's Env: %v, %v after %d builds", got, err, builds)
	}
}

// A task waiting on a build that its builder's cancellation stopped builds
// the table itself instead of failing with the other task's cancellation.
func TestJoinTableWaiterSurvivesBuilderCancel(t *testing.T) {
	env := NewEnv(nil, nil)
	defer env.Close()
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	builderCtx, cancelBuilder := context.WithCancel(context.Background())
	go func() {
		defer wg.Done()
		_, err := env.joinTable(builderCtx, 1, func() (*exec.JoinTable, error) {
			close(started)
			<-release
			cancelBuilder()
			return nil, builderCtx.Err()
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("builder: %v", err)
		}
	}()
	<-started
	want := &exec.JoinTable{}
	done := make(chan struct{})
	var got *exec.JoinTable
	var err error
	go func() {
		defer close(done)
		got, err = env.joinTable(context.Background(), 1, func() (*exec.JoinTable, error) { return want, nil })
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter block on the build
	close(release)
	<-done
	wg.Wait()
	if err != nil || got != want {
		t.Fatalf("waiter: %v, %v", got, err)
	}
	// A waiter whose own context is cancelled gets the error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env2 := NewEnv(nil, nil)
	defer env2.Close()
	if _, err := env2.joinTable(ctx, 1, func() (*exec.JoinTable, error) { return nil, ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled task: %v", err)
	}
}

// DropBroadcast frees a finished join's table (its reservation and
// columns) at once, not when the query's Env closes.
func TestDropBroadcastFreesTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	pool := mempool.New(0)
	ctx := mempool.WithPool(exec.WithAllocator(context.Background(), mem), pool)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(mem)
	b.AppendValues([]int64{1, 2, 3, 70000}, nil)
	col := b.NewArray()
	batch := array.NewRecordBatch(schema, []arrow.Array{col}, 4)
	col.Release()
	b.Release()
	env := NewEnv(nil, nil)
	defer env.Close()
	spec := exec.HashJoinSpec{Type: exec.JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}}
	if _, err := env.joinTable(ctx, 2, func() (*exec.JoinTable, error) {
		return exec.BuildJoinTable(ctx, exec.NewBatchSource(schema, []arrow.RecordBatch{batch}), spec)
	}); err != nil {
		t.Fatal(err)
	}
	batch.Release() // the source handed out its own references
	if pool.Used() == 0 || mem.CurrentAlloc() == 0 {
		t.Fatalf("the built table holds nothing: pool %d, allocator %d", pool.Used(), mem.CurrentAlloc())
	}
	env.DropBroadcast(1) // another exchange: nothing happens
	if pool.Used() == 0 {
		t.Fatal("dropping another exchange freed the table")
	}
	env.DropBroadcast(2)
	if pool.Used() != 0 || mem.CurrentAlloc() != 0 {
		t.Fatalf("after DropBroadcast: pool %d, allocator %d bytes still held", pool.Used(), mem.CurrentAlloc())
	}
	env.DropBroadcast(2) // idempotent
}

// OnBroadcastBuilt hears of each table once it is built, and not of a
// build that failed.
func TestOnBroadcastBuilt(t *testing.T) {
	env := NewEnv(nil, nil)
	defer env.Close()
	var heard []int
	env.OnBroadcastBuilt(func(ex int) { heard = append(heard, ex) })
	ctx := context.Background()
	if _, err := env.joinTable(ctx, 4, func() (*exec.JoinTable, error) { return nil, errors.New("lost") }); err == nil {
		t.Fatal("failed build: no error")
	}
	if len(heard) != 0 {
		t.Fatalf("heard of a failed build: %v", heard)
	}
	for range 3 { // built once, then shared
		if _, err := env.WithStore(nil).joinTable(ctx, 4, func() (*exec.JoinTable, error) { return &exec.JoinTable{}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(heard) != 1 || heard[0] != 4 {
		t.Fatalf("heard %v, want [4]", heard)
	}
}
