package gbdt

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// ErrWorkerLost marks a worker's failure as the loss of the worker itself
// (its process, or the connection to it), not of the training: a trainer
// given a Recover function replaces the worker and goes on. Any other
// error from a worker ends the training.
var ErrWorkerLost = errors.New("gbdt: worker lost")

// LossSum is one shard's loss at its current margins: the sum of its
// rows' weighted losses and the sum of their weights.
type LossSum struct{ Sum, Weight float64 }

// Worker holds some of a training's shards, in this process
// (LocalWorker) or in another (RemoteWorker, answered by ServeWorker), and
// answers the trainer's requests from their rows. Only split decisions,
// histograms, trees and loss sums pass between the two, so a worker can
// sit on an executor next to the rows it binned.
//
// Requests name their training: a worker takes part in several trainings
// at once (hyperparameter trials over the same shards), each with its own
// margins and gradients. The requests of one training come one at a time.
type Worker interface {
	// Begin starts a training on the worker's shards. A worker that
	// replaces a lost one begins with the trees grown so far, and is then
	// where the others are.
	Begin(ctx context.Context, req *BeginRequest) (*BeginReply, error)
	// Gradients computes every training row's gradient pairs at the
	// current margins and returns each training shard's loss at them.
	Gradients(ctx context.Context, training uint64) ([]LossSum, error)
	// Level partitions the rows of the nodes just split and fills out[k]
	// with the histogram of node req's build[k] over the worker's rows,
	// summed over its shards in order.
	Level(ctx context.Context, req *LevelRequest, out []*Histogram) error
	// AddTree adds a grown tree's leaf values to the margins (once: a
	// tree the worker already has is skipped) and, when asked, returns
	// each eval shard's loss after it.
	AddTree(ctx context.Context, req *TreeRequest) ([]LossSum, error)
	// Loss returns each training shard's loss at the current margins.
	Loss(ctx context.Context, training uint64) ([]LossSum, error)
	// End drops the training's state.
	End(ctx context.Context, training uint64) error
}

// BeginRequest starts a training on a worker.
type BeginRequest struct {
	Training uint64
	Params   Params
	// Cuts are the training's cuts: the worker's shards must be binned
	// with them.
	Cuts *Cuts
	// FirstShard is the index of the worker's first training shard among
	// all the training's shards (row sampling draws per shard index).
	FirstShard int
	// CatchUp begins a worker that replaces a lost one: Trees are the
	// trees grown so far; their first RoundStart are the rounds before
	// the current one, at whose margins the worker computes the current
	// round's gradients before it adds the rest.
	CatchUp    bool
	Trees      []Tree
	RoundStart int
}

// BeginReply counts what a worker holds.
type BeginReply struct {
	Shards, EvalShards  int
	TrainRows, EvalRows int
}

// LevelRequest is one level of a tree: the splits just decided, and the
// nodes whose histograms to build.
type LevelRequest struct {
	Training uint64
	// Start, on a tree's first level, selects the gradients of its group,
	// draws its rows (subsample) and puts them all in the root.
	Start  *TreeStart
	splits []split
	build  []int32
}

// TreeStart names the tree a level request starts.
type TreeStart struct{ Group, Round int }

// TreeRequest hands a grown tree to the workers.
type TreeRequest struct {
	Training uint64
	Seq      int // the tree's index in the booster
	Tree     *Tree
	EvalLoss bool
}

// LocalWorker is a Worker over shards in this process.
type LocalWorker struct {
	shards  []*Shard
	evals   []*EvalShard
	threads int

	mu        sync.Mutex
	trainings map[uint64]*localTraining
}

// localTraining is one training's state on a LocalWorker.
type localTraining struct {
	p      Params
	obj    objective
	layout []int32
	nf     int
	st     []*shardState
	ev     []*evalState
	chunks [][2]int // feature ranges a lane's histogram work is split into
	trees  int      // trees added to the margins
	// bufs are the lanes' histograms (per lane, per node).
	bufs [][]*Histogram
}

