package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/ml/store"
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
	Sources *connectors.SourceCache
	// Models loads the models of Predict nodes; nil is the process's
	// shared cache (store.Shared).
	Models *store.Cache

	shared *envShared
}

// envShared is the part of an Env its WithStore views share.
type envShared struct {
	mu        sync.Mutex
	schemas   map[int]*arrow.Schema
	broadcast map[int]*broadcastTable
	built     func(exchange int) // OnBroadcastBuilt
}

// NewEnv returns an Env over store and sources.
func NewEnv(store shuffle.Store, sources *connectors.SourceCache) *Env {
	return &Env{Store: store, Sources: sources,
		shared: &envShared{schemas: map[int]*arrow.Schema{}, broadcast: map[int]*broadcastTable{}}}
}

// WithStore returns a view of e that reads and writes exchanges through
// store and shares everything else with e (sources, exchange schemas,
// broadcast join tables). Close the Env NewEnv returned, not its views,
// once no task uses any of them.
func (e *Env) WithStore(store shuffle.Store) *Env {
	return &Env{Store: store, Sources: e.Sources, Models: e.Models, shared: e.shared}
}

// OnBroadcastBuilt has fn called with the exchange of every broadcast
// join table built from then on, right after it is built (before a task
// probes it). A scheduler that knows no task will read that exchange
// again (local mode, where a failed build fails the query) can drop the
// exchange's data there: the table holds its own copy. Call it before
// tasks run.
func (e *Env) OnBroadcastBuilt(fn func(exchange int)) {
	e.shared.mu.Lock()
	e.shared.built = fn
	e.shared.mu.Unlock()
}

func (e *Env) models() *store.Cache {
	if e.Models != nil {
		return e.Models
	}
	return store.Shared()
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
	once    sync.Once
	claimed atomic.Bool   // a task has taken on building the table
	done    chan struct{} // closed once it is built (or failed)
	table   *exec.JoinTable
	err     error
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
			bt = &broadcastTable{done: make(chan struct{})}
			sh.broadcast[exchange] = bt
		}
		sh.mu.Unlock()
		if !bt.claimed.CompareAndSwap(false, true) {
			// Another task builds the table: wait for it without holding
			// a slot, which a task of another stage can use meanwhile.
			if err := waitYielding(ctx, bt.done); err != nil {
				return nil, err
			}
		}
		bt.once.Do(func() {
			bt.table, bt.err = build()
			sh.mu.Lock()
			built := sh.built
			sh.mu.Unlock()
			if bt.err == nil && built != nil {
				built(exchange)
			}
			close(bt.done)
		})
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

// DropBroadcast releases the hash table built from broadcast exchange
// exchange, if any: call it once no task will probe it again (the stages
// reading the exchange have finished), so that a finished join's table
// does not stay alive until Close.
func (e *Env) DropBroadcast(exchange int) {
	e.shared.mu.Lock()
	bt := e.shared.broadcast[exchange]
	if bt != nil {
		select {
		case <-bt.done:
			delete(e.shared.broadcast, exchange)
		default:
			bt = nil // still being built (a stage cut short): Close frees it
		}
	}
	e.shared.mu.Unlock()
	if bt != nil && bt.table != nil {
		bt.table.Release()
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

// OpenSource returns the connector source of a table from the process's
// cache.
func OpenSource(ctx context.Context, c *connectors.SourceCache, t *plan.TableSource) (connectors.Source, error) {
	src, err := c.Open(ctx, SourceKey(t))
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	return src, nil
}

// SourceKey is the cache key of a table's location.
func SourceKey(t *plan.TableSource) connectors.SourceKey {
	return connectors.SourceKey{Format: connectors.Format(t.Format), Location: t.Location, Options: t.Options}
}
