package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/flint-engine/flint/exec/hashing"
	"github.com/flint-engine/flint/spill"
)

// Spilling of single and final hash aggregation, radix-partitioned as in
// DuckDB's and grace hash aggregation.
//
// When the table cannot grow, its groups are written out as partial states
// (the kernels' partial form, AggStateTypes) to one spill file per
// partition, a partition being 4 bits of the group key's hash, and the
// aggregation goes on with an empty table; a later spill of the same run
// writes new files. At the end of the input the last table is spilled too
// and every partition is merged on its own into a fresh table, its states
// folded with the kernels' merge — all of a group's states are in one
// partition, so the merged table holds its final values. A partition that
// still does not fit spills again, split on the hash's next 4 bits
// (recursively, 16 levels of 4 bits); a partition of one group cannot be
// split, and its reservation error is returned.
//
// Single mode spills states too (kernels expose them in every mode): never
// more rows than the raw input, fewer whenever the table reduced it, and
// all of a group's raw rows need not be kept for DISTINCT either. A
// DISTINCT aggregate's state is the set of its (group, value) pairs: they
// are spilled as rows carrying the group key and the value in a column of
// its own, every state NULL, and merging feeds them through the DISTINCT
// filter again, which removes the duplicates across spills. State rows
// carry NULL in the value columns. NULL states and values merge as
// nothing, so every batch of a spill file is merged the same way.
//
// The partition bits come from the key hash remixed with a salt of their
// own, so they are independent of the exchange partition (PartitionOf,
// another salt: every row of this task has the same one) and of the
// table's slots (the raw hash's top bits).
//
// An aggregate without group columns holds O(1) state, but for the values
// of its DISTINCT aggregates: those spill alone, partitioned by the hash
// of the value, and the DISTINCT aggregates start over (their values are
// all in the files). Each partition, a disjoint set of values, is
// deduplicated on its own into fresh DISTINCT kernels whose states are
// then merged into accumulators (distAcc) — every aggregate's state merges
// across disjoint inputs. A partition that spills again is dropped from
// the accumulators' view; its sub-partitions fold in later. The other
// aggregates never leave memory.
//
// After a spill the next table is sized like the spilled one and reuses
// its kernels' slices (when the pool grants them again): it will fill up
// alike. Spill writers buffer 256 KiB each; the 16 of a spill exist only
// while it runs and are not reserved.

const (
	aggSpillBits     = 4
	aggSpillFanout   = 1 << aggSpillBits
	aggSpillMaxLevel = 64/aggSpillBits - 1
	aggSpillSalt     = 0x94D049BB133111EB
)

// aggSpill is the spill state of a hash aggregate.
type aggSpill struct {
	spills      *spill.Manager
	spillSchema *arrow.Schema // keys, states of the other aggregates, DISTINCT values
	spillIn     aggLayout     // how spilled batches are merged
	hasDistinct bool          // some aggregate is DISTINCT
	distAcc     []aggKernel   // global aggregates: DISTINCT states of merged partitions

	level    int             // hash bits the current run partitions by
	runFiles [][]*spill.File // per partition, what the current run spilled; nil: nothing
	parts    []*aggPart      // partitions waiting to be merged (a stack)
	cur      *aggPart        // the partition being merged
	deepest  int             // deepest level merged (tests)

	partHashes []uint64
	partOf     []uint8
	perm       []int32
	gids       []int32
}

// aggPart is a spilled partition: files of states written at level.
type aggPart struct {
	files []*spill.File
	level int
}

// aggSpillPartition is the partition of key hash h at level.
func aggSpillPartition(h uint64, level int) int {
	h ^= aggSpillSalt
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return int(h>>(64-aggSpillBits*(level+1))) & (aggSpillFanout - 1)
}

// initSpill lays out spill files (single and final modes with group
// columns: the ones that spill), on the first spill.
func (h *hashAggregate) initSpill() error {
	if h.spillSchema != nil {
		return nil
	}
	var fields []arrow.Field
	lay := aggLayout{merge: true}
	for i, t := range h.keyTypes {
		lay.keys = append(lay.keys, len(fields))
		if aggIsString(t) {
			lay.strKeys = append(lay.strKeys, len(fields))
		}
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("k%d", i), Type: t, Nullable: true})
	}
	for i, a := range h.aggs {
		lay.masks = append(lay.masks, -1)
		lay.vals = append(lay.vals, -1)
		var cols []int
		if !a.Distinct && len(h.keyTypes) > 0 { // global states stay in memory
			st := AggStateTypes(a.Func, h.argTypes[i])
			if st == nil {
				return fmt.Errorf("hash aggregate: %s: no state types for %s", a.Name, h.argTypes[i])
			}
			for j, t := range st {
				cols = append(cols, len(fields))
				fields = append(fields, arrow.Field{Name: fmt.Sprintf("a%d_%d", i, j), Type: t, Nullable: true})
			}
			if aggCopiesStrings(a, h.argTypes[i]) {
				lay.strs = append(lay.strs, cols[0])
			}
		}
		lay.cols = append(lay.cols, cols)
	}
	for i, a := range h.aggs {
		if a.Distinct {
			lay.vals[i] = len(fields)
			if aggIsString(h.argTypes[i]) {
				lay.strs = append(lay.strs, len(fields))
			}
			fields = append(fields, arrow.Field{Name: fmt.Sprintf("d%d", i), Type: h.argTypes[i], Nullable: true})
		}
	}
	lay.strs = append(lay.strs, lay.strKeys...)
	h.spillSchema = arrow.NewSchema(fields, nil)
	h.spillIn = lay
	return nil
}

