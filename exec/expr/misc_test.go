package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

func lit(t *testing.T, v any, typ arrow.DataType) exec.Expr { return must[exec.Expr](t)(Lit(v, typ)) }

func TestCase(t *testing.T) {
	for _, typ := range []arrow.DataType{tI64, tStr, types.Decimal(10, 2), tBool} {
		t.Run(types.TypeName(typ), func(t *testing.T) {
			mem := newMem(t)
			x := []any{int64(1), int64(5), nil, int64(10), int64(-1)}
			val := func(i int64) any {
				switch typ.ID() {
				case arrow.STRING:
					return fmt.Sprint("v", i)
				case arrow.DECIMAL64, arrow.DECIMAL128:
					return dec(i)
				case arrow.BOOL:
					return i%2 == 0
				}
				return i
			}
			litv := func(i int64) any {
				if types.IsDecimal(typ) {
					return decFromI64(i)
				}
				return val(i)
			}
			vals := []any{val(1), val(2), val(3), nil, val(5)}
			rb := mkBatch(t, mem, 1, colSpec{tI64, x}, colSpec{typ, vals})
			defer rb.Release()
			cx := Col(0, tI64, "x")
			// CASE WHEN x < 3 THEN v WHEN x < 8 THEN <lit 100> ELSE NULL END
			c1 := must[exec.Expr](t)(Compare("<", cx, lit(t, 3, tI64)))
			c2 := must[exec.Expr](t)(Compare("<", cx, lit(t, 8, tI64)))
			e := must[exec.Expr](t)(Case([]When{{c1, Col(1, typ, "v")}, {c2, lit(t, litv(100), typ)}}, nil, typ))
			mustEqual(t, e.String(), must[[]any](t)(evalAny(t, mem, e, rb)), []any{val(1), val(100), nil, nil, val(5)})
			e = must[exec.Expr](t)(Case([]When{{c1, Col(1, typ, "v")}}, lit(t, litv(7), typ), typ))
			mustEqual(t, e.String(), must[[]any](t)(evalAny(t, mem, e, rb)), []any{val(1), val(7), val(7), val(7), val(5)})
		})
	}
	if _, err := Case([]When{{Col(0, tI64, "x"), Col(0, tI64, "x")}}, nil, tI64); err == nil {
		t.Fatal("non-boolean condition should fail")
	}
}

func TestInList(t *testing.T) {
	mem := newMem(t)
	x := []any{int64(1), int64(2), nil, int64(4)}
	s := []any{"a", "b", nil, "zz"}
	rb := mkBatch(t, mem, 2, colSpec{tI64, x}, colSpec{tStr, s})
	defer rb.Release()
	long := []any{}
	for i := 100; i < 120; i++ {
		long = append(long, int64(i))
	}
	cases := []struct {
		e    exec.Expr
		want []any
	}{
		{must[exec.Expr](t)(InList(Col(0, tI64, "x"), []any{int64(1), int64(4)}, false)), []any{true, false, nil, true}},
		{must[exec.Expr](t)(InList(Col(0, tI64, "x"), []any{int64(1), nil}, false)), []any{true, nil, nil, nil}},
		{must[exec.Expr](t)(InList(Col(0, tI64, "x"), []any{int64(1), nil}, true)), []any{false, nil, nil, nil}},
		{must[exec.Expr](t)(InList(Col(0, tI64, "x"), []any{int64(1)}, true)), []any{false, true, nil, true}},
		{must[exec.Expr](t)(InList(Col(0, tI64, "x"), append(long, int64(2)), false)), []any{false, true, nil, false}},
		{must[exec.Expr](t)(InList(Col(1, tStr, "s"), []any{"zz", "b"}, false)), []any{false, true, nil, true}},
	}
	for _, c := range cases {
		mustEqual(t, c.e.String(), must[[]any](t)(evalAny(t, mem, c.e, rb)), c.want)
	}
	if _, err := InList(Col(0, tI64, "x"), []any{"a"}, false); err == nil {
		t.Fatal("string in BIGINT list should fail")
	}
}

// refLike is a slow recursive reference for LIKE on runes.
func refLike(s, p []rune) bool {
	if len(p) == 0 {
		return len(s) == 0
	}
	switch p[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if refLike(s[i:], p[1:]) {
				return true
			}
		}
		return false
	case '_':
		return len(s) > 0 && refLike(s[1:], p[1:])
	}
	return len(s) > 0 && s[0] == p[0] && refLike(s[1:], p[1:])
}

