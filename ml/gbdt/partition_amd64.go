//go:build amd64 && !purego

package gbdt

import "golang.org/x/sys/cpu"

// usePartition512 is whether partitionTable moves sixteen rows at a time
// in AVX-512 (partitionBits512); tests turn it off to compare.
var usePartition512 = cpu.X86.HasAVX512F && cpu.X86.HasPOPCNT

// partitionBits512 partitions rows[0:n] (n a multiple of 16) by byte
// codes: row r goes left when bit codes[r] of bits is set. The left rows
// are written from rows[0] on, the others from scratch[0] on, each side
// in order; it returns how many went each way. Per sixteen rows it
// gathers their codes (four bytes from codes+r: codes has three bytes to
// spare), looks their bits up in a register and compresses the rows of
// each side into place — a write of sixteen rows that runs past a side's
// count only overwrites rows already read, or scratch the caller sized
// for it.
//
//go:noescape
func partitionBits512(rows *uint32, n int, scratch *uint32, codes *uint8, bits *[8]uint32) (nl, nr int)

// partitionVector runs partitionBits512 over the longest prefix of rows
// it can take (a multiple of 16) and returns the counts and that prefix's
// length; 0, 0, 0 when it cannot run (no AVX-512, or codes without three
// bytes of capacity to spare).
func partitionVector(rows, scratch []uint32, codes []uint8, bits *[8]uint32) (nl, nr, done int) {
	done = len(rows) &^ 15
	if !usePartition512 || done == 0 || cap(codes)-len(codes) < 3 || len(codes) >= 1<<31 || len(scratch) < len(rows) {
		return 0, 0, 0
	}
	nl, nr = partitionBits512(&rows[0], done, &scratch[0], &codes[0], bits)
	return nl, nr, done
}