// spillTable writes the table's groups to this run's partitions and drops
// the table.
func (h *hashAggregate) spillTable(ctx context.Context) error {
	if err := h.initSpill(); err != nil {
		return err
	}
	if h.runFiles == nil {
		h.runFiles = make([][]*spill.File, aggSpillFanout)
	}
	ws := make([]*spill.Writer, aggSpillFanout)
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.Abort()
			}
		}
	}()
	if h.table == nil {
		return h.spillValues(ctx, ws)
	}
	mem := Allocator(ctx)
	chunk := aggSpillChunk(ctx)
	for from := 0; from < h.ngroups; from += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		to := min(from+chunk, h.ngroups)
		cols, err := h.table.Keys(mem, from, to)
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		for i, k := range h.kernels {
			if h.distinct[i] != nil {
				continue
			}
			st, err := k.partial(mem, from, to)
			if err != nil {
				aggRelease(cols)
				return fmt.Errorf("hash aggregate: %w", err)
			}
			cols = append(cols, st...)
		}
		for i := range h.aggs {
			if c := h.spillIn.vals[i]; c >= 0 {
				cols = append(cols, array.MakeArrayOfNull(mem, h.spillSchema.Field(c).Type, to-from))
			}
		}
		err = h.writeParts(ctx, ws, cols, cols[:len(h.keyTypes)], to-from)
		aggRelease(cols)
		if err != nil {
			return err
		}
	}
	if h.hasDistinct {
		// The states are written: give their memory back before the
		// pairs need a copy of the keys.
		var states int64
		for i, k := range h.kernels {
			states += k.bytesFor(h.ngroups)
			h.kernels[i] = nil
		}
		h.res.Shrink(states)
		if err := h.spillPairs(ctx, ws); err != nil {
			return err
		}
	}
	if err := h.finishSpill(ws); err != nil {
		return err
	}
	// Drop the table but keep the kernels (their reservation is given
	// back; newTable asks for it again).
	h.presize = h.ngroups
	h.table, h.ngroups, h.live = nil, 0, false
	for _, d := range h.distinct {
		if d != nil {
			d.reset(nil)
		}
	}
	h.freeTableMem()
	return nil
}

// finishSpill closes the writers of a spill and adds their files to the
// run's partitions.
func (h *hashAggregate) finishSpill(ws []*spill.Writer) error {
	for p, w := range ws {
		if w == nil {
			continue
		}
		ws[p] = nil
		f, err := w.Finish()
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		h.runFiles[p] = append(h.runFiles[p], f)
		h.stats.SpilledBytes += f.Size()
		h.stats.SpillFiles++
	}
	return nil
}

// spillValues writes a global aggregate's DISTINCT values, partitioned by
// value, and starts its DISTINCT aggregates over.
func (h *hashAggregate) spillValues(ctx context.Context, ws []*spill.Writer) error {
	if err := h.writeDistinct(ctx, ws, nil); err != nil {
		return err
	}
	if err := h.finishSpill(ws); err != nil {
		return err
	}
	if err := h.restartDistinct(); err != nil {
		return err
	}
	h.freeTableMem() // the next reserve asks again for what is left
	return nil
}

// restartDistinct gives a global aggregate's DISTINCT aggregates fresh
// kernels and value tables.
func (h *hashAggregate) restartDistinct() error {
	for i, d := range h.distinct {
		if d == nil {
			continue
		}
		k, err := newAggKernel(h.aggs[i].Func, h.argTypes[i], h.aggs[i].Name)
		if err != nil {
			return err
		}
		k.resize(1)
		h.kernels[i] = k
		t, err := hashing.NewTable([]arrow.DataType{arrow.PrimitiveTypes.Uint32, h.argTypes[i]})
		if err != nil {
			return err
		}
		d.reset(t)
	}
	return nil
}

