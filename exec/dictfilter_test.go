package exec_test

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
)

var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// The dense schema the operator returns: id, s (dictionary with
// predicates), t (dictionary decoded late), u (plain string).
var dictFilterSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "t", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "u", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }

// dictCol describes a dictionary column of a test batch: values (nil =
// NULL entry) and per-row indices (-1 = NULL index).
type dictCol struct {
	values []*string
	idx    []int32
	dense  bool // build a plain STRING column instead
}

func (c dictCol) row(i int) *string {
	if c.idx[i] < 0 {
		return nil
	}
	return c.values[c.idx[i]]
}

func buildStrings(mem memory.Allocator, vals []*string) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
		} else {
			b.Append(*v)
		}
	}
	return b.NewArray()
}

func (c dictCol) build(mem memory.Allocator) arrow.Array {
	if c.dense {
		rows := make([]*string, len(c.idx))
		for i := range rows {
			rows[i] = c.row(i)
		}
		return buildStrings(mem, rows)
	}
	// Built by hand to put garbage under NULL indices: it must never be
	// read.
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(4 * len(c.idx))
	valid := memory.NewResizableBuffer(mem)
	valid.Resize(int(bitutil.BytesForBits(int64(len(c.idx)))))
	clear(valid.Bytes())
	iv := arrow.Int32Traits.CastFromBytes(vals.Bytes())
	nulls := 0
	for i, k := range c.idx {
		if k < 0 {
			iv[i] = 12345
			nulls++
			continue
		}
		iv[i] = k
		bitutil.SetBit(valid.Bytes(), i)
	}
	data := array.NewData(arrow.PrimitiveTypes.Int32, len(c.idx), []*memory.Buffer{valid, vals}, nil, nulls, 0)
	vals.Release()
	valid.Release()
	ind := array.MakeFromData(data)
	data.Release()
	defer ind.Release()
	dict := buildStrings(mem, c.values)
	defer dict.Release()
	return array.NewDictionaryArray(dictType, ind, dict)
}

type dictTestBatch struct {
	ids  []int64
	s, t dictCol
	u    []*string
}

type dictRow struct{ id, s, t, u string }

func showStr(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}

func (b dictTestBatch) rows() []dictRow {
	out := make([]dictRow, len(b.ids))
	for i := range out {
		out[i] = dictRow{fmt.Sprint(b.ids[i]), showStr(b.s.row(i)), showStr(b.t.row(i)), showStr(b.u[i])}
	}
	return out
}

