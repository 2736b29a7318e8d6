package expr

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// opnd is one operand of a binary kernel: an array's values, or a literal
// held in v[0] with mask 0 so that v[i&mask] reads the scalar for every i.
type opnd[T any] struct {
	v    []T
	mask int
}

func (o opnd[T]) at(i int) T { return o.v[i&o.mask] }

func arrOpnd[T any](a arrow.Array) opnd[T] { return opnd[T]{v: values[T](a), mask: -1} }
func litOpnd[T any](v T) opnd[T]           { return opnd[T]{v: []T{v}, mask: 0} }

type arithExpr struct {
	op     string
	l, r   exec.Expr
	result arrow.DataType
	// decimal: scale multipliers bringing l and r to the result scale
	// (add, sub, mod); lscale/rscale for messages.
	lmul, rmul decimal128.Num
}

// Arith returns `l op r` for op in + - * / % //. Operands should already
// have the types types.ArithmeticType returns (integer operands of other
// widths are widened here); result nil means the type ArithmeticType
// computes, any other result is reached with a Cast. DOUBLE division
// follows IEEE 754 (1/0 = +Inf, 0/0 = NaN, as DuckDB ≥ 1.1); integer //
// and %, and decimal %, by zero give NULL; integer and decimal overflow
// is an error.
func Arith(op string, l, r exec.Expr, result arrow.DataType) (exec.Expr, error) {
	lc, rc, res, err := types.ArithmeticType(op, l.DataType(), r.DataType())
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", l, op, r, err)
	}
	if res.ID() == arrow.DECIMAL128 && !(op == "*" && lc.ID() == arrow.DECIMAL64 && rc.ID() == arrow.DECIMAL64) {
		// A 128-bit result computes in 128 bits, except the product of two
		// Decimal64s, which has its own widening kernel.
		lc, rc = decimalWidth128(lc), decimalWidth128(rc)
	}
	if !arrow.TypeEqual(lc, l.DataType()) {
		if l, err = Cast(l, lc); err != nil {
			return nil, err
		}
	}
	if !arrow.TypeEqual(rc, r.DataType()) {
		if r, err = Cast(r, rc); err != nil {
			return nil, err
		}
	}
	e := &arithExpr{op: op, l: l, r: r, result: res}
	if types.IsDecimal(res) && op != "*" {
		_, s := types.DecimalParams(res)
		_, s1 := types.DecimalParams(lc)
		_, s2 := types.DecimalParams(rc)
		e.lmul = decimal128.GetScaleMultiplier(int(s - s1))
		e.rmul = decimal128.GetScaleMultiplier(int(s - s2))
	}
	var out exec.Expr = e
	if result != nil && !arrow.TypeEqual(result, res) {
		if out, err = Cast(e, result); err != nil {
			return nil, err
		}
		return out, nil
	}
	return foldIfConst(out, l, r)
}

func (e *arithExpr) DataType() arrow.DataType { return e.result }
func (e *arithExpr) String() string           { return fmt.Sprintf("(%s %s %s)", e.l, e.op, e.r) }

func (e *arithExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	var la, ra arrow.Array
	ll, lok := isLit(e.l)
	rl, rok := isLit(e.r)
	if (lok && ll.null) || (rok && rl.null) {
		return nullArray(mem, e.result, n), nil
	}
	if !lok {
		a, err := e.l.Eval(ctx, batch)
		if err != nil {
			return nil, err
		}
		defer a.Release()
		la = a
	}
	if !rok {
		a, err := e.r.Eval(ctx, batch)
		if err != nil {
			return nil, err
		}
		defer a.Release()
		ra = a
	}
	if (la != nil && la.DataType().ID() == arrow.NULL) || (ra != nil && ra.DataType().ID() == arrow.NULL) {
		return nullArray(mem, e.result, n), nil
	}
	if lok && rok { // constant folding path: materialize one side
		la = ll.materialize(mem, n)
		defer la.Release()
		lok = false
	}
	valid, vb := andValidity(mem, n, la, ra)
	k := kernelArgs{e: e, mem: mem, n: n, la: la, ra: ra, ll: ll, rl: rl, valid: vb}
	out, err := e.dispatch(&k)
	if err != nil {
		if valid != nil {
			valid.Release()
		}
		return nil, err
	}
	if k.zeros != nil { // division by zero → NULL
		if valid == nil {
			valid, vb = allocSetBits(mem, n)
		}
		for _, i := range k.zeros {
			bitutil.ClearBit(vb, i)
		}
	}
	return makeArray(e.result, n, -1, valid, out), nil
}

