package lightgbm

import (
	"fmt"
	"math"
	"sync"
)

// A scoring block holds up to maxBlockRows rows and blockBytes bytes: 256
// rows of 8 features measured fastest (the block in L2, a tree in L1).
const (
	maxBlockRows = 256
	blockBytes   = 48 << 10
)

// scratch is a block buffer reused across Predict calls.
var scratch = sync.Pool{New: func() any { return new([]float64) }}

// Predict scores len(cols[0]) rows and writes what LightGBM's predict
// returns into out, row-major with NumOutputs values per row. cols[j] holds
// feature j; NaN is a missing value. It panics if the shapes disagree, as
// slice indexing would.
func (m *Model) Predict(cols [][]float64, out []float64) {
	m.predictRaw(cols, out)
	k := m.numOutputs
	if m.average {
		div := float64(m.numIter) // 0 for a model without trees: NaN, as in LightGBM
		for i := range out {
			out[i] /= div
		}
	}
	if m.obj.transform != transformIdentity {
		for i := 0; i+k <= len(out); i += k {
			m.obj.convert(out[i : i+k])
		}
	}
}

// predictRaw writes the raw scores, the sums of the trees' outputs, into
// out (LightGBM's predict with raw_score=True, which does not average).
func (m *Model) predictRaw(cols [][]float64, out []float64) {
	nf, k := len(m.features), m.numOutputs
	if len(cols) != nf {
		panic(fmt.Sprintf("lightgbm: Predict: %d feature columns, model has %d features", len(cols), nf))
	}
	n := len(cols[0])
	for j, c := range cols {
		if len(c) != n {
			panic(fmt.Sprintf("lightgbm: Predict: column %d has %d rows, column 0 has %d", j, len(c), n))
		}
	}
	if len(out) != n*k {
		panic(fmt.Sprintf("lightgbm: Predict: out has %d values, want %d rows x %d outputs", len(out), n, k))
	}
	clear(out)
	if n == 0 {
		return
	}

	stride := 3 * nf
	rows := max(16, min(maxBlockRows, blockBytes/8/stride))
	bufp := scratch.Get().(*[]float64)
	defer scratch.Put(bufp)
	if cap(*bufp) < rows*stride {
		*bufp = make([]float64, rows*stride)
	}
	blk := (*bufp)[:rows*stride]

	for start := 0; start < n; start += rows {
		b := min(rows, n-start)
		fillBlock(blk, cols, start, b)
		m.scoreBlock(blk[:b*stride], out[start*k:(start+b)*k])
	}
}

// fillBlock copies rows [start, start+b) of cols into blk, row-major, the
// way LightGBM's dense predict reads them: a value with |x| <=
// kZeroThreshold becomes 0 (RowPairFunctionFromDenseMatrix drops it), NaN
// stays NaN. Each row is written three times, nf values each: as is, with
// NaN read as +Inf, and with NaN read as -Inf; node.fast points into the
// second or third copy.
func fillBlock(blk []float64, cols [][]float64, start, b int) {
	nf := len(cols)
	stride := 3 * nf
	for j, c := range cols {
		c = c[start : start+b]
		for r, v := range c {
			if math.Abs(v) <= kZeroThreshold {
				v = 0
			}
			row := blk[r*stride : r*stride+stride]
			row[j] = v
			if v != v {
				row[nf+j], row[2*nf+j] = math.Inf(1), math.Inf(-1)
			} else {
				row[nf+j], row[2*nf+j] = v, v
			}
		}
	}
}

// scoreBlock adds every tree's output for the rows of blk to acc.
func (m *Model) scoreBlock(blk []float64, acc []float64) {
	nf, k := len(m.features), m.numOutputs
	stride := 3 * nf
	b := len(blk) / stride
	leafV := m.leafV
	for ti := range m.trees {
		tr := &m.trees[ti]
		out := acc[tr.output:]
		switch {
		case tr.linear:
			for r := range b {
				x := blk[r*stride : r*stride+nf]
				out[r*k] += m.linearOutput(m.leafOf(tr, x), x)
			}
		case tr.root == tr.leafNode:
			v := leafV[tr.leafBase]
			for r := range b {
				out[r*k] += v
			}
		case tr.fast:
			m.walkFast(tr, blk, stride, out, k)
		default:
			for r := range b {
				out[r*k] += leafV[m.leafOf(tr, blk[r*stride:r*stride+nf])]
			}
		}
	}
}

