package exec

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DictPredicate is a filter conjunct that reads a single dictionary
// column.
type DictPredicate struct {
	// Col is the input column the predicate reads.
	Col int
	// Pred is compiled over a one-column batch holding that column in its
	// dense type (STRING). TRUE keeps a row; FALSE and NULL drop it.
	Pred Expr
}

// dictFilterOp filters the batches of a dictionary scan (NewDictScan) by
// evaluating each predicate once per distinct dictionary instead of once
// per row, and decodes the dictionary columns of the surviving rows only.
type dictFilterOp struct {
	input  Operator
	schema *arrow.Schema
	pre    Expr          // NewDictDecode's condition, or nil
	cols   []*dictColumn // one per column that has predicates
	sel    []int32       // reused selection vector
	idx    []int32       // reused dictionary indices of the selection
	keep   []bool        // reused by filterDenseSelected
	// NewDictDecodeMapped's: expressions appended as columns, the
	// columns not decoded (nil: none), and the all-NULL column they
	// come out as (cut to each batch's rows).
	maps  []*dictMap
	skip  []bool
	nulls arrow.Array
}

// dictColumn holds the predicates of one column and what they gave on the
// last dictionary seen there. A Parquet reader hands a new copy of the same
// dictionary to every batch of a row group, so the cache compares
// dictionaries by content (a memcmp of bytes the predicates would read
// anyway) rather than identity.
type dictColumn struct {
	col    int
	preds  []Expr
	schema *arrow.Schema // the one-column batch the predicates read

	dict   *array.String // last dictionary evaluated (retained), or nil
	keep   []bool        // keep[k]: every predicate is TRUE on entry k
	kept   int           // entries kept
	failed bool          // a predicate failed on an entry: evaluate the rows

	nullKnown bool // nullKeep has been computed
	nullKeep  bool // every predicate is TRUE on NULL (IS NULL, coalesce...)
}

var _ Operator = (*dictFilterOp)(nil)

// NewDictFilter returns an operator over input (a NewDictScan) that keeps
// the rows on which every predicate is TRUE and returns batches of
// input.Schema(), the dense schema: dictionary columns are decoded into
// STRING columns holding only the surviving rows. dictCols are the
// columns the scan may return as dictionaries; every predicate must read
// one of them. A column that arrives dense (the source kept it so for a
// split) is filtered row by row like NewFilter would. A dictionary entry
// referenced by no row could make a predicate fail (say, a cast) where a
// row-by-row filter would not: on such an error the column's rows are
// decoded and evaluated instead, so errors come only from real rows.
// Batches with no surviving row are skipped.
func NewDictFilter(input Operator, preds []DictPredicate, dictCols []int) (Operator, error) {
	schema := input.Schema()
	isDict := map[int]bool{}
	for _, c := range dictCols {
		if c < 0 || c >= schema.NumFields() {
			return nil, fmt.Errorf("dictionary filter: column %d out of range (%d columns)", c, schema.NumFields())
		}
		if t := schema.Field(c).Type; t.ID() != arrow.STRING {
			return nil, fmt.Errorf("dictionary filter: column %s has type %s, want STRING", schema.Field(c).Name, t)
		}
		isDict[c] = true
	}
	o := &dictFilterOp{input: input, schema: schema}
	byCol := map[int]*dictColumn{}
	for _, p := range preds {
		if !isDict[p.Col] {
			return nil, fmt.Errorf("dictionary filter: predicate %s reads column %d, which is not a dictionary column", p.Pred, p.Col)
		}
		if id := p.Pred.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, fmt.Errorf("dictionary filter: predicate %s has type %s, want BOOLEAN", p.Pred, p.Pred.DataType())
		}
		g := byCol[p.Col]
		if g == nil {
			f := schema.Field(p.Col)
			f.Nullable = true
			g = &dictColumn{col: p.Col, schema: arrow.NewSchema([]arrow.Field{f}, nil)}
			byCol[p.Col] = g
			o.cols = append(o.cols, g)
		}
		g.preds = append(g.preds, p.Pred)
	}
	return o, nil
}

