package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/spill"
)

// Local runs stage plans on in-process executor slots.
type Local struct {
	// Slots is the number of tasks that run at once (default: all cores).
	Slots int
	// SplitsPerSlot asks scans for this many splits per slot, so that fast
	// and slow tasks even out (default 4).
	SplitsPerSlot int
	// Sources caches opened tables across queries.
	Sources *connectors.SourceCache
	// WriteAttempts is how many times a failed write task runs before the
	// write fails (default 4): storage errors may be transient, and each
	// attempt writes files of its own, so a retry is always safe.
	WriteAttempts int
	// Memory is the budget the operators of a query reserve from (nil:
	// no limit).
	Memory *mempool.Pool
	// ExchangeMemory is how many bytes of exchange data a query keeps in
	// memory before tasks stream their output to files (0: a quarter of
	// Memory's limit, or DefaultExchangeMemory without a limit).
	ExchangeMemory int64
	// WorkDir is where exchange and spill files go ("": os.TempDir()).
	// Each query works in a directory of its own, removed when it ends.
	WorkDir string

	// duplicateWrites (tests) runs every write task a second time after
	// it succeeded, as a cluster may when an executor is lost after
	// finishing; the second attempt's files must not be committed.
	duplicateWrites bool
}

// NewLocal returns a local driver with slots task slots (0: all cores).
func NewLocal(slots int) *Local {
	if slots <= 0 {
		slots = runtime.GOMAXPROCS(0)
	}
	return &Local{Slots: slots, SplitsPerSlot: 4, Sources: connectors.NewSourceCache(0), WriteAttempts: 4}
}

// Execute runs every stage of sp and returns the final stage's output in
// task order. The caller owns the batches. When ctx ends before every
// stage has finished, Execute returns ctx's error and no batches: a
// cancelled or timed-out query never looks like a short result.
func (d *Local) Execute(ctx context.Context, sp *physical.StagePlan) ([]arrow.RecordBatch, error) {
	if physical.WriteOf(sp.Final()) != nil {
		return nil, errors.New("internal error: a write plan must run with ExecuteWrite")
	}
	s, err := d.run(ctx, sp)
	if err != nil {
		return nil, err
	}
	return s.result, nil
}

// run runs every stage of sp; the final stage's output is in the
// schedule's result (or written, for a write). It fails unless every
// stage finished: with the first task error, or else with parent's error
// (stages stop early, without an error of their own, once it ends).
func (d *Local) run(parent context.Context, sp *physical.StagePlan) (*schedule, error) {
	if err := parent.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	pool := d.Memory
	if pool == nil {
		pool = mempool.New(0)
	}
	dir, err := d.queryDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	spills := spill.NewManager(dir)
	defer spills.Close()
	ctx = mempool.WithPool(spill.WithManager(ctx, spills), pool)
	store, err := shuffle.NewLocalStore(dir, "exchanges", pool, d.exchangeMemory(pool))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if st := executor.StatsOf(ctx); st != nil {
		start := time.Now()
		defer func() {
			st.Wall = time.Since(start)
			st.PoolPeak = pool.Peak()
			st.SpilledBytes = spills.BytesWritten()
			st.ExchangeSpilled = store.SpilledBytes()
		}()
	}
	var exchanges shuffle.Store = store
	progress := progressOf(ctx)
	if progress != nil {
		progress.QueryStarted(len(sp.Stages))
		exchanges = countingStore{Store: store, p: progress}
	}
	env := executor.NewEnv(exchanges, d.Sources)
	defer env.Close()

	s := &schedule{d: d, env: env, sp: sp, progress: progress, slots: newSlotSet(d.Slots, d.Slots),
		done: make([]chan struct{}, len(sp.Stages)), cancel: cancel}
	consumers := make([]int, len(sp.Stages))
	for i, st := range sp.Stages {
		s.done[i] = make(chan struct{})
		for _, in := range st.Inputs {
			consumers[in]++
		}
	}
	s.consumers = consumers
	// A broadcast join's table copies its exchange's data: once built, the
	// exchange goes, unless something else reads it (a reused exchange).
	// Only a failed build is built again (a local task's context is the
	// query's; a retried write task finds the table built), and the
	// exchange is dropped only after a build succeeded.
	readers := exchangeReaders(sp)
	env.OnBroadcastBuilt(func(ex int) {
		if readers[ex] == 1 {
			env.Store.Drop(ex)
		}
	})
	for _, ex := range readOnce(sp, readers) {
		store.ReadOnce(ex)
	}
	var wg sync.WaitGroup
	for _, st := range sp.Stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runStage(ctx, st)
		}()
	}
	wg.Wait()
	if s.err == nil && s.finished < len(sp.Stages) {
		if s.err = parent.Err(); s.err == nil {
			s.err = fmt.Errorf("internal error: %d of %d stages finished without an error", s.finished, len(sp.Stages))
		}
	}
	if s.err != nil {
		releaseAll(s.result)
		return nil, s.err
	}
	return s, nil
}

