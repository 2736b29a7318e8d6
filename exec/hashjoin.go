package exec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec/hashing"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

// JoinType is the kind of a hash join. The left input is the probe side.
type JoinType int

// Join types.
const (
	JoinInner JoinType = iota
	JoinLeft           // all left rows; unmatched ones with NULL right columns
	JoinRight          // all right rows; unmatched ones with NULL left columns
	JoinFull           // both
	JoinSemi           // left rows with at least one match (left columns only)
	JoinAnti           // left rows without a match (left columns only)
	// JoinRightSemi and JoinRightAnti keep BUILD rows with (without) a
	// match, right columns only: a semi or anti join whose preserved side
	// is the smaller one builds on it and probes with the larger side.
	// They need build-side match tracking, so they cannot probe a shared
	// broadcast table.
	JoinRightSemi
	JoinRightAnti
	// JoinMark emits every left row once, in input order unless the join
	// spilled (NewHashJoin), with the LeftOut columns and one BOOLEAN
	// "mark" column that says whether the row has a match, in SQL's
	// three-valued logic (IN, EXISTS and op ANY/ALL subqueries anywhere
	// in an expression): see HashJoinSpec.MarkCond and NullAware for how
	// it is computed.
	JoinMark
)

var joinTypeNames = [...]string{"inner", "left", "right", "full", "semi", "anti", "right semi", "right anti", "mark"}

func (t JoinType) String() string {
	if t >= 0 && int(t) < len(joinTypeNames) {
		return joinTypeNames[t]
	}
	return fmt.Sprintf("JoinType(%d)", int(t))
}

// HashJoinSpec describes an equi-join; the RIGHT input is always the build
// side.
type HashJoinSpec struct {
	Type JoinType
	// LeftKeys[i] = RightKeys[i] are the equality conditions; both sides'
	// key columns must have identical types. NULL keys never match.
	LeftKeys, RightKeys []int
	// Residual, if set, is evaluated on a batch of [all left columns..., all
	// right columns...] for candidate pairs; pairs where it is false or
	// NULL do not match.
	Residual Expr
	// NullAware makes the (single) key comparison SQL's three-valued
	// equality instead of "NULL never matches". JoinAnti gets NOT IN
	// semantics: if the right side has a row with a NULL key no left row
	// qualifies, and a left row with a NULL key qualifies only when the
	// right side is empty. JoinMark gets IN semantics: the mark is TRUE
	// when a right row has an equal key; otherwise NULL when the left key
	// is NULL and the right side is not empty, or when the right side has a
	// NULL key; otherwise FALSE. With a Residual, "the right side" means the
	// right rows passing the residual for that left row.
	NullAware bool
	// MarkCond, for a JoinMark without NullAware, is a boolean expression
	// over the same pair batch as Residual. The candidates of a left row
	// are the right rows with equal keys (NULL never equal) passing the
	// residual; the mark is TRUE if MarkCond is TRUE for some candidate,
	// else NULL if it is NULL for some, else FALSE. With MarkCond nil the
	// mark is TRUE exactly when the row has a candidate (EXISTS).
	MarkCond Expr
	// MarkName names the mark column ("mark" when empty).
	MarkName string
	// LeftOut and RightOut list the emitted columns (nil = all). Semi,
	// anti and mark joins emit only LeftOut (mark: then the mark column).
	LeftOut, RightOut []int
}

// JoinTable is the build side of a hash join: the right input's columns
// concatenated, and a key table mapping each distinct non-NULL key to the
// build rows holding it. It is immutable after BuildJoinTable and safe for
// concurrent probes; Release frees it once no probe uses it.
type JoinTable struct {
	keyCols  []int
	schema   *arrow.Schema
	cols     []arrow.Array
	numRows  int
	keys     *hashing.Table // nil when dense or empty
	start    []int32        // rows of key g: rows[start[g]:start[g+1]]
	rows     []int32
	nullRows []int32 // build rows with a NULL in some key column
	// unique: every key has one build row, uniqueRow[g] (-1: no key g).
	unique    bool
	uniqueRow []int32
	// dense: single integer key spanning few values; key ids are k-denseMin
	// and keys is nil. With denseRows, the keys are unique and key ids are
	// build rows instead: denseRows.row(k-denseMin).
	dense     bool
	denseMin  int64
	denseRows *hjRankIndex

	// memBytes is what the table accounts for in the reservation that
	// built it: its columns, its index and what probes allocate per build
	// row. res, when set, is a reservation the table owns (a broadcast
	// build), freed by Release.
	memBytes int64
	res      *mempool.Reservation
}

// numKeys is the number of key ids (distinct keys, or the dense span).
func (t *JoinTable) numKeys() int { return len(t.start) - 1 }

// NumRows is the number of build rows.
func (t *JoinTable) NumRows() int { return t.numRows }

// Release frees the build columns (and the memory reservation of a
// broadcast build). The table must not be probed after.
func (t *JoinTable) Release() {
	for _, c := range t.cols {
		c.Release()
	}
	t.cols = nil
	t.res.Free()
}

// hjInsertChunk bounds the scratch memory of one Table.Insert call.
const hjInsertChunk = 1 << 16

// BuildJoinTable opens right, reads it to the end, closes it and builds the
// join table on spec.RightKeys (a broadcast join's table, shared by the
// probes of one process). Its memory is reserved as "HashJoin broadcast
// build", a reservation that cannot spill, until Release: a table that
// does not fit fails with the pool's *mempool.LimitError.
func BuildJoinTable(ctx context.Context, right Operator, spec HashJoinSpec) (*JoinTable, error) {
	if err := hjCheckKeys(nil, right.Schema(), spec.RightKeys, spec.RightKeys); err != nil {
		return nil, err
	}
	if err := right.Open(ctx); err != nil {
		right.Close()
		return nil, err
	}
	res := mempool.FromContext(ctx).Register("HashJoin broadcast build", false)
	t, err := hjBuildAll(ctx, right, spec.RightKeys, res, hjProbeBytesPerBuildRow(spec))
	if cerr := right.Close(); cerr != nil && err == nil {
		t.Release()
		return nil, cerr
	}
	if err != nil {
		res.Free()
		var le *mempool.LimitError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("hash join: the broadcast build side does not fit in memory (a shared table cannot spill): %w", err)
		}
		return nil, err
	}
	t.res = res
	return t, nil
}

// hjBuildAll drains an opened operator into a JoinTable, reserving from
// res; it fails with the *mempool.LimitError when the table does not fit.
func hjBuildAll(ctx context.Context, right Operator, keyCols []int, res *mempool.Reservation, perRow int64) (*JoinTable, error) {
	batches, over, err := hjDrain(ctx, right, res)
	if err == nil && over == nil {
		var t *JoinTable
		if t, err = hjBuild(ctx, right.Schema(), batches, keyCols, res, perRow, 0); err == nil {
			return t, nil
		}
		var le *mempool.LimitError
		if !errors.As(err, &le) {
			return nil, err // hjBuild released the batches
		}
	}
	if over != nil {
		over.Release()
	}
	for _, b := range batches {
		res.Shrink(spill.BatchBytes(b))
		b.Release()
	}
	return nil, err
}

