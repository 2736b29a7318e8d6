package connectors

import (
	"container/list"
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
)

// SourceKey names a table location the way Open takes it.
type SourceKey struct {
	Format   Format
	Location string
	Options  map[string]string
}

func (k SourceKey) id() string {
	var b strings.Builder
	b.WriteString(string(k.Format) + "\x00" + k.Location)
	keys := make([]string, 0, len(k.Options))
	for o := range k.Options {
		keys = append(keys, o)
	}
	sort.Strings(keys)
	for _, o := range keys {
		b.WriteString("\x00" + o + "=" + k.Options[o])
	}
	return b.String()
}

// DefaultSourceCacheSize is the number of unpinned sources a SourceCache
// made with size 0 keeps.
const DefaultSourceCacheSize = 256

// SourceCache shares opened Sources within a process, so the tasks of a
// query (and the queries of a long-lived executor) list a location and read
// its footers once.
//
// Opening happens outside the cache's lock: callers asking for other
// locations never wait on someone else's network round trips, and callers
// asking for the same location wait for the one open in flight (or for
// their own context). A failed open is not kept. Sources registered with
// Put (a session's catalog) are pinned; the others are evicted least
// recently used first beyond the cache's size. A Source holds listings and
// footers, not data, and stays valid for whoever still holds it.
//
// A SourceCache is safe for concurrent use.
type SourceCache struct {
	open func(context.Context, SourceKey) (Source, error)
	size int

	mu      sync.Mutex
	entries map[string]*sourceEntry
	lru     list.List // unpinned entries that are ready, most recent first
}

type sourceEntry struct {
	ready  chan struct{} // closed when src/err are set
	src    Source
	err    error
	pinned bool
	elem   *list.Element // in lru when ready and not pinned
}

// NewSourceCache returns a cache keeping at most size unpinned sources
// (DefaultSourceCacheSize when size <= 0).
func NewSourceCache(size int) *SourceCache {
	if size <= 0 {
		size = DefaultSourceCacheSize
	}
	return &SourceCache{size: size, entries: map[string]*sourceEntry{},
		open: func(ctx context.Context, k SourceKey) (Source, error) {
			return Open(ctx, k.Format, k.Location, k.Options)
		}}
}

// Open returns the Source of k, opening it on first use.
func (c *SourceCache) Open(ctx context.Context, k SourceKey) (Source, error) {
	id := k.id()
	for {
		c.mu.Lock()
		e, ok := c.entries[id]
		if !ok {
			e = &sourceEntry{ready: make(chan struct{})}
			c.entries[id] = e
			c.mu.Unlock()
			return c.fill(ctx, id, e, k)
		}
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.src, nil
		}
		// The open we waited for failed. Its error is ours too, unless it
		// was that caller's cancellation: then try again ourselves.
		if !isContextErr(e.err) || ctx.Err() != nil {
			return nil, e.err
		}
	}
}

// fill opens k for the entry this caller inserted and publishes the result.
func (c *SourceCache) fill(ctx context.Context, id string, e *sourceEntry, k SourceKey) (Source, error) {
	src, err := c.open(ctx, k)
	c.mu.Lock()
	defer c.mu.Unlock()
	e.src, e.err = src, err
	close(e.ready)
	if c.entries[id] != e {
		return src, err // replaced by Put meanwhile
	}
	if err != nil {
		delete(c.entries, id)
		return nil, err
	}
	if !e.pinned {
		e.elem = c.lru.PushFront(id)
		c.evict()
	}
	return src, nil
}

// Put registers an already opened source (a catalog opened it to learn the
// schema) and pins it: it is never evicted.
func (c *SourceCache) Put(k SourceKey, src Source) {
	id := k.id()
	ready := make(chan struct{})
	close(ready)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[id]; old != nil && old.elem != nil {
		c.lru.Remove(old.elem)
	}
	c.entries[id] = &sourceEntry{ready: ready, src: src, pinned: true}
}

// Len returns the number of sources held (pinned, unpinned and in flight).
func (c *SourceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// evict drops least recently used unpinned sources beyond the size. The
// caller holds mu.
func (c *SourceCache) evict() {
	for c.lru.Len() > c.size {
		back := c.lru.Back()
		c.lru.Remove(back)
		delete(c.entries, back.Value.(string))
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