// readOnce lists the exchanges whose partitions are each read once, so
// their batches can go as they are read (shuffle.LocalStore.ReadOnce):
// partitioned exchanges with one reader node (readers, from
// exchangeReaders), unless that reader is a write stage, whose failed
// tasks run again (WriteAttempts) and read their partition again.
func readOnce(sp *physical.StagePlan, readers map[int]int) []int {
	var out []int
	for _, st := range sp.Stages {
		if physical.WriteOf(st) != nil {
			continue
		}
		for _, in := range st.Inputs {
			if sp.Stages[in].Output.Kind != physical.ExchangeBroadcast && readers[in] == 1 {
				out = append(out, in)
			}
		}
	}
	return out
}

// exchangeReaders counts, per exchange, the plan nodes that read it.
func exchangeReaders(sp *physical.StagePlan) map[int]int {
	n := map[int]int{}
	var walk func(x physical.Node)
	walk = func(x physical.Node) {
		if ex, ok := x.(*physical.Exchange); ok {
			n[ex.ID]++ // its input is another stage's
			return
		}
		for _, c := range x.Children() {
			walk(c)
		}
	}
	for _, st := range sp.Stages {
		walk(st.Root)
	}
	return n
}

// DefaultExchangeMemory is the exchange data a query without a memory
// limit keeps in memory before it streams to files.
const DefaultExchangeMemory = 512 << 20

func (d *Local) exchangeMemory(pool *mempool.Pool) int64 {
	switch {
	case d.ExchangeMemory > 0:
		return d.ExchangeMemory
	case pool.Unlimited():
		return DefaultExchangeMemory
	}
	return pool.Limit() / 4
}

// queryDir makes the work directory of one query.
func (d *Local) queryDir() (string, error) {
	parent := d.WorkDir
	if parent == "" {
		parent = os.TempDir()
	} else if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("work dir: %w", err)
	}
	dir, err := os.MkdirTemp(parent, "flint-query-")
	if err != nil {
		return "", fmt.Errorf("work dir: %w", err)
	}
	return dir, nil
}

type schedule struct {
	d   *Local
	env *executor.Env
	sp  *physical.StagePlan
	// slots are the core slots, one task each, and as many remote slots:
	// tasks that scan remote storage (S3) take either, as they spend much
	// of their time waiting for ranged GETs, and a second task per core
	// keeps the core busy decoding meanwhile. Later stages go first
	// (slotSet).
	slots  *slotSet
	done   []chan struct{}
	cancel context.CancelFunc
	// progress receives the stage and task events (nil: nobody asked).
	progress Progress

	mu        sync.Mutex
	err       error
	finished  int // stages that ran to the end
	result    []arrow.RecordBatch
	consumers []int
	// written holds, per task of a write stage, the files of its
	// committed attempt.
	written [][]connectors.WrittenFile
}

func (s *schedule) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cancel()
}