// hjDrain reads an opened operator to its end, reserving every batch. When
// res cannot hold a batch it stops and returns that batch as over (not
// reserved) with the *mempool.LimitError; the batches before it are held
// in res. On other errors nothing is returned or held.
func hjDrain(ctx context.Context, right Operator, res *mempool.Reservation) (batches []arrow.RecordBatch, over arrow.RecordBatch, err error) {
	for {
		b, err := right.Next(ctx)
		if err != nil {
			for _, b := range batches {
				res.Shrink(spill.BatchBytes(b))
				b.Release()
			}
			return nil, nil, err
		}
		if b == nil {
			return batches, nil, nil
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		if err := res.TryGrow(spill.BatchBytes(b)); err != nil {
			return batches, b, err
		}
		batches = append(batches, b)
	}
}

// hjBuildSize measures build batches for the memory estimate of a table.
type hjBuildSize struct {
	rows     int
	batches  int
	colBytes []int64 // per column: the bytes of its pieces
}

// with is s plus a batch of rows rows and cols bytes per column.
func (s hjBuildSize) with(rows int, cols []int64) hjBuildSize {
	next := hjBuildSize{rows: s.rows + rows, batches: s.batches + 1, colBytes: slices.Clone(s.colBytes)}
	if next.colBytes == nil {
		next.colBytes = make([]int64, len(cols))
	}
	for c, n := range cols {
		next.colBytes[c] += n
	}
	return next
}

func (s *hjBuildSize) add(b arrow.RecordBatch) {
	if s.colBytes == nil {
		s.colBytes = make([]int64, b.NumCols())
	}
	for c, col := range b.Columns() {
		s.colBytes[c] += spill.DataBytes(col.Data())
	}
	s.rows += int(b.NumRows())
	s.batches++
}

// extra bounds what hjBuild allocates besides the build columns: the
// concatenation of one column (the pieces of the others are gone by
// then), the per-row scratch and index, the key table of keyed rows with
// no NULL key (slots at load 1/2, stored hashes and keys), and perRow
// bytes per build row for the probe.
func (s *hjBuildSize) extra(keyCols []int, intKey bool, keyed int, perRow int64) int64 {
	if s.rows == 0 {
		return 0
	}
	var maxCol, keyBytes int64
	if s.batches > 1 {
		maxCol = slices.Max(s.colBytes)
	}
	for _, c := range keyCols {
		keyBytes += s.colBytes[c]
	}
	// Per row: hashes 8, sel and nullRows 8, key ids 4, stored hashes 16
	// (append doubling), start and fill 8, rows 4, NULL bookkeeping of
	// HashColumns 12.
	n := int64(s.rows)
	return maxCol + n*(60+perRow) + hjSlotBytes(keyed, intKey) + 2*keyBytes
}

// denseExtra is extra's counterpart for the dense index of span key
// values: per row sel and nullRows 8, widened keys 8, rows 4; per key
// value start, fill and uniqueRow 12.
func (s *hjBuildSize) denseExtra(span int64, perRow int64) int64 {
	var maxCol int64
	if s.batches > 1 {
		maxCol = slices.Max(s.colBytes)
	}
	return maxCol + int64(s.rows)*(20+perRow) + 12*span + 4
}

// uniqueDenseExtra is extra's counterpart for the rank index of unique
// keys spanning span values (hjRankIndex): per row sel and nullRows 8,
// start and rows 8, its row by rank 4; per 64 key values 12.
func (s *hjBuildSize) uniqueDenseExtra(span int64, perRow int64) int64 {
	var maxCol int64
	if s.batches > 1 {
		maxCol = slices.Max(s.colBytes)
	}
	return maxCol + int64(s.rows)*(20+perRow) + 12*(span/64+1)
}

// hjRankIndex maps the values of a unique integer key, offset by their
// minimum, to build rows: a bitmap of the offsets present, the number of
// offsets present before each 64-bit word of it, and the build row of
// each present offset in increasing order. A lookup is a bit test and a
// popcount; the index takes 12 bytes per 64 key values plus 4 per row,
// where an array of rows by offset would take 4 bytes per key value (TPC-H
// orders keys use a quarter of their span, fewer after a filter).
type hjRankIndex struct {
	bits  []uint64
	ranks []int32
	rows  []int32
}

// hjUniqueRanks builds the rank index of the non-NULL values of the
// integer key column col of batches (rows counted across batches); lo is
// the smallest value, and span covers them all. It returns nil as soon as
// a value repeats.
func hjUniqueRanks(batches []arrow.RecordBatch, col int, lo int64, span int64) *hjRankIndex {
	x := &hjRankIndex{bits: make([]uint64, span/64+1)}
	var scratch []int64
	n := 0
	for _, b := range batches {
		arr := b.Column(col)
		vals := hashing.IntValues(arr, &scratch)[:arr.Len()]
		v, hasNulls := hashing.ValidityOf(arr)
		for r, k := range vals {
			if hasNulls && !v.Valid(r) {
				continue
			}
			off := uint64(k - lo)
			w, bit := off>>6, uint64(1)<<(off&63)
			if x.bits[w]&bit != 0 {
				return nil
			}
			x.bits[w] |= bit
			n++
		}
	}
	x.ranks = make([]int32, len(x.bits))
	rank := int32(0)
	for w, word := range x.bits {
		x.ranks[w] = rank
		rank += int32(bits.OnesCount64(word))
	}
	x.rows = make([]int32, n)
	base := 0
	for _, b := range batches {
		arr := b.Column(col)
		vals := hashing.IntValues(arr, &scratch)[:arr.Len()]
		v, hasNulls := hashing.ValidityOf(arr)
		for r, k := range vals {
			if hasNulls && !v.Valid(r) {
				continue
			}
			x.rows[x.rank(uint64(k-lo))] = int32(base + r)
		}
		base += arr.Len()
	}
	return x
}

// rank is the number of present offsets below off (off must be present).
func (x *hjRankIndex) rank(off uint64) int32 {
	w := off >> 6
	return x.ranks[w] + int32(bits.OnesCount64(x.bits[w]&(uint64(1)<<(off&63)-1)))
}

// bytes is the index's size.
func (x *hjRankIndex) bytes() int64 {
	return 8*int64(cap(x.bits)) + 4*int64(cap(x.ranks)+cap(x.rows))
}

// hjSlotBytes is the size of the slot array of a hashing.Table holding n
// keys (load factor at most 1/2, at least 1024 slots; no table for none).
func hjSlotBytes(n int, intKey bool) int64 {
	if n == 0 {
		return 0
	}
	slots := 1024
	for slots < 2*n {
		slots *= 2
	}
	if intKey {
		return int64(slots) * 16
	}
	return int64(slots) * 8
}

// hjProbeBytesPerBuildRow is what a probe allocates per build row:
// build-side match flags, and for null-aware joins the NULL-key flags and
// (with a residual) the list of all rows.
func hjProbeBytesPerBuildRow(spec HashJoinSpec) int64 {
	var n int64
	switch spec.Type {
	case JoinRight, JoinFull:
		n++
	case JoinRightSemi, JoinRightAnti:
		n += 2
	}
	if spec.NullAware {
		n++
		if spec.Residual != nil {
			n += 4
		}
	}
	return n
}

// hjBuild builds a JoinTable from batches (all of schema) held in res,
// with prepaid more bytes of res set aside for building (0 if none). It
// first reserves what building needs; when res refuses, it returns the
// *mempool.LimitError and leaves the batches and res as they were.
// Otherwise it consumes the batches and prepaid (also on error, giving
// their bytes back), and on success res holds t.memBytes for the table
// instead.
func hjBuild(ctx context.Context, schema *arrow.Schema, batches []arrow.RecordBatch, keyCols []int, res *mempool.Reservation, perRow, prepaid int64) (*JoinTable, error) {
	mem := Allocator(ctx)
	var size hjBuildSize
	keyed := 0 // rows with no NULL key, at most
	for _, b := range batches {
		size.add(b)
		nulls := 0
		for _, c := range keyCols {
			nulls = max(nulls, b.Column(c).NullN())
		}
		keyed += int(b.NumRows()) - nulls
	}
	n := size.rows
	keyTypes := make([]arrow.DataType, len(keyCols))
	for i, c := range keyCols {
		keyTypes[i] = schema.Field(c).Type
	}
	intKey := len(keyCols) == 1 && hashing.IsIntKey(keyTypes[0])
	var held int64 // what res holds for the batches and the build
	for _, c := range size.colBytes {
		held += c
	}
	if n > 1<<31-1 {
		batchReleaseAll(batches)
		res.Shrink(held + prepaid)
		return nil, fmt.Errorf("hash join: build side has %d rows, more than a table holds", n)
	}
	// A single integer key spanning few values takes the dense index,
	// unless that costs more than the hashed one and does not fit.
	var lo, hi int64
	dense := false
	var nonNull int
	if intKey && n > 0 {
		lo, hi, nonNull = hjIntKeyRange(batches, keyCols[0])
		dense = nonNull > 0 && hi-lo >= 0 && uint64(hi-lo) < uint64(max(1<<16, 4*nonNull))
	}
	extra := size.extra(keyCols, intKey, keyed, perRow)
	// Unique keys (a primary key) spanning few enough values index build
	// rows directly by key offset, when that is the cheapest index: 4
	// bytes per key value, no hash table, no per-key lists.
	var ranked *hjRankIndex
	if nonNull > 0 && hi-lo >= 0 && uint64(hi-lo) < 1<<40 {
		span := hi - lo + 1
		ue := size.uniqueDenseExtra(span, perRow)
		cheapest := ue < extra && (!dense || ue < size.denseExtra(span, perRow))
		if cheapest && (ue <= prepaid || res.TryGrow(ue-prepaid) == nil) {
			if ranked = hjUniqueRanks(batches, keyCols[0], lo, span); ranked != nil {
				extra, prepaid, dense = ue, max(ue, prepaid), false
			} else if ue > prepaid {
				res.Shrink(ue - prepaid) // a key repeats
			}
		}
	}
	if dense {
		switch de := size.denseExtra(hi-lo+1, perRow); {
		case de <= extra:
			extra = de
		case de <= prepaid || res.TryGrow(de-prepaid) == nil:
			extra, prepaid = de, max(de, prepaid)
		default:
			dense = false
		}
	}
	if extra > prepaid {
		if err := res.TryGrow(extra - prepaid); err != nil {
			return nil, err
		}
	} else {
		res.Shrink(prepaid - extra)
	}
	held += extra
	t := &JoinTable{schema: schema, numRows: n, keyCols: slices.Clone(keyCols)}
	fail := func(err error) (*JoinTable, error) {
		t.Release()
		res.Shrink(held)
		return nil, err
	}
	if err := hjConcatColumns(t, mem, schema, batches); err != nil {
		return fail(err)
	}
	keys := make([]arrow.Array, len(keyCols))
	for i, c := range keyCols {
		keys[i] = t.cols[c]
	}
	if n == 0 {
		t.start = []int32{0}
		return hjBuilt(t, res, held, perRow, 0), nil
	}
	sel := make([]int32, 0, n)
	var valids []hashing.Validity
	for _, k := range keys {
		if v, ok := hashing.ValidityOf(k); ok {
			valids = append(valids, v)
		}
	}
	for r := 0; r < n; r++ {
		null := false
		for _, v := range valids {
			if !v.Valid(r) {
				null = true
				break
			}
		}
		if null {
			t.nullRows = append(t.nullRows, int32(r))
		} else {
			sel = append(sel, int32(r))
		}
	}
	if ranked != nil {
		t.dense, t.denseMin, t.denseRows, t.unique = true, lo, ranked, true
		// Key ids are build rows: each row is its own one-row list.
		t.start = make([]int32, n+1)
		t.rows = make([]int32, n)
		for r := range t.rows {
			t.start[r+1], t.rows[r] = int32(r+1), int32(r)
		}
		t.uniqueRow = t.rows
		return hjBuilt(t, res, held, perRow, 0), nil
	}
	if dense {
		var scratch []int64
		hjBuildDense(t, hashing.IntValues(keys[0], &scratch), sel, lo, hi)
		return hjBuilt(t, res, held, perRow, 0), nil
	}
	if len(sel) == 0 {
		t.start = []int32{0} // no key: every probe misses
		return hjBuilt(t, res, held, perRow, 0), nil
	}
	hashes := make([]uint64, n)
	if err := hashing.HashColumns(keys, hashes); err != nil {
		return fail(fmt.Errorf("hash join: build keys: %w", err))
	}
	var keyBytes int64
	for _, k := range keys {
		keyBytes += spill.DataBytes(k.Data())
	}
	var err error
	if t.keys, err = hashing.NewTable(keyTypes); err != nil {
		return fail(fmt.Errorf("hash join: %w", err))
	}
	ids := make([]uint32, n)
	t.keys.Reserve(len(sel))
	for i := 0; i < len(sel); i += hjInsertChunk {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		t.keys.Insert(keys, hashes, sel[i:min(i+hjInsertChunk, len(sel))], ids)
	}
	// Group build rows by key id (counting sort, stable in row order).
	g := t.keys.Len()
	t.start = make([]int32, g+1)
	for _, r := range sel {
		t.start[ids[r]+1]++
	}
	for i := 1; i <= g; i++ {
		t.start[i] += t.start[i-1]
	}
	fill := make([]int32, g)
	copy(fill, t.start[:g])
	t.rows = make([]int32, len(sel))
	for _, r := range sel {
		id := ids[r]
		t.rows[fill[id]] = r
		fill[id]++
	}
	t.unique = g == len(sel)
	if t.unique {
		t.uniqueRow = t.rows
	}
	// The key table: its slots, a hash per key, and the distinct keys.
	keyTable := hjSlotBytes(len(sel), intKey) + 8*int64(g) + keyBytes*int64(g)/int64(max(1, len(sel)))
	return hjBuilt(t, res, held, perRow, keyTable), nil
}

// hjIntKeyRange is the smallest and largest non-NULL value of an integer
// key column over batches, and how many rows are not NULL.
func hjIntKeyRange(batches []arrow.RecordBatch, col int) (lo, hi int64, nonNull int) {
	lo, hi = math.MaxInt64, math.MinInt64
	var scratch []int64
	for _, b := range batches {
		arr := b.Column(col)
		vals := hashing.IntValues(arr, &scratch)[:arr.Len()]
		if v, ok := hashing.ValidityOf(arr); ok {
			for r, x := range vals {
				if v.Valid(r) {
					lo, hi = min(lo, x), max(hi, x)
					nonNull++
				}
			}
			continue
		}
		for _, x := range vals {
			lo, hi = min(lo, x), max(hi, x)
		}
		nonNull += len(vals)
	}
	return lo, hi, nonNull
}

// hjBuilt sets res from held (the batches and the build's peak) to what
// the finished table keeps.
func hjBuilt(t *JoinTable, res *mempool.Reservation, held, perRow, keyTable int64) *JoinTable {
	m := keyTable + 4*int64(cap(t.start)+cap(t.rows)+cap(t.nullRows)) + perRow*int64(t.numRows)
	switch {
	case t.denseRows != nil:
		m += t.denseRows.bytes()
	case t.dense && t.unique:
		m += 4 * int64(cap(t.uniqueRow))
	}
	for _, c := range t.cols {
		m += spill.DataBytes(c.Data())
	}
	t.memBytes = m
	if m > held {
		res.Grow(m - held) // allocated already: a concatenation may carry a validity bitmap its pieces lacked
	} else {
		res.Shrink(held - m)
	}
	return t
}

// hjConcatColumns sets t.cols to the concatenated columns of batches and
// releases the batches, one column's pieces at a time so that memory
// peaks at the pieces plus one concatenated column.
func hjConcatColumns(t *JoinTable, mem memory.Allocator, schema *arrow.Schema, batches []arrow.RecordBatch) error {
	nc := schema.NumFields()
	switch len(batches) {
	case 0:
		for c := range nc {
			t.cols = append(t.cols, array.MakeArrayOfNull(mem, schema.Field(c).Type, 0))
		}
		return nil
	case 1:
		for c := range nc {
			col := batches[0].Column(c)
			col.Retain()
			t.cols = append(t.cols, col)
		}
		batches[0].Release()
		return nil
	}
	parts := make([][]arrow.Array, nc)
	for c := range parts {
		parts[c] = make([]arrow.Array, len(batches))
		for i, b := range batches {
			parts[c][i] = b.Column(c)
			parts[c][i].Retain()
		}
	}
	batchReleaseAll(batches)
	var err error
	for c := range nc {
		if err == nil {
			var col arrow.Array
			if col, err = array.Concatenate(parts[c], mem); err != nil {
				err = fmt.Errorf("hash join: build column %q: %w", schema.Field(c).Name, err)
			} else {
				t.cols = append(t.cols, col)
			}
		}
		batchReleaseAll(parts[c])
	}
	return err
}

// hjBuildDense indexes build rows directly by key offset when the non-NULL
// integer keys span few values (TPC-H keys are 1..N): no hashing, and the
// index is a fraction of a hash table's size. lo and hi are the smallest
// and largest key of the rows sel.
func hjBuildDense(t *JoinTable, vals []int64, sel []int32, lo, hi int64) {
	span := int(hi-lo) + 1
	t.dense, t.denseMin = true, lo
	t.keys = nil
	t.start = make([]int32, span+1)
	for _, r := range sel {
		t.start[vals[r]-lo+1]++
	}
	t.unique = true
	for i := 1; i <= span; i++ {
		if t.start[i] > 1 {
			t.unique = false
		}
		t.start[i] += t.start[i-1]
	}
	t.rows = make([]int32, len(sel))
	fill := make([]int32, span)
	copy(fill, t.start[:span])
	for _, r := range sel {
		off := vals[r] - lo
		t.rows[fill[off]] = r
		fill[off]++
	}
	if t.unique {
		t.uniqueRow = make([]int32, span)
		for i := range t.uniqueRow {
			t.uniqueRow[i] = -1
		}
		for _, r := range sel {
			t.uniqueRow[vals[r]-lo] = r
		}
	}
}

// find maps probe keys to key ids (-1: no match or NULL key).
func (t *JoinTable) find(keys []arrow.Array, hashes []uint64, gids []int32, sc *hashing.Scratch, ints *[]int64) error {
	if t.numKeys() == 0 {
		for i := range gids {
			gids[i] = -1
		}
		return nil
	}
	if !t.dense {
		if err := hashing.HashColumns(keys, hashes); err != nil {
			return err
		}
		t.keys.Find(keys, hashes, gids, sc)
		return nil
	}
	vals := hashing.IntValues(keys[0], ints)[:len(gids)]
	if x, base := t.denseRows, t.denseMin; x != nil {
		span := 64 * uint64(len(x.bits))
		for r, k := range vals {
			gids[r] = -1
			if off := uint64(k - base); k >= base && off < span && x.bits[off>>6]&(uint64(1)<<(off&63)) != 0 {
				gids[r] = x.rows[x.rank(off)]
			}
		}
	} else {
		span := uint64(len(t.start) - 1)
		start := t.start
		for r, k := range vals {
			gids[r] = -1
			if off := uint64(k - base); k >= base && off < span && start[off+1] > start[off] {
				gids[r] = int32(off)
			}
		}
	}
	if v, ok := hashing.ValidityOf(keys[0]); ok {
		for r := range gids {
			if !v.Valid(r) {
				gids[r] = -1
			}
		}
	}
	return nil
}

func hjTypesMatch(a, b arrow.DataType) bool {
	if a.ID() == b.ID() && (a.ID() == arrow.DECIMAL128 || a.ID() == arrow.DECIMAL64) {
		return a.(arrow.DecimalType).GetScale() == b.(arrow.DecimalType).GetScale()
	}
	return arrow.TypeEqual(a, b)
}

// hjCheckKeys validates key columns; left may be nil (build-only check).
func hjCheckKeys(left, right *arrow.Schema, leftKeys, rightKeys []int) error {
	if len(rightKeys) == 0 || len(leftKeys) != len(rightKeys) {
		return fmt.Errorf("hash join: need the same non-zero number of left and right keys (got %d and %d)", len(leftKeys), len(rightKeys))
	}
	for i, rk := range rightKeys {
		if rk < 0 || rk >= right.NumFields() {
			return fmt.Errorf("hash join: right key %d: column %d out of range (right has %d columns)", i, rk, right.NumFields())
		}
		rt := right.Field(rk).Type
		if !hashing.SupportedKeyType(rt) {
			return fmt.Errorf("hash join: right key column %q: unsupported key type %s", right.Field(rk).Name, rt)
		}
		if left == nil {
			continue
		}
		lk := leftKeys[i]
		if lk < 0 || lk >= left.NumFields() {
			return fmt.Errorf("hash join: left key %d: column %d out of range (left has %d columns)", i, lk, left.NumFields())
		}
		if lt := left.Field(lk).Type; !hjTypesMatch(lt, rt) {
			return fmt.Errorf("hash join: key %d: left column %q is %s but right column %q is %s", i, left.Field(lk).Name, lt, right.Field(rk).Name, rt)
		}
	}
	return nil
}

func hjOutCols(out []int, s *arrow.Schema, side string) ([]int, error) {
	if out == nil {
		out = make([]int, s.NumFields())
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	for _, c := range out {
		if c < 0 || c >= s.NumFields() {
			return nil, fmt.Errorf("hash join: %s output column %d out of range (%s has %d columns)", side, c, side, s.NumFields())
		}
	}
	return out, nil
}

// hjProbe is the probe side shared by the hash join operators.
type hjProbe struct {
	spec       HashJoinSpec
	left       Operator
	table      *JoinTable
	schema     *arrow.Schema
	pairSchema *arrow.Schema
	leftOut    []int
	rightOut   []int

	// per probe batch
	batch    arrow.RecordBatch
	keyCols  []arrow.Array
	hashes   []uint64
	gids     []int32
	keyNull  []bool // only for null-aware joins
	mark     []int8 // mark joins: markFalse, markNull or markTrue per row
	scratch  hashing.Scratch
	ints     []int64
	row, pos int
	matched  []bool
	inTail   bool
	tail     []int32
	tailPos  int
	allRows  []int32

	// right/full joins and right semi/anti joins
	trackBuild   bool
	buildMatched []bool
	// keyMatched marks build keys hit by some probe row: right semi/anti
	// joins without a residual need no per-pair work.
	keyMatched []bool
	buildDone  bool
	buildTail  []int32
	buildPos   int

	pIdx, bIdx []int32
	leftDone   bool

	// buildNull marks build rows with a NULL key (null-aware mark joins
	// with a residual), built on first use.
	buildNull []bool

	// Grace hash join (hashjoin_spill.go), where the table holds one
	// partition or one chunk of the build side. facts, when set, are the
	// whole build side's (null-aware joins depend on them).
	facts *hjBuildFacts
	// acc, when set, keeps each probe row's outcome across several passes
	// over the same probe rows (a block nested loop over build chunks):
	// matched rows are 1 (mark joins: the mark state, combined by max)
	// and no probe row is emitted. With finish set, no pairs are made:
	// the outcomes are read back from acc and the probe rows emitted as
	// the join type says. accBase is the index of the batch's first row.
	acc     []int8
	finish  bool
	accBase int
}

// hjBuildFacts are what null-aware joins need to know about the whole
// build side.
type hjBuildFacts struct {
	nonEmpty bool // some build row
	nullKey  bool // some build row with a NULL key
}

func (p *hjProbe) buildNonEmpty() bool {
	if p.facts != nil {
		return p.facts.nonEmpty
	}
	return p.table.numRows > 0
}

func (p *hjProbe) buildNullKey() bool {
	if p.facts != nil {
		return p.facts.nullKey
	}
	return len(p.table.nullRows) > 0
}

// Mark states of a left row, ordered so that max combines them.
const (
	markFalse int8 = iota
	markNull
	markTrue
)

func newHJProbe(left Operator, rightSchema *arrow.Schema, spec HashJoinSpec) (*hjProbe, error) {
	ls := left.Schema()
	if spec.Type < JoinInner || spec.Type > JoinMark {
		return nil, fmt.Errorf("hash join: unknown join type %d", int(spec.Type))
	}
	if err := hjCheckKeys(ls, rightSchema, spec.LeftKeys, spec.RightKeys); err != nil {
		return nil, err
	}
	if spec.NullAware && spec.Type != JoinAnti && spec.Type != JoinMark {
		return nil, fmt.Errorf("hash join: NullAware needs an anti or mark join, got %s", spec.Type)
	}
	if spec.NullAware && spec.Type == JoinMark && (len(spec.LeftKeys) != 1 || spec.MarkCond != nil) {
		return nil, fmt.Errorf("hash join: a null-aware mark join compares one key and has no MarkCond (got %d keys)", len(spec.LeftKeys))
	}
	if spec.Residual != nil && spec.Residual.DataType().ID() != arrow.BOOL {
		return nil, fmt.Errorf("hash join: residual %s is %s, not boolean", spec.Residual, spec.Residual.DataType())
	}
	if spec.MarkCond != nil && spec.Type != JoinMark {
		return nil, fmt.Errorf("hash join: MarkCond needs a mark join, got %s", spec.Type)
	}
	if spec.MarkCond != nil && spec.MarkCond.DataType().ID() != arrow.BOOL {
		return nil, fmt.Errorf("hash join: mark condition %s is %s, not boolean", spec.MarkCond, spec.MarkCond.DataType())
	}
	p := &hjProbe{spec: spec, left: left}
	var err error
	rightSemiAnti := spec.Type == JoinRightSemi || spec.Type == JoinRightAnti
	if rightSemiAnti {
		p.leftOut = nil
	} else if p.leftOut, err = hjOutCols(spec.LeftOut, ls, "left"); err != nil {
		return nil, err
	}
	semiAnti := spec.Type == JoinSemi || spec.Type == JoinAnti || spec.Type == JoinMark
	if semiAnti {
		p.rightOut = nil
	} else if p.rightOut, err = hjOutCols(spec.RightOut, rightSchema, "right"); err != nil {
		return nil, err
	}
	var fields []arrow.Field
	for _, c := range p.leftOut {
		f := ls.Field(c)
		if spec.Type == JoinRight || spec.Type == JoinFull {
			f.Nullable = true
		}
		fields = append(fields, f)
	}
	for _, c := range p.rightOut {
		f := rightSchema.Field(c)
		if spec.Type == JoinLeft || spec.Type == JoinFull {
			f.Nullable = true
		}
		fields = append(fields, f)
	}
	if spec.Type == JoinMark {
		name := spec.MarkName
		if name == "" {
			name = "mark"
		}
		fields = append(fields, arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true})
	}
	p.schema = arrow.NewSchema(fields, nil)
	pf := append(append([]arrow.Field{}, ls.Fields()...), rightSchema.Fields()...)
	p.pairSchema = arrow.NewSchema(pf, nil)
	p.trackBuild = spec.Type == JoinRight || spec.Type == JoinFull || rightSemiAnti
	return p, nil
}

func (p *hjProbe) reset(t *JoinTable) {
	p.table = t
	p.releaseBatch()
	p.leftDone, p.buildDone = false, false
	p.buildTail, p.buildPos = nil, 0
	p.buildNull, p.allRows = nil, nil
	if p.trackBuild {
		p.buildMatched = make([]bool, t.numRows)
	}
	p.keyMatched = nil
	if p.rightSemiAntiNoResidual() {
		p.keyMatched = make([]bool, t.numKeys())
	}
}

func (p *hjProbe) rightSemiAntiNoResidual() bool {
	return (p.spec.Type == JoinRightSemi || p.spec.Type == JoinRightAnti) && p.spec.Residual == nil
}

func (p *hjProbe) releaseBatch() {
	if p.batch != nil {
		p.batch.Release()
		p.batch = nil
	}
}

func (p *hjProbe) startBatch(b arrow.RecordBatch) error {
	p.batch = b
	n := int(b.NumRows())
	p.keyCols = p.keyCols[:0]
	for _, c := range p.spec.LeftKeys {
		p.keyCols = append(p.keyCols, b.Column(c))
	}
	if cap(p.hashes) < n {
		p.hashes = make([]uint64, n)
		p.gids = make([]int32, n)
		p.matched = make([]bool, n)
	}
	p.hashes, p.gids, p.matched = p.hashes[:n], p.gids[:n], p.matched[:n]
	clear(p.matched)
	if p.finish {
		return p.finishBatch(n)
	}
	if err := p.table.find(p.keyCols, p.hashes, p.gids, &p.scratch, &p.ints); err != nil {
		return fmt.Errorf("hash join: probe keys: %w", err)
	}
	if p.spec.NullAware {
		p.setKeyNull(n)
	}
	p.row, p.pos, p.inTail, p.tail, p.tailPos = 0, 0, false, p.tail[:0], 0
	if p.rightSemiAntiNoResidual() {
		km := p.keyMatched
		for _, g := range p.gids {
			if g >= 0 {
				km[g] = true
			}
		}
		p.row = n
		p.startTail() // empty: probe rows are never emitted
		return nil
	}
	if p.spec.Residual == nil && (p.spec.Type == JoinSemi || p.spec.Type == JoinAnti) {
		for i, g := range p.gids {
			p.matched[i] = g >= 0
		}
		p.startTail()
	}
	if p.spec.Type == JoinMark {
		p.mark = aggGrow(p.mark[:0], n)
		if p.spec.Residual == nil && p.spec.MarkCond == nil {
			p.markFromKeys()
			p.startTail()
		}
	}
	return nil
}

// setKeyNull marks the probe rows with a NULL key (null-aware joins).
func (p *hjProbe) setKeyNull(n int) {
	p.keyNull = aggGrow(p.keyNull[:0], n)
	for _, k := range p.keyCols {
		if v, ok := hashing.ValidityOf(k); ok {
			for i := range n {
				if !v.Valid(i) {
					p.keyNull[i] = true
				}
			}
		}
	}
}

// markFromKeys sets the marks of a batch when keys alone decide them (no
// residual, no mark condition).
func (p *hjProbe) markFromKeys() {
	// What a row without an equal key gets: under IN semantics NULL when
	// the build side has a NULL key (or, for a NULL probe key, any row).
	noMatch, noMatchNullKey := markFalse, markFalse
	if p.spec.NullAware {
		if p.buildNullKey() {
			noMatch = markNull
		}
		if p.buildNonEmpty() {
			noMatchNullKey = markNull
		}
	}
	for i, g := range p.gids {
		switch {
		case g >= 0:
			p.mark[i] = markTrue
		case p.spec.NullAware && p.keyNull[i]:
			p.mark[i] = noMatchNullKey
		default:
			p.mark[i] = noMatch
		}
	}
}

// lists returns the candidate build rows of probe row r.
func (p *hjProbe) lists(r int) (a, b []int32) {
	t := p.table
	if p.spec.NullAware && p.spec.Residual != nil && t.numRows > 0 {
		if p.keyNull[r] {
			if p.allRows == nil {
				p.allRows = make([]int32, t.numRows)
				for i := range p.allRows {
					p.allRows[i] = int32(i)
				}
			}
			return p.allRows, nil
		}
		b = t.nullRows
	}
	if g := p.gids[r]; g >= 0 {
		a = t.rows[t.start[g]:t.start[g+1]]
	}
	return a, b
}

// nextPairs fills pIdx/bIdx with up to limit candidate pairs.
func (p *hjProbe) nextPairs(limit int) {
	p.pIdx, p.bIdx = p.pIdx[:0], p.bIdx[:0]
	n := len(p.gids)
	if p.table.unique && !p.spec.NullAware {
		// At most one match per probe row: no per-row list handling.
		rows := p.table.uniqueRow
		for ; p.row < n && len(p.pIdx) < limit; p.row++ {
			if g := p.gids[p.row]; g >= 0 {
				p.pIdx = append(p.pIdx, int32(p.row))
				p.bIdx = append(p.bIdx, rows[g])
			}
		}
		return
	}
	mark := p.spec.Type == JoinMark
	for p.row < n && len(p.pIdx) < limit {
		r := p.row
		// A row already marked TRUE needs no more candidates.
		if (p.spec.NullAware || p.gids[r] >= 0) && !(mark && p.mark[r] == markTrue) {
			a, b := p.lists(r)
			total := len(a) + len(b)
			for p.pos < total && len(p.pIdx) < limit {
				var src []int32
				if p.pos < len(a) {
					src = a[p.pos:]
				} else {
					src = b[p.pos-len(a):]
				}
				take := min(len(src), limit-len(p.pIdx))
				p.bIdx = append(p.bIdx, src[:take]...)
				for range take {
					p.pIdx = append(p.pIdx, int32(r))
				}
				p.pos += take
			}
			if p.pos < total {
				return
			}
		}
		p.row++
		p.pos = 0
	}
}

// pairBatch gathers the candidate pairs pIdx/bIdx into one batch of [all
// left columns..., all right columns...], the layout Residual and MarkCond
// are compiled against.
func (p *hjProbe) pairBatch(ctx context.Context) (arrow.RecordBatch, error) {
	mem := Allocator(ctx)
	nl := int(p.batch.NumCols())
	cols := make([]arrow.Array, 0, p.pairSchema.NumFields())
	for c := 0; c < nl; c++ {
		a, err := hashing.Take(mem, p.batch.Column(c), p.pIdx)
		if err != nil {
			batchReleaseAll(cols)
			return nil, fmt.Errorf("hash join: %w", err)
		}
		cols = append(cols, a)
	}
	for _, col := range p.table.cols {
		a, err := hashing.Take(mem, col, p.bIdx)
		if err != nil {
			batchReleaseAll(cols)
			return nil, fmt.Errorf("hash join: %w", err)
		}
		cols = append(cols, a)
	}
	return batchNewOwned(p.pairSchema, cols, int64(len(p.pIdx))), nil
}

// evalPairs evaluates a boolean expression over a pair batch.
func evalPairs(ctx context.Context, e Expr, rb arrow.RecordBatch, what string) (*array.Boolean, error) {
	res, err := e.Eval(ctx, rb)
	if err != nil {
		return nil, fmt.Errorf("hash join: %s %s: %w", what, e, err)
	}
	ba, ok := res.(*array.Boolean)
	if !ok || int64(ba.Len()) != rb.NumRows() {
		res.Release()
		return nil, fmt.Errorf("hash join: %s %s returned %s of %d rows for %d pairs", what, e, res.DataType(), res.Len(), rb.NumRows())
	}
	return ba, nil
}

// filterResidual keeps only pairs passing the residual.
func (p *hjProbe) filterResidual(ctx context.Context) error {
	rb, err := p.pairBatch(ctx)
	if err != nil {
		return err
	}
	defer rb.Release()
	ba, err := evalPairs(ctx, p.spec.Residual, rb, "residual")
	if err != nil {
		return err
	}
	defer ba.Release()
	k := 0
	for i := range p.pIdx {
		if ba.IsValid(i) && ba.Value(i) {
			p.pIdx[k], p.bIdx[k] = p.pIdx[i], p.bIdx[i]
			k++
		}
	}
	p.pIdx, p.bIdx = p.pIdx[:k], p.bIdx[:k]
	return nil
}

// markPairs folds the candidate pairs pIdx/bIdx into the marks of their
// probe rows: a pair failing the residual counts for nothing; one passing
// it counts TRUE, or under NullAware NULL when either key is NULL, or as
// MarkCond says.
func (p *hjProbe) markPairs(ctx context.Context) error {
	var resid, cond *array.Boolean
	if p.spec.Residual != nil || p.spec.MarkCond != nil {
		rb, err := p.pairBatch(ctx)
		if err != nil {
			return err
		}
		defer rb.Release()
		if p.spec.Residual != nil {
			if resid, err = evalPairs(ctx, p.spec.Residual, rb, "residual"); err != nil {
				return err
			}
			defer resid.Release()
		}
		if p.spec.MarkCond != nil {
			if cond, err = evalPairs(ctx, p.spec.MarkCond, rb, "mark condition"); err != nil {
				return err
			}
			defer cond.Release()
		}
	}
	if p.spec.NullAware && p.buildNull == nil {
		p.buildNull = make([]bool, p.table.numRows)
		for _, r := range p.table.nullRows {
			p.buildNull[r] = true
		}
	}
	for i, r := range p.pIdx {
		if resid != nil && !(resid.IsValid(i) && resid.Value(i)) {
			continue
		}
		v := markTrue
		switch {
		case p.spec.NullAware:
			if p.keyNull[r] || p.buildNull[p.bIdx[i]] {
				v = markNull
			}
		case cond != nil:
			if !cond.IsValid(i) {
				v = markNull
			} else if !cond.Value(i) {
				continue
			}
		}
		p.mark[r] = max(p.mark[r], v)
	}
	return nil
}

// markOutput emits the next chunk of a mark join's probe batch: the
// LeftOut columns (zero-copy slices) and the mark column.
func (p *hjProbe) markOutput(ctx context.Context, limit int) arrow.RecordBatch {
	n := int(p.batch.NumRows())
	lo, hi := p.tailPos, min(p.tailPos+limit, n)
	p.tailPos = hi
	cols := make([]arrow.Array, 0, len(p.leftOut)+1)
	for _, c := range p.leftOut {
		cols = append(cols, array.NewSlice(p.batch.Column(c), int64(lo), int64(hi)))
	}
	bb := array.NewBooleanBuilder(Allocator(ctx))
	bb.Reserve(hi - lo)
	for _, m := range p.mark[lo:hi] {
		if m == markNull {
			bb.AppendNull()
		} else {
			bb.UnsafeAppend(m == markTrue)
		}
	}
	cols = append(cols, bb.NewArray())
	bb.Release()
	return batchNewOwned(p.schema, cols, int64(hi-lo))
}

func (p *hjProbe) startTail() {
	p.inTail = true
	p.tail, p.tailPos = p.tail[:0], 0
	if p.acc != nil && !p.finish {
		p.accumulate()
		return
	}
	t := p.spec.Type
	switch t {
	case JoinMark:
		// Every row is emitted, by markOutput.
	case JoinLeft, JoinFull:
		for i, m := range p.matched {
			if !m {
				p.tail = append(p.tail, int32(i))
			}
		}
	case JoinSemi:
		for i, m := range p.matched {
			if m {
				p.tail = append(p.tail, int32(i))
			}
		}
	case JoinAnti:
		naaj := p.spec.NullAware && p.buildNonEmpty()
		if naaj && p.spec.Residual == nil && p.buildNullKey() {
			return
		}
		for i, m := range p.matched {
			if m || (naaj && p.spec.Residual == nil && p.keyNull[i]) {
				continue
			}
			p.tail = append(p.tail, int32(i))
		}
	}
}

// output gathers LeftOut by lIdx and RightOut by rIdx (-1 = NULL); lIdx nil
// means all-NULL left columns.
func (p *hjProbe) output(ctx context.Context, lIdx, rIdx []int32, n int) (arrow.RecordBatch, error) {
	mem := Allocator(ctx)
	cols := make([]arrow.Array, 0, p.schema.NumFields())
	fail := func(err error) (arrow.RecordBatch, error) {
		for _, c := range cols {
			c.Release()
		}
		return nil, fmt.Errorf("hash join: %w", err)
	}
	lo, run := contiguous(lIdx)
	for _, c := range p.leftOut {
		var a arrow.Array
		switch {
		case lIdx == nil:
			a = array.MakeArrayOfNull(mem, p.left.Schema().Field(c).Type, n)
		case run:
			// Every probe row in order, each once (a foreign-key join
			// whose rows all match): the probe's columns are the
			// output's, sliced, not copied.
			a = array.NewSlice(p.batch.Column(c), int64(lo), int64(lo+len(lIdx)))
		default:
			var err error
			if a, err = hashing.Take(mem, p.batch.Column(c), lIdx); err != nil {
				return fail(err)
			}
		}
		cols = append(cols, a)
	}
	for _, c := range p.rightOut {
		a, err := hashing.Take(mem, p.table.cols[c], rIdx)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, a)
	}
	rb := array.NewRecordBatch(p.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rb, nil
}

// contiguous reports whether idx is lo, lo+1, …, lo+len(idx)−1 with lo ≥ 0
// (and not empty).
func contiguous(idx []int32) (lo int, ok bool) {
	if len(idx) == 0 || idx[0] < 0 {
		return 0, false
	}
	first := idx[0]
	for k, i := range idx {
		if i != first+int32(k) {
			return 0, false
		}
	}
	return int(first), true
}

// next produces the next output batch; (nil, nil) at end.
func (p *hjProbe) next(ctx context.Context) (arrow.RecordBatch, error) {
	limit := BatchSize(ctx)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p.batch == nil {
			if p.leftDone {
				return p.nextBuildTail(ctx, limit)
			}
			b, err := p.left.Next(ctx)
			if err != nil {
				return nil, err
			}
			if b == nil {
				p.leftDone = true
				continue
			}
			if b.NumRows() == 0 {
				b.Release()
				continue
			}
			if err := p.startBatch(b); err != nil {
				return nil, err
			}
		}
		if !p.inTail {
			p.nextPairs(limit)
			done := p.row >= len(p.gids)
			var out arrow.RecordBatch
			if len(p.pIdx) > 0 && p.spec.Type == JoinMark {
				if err := p.markPairs(ctx); err != nil {
					return nil, err
				}
			} else if len(p.pIdx) > 0 {
				if p.spec.Residual != nil {
					if err := p.filterResidual(ctx); err != nil {
						return nil, err
					}
				}
				for _, r := range p.pIdx {
					p.matched[r] = true
				}
				if p.trackBuild {
					for _, r := range p.bIdx {
						p.buildMatched[r] = true
					}
				}
				if !p.noPairOutput() && len(p.pIdx) > 0 {
					var err error
					if out, err = p.output(ctx, p.pIdx, p.bIdx, len(p.pIdx)); err != nil {
						return nil, err
					}
				}
			}
			if done {
				p.startTail() // after this chunk's matches are recorded
			}
			if out != nil {
				return out, nil
			}
			continue
		}
		if p.spec.Type == JoinMark {
			if p.tailPos >= int(p.batch.NumRows()) {
				p.releaseBatch()
				continue
			}
			return p.markOutput(ctx, limit), nil
		}
		if p.tailPos >= len(p.tail) {
			p.releaseBatch()
			continue
		}
		chunk := p.tail[p.tailPos:min(p.tailPos+limit, len(p.tail))]
		p.tailPos += len(chunk)
		if p.spec.Type == JoinSemi || p.spec.Type == JoinAnti {
			if len(chunk) == int(p.batch.NumRows()) {
				// Every probe row qualifies (tail rows are ascending and
				// distinct): pass the columns through without copying.
				cols := make([]arrow.Array, len(p.leftOut))
				for i, c := range p.leftOut {
					cols[i] = p.batch.Column(c)
				}
				return array.NewRecordBatch(p.schema, cols, p.batch.NumRows()), nil
			}
			return p.output(ctx, chunk, nil, len(chunk))
		}
		p.bIdx = aggGrow(p.bIdx[:0], len(chunk))
		for i := range p.bIdx {
			p.bIdx[i] = -1
		}
		return p.output(ctx, chunk, p.bIdx, len(chunk))
	}
}

