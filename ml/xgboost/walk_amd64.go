//go:build amd64 && !purego

package xgboost

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasWalk512 is whether the processor has AVX-512: then trees of depth
// up to vecDepth walk sixteen rows at a time (walkTree).
var hasWalk512 = cpu.X86.HasAVX512F

// walkTree512 adds to a[r], for each of the n rows of a block, the leaf
// value its walk through one tree's vecTable ends at. Per sixteen rows
// and level, the node's threshold and value offset are looked up in
// registers (the tables of a level fit one or two), the rows' values
// gathered from x, and each row goes left when value < threshold, as
// walkSum's steps do.
//
//go:noescape
func walkTree512(tab *uint32, x *float32, a *float32, n int)

// walkTree is walkTree512 on tree tr's table: x is the block's feature
// copies, a its margins (len(a) rows). The caller checked hasWalk512 and
// tr.vec >= 0.
func walkTree(m *Model, tr *tree, x []float32, a []float32) {
	if len(a) == 0 {
		return
	}
	tab := m.vec[tr.vec:][:vecTableWords]
	walkTree512(unsafe.SliceData(tab), unsafe.SliceData(x), unsafe.SliceData(a), len(a))
}

// walkTree512 finds a row's value at feat·128 + row (vecTable's offsets):
// blockRows must be 128, and a block's rows at most that.
var (
	_ [blockRows - 128]struct{}
	_ [128 - blockRows]struct{}
)
