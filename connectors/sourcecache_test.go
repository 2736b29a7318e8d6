package connectors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSource is a Source that only has a location.
type fakeSource struct {
	Source
	loc string
}

func (s *fakeSource) Location() string { return s.loc }

// testCache returns a cache of size whose opens are done by open.
func testCache(size int, open func(context.Context, SourceKey) (Source, error)) *SourceCache {
	c := NewSourceCache(size)
	c.open = open
	return c
}

func key(loc string) SourceKey { return SourceKey{Format: Parquet, Location: loc} }

func TestSourceCacheOpensOnce(t *testing.T) {
	var opens atomic.Int32
	release := make(chan struct{})
	c := testCache(0, func(ctx context.Context, k SourceKey) (Source, error) {
		opens.Add(1)
		<-release
		return &fakeSource{loc: k.Location}, nil
	})
	var wg sync.WaitGroup
	got := make([]Source, 8)
	for i := range got {
		wg.Go(func() {
			s, err := c.Open(context.Background(), key("a"))
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := opens.Load(); n != 1 {
		t.Fatalf("opened %d times, want 1", n)
	}
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("caller %d got another source", i)
		}
	}
	// Options are part of the key, in any order.
	k1 := SourceKey{Format: CSV, Location: "x", Options: map[string]string{"a": "1", "b": "2"}}
	k2 := SourceKey{Format: CSV, Location: "x", Options: map[string]string{"b": "2", "a": "1"}}
	k3 := SourceKey{Format: CSV, Location: "x", Options: map[string]string{"a": "1"}}
	if k1.id() != k2.id() || k1.id() == k3.id() {
		t.Fatalf("keys: %q %q %q", k1.id(), k2.id(), k3.id())
	}
}

// A slow open of one location must not hold up another location.
func TestSourceCacheOpensOutsideTheLock(t *testing.T) {
	slow := make(chan struct{})
	defer close(slow)
	c := testCache(0, func(ctx context.Context, k SourceKey) (Source, error) {
		if k.Location == "slow" {
			select {
			case <-slow:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return &fakeSource{loc: k.Location}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Open(ctx, key("slow"))
	done := make(chan error, 1)
	go func() {
		_, err := c.Open(context.Background(), key("fast"))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening one location waited for another")
	}
}

func TestSourceCacheErrorsAreNotKept(t *testing.T) {
	var opens atomic.Int32
	c := testCache(0, func(ctx context.Context, k SourceKey) (Source, error) {
		if opens.Add(1) == 1 {
			return nil, errors.New("no such file")
		}
		return &fakeSource{loc: k.Location}, nil
	})
	if _, err := c.Open(context.Background(), key("a")); err == nil {
		t.Fatal("first open: want the error")
	}
	if _, err := c.Open(context.Background(), key("a")); err != nil {
		t.Fatalf("second open: %v", err)
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d, want 1", c.Len())
	}
}

// A caller waiting on an open whose own caller was cancelled opens the
// location itself instead of failing with someone else's cancellation; a
// waiter whose own context ends gets its own error at once.
func TestSourceCacheCancellation(t *testing.T) {
	started := make(chan struct{})
	var opens atomic.Int32
	c := testCache(0, func(ctx context.Context, k SourceKey) (Source, error) {
		if opens.Add(1) == 1 {
			close(started)
			<-ctx.Done()
			return nil, fmt.Errorf("listing: %w", ctx.Err())
		}
		return &fakeSource{loc: k.Location}, nil
	})
	ctx1, cancel1 := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.Open(ctx1, key("a"))
		first <- err
	}()
	<-started
	ctx3, cancel3 := context.WithCancel(context.Background())
	third := make(chan error, 1)
	go func() {
		_, err := c.Open(ctx3, key("a"))
		third <- err
	}()
	second := make(chan error, 1)
	go func() {
		_, err := c.Open(context.Background(), key("a"))
		second <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel3()
	if err := <-third; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	cancel1()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled opener: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("waiter of a cancelled open: %v", err)
	}
}

func TestSourceCacheEvictsUnpinnedLeastRecentlyUsed(t *testing.T) {
	var opens atomic.Int32
	c := testCache(2, func(ctx context.Context, k SourceKey) (Source, error) {
		opens.Add(1)
		return &fakeSource{loc: k.Location}, nil
	})
	ctx := context.Background()
	pinned := &fakeSource{loc: "registered"}
	c.Put(key("registered"), pinned)
	for _, loc := range []string{"a", "b", "a", "c"} { // b is least recently used when c comes
		if _, err := c.Open(ctx, key(loc)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (2 unpinned + 1 pinned)", c.Len())
	}
	opens.Store(0)
	for _, loc := range []string{"a", "c"} {
		c.Open(ctx, key(loc))
	}
	if s, _ := c.Open(ctx, key("registered")); s != Source(pinned) {
		t.Fatal("the pinned source was replaced")
	}
	if n := opens.Load(); n != 0 {
		t.Fatalf("recently used sources were reopened %d times", n)
	}
	c.Open(ctx, key("b"))
	if n := opens.Load(); n != 1 {
		t.Fatalf("the evicted source: %d opens, want 1", n)
	}
}
