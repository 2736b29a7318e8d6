package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// DictMap is an expression of one dictionary column that a dictionary
// decode computes once per distinct value instead of once per row: a
// label encoder's lookup, a comparison, a string function. The result of
// a row is then the result of its dictionary entry, gathered by index.
type DictMap struct {
	// Col is the input column the expression reads.
	Col int
	// Expr is compiled over a one-column batch holding that column in its
	// dense type (STRING); it must be deterministic.
	Expr Expr
	// Name names the output column.
	Name string
}

// dictMap is a DictMap and its results on the last dictionary seen in its
// column (compared by content, as dictColumn's cache is).
type dictMap struct {
	DictMap
	schema *arrow.Schema // the one-column batch Expr reads
	dict   *array.String // last dictionary evaluated (retained), or nil
	vals   arrow.Array   // Expr on dict's entries, then on NULL; nil when it failed on one
	null   arrow.Array   // Expr on NULL (one row), once computed
}

// NewDictDecodeMapped is NewDictDecode that also appends, after input's
// columns, one column per map: its expression's value on every surviving
// row, computed once per dictionary entry (and once for NULL) and gathered
// by the rows' indices. The columns in skip (dictionary columns that only
// maps read) are not decoded: they come out all NULL. An expression that
// fails on some entry (one no row may reference) is evaluated on the
// decoded rows instead, so errors come only from real rows; a column that
// arrives dense is evaluated row by row.
func NewDictDecodeMapped(input Operator, cond Expr, dictCols []int, maps []DictMap, skip []int) (Operator, error) {
	op, err := NewDictDecode(input, cond, dictCols)
	if err != nil {
		return nil, err
	}
	o := op.(*dictFilterOp)
	isDict := map[int]bool{}
	for _, c := range dictCols {
		isDict[c] = true
	}
	in := input.Schema()
	fields := in.Fields()
	if len(skip) > 0 {
		o.skip = make([]bool, len(fields))
		for _, c := range skip {
			if !isDict[c] {
				return nil, fmt.Errorf("dictionary decode: column %d is skipped but is not a dictionary column", c)
			}
			o.skip[c] = true
			fields[c].Nullable = true
		}
	}
	for _, m := range maps {
		if !isDict[m.Col] {
			return nil, fmt.Errorf("dictionary decode: %s reads column %d, which is not a dictionary column", m.Expr, m.Col)
		}
		f := in.Field(m.Col)
		f.Nullable = true
		o.maps = append(o.maps, &dictMap{DictMap: m, schema: arrow.NewSchema([]arrow.Field{f}, nil)})
		fields = append(fields, arrow.Field{Name: m.Name, Type: m.Expr.DataType(), Nullable: true})
	}
	o.schema = arrow.NewSchema(fields, nil)
	return o, nil
}

// mapColumn returns map m's column for the rows all / sel (rows of them)
// of batch column c.
func (o *dictFilterOp) mapColumn(ctx context.Context, m *dictMap, c arrow.Array, all bool, sel []int32, rows int) (arrow.Array, error) {
	mem := Allocator(ctx)
	var dense arrow.Array
	switch c := c.(type) {
	case *array.Dictionary:
		values, ok := c.Dictionary().(*array.String)
		ind, ok2 := c.Indices().(*array.Int32)
		if !ok || !ok2 {
			return nil, fmt.Errorf("column %s has type %s, want a dictionary of STRING with INT indices", m.schema.Field(0).Name, c.DataType())
		}
		vals, err := m.entries(ctx, values)
		if err != nil {
			return nil, err
		}
		if vals == nil {
			if dense, err = o.decode(mem, m.schema.Field(0).Name, c, all, sel); err != nil {
				return nil, err
			}
			break
		}
		ix := ind.Int32Values()
		nd := int32(values.Len()) // the NULL entry's position
		idx := make([]int32, rows)
		for i := range idx {
			r := int32(i)
			if !all {
				r = sel[i]
			}
			switch k := ix[r]; {
			case ind.IsNull(int(r)):
				idx[i] = nd
			case k < 0 || k >= nd:
				return nil, fmt.Errorf("column %s: row %d has dictionary index %d, the dictionary has %d values", m.schema.Field(0).Name, r, k, nd)
			default:
				idx[i] = k
			}
		}
		return batchTakeArray(ctx, mem, vals, idx)
	case *array.String:
		if all {
			c.Retain()
			dense = c
		} else {
			var err error
			if dense, err = batchTakeArray(ctx, mem, c, sel); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("column %s has type %s, want STRING or a dictionary of STRING", m.schema.Field(0).Name, c.DataType())
	}
	defer dense.Release()
	return m.eval(ctx, dense)
}

// eval evaluates m's expression on a dense STRING column.
func (m *dictMap) eval(ctx context.Context, col arrow.Array) (arrow.Array, error) {
	batch := array.NewRecordBatch(m.schema, []arrow.Array{col}, int64(col.Len()))
	defer batch.Release()
	out, err := m.Expr.Eval(ctx, batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Expr, err)
	}
	if out.Len() != col.Len() || !arrow.TypeEqual(out.DataType(), m.Expr.DataType()) {
		out.Release()
		return nil, fmt.Errorf("%s: %d rows of %s for %d rows of %s", m.Expr, out.Len(), out.DataType(), col.Len(), m.Expr.DataType())
	}
	return out, nil
}

// entries returns m's results on the entries of dictionary values, then
// on NULL, evaluated only when values differ from the last dictionary;
// nil when the expression fails on an entry.
func (m *dictMap) entries(ctx context.Context, values *array.String) (arrow.Array, error) {
	if m.dict != nil && sameStrings(m.dict, values) {
		return m.vals, nil
	}
	m.release()
	values.Retain()
	m.dict = values
	mem := Allocator(ctx)
	if m.null == nil {
		null := array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, 1)
		v, err := m.eval(ctx, null)
		null.Release()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, nil
		}
		m.null = v
	}
	v, err := m.eval(ctx, values)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, nil
	}
	defer v.Release()
	if m.vals, err = array.Concatenate([]arrow.Array{v, m.null}, mem); err != nil {
		return nil, err
	}
	return m.vals, nil
}

// release drops the cached dictionary and results (not the NULL result).
func (m *dictMap) release() {
	if m.dict != nil {
		m.dict.Release()
		m.dict = nil
	}
	if m.vals != nil {
		m.vals.Release()
		m.vals = nil
	}
}