type kernelArgs struct {
	e      *arithExpr
	mem    memory.Allocator
	n      int
	la, ra arrow.Array // nil when the side is the literal ll / rl
	ll, rl *literal
	valid  []byte // output validity so far (nil = all valid)
	zeros  []int  // rows whose divisor is zero
}

func opndOf[T any](a arrow.Array, lit *literal, get func(*literal) T) opnd[T] {
	if a == nil {
		return litOpnd(get(lit))
	}
	return arrOpnd[T](a)
}

func getI64(l *literal) int64          { return l.i64 }
func getI32(l *literal) int32          { return int32(l.i64) }
func getF64(l *literal) float64        { return l.f64 }
func getDec(l *literal) decimal128.Num { return l.dec }
func getIv(l *literal) arrow.MonthDayNanoInterval {
	return l.iv
}

func (e *arithExpr) overflow(k *kernelArgs, i int) error {
	return fmt.Errorf("%s: overflow in %s at row %d", e, types.TypeName(e.result), i)
}

func (e *arithExpr) dispatch(k *kernelArgs) (*memory.Buffer, error) {
	lt := e.l.DataType().ID()
	rt := e.r.DataType().ID()
	switch {
	case lt == arrow.INT64 && rt == arrow.INT64:
		return intKernel(k, opndOf(k.la, k.ll, getI64), opndOf(k.ra, k.rl, getI64))
	case lt == arrow.FLOAT64 && rt == arrow.FLOAT64:
		return floatKernel(k, opndOf(k.la, k.ll, getF64), opndOf(k.ra, k.rl, getF64))
	case lt == arrow.DECIMAL128 && rt == arrow.DECIMAL128:
		return decKernel(k, opndOf(k.la, k.ll, getDec), opndOf(k.ra, k.rl, getDec))
	case lt == arrow.DECIMAL64 && rt == arrow.DECIMAL64 && e.result.ID() == arrow.DECIMAL64:
		return dec64Kernel(k, opndOf(k.la, k.ll, getI64), opndOf(k.ra, k.rl, getI64))
	case lt == arrow.DECIMAL64 && rt == arrow.DECIMAL64 && e.op == "*":
		return mulDec64Wide(k, opndOf(k.la, k.ll, getI64), opndOf(k.ra, k.rl, getI64)), nil
	case lt == arrow.DATE32 && rt == arrow.DATE32:
		a, b := opndOf(k.la, k.ll, getI32), opndOf(k.ra, k.rl, getI32)
		buf, out := allocFixed[int64](k.mem, k.n)
		for i := range out {
			out[i] = int64(a.at(i)) - int64(b.at(i))
		}
		return buf, nil
	case lt == arrow.DATE32 && rt == arrow.INT32, lt == arrow.INT32 && rt == arrow.DATE32:
		a, b := opndOf(k.la, k.ll, getI32), opndOf(k.ra, k.rl, getI32)
		buf, out := allocFixed[int32](k.mem, k.n)
		for i := range out {
			x, y := int64(a.at(i)), int64(b.at(i))
			r := x + y
			if e.op == "-" {
				r = x - y
			}
			if r != int64(int32(r)) && isValid(k.valid, 0, i) {
				buf.Release()
				return nil, e.overflow(k, i)
			}
			out[i] = int32(r)
		}
		return buf, nil
	case lt == arrow.TIMESTAMP || rt == arrow.TIMESTAMP:
		return tsIntervalKernel(k)
	case lt == arrow.INTERVAL_MONTH_DAY_NANO && rt == arrow.INT64, lt == arrow.INT64 && rt == arrow.INTERVAL_MONTH_DAY_NANO:
		var iv opnd[arrow.MonthDayNanoInterval]
		var n opnd[int64]
		if lt == arrow.INT64 {
			n, iv = opndOf(k.la, k.ll, getI64), opndOf(k.ra, k.rl, getIv)
		} else {
			iv, n = opndOf(k.la, k.ll, getIv), opndOf(k.ra, k.rl, getI64)
		}
		buf, out := allocFixed[arrow.MonthDayNanoInterval](k.mem, k.n)
		for i := range out {
			v, ok := mulInterval(iv.at(i), n.at(i))
			if !ok && isValid(k.valid, 0, i) {
				buf.Release()
				return nil, e.overflow(k, i)
			}
			out[i] = v
		}
		return buf, nil
	case lt == arrow.INTERVAL_MONTH_DAY_NANO && rt == arrow.INTERVAL_MONTH_DAY_NANO:
		a, b := opndOf(k.la, k.ll, getIv), opndOf(k.ra, k.rl, getIv)
		buf, out := allocFixed[arrow.MonthDayNanoInterval](k.mem, k.n)
		sign := int32(1)
		if e.op == "-" {
			sign = -1
		}
		for i := range out {
			x, y := a.at(i), b.at(i)
			out[i] = arrow.MonthDayNanoInterval{Months: x.Months + sign*y.Months, Days: x.Days + sign*y.Days, Nanoseconds: x.Nanoseconds + int64(sign)*y.Nanoseconds}
		}
		return buf, nil
	}
	return nil, fmt.Errorf("%s: no kernel for %s %s %s", e, types.TypeName(e.l.DataType()), e.op, types.TypeName(e.r.DataType()))
}