// distinctValues is the number of DISTINCT values held.
func (h *hashAggregate) distinctValues() int {
	n := 0
	for _, d := range h.distinct {
		if d != nil && d.table != nil {
			n += d.table.Len()
		}
	}
	return n
}

// foldDistinct merges the DISTINCT states of a global aggregate's merged
// partition into the accumulators.
func (h *hashAggregate) foldDistinct(ctx context.Context) error {
	mem := Allocator(ctx)
	zero := []uint32{0}
	for i, d := range h.distinct {
		if d == nil {
			continue
		}
		if h.distAcc[i] == nil {
			k, err := newAggKernel(h.aggs[i].Func, h.argTypes[i], h.aggs[i].Name)
			if err != nil {
				return err
			}
			k.resize(1)
			h.distAcc[i] = k
		}
		st, err := h.kernels[i].partial(mem, 0, 1)
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		err = h.distAcc[i].merge(st, zero)
		aggRelease(st)
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
	}
	return nil
}

// finishGlobal makes the accumulated DISTINCT states the ones emitted.
func (h *hashAggregate) finishGlobal() {
	for i, k := range h.distAcc {
		if k != nil {
			h.kernels[i] = k
		}
	}
	h.distAcc = nil
}

// spillPairs writes the DISTINCT aggregates' (group, value) pairs, each as
// a row of the group's key and the value, states NULL.
func (h *hashAggregate) spillPairs(ctx context.Context, ws []*spill.Writer) error {
	if h.ngroups == 0 {
		return nil
	}
	mem := Allocator(ctx)
	// Pairs name groups by id; their keys are gathered from all keys at
	// once, a copy held (and reserved) only while the pairs are written.
	keys, err := h.table.Keys(mem, 0, h.ngroups)
	if err != nil {
		return fmt.Errorf("hash aggregate: %w", err)
	}
	defer aggRelease(keys)
	var held int64
	for _, k := range keys {
		held += spill.DataBytes(k.Data())
	}
	h.res.Grow(held)
	defer h.res.Shrink(held)
	return h.writeDistinct(ctx, ws, keys)
}

