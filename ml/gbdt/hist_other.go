//go:build !amd64 || purego

package gbdt

// histPass has no assembly on this platform: histRows's Go loops run.
func histPass[B uint8 | uint16](h *Histogram, cols [][]B, feats []int, rows []uint32, gp []float32) bool {
	return false
}

func histRun[B uint8 | uint16](h *Histogram, cols [][]B, f int, rows []uint32, gp []float32) bool {
	return false
}
