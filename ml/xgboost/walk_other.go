//go:build !amd64 || purego

package xgboost

// hasWalk512 is false: this platform has no vector walk.
var hasWalk512 = false

func walkTree(m *Model, tr *tree, x []float32, a []float32) {
	panic("xgboost: no vector walk on this platform")
}

func walkTop(m *Model, tr *tree, x []float32, idx []int32) {
	panic("xgboost: no vector walk on this platform")
}
