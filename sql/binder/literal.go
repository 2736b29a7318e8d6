package binder

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

// Literal helpers: constant conversion and folding happen at bind time so
// that predicates compare columns against literals of the column's own type
// (no per-row cast of the column).

func lit(v any, t arrow.DataType) *plan.Literal { return &plan.Literal{Value: v, Typ: t} }

// intLiteral types an integer literal as DuckDB does: INTEGER if it fits,
// else BIGINT, else DECIMAL(38,0) (DuckDB's HUGEINT).
func intLiteral(text string) (*plan.Literal, error) {
	v, err := strconv.ParseInt(text, 10, 64)
	if err == nil {
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return lit(v, types.Int32), nil
		}
		return lit(v, types.Int64), nil
	}
	n, p, s, derr := types.ParseDecimalLiteral(text)
	if derr != nil || p > types.MaxDecimalPrecision {
		return nil, fmt.Errorf("integer literal %s out of range", text)
	}
	_ = s
	return lit(n, types.Decimal(types.MaxDecimalPrecision, 0)), nil
}

func pow10(n int32) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// toBig returns an integer or decimal literal value as an unscaled big.Int
// and its scale.
func toBig(v any, t arrow.DataType) (*big.Int, int32, bool) {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), 0, true
	case decimal128.Num:
		_, s := types.DecimalParams(t)
		return x.BigInt(), s, true
	}
	return nil, 0, false
}

// rescaleBig changes the scale of an unscaled value, rounding half away
// from zero; exact reports that no non-zero digit was dropped.
func rescaleBig(v *big.Int, from, to int32) (*big.Int, bool) {
	if to >= from {
		return new(big.Int).Mul(v, pow10(to-from)), true
	}
	d := pow10(from - to)
	q, r := new(big.Int).QuoRem(v, d, new(big.Int))
	if r.Sign() == 0 {
		return q, true
	}
	twice := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
	if twice.Cmp(d) >= 0 {
		if v.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q, false
}

func bigFitsDigits(v *big.Int, p int32) bool {
	return new(big.Int).Abs(v).Cmp(pow10(p)) < 0
}

func intRange(t arrow.DataType) (int64, int64) {
	switch t.ID() {
	case arrow.INT8:
		return math.MinInt8, math.MaxInt8
	case arrow.INT16:
		return math.MinInt16, math.MaxInt16
	case arrow.INT32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// convertLiteral converts constant v of type from to type to. exact reports
// that the conversion lost nothing (so comparing against the converted
// value is equivalent to comparing in a wider type). An error means the
// value has no representation in to (out of range, unparsable string, or
// no such cast).
func convertLiteral(v any, from, to arrow.DataType) (out any, exact bool, err error) {
	if v == nil {
		return nil, true, nil
	}
	if arrow.TypeEqual(from, to) {
		return v, true, nil
	}
	fail := func() (any, bool, error) {
		return nil, false, fmt.Errorf("cannot cast %s to %s", plan.FormatLiteral(v, from), types.TypeName(to))
	}
	switch {
	case types.IsString(to):
		return literalText(v, from), true, nil
	case types.IsInteger(to):
		lo, hi := intRange(to)
		switch x := v.(type) {
		case int64:
			if x < lo || x > hi {
				return fail()
			}
			return x, true, nil
		case decimal128.Num:
			bv, s, _ := toBig(x, from)
			q, ex := rescaleBig(bv, s, 0)
			if !q.IsInt64() || q.Int64() < lo || q.Int64() > hi {
				return fail()
			}
			return q.Int64(), ex, nil
		case float64:
			r := math.RoundToEven(x) // like the cast kernel (DuckDB: nearbyint)
			if math.IsNaN(x) || r < float64(lo) || r > float64(hi) {
				return fail()
			}
			return int64(r), r == x, nil
		case bool:
			if x {
				return int64(1), true, nil
			}
			return int64(0), true, nil
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				// Like the cast kernel (and DuckDB): '2.5' is 3.
				f, ferr := strconv.ParseFloat(strings.TrimSpace(x), 64)
				if ferr != nil || math.Abs(f) > 9e18 {
					return fail()
				}
				n, err = int64(math.Round(f)), nil
			}
			if n < lo || n > hi {
				return fail()
			}
			return n, true, nil
		}
	case types.IsDecimal(to):
		p, s := types.DecimalParams(to)
		var bv *big.Int
		ex := true
		switch x := v.(type) {
		case int64, decimal128.Num:
			b0, s0, _ := toBig(x, from)
			bv, ex = rescaleBig(b0, s0, s)
		case float64:
			// Like the cast kernel (and DuckDB): x * 10^s rounded half
			// away from zero.
			if r := math.Round(x * math.Pow10(int(s))); math.Abs(r) < 1<<53 {
				bv, ex = big.NewInt(int64(r)), r == x*math.Pow10(int(s))
				break
			}
			n, err := decimal128.FromFloat64(x, p, s)
			if err != nil {
				return fail()
			}
			return n, n.ToFloat64(s) == x, nil
		case string:
			n, _, s0, err := types.ParseDecimalLiteral(strings.TrimSpace(x))
			if err != nil {
				return fail()
			}
			bv, ex = rescaleBig(n.BigInt(), s0, s)
		default:
			return fail()
		}
		if !bigFitsDigits(bv, p) {
			return fail()
		}
		return decimal128.FromBigInt(bv), ex, nil
	case types.IsFloat(to):
		var f float64
		switch x := v.(type) {
		case int64:
			f = float64(x)
			exact = x > -(1<<53) && x < 1<<53
			return f, exact, nil
		case decimal128.Num:
			_, s := types.DecimalParams(from)
			if lo := int64(x.LowBits()); x.HighBits() == lo>>63 && lo > -(1<<53) && lo < 1<<53 && s <= 22 {
				// Both exact: one correctly rounded division (as the
				// cast kernel and DuckDB compute it).
				return float64(lo) / math.Pow10(int(s)), true, nil
			}
			return x.ToFloat64(s), true, nil
		case float64:
			if to.ID() == arrow.FLOAT32 {
				return float64(float32(x)), float64(float32(x)) == x, nil
			}
			return x, true, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return fail()
			}
			return f, true, nil
		}
	case to.ID() == arrow.BOOL:
		switch x := v.(type) {
		case int64:
			return x != 0, x == 0 || x == 1, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "t", "1", "yes", "y":
				return true, true, nil
			case "false", "f", "0", "no", "n":
				return false, true, nil
			}
		}
	case to.ID() == arrow.DATE32:
		switch x := v.(type) {
		case string:
			d, err := types.ParseDate(x)
			if err != nil {
				// DuckDB accepts a timestamp string cast to DATE.
				ts, err2 := types.ParseTimestamp(x)
				if err2 != nil {
					return nil, false, err
				}
				days := floorDiv(int64(ts), types.MicrosPerDay)
				return arrow.Date32(days), int64(ts)%types.MicrosPerDay == 0, nil
			}
			return d, true, nil
		case arrow.Timestamp:
			days := floorDiv(int64(x), types.MicrosPerDay)
			return arrow.Date32(days), int64(x)-days*types.MicrosPerDay == 0, nil
		}
	case to.ID() == arrow.TIMESTAMP:
		switch x := v.(type) {
		case string:
			ts, err := types.ParseTimestamp(x)
			if err != nil {
				return nil, false, err
			}
			return ts, true, nil
		case arrow.Date32:
			return arrow.Timestamp(int64(x) * types.MicrosPerDay), true, nil
		}
	case to.ID() == arrow.INTERVAL_MONTH_DAY_NANO:
		if x, ok := v.(string); ok {
			iv, err := types.ParseInterval(x, "")
			if err != nil {
				return nil, false, err
			}
			return iv, true, nil
		}
	}
	return fail()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// literalText is the VARCHAR form of a constant (CAST(x AS VARCHAR)).
func literalText(v any, t arrow.DataType) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return string(types.AppendFloat(nil, x, 64))
	case bool:
		return strconv.FormatBool(x)
	case decimal128.Num:
		_, s := types.DecimalParams(t)
		return x.ToString(s)
	case arrow.Date32:
		return string(types.AppendDate(nil, int64(x)))
	case arrow.Timestamp:
		return string(types.AppendTimestamp(nil, int64(x)))
	case arrow.MonthDayNanoInterval:
		return string(types.AppendInterval(nil, x))
	}
	return plan.FormatLiteral(v, t)
}

