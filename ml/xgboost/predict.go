package xgboost

import (
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/flint-engine/flint/ml/internal/xgbmath"
)

// blockRows is how many rows walk the trees together. A block's features
// (as float32, one column after another, two copies each; see node) and
// its running margins stay in L1 while every tree in turn walks the whole
// block, so each tree is read once per block rather than once per row.
// (256 or 512 rows are 2% faster on 8 features, but wider models would
// spill out of L1.)
const blockRows = 128

// Predict scores n rows given as feature columns (cols[j] is feature j,
// NaN is missing) and writes what XGBoost's predict returns for them into
// out, row-major with NumOutputs values per row.
//
// As in XGBoost, each value is rounded to float32, a split sends a row
// left when value < threshold and a missing value to the split's default
// side; leaf values are summed in float32 per output group, tree by tree
// in file order, starting from base_score's margin, and the objective's
// transformation is applied last. (XGBoost refuses infinite inputs; here
// they compare as the values they are.) Results equal XGBoost's bit for
// bit except where an objective takes an exponential: XGBoost calls the C
// library's expf, which is not correctly rounded, and may differ by one
// float32 unit in the last place.
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

	// One allocation for the scratch of all blocks: two copies of each
	// used feature (see node; a leaf reads slot 0, so there are always
	// two), the raw values when a tree walks slowly, then the margins.
	nu := len(m.used)
	slots := max(2*nu, 2)
	if m.slow {
		slots += nu
	}
	scratch := make([]float32, (slots+m.numGroups)*blockRows+m.numGroups)
	x := scratch[:slots*blockRows]
	acc := scratch[slots*blockRows : (slots+m.numGroups)*blockRows]
	row := scratch[(slots+m.numGroups)*blockRows:]
	var idx [blockRows]int32
	inf := float32(math.Inf(1))

	for start := 0; start < n; start += blockRows {
		rows := min(blockRows, n-start)
		for j, f := range m.used {
			right := x[2*j*blockRows:][:rows]
			left := x[(2*j+1)*blockRows:][:rows]
			for r, v := range cols[f][start : start+rows] {
				v := float32(v)
				right[r], left[r] = v, v
				if v != v {
					right[r], left[r] = inf, -inf
				}
			}
			if m.slow {
				raw := x[(2*nu+j)*blockRows:][:rows]
				for r, v := range cols[f][start : start+rows] {
					raw[r] = float32(v)
				}
			}
		}
		for g, b := range m.baseMargin {
			a := acc[g*blockRows:][:rows]
			for r := range a {
				a[r] = b
			}
		}
		for t := range m.trees {
			tr := &m.trees[t]
			a := acc[int(tr.group)*blockRows:][:rows]
			if tr.slow {
				m.walkSlow(tr, x[2*nu*blockRows:], idx[:rows])
				// Dart scales each tree's output by its weight, in float32
				// (the conversion keeps Go from fusing it into an FMA); a
				// gbtree's weight of 1 changes nothing.
				for r, i := range idx[:rows] {
					a[r] += float32(m.nodes[i].leaf * tr.weight)
				}
			} else if tr.vec >= 0 && !tr.rowWise && tr.depth <= vecDepth {
				walkTree(m, tr, x, a)
			} else if tr.vec >= 0 && !tr.rowWise {
				walkTop(m, tr, x, idx[:rows])
				walkOn(m.nodes, tr, x, idx[:rows], a, int(tr.depth)-vecDepth)
			} else {
				walkSum(m.nodes, tr, x, idx[:rows], a)
			}
		}
		m.finish(acc, row, rows, out[start*m.numOutputs:])
	}
}