func (p *hjProbe) nextBuildTail(ctx context.Context, limit int) (arrow.RecordBatch, error) {
	if !p.trackBuild {
		return nil, nil
	}
	if !p.buildDone {
		p.buildDone = true
		if p.keyMatched != nil {
			p.markKeyRows()
		}
		want := p.spec.Type == JoinRightSemi // emit matched rows; others emit unmatched
		for r, m := range p.buildMatched {
			if m == want {
				p.buildTail = append(p.buildTail, int32(r))
			}
		}
	}
	if p.buildPos >= len(p.buildTail) {
		return nil, nil
	}
	chunk := p.buildTail[p.buildPos:min(p.buildPos+limit, len(p.buildTail))]
	p.buildPos += len(chunk)
	return p.output(ctx, nil, chunk, len(chunk))
}

// noPairOutput reports join types that emit nothing per matching pair.
func (p *hjProbe) noPairOutput() bool {
	switch p.spec.Type {
	case JoinSemi, JoinAnti, JoinRightSemi, JoinRightAnti, JoinMark:
		return true
	}
	return false
}

// markKeyRows turns keyMatched into buildMatched.
func (p *hjProbe) markKeyRows() {
	t := p.table
	for g, m := range p.keyMatched {
		if !m {
			continue
		}
		for _, r := range t.rows[t.start[g]:t.start[g+1]] {
			p.buildMatched[r] = true
		}
	}
}