// NewDictDecode returns an operator over input (a NewDictScan whose
// dictionary columns are dictCols) that keeps the rows on which cond is
// TRUE (every row when cond is nil) and decodes the dictionary columns of
// those rows only, into input.Schema()'s STRING columns: a filter on other
// columns (l_orderkey % 10 < 8) then spares the decoding of the strings
// it drops, and even with no filter, decoding a dictionary in one pass
// costs less than the reader's building of strings value by value. cond
// must read no dictionary column: it is evaluated on the batch as it
// arrives.
func NewDictDecode(input Operator, cond Expr, dictCols []int) (Operator, error) {
	o, err := NewDictFilter(input, nil, dictCols)
	if err != nil {
		return nil, err
	}
	if cond != nil {
		if id := cond.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, fmt.Errorf("dictionary decode: condition %s has type %s, want BOOLEAN", cond, cond.DataType())
		}
	}
	o.(*dictFilterOp).pre = cond
	return o, nil
}

func (o *dictFilterOp) Schema() *arrow.Schema          { return o.schema }
func (o *dictFilterOp) Open(ctx context.Context) error { return o.input.Open(ctx) }

func (o *dictFilterOp) Close() error {
	for _, g := range o.cols {
		if g.dict != nil {
			g.dict.Release()
			g.dict = nil
		}
	}
	for _, m := range o.maps {
		m.release()
		if m.null != nil {
			m.null.Release()
			m.null = nil
		}
	}
	if o.nulls != nil {
		o.nulls.Release()
		o.nulls = nil
	}
	return o.input.Close()
}

