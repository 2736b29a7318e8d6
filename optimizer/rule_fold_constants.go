package optimizer

import (
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

// FoldConstants evaluates literal-only arithmetic, comparisons, logic,
// casts and date ± interval at plan time, simplifies AND/OR with a literal
// operand (x AND TRUE → x, FALSE AND x → FALSE) and removes Filter(TRUE).
// Anything it cannot evaluate exactly (overflow, division by zero, an
// unsupported type pair) is left for the executor, which reports the error.
type FoldConstants struct{}

func (FoldConstants) Name() string { return "fold_constants" }

func (FoldConstants) Apply(n plan.Node, _ *Context) (plan.Node, bool, error) {
	out := plan.TransformPlan(n, func(x plan.Node) plan.Node {
		x = mapNodeExprs(x, FoldExpr)
		if f, ok := x.(*plan.Filter); ok && plan.IsTrue(f.Cond) {
			return f.Input
		}
		return x
	})
	return out, changedPlan(n, out), nil
}

// mapNodeExprs rebuilds x with fn applied to each of its expressions
// (subquery plans inside them are left alone).
func mapNodeExprs(x plan.Node, fn func(plan.Expr) plan.Expr) plan.Node {
	switch n := x.(type) {
	case *plan.Filter:
		m := *n
		m.Cond = fn(n.Cond)
		return &m
	case *plan.Project:
		m := *n
		m.Projections = mapExprs(n.Projections, fn)
		return &m
	case *plan.Join:
		m := *n
		if n.Cond != nil {
			m.Cond = fn(n.Cond)
		}
		if n.MarkCond != nil {
			m.MarkCond = fn(n.MarkCond)
		}
		return &m
	case *plan.Scan:
		m := *n
		m.Filters = mapExprs(n.Filters, fn)
		return &m
	case *plan.Aggregate:
		m := *n
		m.GroupBy = mapExprs(n.GroupBy, fn)
		m.Aggs = make([]*plan.AggCall, len(n.Aggs))
		for i, a := range n.Aggs {
			ac := *a
			ac.Args = mapExprs(a.Args, fn)
			if a.Filter != nil {
				ac.Filter = fn(a.Filter)
			}
			m.Aggs[i] = &ac
		}
		return &m
	case *plan.Predict:
		m := *n
		m.Features = mapExprs(n.Features, fn)
		return &m
	case *plan.Sort:
		m := *n
		m.Keys = make([]plan.SortKey, len(n.Keys))
		for i, k := range n.Keys {
			k.E = fn(k.E)
			m.Keys[i] = k
		}
		return &m
	}
	return x
}

func mapExprs(es []plan.Expr, fn func(plan.Expr) plan.Expr) []plan.Expr {
	if es == nil {
		return nil
	}
	out := make([]plan.Expr, len(es))
	for i, e := range es {
		out[i] = fn(e)
	}
	return out
}

// FoldExpr returns e with every constant sub-expression evaluated.
func FoldExpr(e plan.Expr) plan.Expr {
	return plan.TransformExpr(e, foldOne)
}

func lit(e plan.Expr) (*plan.Literal, bool) {
	l, ok := e.(*plan.Literal)
	return l, ok
}

func nullOf(t arrow.DataType) *plan.Literal { return &plan.Literal{Value: nil, Typ: t} }

func foldOne(e plan.Expr) plan.Expr {
	switch x := e.(type) {
	case *plan.Binary:
		if x.Op == plan.OpAnd || x.Op == plan.OpOr {
			return foldLogic(x)
		}
		l, lok := lit(x.L)
		r, rok := lit(x.R)
		if !lok || !rok {
			return e
		}
		if x.Op.IsComparison() {
			if v, ok := compareLits(x.Op, l, r); ok {
				return v
			}
			return e
		}
		if v, ok := arith(x.Op, l, r, x.Typ); ok {
			return v
		}
	case *plan.Unary:
		l, ok := lit(x.E)
		if !ok {
			return e
		}
		switch x.Op {
		case plan.OpIsNull:
			return &plan.Literal{Value: l.Value == nil, Typ: boolType}
		case plan.OpIsNotNull:
			return &plan.Literal{Value: l.Value != nil, Typ: boolType}
		case plan.OpNot:
			if l.Value == nil {
				return nullOf(boolType)
			}
			if b, ok := l.Value.(bool); ok {
				return &plan.Literal{Value: !b, Typ: boolType}
			}
		case plan.OpNeg:
			switch v := l.Value.(type) {
			case nil:
				return l
			case int64:
				if v != math.MinInt64 {
					return &plan.Literal{Value: -v, Typ: l.Typ}
				}
			case float64:
				return &plan.Literal{Value: -v, Typ: l.Typ}
			case decimal128.Num:
				return &plan.Literal{Value: v.Negate(), Typ: l.Typ}
			}
		}
	case *plan.Cast:
		l, ok := lit(x.E)
		if !ok {
			return e
		}
		if v, ok := castLit(l, x.To); ok {
			return v
		}
	case *plan.Case:
		return foldCase(x)
	case *plan.InList:
		l, ok := lit(x.E)
		if !ok {
			return e
		}
		if l.Value == nil {
			return nullOf(boolType)
		}
		sawNull := false
		for _, m := range x.List {
			if m.Value == nil {
				sawNull = true
				continue
			}
			c, ok := cmpValues(l.Value, m.Value)
			if !ok {
				return e
			}
			if c == 0 {
				return &plan.Literal{Value: !x.Negated, Typ: boolType}
			}
		}
		if sawNull {
			return nullOf(boolType)
		}
		return &plan.Literal{Value: x.Negated, Typ: boolType}
	}
	return e
}

// foldLogic applies SQL three-valued AND/OR with at least one literal side.
func foldLogic(x *plan.Binary) plan.Expr {
	l, lok := lit(x.L)
	r, rok := lit(x.R)
	isAnd := x.Op == plan.OpAnd
	// absorbing: FALSE for AND, TRUE for OR; identity: the other one.
	absorb, ident := false, true
	if !isAnd {
		absorb, ident = true, false
	}
	if lok && l.Value == absorb || rok && r.Value == absorb {
		return &plan.Literal{Value: absorb, Typ: boolType}
	}
	if lok && l.Value == ident {
		return x.R
	}
	if rok && r.Value == ident {
		return x.L
	}
	if lok && rok && l.Value == nil && r.Value == nil {
		return nullOf(boolType)
	}
	return x
}

func foldCase(x *plan.Case) plan.Expr {
	var whens []plan.When
	for _, w := range x.Whens {
		if l, ok := lit(w.Cond); ok {
			if l.Value == true {
				if len(whens) == 0 {
					return w.Value
				}
				return &plan.Case{Whens: whens, Else: w.Value, Typ: x.Typ}
			}
			continue // FALSE or NULL: the arm never fires
		}
		whens = append(whens, w)
	}
	if len(whens) == len(x.Whens) {
		return x
	}
	if len(whens) == 0 {
		if x.Else == nil {
			return nullOf(x.Typ)
		}
		return x.Else
	}
	return &plan.Case{Whens: whens, Else: x.Else, Typ: x.Typ}
}

// cmpValues compares two non-null literal values of the same Go type.
func cmpValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case int64:
		y, ok := b.(int64)
		if !ok {
			return 0, false
		}
		return cmp3(x < y, x > y), true
	case float64:
		y, ok := b.(float64)
		if !ok || math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		return cmp3(x < y, x > y), true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		return cmp3(!x && y, x && !y), true
	case decimal128.Num:
		y, ok := b.(decimal128.Num)
		if !ok {
			return 0, false
		}
		return x.Cmp(y), true
	case arrow.Date32:
		y, ok := b.(arrow.Date32)
		if !ok {
			return 0, false
		}
		return cmp3(x < y, x > y), true
	case arrow.Timestamp:
		y, ok := b.(arrow.Timestamp)
		if !ok {
			return 0, false
		}
		return cmp3(x < y, x > y), true
	}
	return 0, false
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

