package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// TrainInfo reports how a training went.
type TrainInfo struct {
	// Metric names the loss of TrainLoss and EvalLoss: XGBoost's default
	// metric of the objective (rmse, logloss or mlogloss), weighted.
	Metric string
	Rounds []RoundInfo
	// BestIteration is the round with the lowest eval loss (the first on
	// a tie), -1 without an eval set.
	BestIteration int
	// EarlyStopped reports that early stopping ended the training; the
	// booster then keeps rounds 0 to BestIteration.
	EarlyStopped bool
	Elapsed      time.Duration
}

// RoundInfo is one boosting round.
type RoundInfo struct {
	Round     int
	TrainLoss float64
	EvalLoss  float64 // NaN without an eval set
	Elapsed   time.Duration
}

// trainer grows the trees of one training. It sees the rows only through
// its workers' answers (gradients' loss sums, histograms, eval losses),
// merged here in worker order.
type trainer struct {
	p      Params
	tp     treeParams
	obj    objective
	ev     evaluator
	cuts   *Cuts
	layout []int32
	nf     int
	id     uint64

	workers  []Worker
	first    []int  // each worker's first shard index
	begun    []bool // each worker has begun the training
	recover  Recover
	replaced int // workers replaced so far

	trees      []Tree // the booster's trees so far
	roundStart int    // the first tree of the current round

	threads int
	pool    []*Histogram // histograms free for reuse
}

// Recover replaces worker i of a training, lost with err (an
// ErrWorkerLost): it returns a worker holding the same shards, rebuilt.
// The trainer begins the replacement with the trees grown so far and
// repeats the step that failed, so the training goes on from where it
// was.
type Recover func(ctx context.Context, i int, err error) (Worker, error)

// maxReplacements bounds the workers a training replaces, per worker.
const maxReplacements = 3

// trainingIDs numbers trainings; workers tell them apart by it.
var trainingIDs atomic.Uint64

func init() { trainingIDs.Store(uint64(time.Now().UnixNano()) << 8) }

// Train trains a booster on the training shards (all binned with the same
// cuts), reporting the loss per round on them and on the eval shards. It
// is deterministic: the same parameters, seed and shards (in the same
// order, with the same rows) give the same booster, bit for bit, whatever
// the number of threads. ctx cancels between rounds.
func Train(ctx context.Context, p Params, train []*Shard, eval []*EvalShard) (*Booster, *TrainInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if len(train) == 0 {
		return nil, nil, fmt.Errorf("gbdt: no training rows")
	}
	w, err := NewLocalWorker(train, eval, p.Threads)
	if err != nil {
		return nil, nil, err
	}
	if train[0] == nil {
		return nil, nil, fmt.Errorf("gbdt: training shard 0 is nil")
	}
	return TrainWorkers(ctx, p, train[0].cuts, []Worker{w}, nil)
}