func (b dictTestBatch) build(mem memory.Allocator) arrow.RecordBatch {
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	ib.AppendValues(b.ids, nil)
	ids := ib.NewArray()
	s, t, u := b.s.build(mem), b.t.build(mem), buildStrings(mem, b.u)
	cols := []arrow.Array{ids, s, t, u}
	fields := dictFilterSchema.Fields()
	for i, c := range cols {
		fields[i].Type = c.DataType()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(len(b.ids)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// Dictionaries: d1 and a copy of it (same content, other buffers), d2
// different, with NULL entries, entries no row uses and a value that is
// not a number.
var (
	d1 = []*string{sp("apple"), sp("banana"), nil, sp("kiwi"), sp("pear"), sp("7")}
	d2 = []*string{sp("blueberry"), sp("apple"), sp("zucchini"), nil, sp("x")}
	dt = []*string{sp("red"), sp("green"), nil}
)

func dictTestBatches() []dictTestBatch {
	return []dictTestBatch{
		{ids: []int64{1, 2, 3, 4, 5, 6, 7}, s: dictCol{values: d1, idx: []int32{0, 1, 2, 3, 4, -1, 0}},
			t: dictCol{values: dt, idx: []int32{0, 1, 2, -1, 0, 1, 0}}, u: []*string{sp("a"), nil, sp("c"), sp("d"), sp("e"), sp("f"), sp("g")}},
		// same dictionary content, new buffers
		{ids: []int64{8, 9, 10}, s: dictCol{values: d1, idx: []int32{4, 4, 1}},
			t: dictCol{values: dt, idx: []int32{2, 2, 0}}, u: []*string{sp("h"), sp("i"), nil}},
		// a new dictionary
		{ids: []int64{11, 12, 13, 14, 15}, s: dictCol{values: d2, idx: []int32{0, 1, 2, 3, -1}},
			t: dictCol{values: dt, idx: []int32{1, 1, 1, 1, 1}}, u: []*string{sp("j"), sp("k"), sp("l"), sp("m"), sp("n")}},
		// s arrives dense for this split, t too
		{ids: []int64{16, 17, 18}, s: dictCol{values: d1, idx: []int32{3, 2, 1}, dense: true},
			t: dictCol{values: dt, idx: []int32{0, -1, 1}, dense: true}, u: []*string{sp("o"), sp("p"), sp("q")}},
		// back to d1: every row the same value
		{ids: []int64{19, 20}, s: dictCol{values: d1, idx: []int32{0, 0}},
			t: dictCol{values: dt, idx: []int32{0, 0}}, u: []*string{sp("r"), sp("s")}},
	}
}

// sqlPred is a predicate on one STRING column with its reference
// semantics written out by hand (nil = NULL).
type sqlPred struct {
	name  string
	build func(col exec.Expr) (exec.Expr, error)
	ref   func(v *string) *bool
}

func strLit(s string) exec.Expr {
	e, err := expr.Lit(s, arrow.BinaryTypes.String)
	if err != nil {
		panic(err)
	}
	return e
}

func cmpPred(op, lit string, ref func(a, b string) bool) sqlPred {
	return sqlPred{name: "s " + op + " '" + lit + "'",
		build: func(col exec.Expr) (exec.Expr, error) { return expr.Compare(op, col, strLit(lit)) },
		ref: func(v *string) *bool {
			if v == nil {
				return nil
			}
			return bp(ref(*v, lit))
		}}
}

var dictPreds = []sqlPred{
	cmpPred("=", "apple", func(a, b string) bool { return a == b }),
	cmpPred("<>", "pear", func(a, b string) bool { return a != b }),
	cmpPred("<", "k", func(a, b string) bool { return a < b }),
	cmpPred(">=", "kiwi", func(a, b string) bool { return a >= b }),
	{name: "s LIKE 'b%'", build: func(col exec.Expr) (exec.Expr, error) { return expr.Like(col, "b%", 0, false, false) },
		ref: func(v *string) *bool {
			if v == nil {
				return nil
			}
			return bp(strings.HasPrefix(*v, "b"))
		}},
	{name: "s NOT LIKE '%e%'", build: func(col exec.Expr) (exec.Expr, error) { return expr.Like(col, "%e%", 0, true, false) },
		ref: func(v *string) *bool {
			if v == nil {
				return nil
			}
			return bp(!strings.Contains(*v, "e"))
		}},
	{name: "s IN ('apple', 'kiwi', 'x')", build: func(col exec.Expr) (exec.Expr, error) {
		return expr.InList(col, []any{"apple", "kiwi", "x"}, false)
	}, ref: func(v *string) *bool {
		if v == nil {
			return nil
		}
		return bp(*v == "apple" || *v == "kiwi" || *v == "x")
	}},
	{name: "s IS NULL", build: func(col exec.Expr) (exec.Expr, error) { return expr.IsNull(col, false), nil },
		ref: func(v *string) *bool { return bp(v == nil) }},
	{name: "s IS NOT NULL", build: func(col exec.Expr) (exec.Expr, error) { return expr.IsNull(col, true), nil },
		ref: func(v *string) *bool { return bp(v != nil) }},
	{name: "s <> s (NULL or FALSE everywhere)", build: func(col exec.Expr) (exec.Expr, error) { return expr.Compare("<>", col, col) },
		ref: func(v *string) *bool {
			if v == nil {
				return nil
			}
			return bp(false)
		}},
}

// countingExpr counts the rows it is evaluated on.
type countingExpr struct {
	exec.Expr
	calls, rows int
}

func (c *countingExpr) Eval(ctx context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	c.calls++
	c.rows += int(b.NumRows())
	return c.Expr.Eval(ctx, b)
}

func runDictFilter(t *testing.T, batches []dictTestBatch, preds []exec.DictPredicate, batchSlice int) ([]dictRow, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := exec.WithAllocator(context.Background(), mem)
	var recs []arrow.RecordBatch
	for _, b := range batches {
		rec := b.build(mem)
		if batchSlice > 0 && rec.NumRows() > int64(batchSlice) {
			// Sliced inputs: indices with a non-zero offset.
			recs = append(recs, exec.SliceBatches(rec, batchSlice)...)
			rec.Release()
			continue
		}
		recs = append(recs, rec)
	}
	src := &filterTestSource{schema: dictFilterSchema, batches: recs}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	op, err := exec.NewDictFilter(src, preds, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CollectAll(ctx, op)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, b := range out {
			b.Release()
		}
	}()
	var rows []dictRow
	for _, b := range out {
		if !b.Schema().Equal(dictFilterSchema) {
			t.Fatalf("output schema %s, want %s", b.Schema(), dictFilterSchema)
		}
		if b.NumRows() == 0 {
			t.Fatalf("empty output batch")
		}
		ids := b.Column(0).(*array.Int64)
		str := func(c, i int) string {
			a := b.Column(c).(*array.String)
			if a.IsNull(i) {
				return "NULL"
			}
			return a.Value(i)
		}
		for i := range int(b.NumRows()) {
			rows = append(rows, dictRow{fmt.Sprint(ids.Value(i)), str(1, i), str(2, i), str(3, i)})
		}
	}
	if !src.closed {
		t.Fatal("input not closed")
	}
	return rows, nil
}

// wantRows filters the batches' rows by refs (on s) and tRefs (on t).
func wantRows(batches []dictTestBatch, refs, tRefs []func(*string) *bool) []dictRow {
	var out []dictRow
	for _, b := range batches {
		for i, r := range b.rows() {
			keep := true
			for _, f := range refs {
				v := f(b.s.row(i))
				keep = keep && v != nil && *v
			}
			for _, f := range tRefs {
				v := f(b.t.row(i))
				keep = keep && v != nil && *v
			}
			if keep {
				out = append(out, r)
			}
		}
	}
	return out
}

func sameRows(t *testing.T, got, want []dictRow) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func col(i int) exec.Expr {
	return expr.Col(0, arrow.BinaryTypes.String, dictFilterSchema.Field(i).Name)
}

func TestDictFilterSinglePredicates(t *testing.T) {
	batches := dictTestBatches()
	for _, p := range dictPreds {
		for _, slice := range []int{0, 2, 3} {
			t.Run(fmt.Sprintf("%s/slice%d", p.name, slice), func(t *testing.T) {
				e, err := p.build(col(1))
				if err != nil {
					t.Fatal(err)
				}
				got, err := runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: e}}, slice)
				if err != nil {
					t.Fatal(err)
				}
				sameRows(t, got, wantRows(batches, []func(*string) *bool{p.ref}, nil))
			})
		}
	}
}

