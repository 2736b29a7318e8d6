package gbdt

import (
	"context"
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

// trainer grows the trees of one training. It sees the shards only
// through their requests (startTree, applySplits, buildHistograms,
// addLeaves, loss), each answered from a shard's own rows; histograms
// are merged here in shard order.
type trainer struct {
	p      Params
	tp     treeParams
	obj    objective
	ev     evaluator
	cuts   *Cuts
	layout []int32
	shards []*Shard
	evals  []*EvalShard
	nf     int

	threads int
	chunks  [][2]int     // feature ranges a shard's histogram work is split into
	pool    []*Histogram // merged histograms free for reuse
}

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
	seen := map[*Shard]int{}
	for i, s := range train {
		if s == nil {
			return nil, nil, fmt.Errorf("gbdt: training shard %d is nil", i)
		}
		if j, ok := seen[s]; ok {
			return nil, nil, fmt.Errorf("gbdt: training shards %d and %d are the same shard", j, i)
		}
		seen[s] = i
	}
	cuts := train[0].cuts
	obj := newObjective(&p)
	rows := 0
	for i, s := range train {
		if !s.cuts.sameAs(cuts) {
			return nil, nil, fmt.Errorf("gbdt: training shard %d is binned with other cuts than shard 0", i)
		}
		if s.st != nil {
			return nil, nil, fmt.Errorf("gbdt: training shard %d is already in use by another training", i)
		}
		for r, y := range s.label {
			if err := obj.checkLabel(y, p.ClassWeights != nil); err != nil {
				return nil, nil, fmt.Errorf("gbdt: training shard %d, row %d: %w", i, r, err)
			}
		}
		rows += s.n
	}
	if rows == 0 {
		return nil, nil, fmt.Errorf("gbdt: no training rows")
	}
	evalRows := 0
	seenEval := map[*EvalShard]int{}
	for i, e := range eval {
		if e == nil {
			return nil, nil, fmt.Errorf("gbdt: eval shard %d is nil", i)
		}
		if j, ok := seenEval[e]; ok {
			return nil, nil, fmt.Errorf("gbdt: eval shards %d and %d are the same shard", j, i)
		}
		seenEval[e] = i
		if len(e.cols) != cuts.NumFeatures() {
			return nil, nil, fmt.Errorf("gbdt: eval shard %d has %d features, the training data %d", i, len(e.cols), cuts.NumFeatures())
		}
		if e.margin != nil {
			return nil, nil, fmt.Errorf("gbdt: eval shard %d is already in use by another training", i)
		}
		for r, y := range e.label {
			if err := obj.checkLabel(y, p.ClassWeights != nil); err != nil {
				return nil, nil, fmt.Errorf("gbdt: eval shard %d, row %d: %w", i, r, err)
			}
		}
		evalRows += e.n
	}
	if p.EarlyStoppingRounds > 0 && evalRows == 0 {
		return nil, nil, fmt.Errorf("gbdt: early_stopping_rounds = %d needs an eval set with rows", p.EarlyStoppingRounds)
	}

	t := &trainer{
		p: p, tp: p.tree(), obj: obj, cuts: cuts, layout: newLayout(cuts),
		shards: train, evals: eval, nf: cuts.NumFeatures(),
		threads: p.Threads,
	}
	if t.threads == 0 {
		t.threads = runtime.GOMAXPROCS(0)
	}
	t.ev = evaluator{tp: t.tp, cuts: cuts}
	nchunks := min(t.nf, max(1, (t.threads+len(train)-1)/len(train)))
	for c := 0; c < nchunks; c++ {
		t.chunks = append(t.chunks, [2]int{c * t.nf / nchunks, (c + 1) * t.nf / nchunks})
	}

	var classWeights []float32
	if p.ClassWeights != nil {
		classWeights = make([]float32, len(p.ClassWeights))
		for k, w := range p.ClassWeights {
			classWeights[k] = float32(w)
		}
	}
	b := &Booster{
		obj: obj, numFeature: t.nf, baseScore: float32(p.BaseScore),
		bestIteration: -1,
	}
	b.baseMargin = obj.baseMargin(b.baseScore)
	groups := obj.groups
	for i, s := range train {
		s.begin(i, groups, b.baseMargin, classWeights)
	}
	for _, e := range eval {
		e.begin(groups, b.baseMargin, classWeights)
	}
	defer func() {
		for _, s := range train {
			s.end()
		}
		for _, e := range eval {
			e.end()
		}
	}()

	info := &TrainInfo{Metric: obj.metric(), BestIteration: -1}
	start := time.Now()
	bestLoss := math.Inf(1)
	for round := 0; round < p.Rounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		roundStart := time.Now()
		sums := make([][2]float64, len(train))
		t.parallel(len(train), func(i int) {
			s, w := train[i].gradients(obj)
			sums[i] = [2]float64{s, w}
		})
		if round > 0 {
			// The gradients' pass measured the loss after the last round.
			info.Rounds[round-1].TrainLoss = t.sum(sums)
			if evalRows == 0 && round > 1 && p.MinRelProgress > 0 &&
				tooLittle(info.Rounds[round-2].TrainLoss, info.Rounds[round-1].TrainLoss, p.MinRelProgress) {
				info.EarlyStopped = true
				break
			}
		}
		for g := 0; g < groups; g++ {
			tree := t.growTree(round, g)
			b.trees = append(b.trees, *tree)
			t.parallel(len(train), func(i int) { train[i].addLeaves(tree) })
			t.parallel(len(eval), func(i int) { eval[i].addTree(tree, groups) })
		}
		ri := RoundInfo{Round: round, TrainLoss: math.NaN(), EvalLoss: math.NaN()}
		if evalRows > 0 {
			ri.EvalLoss = t.evalLoss()
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
	info.Rounds[len(info.Rounds)-1].TrainLoss = t.loss()
	if p.EarlyStoppingRounds > 0 {
		best := max(info.BestIteration, 0)
		b.trees = b.trees[:(best+1)*groups]
		b.bestIteration = best
	}
	info.Elapsed = time.Since(start)
	return b, info, nil
}

// tooLittle reports a loss that improved from prev to cur by less than
// minRel of prev (or got worse).
func tooLittle(prev, cur, minRel float64) bool {
	return !(prev-cur >= minRel*math.Abs(prev))
}

// parallel runs fn(0) … fn(n-1) on up to t.threads goroutines.
func (t *trainer) parallel(n int, fn func(i int)) {
	workers := min(n, t.threads)
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

// loss is the training metric over all shards, summed in shard order.
func (t *trainer) loss() float64 {
	sums := make([][2]float64, len(t.shards))
	t.parallel(len(t.shards), func(i int) {
		s, w := t.shards[i].loss(t.obj)
		sums[i] = [2]float64{s, w}
	})
	return t.sum(sums)
}

// sum adds per-shard loss sums in shard order into the metric's value.
func (t *trainer) sum(sums [][2]float64) float64 {
	var s, w float64
	for _, x := range sums {
		s, w = s+x[0], w+x[1]
	}
	return t.obj.finish(s, w)
}

func (t *trainer) evalLoss() float64 {
	sums := make([][2]float64, len(t.evals))
	t.parallel(len(t.evals), func(i int) {
		s, w := t.evals[i].loss(t.obj)
		sums[i] = [2]float64{s, w}
	})
	return t.sum(sums)
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

// level sends one level's requests to the shards: partition the rows of
// the nodes just split, then build the histograms of the nodes in build.
// It returns those histograms summed over the shards.
func (t *trainer) level(splits []split, build []int32) []*Histogram {
	outs := make([][]*Histogram, len(t.shards))
	nc := len(t.chunks)
	t.parallel(len(t.shards), func(i int) {
		s := t.shards[i]
		s.applySplits(splits)
		if len(build) > 0 {
			outs[i] = s.prepareHistograms(t.layout, len(build))
			if nc == 1 { // one task per shard: build right away
				s.buildHistograms(build, outs[i], 0, t.nf)
			}
		}
	})
	if len(build) == 0 {
		return nil
	}
	if nc > 1 {
		t.parallel(len(t.shards)*nc, func(k int) {
			c := t.chunks[k%nc]
			t.shards[k/nc].buildHistograms(build, outs[k/nc], c[0], c[1])
		})
	}
	merged := make([]*Histogram, len(build))
	for k := range merged {
		merged[k] = t.getHist()
	}
	nslots := int(t.layout[len(t.layout)-1])
	t.parallel(len(build), func(k int) {
		parts := make([]*Histogram, len(t.shards))
		for i := range parts {
			parts[i] = outs[i][k]
		}
		mergeInto(merged[k], parts, 0, nslots)
	})
	return merged
}

// growTree grows the tree of group g in round r depthwise, as XGBoost's
// QuantileHistMaker: the root's histogram, then level by level the
// nodes whose best split is valid are split, in node order, their
// children numbered in that order; the histogram of the child with the
// smaller hessian sum is built from the shards and its sibling's is the
// parent's minus it.
func (t *trainer) growTree(round, group int) *Tree {
	t.parallel(len(t.shards), func(i int) {
		t.shards[i].startTree(group, round, t.p.Seed, t.p.Subsample)
	})
	features := t.features(round, group)
	tree := &Tree{Group: group}
	ev := &t.ev

	rootHist := t.level(nil, []int32{0})[0]
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
		built := t.level(splits, build)

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
	return tree
}
