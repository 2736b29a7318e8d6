//go:build amd64 && !purego

package xgboost

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasWalk512 is whether the processor has AVX-512: then trees walk
// their first vecDepth levels sixteen rows at a time (walkTree, walkTop).
var hasWalk512 = cpu.X86.HasAVX512F

// walkTree512 walks the n rows of a block through the first vecDepth
// levels of a tree's vecTable and adds each row's leaf value to out (a
// []float32 of margins), or with store set writes the word its walk ends
// at — a node index — to out (a []int32). Per sixteen rows and level, the
// node's threshold and value offset are looked up in registers (the
// tables of a level fit one or two), the rows' values gathered from x,
// and each row goes left when value < threshold, as walkSum's steps do.
//
//go:noescape
func walkTree512(tab *uint32, x *float32, out unsafe.Pointer, n int, store int)

// walkTree adds tree tr's leaf values to the block's margins a (len(a)
// rows): x is the block's feature copies. The caller checked hasWalk512,
// tr.vec >= 0 and tr.depth <= vecDepth.
func walkTree(m *Model, tr *tree, x []float32, a []float32) {
	if len(a) == 0 {
		return
	}
	tab := m.vec[tr.vec:][:vecTableWords]
	walkTree512(unsafe.SliceData(tab), unsafe.SliceData(x), unsafe.Pointer(unsafe.SliceData(a)), len(a), 0)
}

// walkTop sets idx[r] to the node row r reaches after vecDepth levels of
// tree tr (deeper than that): the walk's scalar steps go on from there.
func walkTop(m *Model, tr *tree, x []float32, idx []int32) {
	if len(idx) == 0 {
		return
	}
	tab := m.vec[tr.vec:][:vecTableWords]
	walkTree512(unsafe.SliceData(tab), unsafe.SliceData(x), unsafe.Pointer(unsafe.SliceData(idx)), len(idx), 1)
}

// walkTree512 finds a row's value at feat·128 + row (vecTable's offsets):
// blockRows must be 128, and a block's rows at most that.
var (
	_ [blockRows - 128]struct{}
	_ [128 - blockRows]struct{}
)