// hashJoin implements NewHashJoin.
type hashJoin struct {
	left, right Operator
	probe       *hjProbe
	table       *JoinTable
	// res holds the build side: the table, or after a spill the grace
	// join's buffers and the partition it is joining.
	res   *mempool.Reservation
	grace *hjGrace // set once the build side spilled
	stats MemoryStats
	trace hjSpillTrace
}

var (
	_ Operator       = (*hashJoin)(nil)
	_ MemoryReporter = (*hashJoin)(nil)
)

// NewHashJoin joins left (probe) with right (build) on equal keys.
// Output: LeftOut columns then RightOut columns (semi/anti: LeftOut only);
// for left/full joins the right columns become nullable, for right/full the
// left columns. Output batches hold at most exec.BatchSize(ctx) rows.
//
// The build side is reserved as "HashJoin build" in the context's memory
// pool. When it does not fit, the join turns into a grace hash join
// (hashjoin_spill.go): both inputs are partitioned to spill files by key
// and joined one partition at a time; rows then come out in no particular
// order (a mark join's too).
func NewHashJoin(left, right Operator, spec HashJoinSpec) (Operator, error) {
	p, err := newHJProbe(left, right.Schema(), spec)
	if err != nil {
		return nil, err
	}
	return &hashJoin{left: left, right: right, probe: p}, nil
}