// foldArith evaluates l op r for two literals already cast to the operand
// types, with result type res. ok is false when the operation is left to
// run time (division by zero, overflow, unsupported combination).
func foldArith(op string, l, r *plan.Literal, res arrow.DataType) (*plan.Literal, bool) {
	if l.Value == nil || r.Value == nil {
		return lit(nil, res), true
	}
	switch res.ID() {
	case arrow.DATE32:
		var d arrow.Date32
		var iv arrow.MonthDayNanoInterval
		var n int64
		isIv := false
		switch x := l.Value.(type) {
		case arrow.Date32:
			d = x
			switch y := r.Value.(type) {
			case arrow.MonthDayNanoInterval:
				iv, isIv = y, true
			case int64:
				n = y
			default:
				return nil, false
			}
		case arrow.MonthDayNanoInterval:
			iv, isIv = x, true
			if y, ok := r.Value.(arrow.Date32); ok {
				d = y
			} else {
				return nil, false
			}
		case int64:
			n = x
			if y, ok := r.Value.(arrow.Date32); ok {
				d = y
			} else {
				return nil, false
			}
		default:
			return nil, false
		}
		sign := int64(1)
		if op == "-" {
			sign = -1
		}
		if isIv {
			if iv.Nanoseconds != 0 {
				return nil, false
			}
			days := types.AddMonths(int64(d), int32(sign)*iv.Months) + sign*int64(iv.Days)
			return lit(arrow.Date32(days), res), true
		}
		return lit(arrow.Date32(int64(d)+sign*n), res), true
	case arrow.TIMESTAMP:
		ts, ok1 := l.Value.(arrow.Timestamp)
		iv, ok2 := r.Value.(arrow.MonthDayNanoInterval)
		if !ok1 || !ok2 {
			if iv2, ok := l.Value.(arrow.MonthDayNanoInterval); ok && op == "+" {
				if ts2, ok := r.Value.(arrow.Timestamp); ok {
					ts, iv, ok1, ok2 = ts2, iv2, true, true
				}
			}
		}
		if !ok1 || !ok2 {
			return nil, false
		}
		sign := int64(1)
		if op == "-" {
			sign = -1
		}
		us := int64(ts)
		days := floorDiv(us, types.MicrosPerDay)
		tod := us - days*types.MicrosPerDay
		days = types.AddMonths(days, int32(sign)*iv.Months) + sign*int64(iv.Days)
		return lit(arrow.Timestamp(days*types.MicrosPerDay+tod+sign*iv.Nanoseconds/1000), res), true
	case arrow.INT64:
		if ld, ok := l.Value.(arrow.Date32); ok {
			if rd, ok := r.Value.(arrow.Date32); ok && op == "-" {
				return lit(int64(ld)-int64(rd), res), true
			}
			return nil, false
		}
		a, ok1 := l.Value.(int64)
		b, ok2 := r.Value.(int64)
		if !ok1 || !ok2 {
			return nil, false
		}
		x, y := big.NewInt(a), big.NewInt(b)
		var z *big.Int
		switch op {
		case "+":
			z = x.Add(x, y)
		case "-":
			z = x.Sub(x, y)
		case "*":
			z = x.Mul(x, y)
		case "%":
			if b == 0 {
				return nil, false
			}
			z = x.Rem(x, y)
		case "//":
			if b == 0 {
				return nil, false
			}
			z = x.Quo(x, y)
		default:
			return nil, false
		}
		if !z.IsInt64() {
			return nil, false
		}
		return lit(z.Int64(), res), true
	case arrow.FLOAT64, arrow.FLOAT32:
		a, ok1 := l.Value.(float64)
		b, ok2 := r.Value.(float64)
		if !ok1 || !ok2 {
			return nil, false
		}
		var z float64
		switch op {
		case "+":
			z = a + b
		case "-":
			z = a - b
		case "*":
			z = a * b
		case "/":
			if b == 0 {
				return nil, false
			}
			z = a / b
		case "%":
			if b == 0 {
				return nil, false
			}
			z = math.Mod(a, b)
		default:
			return nil, false
		}
		return lit(z, res), true
	case arrow.DECIMAL64, arrow.DECIMAL128:
		a, sa, ok1 := toBig(l.Value, l.Typ)
		b, sb, ok2 := toBig(r.Value, r.Typ)
		if !ok1 || !ok2 {
			return nil, false
		}
		p, s := types.DecimalParams(res)
		var z *big.Int
		switch op {
		case "+", "-", "%":
			x, _ := rescaleBig(a, sa, s)
			y, _ := rescaleBig(b, sb, s)
			switch op {
			case "+":
				z = x.Add(x, y)
			case "-":
				z = x.Sub(x, y)
			default:
				if y.Sign() == 0 {
					return nil, false
				}
				z = x.Rem(x, y)
			}
		case "*":
			z = new(big.Int).Mul(a, b)
			z, _ = rescaleBig(z, sa+sb, s)
		default:
			return nil, false
		}
		if !bigFitsDigits(z, p) {
			return nil, false
		}
		return lit(decimal128.FromBigInt(z), res), true
	case arrow.INTERVAL_MONTH_DAY_NANO:
		a, ok1 := l.Value.(arrow.MonthDayNanoInterval)
		b, ok2 := r.Value.(arrow.MonthDayNanoInterval)
		if !ok1 || !ok2 {
			return nil, false
		}
		if op == "-" {
			b = arrow.MonthDayNanoInterval{Months: -b.Months, Days: -b.Days, Nanoseconds: -b.Nanoseconds}
		}
		return lit(arrow.MonthDayNanoInterval{Months: a.Months + b.Months, Days: a.Days + b.Days, Nanoseconds: a.Nanoseconds + b.Nanoseconds}, res), true
	}
	return nil, false
}

// negateLiteral folds unary minus on a numeric or interval literal.
func negateLiteral(l *plan.Literal) (*plan.Literal, bool) {
	switch x := l.Value.(type) {
	case nil:
		return l, true
	case int64:
		if x == math.MinInt64 {
			return nil, false
		}
		lo, _ := intRange(l.Typ)
		if -x < lo || (l.Typ.ID() == arrow.INT32 && x == math.MinInt32) {
			return nil, false
		}
		return lit(-x, l.Typ), true
	case float64:
		return lit(-x, l.Typ), true
	case decimal128.Num:
		return lit(x.Negate(), l.Typ), true
	case arrow.MonthDayNanoInterval:
		return lit(arrow.MonthDayNanoInterval{Months: -x.Months, Days: -x.Days, Nanoseconds: -x.Nanoseconds}, l.Typ), true
	}
	return nil, false
}