func TestDictFilterConjunctions(t *testing.T) {
	batches := dictTestBatches()
	for i, p := range dictPreds {
		q := dictPreds[(i+3)%len(dictPreds)]
		t.Run(p.name+" AND "+q.name+" AND t <> 'green'", func(t *testing.T) {
			e1, err := p.build(col(1))
			if err != nil {
				t.Fatal(err)
			}
			e2, err := q.build(col(1))
			if err != nil {
				t.Fatal(err)
			}
			e3, err := expr.Compare("<>", col(2), strLit("green"))
			if err != nil {
				t.Fatal(err)
			}
			preds := []exec.DictPredicate{{Col: 1, Pred: e1}, {Col: 2, Pred: e3}, {Col: 1, Pred: e2}}
			got, err := runDictFilter(t, batches, preds, 0)
			if err != nil {
				t.Fatal(err)
			}
			tRef := func(v *string) *bool {
				if v == nil {
					return nil
				}
				return bp(*v != "green")
			}
			sameRows(t, got, wantRows(batches, []func(*string) *bool{p.ref, q.ref}, []func(*string) *bool{tRef}))
		})
	}
}

// Hand-computed: s = 'apple' keeps ids 1, 7, 12 (d2 entry 1), 19, 20.
func TestDictFilterHandComputed(t *testing.T) {
	e, err := expr.Compare("=", col(1), strLit("apple"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := runDictFilter(t, dictTestBatches(), []exec.DictPredicate{{Col: 1, Pred: e}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []dictRow{{"1", "apple", "red", "a"}, {"7", "apple", "red", "g"}, {"12", "apple", "green", "k"},
		{"19", "apple", "red", "r"}, {"20", "apple", "red", "s"}}
	sameRows(t, got, want)
}

// The predicate runs once per distinct dictionary: batch 2 repeats batch
// 1's dictionary (by content), batch 4 is dense (its 3 rows), batch 5
// returns to d1 after d2.
func TestDictFilterEvaluatesOncePerDictionary(t *testing.T) {
	e, err := expr.Compare("<", col(1), strLit("k"))
	if err != nil {
		t.Fatal(err)
	}
	ce := &countingExpr{Expr: e}
	if _, err := runDictFilter(t, dictTestBatches(), []exec.DictPredicate{{Col: 1, Pred: ce}}, 0); err != nil {
		t.Fatal(err)
	}
	// d1 (6), once on NULL (for the NULL indices of batch 1), d2 (5),
	// dense batch (3), d1 again (6).
	if ce.calls != 5 || ce.rows != 6+1+5+3+6 {
		t.Errorf("predicate evaluated %d times on %d rows, want 5 times on 21", ce.calls, ce.rows)
	}
}

// A cast that fails on a dictionary entry no row uses must not fail the
// query; one that fails on a row must.
func TestDictFilterErrorOnlyFromRows(t *testing.T) {
	build := func() exec.Expr {
		c, err := expr.Cast(col(1), arrow.PrimitiveTypes.Int64)
		if err != nil {
			t.Fatal(err)
		}
		lit, _ := expr.Lit(int64(5), arrow.PrimitiveTypes.Int64)
		e, err := expr.Compare(">", c, lit)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// Rows use only d1's entry "7" and NULL.
	batches := []dictTestBatch{
		{ids: []int64{1, 2, 3}, s: dictCol{values: d1, idx: []int32{5, -1, 5}},
			t: dictCol{values: dt, idx: []int32{0, 1, 2}}, u: []*string{sp("a"), sp("b"), sp("c")}},
		{ids: []int64{4}, s: dictCol{values: d1, idx: []int32{5}},
			t: dictCol{values: dt, idx: []int32{0}}, u: []*string{sp("d")}},
	}
	got, err := runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: build()}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, got, []dictRow{{"1", "7", "red", "a"}, {"3", "7", "NULL", "c"}, {"4", "7", "red", "d"}})

	batches[1].s.idx[0] = 0 // "apple"
	if _, err := runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: build()}}, 0); err == nil {
		t.Fatal("no error casting 'apple' to BIGINT")
	}
}

