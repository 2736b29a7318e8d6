package expr

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

func TestIntArithAgainstReference(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, n := range batchSizes {
		for _, op := range []string{"+", "-", "*", "//", "%"} {
			t.Run(fmt.Sprintf("%s/n=%d", op, n), func(t *testing.T) {
				mem := newMem(t)
				a, b := make([]any, n), make([]any, n)
				for i := range a {
					if r.Intn(5) > 0 {
						a[i] = int64(r.Intn(2001) - 1000)
					}
					if r.Intn(5) > 0 {
						b[i] = int64(r.Intn(21) - 10)
					}
				}
				rb := mkBatch(t, mem, 1, colSpec{tI64, a}, colSpec{tI64, b})
				defer rb.Release()
				e := must[exec.Expr](t)(Arith(op, Col(0, tI64, "a"), Col(1, tI64, "b"), nil))
				want := make([]any, n)
				for i := range want {
					if a[i] == nil || b[i] == nil {
						continue
					}
					x, y := a[i].(int64), b[i].(int64)
					switch op {
					case "+":
						want[i] = x + y
					case "-":
						want[i] = x - y
					case "*":
						want[i] = x * y
					case "//":
						if y != 0 {
							want[i] = x / y
						}
					case "%":
						if y != 0 {
							want[i] = x % y
						}
					}
				}
				mustEqual(t, e.String(), must[[]any](t)(evalAny(t, mem, e, rb)), want)
			})
		}
	}
}

func TestIntArithWidensAndOverflows(t *testing.T) {
	mem := newMem(t)
	rb := mkBatch(t, mem, 0, colSpec{tI32, []any{int64(2147483647), nil}}, colSpec{tI64, []any{int64(math.MaxInt64), int64(1)}})
	defer rb.Release()
	one := must[exec.Expr](t)(Lit(1, tI32))
	e := must[exec.Expr](t)(Arith("+", Col(0, tI32, "a"), one, nil))
	if !arrow.TypeEqual(e.DataType(), tI64) {
		t.Fatalf("INTEGER + INTEGER type %s, want BIGINT", e.DataType())
	}
	mustEqual(t, "widen", must[[]any](t)(evalAny(t, mem, e, rb)), []any{int64(2147483648), nil})
	e = must[exec.Expr](t)(Arith("+", Col(1, tI64, "b"), one, nil))
	if _, err := evalAny(t, mem, e, rb); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("want overflow error, got %v", err)
	}
	// Garbage under a NULL must not raise overflow: b*b where row 0 valid overflows,
	// so check a NULL row only.
	rb2 := mkBatch(t, mem, 0, colSpec{tI64, []any{nil, int64(3)}})
	defer rb2.Release()
	e = must[exec.Expr](t)(Arith("*", Col(0, tI64, "x"), Col(0, tI64, "x"), nil))
	mustEqual(t, "sq", must[[]any](t)(evalAny(t, mem, e, rb2)), []any{nil, int64(9)})
}

func TestDecimalArith(t *testing.T) {
	d152 := types.Decimal(15, 2)
	d11 := types.Decimal(1, 1)
	mem := newMem(t)
	rb := mkBatch(t, mem, 2,
		colSpec{d152, []any{dec(10000), dec(123), nil, dec(-5)}}, // 100.00 1.23 NULL -0.05
		colSpec{d152, []any{dec(5), dec(10), dec(1), dec(100)}},  // 0.05 0.10 0.01 1.00
		colSpec{d11, []any{dec(1), dec(2), dec(3), nil}})         // 0.1 0.2 0.3
	defer rb.Release()
	ext, disc := Col(0, d152, "price"), Col(1, d152, "disc")
	// price * (1 - disc)
	one := must[exec.Expr](t)(Lit(1, tI32))
	oneMinus := must[exec.Expr](t)(Arith("-", one, disc, nil))
	if got := types.TypeName(oneMinus.DataType()); got != "DECIMAL(16,2)" {
		t.Fatalf("1 - DECIMAL(15,2) type %s", got)
	}
	e := must[exec.Expr](t)(Arith("*", ext, oneMinus, nil))
	if got := types.TypeName(e.DataType()); got != "DECIMAL(31,4)" {
		t.Fatalf("mul type %s", got)
	}
	// 100.00*0.95=95.0000; 1.23*0.90=1.1070; NULL; -0.05*0=0
	mustEqual(t, e.String(), must[[]any](t)(evalAny(t, mem, e, rb)), []any{dec(950000), dec(11070), nil, dec(0)})
	// 0.1 + 0.2 = 0.3 exactly, and scales are aligned: 0.1 + 100.00 = 100.10
	lit2 := must[exec.Expr](t)(Lit(decFromI64(2), d11))
	e = must[exec.Expr](t)(Arith("+", Col(2, d11, "x"), lit2, nil))
	mustEqual(t, "0.x+0.2", must[[]any](t)(evalAny(t, mem, e, rb)), []any{dec(3), dec(4), dec(5), nil})
	e = must[exec.Expr](t)(Arith("+", Col(2, d11, "x"), ext, nil))
	if got := types.TypeName(e.DataType()); got != "DECIMAL(16,2)" {
		t.Fatalf("add type %s", got)
	}
	mustEqual(t, "x+price", must[[]any](t)(evalAny(t, mem, e, rb)), []any{dec(10010), dec(143), nil, nil})
	e = must[exec.Expr](t)(Arith("-", ext, Col(2, d11, "x"), nil))
	mustEqual(t, "price-x", must[[]any](t)(evalAny(t, mem, e, rb)), []any{dec(9990), dec(103), nil, nil})
	e = must[exec.Expr](t)(Arith("%", ext, disc, nil))
	mustEqual(t, "price%disc", must[[]any](t)(evalAny(t, mem, e, rb)), []any{dec(0), dec(3), nil, dec(-5)})
	// Division is DOUBLE.
	e = must[exec.Expr](t)(Arith("/", ext, disc, nil))
	mustEqual(t, "price/disc", must[[]any](t)(evalAny(t, mem, e, rb)), []any{100.0 / 0.05, fdiv(1.23, 0.10), nil, -0.05 / 1.0})
}

