package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
)

// listBatch is a batch whose column 0 is LIST<DOUBLE> (nil: a NULL list),
// sliced by one row, and column 1 an index (nil: NULL).
func listBatch(t *testing.T, mem memory.Allocator, lists [][]any, idx []any) arrow.RecordBatch {
	t.Helper()
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Float64)
	defer lb.Release()
	vb := lb.ValueBuilder().(*array.Float64Builder)
	lb.Append(true) // sliced off
	vb.Append(99)
	for _, l := range lists {
		if l == nil {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		for _, v := range l {
			if v == nil {
				vb.AppendNull()
			} else {
				vb.Append(v.(float64))
			}
		}
	}
	full := lb.NewArray()
	la := array.NewSlice(full, 1, int64(full.Len()))
	full.Release()
	ia := buildArray(t, mem, tI64, idx)
	schema := arrow.NewSchema([]arrow.Field{{Name: "l", Type: la.DataType(), Nullable: true}, {Name: "i", Type: tI64, Nullable: true}}, nil)
	rb := array.NewRecordBatch(schema, []arrow.Array{la, ia}, int64(len(lists)))
	la.Release()
	ia.Release()
	return rb
}

func TestListExtract(t *testing.T) {
	mem := newMem(t)
	lists := [][]any{{1.0, 2.0, 3.0}, {4.0}, nil, {}, {5.0, nil}, {6.0, 7.0}, {8.0, 9.0}}
	idx := []any{int64(1), int64(1), int64(1), int64(1), int64(2), int64(0), nil}
	rb := listBatch(t, mem, lists, idx)
	defer rb.Release()
	lt := rb.Schema().Field(0).Type
	l := Col(0, lt, "l")

	e := must[exec.Expr](t)(Call("list_extract", []exec.Expr{l, Col(1, tI64, "i")}))
	if !arrow.TypeEqual(e.DataType(), arrow.PrimitiveTypes.Float64) {
		t.Fatalf("type %s", e.DataType())
	}
	got := must[[]any](t)(evalAny(t, mem, e, rb))
	mustEqual(t, "l[i]", got, []any{1.0, 4.0, nil, nil, nil, nil, nil})

	for _, tc := range []struct {
		i    int64
		want []any
	}{
		{2, []any{2.0, nil, nil, nil, nil, 7.0, 9.0}},
		{3, []any{3.0, nil, nil, nil, nil, nil, nil}},
		{-1, []any{3.0, 4.0, nil, nil, nil, 7.0, 9.0}},
		{-2, []any{2.0, nil, nil, nil, 5.0, 6.0, 8.0}},
		{-4, []any{nil, nil, nil, nil, nil, nil, nil}},
		{0, []any{nil, nil, nil, nil, nil, nil, nil}},
	} {
		// The index arrives as an INTEGER literal and is cast.
		e := must[exec.Expr](t)(Call("list_element", []exec.Expr{l, lit(t, tc.i, arrow.PrimitiveTypes.Int32)}))
		got := must[[]any](t)(evalAny(t, mem, e, rb))
		mustEqual(t, "l[const]", got, tc.want)
	}

	if _, err := Call("list_extract", []exec.Expr{Col(1, tI64, "i"), Col(1, tI64, "i")}); err == nil {
		t.Error("list_extract of a BIGINT: no error")
	}
}