// NewLocalWorker returns a worker over training shards (all binned with
// the same cuts) and eval shards, using up to threads goroutines (0:
// GOMAXPROCS).
func NewLocalWorker(shards []*Shard, evals []*EvalShard, threads int) (*LocalWorker, error) {
	seen := map[*Shard]int{}
	for i, s := range shards {
		if s == nil {
			return nil, fmt.Errorf("gbdt: training shard %d is nil", i)
		}
		if j, ok := seen[s]; ok {
			return nil, fmt.Errorf("gbdt: training shards %d and %d are the same shard", j, i)
		}
		seen[s] = i
		if !s.cuts.sameAs(shards[0].cuts) {
			return nil, fmt.Errorf("gbdt: training shard %d is binned with other cuts than shard 0", i)
		}
	}
	seenEval := map[*EvalShard]int{}
	for i, e := range evals {
		if e == nil {
			return nil, fmt.Errorf("gbdt: eval shard %d is nil", i)
		}
		if j, ok := seenEval[e]; ok {
			return nil, fmt.Errorf("gbdt: eval shards %d and %d are the same shard", j, i)
		}
		seenEval[e] = i
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &LocalWorker{shards: shards, evals: evals, threads: threads, trainings: map[uint64]*localTraining{}}, nil
}

func (w *LocalWorker) training(id uint64) (*localTraining, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	lt := w.trainings[id]
	if lt == nil {
		return nil, fmt.Errorf("gbdt: no training %d on this worker", id)
	}
	return lt, nil
}

func (w *LocalWorker) parallel(n int, fn func(i int)) { parallel(w.threads, n, fn) }

// Begin implements Worker.
func (w *LocalWorker) Begin(ctx context.Context, req *BeginRequest) (*BeginReply, error) {
	if err := req.Params.Validate(); err != nil {
		return nil, err
	}
	if req.Cuts == nil {
		return nil, errors.New("gbdt: a training needs its cuts")
	}
	nf := req.Cuts.NumFeatures()
	for i, s := range w.shards {
		if !s.cuts.sameAs(req.Cuts) {
			return nil, fmt.Errorf("gbdt: training shard %d is binned with other cuts than the training's", req.FirstShard+i)
		}
	}
	obj := newObjective(&req.Params)
	reply := &BeginReply{Shards: len(w.shards), EvalShards: len(w.evals)}
	for i, s := range w.shards {
		for r, y := range s.label {
			if err := obj.checkLabel(y, req.Params.ClassWeights != nil); err != nil {
				return nil, fmt.Errorf("gbdt: training shard %d, row %d: %w", req.FirstShard+i, r, err)
			}
		}
		reply.TrainRows += s.n
	}
	for i, e := range w.evals {
		if len(e.cols) != nf {
			return nil, fmt.Errorf("gbdt: eval shard %d has %d features, the training data %d", i, len(e.cols), nf)
		}
		for r, y := range e.label {
			if err := obj.checkLabel(y, req.Params.ClassWeights != nil); err != nil {
				return nil, fmt.Errorf("gbdt: eval shard %d, row %d: %w", i, r, err)
			}
		}
		reply.EvalRows += e.n
	}
	if req.RoundStart < 0 || req.RoundStart > len(req.Trees) {
		return nil, fmt.Errorf("gbdt: round start %d of %d trees", req.RoundStart, len(req.Trees))
	}
	var classWeights []float32
	if req.Params.ClassWeights != nil {
		classWeights = make([]float32, len(req.Params.ClassWeights))
		for k, cw := range req.Params.ClassWeights {
			classWeights[k] = float32(cw)
		}
	}
	lt := &localTraining{p: req.Params, obj: obj, layout: newLayout(req.Cuts), nf: nf,
		st: make([]*shardState, len(w.shards)), ev: make([]*evalState, len(w.evals))}
	base := obj.baseMargin(float32(req.Params.BaseScore))
	w.parallel(len(w.shards), func(i int) {
		lt.st[i] = w.shards[i].begin(req.FirstShard+i, obj.groups, base, classWeights)
	})
	w.parallel(len(w.evals), func(i int) { lt.ev[i] = w.evals[i].begin(obj.groups, base, classWeights) })
	if lanes := lanesOf(len(w.shards)); lanes > 0 {
		nchunks := min(nf, max(1, (w.threads+lanes-1)/lanes))
		for c := 0; c < nchunks; c++ {
			lt.chunks = append(lt.chunks, [2]int{c * nf / nchunks, (c + 1) * nf / nchunks})
		}
	}
	// A late joiner: the rounds before the current one, their gradients,
	// then the current round's trees.
	replay := func(trees []Tree) {
		for k := range trees {
			t := &trees[k]
			w.parallel(len(w.shards), func(i int) { w.shards[i].replay(lt.st[i], t) })
			w.parallel(len(w.evals), func(i int) { w.evals[i].addTree(lt.ev[i], t, obj.groups) })
		}
	}
	if req.CatchUp {
		replay(req.Trees[:req.RoundStart])
		w.parallel(len(w.shards), func(i int) { w.shards[i].gradients(lt.st[i], obj) })
		replay(req.Trees[req.RoundStart:])
		lt.trees = len(req.Trees)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.trainings[req.Training] != nil {
		return nil, fmt.Errorf("gbdt: training %d has already begun on this worker", req.Training)
	}
	w.trainings[req.Training] = lt
	return reply, nil
}

// Gradients implements Worker.
func (w *LocalWorker) Gradients(_ context.Context, training uint64) ([]LossSum, error) {
	lt, err := w.training(training)
	if err != nil {
		return nil, err
	}
	sums := make([]LossSum, len(w.shards))
	w.parallel(len(w.shards), func(i int) {
		s, wt := w.shards[i].gradients(lt.st[i], lt.obj)
		sums[i] = LossSum{s, wt}
	})
	return sums, nil
}

// Level implements Worker.
func (w *LocalWorker) Level(_ context.Context, req *LevelRequest, out []*Histogram) error {
	lt, err := w.training(req.Training)
	if err != nil {
		return err
	}
	if len(out) != len(req.build) {
		return fmt.Errorf("gbdt: %d histograms for %d nodes", len(out), len(req.build))
	}
	if err := req.check(lt); err != nil {
		return err
	}
	if s := req.Start; s != nil {
		w.parallel(len(w.shards), func(i int) {
			w.shards[i].startTree(lt.st[i], s.Group, s.Round, lt.p.Seed, lt.p.Subsample)
		})
	}
	build := req.build
	w.parallel(len(w.shards), func(i int) { w.shards[i].applySplits(lt.st[i], req.splits) })
	if len(build) == 0 {
		return nil
	}
	// The shards are split into lanes of consecutive shards: a lane adds
	// its shards' rows, shard after shard, into histograms of its own,
	// and out[k] is the lanes' sums added in lane order. A lane's sums
	// do not depend on which goroutine runs it, nor the lanes on the
	// number of threads, so the model does not either; and a level zeroes
	// and merges a histogram a lane and node, not one a shard and node.
	nc := len(lt.chunks)
	nslots := int(lt.layout[len(lt.layout)-1])
	lanes := lanesOf(len(w.shards))
	if lanes == 0 {
		for _, h := range out {
			h.Reset()
		}
		return nil
	}
	for len(lt.bufs) < lanes {
		lt.bufs = append(lt.bufs, nil)
	}
	parts := make([][]*Histogram, lanes)
	for l := range parts {
		parts[l] = zeroed(&lt.bufs[l], lt.layout, len(build))
	}
	w.parallel(lanes*nc, func(t int) {
		l, c := t/nc, lt.chunks[t%nc]
		for j := l * len(w.shards) / lanes; j < (l+1)*len(w.shards)/lanes; j++ {
			w.shards[j].buildHistograms(lt.st[j], build, parts[l], c[0], c[1])
		}
	})
	w.parallel(len(build), func(k int) {
		hs := make([]*Histogram, lanes)
		for l := range parts {
			hs[l] = parts[l][k]
		}
		mergeInto(out[k], hs, 0, nslots)
	})
	return nil
}

// histLanes is the most lanes a worker's shards are split into for
// building histograms (Level): enough for the threads of a machine to
// share, few enough that zeroing and merging the lanes' histograms stays
// small beside building them.
const histLanes = 8

// lanesOf is the number of lanes of n shards.
func lanesOf(n int) int { return min(n, histLanes) }

// check validates a level request against the training (a remote one
// arrives from the wire).
func (req *LevelRequest) check(lt *localTraining) error {
	for _, sp := range req.splits {
		if sp.feature < 0 || int(sp.feature) >= lt.nf || sp.node < 0 || sp.left <= sp.node || sp.right <= sp.node {
			return fmt.Errorf("gbdt: bad split %+v", sp)
		}
	}
	return nil
}

// AddTree implements Worker.
func (w *LocalWorker) AddTree(_ context.Context, req *TreeRequest) ([]LossSum, error) {
	lt, err := w.training(req.Training)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Seq == lt.trees:
		t := req.Tree
		w.parallel(len(w.shards), func(i int) { w.shards[i].addLeaves(lt.st[i], t) })
		w.parallel(len(w.evals), func(i int) { w.evals[i].addTree(lt.ev[i], t, lt.obj.groups) })
		lt.trees++
	case req.Seq > lt.trees:
		return nil, fmt.Errorf("gbdt: tree %d before tree %d", req.Seq, lt.trees)
	}
	if !req.EvalLoss {
		return nil, nil
	}
	sums := make([]LossSum, len(w.evals))
	w.parallel(len(w.evals), func(i int) {
		s, wt := w.evals[i].loss(lt.ev[i], lt.obj)
		sums[i] = LossSum{s, wt}
	})
	return sums, nil
}

// Loss implements Worker.
func (w *LocalWorker) Loss(_ context.Context, training uint64) ([]LossSum, error) {
	lt, err := w.training(training)
	if err != nil {
		return nil, err
	}
	sums := make([]LossSum, len(w.shards))
	w.parallel(len(w.shards), func(i int) {
		s, wt := w.shards[i].loss(lt.st[i], lt.obj)
		sums[i] = LossSum{s, wt}
	})
	return sums, nil
}

// End implements Worker.
func (w *LocalWorker) End(_ context.Context, training uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.trainings, training)
	return nil
}

// Trainings is the number of trainings under way on the worker.
func (w *LocalWorker) Trainings() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.trainings)
}
