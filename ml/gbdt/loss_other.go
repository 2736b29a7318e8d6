//go:build !amd64 || purego

package gbdt

const hasAVX2 = false

var useAVX2 = false

const lossN = 11

var lossConsts [lossN][4]uint64

func logLossesAVX2(prob, label *float32, n int, lanes, nonBinary *[4]float64, c *[lossN][4]uint64) {
	panic("logLossesAVX2 without AVX2")
}