// Schema implements Operator.
func (j *hashJoin) Schema() *arrow.Schema { return j.probe.schema }

// Open implements Operator: it opens both inputs and builds the table from
// the whole right input, or partitions both inputs to disk when the right
// one does not fit in memory.
func (j *hashJoin) Open(ctx context.Context) error {
	j.releaseBuild()
	j.stats, j.trace = MemoryStats{}, hjSpillTrace{}
	if err := j.right.Open(ctx); err != nil {
		return err
	}
	if err := j.left.Open(ctx); err != nil {
		return err
	}
	j.res = mempool.FromContext(ctx).Register("HashJoin build", true)
	spec := j.probe.spec
	batches, over, err := hjDrain(ctx, j.right, j.res)
	if over == nil {
		if err != nil {
			return err
		}
		var t *JoinTable
		if t, err = hjBuild(ctx, j.right.Schema(), batches, spec.RightKeys, j.res, hjProbeBytesPerBuildRow(spec), 0); err == nil {
			j.table = t
			j.probe.reset(t)
			return nil
		}
		var le *mempool.LimitError
		if !errors.As(err, &le) {
			return err // hjBuild released the batches
		}
	}
	j.grace = newHJGrace(j.left.Schema(), j.right.Schema(), spec, j.res, &j.stats, &j.trace)
	return j.grace.partition(ctx, j.left, j.right, batches, over)
}