// walkFast scores the rows of blk with a tree whose splits are all
// kindNumerical. All rows go down together, one level per pass, for as
// many passes as the tree is deep; a row on a leaf stays there. A pass is a
// loop without branches on the data: a walk of one row at a time
// mispredicts about every other split and waits on each of its loads,
// while the rows of a pass are independent, so the core overlaps them.
// Rows on short paths make passes for nothing; skipping them (a list of
// the rows still moving) measured no faster, nor did walking four or
// eight rows at a time until all reach a leaf.
func (m *Model) walkFast(tr *tree, blk []float64, stride int, out []float64, k int) {
	nodes, leafV := m.nodes, m.leafV
	lv := tr.leafBase - tr.leafNode
	var idxBuf [maxBlockRows]int32
	idx := idxBuf[:len(blk)/stride]
	for r := range idx {
		idx[r] = tr.root
	}
	for range tr.depth {
		stepAll(nodes, blk, idx, int32(stride))
	}
	for r, i := range idx {
		out[r*k] += leafV[i+lv]
	}
}

// stepAll moves every row one level down. It is a function of its own so
// that the compiler keeps its few variables in registers.
//
//go:noinline
func stepAll(nodes []node, blk []float64, idx []int32, stride int32) {
	o := int32(0)
	for r, i := range idx {
		nd := &nodes[i]
		idx[r] = nd.child[b2u(blk[o+nd.fast] > nd.threshold)&1]
		o += stride
	}
}

// b2u is 1 for true and 0 for false; the compiler turns it into a SETcc.
func b2u(b bool) uint8 {
	var u uint8
	if b {
		u = 1
	}
	return u
}

// pick is a kindNumerical node's decision for v (NaN included).
func (nd *node) pick(v float64) int32 {
	if v <= nd.threshold || (v != v && nd.nanLeft != 0) {
		return nd.child[0]
	}
	return nd.child[1]
}

// step moves a row from node i one level down (a leaf stays put).
func (m *Model) step(i int32, x []float64) int32 {
	nd := &m.nodes[i]
	if nd.kind != kindNumerical {
		return m.decideSlow(nd, x[nd.feature])
	}
	return nd.pick(x[nd.feature])
}

// decideSlow decides the splits other than kindNumerical.
func (m *Model) decideSlow(nd *node, v float64) int32 {
	if nd.kind == kindZero {
		if v == 0 || v != v {
			return nd.child[1-nd.nanLeft]
		}
		if v <= nd.threshold {
			return nd.child[0]
		}
		return nd.child[1]
	}
	// Categorical: NaN and negative values go right; otherwise the value
	// truncated to an int is looked up in the bitset. Values from 2^31 on
	// overflow LightGBM's static_cast<int> to a negative int on x86, and
	// go right too.
	if !(v > -1) || v >= 1<<31 {
		return nd.child[1]
	}
	c := uint32(int32(v))
	span := m.catSpans[nd.fast]
	if w := int32(c >> 5); w < span[1] && m.cats[span[0]+w]>>(c&31)&1 != 0 {
		return nd.child[0]
	}
	return nd.child[1]
}

// leafOf walks one row (nf values, NaN for missing) down tr and returns the
// index in leafV of the leaf it reaches.
func (m *Model) leafOf(tr *tree, x []float64) int32 {
	i := tr.root
	for i < tr.leafNode {
		i = m.step(i, x)
	}
	return i - tr.leafNode + tr.leafBase
}

// linearOutput is Tree::Predict for a linear tree's leaf: the leaf's linear
// model, or its constant value when one of the model's features is NaN.
func (m *Model) linearOutput(leaf int32, x []float64) float64 {
	out := m.linConst[leaf]
	for j := m.linStart[leaf]; j < m.linStart[leaf+1]; j++ {
		v := x[m.linFeat[j]]
		if v != v {
			return m.leafV[leaf]
		}
		// The explicit conversion keeps the product rounded on its own,
		// as in LightGBM, rather than fused into the sum.
		out += float64(m.linCoef[j] * v)
	}
	return out
}

// predictLeaves returns each row's leaf index in each tree, row-major,
// like LightGBM's predict with pred_leaf=True.
func (m *Model) predictLeaves(cols [][]float64) []int {
	nf := len(m.features)
	n := len(cols[0])
	out := make([]int, 0, n*len(m.trees))
	x := make([]float64, 3*nf)
	for r := range n {
		fillBlock(x, cols, r, 1)
		for ti := range m.trees {
			tr := &m.trees[ti]
			out = append(out, int(m.leafOf(tr, x)-tr.leafBase))
		}
	}
	return out
}
