package lightgbm

import (
	"fmt"
	"math"
	"sync"
)

// blockBytes is the size of the row-major block of features the walk reads:
// small enough to stay in L1 together with the tree being walked.
const blockBytes = 16 << 10

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

	rows := max(16, min(256, blockBytes/8/nf))
	bufp := scratch.Get().(*[]float64)
	defer scratch.Put(bufp)
	if cap(*bufp) < rows*nf {
		*bufp = make([]float64, rows*nf)
	}
	blk := (*bufp)[:rows*nf]

	for start := 0; start < n; start += rows {
		b := min(rows, n-start)
		fillBlock(blk, cols, start, b)
		m.scoreBlock(blk[:b*nf], out[start*k:(start+b)*k])
	}
}

// fillBlock copies rows [start, start+b) of cols into blk, row-major, the
// way LightGBM's dense predict reads them: a value with |x| <=
// kZeroThreshold becomes 0 (RowPairFunctionFromDenseMatrix drops it), NaN
// stays NaN.
func fillBlock(blk []float64, cols [][]float64, start, b int) {
	nf := len(cols)
	for j, c := range cols {
		c = c[start : start+b]
		for r, v := range c {
			if math.Abs(v) <= kZeroThreshold {
				v = 0
			}
			blk[r*nf+j] = v
		}
	}
}

// scoreBlock adds every tree's output for the rows of blk to acc.
func (m *Model) scoreBlock(blk []float64, acc []float64) {
	nf, k := len(m.features), m.numOutputs
	b := len(blk) / nf
	nodes, leafV := m.nodes, m.leafV
	for ti := range m.trees {
		tr := &m.trees[ti]
		out := acc[tr.output:]
		if tr.linear {
			for r := range b {
				x := blk[r*nf : r*nf+nf]
				leaf := m.leafOf(tr.root, x)
				out[r*k] += m.linearOutput(leaf, x)
			}
			continue
		}
		if tr.root < 0 {
			v := leafV[^tr.root]
			for r := range b {
				out[r*k] += v
			}
			continue
		}
		for r := range b {
			x := blk[r*nf : r*nf+nf]
			i := tr.root
			for i >= 0 {
				nd := &nodes[i]
				v := x[nd.feature]
				switch nd.kind {
				case kindNumerical:
					if v <= nd.threshold || (v != v && nd.nanLeft) {
						i = nd.left
					} else {
						i = nd.right
					}
				default:
					i = m.decideSlow(nd, v)
				}
			}
			out[r*k] += leafV[^i]
		}
	}
}

// decideSlow decides the splits other than kindNumerical.
func (m *Model) decideSlow(nd *node, v float64) int32 {
	if nd.kind == kindZero {
		if v == 0 || v != v {
			if nd.nanLeft {
				return nd.left
			}
			return nd.right
		}
		if v <= nd.threshold {
			return nd.left
		}
		return nd.right
	}
	// Categorical: NaN and negative values go right; otherwise the value
	// truncated to an int is looked up in the bitset. Values from 2^31 on
	// overflow LightGBM's static_cast<int> to a negative int on x86, and
	// go right too.
	if !(v > -1) || v >= 1<<31 {
		return nd.right
	}
	c := uint32(int32(v))
	if w := int32(c >> 5); w < nd.catLen && m.cats[nd.catStart+w]>>(c&31)&1 != 0 {
		return nd.left
	}
	return nd.right
}

// leafOf walks one row down the tree rooted at root and returns the leaf's
// index into leafV.
func (m *Model) leafOf(root int32, x []float64) int32 {
	i := root
	for i >= 0 {
		nd := &m.nodes[i]
		v := x[nd.feature]
		if nd.kind == kindNumerical {
			if v <= nd.threshold || (v != v && nd.nanLeft) {
				i = nd.left
			} else {
				i = nd.right
			}
		} else {
			i = m.decideSlow(nd, v)
		}
	}
	return ^i
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
	x := make([]float64, nf)
	for r := range n {
		fillBlock(x, cols, r, 1)
		for _, tr := range m.trees {
			if tr.root < 0 {
				out = append(out, 0)
				continue
			}
			out = append(out, int(m.leafOf(tr.root, x)-tr.leafBase))
		}
	}
	return out
}