func compareLits(op plan.BinaryOp, l, r *plan.Literal) (*plan.Literal, bool) {
	if op == plan.OpIsDistinct || op == plan.OpIsNotDistinct {
		var same bool
		switch {
		case l.Value == nil || r.Value == nil:
			same = l.Value == nil && r.Value == nil
		default:
			c, ok := cmpValues(l.Value, r.Value)
			if !ok || !sameScale(l.Typ, r.Typ) {
				return nil, false
			}
			same = c == 0
		}
		return &plan.Literal{Value: same == (op == plan.OpIsNotDistinct), Typ: boolType}, true
	}
	if l.Value == nil || r.Value == nil {
		return nullOf(boolType), true
	}
	if !sameScale(l.Typ, r.Typ) {
		return nil, false
	}
	c, ok := cmpValues(l.Value, r.Value)
	if !ok {
		return nil, false
	}
	var v bool
	switch op {
	case plan.OpEq:
		v = c == 0
	case plan.OpNotEq:
		v = c != 0
	case plan.OpLt:
		v = c < 0
	case plan.OpLtEq:
		v = c <= 0
	case plan.OpGt:
		v = c > 0
	case plan.OpGtEq:
		v = c >= 0
	default:
		return nil, false
	}
	return &plan.Literal{Value: v, Typ: boolType}, true
}

