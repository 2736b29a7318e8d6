package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/flint-engine/flint/exec/hashing"
)

// HashPartition splits batch into n batches by its key columns: row r goes
// to partition hashing.PartitionOf(hashing.HashColumns(keys)[r], n), i.e.
// the stable key hash documented in package hashing, remixed, modulo n.
// The assignment is identical across processes and versions, so both sides
// of a shuffled join, and all map tasks of a shuffled aggregate, agree.
// Rows with NULL keys go to one fixed partition. Empty partitions are nil;
// the caller releases the non-nil batches. Row order within a partition is
// preserved.
func HashPartition(ctx context.Context, batch arrow.RecordBatch, keyCols []int, n int) ([]arrow.RecordBatch, error) {
	if n <= 0 {
		return nil, fmt.Errorf("hash partition: partition count must be positive, got %d", n)
	}
	schema := batch.Schema()
	keys := make([]arrow.Array, len(keyCols))
	for i, c := range keyCols {
		if c < 0 || c >= int(batch.NumCols()) {
			return nil, fmt.Errorf("hash partition: key column %d out of range (batch has %d columns)", c, batch.NumCols())
		}
		if dt := schema.Field(c).Type; !hashing.SupportedKeyType(dt) {
			return nil, fmt.Errorf("hash partition: key column %q: unsupported key type %s", schema.Field(c).Name, dt)
		}
		keys[i] = batch.Column(c)
	}
	if len(keyCols) == 0 {
		return nil, fmt.Errorf("hash partition: no key columns")
	}
	out := make([]arrow.RecordBatch, n)
	rows := int(batch.NumRows())
	if rows == 0 {
		return out, nil
	}
	if n == 1 {
		batch.Retain()
		out[0] = batch
		return out, nil
	}
	hashes := make([]uint64, rows)
	if err := hashing.HashColumns(keys, hashes); err != nil {
		return nil, fmt.Errorf("hash partition: %w", err)
	}
	part := make([]int32, rows)
	counts := make([]int32, n+1)
	for r, h := range hashes {
		p := int32(hashing.PartitionOf(h, n))
		part[r] = p
		counts[p+1]++
	}
	for p := 1; p <= n; p++ {
		counts[p] += counts[p-1]
	}
	idx := make([]int32, rows)
	fill := make([]int32, n)
	copy(fill, counts[:n])
	for r, p := range part {
		idx[fill[p]] = int32(r)
		fill[p]++
	}
	mem := Allocator(ctx)
	release := func() {
		for _, b := range out {
			if b != nil {
				b.Release()
			}
		}
	}
	for p := 0; p < n; p++ {
		sel := idx[counts[p]:counts[p+1]]
		if len(sel) == 0 {
			continue
		}
		if len(sel) == rows {
			batch.Retain()
			out[p] = batch
			continue
		}
		cols := make([]arrow.Array, batch.NumCols())
		for c := range cols {
			a, err := hashing.Take(mem, batch.Column(c), sel)
			if err != nil {
				for _, x := range cols[:c] {
					x.Release()
				}
				release()
				return nil, fmt.Errorf("hash partition: column %q: %w", schema.Field(c).Name, err)
			}
			cols[c] = a
		}
		out[p] = array.NewRecordBatch(schema, cols, int64(len(sel)))
		for _, a := range cols {
			a.Release()
		}
	}
	return out, nil
}