// Next implements Operator.
func (j *hashJoin) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if j.grace != nil {
		return j.grace.next(ctx)
	}
	if j.table == nil {
		return nil, fmt.Errorf("hash join: Next before Open")
	}
	return j.probe.next(ctx)
}

// releaseBuild frees the table or the grace join, their files and the
// reservation.
func (j *hashJoin) releaseBuild() {
	j.probe.releaseBatch()
	if j.table != nil {
		j.table.Release()
		j.table = nil
	}
	if j.grace != nil {
		j.grace.close()
		j.grace = nil
	}
	if j.res != nil {
		j.stats.PeakBytes = max(j.stats.PeakBytes, j.res.Peak())
		j.res.Free()
		j.res = nil
	}
}

// Close implements Operator.
func (j *hashJoin) Close() error {
	j.releaseBuild()
	// Inputs are closed also when Open failed or never ran: they may
	// hold resources from their construction (exchange batches).
	err := j.left.Close()
	if rerr := j.right.Close(); err == nil {
		err = rerr
	}
	return err
}

// MemoryStats implements MemoryReporter.
func (j *hashJoin) MemoryStats() MemoryStats {
	s := j.stats
	if j.res != nil {
		s.PeakBytes = max(s.PeakBytes, j.res.Peak())
	}
	return s
}

