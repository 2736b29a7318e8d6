package store

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/ml/model"
)

// Ref is what a plan carries to load a model: its file and the file's
// content hash, which a loader checks and caches by.
type Ref struct {
	Name     string // the model's name, for errors
	Type     string // "lightgbm" or "xgboost"
	Location string // the model file
	SHA256   string // hex
	Bytes    int64
}

// Cache holds parsed models by content hash, so that the tasks of a job in
// one process load a model once. It keeps at most about its byte limit of
// model files (the most recently used first) and always the last one
// loaded. Concurrent loads of one model wait for a single read.
type Cache struct {
	mu      sync.Mutex
	limit   int64
	bytes   int64
	entries map[string]*cacheEntry
	lru     *list.List // of *cacheEntry, most recent first
	loads   int64      // model files read
}

type cacheEntry struct {
	key   string
	bytes int64
	done  chan struct{} // closed when m or err is set
	m     model.Model
	err   error
	elem  *list.Element // nil while loading or once evicted
}

// NewCache returns a cache keeping about limit bytes of model files.
func NewCache(limit int64) *Cache {
	return &Cache{limit: limit, entries: map[string]*cacheEntry{}, lru: list.New()}
}

// DefaultCacheBytes is the size of the process's shared cache.
const DefaultCacheBytes = 1 << 30

var shared = NewCache(DefaultCacheBytes)

// Shared is the process's cache.
func Shared() *Cache { return shared }

// Load returns the model ref names, from the cache or by reading and
// parsing its file. A file whose content hash is not ref's (the model was
// replaced or dropped after the query was planned) is an error.
func (c *Cache) Load(ctx context.Context, ref Ref) (model.Model, error) {
	key := ref.Type + ":" + ref.SHA256
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return e.m, e.err
	}
	e = &cacheEntry{key: key, bytes: ref.Bytes, done: make(chan struct{})}
	c.entries[key] = e
	c.loads++
	c.mu.Unlock()

	// The load is not cut short by this caller's end: other tasks may be
	// waiting for it.
	e.m, e.err = load(context.WithoutCancel(ctx), ref)
	c.mu.Lock()
	if e.err != nil {
		// A failed load is not kept: the store may be readable again for
		// the task's next attempt.
		delete(c.entries, key)
	} else {
		e.elem = c.lru.PushFront(e)
		c.bytes += e.bytes
		for c.bytes > c.limit && c.lru.Len() > 1 {
			last := c.lru.Back()
			old := last.Value.(*cacheEntry)
			c.lru.Remove(last)
			old.elem = nil
			delete(c.entries, old.key)
			c.bytes -= old.bytes
		}
	}
	c.mu.Unlock()
	close(e.done)
	return e.m, e.err
}

// Loads is the number of model files the cache has read (and parsed).
func (c *Cache) Loads() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loads
}

// Len is the number of models the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func load(ctx context.Context, ref Ref) (model.Model, error) {
	fsys, err := fs.For(ref.Location)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", ref.Name, err)
	}
	data, err := readAll(ctx, fsys, ref.Location, MaxModelBytes)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w (every executor must reach the model store at this location; or was the model dropped or replaced since the query was planned?)", ref.Name, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != ref.SHA256 {
		return nil, fmt.Errorf("model %s: %s is not the file the query was planned with (sha256 %s, want %s); run the query again", ref.Name, ref.Location, got, ref.SHA256)
	}
	m, err := parse(ref.Type, data)
	if err != nil {
		return nil, fmt.Errorf("model %s: %s: %w", ref.Name, ref.Location, err)
	}
	return m, nil
}
