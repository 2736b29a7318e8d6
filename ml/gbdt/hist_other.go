//go:build !amd64 || purego

package gbdt

// histPass has no assembly on this platform: histRows's Go loops run.
func histPass[B uint8 | uint16](slots [][]float64, cols [][]B, rows []uint32, gp []float32) bool {
	return false
}

func histRun[B uint8 | uint16](slots []float64, col []B, rows []uint32, gp []float32) bool {
	return false
}
