package exec

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/types"
)

// aggTestDec is the engine's DECIMAL(12,2), a Decimal64;
// TestHashAggregateDecimal128 reruns the reference tests with a
// Decimal128(12,2).
var aggTestDec arrow.DataType = types.Decimal(12, 2)

func TestHashAggregateDecimal128(t *testing.T) {
	old := aggTestDec
	aggTestDec = types.Decimal128(12, 2)
	defer func() { aggTestDec = old }()
	t.Run("single", TestHashAggregateSingle)
	t.Run("partial-final", TestHashAggregatePartialFinal)
}

func aggTestSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "g1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "g2", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "d", Type: aggTestDec, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
}

func aggTestRows(seed uint64, n int) [][]any {
	rng := rand.New(rand.NewPCG(seed, 7))
	maybe := func(p int, v any) any {
		if rng.IntN(100) < p {
			return nil
		}
		return v
	}
	rows := make([][]any, 0, n+3)
	for range n {
		rows = append(rows, []any{
			maybe(10, rng.Int64N(5)),
			maybe(10, string(rune('a'+rng.IntN(3)))),
			maybe(20, int32(rng.IntN(101)-50)),
			maybe(20, hatDec(rng.Int64N(20001)-10000)),
			maybe(20, float64(rng.IntN(2000))/100-10),
			maybe(20, arrow.Date32(18000+rng.IntN(100))),
			maybe(20, rng.IntN(2) == 0),
		})
	}
	if n > 0 {
		// A group whose values are all NULL.
		for range 3 {
			rows = append(rows, []any{int64(99), "z", nil, nil, nil, nil, nil})
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

// aggRef computes one aggregate over the values of one group (rows).
func aggRef(spec AggSpec, rows [][]any) any {
	var vals []any
	seen := map[any]bool{}
	for _, r := range rows {
		if spec.Arg >= 0 && r[spec.Arg] != nil {
			if spec.Distinct {
				if seen[r[spec.Arg]] {
					continue
				}
				seen[r[spec.Arg]] = true
			}
			vals = append(vals, r[spec.Arg])
		}
	}
	toF := func(v any) float64 {
		switch x := v.(type) {
		case int32:
			return float64(x)
		case int64:
			return float64(x)
		case float64:
			return x
		case hatDec:
			return float64(x) / 100
		}
		panic(fmt.Sprintf("toF %T", v))
	}
	switch spec.Func {
	case AggCountStar:
		return int64(len(rows))
	case AggCount:
		return int64(len(vals))
	}
	if len(vals) == 0 {
		return nil
	}
	switch spec.Func {
	case AggSum:
		switch vals[0].(type) {
		case int32:
			s := int64(0)
			for _, v := range vals {
				s += int64(v.(int32))
			}
			return s
		case hatDec:
			s := hatDec(0)
			for _, v := range vals {
				s += v.(hatDec)
			}
			return s
		default:
			s := 0.0
			for _, v := range vals {
				s += toF(v)
			}
			return s
		}
	case AggAvg:
		s := 0.0
		for _, v := range vals {
			s += toF(v)
		}
		return s / float64(len(vals))
	case AggMin, AggMax:
		best := vals[0]
		for _, v := range vals[1:] {
			less := false
			switch x := v.(type) {
			case int32:
				less = x < best.(int32)
			case hatDec:
				less = x < best.(hatDec)
			case string:
				less = x < best.(string)
			case arrow.Date32:
				less = x < best.(arrow.Date32)
			case float64:
				less = x < best.(float64)
			}
			if less == (spec.Func == AggMin) && v != best {
				best = v
			}
		}
		return best
	case AggBoolAnd, AggBoolOr:
		acc := spec.Func == AggBoolAnd
		for _, v := range vals {
			if spec.Func == AggBoolAnd {
				acc = acc && v.(bool)
			} else {
				acc = acc || v.(bool)
			}
		}
		return acc
	case AggStddevSamp, AggStddevPop, AggVarSamp, AggVarPop:
		n := float64(len(vals))
		mean := 0.0
		for _, v := range vals {
			mean += toF(v)
		}
		mean /= n
		ss := 0.0
		for _, v := range vals {
			ss += (toF(v) - mean) * (toF(v) - mean)
		}
		div := n
		if spec.Func == AggStddevSamp || spec.Func == AggVarSamp {
			if len(vals) < 2 {
				return nil
			}
			div = n - 1
		}
		r := ss / div
		if spec.Func == AggStddevSamp || spec.Func == AggStddevPop {
			r = math.Sqrt(r)
		}
		return r
	}
	panic("unhandled")
}

// aggReference groups rows by groupCols and evaluates aggs per group.
func aggReference(rows [][]any, groupCols []int, aggs []AggSpec) [][]any {
	groups := map[string][][]any{}
	var order []string
	for _, r := range rows {
		key := make([]any, len(groupCols))
		for i, c := range groupCols {
			key[i] = r[c]
		}
		k := fmt.Sprintf("%#v", key)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	if len(groupCols) == 0 && len(rows) == 0 {
		order = append(order, "")
		groups[""] = nil
	}
	var out [][]any
	for _, k := range order {
		g := groups[k]
		var row []any
		for _, c := range groupCols {
			row = append(row, g[0][c])
		}
		for _, a := range aggs {
			kept := g
			if a.Masked {
				kept = nil
				for _, r := range g {
					if r[a.Mask] == true {
						kept = append(kept, r)
					}
				}
			}
			row = append(row, aggRef(a, kept))
		}
		out = append(out, row)
	}
	return out
}

var aggTestSpecs = []AggSpec{
	{Func: AggCountStar, Arg: -1, Name: "cnt"},
	{Func: AggCount, Arg: 2, Name: "cnt_v"},
	{Func: AggSum, Arg: 2, Name: "sum_v"},
	{Func: AggSum, Arg: 3, Name: "sum_d"},
	{Func: AggSum, Arg: 4, Name: "sum_f"},
	{Func: AggAvg, Arg: 2, Name: "avg_v"},
	{Func: AggAvg, Arg: 3, Name: "avg_d"},
	{Func: AggAvg, Arg: 4, Name: "avg_f"},
	{Func: AggMin, Arg: 2, Name: "min_v"},
	{Func: AggMax, Arg: 3, Name: "max_d"},
	{Func: AggMin, Arg: 3, Name: "min_d"},
	{Func: AggMin, Arg: 1, Name: "min_s"},
	{Func: AggMax, Arg: 1, Name: "max_s"},
	{Func: AggMax, Arg: 5, Name: "max_dt"},
	{Func: AggMin, Arg: 4, Name: "min_f"},
	{Func: AggStddevSamp, Arg: 4, Name: "sd_f"},
	{Func: AggVarPop, Arg: 2, Name: "vp_v"},
	{Func: AggStddevPop, Arg: 3, Name: "sdp_d"},
	{Func: AggVarSamp, Arg: 4, Name: "vs_f"},
	{Func: AggBoolAnd, Arg: 6, Name: "and_b"},
	{Func: AggBoolOr, Arg: 6, Name: "or_b"},
}

var aggTestDistinct = []AggSpec{
	{Func: AggCount, Arg: 2, Distinct: true, Name: "cd_v"},
	{Func: AggSum, Arg: 3, Distinct: true, Name: "sd_d"},
	{Func: AggCount, Arg: 1, Distinct: true, Name: "cd_s"},
	{Func: AggCountStar, Arg: -1, Name: "cnt"},
}

var aggTestGroupings = map[string][]int{"none": nil, "g1": {0}, "g1g2": {0, 1}, "g2": {1}, "dt": {5}, "b_d": {6, 3}}

func TestHashAggregateSingle(t *testing.T) {
	for _, size := range []int{0, 1, 7, 300} {
		rows := aggTestRows(uint64(size), size)
		for gname, groupCols := range aggTestGroupings {
			for _, bs := range []int{1, 2, 3, 16, 1024} {
				for _, specs := range [][]AggSpec{aggTestSpecs, aggTestDistinct} {
					t.Run(fmt.Sprintf("rows%d/%s/bs%d/%s", size, gname, bs, specs[0].Name), func(t *testing.T) {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer mem.AssertSize(t, 0)
						src := hatSrc(t, mem, aggTestSchema(), rows, bs)
						if bs == 3 || bs == 16 {
							src.Close()
							src = hatSrcSliced(t, mem, aggTestSchema(), rows, bs)
						}
						op, err := NewHashAggregate(src, groupCols, specs, AggSingle)
						if err != nil {
							t.Fatal(err)
						}
						got := hatRun(t, op, mem, bs)
						hatEqualSets(t, got, aggReference(rows, groupCols, specs))
					})
				}
			}
		}
	}
}

// aggDrain collects every batch of op (caller releases).
func aggDrain(t *testing.T, ctx context.Context, op Operator) []arrow.RecordBatch {
	t.Helper()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for {
		b, err := op.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			break
		}
		out = append(out, b)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHashAggregatePartialFinal(t *testing.T) {
	for _, size := range []int{0, 5, 400} {
		rows := aggTestRows(uint64(size)+100, size)
		for gname, groupCols := range aggTestGroupings {
			for _, bs := range []int{1, 3, 16, 1024} {
				t.Run(fmt.Sprintf("rows%d/%s/bs%d", size, gname, bs), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					ctx := WithBatchSize(WithAllocator(context.Background(), mem), bs)
					// Three map tasks, each over a third of the input.
					var partials []arrow.RecordBatch
					var partialSchema *arrow.Schema
					for p := range 3 {
						part := rows[p*len(rows)/3 : (p+1)*len(rows)/3]
						src := hatSrc(t, mem, aggTestSchema(), part, bs)
						op, err := NewHashAggregate(src, groupCols, aggTestSpecs, AggPartial)
						if err != nil {
							t.Fatal(err)
						}
						partialSchema = op.Schema()
						partials = append(partials, aggDrain(t, ctx, op)...)
					}
					if want := len(groupCols) + 32; partialSchema.NumFields() != want {
						t.Fatalf("partial schema has %d columns, want %d: %s", partialSchema.NumFields(), want, partialSchema)
					}
					fg := make([]int, len(groupCols))
					for i := range fg {
						fg[i] = i
					}
					final, err := NewHashAggregate(&hatSource{schema: partialSchema, batches: partials}, fg, aggTestSpecs, AggFinal)
					if err != nil {
						t.Fatal(err)
					}
					got := hatRun(t, final, mem, bs)
					want := aggReference(rows, groupCols, aggTestSpecs)
					if len(groupCols) == 0 && len(rows) > 0 {
						// Each empty-free partial emits one row; still one final row.
						if len(got) != 1 {
							t.Fatalf("want 1 row, got %d", len(got))
						}
					}
					hatEqualSets(t, got, want)
				})
			}
		}
	}
}

func TestHashAggregateSchemaAndTypes(t *testing.T) {
	s := aggTestSchema()
	src := &hatSource{schema: s}
	op, err := NewHashAggregate(src, []int{1}, []AggSpec{
		{Func: AggSum, Arg: 3, Name: "s"}, {Func: AggCount, Arg: 2, Name: "c"}, {Func: AggMin, Arg: 5, Name: "m"},
	}, AggSingle)
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "g2", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "s", Type: &arrow.Decimal128Type{Precision: 38, Scale: 2}, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Int64},
		{Name: "m", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
	if !op.Schema().Equal(want) {
		t.Errorf("schema %s, want %s", op.Schema(), want)
	}
	for _, tc := range []struct {
		f    AggFunc
		arg  arrow.DataType
		want arrow.DataType
	}{
		{AggCountStar, nil, arrow.PrimitiveTypes.Int64},
		{AggSum, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64},
		{AggSum, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64},
		{AggSum, &arrow.Decimal128Type{Precision: 15, Scale: 2}, &arrow.Decimal128Type{Precision: 38, Scale: 2}},
		{AggAvg, &arrow.Decimal128Type{Precision: 15, Scale: 2}, arrow.PrimitiveTypes.Float64},
		{AggMax, arrow.BinaryTypes.String, arrow.BinaryTypes.String},
		{AggVarSamp, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64},
		{AggBoolOr, arrow.FixedWidthTypes.Boolean, arrow.FixedWidthTypes.Boolean},
	} {
		got, err := AggResultType(tc.f, tc.arg)
		if err != nil || !arrow.TypeEqual(got, tc.want) {
			t.Errorf("%s(%v) = %v, %v; want %s", tc.f, tc.arg, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f   AggFunc
		arg arrow.DataType
	}{
		{AggSum, arrow.BinaryTypes.String},
		{AggAvg, arrow.FixedWidthTypes.Boolean},
		{AggBoolAnd, arrow.PrimitiveTypes.Int64},
		{AggMin, arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{AggCount, nil},
	} {
		if _, err := AggResultType(tc.f, tc.arg); err == nil {
			t.Errorf("%s(%v): want error", tc.f, tc.arg)
		}
	}
	if st := AggStateTypes(AggAvg, arrow.PrimitiveTypes.Int32); len(st) != 2 || !arrow.TypeEqual(st[0], arrow.PrimitiveTypes.Int64) {
		t.Errorf("avg state types %v", st)
	}
	// Construction errors name the problem.
	for name, c := range map[string]func() error{
		"sum string": func() error {
			_, err := NewHashAggregate(src, nil, []AggSpec{{Func: AggSum, Arg: 1, Name: "x"}}, AggSingle)
			return err
		},
		"arg range": func() error {
			_, err := NewHashAggregate(src, nil, []AggSpec{{Func: AggSum, Arg: 42, Name: "x"}}, AggSingle)
			return err
		},
		"group range": func() error {
			_, err := NewHashAggregate(src, []int{9}, nil, AggSingle)
			return err
		},
		"distinct partial": func() error {
			_, err := NewHashAggregate(src, nil, []AggSpec{{Func: AggCount, Arg: 2, Distinct: true}}, AggPartial)
			return err
		},
		"final layout": func() error {
			_, err := NewHashAggregate(src, []int{0}, []AggSpec{{Func: AggAvg, Name: "x"}}, AggFinal)
			return err
		},
	} {
		if err := c(); err == nil {
			t.Errorf("%s: want error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestHashAggregateFirstAndOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := aggTestRows(3, 200)
	src := hatSrc(t, mem, aggTestSchema(), rows, 16)
	op, err := NewHashAggregate(src, []int{0}, []AggSpec{{Func: AggFirst, Arg: 1, Name: "f"}, {Func: AggFirst, Arg: 3, Name: "fd"}}, AggSingle)
	if err != nil {
		t.Fatal(err)
	}
	got := hatRun(t, op, mem, 16)
	for _, g := range got {
		var s, d []any
		for _, r := range rows {
			if r[0] == g[0] {
				if r[1] != nil {
					s = append(s, r[1])
				}
				if r[3] != nil {
					d = append(d, r[3])
				}
			}
		}
		if (g[1] == nil) != (len(s) == 0) || (g[1] != nil && !slices.Contains(s, g[1])) {
			t.Errorf("group %v: first(g2) = %v not among %v", g[0], g[1], s)
		}
		if (g[2] == nil) != (len(d) == 0) || (g[2] != nil && !slices.Contains(d, g[2])) {
			t.Errorf("group %v: first(d) = %v not among %v", g[0], g[2], d)
		}
	}

	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	big := hatSrc(t, mem, schema, [][]any{{int64(math.MaxInt64)}, {int64(1)}}, 2)
	op, err = NewHashAggregate(big, nil, []AggSpec{{Func: AggSum, Arg: 0, Name: "s"}}, AggSingle)
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithAllocator(context.Background(), mem)
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Next(ctx); err == nil {
		t.Error("want overflow error")
	} else {
		t.Log(err)
	}
	op.Close()
}

func TestHashAggregateDecimalSumBeyondInt64(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dt := &arrow.Decimal128Type{Precision: 18, Scale: 2}
	schema := arrow.NewSchema([]arrow.Field{{Name: "g", Type: arrow.PrimitiveTypes.Int64}, {Name: "d", Type: dt, Nullable: true}}, nil)
	var rows [][]any
	wantPos, wantNeg := new(big.Int), new(big.Int)
	for i := range 1000 {
		v := int64(999_999_999_999_999_999) - int64(i)
		rows = append(rows, []any{int64(0), hatDec(v)}, []any{int64(1), hatDec(-v)})
		wantPos.Add(wantPos, big.NewInt(v))
		wantNeg.Sub(wantNeg, big.NewInt(v))
	}
	for _, mode := range []AggMode{AggSingle, AggPartial} {
		src := hatSrc(t, mem, schema, rows, 100)
		op, err := NewHashAggregate(src, []int{0}, []AggSpec{{Func: AggSum, Arg: 1, Name: "s"}}, mode)
		if err != nil {
			t.Fatal(err)
		}
		ctx := WithAllocator(context.Background(), mem)
		bs := aggDrain(t, ctx, op)
		for _, b := range bs {
			g := b.Column(0).(*array.Int64)
			s := b.Column(1).(*array.Decimal128)
			for r := 0; r < int(b.NumRows()); r++ {
				want := wantPos
				if g.Value(r) == 1 {
					want = wantNeg
				}
				if got := s.Value(r).BigInt(); got.Cmp(want) != 0 {
					t.Errorf("mode %d group %d: sum %s want %s", mode, g.Value(r), got, want)
				}
			}
			b.Release()
		}
	}
}

func TestHashAggregateCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := hatSrc(t, mem, aggTestSchema(), aggTestRows(1, 50), 10)
	op, err := NewHashAggregate(src, []int{0}, []AggSpec{{Func: AggCountStar, Arg: -1}}, AggSingle)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(WithAllocator(context.Background(), mem))
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if b, err := op.Next(ctx); err == nil {
		b.Release()
		t.Error("want context error")
	}
	op.Close()
}

// masked returns specs with FILTER (WHERE column mask) on every aggregate.
func masked(specs []AggSpec, mask int) []AggSpec {
	out := slices.Clone(specs)
	for i := range out {
		out[i].Masked, out[i].Mask = true, mask
		out[i].Name += "_m"
	}
	return out
}

// TestHashAggregateMasked runs every aggregate (DISTINCT too) with a mask
// that is TRUE, FALSE or NULL per row: count of an all-masked group is 0,
// the others NULL; in two phases the partial phase applies the mask.
func TestHashAggregateMasked(t *testing.T) {
	for _, size := range []int{0, 1, 7, 300} {
		rows := aggTestRows(uint64(size)+200, size)
		for gname, groupCols := range aggTestGroupings {
			for _, bs := range []int{1, 3, 1024} {
				specs := append(masked(aggTestSpecs, 6), aggTestSpecs[0], aggTestSpecs[2])
				dspecs := masked(aggTestDistinct, 6)
				t.Run(fmt.Sprintf("rows%d/%s/bs%d", size, gname, bs), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					for _, sp := range [][]AggSpec{specs, dspecs} {
						src := hatSrcSliced(t, mem, aggTestSchema(), rows, bs)
						op, err := NewHashAggregate(src, groupCols, sp, AggSingle)
						if err != nil {
							t.Fatal(err)
						}
						hatEqualSets(t, hatRun(t, op, mem, bs), aggReference(rows, groupCols, sp))
					}
					ctx := WithBatchSize(WithAllocator(context.Background(), mem), bs)
					var partials []arrow.RecordBatch
					var partialSchema *arrow.Schema
					for p := range 2 {
						part := rows[p*len(rows)/2 : (p+1)*len(rows)/2]
						op, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), part, bs), groupCols, specs, AggPartial)
						if err != nil {
							t.Fatal(err)
						}
						partialSchema = op.Schema()
						partials = append(partials, aggDrain(t, ctx, op)...)
					}
					fg := make([]int, len(groupCols))
					for i := range fg {
						fg[i] = i
					}
					final, err := NewHashAggregate(&hatSource{schema: partialSchema, batches: partials}, fg, specs, AggFinal)
					if err != nil {
						t.Fatal(err)
					}
					hatEqualSets(t, hatRun(t, final, mem, bs), aggReference(rows, groupCols, specs))
				})
			}
		}
	}
}

func TestHashAggregateMaskErrors(t *testing.T) {
	mem := memory.NewGoAllocator()
	for _, c := range []struct {
		spec AggSpec
		want string
	}{
		{AggSpec{Func: AggCountStar, Arg: -1, Masked: true, Mask: 2, Name: "c"}, "not BOOLEAN"},
		{AggSpec{Func: AggSum, Arg: 2, Masked: true, Mask: 9, Name: "s"}, "out of range"},
	} {
		_, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), nil, 1), nil, []AggSpec{c.spec}, AggSingle)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.spec, err, c.want)
		}
	}
}
