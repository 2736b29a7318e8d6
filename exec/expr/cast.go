package expr

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

type castExpr struct {
	e   exec.Expr
	to  arrow.DataType
	try bool // TRY_CAST: a value that does not convert becomes NULL
}

// Cast converts e to type to (any cast types.CanCast allows). Strings are
// parsed (errors name the value and row); decimal rescaling rounds half
// away from zero; a decimal → decimal cast with the same scale and no
// smaller precision shares the input buffers; overflow is an error.
func Cast(e exec.Expr, to arrow.DataType) (exec.Expr, error) {
	from := e.DataType()
	if arrow.TypeEqual(from, to) {
		return e, nil
	}
	if !types.CanCast(from, to) {
		return nil, fmt.Errorf("cannot cast %s from %s to %s", e, types.TypeName(from), types.TypeName(to))
	}
	return foldIfConst(&castExpr{e: e, to: to}, e)
}

// TryCast is Cast, except that a value that does not convert (a string
// that does not parse, an overflow) becomes NULL instead of an error.
func TryCast(e exec.Expr, to arrow.DataType) (exec.Expr, error) {
	from := e.DataType()
	if arrow.TypeEqual(from, to) {
		return e, nil
	}
	if !types.CanCast(from, to) {
		return nil, fmt.Errorf("cannot cast %s from %s to %s", e, types.TypeName(from), types.TypeName(to))
	}
	return foldIfConst(&castExpr{e: e, to: to, try: true}, e)
}

func (c *castExpr) DataType() arrow.DataType { return c.to }
func (c *castExpr) String() string {
	if c.try {
		return fmt.Sprintf("TRY_CAST(%s AS %s)", c.e, types.TypeName(c.to))
	}
	return fmt.Sprintf("CAST(%s AS %s)", c.e, types.TypeName(c.to))
}

func (c *castExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	a, err := c.e.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	mem := exec.Allocator(ctx)
	out, err := castArray(mem, a, c.to)
	if err != nil && c.try {
		return tryCastRows(mem, a, c.to)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	return out, nil
}

// tryCastRows is TRY_CAST's slow path, taken only when the vectorized cast
// of the whole batch failed: each run of rows that converts is cast as one
// slice, and a row that fails becomes NULL.
func tryCastRows(mem memory.Allocator, a arrow.Array, to arrow.DataType) (arrow.Array, error) {
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	n := a.Len()
	for i := 0; i < n; {
		// Try the longest run from i that converts, halving on failure.
		size := n - i
		for {
			s := array.NewSlice(a, int64(i), int64(i+size))
			out, err := castArray(mem, s, to)
			s.Release()
			if err == nil {
				parts = append(parts, out)
				i += size
				break
			}
			if size == 1 {
				parts = append(parts, array.MakeArrayOfNull(mem, to, 1))
				i++
				break
			}
			size /= 2
		}
	}
	if len(parts) == 1 {
		out := parts[0]
		parts = nil
		return out, nil
	}
	return array.Concatenate(parts, mem)
}

// castArray converts a to type to.
func castArray(mem memory.Allocator, a arrow.Array, to arrow.DataType) (arrow.Array, error) {
	from := a.DataType()
	n := a.Len()
	if arrow.TypeEqual(from, to) {
		a.Retain()
		return a, nil
	}
	if from.ID() == arrow.NULL {
		return nullArray(mem, to, n), nil
	}
	if to.ID() == arrow.STRING {
		return castToString(mem, a)
	}
	if from.ID() == arrow.STRING {
		return castFromString(mem, a, to)
	}
	valid, vb := andValidity(mem, n, a)
	buf, err := castFixed(mem, a, to, vb)
	if err != nil {
		if valid != nil {
			valid.Release()
		}
		return nil, err
	}
	if buf == nil { // shared buffers
		d := a.Data()
		if valid != nil {
			valid.Release()
		}
		nd := array.NewData(to, n, d.Buffers(), nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd), nil
	}
	return makeArray(to, n, -1, valid, buf), nil
}

func castErr(v any, from, to arrow.DataType, row int) error {
	return fmt.Errorf("value %v (%s) out of range for %s at row %d", v, types.TypeName(from), types.TypeName(to), row)
}

// castFixed converts between fixed-width types. It returns a nil buffer
// when the input buffers can be shared as is.
func castFixed(mem memory.Allocator, a arrow.Array, to arrow.DataType, valid []byte) (*memory.Buffer, error) {
	from := a.DataType()
	f, t := from.ID(), to.ID()
	switch {
	case types.IsInteger(from) || f == arrow.BOOL:
		var in []int64
		if f == arrow.BOOL {
			bits, off := boolBits(a)
			in = make([]int64, a.Len())
			for i := range in {
				if bitutil.BitIsSet(bits, off+i) {
					in[i] = 1
				}
			}
		} else {
			in = intsAsI64(a)
		}
		return castFromI64(mem, in, from, to, valid)
	case types.IsFloat(from):
		var in []float64
		if f == arrow.FLOAT32 {
			in32 := values[float32](a)
			in = make([]float64, len(in32))
			for i, v := range in32 {
				in[i] = float64(v)
			}
		} else {
			in = values[float64](a)
		}
		return castFromF64(mem, in, from, to, valid)
	case f == arrow.DECIMAL128:
		return castFromDecimal(mem, a, to, valid)
	case f == arrow.DECIMAL64:
		return castFromDecimal64(mem, a, to, valid)
	case f == arrow.DATE32 && t == arrow.TIMESTAMP:
		in := values[int32](a)
		buf, out := allocFixed[int64](mem, len(in))
		for i, v := range in {
			out[i] = int64(v) * types.MicrosPerDay
		}
		return buf, nil
	case f == arrow.TIMESTAMP && t == arrow.DATE32:
		in := values[int64](a)
		buf, out := allocFixed[int32](mem, len(in))
		for i, v := range in {
			out[i] = int32(floorDiv(v, types.MicrosPerDay))
		}
		return buf, nil
	}
	return nil, fmt.Errorf("no cast from %s to %s", types.TypeName(from), types.TypeName(to))
}

func intsAsI64(a arrow.Array) []int64 {
	switch a.DataType().ID() {
	case arrow.INT64:
		return values[int64](a)
	case arrow.INT32:
		return widen(values[int32](a))
	case arrow.INT16:
		return widen(values[int16](a))
	case arrow.INT8:
		return widen(values[int8](a))
	}
	return nil
}

func widen[T int8 | int16 | int32](in []T) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}

