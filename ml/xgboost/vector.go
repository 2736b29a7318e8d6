package xgboost

import "math"

// vecDepth is the depth of the complete trees the vector walk (walkTree)
// steps through: a level of at most 32 nodes is a lookup in registers. A
// deeper tree walks its first vecDepth levels so (walkTop), and the rest
// a row at a time.
const vecDepth = 6

// vecTable is the layout of a tree as a complete tree of depth vecDepth,
// in uint32 words: per level L (2^L nodes, node p's children at 2p, left,
// and 2p+1, right) the thresholds (float32 bits) from vecLevelAt(L), the
// value offsets (feat·blockRows) from vecLevelWords + vecLevelAt(L), then
// the 64 leaves' values times the tree's weight from vecLeaves. A leaf above the last level
// stands for the whole subtree below it: its split, threshold 0 on copy
// 0, sends rows to two copies of it. Levels 0 to 4 take 16 words each,
// level 5 32. A tree deeper than vecDepth has, in place of the 64 leaf
// values, the indexes of the nodes at level vecDepth.
const (
	vecLevelWords = 16*5 + 32
	vecLeaves     = 2 * vecLevelWords
	vecTableWords = vecLeaves + 64
)

// vecLevelAt is the first word of level L within a half (thresholds or
// value offsets) of a vecTable.
func vecLevelAt(L int) int { return 16 * L }

// vectorTables builds the vecTable of every tree the vector walk can take
// (a fast, balanced tree of depth 1 or more), when the processor has one
// (hasWalk512).
func (m *Model) vectorTables() {
	for t := range m.trees {
		m.trees[t].vec = -1
	}
	if !hasWalk512 {
		return
	}
	for t := range m.trees {
		tr := &m.trees[t]
		if tr.slow || tr.rowWise || tr.depth < 1 {
			continue
		}
		tr.vec = int32(len(m.vec))
		m.vec = append(m.vec, make([]uint32, vecTableWords)...)
		m.fillVec(m.vec[tr.vec:][:vecTableWords], tr.root, 0, 0, tr.weight, tr.depth > vecDepth)
	}
}

// fillVec writes node i, at level L and position p of the complete tree,
// and its subtree into tab; deep: the tree goes on below vecDepth.
func (m *Model) fillVec(tab []uint32, i int32, L, p int, w float32, deep bool) {
	nd := &m.nodes[i]
	if L == vecDepth && deep {
		tab[vecLeaves+p] = uint32(i)
		return
	}
	if L == vecDepth {
		// As walkSum adds it: the leaf times the weight, in float32.
		tab[vecLeaves+p] = math.Float32bits(float32(nd.leaf * w))
		return
	}
	at := vecLevelAt(L) + p
	if nd.next == i {
		tab[at], tab[vecLevelWords+at] = 0, 0
		m.fillVec(tab, i, L+1, 2*p, w, deep)
		m.fillVec(tab, i, L+1, 2*p+1, w, deep)
		return
	}
	tab[at] = math.Float32bits(nd.thresh)
	tab[vecLevelWords+at] = nd.feat * blockRows
	m.fillVec(tab, nd.next+1, L+1, 2*p, w, deep) // value < thresh: left
	m.fillVec(tab, nd.next, L+1, 2*p+1, w, deep)
}
