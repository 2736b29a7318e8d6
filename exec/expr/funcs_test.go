package expr

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

func TestFunctions(t *testing.T) {
	mem := newMem(t)
	d := func(s string) int64 { v, _ := types.ParseDate(s); return int64(v) }
	ts := func(s string) int64 { v, _ := types.ParseTimestamp(s); return int64(v) }
	d102 := types.Decimal(10, 2)
	rb := mkBatch(t, mem, 1,
		colSpec{tStr, []any{"Hello", "  pad  ", nil, "ünï", ""}},
		colSpec{tI64, []any{int64(-3), int64(0), int64(7), nil, int64(2)}},
		colSpec{d102, []any{dec(125), dec(-125), dec(-101), nil, dec(0)}},
		colSpec{tDate, []any{d("1998-12-01"), d("2020-02-29"), nil, d("1970-01-01"), d("1969-12-31")}},
		colSpec{tTS, []any{ts("1998-12-01 10:11:12"), nil, ts("2000-01-01 00:00:00"), ts("1970-01-01 23:59:59"), ts("1999-06-15 01:02:03")}},
		colSpec{tStr, []any{nil, "b", "c", nil, "e"}},
		colSpec{tF64, []any{4.0, 2.25, nil, 0.0, 1.0}},
	)
	defer rb.Release()
	s, i, dc, dt, tm, s2, f := Col(0, tStr, "s"), Col(1, tI64, "i"), Col(2, d102, "d"), Col(3, tDate, "dt"), Col(4, tTS, "ts"), Col(5, tStr, "s2"), Col(6, tF64, "f")
	L := func(v any, typ arrow.DataType) exec.Expr { return lit(t, v, typ) }
	cases := []struct {
		name string
		args []exec.Expr
		want []any
	}{
		{"upper", []exec.Expr{s}, []any{"HELLO", "  PAD  ", nil, "ÜNÏ", ""}},
		{"lower", []exec.Expr{s}, []any{"hello", "  pad  ", nil, "ünï", ""}},
		{"length", []exec.Expr{s}, []any{int64(5), int64(7), nil, int64(3), int64(0)}},
		{"trim", []exec.Expr{s}, []any{"Hello", "pad", nil, "ünï", ""}},
		{"ltrim", []exec.Expr{s}, []any{"Hello", "pad  ", nil, "ünï", ""}},
		{"rtrim", []exec.Expr{s, L("o", tStr)}, []any{"Hell", "  pad  ", nil, "ünï", ""}},
		{"substring", []exec.Expr{s, L(2, tI64), L(3, tI64)}, []any{"ell", " pa", nil, "nï", ""}},
		{"substr", []exec.Expr{s, L(2, tI64)}, []any{"ello", " pad  ", nil, "nï", ""}},
		{"substring", []exec.Expr{s, L(-2, tI64), L(5, tI64)}, []any{"lo", "  ", nil, "nï", ""}},
		{"left", []exec.Expr{s, L(2, tI64)}, []any{"He", "  ", nil, "ün", ""}},
		{"right", []exec.Expr{s, L(2, tI64)}, []any{"lo", "  ", nil, "nï", ""}},
		{"reverse", []exec.Expr{s}, []any{"olleH", "  dap  ", nil, "ïnü", ""}},
		{"replace", []exec.Expr{s, L("l", tStr), L("L", tStr)}, []any{"HeLLo", "  pad  ", nil, "ünï", ""}},
		{"strpos", []exec.Expr{s, L("l", tStr)}, []any{int64(3), int64(0), nil, int64(0), int64(0)}},
		{"starts_with", []exec.Expr{s, L("He", tStr)}, []any{true, false, nil, false, false}},
		{"concat", []exec.Expr{s, L("-", tStr), s2}, []any{"Hello-", "  pad  -b", "-c", "ünï-", "-e"}},
		{"concat_op", []exec.Expr{s, s2}, []any{nil, "  pad  b", nil, nil, "e"}},
		{"concat", []exec.Expr{s, i}, []any{"Hello-3", "  pad  0", "7", "ünï", "2"}},
		{"coalesce", []exec.Expr{s2, s, L("z", tStr)}, []any{"Hello", "b", "c", "ünï", "e"}},
		{"coalesce", []exec.Expr{s2, L(nil, arrow.Null)}, []any{nil, "b", "c", nil, "e"}},
		{"nullif", []exec.Expr{i, L(0, tI64)}, []any{int64(-3), nil, int64(7), nil, int64(2)}},
		{"greatest", []exec.Expr{i, L(1, tI64)}, []any{int64(1), int64(1), int64(7), int64(1), int64(2)}},
		{"least", []exec.Expr{s, s2}, []any{"Hello", "  pad  ", "c", "ünï", ""}},
		{"abs", []exec.Expr{i}, []any{int64(3), int64(0), int64(7), nil, int64(2)}},
		{"abs", []exec.Expr{dc}, []any{dec(125), dec(125), dec(101), nil, dec(0)}},
		{"round", []exec.Expr{dc, L(1, tI32)}, []any{dec(13), dec(-13), dec(-10), nil, dec(0)}},
		{"round", []exec.Expr{dc, L(-1, tI32)}, []any{dec(0), dec(0), dec(0), nil, dec(0)}},
		{"round", []exec.Expr{dc, L(5, tI32)}, []any{dec(125), dec(-125), dec(-101), nil, dec(0)}},
		{"round", []exec.Expr{dc}, []any{dec(1), dec(-1), dec(-1), nil, dec(0)}},
		{"floor", []exec.Expr{dc}, []any{dec(1), dec(-2), dec(-2), nil, dec(0)}},
		{"ceil", []exec.Expr{dc}, []any{dec(2), dec(-1), dec(-1), nil, dec(0)}},
		{"round", []exec.Expr{f}, []any{4.0, 2.0, nil, 0.0, 1.0}},
		{"round", []exec.Expr{f, L(1, tI32)}, []any{4.0, 2.3, nil, 0.0, 1.0}},
		{"sqrt", []exec.Expr{f}, []any{2.0, 1.5, nil, 0.0, 1.0}},
		{"power", []exec.Expr{f, L(2.0, tF64)}, []any{16.0, 5.0625, nil, 0.0, 1.0}},
		{"sign", []exec.Expr{i}, []any{int64(-1), int64(0), int64(1), nil, int64(1)}},
		{"year", []exec.Expr{dt}, []any{int64(1998), int64(2020), nil, int64(1970), int64(1969)}},
		{"month", []exec.Expr{dt}, []any{int64(12), int64(2), nil, int64(1), int64(12)}},
		{"day", []exec.Expr{dt}, []any{int64(1), int64(29), nil, int64(1), int64(31)}},
		{"extract", []exec.Expr{L("quarter", tStr), dt}, []any{int64(4), int64(1), nil, int64(1), int64(4)}},
		{"extract", []exec.Expr{L("dow", tStr), dt}, []any{int64(2), int64(6), nil, int64(4), int64(3)}},
		{"extract", []exec.Expr{L("doy", tStr), dt}, []any{int64(335), int64(60), nil, int64(1), int64(365)}},
		{"date_part", []exec.Expr{L("hour", tStr), tm}, []any{int64(10), nil, int64(0), int64(23), int64(1)}},
		{"date_part", []exec.Expr{L("second", tStr), tm}, []any{int64(12), nil, int64(0), int64(59), int64(3)}},
		{"extract", []exec.Expr{L("year", tStr), tm}, []any{int64(1998), nil, int64(2000), int64(1970), int64(1999)}},
		{"extract", []exec.Expr{L("week", tStr), dt}, []any{int64(49), int64(9), nil, int64(1), int64(1)}},
		{"date_trunc", []exec.Expr{L("month", tStr), dt}, []any{ts("1998-12-01"), ts("2020-02-01"), nil, ts("1970-01-01"), ts("1969-12-01")}},
		{"date_diff", []exec.Expr{L("month", tStr), L(d("1998-11-30"), tDate), dt}, []any{int64(1), int64(255), nil, int64(-346), int64(-347)}},
		{"datediff", []exec.Expr{L("year", tStr), dt, L(d("2000-01-01"), tDate)}, []any{int64(2), int64(-20), nil, int64(30), int64(31)}},
		{"date_diff", []exec.Expr{L("day", tStr), dt, dt}, []any{int64(0), int64(0), nil, int64(0), int64(0)}},
		{"date_diff", []exec.Expr{L("hour", tStr), L(ts("1998-12-01 09:59:59"), tTS), tm}, []any{int64(1), nil, int64(9495), int64(-253450), int64(4696)}},
		{"date_trunc", []exec.Expr{L("year", tStr), tm}, []any{ts("1998-01-01"), nil, ts("2000-01-01"), ts("1970-01-01"), ts("1999-01-01")}},
		{"date_trunc", []exec.Expr{L("hour", tStr), tm}, []any{ts("1998-12-01 10:00:00"), nil, ts("2000-01-01"), ts("1970-01-01 23:00:00"), ts("1999-06-15 01:00:00")}},
	}
	for _, c := range cases {
		e, err := Call(c.name, c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		mustEqual(t, e.String(), must[[]any](t)(evalAny(t, mem, e, rb)), c.want)
	}
}

func TestCallErrorsAndFolding(t *testing.T) {
	if _, err := Call("uper", []exec.Expr{Col(0, tStr, "s")}); err == nil || !strings.Contains(err.Error(), "upper") {
		t.Fatalf("want suggestion of upper, got %v", err)
	}
	if _, err := Call("extract", []exec.Expr{Col(0, tStr, "u"), Col(1, tDate, "d")}); err == nil {
		t.Fatal("non-constant extract unit should fail")
	}
	if _, err := Call("extract", []exec.Expr{lit(t, "fortnight", tStr), Col(1, tDate, "d")}); err == nil {
		t.Fatal("unknown unit should fail")
	}
	e := must[exec.Expr](t)(Call("upper", []exec.Expr{lit(t, "abc", tStr)}))
	if l, ok := e.(*literal); !ok || l.str != "ABC" {
		t.Fatalf("upper('abc') not folded: %T %v", e, e)
	}
}
