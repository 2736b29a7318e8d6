//go:build !amd64 || purego

package gbdt

// usePartition512 is false: this platform has no vector partition.
var usePartition512 = false

// partitionVector has no vector form on this platform.
func partitionVector(rows, scratch []uint32, codes []uint8, bits *[8]uint32) (nl, nr, done int) {
	return 0, 0, 0
}
