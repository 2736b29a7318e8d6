package xgboost

import (
	"fmt"
	"slices"
)

// blockRows is how many rows walk the trees together. A block's features
// (as float32, one column after another) and its running margins stay in
// L1 while every tree in turn walks the whole block, so each tree is read
// once per block rather than once per row.
const blockRows = 128

// Predict scores n rows given as feature columns (cols[j] is feature j,
// NaN is missing) and writes what XGBoost's predict returns for them into
// out, row-major with NumOutputs values per row.
//
// As in XGBoost, each value is rounded to float32, a split sends a row
// left when value < threshold and a missing value to the split's default
// side; leaf values are summed in float32 per output group, tree by tree
// in file order, starting from base_score's margin, and the objective's
// transformation is applied last.
//
// Predict panics when len(cols) is not the number of features, the columns
// differ in length or len(out) is not n*NumOutputs(): the caller checks its
// batch once with Check.
func (m *Model) Predict(cols [][]float64, out []float64) {
	if len(cols) != m.numFeature {
		panic(fmt.Sprintf("xgboost: Predict with %d columns for %d features", len(cols), m.numFeature))
	}
	n := len(out) / max(m.numOutputs, 1)
	if len(cols) > 0 {
		n = len(cols[0])
	}
	for j, c := range cols {
		if len(c) != n {
			panic(fmt.Sprintf("xgboost: Predict column %d has %d rows, column 0 has %d", j, len(c), n))
		}
	}
	if len(out) != n*m.numOutputs {
		panic(fmt.Sprintf("xgboost: Predict output has length %d, want %d rows × %d outputs", len(out), n, m.numOutputs))
	}

	// One allocation for the scratch of all blocks; a leaf reads feature
	// slot 0, so there is always one.
	nf := max(len(m.used), 1)
	scratch := make([]float32, (nf+m.numGroups)*blockRows+m.numGroups)
	x := scratch[:nf*blockRows]
	acc := scratch[nf*blockRows : (nf+m.numGroups)*blockRows]
	row := scratch[(nf+m.numGroups)*blockRows:]
	var idx [blockRows]int32

	for start := 0; start < n; start += blockRows {
		rows := min(blockRows, n-start)
		for j, f := range m.used {
			dst := x[j*blockRows : j*blockRows+rows]
			for r, v := range cols[f][start : start+rows] {
				dst[r] = float32(v)
			}
		}
		for g, b := range m.baseMargin {
			a := acc[g*blockRows : g*blockRows+rows]
			for r := range a {
				a[r] = b
			}
		}
		for t := range m.trees {
			tr := &m.trees[t]
			if tr.cat {
				m.walkCategorical(tr, x, idx[:rows])
			} else {
				walk(m.nodes, tr.root, tr.depth, x, idx[:rows])
			}
			a := acc[int(tr.group)*blockRows:][:rows]
			if tr.weight == 1 {
				for r, i := range idx[:rows] {
					a[r] += m.nodes[i].leaf
				}
			} else {
				// Dart scales each tree's output by its weight, in float32
				// (the conversion keeps Go from fusing it into an FMA).
				w := tr.weight
				for r, i := range idx[:rows] {
					a[r] += float32(m.nodes[i].leaf * w)
				}
			}
		}
		m.finish(acc, row, rows, out[start*m.numOutputs:])
	}
}

// walk moves every row of a block from root down depth levels of a tree
// without categorical splits, all rows one level at a time: the rows' walks
// are independent, so the processor overlaps their loads, and a row at a
// leaf stays there.
func walk(nodes []node, root, depth int32, x []float32, idx []int32) {
	for r := range idx {
		idx[r] = root
	}
	for range depth {
		for r, i := range idx {
			nd := nodes[i]
			v := x[int(nd.feat&featMask)*blockRows+r]
			// Left when v < thresh, or v is missing and the default is
			// left; NaN fails every comparison, so only the latter needs a
			// test of its own.
			left := b2i(v < nd.thresh) | (b2i(v != v) & int32(nd.feat>>31))
			idx[r] = nd.next + left
		}
	}
}

// walkCategorical walks a block through a tree with categorical splits,
// one row at a time down to its leaf.
func (m *Model) walkCategorical(tr *tree, x []float32, idx []int32) {
	nodes := m.nodes
	for r := range idx {
		i := tr.root
		for {
			nd := &nodes[i]
			if nd.next == i {
				break
			}
			v := x[int(nd.feat&featMask)*blockRows+r]
			var left bool
			switch {
			case v != v:
				left = nd.feat&defaultLeft != 0
			case m.catOf[i] >= 0:
				left = !inCategories(m.catSets[m.catOf[i]], v)
			default:
				left = v < nd.thresh
			}
			i = nd.next + b2i(left)
		}
		idx[r] = i
	}
}

// inCategories is XGBoost's categorical decision: a value goes right when
// it is a valid category (in [0, 2^24), truncated to an integer) in the
// split's set, and left otherwise.
func inCategories(set []int32, v float32) bool {
	if !(v >= 0 && v < maxCategory) {
		return false
	}
	_, found := slices.BinarySearch(set, int32(v))
	return found
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// finish applies the objective's transformation to a block's margins
// (acc, group-major) and writes the rows' predictions to out.
func (m *Model) finish(acc, row []float32, rows int, out []float64) {
	ng := m.numGroups
	switch m.obj.transform {
	case transformSoftprob, transformSoftmax:
		for r := range rows {
			for g := range ng {
				row[g] = acc[g*blockRows+r]
			}
			if m.obj.transform == transformSoftmax {
				out[r] = float64(argmax(row))
				continue
			}
			softmax(row)
			for g, p := range row {
				out[r*ng+g] = float64(p)
			}
		}
		return
	}
	for g := range ng {
		a := acc[g*blockRows:][:rows]
		switch m.obj.transform {
		case transformSigmoid:
			for r, v := range a {
				out[r*ng+g] = float64(sigmoid(v))
			}
		case transformExp:
			for r, v := range a {
				out[r*ng+g] = float64(expf(v))
			}
		case transformHinge:
			for r, v := range a {
				out[r*ng+g] = float64(b2i(v > 0))
			}
		default:
			for r, v := range a {
				out[r*ng+g] = float64(v)
			}
		}
	}
}