func TestDecimalWideAndOverflow(t *testing.T) {
	mem := newMem(t)
	d38 := types.Decimal(38, 0)
	big := decimal128.GetMaxValue(38) // 10^38-1
	huge := decimal128.FromI64(math.MaxInt64)
	rb := mkBatch(t, mem, 0, colSpec{d38, []any{big, huge, dec(1)}})
	defer rb.Release()
	one := must[exec.Expr](t)(Lit(decFromI64(1), d38))
	e := must[exec.Expr](t)(Arith("+", Col(0, d38, "x"), one, nil))
	if _, err := evalAny(t, mem, e, rb); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("want overflow for 10^38-1 + 1, got %v", err)
	}
	rb2 := mkBatch(t, mem, 0, colSpec{d38, []any{huge, dec(-3)}})
	defer rb2.Release()
	e = must[exec.Expr](t)(Arith("*", Col(0, d38, "x"), Col(0, d38, "x"), types.Decimal(38, 0)))
	got := must[[]any](t)(evalAny(t, mem, e, rb2))
	want := decimal128.FromI64(math.MaxInt64).Mul(decimal128.FromI64(math.MaxInt64))
	if got[0].(decimal128.Num) != want || got[1] != dec(9) {
		t.Fatalf("wide mul: got %v", got)
	}
	e = must[exec.Expr](t)(Arith("+", Col(0, d38, "x"), Col(0, d38, "x"), types.Decimal(38, 0)))
	got = must[[]any](t)(evalAny(t, mem, e, rb2))
	if got[0].(decimal128.Num) != decimal128.FromI64(math.MaxInt64).Mul(decimal128.FromI64(2)) || got[1] != dec(-6) {
		t.Fatalf("wide add: got %v", got)
	}
}

func TestFloatDivisionIsIEEE(t *testing.T) {
	mem := newMem(t)
	rb := mkBatch(t, mem, 0, colSpec{tF64, []any{1.0, 2.0, nil, -1.0}}, colSpec{tF64, []any{0.0, 4.0, 1.0, 0.0}})
	defer rb.Release()
	e := must[exec.Expr](t)(Arith("/", Col(0, tF64, "a"), Col(1, tF64, "b"), nil))
	mustEqual(t, "div", must[[]any](t)(evalAny(t, mem, e, rb)), []any{math.Inf(1), 0.5, nil, math.Inf(-1)})
}

