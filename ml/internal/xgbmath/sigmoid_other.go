//go:build !amd64 || purego

package xgbmath

const hasAVX2 = false

var useAVX2 = false

const sigN = 19

var sigConsts [sigN][4]uint64

func sigmoidsAVX2(p, m *float32, n int, slow *int32, c *[sigN][4]uint64) int {
	panic("sigmoidsAVX2 without AVX2")
}