func TestLike(t *testing.T) {
	strs := []any{"", "a", "abc", "abcabc", "xabcx", "aXc", "ab", "special%", "ünïcode", "PROMO brushed", nil}
	patterns := []string{"", "%", "abc", "a%", "%c", "%bc%", "a_c", "_", "__", "a%c", "%a%c%", "a%b%c", "%ab%ab%", "ü%", "_nïcode", "%_%", "a_%_c", "PROMO%"}
	mem := newMem(t)
	rb := mkBatch(t, mem, 1, colSpec{tStr, strs})
	defer rb.Release()
	for _, p := range patterns {
		for _, neg := range []bool{false, true} {
			e := must[exec.Expr](t)(Like(Col(0, tStr, "s"), p, 0, neg, false))
			want := make([]any, len(strs))
			for i, s := range strs {
				if s != nil {
					want[i] = refLike([]rune(s.(string)), []rune(p)) != neg
				}
			}
			mustEqual(t, e.String(), must[[]any](t)(evalAny(t, mem, e, rb)), want)
		}
	}
	// Escapes: '\%' matches a literal percent.
	e := must[exec.Expr](t)(Like(Col(0, tStr, "s"), `%\%`, '\\', false, false))
	got := must[[]any](t)(evalAny(t, mem, e, rb))
	if got[7] != true || got[2] != false {
		t.Fatalf("escape: %v", got)
	}
	e = must[exec.Expr](t)(Like(Col(0, tStr, "s"), "promo%", 0, false, true))
	got = must[[]any](t)(evalAny(t, mem, e, rb))
	if got[9] != true || got[1] != false {
		t.Fatalf("ilike: %v", got)
	}
	if _, err := Like(Col(0, tStr, "s"), `ab\`, '\\', false, false); err == nil {
		t.Fatal("trailing escape should fail")
	}
	if _, err := Like(Col(0, tI64, "i"), "a", 0, false, false); err == nil || !strings.Contains(err.Error(), "VARCHAR") {
		t.Fatalf("LIKE on BIGINT: %v", err)
	}
}

func TestEmptyBatchAndNullColumns(t *testing.T) {
	mem := newMem(t)
	d := types.Decimal(10, 2)
	exprs := func(c0, c1, c2, c3 exec.Expr) []exec.Expr {
		return []exec.Expr{
			must[exec.Expr](t)(Compare("<", c0, lit(t, 3, tI64))),
			must[exec.Expr](t)(Compare("=", c1, lit(t, "x", tStr))),
			must[exec.Expr](t)(Arith("*", c2, c2, nil)),
			must[exec.Expr](t)(Arith("+", c0, lit(t, 1, tI64), nil)),
			And(c3, Not(c3)),
			must[exec.Expr](t)(Like(c1, "a%b_", 0, false, false)),
			must[exec.Expr](t)(Cast(c1, tI64)),
			must[exec.Expr](t)(Cast(c2, tStr)),
			must[exec.Expr](t)(Call("upper", []exec.Expr{c1})),
			must[exec.Expr](t)(Call("coalesce", []exec.Expr{c0, lit(t, 0, tI64)})),
			must[exec.Expr](t)(InList(c1, []any{"a", nil}, false)),
			must[exec.Expr](t)(Case([]When{{c3, c0}}, nil, tI64)),
		}
	}
	// Zero rows.
	rb := mkBatch(t, mem, 0, colSpec{tI64, []any{}}, colSpec{tStr, []any{}}, colSpec{d, []any{}}, colSpec{tBool, []any{}})
	for _, e := range exprs(Col(0, tI64, "i"), Col(1, tStr, "s"), Col(2, d, "d"), Col(3, tBool, "b")) {
		got := must[[]any](t)(evalAny(t, mem, e, rb))
		if len(got) != 0 {
			t.Fatalf("%s: %d rows from an empty batch", e, len(got))
		}
	}
	rb.Release()
	// All-NULL columns.
	rb = mkBatch(t, mem, 1, colSpec{tI64, []any{nil, nil}}, colSpec{tStr, []any{nil, nil}}, colSpec{d, []any{nil, nil}}, colSpec{tBool, []any{nil, nil}})
	defer rb.Release()
	for i, e := range exprs(Col(0, tI64, "i"), Col(1, tStr, "s"), Col(2, d, "d"), Col(3, tBool, "b")) {
		got := must[[]any](t)(evalAny(t, mem, e, rb))
		want := []any{nil, nil}
		if i == 9 {
			want = []any{int64(0), int64(0)}
		}
		mustEqual(t, e.String(), got, want)
	}
}

func TestNullTypedOperands(t *testing.T) {
	mem := newMem(t)
	rb := mkBatch(t, mem, 0, colSpec{tI64, []any{int64(1), nil}})
	defer rb.Release()
	null := lit(t, nil, arrow.Null)
	for _, e := range []exec.Expr{
		Neg(null),
		Not(null),
		must[exec.Expr](t)(Cast(null, tI64)),
		must[exec.Expr](t)(Compare("=", Col(0, tI64, "x"), null)),
		must[exec.Expr](t)(Arith("+", Col(0, tI64, "x"), null, nil)),
		must[exec.Expr](t)(Call("upper", []exec.Expr{null})),
	} {
		mustEqual(t, e.String(), must[[]any](t)(evalAny(t, mem, e, rb)), []any{nil, nil})
	}
}

func TestLiteralValueRoundTrip(t *testing.T) {
	d, _ := types.ParseDate("1998-12-01")
	cases := []struct {
		v   any
		typ arrow.DataType
	}{
		{int64(7), tI64}, {3.5, tF64}, {"x", tStr}, {true, tBool}, {d, tDate},
		{arrow.Timestamp(5), tTS}, {decFromI64(-12), types.Decimal(5, 2)},
		{arrow.MonthDayNanoInterval{Months: 1}, tIv}, {nil, tI32},
	}
	for _, c := range cases {
		got, ok := LiteralValue(lit(t, c.v, c.typ))
		if !ok || got != c.v {
			t.Errorf("LiteralValue(Lit(%v)) = %v, %v", c.v, got, ok)
		}
	}
	if _, ok := LiteralValue(Col(0, tI64, "x")); ok {
		t.Error("a column is not a literal")
	}
	// Folded expressions are literals too.
	e := must[exec.Expr](t)(Arith("-", lit(t, d, tDate), lit(t, arrow.MonthDayNanoInterval{Days: 90}, tIv), nil))
	if v, ok := LiteralValue(e); !ok || v != arrow.Timestamp((int64(d)-90)*types.MicrosPerDay) {
		t.Errorf("date - 90 days folded to %v, %v", v, ok)
	}
}