func narrowInts[T int8 | int16 | int32 | int64](mem memory.Allocator, in []int64, valid []byte, from, to arrow.DataType) (*memory.Buffer, error) {
	lo, hi := intRange(to.ID())
	buf, out := allocFixed[T](mem, len(in))
	for i, v := range in {
		if (v < lo || v > hi) && isValid(valid, 0, i) {
			buf.Release()
			return nil, castErr(v, from, to, i)
		}
		out[i] = T(v)
	}
	return buf, nil
}

func castFromI64(mem memory.Allocator, in []int64, from, to arrow.DataType, valid []byte) (*memory.Buffer, error) {
	switch to.ID() {
	case arrow.INT8:
		return narrowInts[int8](mem, in, valid, from, to)
	case arrow.INT16:
		return narrowInts[int16](mem, in, valid, from, to)
	case arrow.INT32:
		return narrowInts[int32](mem, in, valid, from, to)
	case arrow.INT64:
		buf, out := allocFixed[int64](mem, len(in))
		copy(out, in)
		return buf, nil
	case arrow.FLOAT32:
		buf, out := allocFixed[float32](mem, len(in))
		for i, v := range in {
			out[i] = float32(v)
		}
		return buf, nil
	case arrow.FLOAT64:
		buf, out := allocFixed[float64](mem, len(in))
		for i, v := range in {
			out[i] = float64(v)
		}
		return buf, nil
	case arrow.BOOL:
		buf, out := allocBits(mem, len(in))
		for i, v := range in {
			out[i>>3] |= b2u(v != 0) << (i & 7)
		}
		return buf, nil
	case arrow.DECIMAL64:
		p, s := types.DecimalParams(to)
		m := pow10i64[s]
		buf, out := allocFixed[int64](mem, len(in))
		for i, v := range in {
			r, ok := mul64(v, m)
			if (!ok || !fitsPrec64(r, p)) && isValid(valid, 0, i) {
				buf.Release()
				return nil, castErr(v, from, to, i)
			}
			out[i] = r
		}
		return buf, nil
	case arrow.DECIMAL128:
		p, s := types.DecimalParams(to)
		mul := decimal128.GetScaleMultiplier(int(s))
		buf, out := allocFixed[decimal128.Num](mem, len(in))
		m64, mok := int64(mul.LowBits()), fits64(mul)
		for i, v := range in {
			if r, ok := mul64(v, m64); mok && ok && fitsPrec64(r, p) {
				out[i] = decFromI64(r)
				continue
			}
			if !isValid(valid, 0, i) {
				out[i] = decimal128.Num{}
				continue
			}
			b := new(big.Int).Mul(big.NewInt(v), mul.BigInt())
			if b.CmpAbs(decimal128.GetMaxValue(p).BigInt()) > 0 {
				buf.Release()
				return nil, castErr(v, from, to, i)
			}
			r := decimal128.FromBigInt(b)
			out[i] = r
		}
		return buf, nil
	}
	return nil, fmt.Errorf("no cast from %s to %s", types.TypeName(from), types.TypeName(to))
}