// sameScale guards decimal comparisons: unscaled values compare only at
// equal scales.
func sameScale(a, b arrow.DataType) bool {
	da, ok1 := a.(arrow.DecimalType)
	db, ok2 := b.(arrow.DecimalType)
	if ok1 != ok2 {
		return !ok1 && !ok2
	}
	return !ok1 || da.GetScale() == db.GetScale()
}

func decScale(t arrow.DataType) (int32, int32, bool) {
	if t.ID() != arrow.DECIMAL64 && t.ID() != arrow.DECIMAL128 {
		return 0, 0, false
	}
	d := t.(arrow.DecimalType)
	return d.GetPrecision(), d.GetScale(), true
}

func arith(op plan.BinaryOp, l, r *plan.Literal, typ arrow.DataType) (*plan.Literal, bool) {
	if l.Value == nil || r.Value == nil {
		return nullOf(typ), true
	}
	switch a := l.Value.(type) {
	case int64:
		switch b := r.Value.(type) {
		case int64:
			if typ.ID() == arrow.FLOAT64 {
				return floatArith(op, float64(a), float64(b), typ)
			}
			if typ.ID() != arrow.INT64 {
				return nil, false
			}
			return intArith(op, a, b, typ)
		case arrow.Date32: // integer + date
			if op == plan.OpAdd && typ.ID() == arrow.DATE32 {
				return &plan.Literal{Value: arrow.Date32(int64(b) + a), Typ: typ}, true
			}
		}
	case float64:
		if b, ok := r.Value.(float64); ok && typ.ID() == arrow.FLOAT64 {
			return floatArith(op, a, b, typ)
		}
	case decimal128.Num:
		b, ok := r.Value.(decimal128.Num)
		if !ok {
			return nil, false
		}
		return decArith(op, a, l.Typ, b, r.Typ, typ)
	case arrow.Date32:
		switch b := r.Value.(type) {
		case arrow.MonthDayNanoInterval:
			if op != plan.OpAdd && op != plan.OpSub || typ.ID() != arrow.DATE32 || b.Nanoseconds != 0 {
				return nil, false
			}
			if op == plan.OpSub {
				b.Months, b.Days = -b.Months, -b.Days
			}
			return &plan.Literal{Value: addInterval(a, b), Typ: typ}, true
		case arrow.Date32:
			if op == plan.OpSub && typ.ID() == arrow.INT64 {
				return &plan.Literal{Value: int64(a) - int64(b), Typ: typ}, true
			}
		case int64:
			if typ.ID() == arrow.DATE32 && (op == plan.OpAdd || op == plan.OpSub) {
				if op == plan.OpSub {
					b = -b
				}
				return &plan.Literal{Value: arrow.Date32(int64(a) + b), Typ: typ}, true
			}
		}
	case arrow.MonthDayNanoInterval:
		if b, ok := r.Value.(arrow.Date32); ok && op == plan.OpAdd && typ.ID() == arrow.DATE32 && a.Nanoseconds == 0 {
			return &plan.Literal{Value: addInterval(b, a), Typ: typ}, true
		}
	}
	return nil, false
}

