package shuffle

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// Store keeps the output of exchanges. Exchanges are identified by the ID
// of the stage that produces them.
type Store interface {
	// Put commits the output of one producer task: parts[p] are the batches
	// for partition p. The store takes ownership of the batches. A second
	// Put for the same task replaces the first (a retried attempt).
	Put(ctx context.Context, exchange, task int, parts [][]arrow.RecordBatch) error
	// Read returns partition p's batches grouped by producer task, in task
	// order. Batches are retained for the caller, who must release them.
	Read(ctx context.Context, exchange, partition int) ([][]arrow.RecordBatch, error)
	// Drop releases an exchange's data once no stage needs it.
	Drop(exchange int)
}

// MemoryStore is an in-process Store.
type MemoryStore struct {
	mu        sync.Mutex
	exchanges map[int]map[int][][]arrow.RecordBatch // exchange -> task -> partition -> batches
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{exchanges: map[int]map[int][][]arrow.RecordBatch{}}
}

// Put implements Store.
func (s *MemoryStore) Put(_ context.Context, exchange, task int, parts [][]arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tasks := s.exchanges[exchange]
	if tasks == nil {
		tasks = map[int][][]arrow.RecordBatch{}
		s.exchanges[exchange] = tasks
	}
	if old, ok := tasks[task]; ok {
		releaseParts(old)
	}
	tasks[task] = parts
	return nil
}

// Read implements Store.
func (s *MemoryStore) Read(_ context.Context, exchange, partition int) ([][]arrow.RecordBatch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tasks, ok := s.exchanges[exchange]
	if !ok {
		return nil, nil
	}
	maxTask := -1
	for t := range tasks {
		maxTask = max(maxTask, t)
	}
	out := make([][]arrow.RecordBatch, 0, maxTask+1)
	for t := 0; t <= maxTask; t++ {
		parts, ok := tasks[t]
		if !ok {
			continue
		}
		if partition >= len(parts) {
			return nil, fmt.Errorf("shuffle: exchange %d has %d partitions, partition %d requested", exchange, len(parts), partition)
		}
		bs := parts[partition]
		for _, b := range bs {
			b.Retain()
		}
		out = append(out, bs)
	}
	return out, nil
}

// Drop implements Store.
func (s *MemoryStore) Drop(exchange int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, parts := range s.exchanges[exchange] {
		releaseParts(parts)
	}
	delete(s.exchanges, exchange)
}

// Close drops everything.
func (s *MemoryStore) Close() {
	s.mu.Lock()
	ids := make([]int, 0, len(s.exchanges))
	for id := range s.exchanges {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.Drop(id)
	}
}

func releaseParts(parts [][]arrow.RecordBatch) {
	for _, bs := range parts {
		for _, b := range bs {
			b.Release()
		}
	}
}

var _ Store = (*MemoryStore)(nil)
