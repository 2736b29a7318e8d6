//go:build amd64 && !purego

package xgbmath

import (
	"math"

	"golang.org/x/sys/cpu"
)

var hasAVX2 = cpu.X86.HasAVX2

// useAVX2 is hasAVX2; tests turn it off to compare.
var useAVX2 = hasAVX2

// sigmoidsAVX2 (sigmoid_amd64.s) sets p[i] for i < n (a multiple of 4)
// from m[i] as sigmoidsGo does, and writes into slow, returning how many,
// the rows it could not decide (out of the polynomial's range, NaN, or
// near a float32 midpoint), whose p[i] the caller sets. c is sigConsts.
//
//go:noescape
func sigmoidsAVX2(p, m *float32, n int, slow *int32, c *[sigN][4]uint64) int

// sigConsts are the constants of sigmoidsAVX2, four lanes each, in the
// order its code reads them (offsets 32·k); they are sigmoidsGo's.
const sigN = 19

var sigConsts = func() (c [sigN][4]uint64) {
	f := func(v float64) uint64 { return math.Float64bits(v) }
	vals := [sigN]uint64{
		1 << 63,         // 0 sign
		f(-87), f(88.7), // 1, 2 the range
		f(expN / math.Ln2),   // 3
		f(expShift),          // 4
		f(ln2HiN), f(ln2LoN), // 5, 6
		f(1), f(1.0 / 2), f(1.0 / 6), f(1.0 / 24), f(1.0 / 120), f(1.0 / 720), // 7..12
		expN - 1, ^uint64(expN - 1), // 13, 14: the table index, the exponent's
		1<<29 - 1, 1<<28 - expGuard, // 15, 16: the dropped bits, the guard's low end
		^uint64(0), 2 * expGuard, // 17, 18: -1 and the guard's width
	}
	for i, v := range vals {
		c[i] = [4]uint64{v, v, v, v}
	}
	return c
}()