// writeDistinct writes the DISTINCT aggregates' values as rows: the keys
// of their groups (keys, all groups' keys; none for a global aggregate),
// the value in its aggregate's column, states NULL. Rows are partitioned
// by the keys, or by the value when there are none.
func (h *hashAggregate) writeDistinct(ctx context.Context, ws []*spill.Writer, keys []arrow.Array) error {
	mem := Allocator(ctx)
	chunk := aggSpillChunk(ctx)
	nf := h.spillSchema.NumFields()
	for i, d := range h.distinct {
		if d == nil {
			continue
		}
		np := d.table.Len()
		for p0 := 0; p0 < np; p0 += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			p1 := min(p0+chunk, np)
			pk, err := d.table.Keys(mem, p0, p1)
			if err != nil {
				return fmt.Errorf("hash aggregate: %w", err)
			}
			cols := make([]arrow.Array, 0, nf)
			if len(keys) > 0 {
				h.gids = h.gids[:0]
				for _, g := range hashing.FixedValues[uint32](pk[0]) {
					h.gids = append(h.gids, int32(g))
				}
				for _, k := range keys {
					t, err := hashing.Take(mem, k, h.gids)
					if err != nil {
						aggRelease(cols)
						aggRelease(pk)
						return fmt.Errorf("hash aggregate: %w", err)
					}
					cols = append(cols, t)
				}
			}
			for c := len(keys); c < nf; c++ {
				if c == h.spillIn.vals[i] {
					pk[1].Retain()
					cols = append(cols, pk[1])
				} else {
					cols = append(cols, array.MakeArrayOfNull(mem, h.spillSchema.Field(c).Type, p1-p0))
				}
			}
			aggRelease(pk)
			by := cols[:len(keys)]
			if len(keys) == 0 {
				by = cols[h.spillIn.vals[i] : h.spillIn.vals[i]+1]
			}
			err = h.writeParts(ctx, ws, cols, by, p1-p0)
			aggRelease(cols)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// writeParts writes the n rows of cols (spill schema) to the writers of
// their partitions, which the hash of hashCols picks.
func (h *hashAggregate) writeParts(ctx context.Context, ws []*spill.Writer, cols, hashCols []arrow.Array, n int) error {
	if cap(h.partHashes) < n {
		h.partHashes = make([]uint64, n)
		h.partOf = make([]uint8, n)
		h.perm = make([]int32, n)
	}
	hashes := h.partHashes[:n]
	if err := hashing.HashColumns(hashCols, hashes); err != nil {
		return fmt.Errorf("hash aggregate: %w", err)
	}
	var start [aggSpillFanout + 1]int
	for r, x := range hashes {
		p := aggSpillPartition(x, h.level)
		h.partOf[r] = uint8(p)
		start[p+1]++
	}
	for p := range aggSpillFanout {
		if start[p+1] == n {
			b := array.NewRecordBatch(h.spillSchema, cols, int64(n))
			defer b.Release()
			return h.writePart(ctx, ws, p, b)
		}
		start[p+1] += start[p]
	}
	pos := start
	perm := h.perm[:n]
	for r, p := range h.partOf[:n] {
		perm[pos[p]] = int32(r)
		pos[p]++
	}
	sorted := make([]arrow.Array, 0, len(cols))
	for _, c := range cols {
		t, err := hashing.Take(Allocator(ctx), c, perm)
		if err != nil {
			aggRelease(sorted)
			return fmt.Errorf("hash aggregate: %w", err)
		}
		sorted = append(sorted, t)
	}
	b := array.NewRecordBatch(h.spillSchema, sorted, int64(n))
	aggRelease(sorted)
	defer b.Release()
	for p := range aggSpillFanout {
		if start[p+1] == start[p] {
			continue
		}
		s := b.NewSlice(int64(start[p]), int64(start[p+1]))
		err := h.writePart(ctx, ws, p, s)
		s.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (h *hashAggregate) writePart(ctx context.Context, ws []*spill.Writer, p int, b arrow.RecordBatch) error {
	if ws[p] == nil {
		w, err := h.spills.Create("agg", h.spillSchema, Allocator(ctx))
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		w.GatherUpTo(BatchSize(ctx))
		ws[p] = w
	}
	if err := ws[p].Write(b); err != nil {
		return fmt.Errorf("hash aggregate: %w", err)
	}
	return nil
}

// endRun spills what the table holds and queues the run's partitions for
// merging.
func (h *hashAggregate) endRun(ctx context.Context) error {
	if (h.table != nil && h.ngroups > 0) || (h.table == nil && h.distinctValues() > 0) {
		if err := h.spillTable(ctx); err != nil {
			return err
		}
	}
	for p := aggSpillFanout - 1; p >= 0; p-- {
		if fs := h.runFiles[p]; len(fs) > 0 {
			h.parts = append(h.parts, &aggPart{files: fs, level: h.level})
		}
	}
	h.runFiles = nil
	if len(h.groupCols) > 0 {
		h.dropTable() // a global aggregate keeps its states
	}
	return nil
}

// mergeNext merges the next spilled partition into a fresh table. spilled:
// it did not fit and was split into partitions of the next level instead.
func (h *hashAggregate) mergeNext(ctx context.Context) (spilled bool, err error) {
	p := h.parts[len(h.parts)-1]
	h.parts = h.parts[:len(h.parts)-1]
	h.cur = p
	h.level = p.level + 1
	h.deepest = max(h.deepest, h.level)
	global := len(h.groupCols) == 0
	if global {
		// Fresh DISTINCT aggregates for this partition's values; the
		// others keep their state.
		if h.distAcc == nil {
			h.distAcc = make([]aggKernel, len(h.aggs))
		}
		if err := h.restartDistinct(); err != nil {
			return false, err
		}
		h.freeTableMem()
	} else if err := h.ensureTable(); err != nil {
		return false, err
	}
	for i, f := range p.files {
		if err := h.mergeFile(ctx, f); err != nil {
			return false, err
		}
		f.Remove()
		p.files[i] = nil
	}
	h.cur = nil
	if h.runFiles != nil {
		return true, h.endRun(ctx)
	}
	if global {
		return false, h.foldDistinct(ctx)
	}
	return false, nil
}

func (h *hashAggregate) mergeFile(ctx context.Context, f *spill.File) error {
	r, err := f.Open(Allocator(ctx))
	if err != nil {
		return fmt.Errorf("hash aggregate: %w", err)
	}
	defer r.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := r.Next()
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		if b == nil {
			return nil
		}
		_, err = h.feed(ctx, b, &h.spillIn, 0)
		b.Release()
		if err != nil {
			return err
		}
	}
}

// removeSpills removes every spill file the operator still has.
func (h *hashAggregate) removeSpills() {
	if h.cur != nil {
		for _, f := range h.cur.files {
			f.Remove()
		}
		h.cur = nil
	}
	for _, p := range h.parts {
		for _, f := range p.files {
			f.Remove()
		}
	}
	h.parts = nil
	for _, fs := range h.runFiles {
		for _, f := range fs {
			f.Remove()
		}
	}
	h.runFiles = nil
	h.level = 0
	h.distAcc = nil
}

// aggSpillChunk is the rows per spilled batch: the batch size, but at
// least 1024 rows so that tiny batch sizes do not pay an IPC message per
// row (spill files are internal, and merging slices what it reads).
func aggSpillChunk(ctx context.Context) int {
	return max(BatchSize(ctx), 1024)
}

func aggRelease(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}
