package expr

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// ColumnRef is a reference to an input column; Project passes such columns
// through without copying.
type ColumnRef struct {
	Index int
	Type  arrow.DataType
	Name  string
}

// Col returns a reference to column index of the input batch.
func Col(index int, typ arrow.DataType, name string) exec.Expr {
	return &ColumnRef{Index: index, Type: typ, Name: name}
}

func (c *ColumnRef) DataType() arrow.DataType { return c.Type }

func (c *ColumnRef) String() string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("#%d", c.Index)
}

func (c *ColumnRef) Eval(_ context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	if c.Index < 0 || int64(c.Index) >= batch.NumCols() {
		return nil, fmt.Errorf("column %s: index %d out of range (batch has %d columns)", c, c.Index, batch.NumCols())
	}
	a := batch.Column(c.Index)
	if !arrow.TypeEqual(a.DataType(), c.Type) {
		return nil, fmt.Errorf("column %s: expected %s, batch has %s", c, types.TypeName(c.Type), types.TypeName(a.DataType()))
	}
	a.Retain()
	return a, nil
}

// literal is a constant of one type. Exactly the field matching the type's
// physical kind is meaningful.
type literal struct {
	typ  arrow.DataType
	null bool
	i64  int64 // all integer kinds, Date32, Timestamp, Decimal64 (unscaled)
	f64  float64
	b    bool
	str  string
	dec  decimal128.Num // both decimal widths (unscaled)
	iv   arrow.MonthDayNanoInterval
}

// Lit returns a constant expression. value may be nil (a NULL of typ),
// bool, an integer (int, int8..int64) for integer, DATE (days), TIMESTAMP
// (µs) or DECIMAL types (an integer for a decimal is scaled to typ's scale),
// float64 / float32, string, decimal128.Num (unscaled at typ's scale),
// arrow.Date32, arrow.Timestamp or arrow.MonthDayNanoInterval.
func Lit(value any, typ arrow.DataType) (exec.Expr, error) {
	l := &literal{typ: typ}
	if typ == nil {
		return nil, fmt.Errorf("literal %v: nil type", value)
	}
	if value == nil {
		l.null = true
		return l, nil
	}
	bad := func() (exec.Expr, error) {
		return nil, fmt.Errorf("literal %v (%T) does not fit type %s", value, value, types.TypeName(typ))
	}
	var iv int64
	isInt := true
	switch v := value.(type) {
	case int:
		iv = int64(v)
	case int8:
		iv = int64(v)
	case int16:
		iv = int64(v)
	case int32:
		iv = int64(v)
	case int64:
		iv = v
	case arrow.Date32:
		if typ.ID() != arrow.DATE32 {
			return bad()
		}
		iv = int64(v)
	case arrow.Timestamp:
		if typ.ID() != arrow.TIMESTAMP {
			return bad()
		}
		iv = int64(v)
	default:
		isInt = false
	}
	switch typ.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		if !isInt {
			return bad()
		}
		lo, hi := intRange(typ.ID())
		if iv < lo || iv > hi {
			return nil, fmt.Errorf("literal %d out of range for %s", iv, types.TypeName(typ))
		}
		l.i64 = iv
	case arrow.DATE32:
		if !isInt || iv < math.MinInt32 || iv > math.MaxInt32 {
			return bad()
		}
		l.i64 = iv
	case arrow.TIMESTAMP:
		if !isInt {
			return bad()
		}
		l.i64 = iv
	case arrow.FLOAT32, arrow.FLOAT64:
		switch v := value.(type) {
		case float64:
			l.f64 = v
		case float32:
			l.f64 = float64(v)
		default:
			if !isInt {
				return bad()
			}
			l.f64 = float64(iv)
		}
	case arrow.BOOL:
		v, ok := value.(bool)
		if !ok {
			return bad()
		}
		l.b = v
	case arrow.STRING:
		v, ok := value.(string)
		if !ok {
			return bad()
		}
		l.str = v
	case arrow.DECIMAL64, arrow.DECIMAL128:
		p, s := types.DecimalParams(typ)
		switch v := value.(type) {
		case decimal128.Num:
			l.dec = v
		default:
			if !isInt {
				return bad()
			}
			l.dec = decimal128.FromI64(iv).Mul(decimal128.GetScaleMultiplier(int(s)))
		}
		if !l.dec.FitsInPrecision(p) || (typ.ID() == arrow.DECIMAL64 && !fits64(l.dec)) {
			return nil, fmt.Errorf("literal %s does not fit %s", l.dec.ToString(s), types.TypeName(typ))
		}
		l.i64 = int64(l.dec.LowBits())
	case arrow.INTERVAL_MONTH_DAY_NANO:
		v, ok := value.(arrow.MonthDayNanoInterval)
		if !ok {
			return bad()
		}
		l.iv = v
	default:
		return nil, fmt.Errorf("literals of type %s are not supported", types.TypeName(typ))
	}
	return l, nil
}