// addInterval adds months (clamping the day to the target month's length,
// as DuckDB and PostgreSQL do) and then days to a date.
func addInterval(d arrow.Date32, iv arrow.MonthDayNanoInterval) arrow.Date32 {
	y, m, day := types.CivilFromDays(int64(d))
	if iv.Months != 0 {
		total := y*12 + (m - 1) + int(iv.Months)
		y, m = floorDiv(total, 12), total-floorDiv(total, 12)*12+1
		if dim := types.DaysInMonth(y, m); day > dim {
			day = dim
		}
	}
	return arrow.Date32(types.DaysFromCivil(y, m, day) + int64(iv.Days))
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func intArith(op plan.BinaryOp, a, b int64, typ arrow.DataType) (*plan.Literal, bool) {
	var v int64
	switch op {
	case plan.OpAdd:
		v = a + b
		if (v > a) != (b > 0) {
			return nil, false
		}
	case plan.OpSub:
		v = a - b
		if (v < a) != (b > 0) {
			return nil, false
		}
	case plan.OpMul:
		if a != 0 && b != 0 {
			v = a * b
			if v/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
				return nil, false
			}
		}
	case plan.OpDiv, plan.OpMod:
		if b == 0 || (a == math.MinInt64 && b == -1) {
			return nil, false
		}
		if op == plan.OpDiv {
			v = a / b
		} else {
			v = a % b
		}
	default:
		return nil, false
	}
	return &plan.Literal{Value: v, Typ: typ}, true
}

func floatArith(op plan.BinaryOp, a, b float64, typ arrow.DataType) (*plan.Literal, bool) {
	var v float64
	switch op {
	case plan.OpAdd:
		v = a + b
	case plan.OpSub:
		v = a - b
	case plan.OpMul:
		v = a * b
	case plan.OpDiv:
		if b == 0 {
			return nil, false
		}
		v = a / b
	default:
		return nil, false
	}
	return &plan.Literal{Value: v, Typ: typ}, true
}

// decArith follows types.ArithmeticType: + and - rescale both operands to
// the result scale; * multiplies unscaled values (scale s1+s2).
func decArith(op plan.BinaryOp, a decimal128.Num, at arrow.DataType, b decimal128.Num, bt arrow.DataType, typ arrow.DataType) (*plan.Literal, bool) {
	_, sa, ok1 := decScale(at)
	_, sb, ok2 := decScale(bt)
	prec, s, ok3 := decScale(typ)
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	var v decimal128.Num
	switch op {
	case plan.OpAdd, plan.OpSub:
		if sa > s || sb > s {
			return nil, false
		}
		a, b = a.IncreaseScaleBy(s-sa), b.IncreaseScaleBy(s-sb)
		if op == plan.OpAdd {
			v = a.Add(b)
		} else {
			v = a.Sub(b)
		}
	case plan.OpMul:
		if sa+sb != s {
			return nil, false
		}
		ba, bb := a.BigInt(), b.BigInt()
		ba.Mul(ba, bb)
		if ba.BitLen() > 126 {
			return nil, false
		}
		v = decimal128.FromBigInt(ba)
	default:
		return nil, false
	}
	if !v.FitsInPrecision(prec) {
		return nil, false
	}
	return &plan.Literal{Value: v, Typ: typ}, true
}

func isIntType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

