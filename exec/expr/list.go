package expr

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// listExtract is list_extract(list, i), also written list[i]: element i
// of the list, 1-based, -1 the last; NULL for a NULL list or index, 0, or
// an index beyond the list (DuckDB).
type listExtract struct {
	list, index exec.Expr
	elem        arrow.DataType
}

func newListExtract(list, index exec.Expr) (exec.Expr, error) {
	if _, ok := list.DataType().(*arrow.NullType); ok {
		return Lit(nil, arrow.Null)
	}
	lt, ok := list.DataType().(*arrow.ListType)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a LIST", types.ListExtract, list.DataType())
	}
	if index.DataType().ID() != arrow.INT64 {
		var err error
		if index, err = Cast(index, types.Int64); err != nil {
			return nil, fmt.Errorf("%s index: %w", types.ListExtract, err)
		}
	}
	return &listExtract{list: list, index: index, elem: lt.Elem()}, nil
}

func (e *listExtract) DataType() arrow.DataType { return e.elem }

func (e *listExtract) String() string {
	return fmt.Sprintf("%s(%s, %s)", types.ListExtract, e.list, e.index)
}

func (e *listExtract) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	la, err := e.list.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer la.Release()
	ia, err := e.index.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer ia.Release()
	n := int(batch.NumRows())
	mem := exec.Allocator(ctx)
	l, ok := la.(*array.List)
	if !ok || ia.DataType().ID() != arrow.INT64 {
		return nullArray(mem, e.elem, n), nil
	}
	idx := values[int64](ia)
	// Positions in the list's child array, -1 for NULL.
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = -1
		if l.IsNull(i) || ia.IsNull(i) {
			continue
		}
		lo, hi := l.ValueOffsets(i)
		switch k := idx[i]; {
		case k > 0 && k <= hi-lo:
			pos[i] = int32(lo + k - 1)
		case k < 0 && -k <= hi-lo:
			pos[i] = int32(hi + k)
		}
	}
	child := l.ListValues()
	cb := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "v", Type: child.DataType(), Nullable: true}}, nil), []arrow.Array{child}, int64(child.Len()))
	defer cb.Release()
	out, err := exec.TakeBatch(ctx, cb, pos)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	a := out.Column(0)
	a.Retain()
	return a, nil
}