var pow10i64 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < 19; i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// fitsPrec64 reports whether |v| < 10^p.
func fitsPrec64(v int64, p int32) bool {
	if p >= 19 {
		return true
	}
	lim := pow10i64[p]
	return v < lim && v > -lim
}

func castFromF64(mem memory.Allocator, in []float64, from, to arrow.DataType, valid []byte) (*memory.Buffer, error) {
	switch to.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		lo, hi := intRange(to.ID())
		ints := make([]int64, len(in))
		for i, v := range in {
			r := math.RoundToEven(v) // half to even, like DuckDB (nearbyint)
			if !(r >= float64(lo) && r < -float64(lo)) || (to.ID() != arrow.INT64 && r > float64(hi)) {
				if isValid(valid, 0, i) {
					return nil, castErr(v, from, to, i)
				}
				r = 0
			}
			ints[i] = int64(r)
		}
		return castFromI64(mem, ints, from, to, valid)
	case arrow.FLOAT32:
		buf, out := allocFixed[float32](mem, len(in))
		for i, v := range in {
			out[i] = float32(v)
		}
		return buf, nil
	case arrow.FLOAT64:
		buf, out := allocFixed[float64](mem, len(in))
		copy(out, in)
		return buf, nil
	case arrow.BOOL:
		buf, out := allocBits(mem, len(in))
		for i, v := range in {
			out[i>>3] |= b2u(v != 0) << (i & 7)
		}
		return buf, nil
	case arrow.DECIMAL64:
		p, s := types.DecimalParams(to)
		scale := math.Pow10(int(s))
		buf, out := allocFixed[int64](mem, len(in))
		for i, v := range in {
			if !isValid(valid, 0, i) {
				out[i] = 0
				continue
			}
			x := math.Round(v * scale)
			if math.Abs(x) < 1<<53 && fitsPrec64(int64(x), p) {
				out[i] = int64(x)
				continue
			}
			r, err := decimal128.FromFloat64(v, p, s)
			if err != nil || math.IsNaN(v) || !r.FitsInPrecision(p) || !fits64(r) {
				buf.Release()
				return nil, castErr(v, from, to, i)
			}
			out[i] = int64(r.LowBits())
		}
		return buf, nil
	case arrow.DECIMAL128:
		p, s := types.DecimalParams(to)
		scale := math.Pow10(int(s))
		buf, out := allocFixed[decimal128.Num](mem, len(in))
		for i, v := range in {
			if !isValid(valid, 0, i) {
				out[i] = decimal128.Num{}
				continue
			}
			x := math.Round(v * scale)
			if math.Abs(x) < 1<<53 && fitsPrec64(int64(x), p) {
				out[i] = decFromI64(int64(x))
				continue
			}
			r, err := decimal128.FromFloat64(v, p, s)
			if err != nil || math.IsNaN(v) || !r.FitsInPrecision(p) {
				buf.Release()
				return nil, castErr(v, from, to, i)
			}
			out[i] = r
		}
		return buf, nil
	}
	return nil, fmt.Errorf("no cast from %s to %s", types.TypeName(from), types.TypeName(to))
}

// rescaleDec changes the scale of v by delta (positive: multiply), rounding
// half away from zero when reducing. ok is false on 128-bit overflow.
func rescaleDec(v decimal128.Num, delta int32) (decimal128.Num, bool) {
	switch {
	case delta == 0:
		return v, true
	case delta > 0:
		if fits64(v) && delta <= 18 {
			if r, ok := mul64(int64(v.LowBits()), pow10i64[delta]); ok {
				return decFromI64(r), true
			}
		}
		b := new(big.Int).Mul(v.BigInt(), decimal128.GetScaleMultiplier(int(delta)).BigInt())
		if b.CmpAbs(bigMax38) > 0 {
			return v, false
		}
		return decimal128.FromBigInt(b), true
	default:
		k := -delta
		if fits64(v) && k <= 18 {
			x, d := int64(v.LowBits()), pow10i64[k]
			q, r := x/d, x%d
			if r >= (d+1)/2 {
				q++
			} else if -r >= (d+1)/2 {
				q--
			}
			return decFromI64(q), true
		}
		if k > 38 {
			return decimal128.Num{}, true
		}
		return v.ReduceScaleBy(k, true), true
	}
}