// walkSum walks every row of a block from the root of tr to its leaf and
// adds the leaf's value, times the tree's weight, to the row's margin in a.
//
// All rows descend one level at a time, for the tree's depth: the rows'
// walks are independent, so the processor overlaps their loads, and a row
// at a leaf stays there. That is twice as fast as walking row by row, which
// mispredicts where each walk ends, unless the tree is lopsided: then
// (tree.rowWise) each row walks alone. x holds the block's two copies of each feature
// (see node), so a step is one comparison and no branch.
//
// The steps index without bounds checks, which costs a sixth of the time
// otherwise. Load guarantees the indexes are in range: every node's next
// and next+1 are nodes of the same tree, and every feat is below
// 2*len(Model.used), the number of feature copies in x, each blockRows
// long (a leaf reads copy 0, which always exists); len(idx) <= blockRows.
func walkSum(nodes []node, tr *tree, x []float32, idx []int32, a []float32) {
	np := unsafe.Pointer(unsafe.SliceData(nodes))
	xp := unsafe.Pointer(unsafe.SliceData(x))
	at := func(i int32) *node { return (*node)(unsafe.Add(np, uintptr(i)*unsafe.Sizeof(node{}))) }
	value := func(nd *node, r int) float32 {
		return *(*float32)(unsafe.Add(xp, (uintptr(nd.feat)*blockRows+uintptr(r))*4))
	}
	w := tr.weight
	if tr.depth == 0 {
		leaf := float32(nodes[tr.root].leaf * w)
		for r := range idx {
			a[r] += leaf
		}
		return
	}
	if tr.rowWise {
		// A lopsided tree: most rows stop long before its depth, so
		// each row walks alone, down to its leaf.
		for r := range idx {
			i := tr.root
			for {
				nd := at(i)
				if nd.next == i {
					break
				}
				i = nd.next + b2i(value(nd, r) < nd.thresh)
			}
			a[r] += float32(at(i).leaf * w)
		}
		return
	}
	// The first step: every row is at the root, so its split is read once.
	root := at(tr.root)
	xr := x[int(root.feat)*blockRows:][:len(idx)]
	for r, v := range xr {
		idx[r] = root.next + b2i(v < root.thresh)
	}
	for range tr.depth - 2 {
		for r, i := range idx {
			nd := at(i)
			idx[r] = nd.next + b2i(value(nd, r) < nd.thresh)
		}
	}
	a = a[:len(idx)]
	if tr.depth == 1 {
		for r, i := range idx {
			a[r] += float32(at(i).leaf * w)
		}
		return
	}
	for r, i := range idx {
		nd := at(i)
		a[r] += float32(at(nd.next+b2i(value(nd, r) < nd.thresh)).leaf * w)
	}
}

// walkOn takes the rows of a block on from the nodes idx holds, steps
// levels down tr as walkSum does, and adds their leaves' values to a. It
// spells out walkSum's unchecked accessors: shared through a function
// returning them, they cost the scalar walk more than twice its time.
func walkOn(nodes []node, tr *tree, x []float32, idx []int32, a []float32, steps int) {
	np := unsafe.Pointer(unsafe.SliceData(nodes))
	xp := unsafe.Pointer(unsafe.SliceData(x))
	at := func(i int32) *node { return (*node)(unsafe.Add(np, uintptr(i)*unsafe.Sizeof(node{}))) }
	for range steps {
		for r, i := range idx {
			nd := at(i)
			v := *(*float32)(unsafe.Add(xp, (uintptr(nd.feat)*blockRows+uintptr(r))*4))
			idx[r] = nd.next + b2i(v < nd.thresh)
		}
	}
	a = a[:len(idx)]
	for r, i := range idx {
		a[r] += float32(at(i).leaf * tr.weight)
	}
}

// walkSlow walks a block through a tree one row at a time down to its
// leaf, reading the raw values (NaN for missing): it serves trees with
// categorical splits.
func (m *Model) walkSlow(tr *tree, raw []float32, idx []int32) {
	nodes := m.nodes
	for r := range idx {
		i := tr.root
		for {
			nd := &nodes[i]
			if nd.next == i {
				break
			}
			v := raw[int(nd.feat>>1)*blockRows+r]
			var left bool
			switch {
			case v != v:
				left = nd.feat&1 != 0
			case m.catOf != nil && m.catOf[i] >= 0:
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
			xgbmath.Softmax(row)
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
				out[r*ng+g] = float64(xgbmath.Sigmoid(v))
			}
		case transformExp:
			for r, v := range a {
				out[r*ng+g] = float64(xgbmath.Expf(v))
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