// mul64 multiplies with overflow detection (MinInt64 results count as
// overflow; callers fall back to a slow path that handles them).
func mul64(x, y int64) (int64, bool) {
	ux, uy := uint64(x), uint64(y)
	if x < 0 {
		ux = -ux
	}
	if y < 0 {
		uy = -uy
	}
	hi, lo := bits.Mul64(ux, uy)
	r := int64(lo)
	if (x ^ y) < 0 {
		r = -r
	}
	return r, hi == 0 && lo < 1<<63
}

func intKernel(k *kernelArgs, a, b opnd[int64]) (*memory.Buffer, error) {
	buf, out := allocFixed[int64](k.mem, k.n)
	fail := func(i int) (*memory.Buffer, error) {
		buf.Release()
		return nil, k.e.overflow(k, i)
	}
	switch k.e.op {
	case "+":
		for i := range out {
			x, y := a.at(i), b.at(i)
			r := x + y
			if (x^r)&(y^r) < 0 && isValid(k.valid, 0, i) {
				return fail(i)
			}
			out[i] = r
		}
	case "-":
		for i := range out {
			x, y := a.at(i), b.at(i)
			r := x - y
			if (x^y)&(x^r) < 0 && isValid(k.valid, 0, i) {
				return fail(i)
			}
			out[i] = r
		}
	case "*":
		for i := range out {
			r, ok := mul64(a.at(i), b.at(i))
			if !ok && isValid(k.valid, 0, i) {
				return fail(i)
			}
			out[i] = r
		}
	case "//", "%":
		for i := range out {
			x, y := a.at(i), b.at(i)
			switch {
			case y == 0:
				k.zeros = append(k.zeros, i)
				out[i] = 0
			case y == -1:
				if k.e.op == "%" {
					out[i] = 0
				} else if x == math.MinInt64 && isValid(k.valid, 0, i) {
					return fail(i)
				} else {
					out[i] = -x
				}
			case k.e.op == "%":
				out[i] = x % y
			default:
				out[i] = x / y
			}
		}
	default:
		buf.Release()
		return nil, fmt.Errorf("%s: unsupported integer operator %s", k.e, k.e.op)
	}
	return buf, nil
}

func floatKernel(k *kernelArgs, a, b opnd[float64]) (*memory.Buffer, error) {
	buf, out := allocFixed[float64](k.mem, k.n)
	switch k.e.op {
	case "+":
		for i := range out {
			out[i] = a.at(i) + b.at(i)
		}
	case "-":
		for i := range out {
			out[i] = a.at(i) - b.at(i)
		}
	case "*":
		for i := range out {
			out[i] = a.at(i) * b.at(i)
		}
	case "/": // IEEE 754: x/0 is ±Inf or NaN (DuckDB ≥ 1.1 default)
		for i := range out {
			out[i] = a.at(i) / b.at(i)
		}
	case "%":
		for i := range out {
			out[i] = math.Mod(a.at(i), b.at(i))
		}
	default:
		buf.Release()
		return nil, fmt.Errorf("%s: unsupported float operator %s", k.e, k.e.op)
	}
	return buf, nil
}

// fits64 reports whether a decimal's unscaled value fits in an int64.
func fits64(n decimal128.Num) bool {
	return n.HighBits() == int64(n.LowBits())>>63
}

func decFromI64(v int64) decimal128.Num { return decimal128.New(v>>63, uint64(v)) }

