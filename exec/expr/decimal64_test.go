package expr

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// The Decimal64 kernels are checked against the Decimal128 ones, an
// independent path: the same expression over the same values typed as
// Decimal128(p, s) must give the same values, and fail on the same input.

// as128 is the Decimal128 twin of a decimal type (other types unchanged).
func as128(t arrow.DataType) arrow.DataType {
	if types.IsDecimal(t) {
		p, s := types.DecimalParams(t)
		return types.Decimal128(p, s)
	}
	return t
}

// randDec is a random unscaled value of DECIMAL(p, ·): mostly small, some
// near the precision's limit, some NULL.
func randDec(r *rand.Rand, p int32) any {
	lim := pow10i64[min(p, 18)]
	switch r.Intn(8) {
	case 0:
		return nil
	case 1:
		return dec(lim - 1 - r.Int63n(3))
	case 2:
		return dec(-(lim - 1 - r.Int63n(3)))
	case 3:
		return dec(0)
	}
	return dec(r.Int63n(min(lim, 100000)) - min(lim, 100000)/2)
}

// twinEval evaluates build(types) over cols with the decimal columns typed
// as given and as their Decimal128 twins, and compares values and errors.
func twinEval(t *testing.T, what string, cols []colSpec, build func(ts []arrow.DataType, wide bool) (exec.Expr, error)) {
	t.Helper()
	mem := newMem(t)
	run := func(wide bool) ([]any, string, arrow.DataType) {
		cs := make([]colSpec, len(cols))
		ts := make([]arrow.DataType, len(cols))
		for i, c := range cols {
			cs[i] = c
			if wide {
				cs[i].typ = as128(c.typ)
			}
			ts[i] = cs[i].typ
		}
		rb := mkBatch(t, mem, 1, cs...)
		defer rb.Release()
		e, err := build(ts, wide)
		if err != nil {
			return nil, "build: " + err.Error(), nil
		}
		got, err := evalAny(t, mem, e, rb)
		if err != nil {
			return nil, "error", e.DataType()
		}
		return got, "", e.DataType()
	}
	got, gerr, gt := run(false)
	want, werr, wt := run(true)
	if (gerr == "") != (werr == "") {
		t.Fatalf("%s: Decimal64 gives %q, Decimal128 gives %q", what, gerr, werr)
	}
	if gerr != "" {
		return
	}
	if types.TypeName(gt) != types.TypeName(wt) {
		t.Fatalf("%s: result %s vs %s", what, types.TypeName(gt), types.TypeName(wt))
	}
	mustEqual(t, what, got, want)
}

func TestDecimal64ArithMatches128(t *testing.T) {
	r := rand.New(rand.NewSource(64))
	ps := []struct{ p, s int32 }{{1, 0}, {3, 1}, {9, 2}, {15, 2}, {16, 2}, {17, 0}, {17, 9}, {18, 0}, {18, 6}, {18, 18}}
	for _, op := range []string{"+", "-", "*", "%"} {
		for range 60 {
			a, b := ps[r.Intn(len(ps))], ps[r.Intn(len(ps))]
			ta, tb := types.Decimal(a.p, a.s), types.Decimal(b.p, b.s)
			if _, _, _, err := types.ArithmeticType(op, ta, tb); err != nil {
				continue
			}
			n := []int{1, 3, 16, 200}[r.Intn(4)]
			av, bv := make([]any, n), make([]any, n)
			for i := range av {
				av[i], bv[i] = randDec(r, a.p), randDec(r, b.p)
			}
			name := fmt.Sprintf("%s %s %s", types.TypeName(ta), op, types.TypeName(tb))
			cols := []colSpec{{ta, av}, {tb, bv}}
			for shape := range 3 { // column op column, column op literal, literal op column
				twinEval(t, fmt.Sprintf("%s/shape %d", name, shape), cols, func(ts []arrow.DataType, _ bool) (exec.Expr, error) {
					var l, rr exec.Expr = Col(0, ts[0], "a"), Col(1, ts[1], "b")
					switch shape {
					case 1:
						if bv[0] == nil {
							return nil, fmt.Errorf("skip")
						}
						rr = must[exec.Expr](t)(Lit(decFromI64(int64(bv[0].(dec))), ts[1]))
					case 2:
						if av[0] == nil {
							return nil, fmt.Errorf("skip")
						}
						l = must[exec.Expr](t)(Lit(decFromI64(int64(av[0].(dec))), ts[0]))
					}
					return Arith(op, l, rr, nil)
				})
			}
		}
	}
}