// TrainWorkers trains a booster on the shards of workers, binned with
// cuts: the histograms of each level are the workers' summed in worker
// order, so the booster depends on the shards and their placement, not on
// timing. A worker lost (ErrWorkerLost) is replaced through recover, when
// given, and the training goes on from the step it failed in.
func TrainWorkers(ctx context.Context, p Params, cuts *Cuts, workers []Worker, recover Recover) (*Booster, *TrainInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if len(workers) == 0 || cuts == nil {
		return nil, nil, fmt.Errorf("gbdt: no training rows")
	}
	obj := newObjective(&p)
	t := &trainer{
		p: p, tp: p.tree(), obj: obj, cuts: cuts, layout: newLayout(cuts), nf: cuts.NumFeatures(),
		id: trainingIDs.Add(1), workers: slices.Clone(workers), first: make([]int, len(workers)),
		begun:   make([]bool, len(workers)),
		recover: recover, threads: p.Threads,
	}
	if t.threads == 0 {
		t.threads = runtime.GOMAXPROCS(0)
	}
	t.ev = evaluator{tp: t.tp, cuts: cuts}
	b := &Booster{
		obj: obj, numFeature: t.nf, baseScore: float32(p.BaseScore),
		bestIteration: -1,
	}
	b.baseMargin = obj.baseMargin(b.baseScore)

	// Begin on every worker, in order: each one's shards follow the
	// previous one's.
	rows, evalRows, shards := 0, 0, 0
	defer func() {
		for _, w := range t.workers {
			_ = w.End(context.WithoutCancel(ctx), t.id)
		}
	}()
	for i := range t.workers {
		t.first[i] = shards
		var reply *BeginReply
		err := t.retry(ctx, func() error {
			var err error
			reply, err = t.workers[i].Begin(ctx, t.beginRequest(i))
			return t.lost(ctx, map[int]error{i: err})
		})
		if err != nil {
			return nil, nil, err
		}
		t.begun[i] = true
		shards += reply.Shards
		rows += reply.TrainRows
		evalRows += reply.EvalRows
	}
	if rows == 0 {
		return nil, nil, fmt.Errorf("gbdt: no training rows")
	}
	if p.EarlyStoppingRounds > 0 && evalRows == 0 {
		return nil, nil, fmt.Errorf("gbdt: early_stopping_rounds = %d needs an eval set with rows", p.EarlyStoppingRounds)
	}

	groups := obj.groups
	info := &TrainInfo{Metric: obj.metric(), BestIteration: -1}
	start := time.Now()
	bestLoss := math.Inf(1)
	for round := 0; round < p.Rounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		roundStart := time.Now()
		t.roundStart = len(t.trees)
		sums, err := t.gather(ctx, func(w Worker) ([]LossSum, error) { return w.Gradients(ctx, t.id) })
		if err != nil {
			return nil, nil, err
		}
		if round > 0 {
			// The gradients' pass measured the loss after the last round.
			info.Rounds[round-1].TrainLoss = t.sum(sums)
			if evalRows == 0 && round > 1 && p.MinRelProgress > 0 &&
				tooLittle(info.Rounds[round-2].TrainLoss, info.Rounds[round-1].TrainLoss, p.MinRelProgress) {
				info.EarlyStopped = true
				break
			}
		}
		var evalSums []LossSum
		for g := 0; g < groups; g++ {
			var tree *Tree
			if err := t.retry(ctx, func() error {
				var err error
				tree, err = t.growTree(ctx, round, g)
				return err
			}); err != nil {
				return nil, nil, err
			}
			t.trees = append(t.trees, *tree)
			b.trees = t.trees
			req := &TreeRequest{Training: t.id, Seq: len(t.trees) - 1, Tree: tree, EvalLoss: g == groups-1 && evalRows > 0}
			evalSums, err = t.gather(ctx, func(w Worker) ([]LossSum, error) { return w.AddTree(ctx, req) })
			if err != nil {
				return nil, nil, err
			}
		}
		ri := RoundInfo{Round: round, TrainLoss: math.NaN(), EvalLoss: math.NaN()}
		if evalRows > 0 {
			ri.EvalLoss = t.sum(evalSums)
			if ri.EvalLoss < bestLoss {
				bestLoss, info.BestIteration = ri.EvalLoss, round
			}
		}
		ri.Elapsed = time.Since(roundStart)
		info.Rounds = append(info.Rounds, ri)
		if evalRows > 0 && round > 0 && p.MinRelProgress > 0 &&
			tooLittle(info.Rounds[round-1].EvalLoss, ri.EvalLoss, p.MinRelProgress) {
			info.EarlyStopped = round < p.Rounds-1
			break
		}
		if p.EarlyStoppingRounds > 0 && round-max(info.BestIteration, 0) >= p.EarlyStoppingRounds {
			info.EarlyStopped = round < p.Rounds-1
			break
		}
	}
	t.roundStart = len(t.trees)
	sums, err := t.gather(ctx, func(w Worker) ([]LossSum, error) { return w.Loss(ctx, t.id) })
	if err != nil {
		return nil, nil, err
	}
	info.Rounds[len(info.Rounds)-1].TrainLoss = t.sum(sums)
	b.trees = t.trees
	if p.EarlyStoppingRounds > 0 {
		best := max(info.BestIteration, 0)
		b.trees = b.trees[:(best+1)*groups]
		b.bestIteration = best
	}
	info.Elapsed = time.Since(start)
	return b, info, nil
}

// beginRequest is worker i's Begin: the trees so far for a replacement.
func (t *trainer) beginRequest(i int) *BeginRequest {
	return &BeginRequest{Training: t.id, Params: t.p, Cuts: t.cuts, FirstShard: t.first[i],
		CatchUp: t.begun[i], Trees: t.trees, RoundStart: t.roundStart}
}

// errRetry asks retry to run its step again: a lost worker was replaced.
var errRetry = errors.New("gbdt: retry")

