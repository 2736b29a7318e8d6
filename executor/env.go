package executor

import (
	"context"
	"errors"
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
//
// An executor process that needs a different Store per task (cluster mode:
// each attempt writes attempt-named files and reads its own input
// locations) runs every task of a job on a view from WithStore; the views
// share the job's schemas and broadcast tables.
type Env struct {
	Store   shuffle.Store
	Sources *SourceCache

	shared *envShared
}

// envShared is the part of an Env its WithStore views share.
type envShared struct {
	mu        sync.Mutex
	schemas   map[int]*arrow.Schema
	broadcast map[int]*broadcastTable
}

// NewEnv returns an Env over store and sources.
func NewEnv(store shuffle.Store, sources *SourceCache) *Env {
	return &Env{Store: store, Sources: sources,
		shared: &envShared{schemas: map[int]*arrow.Schema{}, broadcast: map[int]*broadcastTable{}}}
}

// WithStore returns a view of e that reads and writes exchanges through
// store and shares everything else with e (sources, exchange schemas,
// broadcast join tables). Close the Env NewEnv returned, not its views,
// once no task uses any of them.
func (e *Env) WithStore(store shuffle.Store) *Env {
	return &Env{Store: store, Sources: e.Sources, shared: e.shared}
}

// SetExchangeSchema records the Arrow schema of the batches a stage writes
// (for the final stage, of its result).
func (e *Env) SetExchangeSchema(exchange int, s *arrow.Schema) {
	e.shared.mu.Lock()
	e.shared.schemas[exchange] = s
	e.shared.mu.Unlock()
}

// ExchangeSchema returns the recorded schema of an exchange.
func (e *Env) ExchangeSchema(exchange int) (*arrow.Schema, bool) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	s, ok := e.shared.schemas[exchange]
	return s, ok
}

type broadcastTable struct {
	once  sync.Once
	table *exec.JoinTable
	err   error
}

// joinTable builds (once) and returns the hash table of a broadcast join.
//
// A failed build is not kept: in cluster mode the build side may be
// unreadable for a while (a lost map output, reported as a fetch failure
// and recomputed), and a later task must be able to build it again. Tasks
// that waited on a build cancelled by its own task's context retry it
// rather than fail with someone else's cancellation.
func (e *Env) joinTable(ctx context.Context, exchange int, build func() (*exec.JoinTable, error)) (*exec.JoinTable, error) {
	sh := e.shared
	for try := 0; ; try++ {
		sh.mu.Lock()
		bt := sh.broadcast[exchange]
		if bt == nil {
			bt = &broadcastTable{}
			sh.broadcast[exchange] = bt
		}
		sh.mu.Unlock()
		bt.once.Do(func() { bt.table, bt.err = build() })
		if bt.err == nil {
			return bt.table, nil
		}
		sh.mu.Lock()
		if sh.broadcast[exchange] == bt {
			delete(sh.broadcast, exchange)
		}
		sh.mu.Unlock()
		cancelled := errors.Is(bt.err, context.Canceled) || errors.Is(bt.err, context.DeadlineExceeded)
		if !cancelled || ctx.Err() != nil || try == 3 {
			return nil, bt.err
		}
	}
}

// Close releases broadcast hash tables.
func (e *Env) Close() {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	for id, bt := range e.shared.broadcast {
		if bt.table != nil {
			bt.table.Release()
		}
		delete(e.shared.broadcast, id)
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