func TestDictFilterAllAndNonePass(t *testing.T) {
	batches := dictTestBatches()
	// TRUE for every entry and NULL: batches pass whole, decoded.
	e, err := expr.Compare("is not distinct from", col(1), col(1))
	if err != nil {
		t.Fatal(err)
	}
	got, err := runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: e}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, got, wantRows(batches, nil, nil))
	// No entry passes.
	e, err = expr.Compare("=", col(1), strLit("nothing"))
	if err != nil {
		t.Fatal(err)
	}
	got, err = runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: e}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("got %v, want no rows", got)
	}
	// A predicate of type NULL drops everything.
	nullLit, err := expr.Lit(nil, arrow.Null)
	if err != nil {
		t.Fatal(err)
	}
	got, err = runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: nullLit}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("NULL predicate: got %v, want no rows", got)
	}
}

func TestDictFilterBadInput(t *testing.T) {
	src := &filterTestSource{schema: dictFilterSchema}
	e, _ := expr.Compare("<>", col(1), strLit("zzz"))
	if _, err := exec.NewDictFilter(src, []exec.DictPredicate{{Col: 3, Pred: e}}, []int{1}); err == nil {
		t.Error("predicate on a non-dictionary column accepted")
	}
	if _, err := exec.NewDictFilter(src, nil, []int{0}); err == nil {
		t.Error("BIGINT dictionary column accepted")
	}
	// An index outside the dictionary is an error, not a panic.
	batches := []dictTestBatch{{ids: []int64{1}, s: dictCol{values: d1, idx: []int32{9}},
		t: dictCol{values: dt, idx: []int32{0}}, u: []*string{sp("a")}}}
	if _, err := runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: e}}, 0); err == nil || !strings.Contains(err.Error(), "dictionary index 9") {
		t.Errorf("got %v, want an error about index 9", err)
	}
	batches[0].s.idx[0] = 0
	batches[0].t.idx[0] = 7 // decoded column only
	if _, err := runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: e}}, 0); err == nil || !strings.Contains(err.Error(), "dictionary index 7") {
		t.Errorf("got %v, want an error about index 7", err)
	}
}