// hashJoinProbe implements NewHashJoinProbe.
type hashJoinProbe struct {
	probe *hjProbe
	table *JoinTable
}

var _ Operator = (*hashJoinProbe)(nil)

// NewHashJoinProbe probes a shared, prebuilt table (broadcast join) with
// left. Only join types that need no build-side match tracking are allowed:
// inner, left, semi, anti and mark. The caller keeps ownership of table and
// releases it after every probe is closed.
func NewHashJoinProbe(left Operator, table *JoinTable, spec HashJoinSpec) (Operator, error) {
	switch spec.Type {
	case JoinInner, JoinLeft, JoinSemi, JoinAnti, JoinMark:
	default:
		return nil, fmt.Errorf("hash join probe: %s join needs build-side match tracking; use NewHashJoin", spec.Type)
	}
	if table == nil {
		return nil, fmt.Errorf("hash join probe: nil table")
	}
	if !slices.Equal(table.keyCols, spec.RightKeys) {
		return nil, fmt.Errorf("hash join probe: table was built on right columns %v, spec says %v", table.keyCols, spec.RightKeys)
	}
	p, err := newHJProbe(left, table.schema, spec)
	if err != nil {
		return nil, err
	}
	return &hashJoinProbe{probe: p, table: table}, nil
}

// Schema implements Operator.
func (j *hashJoinProbe) Schema() *arrow.Schema { return j.probe.schema }

// Open implements Operator.
func (j *hashJoinProbe) Open(ctx context.Context) error {
	j.probe.reset(j.table)
	return j.probe.left.Open(ctx)
}

// Next implements Operator.
func (j *hashJoinProbe) Next(ctx context.Context) (arrow.RecordBatch, error) {
	return j.probe.next(ctx)
}

// Close implements Operator.
func (j *hashJoinProbe) Close() error {
	j.probe.releaseBatch()
	return j.probe.left.Close()
}

// MemoryStats implements MemoryReporter: the shared table's reservation
// (its peak), which every probe of a broadcast join reports alike.
func (j *hashJoinProbe) MemoryStats() MemoryStats {
	if j.table == nil || j.table.res == nil {
		return MemoryStats{}
	}
	return MemoryStats{PeakBytes: j.table.res.Peak()}
}
