package gbdt

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
)

// Data is one partition's rows as a caller has them: Features[j] holds
// feature j of every row (NaN is missing), Label the labels and Weight the
// rows' weights (nil: every row weighs 1). Features32, when Features is
// nil, holds the features as float32 columns instead: the REAL columns a
// query gives, which training rounds values to anyway.
type Data struct {
	Features   [][]float64
	Features32 [][]float32
	Label      []float64
	Weight     []float64
}

// numFeatures is the number of feature columns of d.
func (d *Data) numFeatures() int {
	if d.Features == nil {
		return len(d.Features32)
	}
	return len(d.Features)
}

// columnLen is the length of feature column j.
func (d *Data) columnLen(j int) int {
	if d.Features == nil {
		return len(d.Features32[j])
	}
	return len(d.Features[j])
}

// check validates the shape and the labels and weights of d for a model
// of numFeatures features.
func (d *Data) check(numFeatures int) (n int, err error) {
	if nf := d.numFeatures(); nf != numFeatures {
		return 0, fmt.Errorf("gbdt: %d feature columns, the model has %d features", nf, numFeatures)
	}
	n = len(d.Label)
	if n > math.MaxUint32 {
		return 0, fmt.Errorf("gbdt: %d rows in one partition, at most %d", n, uint32(math.MaxUint32))
	}
	for j := range numFeatures {
		if m := d.columnLen(j); m != n {
			return 0, fmt.Errorf("gbdt: feature %d has %d rows, the labels %d", j, m, n)
		}
	}
	for i, y := range d.Label {
		if math.IsNaN(y) || math.IsInf(float64(float32(y)), 0) {
			return 0, fmt.Errorf("gbdt: row %d: label %v is missing or not a finite float32", i, y)
		}
	}
	if d.Weight != nil {
		if len(d.Weight) != n {
			return 0, fmt.Errorf("gbdt: %d weights for %d rows", len(d.Weight), n)
		}
		for i, w := range d.Weight {
			if !(w >= 0) || math.IsInf(float64(float32(w)), 0) {
				return 0, fmt.Errorf("gbdt: row %d: weight %v must be a finite number ≥ 0", i, w)
			}
		}
	}
	return n, nil
}

