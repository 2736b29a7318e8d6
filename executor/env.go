package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/shuffle"
)

// Env is what the tasks of one query share inside one process: the shuffle
// store, opened table sources, the output schemas of exchanges, and hash
// tables of broadcast joins (built once per process, probed by every task).
type Env struct {
	Store   shuffle.Store
	Sources *SourceCache

	mu        sync.Mutex
	schemas   map[int]*arrow.Schema
	broadcast map[int]*broadcastTable
}

// NewEnv returns an Env over store and sources.
func NewEnv(store shuffle.Store, sources *SourceCache) *Env {
	return &Env{Store: store, Sources: sources, schemas: map[int]*arrow.Schema{}, broadcast: map[int]*broadcastTable{}}
}

// SetExchangeSchema records the Arrow schema of the batches a stage writes.
func (e *Env) SetExchangeSchema(exchange int, s *arrow.Schema) {
	e.mu.Lock()
	e.schemas[exchange] = s
	e.mu.Unlock()
}

// ExchangeSchema returns the recorded schema of an exchange.
func (e *Env) ExchangeSchema(exchange int) (*arrow.Schema, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.schemas[exchange]
	return s, ok
}

type broadcastTable struct {
	once  sync.Once
	table *exec.JoinTable
	err   error
}

// joinTable builds (once) and returns the hash table of a broadcast join.
func (e *Env) joinTable(ctx context.Context, exchange int, build func() (*exec.JoinTable, error)) (*exec.JoinTable, error) {
	e.mu.Lock()
	bt := e.broadcast[exchange]
	if bt == nil {
		bt = &broadcastTable{}
		e.broadcast[exchange] = bt
	}
	e.mu.Unlock()
	bt.once.Do(func() { bt.table, bt.err = build() })
	return bt.table, bt.err
}

// Close releases broadcast hash tables.
func (e *Env) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, bt := range e.broadcast {
		if bt.table != nil {
			bt.table.Release()
		}
		delete(e.broadcast, id)
	}
}

// SourceCache opens each table location once per process.
type SourceCache struct {
	mu      sync.Mutex
	sources map[string]connectors.Source
}

// NewSourceCache returns an empty cache.
func NewSourceCache() *SourceCache { return &SourceCache{sources: map[string]connectors.Source{}} }

// Open returns the connector source for a table, opening it on first use.
func (c *SourceCache) Open(ctx context.Context, t *plan.TableSource) (connectors.Source, error) {
	key := sourceKey(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sources[key]; ok {
		return s, nil
	}
	s, err := connectors.Open(ctx, connectors.Format(t.Format), t.Location, t.Options)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	c.sources[key] = s
	return s, nil
}

// Put registers an already opened source (the catalog opened it to learn
// the schema).
func (c *SourceCache) Put(t *plan.TableSource, s connectors.Source) {
	c.mu.Lock()
	c.sources[sourceKey(t)] = s
	c.mu.Unlock()
}

func sourceKey(t *plan.TableSource) string {
	var b strings.Builder
	b.WriteString(t.Format + "\x00" + t.Location)
	keys := make([]string, 0, len(t.Options))
	for k := range t.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + t.Options[k])
	}
	return b.String()
}