func castFromDecimal(mem memory.Allocator, a arrow.Array, to arrow.DataType, valid []byte) (*memory.Buffer, error) {
	from := a.DataType()
	p1, s1 := types.DecimalParams(from)
	in := values[decimal128.Num](a)
	switch to.ID() {
	case arrow.DECIMAL64:
		p2, s2 := types.DecimalParams(to)
		buf, out := allocFixed[int64](mem, len(in))
		for i, v := range in {
			r, ok := rescaleDec(v, s2-s1)
			if !ok || !r.FitsInPrecision(p2) || !fits64(r) {
				if isValid(valid, 0, i) {
					buf.Release()
					return nil, castErr(v.ToString(s1), from, to, i)
				}
				r = decimal128.Num{}
			}
			out[i] = int64(r.LowBits())
		}
		return buf, nil
	case arrow.DECIMAL128:
		p2, s2 := types.DecimalParams(to)
		if s1 == s2 && p2 >= p1 {
			return nil, nil // same representation: share buffers
		}
		buf, out := allocFixed[decimal128.Num](mem, len(in))
		for i, v := range in {
			r, ok := rescaleDec(v, s2-s1)
			if (!ok || !r.FitsInPrecision(p2)) && isValid(valid, 0, i) {
				buf.Release()
				return nil, castErr(v.ToString(s1), from, to, i)
			}
			out[i] = r
		}
		return buf, nil
	case arrow.FLOAT32, arrow.FLOAT64:
		f := make([]float64, len(in))
		div := math.Pow10(int(s1))
		for i, v := range in {
			if fits64(v) && int64(v.LowBits()) < 1<<53 && int64(v.LowBits()) > -(1<<53) {
				f[i] = float64(int64(v.LowBits())) / div
			} else {
				f[i] = v.ToFloat64(s1)
			}
		}
		return castFromF64(mem, f, from, to, valid)
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.BOOL:
		ints := make([]int64, len(in))
		for i, v := range in {
			r, _ := rescaleDec(v, -s1)
			if !fits64(r) {
				if isValid(valid, 0, i) {
					return nil, castErr(v.ToString(s1), from, to, i)
				}
				continue
			}
			ints[i] = int64(r.LowBits())
		}
		return castFromI64(mem, ints, from, to, valid)
	}
	return nil, fmt.Errorf("no cast from %s to %s", types.TypeName(from), types.TypeName(to))
}

// castFromDecimal64 converts a Decimal64 array, in 64 bits where the
// result fits them.
func castFromDecimal64(mem memory.Allocator, a arrow.Array, to arrow.DataType, valid []byte) (*memory.Buffer, error) {
	from := a.DataType()
	p1, s1 := types.DecimalParams(from)
	in := values[int64](a)
	bad := func(buf *memory.Buffer, v int64, i int) (*memory.Buffer, error) {
		if buf != nil {
			buf.Release()
		}
		return nil, castErr(string(types.AppendDecimal(nil, v, s1)), from, to, i)
	}
	switch to.ID() {
	case arrow.DECIMAL64:
		p2, s2 := types.DecimalParams(to)
		if s1 == s2 && p2 >= p1 {
			return nil, nil // same representation: share buffers
		}
		// No integer digit lost and no rounding: every value fits.
		exact := s2 >= s1 && p2-s2 >= p1-s1
		buf, out := allocFixed[int64](mem, len(in))
		for i, v := range in {
			r, ok := rescale64(v, s2-s1)
			if !exact && (!ok || !fitsPrec64(r, p2)) {
				if isValid(valid, 0, i) {
					return bad(buf, v, i)
				}
				r = 0
			}
			out[i] = r
		}
		return buf, nil
	case arrow.DECIMAL128:
		p2, s2 := types.DecimalParams(to)
		delta := s2 - s1
		exact := delta >= 0 && p2-s2 >= p1-s1
		buf, out := allocFixed[decimal128.Num](mem, len(in))
		switch {
		case delta == 0 && exact:
			for i, v := range in {
				out[i] = decFromI64(v)
			}
			return buf, nil
		case delta > 0 && delta <= 18 && exact:
			m := pow10i64[delta]
			for i, v := range in {
				out[i] = mulWide(v, m)
			}
			return buf, nil
		}
		for i, v := range in {
			r, ok := rescaleDec(decFromI64(v), delta)
			if !ok || !r.FitsInPrecision(p2) {
				if isValid(valid, 0, i) {
					return bad(buf, v, i)
				}
				r = decimal128.Num{}
			}
			out[i] = r
		}
		return buf, nil
	case arrow.FLOAT32, arrow.FLOAT64:
		f := make([]float64, len(in))
		div := math.Pow10(int(s1))
		for i, v := range in {
			if v < 1<<53 && v > -(1<<53) {
				f[i] = float64(v) / div
			} else {
				f[i] = decFromI64(v).ToFloat64(s1)
			}
		}
		return castFromF64(mem, f, from, to, valid)
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.BOOL:
		ints := make([]int64, len(in))
		for i, v := range in {
			ints[i] = divRound64(v, s1)
		}
		return castFromI64(mem, ints, from, to, valid)
	}
	return nil, fmt.Errorf("no cast from %s to %s", types.TypeName(from), types.TypeName(to))
}