func decKernel(k *kernelArgs, a, b opnd[decimal128.Num]) (*memory.Buffer, error) {
	e := k.e
	p, _ := types.DecimalParams(e.result)
	buf, out := allocFixed[decimal128.Num](k.mem, k.n)
	// Pre-scale a literal operand once so the loop scales at most one side.
	lm, rm := e.lmul, e.rmul
	one := decimal128.FromI64(1)
	if e.op != "*" {
		if a.mask == 0 && lm != one {
			a = litOpnd(a.v[0].Mul(lm))
			lm = one
		}
		if b.mask == 0 && rm != one {
			b = litOpnd(b.v[0].Mul(rm))
			rm = one
		}
	}
	lm64, rm64 := int64(lm.LowBits()), int64(rm.LowBits())
	if !fits64(lm) || !fits64(rm) {
		lm64, rm64 = 0, 0 // forces the slow path
	}
	slow := func(i int) error {
		if !isValid(k.valid, 0, i) {
			out[i] = decimal128.Num{}
			return nil
		}
		r, ok, zero := decSlow(e.op, a.at(i), b.at(i), lm, rm, p)
		if zero {
			k.zeros = append(k.zeros, i)
			out[i] = decimal128.Num{}
			return nil
		}
		if !ok {
			return e.overflow(k, i)
		}
		out[i] = r
		return nil
	}
	var err error
	type loopFn func(out, a, b []decimal128.Num, slow func(i int) error) error
	pickLoop := func(aa, as, sa loopFn) loopFn {
		switch {
		case a.mask != 0 && b.mask != 0:
			return aa
		case a.mask != 0:
			return as
		case b.mask != 0:
			return sa
		}
		return nil
	}
	var fast loopFn
	switch {
	case e.op == "+" && lm64 == 1 && rm64 == 1:
		fast = pickLoop(decAddSameAA, decAddSameAS, decAddSameSA)
	case e.op == "-" && lm64 == 1 && rm64 == 1:
		fast = pickLoop(decSubSameAA, decSubSameAS, decSubSameSA)
	case e.op == "*":
		fast = pickLoop(decMulAA, decMulAS, decMulSA)
	}
	if fast != nil {
		if err = fast(out, a.v, b.v, slow); err != nil {
			buf.Release()
			return nil, err
		}
		return buf, nil
	}
	switch e.op {
	case "+", "-":
		sub := e.op == "-"
		for i := range out {
			x, y := a.at(i), b.at(i)
			if fits64(x) && fits64(y) {
				xs, ok1 := mul64(int64(x.LowBits()), lm64)
				ys, ok2 := mul64(int64(y.LowBits()), rm64)
				if sub {
					ys = -ys
				}
				r := xs + ys
				if ok1 && ok2 && ys != math.MinInt64 && (xs^r)&(ys^r) >= 0 {
					out[i] = decFromI64(r)
					continue
				}
			}
			if err = slow(i); err != nil {
				break
			}
		}
	case "*":
		for i := range out {
			x, y := a.at(i), b.at(i)
			if fits64(x) && fits64(y) {
				if r, ok := mul64(int64(x.LowBits()), int64(y.LowBits())); ok {
					out[i] = decFromI64(r)
					continue
				}
			}
			if err = slow(i); err != nil {
				break
			}
		}
	case "%":
		for i := range out {
			if err = slow(i); err != nil {
				break
			}
		}
	default:
		err = fmt.Errorf("%s: unsupported decimal operator %s", e, e.op)
	}
	if err != nil {
		buf.Release()
		return nil, err
	}
	return buf, nil
}

var bigMax38 = decimal128.GetMaxValue(38).BigInt()