// Random batches: dictionaries that differ from the last one only in a
// byte, in a length or in a NULL, columns that switch between dictionary
// and dense, NULL indices; every pair of predicates on s with one on t,
// against the reference semantics.
func TestDictFilterRandom(t *testing.T) {
	dicts := [][]*string{
		d1,
		{sp("apple"), sp("banana"), nil, sp("kiwj"), sp("pear"), sp("7")},  // one byte differs
		{sp("apple"), sp("banana"), nil, sp("kiwis"), sp("pear"), sp("7")}, // one length differs
		{sp("apple"), sp("banana"), sp(""), sp("kiwi"), sp("pear"), sp("7")},
		d2,
	}
	r := rand.New(rand.NewSource(7))
	var batches []dictTestBatch
	id := int64(0)
	for range 60 {
		n := 1 + r.Intn(40)
		ds := dicts[r.Intn(len(dicts))]
		b := dictTestBatch{s: dictCol{values: ds, dense: r.Intn(4) == 0}, t: dictCol{values: dt, dense: r.Intn(4) == 0}}
		for range n {
			id++
			b.ids = append(b.ids, id)
			k := int32(r.Intn(len(ds) + 1))
			if k == int32(len(ds)) {
				k = -1
			}
			b.s.idx = append(b.s.idx, k)
			b.t.idx = append(b.t.idx, int32(r.Intn(len(dt)+1))-1)
			b.u = append(b.u, sp(fmt.Sprint(id)))
		}
		batches = append(batches, b)
	}
	tRef := func(v *string) *bool {
		if v == nil {
			return nil
		}
		return bp(*v == "red")
	}
	for i, p := range dictPreds {
		q := dictPreds[(i*5+1)%len(dictPreds)]
		for _, slice := range []int{0, 7} {
			t.Run(fmt.Sprintf("%s AND %s AND t = 'red'/slice%d", p.name, q.name, slice), func(t *testing.T) {
				e1, err := p.build(col(1))
				if err != nil {
					t.Fatal(err)
				}
				e2, err := q.build(col(1))
				if err != nil {
					t.Fatal(err)
				}
				e3, err := expr.Compare("=", col(2), strLit("red"))
				if err != nil {
					t.Fatal(err)
				}
				got, err := runDictFilter(t, batches, []exec.DictPredicate{{Col: 1, Pred: e1}, {Col: 1, Pred: e2}, {Col: 2, Pred: e3}}, slice)
				if err != nil {
					t.Fatal(err)
				}
				sameRows(t, got, wantRows(batches, []func(*string) *bool{p.ref, q.ref}, []func(*string) *bool{tRef}))
			})
		}
	}
}