// ---- to string ----

func formatDate(days int64) string {
	return string(types.AppendDate(nil, days))
}

func formatTimestamp(us int64) string { return string(types.AppendTimestamp(nil, us)) }

func appendDecimal(b []byte, v decimal128.Num, scale int32) []byte {
	if !fits64(v) {
		return append(b, v.ToString(scale)...)
	}
	return types.AppendDecimal(b, int64(v.LowBits()), scale)
}

func castToString(mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
	n := a.Len()
	valid, vb := andValidity(mem, n, a)
	sb := newStrBuilder(n, n*8)
	var scratch []byte
	emit := func(i int, f func([]byte) []byte) {
		if !isValid(vb, 0, i) {
			sb.end()
			return
		}
		scratch = f(scratch[:0])
		sb.appendBytes(scratch)
	}
	switch a.DataType().ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		in := intsAsI64(a)
		for i := range in {
			emit(i, func(b []byte) []byte { return strconv.AppendInt(b, in[i], 10) })
		}
	case arrow.FLOAT32:
		in := values[float32](a)
		for i := range in {
			emit(i, func(b []byte) []byte { return types.AppendFloat(b, float64(in[i]), 32) })
		}
	case arrow.FLOAT64:
		in := values[float64](a)
		for i := range in {
			emit(i, func(b []byte) []byte { return types.AppendFloat(b, in[i], 64) })
		}
	case arrow.DECIMAL128:
		_, s := types.DecimalParams(a.DataType())
		in := values[decimal128.Num](a)
		for i := range in {
			emit(i, func(b []byte) []byte { return appendDecimal(b, in[i], s) })
		}
	case arrow.DECIMAL64:
		_, s := types.DecimalParams(a.DataType())
		in := values[int64](a)
		for i := range in {
			emit(i, func(b []byte) []byte { return types.AppendDecimal(b, in[i], s) })
		}
	case arrow.BOOL:
		bits, off := boolBits(a)
		for i := 0; i < n; i++ {
			emit(i, func(b []byte) []byte {
				if bitutil.BitIsSet(bits, off+i) {
					return append(b, "true"...)
				}
				return append(b, "false"...)
			})
		}
	case arrow.DATE32:
		in := values[int32](a)
		for i := range in {
			emit(i, func(b []byte) []byte { return types.AppendDate(b, int64(in[i])) })
		}
	case arrow.TIMESTAMP:
		in := values[int64](a)
		for i := range in {
			emit(i, func(b []byte) []byte { return types.AppendTimestamp(b, in[i]) })
		}
	case arrow.INTERVAL_MONTH_DAY_NANO:
		in := values[arrow.MonthDayNanoInterval](a)
		for i := range in {
			emit(i, func(b []byte) []byte { return types.AppendInterval(b, in[i]) })
		}
	default:
		if valid != nil {
			valid.Release()
		}
		return nil, fmt.Errorf("no cast from %s to VARCHAR", types.TypeName(a.DataType()))
	}
	return sb.finish(mem, valid), nil
}

// ---- from string ----

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "1", "yes", "y", "on":
		return true, true
	case "false", "f", "0", "no", "n", "off":
		return false, true
	}
	return false, false
}