func intRange(t arrow.DataType) (int64, int64) {
	switch t.ID() {
	case arrow.INT8:
		return math.MinInt8, math.MaxInt8
	case arrow.INT16:
		return math.MinInt16, math.MaxInt16
	case arrow.INT32:
		return math.MinInt32, math.MaxInt32
	case arrow.UINT8:
		return 0, math.MaxUint8
	case arrow.UINT16:
		return 0, math.MaxUint16
	case arrow.UINT32:
		return 0, math.MaxUint32
	case arrow.UINT64:
		return 0, math.MaxInt64
	}
	return math.MinInt64, math.MaxInt64
}

// castLit converts a literal; ok=false leaves the cast to the executor.
func castLit(l *plan.Literal, to arrow.DataType) (*plan.Literal, bool) {
	if l.Value == nil {
		return nullOf(to), true
	}
	if arrow.TypeEqual(l.Typ, to) {
		return &plan.Literal{Value: l.Value, Typ: to}, true
	}
	out := func(v any) (*plan.Literal, bool) { return &plan.Literal{Value: v, Typ: to}, true }
	switch v := l.Value.(type) {
	case int64:
		switch {
		case isIntType(to):
			lo, hi := intRange(to)
			if v < lo || v > hi {
				return nil, false
			}
			return out(v)
		case to.ID() == arrow.FLOAT64:
			return out(float64(v))
		case to.ID() == arrow.DECIMAL64 || to.ID() == arrow.DECIMAL128:
			p, s, _ := decScale(to)
			n := decimal128.FromI64(v).IncreaseScaleBy(s)
			if s > 38 || !n.FitsInPrecision(p) || (v != 0 && n.Sign() != sign64(v)) {
				return nil, false
			}
			return out(n)
		case to.ID() == arrow.STRING:
			return out(strconv.FormatInt(v, 10))
		}
	case float64:
		if to.ID() == arrow.STRING || to.ID() == arrow.FLOAT64 {
			if to.ID() == arrow.STRING {
				return out(strconv.FormatFloat(v, 'g', -1, 64))
			}
			return out(v)
		}
	case decimal128.Num:
		_, s, _ := decScale(l.Typ)
		switch to.ID() {
		case arrow.DECIMAL64, arrow.DECIMAL128:
			p, ns, _ := decScale(to)
			var n decimal128.Num
			if ns >= s {
				n = v.IncreaseScaleBy(ns - s)
			} else {
				n = v.ReduceScaleBy(s-ns, true)
			}
			if !n.FitsInPrecision(p) {
				return nil, false
			}
			return out(n)
		case arrow.FLOAT64:
			return out(v.ToFloat64(s))
		case arrow.STRING:
			return out(v.ToString(s))
		}
	case string:
		switch to.ID() {
		case arrow.DATE32:
			d, err := types.ParseDate(strings.TrimSpace(v))
			if err != nil {
				return nil, false
			}
			return out(d)
		case arrow.TIMESTAMP:
			ts, err := types.ParseTimestamp(strings.TrimSpace(v))
			if err != nil {
				return nil, false
			}
			return out(ts)
		case arrow.DECIMAL64, arrow.DECIMAL128:
			p, s, _ := decScale(to)
			n, err := decimal128.FromString(strings.TrimSpace(v), p, s)
			if err != nil {
				return nil, false
			}
			return out(n)
		case arrow.INT64, arrow.INT32, arrow.INT16, arrow.INT8:
			i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			lo, hi := intRange(to)
			if err != nil || i < lo || i > hi {
				return nil, false
			}
			return out(i)
		case arrow.FLOAT64:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, false
			}
			return out(f)
		}
	case arrow.Date32:
		switch to.ID() {
		case arrow.TIMESTAMP:
			return out(arrow.Timestamp(int64(v) * 86400 * 1_000_000))
		case arrow.STRING:
			return out(v.FormattedString())
		}
	case bool:
		if to.ID() == arrow.STRING {
			return out(strconv.FormatBool(v))
		}
	}
	return nil, false
}

func sign64(v int64) int {
	if v < 0 {
		return -1
	}
	return 1
}