// decSlow computes one decimal result exactly with math/big. It reports
// overflow beyond precision p (ok=false) and a zero divisor for %.
func decSlow(op string, x, y, lm, rm decimal128.Num, p int32) (r decimal128.Num, ok, zero bool) {
	bx, by := x.BigInt(), y.BigInt()
	var res big.Int
	switch op {
	case "*":
		res.Mul(bx, by)
	default:
		bx.Mul(bx, lm.BigInt())
		by.Mul(by, rm.BigInt())
		switch op {
		case "+":
			res.Add(bx, by)
		case "-":
			res.Sub(bx, by)
		case "%":
			if by.Sign() == 0 {
				return r, false, true
			}
			res.Rem(bx, by) // truncated, sign of dividend, like SQL
		}
	}
	if res.CmpAbs(bigMax38) > 0 {
		return r, false, false
	}
	r = decimal128.FromBigInt(&res)
	return r, r.FitsInPrecision(p), false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func tsIntervalKernel(k *kernelArgs) (*memory.Buffer, error) {
	e := k.e
	var t opnd[int64]
	var iv opnd[arrow.MonthDayNanoInterval]
	if e.l.DataType().ID() == arrow.TIMESTAMP {
		t, iv = opndOf(k.la, k.ll, getI64), opndOf(k.ra, k.rl, getIv)
	} else {
		t, iv = opndOf(k.ra, k.rl, getI64), opndOf(k.la, k.ll, getIv)
	}
	if e.l.DataType().ID() != arrow.INTERVAL_MONTH_DAY_NANO && e.r.DataType().ID() != arrow.INTERVAL_MONTH_DAY_NANO {
		return nil, fmt.Errorf("%s: no kernel for %s %s %s", e, types.TypeName(e.l.DataType()), e.op, types.TypeName(e.r.DataType()))
	}
	sign := int64(1)
	if e.op == "-" {
		sign = -1
	}
	buf, out := allocFixed[int64](k.mem, k.n)
	for i := range out {
		v := iv.at(i)
		ts := t.at(i)
		if v.Months != 0 {
			day := floorDiv(ts, types.MicrosPerDay)
			rem := ts - day*types.MicrosPerDay
			ts = types.AddMonths(day, int32(sign)*v.Months)*types.MicrosPerDay + rem
		}
		out[i] = ts + sign*(int64(v.Days)*types.MicrosPerDay+v.Nanoseconds/1000)
	}
	return buf, nil
}

type negExpr struct{ e exec.Expr }

// Neg returns `-e` for numbers and intervals.
func Neg(e exec.Expr) exec.Expr { return &negExpr{e} }

func (e *negExpr) DataType() arrow.DataType { return e.e.DataType() }
func (e *negExpr) String() string           { return fmt.Sprintf("(-%s)", e.e) }

func (e *negExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.e.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	mem := exec.Allocator(ctx)
	n := a.Len()
	if a.DataType().ID() == arrow.NULL {
		return nullArray(mem, a.DataType(), n), nil
	}
	valid, vb := andValidity(mem, n, a)
	var buf *memory.Buffer
	switch a.DataType().ID() {
	case arrow.INT8:
		buf, err = negInt[int8](mem, a, vb, math.MinInt8)
	case arrow.INT16:
		buf, err = negInt[int16](mem, a, vb, math.MinInt16)
	case arrow.INT32:
		buf, err = negInt[int32](mem, a, vb, math.MinInt32)
	case arrow.INT64:
		buf, err = negInt[int64](mem, a, vb, math.MinInt64)
	case arrow.FLOAT32:
		buf = negSimple[float32](mem, a)
	case arrow.FLOAT64:
		buf = negSimple[float64](mem, a)
	case arrow.DECIMAL64: // |v| < 10^18: no overflow
		buf = negSimple[int64](mem, a)
	case arrow.DECIMAL128:
		in := values[decimal128.Num](a)
		var out []decimal128.Num
		buf, out = allocFixed[decimal128.Num](mem, n)
		for i, v := range in {
			out[i] = v.Negate()
		}
	case arrow.INTERVAL_MONTH_DAY_NANO:
		in := values[arrow.MonthDayNanoInterval](a)
		var out []arrow.MonthDayNanoInterval
		buf, out = allocFixed[arrow.MonthDayNanoInterval](mem, n)
		for i, v := range in {
			out[i] = arrow.MonthDayNanoInterval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}
		}
	default:
		err = fmt.Errorf("%s: cannot negate %s", e, types.TypeName(a.DataType()))
	}
	if err != nil {
		if valid != nil {
			valid.Release()
		}
		return nil, fmt.Errorf("%s: %w", e, err)
	}
	return makeArray(a.DataType(), n, -1, valid, buf), nil
}

func negInt[T int8 | int16 | int32 | int64](mem memory.Allocator, a arrow.Array, valid []byte, minV T) (*memory.Buffer, error) {
	in := values[T](a)
	buf, out := allocFixed[T](mem, len(in))
	for i, v := range in {
		if v == minV && isValid(valid, 0, i) {
			buf.Release()
			return nil, fmt.Errorf("overflow negating %d at row %d", v, i)
		}
		out[i] = -v
	}
	return buf, nil
}

func negSimple[T int64 | float32 | float64](mem memory.Allocator, a arrow.Array) *memory.Buffer {
	in := values[T](a)
	buf, out := allocFixed[T](mem, len(in))
	for i, v := range in {
		out[i] = -v
	}
	return buf
}

// mulInterval multiplies each part of iv by n; ok is false on overflow.
func mulInterval(iv arrow.MonthDayNanoInterval, n int64) (arrow.MonthDayNanoInterval, bool) {
	m, d := int64(iv.Months)*n, int64(iv.Days)*n
	ns, ok := mul64(iv.Nanoseconds, n)
	if !ok || m != int64(int32(m)) || d != int64(int32(d)) {
		return arrow.MonthDayNanoInterval{}, false
	}
	return arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns}, true
}