func (o *dictFilterOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		b, err := o.input.Next(ctx)
		if err != nil || b == nil {
			return nil, err
		}
		out, err := o.apply(ctx, b)
		if err != nil {
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
}

// apply filters one batch and takes ownership of b; nil when no row
// passes.
func (o *dictFilterOp) apply(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	defer b.Release()
	n := int(b.NumRows())
	if n == 0 {
		return nil, nil
	}
	// all: every row selected so far (sel unused); else the rows in sel.
	// Dictionary columns go first: they are cheap and narrow the rows the
	// dense ones (columns a split returned dense) are evaluated on.
	all, sel := true, o.sel[:0]
	if o.pre != nil {
		mask, err := o.pre.Eval(ctx, b)
		if err != nil {
			return nil, fmt.Errorf("filter %s: %w", o.pre, err)
		}
		if mask.DataType().ID() == arrow.NULL {
			mask.Release()
			return nil, nil
		}
		if mask.DataType().ID() != arrow.BOOL || mask.Len() != n {
			mask.Release()
			return nil, fmt.Errorf("filter %s: predicate must give %d BOOLEAN rows, got %d of %s", o.pre, n, mask.Len(), mask.DataType())
		}
		sel = filterSelection(mask, sel)
		mask.Release()
		switch len(sel) {
		case 0:
			o.sel = sel
			return nil, nil
		case n:
			sel = sel[:0]
		default:
			all = false
		}
	}
	for pass := range 2 {
		for _, g := range o.cols {
			var err error
			switch c := b.Column(g.col).(type) {
			case *array.Dictionary:
				if pass == 0 {
					all, sel, err = o.filterDict(ctx, g, c, all, sel)
				}
			case *array.String:
				if pass == 1 {
					all, sel, err = o.filterDense(ctx, g, c, all, sel)
				}
			default:
				err = fmt.Errorf("dictionary filter: column %s has type %s, want STRING or a dictionary of STRING", b.ColumnName(g.col), c.DataType())
			}
			if err != nil {
				return nil, err
			}
			if !all && len(sel) == 0 {
				o.sel = sel
				return nil, nil
			}
		}
	}
	o.sel = sel
	return o.output(ctx, b, all, sel)
}

// filterDict narrows the selection by g's predicates on dictionary column
// d.
func (o *dictFilterOp) filterDict(ctx context.Context, g *dictColumn, d *array.Dictionary, all bool, sel []int32) (bool, []int32, error) {
	values, ok := d.Dictionary().(*array.String)
	ind, ok2 := d.Indices().(*array.Int32)
	if !ok || !ok2 {
		return false, nil, fmt.Errorf("dictionary filter: column %s has type %s, want %s", g.schema.Field(0).Name, d.DataType(), &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String})
	}
	keep, err := g.entries(ctx, values)
	if err != nil {
		return false, nil, err
	}
	if keep == nil {
		// A predicate failed on some entry: evaluate the rows themselves.
		dense, err := o.decode(Allocator(ctx), g.schema.Field(0).Name, d, true, nil)
		if err != nil {
			return false, nil, err
		}
		defer dense.Release()
		return o.filterDense(ctx, g, dense.(*array.String), all, sel)
	}
	hasNull := ind.NullN() > 0
	nullKeep := false
	if hasNull {
		if nullKeep, err = g.nullResult(ctx); err != nil {
			return false, nil, err
		}
	}
	if g.kept == len(keep) && (!hasNull || nullKeep) {
		return all, sel, nil // every row passes
	}
	if g.kept == 0 && !nullKeep {
		return false, sel[:0], nil
	}
	ix := ind.Int32Values()
	nd := uint32(len(keep))
	pass := func(r int32) (bool, error) {
		if hasNull && ind.IsNull(int(r)) {
			return nullKeep, nil
		}
		k := ix[r]
		if uint32(k) >= nd {
			return false, fmt.Errorf("dictionary filter: column %s: row %d has dictionary index %d, the dictionary has %d values", g.schema.Field(0).Name, r, k, nd)
		}
		return keep[k], nil
	}
	if !hasNull && all {
		// The common case, without per-row null checks or closures.
		sel = sel[:0]
		for r, k := range ix {
			if uint32(k) >= nd {
				return false, nil, fmt.Errorf("dictionary filter: column %s: row %d has dictionary index %d, the dictionary has %d values", g.schema.Field(0).Name, r, k, nd)
			}
			if keep[k] {
				sel = append(sel, int32(r))
			}
		}
		return false, sel, nil
	}
	if all {
		sel = sel[:0]
		for r := range int32(len(ix)) {
			ok, err := pass(r)
			if err != nil {
				return false, nil, err
			}
			if ok {
				sel = append(sel, r)
			}
		}
		return false, sel, nil
	}
	out := sel[:0] // in place: out never overtakes the read position
	for _, r := range sel {
		ok, err := pass(r)
		if err != nil {
			return false, nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return false, out, nil
}

// filterDense narrows the selection by g's predicates on dense column c,
// evaluated on every row of the batch (as NewFilter would), or only on the
// selected rows when they are fewer than half.
func (o *dictFilterOp) filterDense(ctx context.Context, g *dictColumn, c *array.String, all bool, sel []int32) (bool, []int32, error) {
	if !all && len(sel) < c.Len()/2 {
		return o.filterDenseSelected(ctx, g, c, sel)
	}
	batch := array.NewRecordBatch(g.schema, []arrow.Array{c}, int64(c.Len()))
	defer batch.Release()
	for _, p := range g.preds {
		mask, err := evalMask(ctx, p, batch)
		if err != nil {
			return false, nil, err
		}
		if mask == nil {
			return false, sel[:0], nil // NULL for every row
		}
		if all {
			sel = filterSelection(mask, sel[:0])
			all = false
		} else {
			out := sel[:0]
			for _, r := range sel {
				if mask.IsValid(int(r)) && mask.Value(int(r)) {
					out = append(out, r)
				}
			}
			sel = out
		}
		mask.Release()
		if len(sel) == 0 {
			break
		}
	}
	return all, sel, nil
}

// filterDenseSelected evaluates g's predicates on the rows sel of c only.
func (o *dictFilterOp) filterDenseSelected(ctx context.Context, g *dictColumn, c *array.String, sel []int32) (bool, []int32, error) {
	rows, err := batchTakeVarlen[int32](Allocator(ctx), c, sel)
	if err != nil {
		return false, nil, err
	}
	batch := array.NewRecordBatch(g.schema, []arrow.Array{rows}, int64(len(sel)))
	rows.Release()
	defer batch.Release()
	// keep[i] tells whether sel[i] survives; sel is narrowed at the end
	// because masks index the gathered rows.
	keep := slices.Grow(o.keep[:0], len(sel))[:len(sel)]
	o.keep = keep
	for i := range keep {
		keep[i] = true
	}
	for _, p := range g.preds {
		mask, err := evalMask(ctx, p, batch)
		if err != nil {
			return false, nil, err
		}
		if mask == nil {
			return false, sel[:0], nil
		}
		for i := range keep {
			keep[i] = keep[i] && mask.IsValid(i) && mask.Value(i)
		}
		mask.Release()
	}
	out := sel[:0]
	for i, r := range sel {
		if keep[i] {
			out = append(out, r)
		}
	}
	return false, out, nil
}

// evalMask evaluates a predicate to a BOOLEAN array of batch's length, or
// nil when its type is NULL (no row passes).
func evalMask(ctx context.Context, p Expr, batch arrow.RecordBatch) (*array.Boolean, error) {
	res, err := p.Eval(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("filter %s: %w", p, err)
	}
	if res.DataType().ID() == arrow.NULL {
		res.Release()
		return nil, nil
	}
	mask, ok := res.(*array.Boolean)
	if !ok || mask.Len() != int(batch.NumRows()) {
		res.Release()
		return nil, fmt.Errorf("filter %s: predicate must give %d BOOLEAN rows, got %d of %s", p, batch.NumRows(), res.Len(), res.DataType())
	}
	return mask, nil
}

// entries returns keep (see dictColumn) for dictionary values, evaluating
// the predicates only when values differ from the last dictionary. It
// returns nil keep when a predicate fails on an entry.
func (g *dictColumn) entries(ctx context.Context, values *array.String) ([]bool, error) {
	if g.dict != nil && sameStrings(g.dict, values) {
		if g.failed {
			return nil, nil
		}
		return g.keep, nil
	}
	if g.dict != nil {
		g.dict.Release()
	}
	values.Retain()
	g.dict, g.failed = values, false
	n := values.Len()
	keep := slices.Grow(g.keep[:0], n)[:n]
	for k := range keep {
		keep[k] = true
	}
	g.keep = keep
	batch := array.NewRecordBatch(g.schema, []arrow.Array{values}, int64(n))
	defer batch.Release()
	for _, p := range g.preds {
		mask, err := evalMask(ctx, p, batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			g.failed = true
			return nil, nil
		}
		if mask == nil {
			clear(keep)
			break
		}
		for k := range keep {
			keep[k] = keep[k] && mask.IsValid(k) && mask.Value(k)
		}
		mask.Release()
	}
	g.kept = 0
	for _, k := range keep {
		if k {
			g.kept++
		}
	}
	return keep, nil
}

// nullResult reports whether every predicate of g is TRUE on NULL (the
// value of rows with a NULL index).
func (g *dictColumn) nullResult(ctx context.Context) (bool, error) {
	if g.nullKnown {
		return g.nullKeep, nil
	}
	null := array.MakeArrayOfNull(Allocator(ctx), arrow.BinaryTypes.String, 1)
	batch := array.NewRecordBatch(g.schema, []arrow.Array{null}, 1)
	null.Release()
	defer batch.Release()
	keep := true
	for _, p := range g.preds {
		mask, err := evalMask(ctx, p, batch)
		if err != nil {
			return false, err
		}
		keep = keep && mask != nil && mask.IsValid(0) && mask.Value(0)
		if mask != nil {
			mask.Release()
		}
	}
	g.nullKnown, g.nullKeep = true, keep
	return keep, nil
}

// sameStrings reports whether a and b hold the same values (and NULLs).
func sameStrings(a, b *array.String) bool {
	if a == b {
		return true
	}
	n := a.Len()
	if n != b.Len() || a.NullN() != b.NullN() {
		return false
	}
	ad, bd := a.Data(), b.Data()
	if ad.Offset() == bd.Offset() && ad.Buffers()[1] == bd.Buffers()[1] && ad.Buffers()[2] == bd.Buffers()[2] && ad.Buffers()[0] == bd.Buffers()[0] {
		return true
	}
	if a.NullN() > 0 {
		for i := range n {
			if a.IsNull(i) != b.IsNull(i) {
				return false
			}
		}
	}
	if n == 0 {
		return true // an empty array may have no offsets buffer
	}
	ao, bo := a.ValueOffsets(), b.ValueOffsets()
	if ao[0] == bo[0] {
		if !bytes.Equal(int32Bytes(ao), int32Bytes(bo)) {
			return false
		}
	} else {
		for i := range ao {
			if ao[i]-ao[0] != bo[i]-bo[0] {
				return false
			}
		}
	}
	return bytes.Equal(a.ValueBytes(), b.ValueBytes())
}

func int32Bytes(s []int32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

// output builds the batch of the selected rows with dictionary columns
// decoded.
func (o *dictFilterOp) output(ctx context.Context, b arrow.RecordBatch, all bool, sel []int32) (arrow.RecordBatch, error) {
	hasDict := false
	for _, c := range b.Columns() {
		hasDict = hasDict || c.DataType().ID() == arrow.DICTIONARY
	}
	rows := int64(len(sel))
	if all {
		rows = b.NumRows()
		if !hasDict && o.maps == nil && o.skip == nil {
			b.Retain()
			return b, nil
		}
	}
	mem := Allocator(ctx)
	nc := int(b.NumCols())
	cols := make([]arrow.Array, nc+len(o.maps))
	for k, m := range o.maps {
		var err error
		if cols[nc+k], err = o.mapColumn(ctx, m, b.Column(m.Col), all, sel, int(rows)); err != nil {
			batchReleaseAll(cols[nc:])
			return nil, err
		}
	}
	for i, c := range b.Columns() {
		var err error
		switch {
		case o.skip != nil && o.skip[i]:
			if o.nulls == nil || int64(o.nulls.Len()) < rows {
				if o.nulls != nil {
					o.nulls.Release()
				}
				o.nulls = array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, int(max(rows, DefaultBatchSize)))
			}
			cols[i] = array.NewSlice(o.nulls, 0, rows)
		case c.DataType().ID() == arrow.DICTIONARY:
			cols[i], err = o.decode(mem, b.ColumnName(i), c.(*array.Dictionary), all, sel)
		case all:
			c.Retain()
			cols[i] = c
		default:
			cols[i], err = batchTakeArray(ctx, mem, c, sel)
		}
		if err != nil {
			batchReleaseAll(cols[:i])
			batchReleaseAll(cols[nc:])
			return nil, fmt.Errorf("dictionary filter column %s: %w", b.ColumnName(i), err)
		}
	}
	return batchNewOwned(o.schema, cols, rows), nil
}

// decode returns the dense STRING values of the rows all / sel of d: the
// selection is mapped through the indices, then the strings are copied in
// one pass (offsets and bytes, no per-row builder calls).
func (o *dictFilterOp) decode(mem memory.Allocator, name string, d *array.Dictionary, all bool, sel []int32) (arrow.Array, error) {
	values, ok := d.Dictionary().(*array.String)
	ind, ok2 := d.Indices().(*array.Int32)
	if !ok || !ok2 {
		return nil, fmt.Errorf("column %s has type %s, want a dictionary of STRING with INT indices", name, d.DataType())
	}
	ix := ind.Int32Values()
	hasNull := ind.NullN() > 0
	nd := uint32(values.Len())
	m := len(sel)
	if all {
		m = len(ix)
	}
	idx := slices.Grow(o.idx[:0], m)[:m]
	o.idx = idx
	for i := range idx {
		r := int32(i)
		if !all {
			r = sel[i]
		}
		if hasNull && ind.IsNull(int(r)) {
			idx[i] = -1
			continue
		}
		k := ix[r]
		if uint32(k) >= nd {
			return nil, fmt.Errorf("column %s: row %d has dictionary index %d, the dictionary has %d values", name, r, k, nd)
		}
		idx[i] = k
	}
	return batchTakeVarlen[int32](mem, values, idx)
}
