//go:build amd64 && !purego

package gbdt

import (
	"math"

	"golang.org/x/sys/cpu"
)

var hasAVX2 = cpu.X86.HasAVX2

// useAVX2 is hasAVX2; tests turn it off to compare.
var useAVX2 = hasAVX2

// logLossesAVX2 (loss_amd64.s) adds rows 0..n−1 (n a multiple of 4) into
// lanes and nonBinary as logLosses's Go loop does, row i into lane i%4.
// c is lossConsts.
//
//go:noescape
func logLossesAVX2(prob, label *float32, n int, lanes, nonBinary *[4]float64, c *[lossN][4]uint64)

const lossN = 11

// lossConsts are logLossesAVX2's constants, four lanes each, in the order
// its code reads them.
var lossConsts = func() (c [lossN][4]uint64) {
	f := math.Float64bits
	vals := [lossN]uint64{
		f(1), f(probEps), 127, // 0 1, 1 the clip, 2 the table index
		1<<52 - 1, 1023 << 52, // 3 the mantissa, 4 its exponent in [1, 2)
		f(0x1p52), f(0x1p52 + 1023), // 5, 6: the exponent to float64
		f(math.Ln2), f(0.25), f(1.0 / 3), f(0.5), // 7..10
	}
	for i, v := range vals {
		c[i] = [4]uint64{v, v, v, v}
	}
	return c
}()
