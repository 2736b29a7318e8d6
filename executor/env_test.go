package executor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flint-engine/flint/exec"
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
