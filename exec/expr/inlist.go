package expr

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// inListHashMin is the list length from which IN uses a hash set instead
// of one vectorized equality pass per value.
const inListHashMin = 8

type inListExpr struct {
	e       exec.Expr
	lits    []*literal // non-NULL values
	hasNull bool
	negated bool
}

// InList returns `e [NOT] IN (values...)`. Values are Go values as for Lit,
// already of e's type (nil is a NULL in the list). SQL semantics: a match
// gives TRUE; no match gives NULL if the list has a NULL, else FALSE; a
// NULL e gives NULL.
func InList(e exec.Expr, values []any, negated bool) (exec.Expr, error) {
	in := &inListExpr{e: e, negated: negated}
	t := e.DataType()
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DATE32, arrow.TIMESTAMP, arrow.DECIMAL64, arrow.DECIMAL128, arrow.STRING, arrow.BOOL:
	default:
		return nil, fmt.Errorf("IN list on %s is not supported", types.TypeName(t))
	}
	for i, v := range values {
		if v == nil {
			in.hasNull = true
			continue
		}
		l, err := Lit(v, t)
		if err != nil {
			return nil, fmt.Errorf("IN list value %d for %s: %w", i+1, e, err)
		}
		in.lits = append(in.lits, l.(*literal))
	}
	return in, nil
}

func (in *inListExpr) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (in *inListExpr) String() string {
	parts := make([]string, 0, len(in.lits)+1)
	for _, l := range in.lits {
		parts = append(parts, l.String())
	}
	if in.hasNull {
		parts = append(parts, "NULL")
	}
	not := ""
	if in.negated {
		not = "NOT "
	}
	return fmt.Sprintf("(%s %sIN (%s))", in.e, not, strings.Join(parts, ", "))
}

func inFixed[T comparable](vals []T, set []T, out []byte) {
	if len(set) < inListHashMin {
		for _, s := range set {
			for i, v := range vals {
				out[i>>3] |= b2u(v == s) << (i & 7)
			}
		}
		return
	}
	m := make(map[T]struct{}, len(set))
	for _, s := range set {
		m[s] = struct{}{}
	}
	for i, v := range vals {
		_, ok := m[v]
		out[i>>3] |= b2u(ok) << (i & 7)
	}
}

// inNaN marks NaN values as in the list when the list has a NaN: NaN
// equals NaN in SQL comparisons (see nanCmp).
func inNaN[T float32 | float64](vals []T, set []T, out []byte) {
	for _, s := range set {
		if s != s {
			for i, v := range vals {
				if v != v {
					setBit(out, i, true)
				}
			}
			return
		}
	}
}

func litSet[T any](lits []*literal, get func(*literal) T) []T {
	out := make([]T, len(lits))
	for i, l := range lits {
		out[i] = get(l)
	}
	return out
}

func (in *inListExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	a, err := in.e.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	if a.DataType().ID() == arrow.NULL {
		return nullArray(mem, arrow.FixedWidthTypes.Boolean, n), nil
	}
	vbuf, out := allocBits(mem, n)
	switch a.DataType().ID() {
	case arrow.INT8:
		inFixed(values[int8](a), litSet(in.lits, func(l *literal) int8 { return int8(l.i64) }), out)
	case arrow.INT16:
		inFixed(values[int16](a), litSet(in.lits, func(l *literal) int16 { return int16(l.i64) }), out)
	case arrow.INT32, arrow.DATE32:
		inFixed(values[int32](a), litSet(in.lits, getI32), out)
	case arrow.INT64, arrow.TIMESTAMP, arrow.DECIMAL64:
		inFixed(values[int64](a), litSet(in.lits, getI64), out)
	case arrow.FLOAT32:
		set := litSet(in.lits, func(l *literal) float32 { return float32(l.f64) })
		inFixed(values[float32](a), set, out)
		inNaN(values[float32](a), set, out)
	case arrow.FLOAT64:
		set := litSet(in.lits, getF64)
		inFixed(values[float64](a), set, out)
		inNaN(values[float64](a), set, out)
	case arrow.DECIMAL128:
		inFixed(values[decimal128.Num](a), litSet(in.lits, getDec), out)
	case arrow.BOOL:
		bits, off := boolBits(a)
		var hasT, hasF bool
		for _, l := range in.lits {
			hasT, hasF = hasT || l.b, hasF || !l.b
		}
		for i := 0; i < n; i++ {
			v := bits[(off+i)>>3]>>((off+i)&7)&1 == 1
			out[i>>3] |= b2u((v && hasT) || (!v && hasF)) << (i & 7)
		}
	case arrow.STRING:
		offs, data := strData(a)
		m := make(map[string]struct{}, len(in.lits))
		for _, l := range in.lits {
			m[l.str] = struct{}{}
		}
		for i := 0; i < n; i++ {
			_, ok := m[string(data[offs[i]:offs[i+1]])]
			out[i>>3] |= b2u(ok) << (i & 7)
		}
	}
	valid, vb := andValidity(mem, n, a)
	if in.hasNull {
		// No match with a NULL in the list: NULL.
		if valid == nil {
			valid, vb = allocSetBits(mem, n)
		}
		for i := range vb {
			vb[i] &= out[i]
		}
	}
	if in.negated {
		for i := range out {
			out[i] = ^out[i]
		}
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, -1, valid, vbuf), nil
}