func TestDateArith(t *testing.T) {
	mem := newMem(t)
	d := func(s string) int64 { v, _ := types.ParseDate(s); return int64(v) }
	// DATE ± INTERVAL is a TIMESTAMP (midnight of the date), as in DuckDB.
	ts := func(s string) int64 { return d(s) * types.MicrosPerDay }
	rb := mkBatch(t, mem, 1,
		colSpec{tDate, []any{d("1998-12-01"), d("2021-01-31"), nil, d("2020-02-29")}},
		colSpec{tDate, []any{d("1998-11-01"), d("2021-01-01"), d("2000-01-01"), d("2019-02-28")}})
	defer rb.Release()
	days90 := must[exec.Expr](t)(Lit(arrow.MonthDayNanoInterval{Days: 90}, tIv))
	e := must[exec.Expr](t)(Arith("-", Col(0, tDate, "d"), days90, nil))
	mustEqual(t, "d-90days", must[[]any](t)(evalAny(t, mem, e, rb)),
		[]any{ts("1998-09-02"), ts("2020-11-02"), nil, ts("2019-12-01")})
	month := must[exec.Expr](t)(Lit(arrow.MonthDayNanoInterval{Months: 1}, tIv))
	e = must[exec.Expr](t)(Arith("+", Col(0, tDate, "d"), month, nil))
	mustEqual(t, "d+1month", must[[]any](t)(evalAny(t, mem, e, rb)),
		[]any{ts("1999-01-01"), ts("2021-02-28"), nil, ts("2020-03-29")})
	year := must[exec.Expr](t)(Lit(arrow.MonthDayNanoInterval{Months: 12}, tIv))
	e = must[exec.Expr](t)(Arith("+", year, Col(0, tDate, "d"), nil))
	mustEqual(t, "1year+d", must[[]any](t)(evalAny(t, mem, e, rb)),
		[]any{ts("1999-12-01"), ts("2022-01-31"), nil, ts("2021-02-28")})
	e = must[exec.Expr](t)(Arith("-", Col(0, tDate, "a"), Col(1, tDate, "b"), nil))
	mustEqual(t, "d-d", must[[]any](t)(evalAny(t, mem, e, rb)), []any{int64(30), int64(30), nil, int64(366)})
	three := must[exec.Expr](t)(Lit(3, tI32))
	e = must[exec.Expr](t)(Arith("+", Col(1, tDate, "b"), three, nil))
	mustEqual(t, "d+3", must[[]any](t)(evalAny(t, mem, e, rb)), []any{d("1998-11-04"), d("2021-01-04"), d("2000-01-04"), d("2019-03-03")})
	hour := must[exec.Expr](t)(Lit(arrow.MonthDayNanoInterval{Nanoseconds: 3600e9}, tIv))
	e = must[exec.Expr](t)(Arith("+", Col(0, tDate, "d"), hour, nil))
	mustEqual(t, "d+1hour", must[[]any](t)(evalAny(t, mem, e, rb)),
		[]any{ts("1998-12-01") + 3600e6, ts("2021-01-31") + 3600e6, nil, ts("2020-02-29") + 3600e6})
	t0, _ := types.ParseTimestamp("2021-01-31 10:00:00")
	rb2 := mkBatch(t, mem, 0, colSpec{tTS, []any{int64(t0)}})
	defer rb2.Release()
	e = must[exec.Expr](t)(Arith("+", Col(0, tTS, "t"), must[exec.Expr](t)(Lit(arrow.MonthDayNanoInterval{Months: 1, Nanoseconds: 3600e9}, tIv)), nil))
	want, _ := types.ParseTimestamp("2021-02-28 11:00:00")
	mustEqual(t, "ts+1month1h", must[[]any](t)(evalAny(t, mem, e, rb2)), []any{int64(want)})
}

func TestNegAndFold(t *testing.T) {
	mem := newMem(t)
	rb := mkBatch(t, mem, 0, colSpec{tI32, []any{int64(1), nil, int64(-5)}}, colSpec{types.Decimal(5, 2), []any{dec(12), dec(-3), nil}})
	defer rb.Release()
	mustEqual(t, "neg", must[[]any](t)(evalAny(t, mem, Neg(Col(0, tI32, "a")), rb)), []any{int64(-1), nil, int64(5)})
	mustEqual(t, "negdec", must[[]any](t)(evalAny(t, mem, Neg(Col(1, types.Decimal(5, 2), "b")), rb)), []any{dec(-12), dec(3), nil})
	// All-literal subtrees are folded into a literal at construction.
	e := must[exec.Expr](t)(Arith("*", must[exec.Expr](t)(Lit(6, tI64)), must[exec.Expr](t)(Lit(7, tI64)), nil))
	if _, ok := e.(*literal); !ok || e.String() != "42" {
		t.Fatalf("6*7 not folded: %T %s", e, e)
	}
	if _, err := Arith("+", Col(0, tStr, "s"), Col(0, tI64, "i"), nil); err == nil {
		t.Fatal("VARCHAR + BIGINT should be a type error")
	}
}

// fdiv divides at run time (Go constant division is exact, IEEE is not).
func fdiv(a, b float64) float64 { return a / b }