// retry runs step until it succeeds, fails for good, or ctx ends.
func (t *trainer) retry(ctx context.Context, step func() error) error {
	for {
		err := step()
		if err != errRetry {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// lost turns the workers' errors of one step into the step's: nil when
// there are none; errRetry once every lost worker is replaced (when
// recover allows); else the first error in worker order.
func (t *trainer) lost(ctx context.Context, errs map[int]error) error {
	idx := make([]int, 0, len(errs))
	for i, err := range errs {
		if err != nil {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	slices.Sort(idx)
	for _, i := range idx {
		if !errors.Is(errs[i], ErrWorkerLost) || t.recover == nil || ctx.Err() != nil {
			return errs[idx[0]]
		}
	}
	for _, i := range idx {
		if t.replaced >= maxReplacements*len(t.workers) {
			return fmt.Errorf("gbdt: gave up after replacing %d workers: %w", t.replaced, errs[i])
		}
		t.replaced++
		w, err := t.recover(ctx, i, errs[i])
		if err != nil {
			return fmt.Errorf("gbdt: replacing worker %d (%v): %w", i, errs[i], err)
		}
		if t.begun[i] { // else the step retried begins it
			if _, err := w.Begin(ctx, t.beginRequest(i)); err != nil {
				return fmt.Errorf("gbdt: beginning replacement worker %d: %w", i, err)
			}
		}
		t.workers[i] = w
	}
	return errRetry
}

// each runs fn on every worker at once and returns lost's verdict.
func (t *trainer) each(ctx context.Context, fn func(i int, w Worker) error) error {
	errs := make([]error, len(t.workers))
	if len(t.workers) == 1 {
		errs[0] = fn(0, t.workers[0])
	} else {
		var wg sync.WaitGroup
		for i, w := range t.workers {
			wg.Go(func() { errs[i] = fn(i, w) })
		}
		wg.Wait()
	}
	m := map[int]error{}
	for i, err := range errs {
		if err != nil {
			m[i] = err
		}
	}
	return t.lost(ctx, m)
}

// gather runs fn on every worker (again after a replacement) and returns
// their loss sums in worker order.
func (t *trainer) gather(ctx context.Context, fn func(w Worker) ([]LossSum, error)) ([]LossSum, error) {
	var out []LossSum
	err := t.retry(ctx, func() error {
		parts := make([][]LossSum, len(t.workers))
		if err := t.each(ctx, func(i int, w Worker) error {
			var err error
			parts[i], err = fn(w)
			return err
		}); err != nil {
			return err
		}
		out = slices.Concat(parts...)
		return nil
	})
	return out, err
}

// tooLittle reports a loss that improved from prev to cur by less than
// minRel of prev (or got worse).
func tooLittle(prev, cur, minRel float64) bool {
	return !(prev-cur >= minRel*math.Abs(prev))
}

// parallel runs fn(0) … fn(n-1) on up to threads goroutines.
func parallel(threads, n int, fn func(i int)) {
	workers := min(n, threads)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

func (t *trainer) parallel(n int, fn func(i int)) { parallel(t.threads, n, fn) }

// sum adds per-shard loss sums in shard order into the metric's value.
func (t *trainer) sum(sums []LossSum) float64 {
	var s, w float64
	for _, x := range sums {
		s, w = s+x.Sum, w+x.Weight
	}
	return t.obj.finish(s, w)
}

// features returns the features a tree may split on: all, or for
// colsample_bytree < 1 a sample of max(1, ⌊colsample·n⌋) of them (XGBoost's
// ColumnSampler), drawn from a generator seeded by seed, round and group.
func (t *trainer) features(round, group int) []int {
	all := make([]int, t.nf)
	for i := range all {
		all[i] = i
	}
	if t.p.ColsampleTree >= 1 {
		return all
	}
	n := max(1, int(float32(t.p.ColsampleTree)*float32(t.nf)))
	r := rand.New(rand.NewPCG(mix(t.p.Seed)^0x636f6c73616d706c, mix(uint64(round))^uint64(group)))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	out := all[:n]
	slices.Sort(out)
	return out
}

func (t *trainer) getHist() *Histogram {
	if n := len(t.pool); n > 0 {
		h := t.pool[n-1]
		t.pool = t.pool[:n-1]
		return h
	}
	return newHistogram(t.layout)
}

func (t *trainer) putHist(h *Histogram) { t.pool = append(t.pool, h) }

// level sends one level's request to the workers: partition the rows of
// the nodes just split (start: first put them all in the root), then
// build the histograms of the nodes in build. It returns those histograms
// summed over the workers.
func (t *trainer) level(ctx context.Context, start *TreeStart, splits []split, build []int32) ([]*Histogram, error) {
	outs := make([][]*Histogram, len(t.workers))
	for i := range outs {
		outs[i] = make([]*Histogram, len(build))
		for k := range build {
			outs[i][k] = t.getHist()
		}
	}
	req := &LevelRequest{Training: t.id, Start: start, splits: splits, build: build}
	if err := t.each(ctx, func(i int, w Worker) error { return w.Level(ctx, req, outs[i]) }); err != nil {
		for _, o := range outs {
			for _, h := range o {
				t.putHist(h)
			}
		}
		return nil, err
	}
	merged := outs[0]
	if len(outs) > 1 {
		t.parallel(len(build), func(k int) {
			for _, o := range outs[1:] {
				for s, v := range o[k].sums {
					merged[k].sums[s] += v
				}
			}
		})
		for _, o := range outs[1:] {
			for _, h := range o {
				t.putHist(h)
			}
		}
	}
	return merged, nil
}

// growTree grows the tree of group g in round r depthwise, as XGBoost's
// QuantileHistMaker: the root's histogram, then level by level the
// nodes whose best split is valid are split, in node order, their
// children numbered in that order; the histogram of the child with the
// smaller hessian sum is built from the shards and its sibling's is the
// parent's minus it.
func (t *trainer) growTree(ctx context.Context, round, group int) (*Tree, error) {
	features := t.features(round, group)
	tree := &Tree{Group: group}
	ev := &t.ev

	built, err := t.level(ctx, &TreeStart{Group: group, Round: round}, nil, []int32{0})
	if err != nil {
		return nil, err
	}
	rootHist := built[0]
	g, h := rootHist.Total()
	root := entry{nid: 0, stats: gradStats{g, h}}
	root.rootGain = ev.gain(root.stats)
	w := ev.weight(root.stats)
	tree.Nodes = append(tree.Nodes, Node{Left: -1, Right: -1, Parent: -1, Value: t.tp.eta * w, Cover: float32(h), BaseWeight: w})
	ev.evaluate(&root, rootHist, features)

	hists := map[int32]*Histogram{0: rootHist}
	var level []entry
	if root.split.loss > kRtEps {
		level = append(level, root)
	}
	for len(level) > 0 {
		var splits []split
		var grow []entry // split nodes whose children may split in turn
		for i := range level {
			e := &level[i]
			if !e.isValid(&t.tp) {
				continue
			}
			l, r := tree.applySplit(e, &t.tp, ev)
			splits = append(splits, split{node: e.nid, left: l, right: r, feature: int32(e.split.feature), bin: e.split.bin, defaultLeft: e.split.defaultLeft})
			if e.depth+1 < t.tp.maxDepth {
				grow = append(grow, *e)
			}
		}
		if len(splits) == 0 {
			break
		}
		growing := make(map[int32]bool, len(grow))
		for _, e := range grow {
			growing[e.nid] = true
		}
		for nid, h := range hists { // histograms no split needs any more
			if !growing[nid] {
				delete(hists, nid)
				t.putHist(h)
			}
		}
		build := make([]int32, len(grow))
		for k := range grow {
			nd := &tree.Nodes[grow[k].nid]
			build[k] = nd.Left
			if grow[k].split.right.h < grow[k].split.left.h {
				build[k] = nd.Right
			}
		}
		built, err := t.level(ctx, nil, splits, build)
		if err != nil {
			return nil, err
		}

		next := make([]entry, 0, 2*len(grow))
		for k := range grow {
			e := &grow[k]
			nd := &tree.Nodes[e.nid]
			parent := hists[e.nid]
			delete(hists, e.nid)
			parent.Sub(built[k]) // now the sibling's histogram
			if build[k] == nd.Left {
				hists[nd.Left], hists[nd.Right] = built[k], parent
			} else {
				hists[nd.Left], hists[nd.Right] = parent, built[k]
			}
			next = append(next,
				entry{nid: nd.Left, depth: e.depth + 1, stats: e.split.left, rootGain: ev.gain(e.split.left)},
				entry{nid: nd.Right, depth: e.depth + 1, stats: e.split.right, rootGain: ev.gain(e.split.right)})
		}
		t.parallel(len(next), func(i int) { ev.evaluate(&next[i], hists[next[i].nid], features) })
		level = level[:0]
		for _, e := range next {
			if e.split.loss > kRtEps {
				level = append(level, e)
			}
		}
	}
	for nid, h := range hists {
		delete(hists, nid)
		t.putHist(h)
	}
	return tree, nil
}