func intRange(id arrow.Type) (int64, int64) {
	switch id {
	case arrow.INT8:
		return math.MinInt8, math.MaxInt8
	case arrow.INT16:
		return math.MinInt16, math.MaxInt16
	case arrow.INT32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func (l *literal) DataType() arrow.DataType { return l.typ }

func (l *literal) String() string {
	if l.null {
		return "NULL"
	}
	switch l.typ.ID() {
	case arrow.STRING:
		return fmt.Sprintf("'%s'", l.str)
	case arrow.BOOL:
		if l.b {
			return "true"
		}
		return "false"
	case arrow.FLOAT32, arrow.FLOAT64:
		return fmt.Sprint(l.f64)
	case arrow.DECIMAL64, arrow.DECIMAL128:
		_, s := types.DecimalParams(l.typ)
		return l.dec.ToString(s)
	case arrow.DATE32:
		return "DATE '" + formatDate(int64(l.i64)) + "'"
	case arrow.TIMESTAMP:
		return "TIMESTAMP '" + formatTimestamp(l.i64) + "'"
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return fmt.Sprintf("INTERVAL '%d months %d days %d ns'", l.iv.Months, l.iv.Days, l.iv.Nanoseconds)
	}
	return fmt.Sprint(l.i64)
}

func (l *literal) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	return l.materialize(exec.Allocator(ctx), int(batch.NumRows())), nil
}

// materialize returns n copies of the literal.
func (l *literal) materialize(mem memory.Allocator, n int) arrow.Array {
	if l.null || l.typ.ID() == arrow.NULL {
		return nullArray(mem, l.typ, n)
	}
	switch l.typ.ID() {
	case arrow.INT8:
		return fillFixed(mem, l.typ, n, int8(l.i64))
	case arrow.INT16:
		return fillFixed(mem, l.typ, n, int16(l.i64))
	case arrow.INT32, arrow.DATE32:
		return fillFixed(mem, l.typ, n, int32(l.i64))
	case arrow.INT64, arrow.TIMESTAMP, arrow.DECIMAL64:
		return fillFixed(mem, l.typ, n, l.i64)
	case arrow.FLOAT32:
		return fillFixed(mem, l.typ, n, float32(l.f64))
	case arrow.FLOAT64:
		return fillFixed(mem, l.typ, n, l.f64)
	case arrow.DECIMAL128:
		return fillFixed(mem, l.typ, n, l.dec)
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return fillFixed(mem, l.typ, n, l.iv)
	case arrow.BOOL:
		var buf *memory.Buffer
		if l.b {
			buf, _ = allocSetBits(mem, n)
		} else {
			buf, _ = allocBits(mem, n)
		}
		return makeArray(l.typ, n, 0, nil, buf)
	case arrow.STRING:
		sb := newStrBuilder(n, n*len(l.str))
		for i := 0; i < n; i++ {
			sb.appendString(l.str)
		}
		return sb.finish(mem, nil)
	}
	return nullArray(mem, l.typ, n)
}

func fillFixed[T any](mem memory.Allocator, dt arrow.DataType, n int, v T) arrow.Array {
	buf, vals := allocFixed[T](mem, n)
	for i := range vals {
		vals[i] = v
	}
	return makeArray(dt, n, 0, nil, buf)
}

// litAt returns row i of a as a literal (used by constant folding).
func litAt(a arrow.Array, i int) *literal {
	l := &literal{typ: a.DataType()}
	if a.IsNull(i) {
		l.null = true
		return l
	}
	switch v := a.(type) {
	case *array.Int8:
		l.i64 = int64(v.Value(i))
	case *array.Int16:
		l.i64 = int64(v.Value(i))
	case *array.Int32:
		l.i64 = int64(v.Value(i))
	case *array.Int64:
		l.i64 = v.Value(i)
	case *array.Date32:
		l.i64 = int64(v.Value(i))
	case *array.Timestamp:
		l.i64 = int64(v.Value(i))
	case *array.Float32:
		l.f64 = float64(v.Value(i))
	case *array.Float64:
		l.f64 = v.Value(i)
	case *array.Boolean:
		l.b = v.Value(i)
	case *array.String:
		l.str = strings.Clone(v.Value(i)) // Value aliases the array's buffer, which is recycled after Release
	case *array.Decimal64:
		l.i64 = int64(v.Value(i))
		l.dec = decFromI64(l.i64)
	case *array.Decimal128:
		l.dec = v.Value(i)
	case *array.MonthDayNanoInterval:
		l.iv = v.Value(i)
	default:
		l.null = true
	}
	return l
}

// isLit reports whether e is a literal.
func isLit(e exec.Expr) (*literal, bool) {
	l, ok := e.(*literal)
	return l, ok
}

// allLit reports whether every expression is a literal.
func allLit(es ...exec.Expr) bool {
	for _, e := range es {
		if e == nil {
			continue
		}
		if _, ok := e.(*literal); !ok {
			return false
		}
	}
	return true
}

var emptySchema = arrow.NewSchema(nil, nil)

// fold evaluates a constant expression once and returns it as a literal.
func fold(e exec.Expr) (exec.Expr, error) {
	mem := memory.DefaultAllocator
	rb := array.NewRecordBatch(emptySchema, nil, 1)
	defer rb.Release()
	a, err := e.Eval(exec.WithAllocator(context.Background(), mem), rb)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	l := litAt(a, 0)
	l.typ = e.DataType()
	return l, nil
}

// foldIfConst folds e when all of its inputs are literals.
func foldIfConst(e exec.Expr, inputs ...exec.Expr) (exec.Expr, error) {
	if allLit(inputs...) {
		return fold(e)
	}
	return e, nil
}

// LiteralValue reports whether e is a constant and returns its value in
// Lit's conventions: nil for NULL, bool, int64 (integers), arrow.Date32,
// arrow.Timestamp, float64, string, decimal128.Num (unscaled) or
// arrow.MonthDayNanoInterval. Planners use it for pruning and LIMIT.
func LiteralValue(e exec.Expr) (any, bool) {
	l, ok := e.(*literal)
	if !ok {
		return nil, false
	}
	if l.null {
		return nil, true
	}
	switch l.typ.ID() {
	case arrow.BOOL:
		return l.b, true
	case arrow.DATE32:
		return arrow.Date32(l.i64), true
	case arrow.TIMESTAMP:
		return arrow.Timestamp(l.i64), true
	case arrow.FLOAT32, arrow.FLOAT64:
		return l.f64, true
	case arrow.STRING:
		return l.str, true
	case arrow.DECIMAL64, arrow.DECIMAL128:
		return l.dec, true
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return l.iv, true
	}
	return l.i64, true
}
