package expr

import (
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

var batchSizes = []int{1, 2, 3, 16, 1024}

// refCmp is the obviously-correct comparison used as the reference.
func refCmp(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func goCmp(a, b any) int {
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float64:
		// SQL order: NaN equals NaN and is above everything, +Inf too.
		y := b.(float64)
		switch xn, yn := math.IsNaN(x), math.IsNaN(y); {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case dec, decimal128.Num:
		return bigOf(x).Cmp(bigOf(b))
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		return goCmp(int64(b2u(x)), int64(b2u(b.(bool))))
	}
	panic(fmt.Sprintf("goCmp %T", a))
}

func randVals(r *rand.Rand, typ arrow.DataType, n int, nullPct int) []any {
	out := make([]any, n)
	for i := range out {
		if r.Intn(100) < nullPct {
			continue
		}
		switch typ.ID() {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIMESTAMP:
			out[i] = int64(r.Intn(7) - 3)
		case arrow.FLOAT64:
			out[i] = float64(r.Intn(7)-3) / 2
			switch r.Intn(10) {
			case 0:
				out[i] = math.NaN()
			case 1:
				out[i] = math.Inf(1 - 2*r.Intn(2))
			}
		case arrow.DECIMAL128:
			out[i] = dec(r.Intn(7) - 3)
			if p, _ := types.DecimalParams(typ); p > 18 && r.Intn(3) == 0 {
				// Beyond 64 bits: the kernels compare the high words first.
				his := []int64{-2, -1, 0, 1}
				los := []uint64{0, 1, 1 << 63, math.MaxUint64}
				out[i] = decimal128.New(his[r.Intn(len(his))], los[r.Intn(len(los))])
			}
		case arrow.STRING:
			out[i] = []string{"", "a", "ab", "b", "abc", "ß"}[r.Intn(6)]
		case arrow.BOOL:
			out[i] = r.Intn(2) == 1
		}
	}
	return out
}

func TestCompareAgainstReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	typs := []arrow.DataType{types.Int8, types.Int16, tI32, tI64, tF64, types.Decimal(15, 2), types.Decimal(38, 2), tStr, tDate, tTS, tBool}
	ops := []string{"=", "<>", "<", "<=", ">", ">="}
	for _, typ := range typs {
		for _, n := range batchSizes {
			for _, offset := range []int{0, 3} {
				t.Run(fmt.Sprintf("%s/n=%d/off=%d", types.TypeName(typ), n, offset), func(t *testing.T) {
					mem := newMem(t)
					lv, rv := randVals(r, typ, n, 20), randVals(r, typ, n, 20)
					rb := mkBatch(t, mem, offset, colSpec{typ, lv}, colSpec{typ, rv})
					defer rb.Release()
					scalar := randVals(r, typ, 1, 0)[0]
					for _, op := range ops {
						e := must[exec.Expr](t)(Compare(op, Col(0, typ, "l"), Col(1, typ, "r")))
						got := must[[]any](t)(evalAny(t, mem, e, rb))
						want := make([]any, n)
						for i := range want {
							if lv[i] != nil && rv[i] != nil {
								want[i] = refCmp(op, goCmp(lv[i], rv[i]))
							}
						}
						mustEqual(t, e.String(), got, want)
						// column op literal and literal op column
						lit := must[exec.Expr](t)(Lit(litValue(typ, scalar), typ))
						e1 := must[exec.Expr](t)(Compare(op, Col(0, typ, "l"), lit))
						e2 := must[exec.Expr](t)(Compare(op, lit, Col(0, typ, "l")))
						got1 := must[[]any](t)(evalAny(t, mem, e1, rb))
						got2 := must[[]any](t)(evalAny(t, mem, e2, rb))
						w1, w2 := make([]any, n), make([]any, n)
						for i := range w1 {
							if lv[i] != nil {
								w1[i] = refCmp(op, goCmp(lv[i], scalar))
								w2[i] = refCmp(op, goCmp(scalar, lv[i]))
							}
						}
						mustEqual(t, e1.String(), got1, w1)
						mustEqual(t, e2.String(), got2, w2)
					}
				})
			}
		}
	}
}

// bigOf is the unscaled value of a test decimal (dec or decimal128.Num).
func bigOf(v any) *big.Int {
	if d, ok := v.(dec); ok {
		return big.NewInt(int64(d))
	}
	return v.(decimal128.Num).BigInt()
}

// litValue converts a test value into Lit's conventions.
func litValue(typ arrow.DataType, v any) any {
	switch typ.ID() {
	case arrow.DATE32:
		return arrow.Date32(v.(int64))
	case arrow.TIMESTAMP:
		return arrow.Timestamp(v.(int64))
	case arrow.DECIMAL128:
		// Lit reads a Go integer as a whole number and scales it; the
		// test's dec is already the unscaled value.
		if d, ok := v.(dec); ok {
			return decFromI64(int64(d))
		}
	}
	return v
}

func TestCompareDecimalLiteralAndDistinct(t *testing.T) {
	mem := newMem(t)
	d := types.Decimal(15, 2)
	rb := mkBatch(t, mem, 2, colSpec{d, []any{dec(5), dec(-7), nil, dec(6)}}, colSpec{d, []any{dec(5), nil, nil, dec(1)}})
	defer rb.Release()
	lit := must[exec.Expr](t)(Lit(decFromI64(5), d))
	e := must[exec.Expr](t)(Compare("<=", Col(0, d, "a"), lit))
	mustEqual(t, "a<=0.05", must[[]any](t)(evalAny(t, mem, e, rb)), []any{true, true, nil, false})
	e = must[exec.Expr](t)(Compare("is distinct from", Col(0, d, "a"), Col(1, d, "b")))
	mustEqual(t, "distinct", must[[]any](t)(evalAny(t, mem, e, rb)), []any{false, true, false, true})
	e = must[exec.Expr](t)(Compare("is not distinct from", Col(0, d, "a"), Col(1, d, "b")))
	mustEqual(t, "not distinct", must[[]any](t)(evalAny(t, mem, e, rb)), []any{true, false, true, false})
	null := must[exec.Expr](t)(Lit(nil, d))
	e = must[exec.Expr](t)(Compare("is distinct from", Col(0, d, "a"), null))
	mustEqual(t, "distinct null", must[[]any](t)(evalAny(t, mem, e, rb)), []any{true, true, false, true})
	e = must[exec.Expr](t)(Compare("=", Col(0, d, "a"), null))
	mustEqual(t, "= null", must[[]any](t)(evalAny(t, mem, e, rb)), []any{nil, nil, nil, nil})
	// A value above 2^64 compares by its high word.
	big := decimal128.New(1, 0)
	lit = must[exec.Expr](t)(Lit(big, types.Decimal(38, 2)))
	rb2 := mkBatch(t, mem, 0, colSpec{types.Decimal(38, 2), []any{dec(-1), big, decimal128.New(1, 1)}})
	defer rb2.Release()
	e = must[exec.Expr](t)(Compare("<", Col(0, types.Decimal(38, 2), "x"), lit))
	mustEqual(t, "big", must[[]any](t)(evalAny(t, mem, e, rb2)), []any{true, false, false})
}

func TestCompareErrors(t *testing.T) {
	if _, err := Compare("=", Col(0, tI64, "a"), Col(1, tStr, "b")); err == nil || !strings.Contains(err.Error(), "VARCHAR") {
		t.Fatalf("want type error naming VARCHAR, got %v", err)
	}
	if _, err := Compare("~", Col(0, tI64, "a"), Col(1, tI64, "b")); err == nil {
		t.Fatal("want unknown operator error")
	}
}