func TestDecimal64ArithWidths(t *testing.T) {
	mem := newMem(t)
	d152 := types.Decimal(15, 2)
	big := int64(999_999_999_999_999) // 9999999999999.99
	rb := mkBatch(t, mem, 0, colSpec{d152, []any{dec(big), dec(-big), nil, dec(150)}})
	defer rb.Release()
	x := Col(0, d152, "x")
	// DECIMAL(15,2) * DECIMAL(15,2) = DECIMAL(30,4): 128 bits, exact.
	e := must[exec.Expr](t)(Arith("*", x, x, nil))
	if e.DataType().ID() != arrow.DECIMAL128 || types.TypeName(e.DataType()) != "DECIMAL(30,4)" {
		t.Fatalf("product type %s", e.DataType())
	}
	sq := decFromI64(big).Mul(decFromI64(big))
	mustEqual(t, "x*x", must[[]any](t)(evalAny(t, mem, e, rb)), []any{sq, sq, nil, dec(22500)})
	// DECIMAL(15,2) + DECIMAL(15,2) = DECIMAL(16,2): stays 64 bits.
	e = must[exec.Expr](t)(Arith("+", x, x, nil))
	if e.DataType().ID() != arrow.DECIMAL64 || types.TypeName(e.DataType()) != "DECIMAL(16,2)" {
		t.Fatalf("sum type %s", e.DataType())
	}
	mustEqual(t, "x+x", must[[]any](t)(evalAny(t, mem, e, rb)), []any{dec(2 * big), dec(-2 * big), nil, dec(300)})
	// A 128-bit operand makes the whole operation 128 bits.
	w := must[exec.Expr](t)(Cast(x, types.Decimal(20, 2)))
	e = must[exec.Expr](t)(Arith("-", w, x, nil))
	mustEqual(t, "w-x", must[[]any](t)(evalAny(t, mem, e, rb)), []any{dec(0), dec(0), nil, dec(0)})
	e = must[exec.Expr](t)(Arith("*", w, x, nil))
	mustEqual(t, "w*x", must[[]any](t)(evalAny(t, mem, e, rb)), []any{sq, sq, nil, dec(22500)})
}

func TestDecimal64Overflow(t *testing.T) {
	mem := newMem(t)
	// Values beyond the declared precision (a corrupt or foreign file) must
	// not wrap around silently.
	for _, c := range []struct {
		op string
		t  arrow.DataType
	}{{"+", types.Decimal(17, 0)}, {"-", types.Decimal(17, 0)}, {"*", types.Decimal(9, 0)}} {
		rb := mkBatch(t, mem, 0, colSpec{c.t, []any{dec(math.MaxInt64 - 1), nil}}, colSpec{c.t, []any{dec(-10), nil}})
		if c.op != "-" {
			rb.Release()
			rb = mkBatch(t, mem, 0, colSpec{c.t, []any{dec(math.MaxInt64 - 1), nil}}, colSpec{c.t, []any{dec(10), nil}})
		}
		e := must[exec.Expr](t)(Arith(c.op, Col(0, c.t, "a"), Col(1, c.t, "b"), nil))
		if e.DataType().ID() != arrow.DECIMAL64 {
			t.Fatalf("%s: type %s", e, e.DataType())
		}
		if _, err := evalAny(t, mem, e, rb); err == nil || !strings.Contains(err.Error(), "overflow in DECIMAL(") {
			t.Fatalf("%s: want an overflow error, got %v", e, err)
		}
		rb.Release()
		// The same garbage under a NULL is ignored.
		rb = mkBatch(t, mem, 0, colSpec{c.t, []any{nil, dec(1)}}, colSpec{c.t, []any{dec(10), dec(2)}})
		binary.LittleEndian.PutUint64(rb.Column(0).Data().Buffers()[1].Buf(), math.MaxInt64-1) // junk under the NULL
		if _, err := evalAny(t, mem, e, rb); err != nil {
			t.Fatalf("%s over a NULL: %v", e, err)
		}
		rb.Release()
	}
}

func TestDecimal64CastsMatch128(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	decs := []arrow.DataType{types.Decimal(1, 0), types.Decimal(4, 2), types.Decimal(9, 3), types.Decimal(15, 2),
		types.Decimal(18, 0), types.Decimal(18, 9), types.Decimal(18, 18), types.Decimal(20, 2), types.Decimal(38, 10)}
	others := []arrow.DataType{tI32, tI64, types.Int8, types.Float64, types.Float32, types.String, types.Boolean}
	for _, from := range decs {
		if from.ID() != arrow.DECIMAL64 {
			continue
		}
		p, _ := types.DecimalParams(from)
		vals := make([]any, 64)
		for i := range vals {
			vals[i] = randDec(r, p)
		}
		for _, to := range append(append([]arrow.DataType{}, decs...), others...) {
			for _, try := range []bool{false, true} {
				name := fmt.Sprintf("%s -> %s try=%v", types.TypeName(from), types.TypeName(to), try)
				// Both widths of the source, to the same target and to
				// the target's twin.
				for _, wideTo := range []bool{false, true} {
					twinEval(t, name, []colSpec{{from, vals}}, func(ts []arrow.DataType, wide bool) (exec.Expr, error) {
						tt := to
						if wide && wideTo {
							tt = as128(to)
						}
						if try {
							return TryCast(Col(0, ts[0], "x"), tt)
						}
						return Cast(Col(0, ts[0], "x"), tt)
					})
				}
			}
		}
	}
	// Into Decimal64 from everything else.
	srcs := map[arrow.DataType][]any{
		tI64:          {int64(0), int64(-7), int64(123456789), int64(math.MaxInt64), nil},
		tI32:          {int64(1), int64(-2147483648), nil},
		types.Float64: {1.005, -2.5, 0.125, 1e17, 1e30, math.NaN(), nil},
		types.String:  {"1.25", " -3.5 ", "abc", "99999999999999999999", "0.000001", nil},
	}
	for _, to := range decs {
		if to.ID() != arrow.DECIMAL64 {
			continue
		}
		for from, vals := range srcs {
			for _, try := range []bool{false, true} {
				name := fmt.Sprintf("%s -> %s try=%v", types.TypeName(from), types.TypeName(to), try)
				twinEval(t, name, []colSpec{{from, vals}}, func(ts []arrow.DataType, wide bool) (exec.Expr, error) {
					tt := to
					if wide {
						tt = as128(to)
					}
					if try {
						return TryCast(Col(0, from, "x"), tt)
					}
					return Cast(Col(0, from, "x"), tt)
				})
			}
		}
	}
}