func toFloat32s(x []float64) []float32 {
	if x == nil {
		return nil
	}
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// Shard is one partition's training rows, binned with the cuts of all
// partitions and kept for the whole training: per feature a column of
// codes, the row's bin or, for a missing value, the feature's number of
// bins (the histogram's missing slot); then labels and weights as
// float32. Codes are uint8 when they fit (every feature has fewer than
// 256 bins, or 256 and no missing value in the shard), else uint16.
// Features of few bins are bundled: a column of joint codes stands for
// several features' columns (bundle).
//
// During training a shard also holds its rows' margins, gradients and
// their partition among the current tree's nodes: the trainer asks a
// shard for gradients, histograms, row partitions and margin updates, and
// a shard answers from its own rows only, so a shard can live in another
// process than the trainer. The training state lives beside the shard
// (shardState), so several trainings can share a shard at once.
type Shard struct {
	cuts *Cuts
	n    int
	u8   [][]uint8  // per feature, when the codes fit a byte
	u16  [][]uint16 // per feature, otherwise
	// runny marks the features whose codes repeat the previous row's in
	// most rows (a dominant value): their histograms add runs in a
	// register (histRows).
	runny []bool
	// bundles are the features of few bins kept as one column of joint
	// codes each, joint[b] (their own columns are nil); member[f] is
	// feature f's bundle, or -1. nil: no bundles.
	bundles []bundle
	joint   [][]uint8
	member  []int32
	label   []float32
	weight  []float32 // nil: all 1
}

// runnyPercent is how many rows in a hundred must repeat the previous
// row's code for a feature to be runny. Runs of a few rows (the lines of
// one order) cost a pass of four little; a value held by most rows makes
// it wait on every row.
const runnyPercent = 85

// NewShard bins one partition's rows with cuts. It checks the rows: one
// column per feature, all as long as the labels; labels finite; weights
// finite and ≥ 0; feature values finite or NaN (missing).
func NewShard(cuts *Cuts, d Data) (*Shard, error) {
	n, err := d.check(cuts.NumFeatures())
	if err != nil {
		return nil, err
	}
	s := &Shard{cuts: cuts, n: n, label: toFloat32s(d.Label), weight: toFloat32s(d.Weight)}
	nf := cuts.NumFeatures()
	narrow := true
	for j := range nf {
		nb := cuts.NumBins(j)
		if nb > 256 || (nb == 256 && d.hasMissing(j)) {
			narrow = false
		}
	}
	if narrow {
		s.u8 = make([][]uint8, nf)
	} else {
		s.u16 = make([][]uint16, nf)
	}
	codes := make([]uint16, n)
	sizes := make([]int, nf)
	for j := range nf {
		cv := cuts.values[j]
		if d.Features == nil {
			err = binColumn(cv, d.Features32[j], codes)
		} else {
			err = binColumn(cv, d.Features[j], codes)
		}
		if err != nil {
			return nil, fmt.Errorf("gbdt: feature %d, %w", j, err)
		}
		same, miss := 0, uint16(len(cv))
		sizes[j] = len(cv)
		for i := 1; i < n; i++ {
			same += b2i(codes[i] == codes[i-1])
		}
		if slices.Contains(codes, miss) {
			sizes[j]++
		}
		if n > 1 && same > n/100*runnyPercent {
			if s.runny == nil {
				s.runny = make([]bool, nf)
			}
			s.runny[j] = true
		}
		if narrow {
			c := make([]uint8, n, n+3) // three bytes to spare: partitionVector reads four at a time
			for i, v := range codes {
				c[i] = uint8(v)
			}
			s.u8[j] = c
		} else {
			s.u16[j] = slices.Clone(codes)
		}
	}
	s.bundle(sizes)
	return s, nil
}

// hasMissing reports whether feature j of d has a missing value.
func (d *Data) hasMissing(j int) bool {
	if d.Features == nil {
		return slices.ContainsFunc(d.Features32[j], func(x float32) bool { return x != x })
	}
	return slices.ContainsFunc(d.Features[j], math.IsNaN)
}

// binColumn writes the code of every value of col into codes: its bin
// among the cuts cv, or len(cv) for a missing value. An infinite value,
// or one beyond float32's range, is an error naming its row.
func binColumn[T float32 | float64](cv []float32, col []T, codes []uint16) error {
	keys := orderKeys(cv)
	index := binIndex(keys)
	n := len(col)
	for i := 0; i < n; i++ {
		// The present values in a run, then the one that stopped it.
		if i += searchBins(keys, index, col[i:], codes[i:]); i == n {
			break
		}
		x, ok, err := toFloat32(float64(col[i]))
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		if !ok {
			codes[i] = uint16(len(cv))
			continue
		}
		codes[i] = uint16(searchBin(cv, x))
	}
	return nil
}

// bundle plans the shard's bundles over its features' codes (sizes) and
// replaces their members' columns by the bundles' joint codes.
func (s *Shard) bundle(sizes []int) {
	s.bundles = planBundles(sizes)
	if len(s.bundles) == 0 {
		s.bundles = nil
		return
	}
	s.member = make([]int32, len(sizes))
	for f := range s.member {
		s.member[f] = -1
	}
	s.joint = make([][]uint8, len(s.bundles))
	for i := range s.bundles {
		b := &s.bundles[i]
		if s.u8 != nil {
			s.joint[i] = jointCodes(b, s.u8, s.n)
		} else {
			s.joint[i] = jointCodes(b, s.u16, s.n)
		}
		for _, f := range b.feats {
			s.member[f] = int32(i)
			if s.u8 != nil {
				s.u8[f] = nil
			} else {
				s.u16[f] = nil
			}
		}
	}
}

// NumRows is the number of rows of the shard.
func (s *Shard) NumRows() int { return s.n }

// Cuts are the cuts the shard's rows are binned with.
func (s *Shard) Cuts() *Cuts { return s.cuts }

// bin returns the bin of row i of feature f and whether it is present.
func (s *Shard) bin(f, i int) (int, bool) {
	c := 0
	if s.member != nil && s.member[f] >= 0 {
		b := &s.bundles[s.member[f]]
		c = b.code(s.joint[s.member[f]][i], slices.Index(b.feats, f))
	} else if s.u8 != nil {
		c = int(s.u8[f][i])
	} else {
		c = int(s.u16[f][i])
	}
	return c, c < s.cuts.NumBins(f)
}

// rowRange is the rows of a node: rows[begin:end] of the shard's state.
type rowRange struct{ begin, end int }

// shardState is what a shard keeps during a training.
type shardState struct {
	index  int // the shard's position among the training's shards
	groups int
	margin []float32 // row-major: margin[i*groups+g]
	weight []float32 // the rows' weights times their class's; nil: all 1
	grad   []float32 // group-major: group g's (gradient, hessian) pairs at grad[g*2n:]
	gp     []float32 // the current tree's pairs: its group's in grad, or a copy zero where not sampled
	sample []float32 // gp's buffer when rows are sampled
	prob   []float32 // scratch of gradients: each row's probability of its label

	rows    []uint32   // row ids, each node's rows contiguous and ascending
	scratch []uint32   // partition buffer
	ranges  []rowRange // per node of the current tree
}

// begin prepares the shard for a training: margins at the base margin,
// weights times class weights.
func (s *Shard) begin(index, groups int, baseMargin float32, classWeights []float32) *shardState {
	st := &shardState{index: index, groups: groups}
	st.margin = make([]float32, s.n*groups)
	for i := range st.margin {
		st.margin[i] = baseMargin
	}
	st.weight = effectiveWeights(s.label, s.weight, classWeights)
	st.grad = make([]float32, 2*s.n*groups)
	st.prob = make([]float32, s.n)
	st.rows = make([]uint32, s.n)
	st.scratch = make([]uint32, s.n)
	return st
}

func effectiveWeights(label, weight, classWeights []float32) []float32 {
	if classWeights == nil {
		return weight
	}
	out := make([]float32, len(label))
	for i, y := range label {
		w := float32(1)
		if weight != nil {
			w = weight[i]
		}
		out[i] = w * classWeights[int(y)]
	}
	return out
}

// gradients computes every row's gradient pairs for every group from the
// current margins, and returns the rows' loss at them as loss does.
func (s *Shard) gradients(st *shardState, obj objective) (sum, weight float64) {
	return obj.gradients(st.margin, s.label, st.weight, st.grad, st.prob, s.n)
}

// startTree selects the gradient pairs of group for a new tree, zeroing
// the rows subsample leaves out (as XGBoost's InitSampling does), and puts
// every row in the root.
func (s *Shard) startTree(st *shardState, group, round int, seed uint64, subsample float64) {
	st.gp = st.grad[group*2*s.n : (group+1)*2*s.n]
	if subsample < 1 {
		if st.sample == nil {
			st.sample = make([]float32, 2*s.n)
		}
		st.gp = st.sample
		copy(st.gp, st.grad[group*2*s.n:(group+1)*2*s.n])
		// A row is kept when its hash falls below subsample·2^53: a
		// counter-based draw, the same whatever the order rows are seen in.
		limit := uint64(subsample * (1 << 53))
		key := mix(mix(mix(seed)^uint64(round)) ^ uint64(group)<<32 ^ uint64(st.index))
		for i := 0; i < s.n; i++ {
			if mix(key^uint64(i))>>11 >= limit {
				st.gp[2*i], st.gp[2*i+1] = 0, 0
			}
		}
	}
	for i := range st.rows {
		st.rows[i] = uint32(i)
	}
	st.ranges = append(st.ranges[:0], rowRange{0, s.n})
}

// mix is splitmix64's finalizer: a bijective hash of 64 bits.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// split is a split decision the trainer sends to the shards: the rows of
// node whose bin of feature is ≤ bin, and, when defaultLeft, those where
// the feature is missing, go to node left; the others to right.
type split struct {
	node, left, right int32
	feature           int32
	bin               int32
	defaultLeft       bool
}

// applySplits partitions the rows of each split node between its
// children, keeping each side's rows in ascending order.
func (s *Shard) applySplits(st *shardState, splits []split) {
	for _, sp := range splits {
		for int(max(sp.left, sp.right)) >= len(st.ranges) {
			st.ranges = append(st.ranges, rowRange{})
		}
		r := st.ranges[sp.node]
		rows := st.rows[r.begin:r.end]
		miss := int32(s.cuts.NumBins(int(sp.feature)))
		var nl int
		if s.member != nil && s.member[sp.feature] >= 0 {
			bi := s.member[sp.feature]
			b := &s.bundles[bi]
			var tbl [maxJoint]uint8
			b.leftTable(&tbl, slices.Index(b.feats, int(sp.feature)), miss, sp.bin, sp.defaultLeft)
			nl = partitionTable(rows, st.scratch, s.joint[bi], &tbl)
		} else if s.u8 != nil {
			var tbl [maxJoint]uint8
			dl := b2i(sp.defaultLeft)
			for c := range tbl {
				tbl[c] = uint8(b2i(int32(c) <= sp.bin) | (b2i(int32(c) == miss) & dl))
			}
			nl = partitionTable(rows, st.scratch, s.u8[sp.feature], &tbl)
		} else {
			nl = partition(rows, st.scratch, s.u16[sp.feature], miss, sp.bin, sp.defaultLeft)
		}
		st.ranges[sp.left] = rowRange{r.begin, r.begin + nl}
		st.ranges[sp.right] = rowRange{r.begin + nl, r.end}
	}
}

// partition moves the rows going left to the front of rows and the
// others after them, each side in its original order. miss is the code of
// a missing value. It does not branch on the data: a split sends rows
// either way unpredictably.
func partition[B uint8 | uint16](rows, scratch []uint32, col []B, miss, bin int32, defaultLeft bool) int {
	nl, nr := 0, 0
	dl := b2i(defaultLeft)
	scratch = scratch[:len(rows)]
	for _, r := range rows {
		c := int32(col[r])
		left := b2i(c <= bin) | (b2i(c == miss) & dl)
		rows[nl] = r // nl and nr are at most the index read: no row still to read is overwritten
		scratch[nr] = r
		nl += left
		nr += 1 - left
	}
	copy(rows[nl:], scratch[:nr])
	return nl
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// zeroed returns n zeroed histograms of layout, reusing bufs' (grown as
// needed).
func zeroed(bufs *[]*Histogram, layout []int32, n int) []*Histogram {
	for len(*bufs) < n {
		*bufs = append(*bufs, newHistogram(layout))
	}
	out := (*bufs)[:n]
	for _, h := range out {
		h.Reset()
	}
	return out
}

// buildHistograms fills out[k] with the sums of node nodes[k]'s rows, for
// features lo to hi only (so that goroutines can share a shard by
// feature). Each sum adds the rows in ascending order.
func (s *Shard) buildHistograms(st *shardState, nodes []int32, out []*Histogram, lo, hi int) {
	if s.bundles != nil {
		if s.u8 != nil {
			buildBundled(s, s.u8, st, nodes, out, lo, hi)
		} else {
			buildBundled(s, s.u16, st, nodes, out, lo, hi)
		}
		return
	}
	for k, nid := range nodes {
		r := st.ranges[nid]
		rows := st.rows[r.begin:r.end]
		h := out[k]
		if s.u8 != nil {
			histRows(h, s.u8, lo, hi, s.runny, rows, st.gp)
		} else {
			histRows(h, s.u16, lo, hi, s.runny, rows, st.gp)
		}
	}
}

// buildBundled is buildHistograms for a shard with bundles: per node, the
// pass over the features lo to hi of no bundle, then the pass over the
// joint codes of the bundles led from lo to hi, expanded into their
// members.
func buildBundled[B uint8 | uint16](s *Shard, cols [][]B, st *shardState, nodes []int32, out []*Histogram, lo, hi int) {
	var feats []int
	var fcols [][]B
	var run []bool
	for f := lo; f < hi; f++ {
		if s.member[f] < 0 {
			feats = append(feats, f)
			fcols = append(fcols, cols[f])
			run = append(run, s.runny != nil && s.runny[f])
		}
	}
	var bs []*bundle
	var jcols [][]uint8
	njoint := 0
	for i := range s.bundles {
		if b := &s.bundles[i]; lo <= b.lead && b.lead < hi {
			bs = append(bs, b)
			jcols = append(jcols, s.joint[i])
			njoint += 2 * b.slots
		}
	}
	buf := make([]float64, njoint)
	jslots := make([][]float64, len(bs))
	for i, at := 0, 0; i < len(bs); i++ {
		jslots[i] = buf[at : at+2*bs[i].slots]
		at += 2 * bs[i].slots
	}
	// With byte codes the features and the bundles share passes.
	nf := len(feats)
	joined := false
	if c8, ok := any(fcols).([][]uint8); ok {
		fcols = any(append(c8, jcols...)).([][]B)
		run = append(run, make([]bool, len(jcols))...)
		joined = true
	}
	slots := make([][]float64, len(fcols))
	if joined {
		copy(slots[nf:], jslots)
	}
	for k, nid := range nodes {
		r := st.ranges[nid]
		rows := st.rows[r.begin:r.end]
		h := out[k]
		for i, f := range feats {
			slots[i] = h.feature(f)
		}
		clear(buf)
		histColumns(slots, fcols, run, rows, st.gp)
		if !joined {
			histColumns(jslots, jcols, nil, rows, st.gp)
		}
		for i, b := range bs {
			b.expand(h, jslots[i])
		}
	}
}

// histRows adds each row's gradient pair to the slot of its code in every
// feature lo to hi of h (histColumns over those features' columns).
func histRows[B uint8 | uint16](h *Histogram, cols [][]B, lo, hi int, runny []bool, rows []uint32, gp []float32) {
	slots := make([][]float64, 0, hi-lo)
	for f := lo; f < hi; f++ {
		slots = append(slots, h.feature(f))
	}
	var run []bool
	if runny != nil {
		run = runny[lo:hi]
	}
	histColumns(slots, cols[lo:hi], run, rows, gp)
}

// histColumns adds each row's gradient pair to slot pair cols[k][row] of
// slots[k], for every target k (a feature's histogram, or a bundle's
// joint one). Targets go four at a time through the rows, so that four
// histograms' additions overlap instead of each waiting on the previous
// one to the same slot; a target runny marks (nil: none), whose rows
// mostly repeat the previous row's code, goes alone through a pass that
// keeps the current slot in a register (histRun), where a pass of four
// would wait on it row after row.
func histColumns[B uint8 | uint16](slots [][]float64, cols [][]B, runny []bool, rows []uint32, gp []float32) {
	var gs [4][]float64
	var gc [4][]B
	k := 0
	for t := range slots {
		if runny != nil && runny[t] {
			if !histRun(slots[t], cols[t], rows, gp) {
				histTargets(slots[t:t+1], cols[t:t+1], rows, gp)
			}
			continue
		}
		gs[k], gc[k] = slots[t], cols[t]
		if k++; k == 4 {
			histTargets(gs[:], gc[:], rows, gp)
			k = 0
		}
	}
	if k > 0 {
		histTargets(gs[:k], gc[:k], rows, gp)
	}
}

// histTargets adds the rows to targets (one to four): in assembly where
// there is some (histPass), else in Go.
func histTargets[B uint8 | uint16](slots [][]float64, cols [][]B, rows []uint32, gp []float32) {
	if histPass(slots, cols, rows, gp) {
		return
	}
	if len(slots) == 4 {
		c0, c1, c2, c3 := cols[0], cols[1], cols[2], cols[3]
		s0, s1, s2, s3 := slots[0], slots[1], slots[2], slots[3]
		for _, r := range rows {
			p := gp[2*r : 2*r+2 : 2*r+2]
			g, hs := float64(p[0]), float64(p[1])
			b0, b1, b2, b3 := 2*int(c0[r]), 2*int(c1[r]), 2*int(c2[r]), 2*int(c3[r])
			x0 := s0[b0 : b0+2 : b0+2]
			x0[0] += g
			x0[1] += hs
			x1 := s1[b1 : b1+2 : b1+2]
			x1[0] += g
			x1[1] += hs
			x2 := s2[b2 : b2+2 : b2+2]
			x2[0] += g
			x2[1] += hs
			x3 := s3[b3 : b3+2 : b3+2]
			x3[0] += g
			x3[1] += hs
		}
		return
	}
	for k, seg := range slots {
		c := cols[k]
		for _, r := range rows {
			p := gp[2*r : 2*r+2 : 2*r+2]
			b := 2 * int(c[r])
			x := seg[b : b+2 : b+2]
			x[0] += float64(p[0])
			x[1] += float64(p[1])
		}
	}
}

// addLeaves adds each leaf's value to the margins of its rows in group g.
func (s *Shard) addLeaves(st *shardState, t *Tree) {
	g := t.Group
	for nid := range t.Nodes {
		nd := &t.Nodes[nid]
		if nd.Left >= 0 {
			continue
		}
		r := st.ranges[nid]
		for _, row := range st.rows[r.begin:r.end] {
			st.margin[int(row)*st.groups+g] += nd.Value
		}
	}
}

// loss returns the sum of the rows' weighted losses and of their weights.
func (s *Shard) loss(st *shardState, obj objective) (sum, weight float64) {
	return obj.loss(st.margin, s.label, st.weight, s.n)
}

// EvalShard is one partition of an evaluation set: its rows as float32
// columns (they are walked through the trees as the exported model walks
// them), labels, weights and, during training, margins.
type EvalShard struct {
	n      int
	cols   [][]float32
	label  []float32
	weight []float32
}

// evalState is what an eval shard keeps during a training.
type evalState struct {
	margin []float32 // row-major, groups per row
	eff    []float32 // weights times class weights
}

// NewEvalShard keeps one partition of an evaluation set, checked as
// NewShard checks a training partition.
func NewEvalShard(d Data) (*EvalShard, error) {
	nf := d.numFeatures()
	n, err := d.check(nf)
	if err != nil {
		return nil, err
	}
	e := &EvalShard{n: n, label: toFloat32s(d.Label), weight: toFloat32s(d.Weight)}
	e.cols = make([][]float32, nf)
	for j := range nf {
		if d.Features == nil {
			e.cols[j], err = evalColumn(d.Features32[j])
		} else {
			e.cols[j], err = evalColumn(d.Features[j])
		}
		if err != nil {
			return nil, fmt.Errorf("gbdt: eval set: feature %d, %w", j, err)
		}
	}
	return e, nil
}

// evalColumn is col as float32 values, NaN where missing; an infinite
// value is an error naming its row.
func evalColumn[T float32 | float64](col []T) ([]float32, error) {
	c := make([]float32, len(col))
	for i, v := range col {
		x := float32(v)
		if x-x != 0 { // NaN, ±Inf or beyond float32's range
			var ok bool
			var err error
			if x, ok, err = toFloat32(float64(v)); err != nil {
				return nil, fmt.Errorf("row %d: %w", i, err)
			}
			if !ok {
				x = float32(math.NaN())
			}
		}
		c[i] = x
	}
	return c, nil
}

// NumRows is the number of rows of the shard.
func (e *EvalShard) NumRows() int { return e.n }

func (e *EvalShard) begin(groups int, baseMargin float32, classWeights []float32) *evalState {
	st := &evalState{margin: make([]float32, e.n*groups)}
	for i := range st.margin {
		st.margin[i] = baseMargin
	}
	st.eff = effectiveWeights(e.label, e.weight, classWeights)
	return st
}

// addTree adds tree t's leaf values to the rows' margins.
func (e *EvalShard) addTree(st *evalState, t *Tree, groups int) {
	for i := 0; i < e.n; i++ {
		st.margin[i*groups+t.Group] += t.Nodes[t.leafOf(e.cols, i)].Value
	}
}

func (e *EvalShard) loss(st *evalState, obj objective) (sum, weight float64) {
	return obj.loss(st.margin, e.label, st.eff, e.n)
}

// Prepare is the three steps' first two for rows already in one process:
// it sketches every partition (in parallel), merges the sketches in
// partition order, and bins each partition into a shard with the
// resulting cuts.
func Prepare(maxBin int, parts []Data) ([]*Shard, *Cuts, error) {
	if len(parts) == 0 {
		return nil, nil, fmt.Errorf("gbdt: no partitions")
	}
	nf := parts[0].numFeatures()
	sketches := make([]*Sketch, len(parts))
	errs := make([]error, len(parts))
	eachPartition(len(parts), func(i int) {
		if _, errs[i] = parts[i].check(nf); errs[i] != nil {
			return
		}
		if sketches[i], errs[i] = NewSketch(nf, maxBin); errs[i] == nil {
			if parts[i].Features == nil {
				errs[i] = sketches[i].AddFloat32(parts[i].Features32)
			} else {
				errs[i] = sketches[i].Add(parts[i].Features)
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			return nil, nil, inPartition(i, err)
		}
	}
	// Merge feature by feature, the features in parallel, each in
	// partition order.
	eachPartition(nf, func(j int) {
		for _, sk := range sketches[1:] {
			sketches[0].mergeFeature(sk, j)
		}
	})
	cuts := sketches[0].Cuts()
	shards := make([]*Shard, len(parts))
	eachPartition(len(parts), func(i int) { shards[i], errs[i] = NewShard(cuts, parts[i]) })
	for i, err := range errs {
		if err != nil {
			return nil, nil, inPartition(i, err)
		}
	}
	return shards, cuts, nil
}

// inPartition says which partition err is about.
func inPartition(i int, err error) error {
	return fmt.Errorf("gbdt: partition %d: %s", i, strings.TrimPrefix(err.Error(), "gbdt: "))
}

// eachPartition runs fn(0) … fn(n-1) on GOMAXPROCS goroutines (for
// partitions, or features).
func eachPartition(n int, fn func(i int)) {
	t := trainer{threads: runtime.GOMAXPROCS(0)}
	t.parallel(n, fn)
}

// replay adds tree t's leaf values to the margins of every row, walking
// the rows' bins down the tree: how a shard that joins a training late
// (its worker was replaced) catches up with the trees grown so far.
func (s *Shard) replay(st *shardState, t *Tree) {
	g := t.Group
	for i := 0; i < s.n; i++ {
		n := int32(0)
		for {
			nd := &t.Nodes[n]
			if nd.Left < 0 {
				break
			}
			c, ok := s.bin(int(nd.Feature), i)
			switch {
			case !ok:
				if nd.DefaultLeft {
					n = nd.Left
				} else {
					n = nd.Right
				}
			case int32(c) <= nd.bin:
				n = nd.Left
			default:
				n = nd.Right
			}
		}
		st.margin[i*st.groups+g] += t.Nodes[n].Value
	}
}