func (s *schedule) runStage(ctx context.Context, st *physical.Stage) {
	defer close(s.done[st.ID])
	for _, in := range st.Inputs {
		select {
		case <-s.done[in]:
		case <-ctx.Done():
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	tasks, err := s.tasks(ctx, st)
	if err != nil {
		if ctx.Err() == nil {
			s.fail(err)
		}
		return
	}
	if s.progress != nil {
		s.progress.StageStarted(st.ID, len(tasks))
	}
	results := make([][]arrow.RecordBatch, len(tasks))
	write := physical.WriteOf(st) != nil
	written := make([][]connectors.WrittenFile, len(tasks))
	var wg sync.WaitGroup
	// abort waits for the tasks already started and drops what they
	// produced: the stage is cancelled while others wait for a slot.
	abort := func() {
		wg.Wait()
		for _, r := range results {
			releaseAll(r)
		}
	}
	remote := st.Scan != nil && !isLocalLocation(st.Scan.Source.Location)
	for i, t := range tasks {
		kinds := []int{coreSlot}
		if remote {
			kinds = append(kinds, remoteSlot) // whichever frees first
		}
		kind, err := s.slots.acquire(ctx, st.ID, kinds...)
		if err != nil {
			abort()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts := &taskSlot{slots: s.slots, kind: kind, prio: st.ID, held: true}
			defer ts.Release()
			ctx := executor.WithSlotYielder(ctx, ts)
			if write {
				files, err := s.runWrite(ctx, t)
				if err != nil {
					if ctx.Err() == nil {
						s.fail(err)
					}
					return
				}
				written[i] = files
				if s.progress != nil {
					var rows, bytes int64
					for _, f := range files {
						rows, bytes = rows+f.Rows, bytes+f.Bytes
					}
					s.progress.TaskDone(st.ID, rows, bytes)
				}
				return
			}
			out, err := executor.Run(ctx, s.env, t)
			if err != nil {
				if ctx.Err() == nil {
					s.fail(err)
				}
				return
			}
			results[i] = out
			if s.progress != nil && st.Output == nil {
				rows, bytes := batchTotals(out)
				s.progress.TaskDone(st.ID, rows, bytes)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		for _, r := range results {
			releaseAll(r)
		}
		return
	}
	if write {
		s.mu.Lock()
		s.written = written
		s.mu.Unlock()
	} else if st.Output == nil {
		s.mu.Lock()
		for _, r := range results {
			s.result = append(s.result, r...)
		}
		s.mu.Unlock()
	}
	// Drop inputs nobody else will read.
	s.mu.Lock()
	s.finished++
	var drop []int
	for _, in := range st.Inputs {
		s.consumers[in]--
		if s.consumers[in] == 0 {
			drop = append(drop, in)
		}
	}
	s.mu.Unlock()
	for _, in := range drop {
		s.env.Store.Drop(in)
		s.env.DropBroadcast(in)
	}
	if s.progress != nil {
		s.progress.StageDone(st.ID)
	}
}

// tasks lists the tasks of a stage: one per scan split, or one per
// partition of its exchange inputs.
func (s *schedule) tasks(ctx context.Context, st *physical.Stage) ([]physical.Task, error) {
	if st.Scan == nil {
		tasks := make([]physical.Task, st.Tasks)
		for i := range tasks {
			tasks[i] = physical.Task{Stage: st, Index: i}
		}
		return tasks, nil
	}
	src, err := executor.OpenSource(ctx, s.env.Sources, st.Scan.Source)
	if err != nil {
		return nil, err
	}
	splits, err := src.Splits(ctx, st.Scan.Prune, s.d.Slots*s.d.SplitsPerSlot)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", st.Scan.Source.Name, err)
	}
	if len(splits) == 0 {
		// Still run one task: stages above may need to produce a row
		// (a global aggregate over nothing).
		return []physical.Task{{Stage: st}}, nil
	}
	tasks := make([]physical.Task, len(splits))
	for i, sp := range splits {
		tasks[i] = physical.Task{Stage: st, Index: i, Splits: []connectors.Split{sp}}
	}
	return tasks, nil
}

func releaseAll(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

// isLocalLocation reports whether a table location is on the local file
// system (no scheme, or file://).
func isLocalLocation(loc string) bool {
	fsys, err := fs.For(loc)
	return err != nil || fs.IsLocal(fsys)
}

// taskSlot is a running task's hold on a slot of kind kind; the task
// gives it up while it waits on another task's broadcast build
// (executor.SlotYielder), and waits for it again with its stage's
// priority.
type taskSlot struct {
	slots *slotSet
	kind  int
	prio  int
	held  bool
}

// Release gives the slot up if the task holds it.
func (t *taskSlot) Release() {
	if t.held {
		t.slots.release(t.kind)
		t.held = false
	}
}

// Acquire takes a slot of the same kind again.
func (t *taskSlot) Acquire(ctx context.Context) error {
	if t.held {
		return nil
	}
	if _, err := t.slots.acquire(ctx, t.prio, t.kind); err != nil {
		return err
	}
	t.held = true
	return nil
}