// Dictionary columns are filtered first; a dense column is then evaluated
// only on the rows still selected when they are fewer than half.
func TestDictFilterDenseAfterDictionary(t *testing.T) {
	b := dictTestBatch{s: dictCol{values: d1, dense: true}, t: dictCol{values: dt}}
	for i := range 30 {
		b.ids = append(b.ids, int64(i))
		b.s.idx = append(b.s.idx, int32(i%len(d1)))
		b.t.idx = append(b.t.idx, int32(i%10/9)) // 1 ("green") for 3 rows in 30
		b.u = append(b.u, nil)
	}
	es, err := expr.Like(col(1), "%a%", 0, false, false)
	if err != nil {
		t.Fatal(err)
	}
	ce := &countingExpr{Expr: es}
	et, err := expr.Compare("=", col(2), strLit("green"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := runDictFilter(t, []dictTestBatch{b}, []exec.DictPredicate{{Col: 1, Pred: ce}, {Col: 2, Pred: et}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Rows 9, 19, 29: s = d1[3], d1[1], d1[5] = kiwi, banana, 7.
	sameRows(t, got, []dictRow{{"19", "banana", "green", "NULL"}})
	if ce.rows != 3 {
		t.Errorf("dense predicate evaluated on %d rows, want the 3 selected", ce.rows)
	}
}

// An all-NULL column chunk comes with an empty dictionary.
func TestDictFilterEmptyDictionary(t *testing.T) {
	b := dictTestBatch{ids: []int64{1, 2}, s: dictCol{values: nil, idx: []int32{-1, -1}},
		t: dictCol{values: nil, idx: []int32{-1, -1}}, u: []*string{sp("a"), nil}}
	for _, p := range dictPreds {
		t.Run(p.name, func(t *testing.T) {
			e, err := p.build(col(1))
			if err != nil {
				t.Fatal(err)
			}
			got, err := runDictFilter(t, []dictTestBatch{b}, []exec.DictPredicate{{Col: 1, Pred: e}}, 0)
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, got, wantRows([]dictTestBatch{b}, []func(*string) *bool{p.ref}, nil))
		})
	}
}

// dictTestSource is a connectors.Source and DictOpener over prepared
// batches (one split), recording the flags it was opened with.
type dictTestSource struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	flags   []bool
}

func (s *dictTestSource) Format() connectors.Format { return connectors.Parquet }
func (s *dictTestSource) Location() string          { return "test://dict" }
func (s *dictTestSource) Files() []string           { return nil }
func (s *dictTestSource) Schema() *arrow.Schema     { return s.schema }
func (s *dictTestSource) Stats() connectors.Stats   { return connectors.Stats{} }
func (s *dictTestSource) Splits(context.Context, []connectors.Predicate, int) ([]connectors.Split, error) {
	return []connectors.Split{{Path: "x", Length: -1}}, nil
}
func (s *dictTestSource) Open(ctx context.Context, sp connectors.Split, cols []int, n int) (connectors.RecordReader, error) {
	return s.OpenDict(ctx, sp, cols, nil, n)
}
func (s *dictTestSource) OpenDict(_ context.Context, _ connectors.Split, _ []int, dict []bool, _ int) (connectors.RecordReader, error) {
	s.flags = dict
	return &sliceReader{batches: s.batches}, nil
}

type sliceReader struct{ batches []arrow.RecordBatch }

func (r *sliceReader) Next(context.Context) (arrow.RecordBatch, error) {
	if len(r.batches) == 0 {
		return nil, nil
	}
	b := r.batches[0]
	r.batches = r.batches[1:]
	b.Retain()
	return b, nil
}
func (r *sliceReader) Close() error { return nil }

// A dictionary scan accepts dictionaries only in the flagged columns, and
// dense columns there too; the dictionary filter above it returns the
// dense schema.
func TestDictScanSchemaCheck(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := exec.WithAllocator(context.Background(), mem)
	batches := dictTestBatches()
	recs := []arrow.RecordBatch{batches[0].build(mem), batches[3].build(mem)} // dictionaries, then dense
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	src := &dictTestSource{schema: dictFilterSchema, batches: recs}
	splits := []connectors.Split{{Path: "x", Length: -1}}
	cols := []int{0, 1, 2, 3}
	e, err := expr.Compare("<>", col(1), strLit("pear"))
	if err != nil {
		t.Fatal(err)
	}
	scan, err := exec.NewDictScan(src, splits, cols, []bool{false, true, true, false}, dictFilterSchema)
	if err != nil {
		t.Fatal(err)
	}
	op, err := exec.NewDictFilter(scan, []exec.DictPredicate{{Col: 1, Pred: e}}, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CollectAll(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, b := range out {
		if !b.Schema().Equal(dictFilterSchema) {
			t.Errorf("schema %s", b.Schema())
		}
		rows += int(b.NumRows())
		b.Release()
	}
	// Batch 1: all but pear (id 5) and the NULLs (ids 3, 6); batch 4: all
	// but the NULL (id 17).
	if rows != 4+2 {
		t.Errorf("%d rows, want 6", rows)
	}
	if fmt.Sprint(src.flags) != "[false true true false]" {
		t.Errorf("opened with flags %v", src.flags)
	}
	// t arrives as a dictionary but was not flagged.
	scan, err = exec.NewDictScan(src, splits, cols, []bool{false, true, false, false}, dictFilterSchema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.CollectAll(ctx, scan); err == nil || !strings.Contains(err.Error(), "column t has type dictionary") {
		t.Errorf("got %v, want an error about column t", err)
	}
	if _, err := exec.NewDictScan(src, splits, cols, []bool{true, false, false, false}, dictFilterSchema); err == nil {
		t.Error("BIGINT column flagged as dictionary accepted")
	}
}
