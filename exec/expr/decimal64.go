package expr

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/types"
)

// Decimal64 kernels. A DECIMAL(p, s) with p <= 18 is an Arrow Decimal64:
// its unscaled values are plain int64s, so comparisons, IN lists, CASE
// merges and literals share the BIGINT kernels, and only arithmetic,
// casts and rounding need the code below. Everything that can leave 64
// bits (a product of two Decimal64s typed DECIMAL(>18), a cast to a
// Decimal128) is computed straight into 128 bits.

// decAsI128 returns the unscaled values of a decimal array of either
// width as 128-bit numbers (a Decimal64 is widened into a new slice).
func decAsI128(a arrow.Array) []decimal128.Num {
	if a.DataType().ID() == arrow.DECIMAL128 {
		return values[decimal128.Num](a)
	}
	in := values[int64](a)
	out := make([]decimal128.Num, len(in))
	for i, v := range in {
		out[i] = decFromI64(v)
	}
	return out
}

// decBuffer stores 128-bit results as an array buffer of the decimal type
// to: as is for a Decimal128, narrowed for a Decimal64 (ok is false, and
// bad the first valid row, when a value does not fit 64 bits).
func decBuffer(mem memory.Allocator, vals []decimal128.Num, to arrow.DataType, valid []byte) (buf *memory.Buffer, bad int, ok bool) {
	if to.ID() == arrow.DECIMAL128 {
		buf, out := allocFixed[decimal128.Num](mem, len(vals))
		copy(out, vals)
		return buf, 0, true
	}
	buf, out := allocFixed[int64](mem, len(vals))
	for i, v := range vals {
		if !fits64(v) {
			if isValid(valid, 0, i) {
				buf.Release()
				return nil, i, false
			}
			v = decimal128.Num{}
		}
		out[i] = int64(v.LowBits())
	}
	return buf, 0, true
}

// mulWide is the exact 128-bit product of two int64s (it cannot overflow:
// |x·y| <= 2^126).
func mulWide(x, y int64) decimal128.Num {
	ux, uy := uint64(x), uint64(y)
	if x < 0 {
		ux = -ux
	}
	if y < 0 {
		uy = -uy
	}
	hi, lo := bits.Mul64(ux, uy)
	n := decimal128.New(int64(hi), lo)
	if (x ^ y) < 0 {
		n = n.Negate()
	}
	return n
}

// divRound64 is x / 10^k rounded half away from zero (k >= 0).
func divRound64(x int64, k int32) int64 {
	if k == 0 {
		return x
	}
	if k > 18 {
		return 0 // |x| < 10^19 / 2
	}
	d := pow10i64[k]
	q, r := x/d, x%d
	if r >= (d+1)/2 {
		q++
	} else if -r >= (d+1)/2 {
		q--
	}
	return q
}

// rescale64 changes the scale of x by delta (positive: multiply), rounding
// half away from zero when reducing; ok is false on int64 overflow.
func rescale64(x int64, delta int32) (int64, bool) {
	switch {
	case delta == 0:
		return x, true
	case delta < 0:
		return divRound64(x, -delta), true
	case delta > 18:
		return 0, x == 0
	}
	return mul64(x, pow10i64[delta])
}

// dec64Kernel computes + - * % of two Decimal64 operands into a Decimal64
// result. The type rules make the result hold every valid input's result
// (DECIMAL(p1,s1) + DECIMAL(p2,s2) has room for the carry), so the checks
// below only fire for values beyond their declared precision; they report
// an overflow like the 128-bit path instead of wrapping.
func dec64Kernel(k *kernelArgs, a, b opnd[int64]) (*memory.Buffer, error) {
	e := k.e
	buf, out := allocFixed[int64](k.mem, k.n)
	fail := func(i int) (*memory.Buffer, error) {
		buf.Release()
		return nil, e.overflow(k, i)
	}
	lm, rm := int64(e.lmul.LowBits()), int64(e.rmul.LowBits())
	if e.op != "*" {
		// Pre-scale a literal operand once so the loop scales at most one side.
		if a.mask == 0 && lm != 1 {
			v, ok := mul64(a.v[0], lm)
			if !ok {
				return fail(0)
			}
			a, lm = litOpnd(v), 1
		}
		if b.mask == 0 && rm != 1 {
			v, ok := mul64(b.v[0], rm)
			if !ok {
				return fail(0)
			}
			b, rm = litOpnd(v), 1
		}
	}
	switch {
	case (e.op == "+" || e.op == "-") && lm == 1 && rm == 1:
		sub := e.op == "-"
		for i := range out {
			x, y := a.at(i), b.at(i)
			var r int64
			var over bool
			if sub {
				r = x - y
				over = (x^y)&(x^r) < 0
			} else {
				r = x + y
				over = (x^r)&(y^r) < 0
			}
			if over && isValid(k.valid, 0, i) {
				return fail(i)
			}
			out[i] = r
		}
	case e.op == "+" || e.op == "-":
		sub := e.op == "-"
		for i := range out {
			xs, ok1 := mul64(a.at(i), lm)
			ys, ok2 := mul64(b.at(i), rm)
			if sub {
				ys = -ys
			}
			r := xs + ys
			if !(ok1 && ok2 && ys != math.MinInt64 && (xs^r)&(ys^r) >= 0) && isValid(k.valid, 0, i) {
				return fail(i)
			}
			out[i] = r
		}
	case e.op == "*":
		for i := range out {
			r, ok := mul64(a.at(i), b.at(i))
			if !ok && isValid(k.valid, 0, i) {
				return fail(i)
			}
			out[i] = r
		}
	case e.op == "%":
		for i := range out {
			xs, ok1 := mul64(a.at(i), lm)
			ys, ok2 := mul64(b.at(i), rm)
			switch {
			case !isValid(k.valid, 0, i):
				out[i] = 0
			case !ok1 || !ok2:
				return fail(i)
			case ys == 0:
				k.zeros = append(k.zeros, i)
				out[i] = 0
			default:
				out[i] = xs % ys // truncated, sign of the dividend, like SQL
			}
		}
	default:
		buf.Release()
		return nil, fmt.Errorf("%s: unsupported decimal operator %s", e, e.op)
	}
	return buf, nil
}

// mulDec64Wide multiplies two Decimal64 operands into a Decimal128 result
// (DECIMAL(p1+p2 > 18)): 64×64→128 bits, which never overflows.
func mulDec64Wide(k *kernelArgs, a, b opnd[int64]) *memory.Buffer {
	buf, out := allocFixed[decimal128.Num](k.mem, k.n)
	switch {
	case a.mask != 0 && b.mask != 0:
		av, bv := a.v[:len(out)], b.v[:len(out)]
		for i := range out {
			out[i] = mulWide(av[i], bv[i])
		}
	default:
		for i := range out {
			out[i] = mulWide(a.at(i), b.at(i))
		}
	}
	return buf
}

// decimalWidth128 is the 128-bit form of a decimal type (itself for a
// Decimal128).
func decimalWidth128(t arrow.DataType) arrow.DataType {
	if t.ID() == arrow.DECIMAL128 {
		return t
	}
	p, s := types.DecimalParams(t)
	return types.Decimal128(p, s)
}