func castFromString(mem memory.Allocator, a arrow.Array, to arrow.DataType) (arrow.Array, error) {
	n := a.Len()
	offs, data := strData(a)
	valid, vb := andValidity(mem, n, a)
	bad := func(i int, s string, err error) error {
		if valid != nil {
			valid.Release()
		}
		msg := fmt.Sprintf("could not convert string %q to %s at row %d", s, types.TypeName(to), i)
		if err != nil {
			msg += ": " + err.Error()
		}
		return fmt.Errorf("%s", msg)
	}
	str := func(i int) string { return strings.TrimSpace(string(data[offs[i]:offs[i+1]])) }
	var buf *memory.Buffer
	switch to.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		ints := make([]int64, n)
		for i := range ints {
			if !isValid(vb, 0, i) {
				continue
			}
			v, err := strconv.ParseInt(str(i), 10, 64)
			if err != nil {
				// DuckDB accepts "1.6" for integers, rounding.
				f, ferr := strconv.ParseFloat(str(i), 64)
				if ferr != nil || math.Abs(f) > 9e18 {
					return nil, bad(i, str(i), nil)
				}
				v = int64(math.Round(f))
			}
			ints[i] = v
		}
		b, err := castFromI64(mem, ints, types.Int64, to, vb)
		if err != nil {
			if valid != nil {
				valid.Release()
			}
			return nil, err
		}
		buf = b
	case arrow.FLOAT32, arrow.FLOAT64:
		fs := make([]float64, n)
		for i := range fs {
			if !isValid(vb, 0, i) {
				continue
			}
			v, err := strconv.ParseFloat(str(i), 64)
			if err != nil {
				return nil, bad(i, str(i), nil)
			}
			fs[i] = v
		}
		buf, _ = castFromF64(mem, fs, types.Float64, to, vb)
	case arrow.DECIMAL64, arrow.DECIMAL128:
		p, s := types.DecimalParams(to)
		dec := make([]decimal128.Num, n)
		for i := range dec {
			if !isValid(vb, 0, i) {
				continue
			}
			v, _, sc, err := types.ParseDecimalLiteral(str(i))
			if err != nil {
				return nil, bad(i, str(i), nil)
			}
			r, ok := rescaleDec(v, s-sc)
			if !ok || !r.FitsInPrecision(p) {
				return nil, bad(i, str(i), fmt.Errorf("out of range"))
			}
			dec[i] = r
		}
		buf, _, _ = decBuffer(mem, dec, to, vb) // within precision p: fits
	case arrow.BOOL:
		var out []byte
		buf, out = allocBits(mem, n)
		for i := 0; i < n; i++ {
			if !isValid(vb, 0, i) {
				continue
			}
			v, ok := parseBool(str(i))
			if !ok {
				buf.Release()
				return nil, bad(i, str(i), nil)
			}
			out[i>>3] |= b2u(v) << (i & 7)
		}
	case arrow.DATE32:
		var out []int32
		buf, out = allocFixed[int32](mem, n)
		for i := range out {
			out[i] = 0
			if !isValid(vb, 0, i) {
				continue
			}
			d, err := types.ParseDate(str(i))
			if err != nil {
				buf.Release()
				return nil, bad(i, str(i), err)
			}
			out[i] = int32(d)
		}
	case arrow.TIMESTAMP:
		var out []int64
		buf, out = allocFixed[int64](mem, n)
		for i := range out {
			out[i] = 0
			if !isValid(vb, 0, i) {
				continue
			}
			t, err := types.ParseTimestamp(str(i))
			if err != nil {
				buf.Release()
				return nil, bad(i, str(i), err)
			}
			out[i] = int64(t)
		}
	case arrow.INTERVAL_MONTH_DAY_NANO:
		var out []arrow.MonthDayNanoInterval
		buf, out = allocFixed[arrow.MonthDayNanoInterval](mem, n)
		for i := range out {
			out[i] = arrow.MonthDayNanoInterval{}
			if !isValid(vb, 0, i) {
				continue
			}
			iv, err := types.ParseInterval(str(i), "")
			if err != nil {
				buf.Release()
				return nil, bad(i, str(i), err)
			}
			out[i] = iv
		}
	default:
		if valid != nil {
			valid.Release()
		}
		return nil, fmt.Errorf("no cast from VARCHAR to %s", types.TypeName(to))
	}
	return makeArray(to, n, -1, valid, buf), nil
}
