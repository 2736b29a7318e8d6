package gbdt

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPartitionTable: partitioning rows by a table of byte codes keeps
// each side's rows in order, lefts first, whether sixteen rows go at a
// time (partitionVector) or one — for every length around multiples of
// sixteen, and codes at the end of their column.
func TestPartitionTable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 300
	codes := make([]uint8, n, n+3)
	for i := range codes {
		codes[i] = uint8(r.IntN(256))
	}
	var tbl [maxJoint]uint8
	for c := range tbl {
		tbl[c] = uint8(r.IntN(2))
	}
	vector := usePartition512
	defer func() { usePartition512 = vector }()
	for _, use := range []bool{false, vector} {
		usePartition512 = use
		for m := 0; m <= n; m += 1 + m/16 {
			// m rows, ascending: the column's last m, or m of its rows at
			// random.
			rows := make([]uint32, 0, m)
			if m%2 == 0 {
				for i := n - m; i < n; i++ {
					rows = append(rows, uint32(i))
				}
			} else {
				for _, i := range r.Perm(n)[:m] {
					rows = append(rows, uint32(i))
				}
				slices.Sort(rows)
			}
			var left, right []uint32
			for _, row := range rows {
				if tbl[codes[row]] == 1 {
					left = append(left, row)
				} else {
					right = append(right, row)
				}
			}
			scratch := make([]uint32, n)
			nl := partitionTable(rows, scratch, codes, &tbl)
			if nl != len(left) || !slices.Equal(rows, append(left, right...)) {
				t.Fatalf("vector %v, %d rows: %d left, rows %v; want %d, %v", use, m, nl, rows, len(left), append(left, right...))
			}
		}
	}
	if !vector {
		t.Log("no AVX-512 here: only the scalar partition ran")
	}
}
