package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/mempool"
)

// dictCountOp is the partial ml.category_counts of STRING columns of a
// dictionary scan (NewDictScan), without a GROUP BY: it counts each
// batch's dictionary indices, then adds each entry's count to its value,
// where the hash aggregate would decode every row and look its string
// up. The encoders' fits (a TRANSFORM's label and one-hot encoders) count
// every category of a training's rows this way.
type dictCountOp struct {
	input  Operator
	pre    Expr // rows to count (nil: all)
	cols   []int
	schema *arrow.Schema
	counts []*aggCategories
	idx    []int64 // per dictionary entry, this batch's count
	sel    []int32
	done   bool
	res    *mempool.Reservation // the counted values' bytes
}

// NewDictCategoryCounts returns an operator that reads input (a
// NewDictScan) to its end and returns one row: for each column of cols,
// the partial state of ml.category_counts over the rows on which cond is
// TRUE (every row when cond is nil), in the columns of schema (those of
// the partial hash aggregate it stands for). Columns may arrive as
// dictionaries of STRING or, where the source kept them dense, as STRING.
func NewDictCategoryCounts(input Operator, cond Expr, cols []int, schema *arrow.Schema) (Operator, error) {
	in := input.Schema()
	if schema.NumFields() != len(cols) {
		return nil, fmt.Errorf("dictionary category counts: %d columns counted, %d output columns", len(cols), schema.NumFields())
	}
	for i, c := range cols {
		if c < 0 || c >= in.NumFields() || in.Field(c).Type.ID() != arrow.STRING {
			return nil, fmt.Errorf("dictionary category counts: column %d is not a STRING column of the input", c)
		}
		if t := schema.Field(i).Type; t.ID() != arrow.BINARY {
			return nil, fmt.Errorf("dictionary category counts: output column %d is %s, want BINARY", i, t)
		}
	}
	if cond != nil {
		if id := cond.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, fmt.Errorf("dictionary category counts: condition %s has type %s, want BOOLEAN", cond, cond.DataType())
		}
	}
	o := &dictCountOp{input: input, pre: cond, cols: cols, schema: schema}
	for range cols {
		k := &aggCategories{}
		k.resize(1)
		o.counts = append(o.counts, k)
	}
	return o, nil
}

func (o *dictCountOp) Schema() *arrow.Schema { return o.schema }
func (o *dictCountOp) Open(ctx context.Context) error {
	o.res = mempool.FromContext(ctx).Register("ml.category_counts", false)
	return o.input.Open(ctx)
}

func (o *dictCountOp) Close() error {
	if o.res != nil {
		o.res.Free()
		o.res = nil
	}
	return o.input.Close()
}

func (o *dictCountOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if o.done {
		return nil, nil
	}
	for {
		b, err := o.input.Next(ctx)
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		err = o.count(ctx, b)
		b.Release()
		if err != nil {
			return nil, err
		}
		// The values counted so far, as the hash aggregate reserves them.
		held := int64(0)
		for _, k := range o.counts {
			held += k.bytes
		}
		if o.res != nil && held > o.res.Size() {
			if err := o.res.TryGrow(held - o.res.Size()); err != nil {
				return nil, err
			}
		}
	}
	o.done = true
	mem := Allocator(ctx)
	out := make([]arrow.Array, len(o.counts))
	for i, k := range o.counts {
		a, err := k.partial(mem, 0, 1)
		if err != nil {
			batchReleaseAll(out[:i])
			return nil, err
		}
		out[i] = a[0]
	}
	return batchNewOwned(o.schema, out, 1), nil
}

// count adds the rows of b that pass the condition.
func (o *dictCountOp) count(ctx context.Context, b arrow.RecordBatch) error {
	n := int(b.NumRows())
	all, sel := true, o.sel[:0]
	if o.pre != nil {
		mask, err := o.pre.Eval(ctx, b)
		if err != nil {
			return fmt.Errorf("filter %s: %w", o.pre, err)
		}
		if mask.DataType().ID() == arrow.NULL {
			mask.Release()
			return nil
		}
		if mask.DataType().ID() != arrow.BOOL || mask.Len() != n {
			mask.Release()
			return fmt.Errorf("filter %s: predicate must give %d BOOLEAN rows, got %d of %s", o.pre, n, mask.Len(), mask.DataType())
		}
		sel = filterSelection(mask, sel)
		mask.Release()
		o.sel = sel
		if len(sel) == 0 {
			return nil
		}
		all = len(sel) == n
	}
	for i, c := range o.cols {
		k := o.counts[i]
		g := k.group(0)
		switch a := b.Column(c).(type) {
		case *array.Dictionary:
			values, ok := a.Dictionary().(*array.String)
			ind, ok2 := a.Indices().(*array.Int32)
			if !ok || !ok2 {
				return fmt.Errorf("ml.category_counts: column %s has type %s, want a dictionary of STRING", b.ColumnName(c), a.DataType())
			}
			nd := values.Len()
			cnt := append(o.idx[:0], make([]int64, nd)...)
			o.idx = cnt
			ix := ind.Int32Values()
			nulls := ind.NullN() > 0
			add := func(r int32) error {
				if nulls && ind.IsNull(int(r)) {
					return nil
				}
				e := ix[r]
				if e < 0 || int(e) >= nd {
					return fmt.Errorf("column %s: row %d has dictionary index %d, the dictionary has %d values", b.ColumnName(c), r, e, nd)
				}
				cnt[e]++
				return nil
			}
			if all && !nulls {
				for r, e := range ix {
					if e < 0 || int(e) >= nd {
						return fmt.Errorf("column %s: row %d has dictionary index %d, the dictionary has %d values", b.ColumnName(c), r, e, nd)
					}
					cnt[e]++
				}
			} else if all {
				for r := range int32(len(ix)) {
					if err := add(r); err != nil {
						return err
					}
				}
			} else {
				for _, r := range sel {
					if err := add(r); err != nil {
						return err
					}
				}
			}
			for e, m := range cnt {
				if m > 0 && values.IsValid(e) {
					k.add(g, values.Value(e), m)
				}
			}
		case *array.String:
			nulls := a.NullN() > 0
			each := func(r int) {
				if !nulls || a.IsValid(r) {
					k.add(g, a.Value(r), 1)
				}
			}
			if all {
				for r := range a.Len() {
					each(r)
				}
			} else {
				for _, r := range sel {
					each(int(r))
				}
			}
		default:
			return fmt.Errorf("ml.category_counts: column %s has type %s, want STRING", b.ColumnName(c), a.DataType())
		}
	}
	return nil
}
