package binder

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/plan"
)

func TestConvertLiteral(t *testing.T) {
	i8 := arrow.PrimitiveTypes.Int8
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	cases := []struct {
		v        any
		from, to arrow.DataType
		want     any
		exact    bool
		err      bool
	}{
		{int64(24), i32, tMoney, decimal128.FromI64(2400), true, false},
		{int64(127), i32, i8, int64(127), true, false},
		{int64(128), i32, i8, nil, false, true},
		{int64(3000000000), i64, i32, nil, false, true},
		{decimal128.FromI64(125), dec(3, 2), dec(2, 1), decimal128.FromI64(13), false, false},   // 1.25 → 1.3 (half away from zero)
		{decimal128.FromI64(-125), dec(3, 2), dec(2, 1), decimal128.FromI64(-13), false, false}, // -1.25 → -1.3
		{decimal128.FromI64(120), dec(3, 2), dec(2, 1), decimal128.FromI64(12), true, false},
		{decimal128.FromI64(99999), dec(5, 2), dec(4, 2), nil, false, true}, // 999.99 does not fit (4,2)
		{decimal128.FromI64(250), dec(3, 2), i32, int64(3), false, false},   // 2.50 → 3
		{decimal128.FromI64(5), dec(1, 0), f64, float64(5), true, false},
		{int64(1) << 60, i64, f64, float64(int64(1) << 60), false, false},
		{"1995-03-15", tStr, tDate, days(1995, 3, 15), true, false},
		{"1995-02-30", tStr, tDate, nil, false, true},
		{"abc", tStr, i32, nil, false, true},
		{"12.345", tStr, dec(5, 2), decimal128.FromI64(1235), false, false},
		{"yes", tStr, bl, true, true, false},
		{days(1970, 1, 2), tDate, ts, arrow.Timestamp(86400000000), true, false},
		{arrow.Timestamp(86400000001), ts, tDate, days(1970, 1, 2), false, false},
		{int64(42), i32, tStr, "42", true, false},
		{decimal128.FromI64(-5), dec(3, 2), tStr, "-0.05", true, false},
		{nil, arrow.Null, tDate, nil, true, false},
		{days(2000, 1, 1), tDate, i32, nil, false, true},
	}
	for i, c := range cases {
		got, exact, err := convertLiteral(c.v, c.from, c.to)
		if c.err {
			if err == nil {
				t.Errorf("%d: %v %v→%v: want error, got %v", i, c.v, c.from, c.to, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%d: %v %v→%v: %v", i, c.v, c.from, c.to, err)
			continue
		}
		if got != c.want || exact != c.exact {
			t.Errorf("%d: %v %v→%v = %v (%T) exact=%v, want %v exact=%v", i, c.v, c.from, c.to, got, got, exact, c.want, c.exact)
		}
	}
}

func TestFoldArith(t *testing.T) {
	iv := func(m, d int32) *plan.Literal {
		return lit(arrow.MonthDayNanoInterval{Months: m, Days: d}, arrow.FixedWidthTypes.MonthDayNanoInterval)
	}
	date := func(y, m, d int) *plan.Literal { return lit(days(y, m, d), tDate) }
	cases := []struct {
		op   string
		l, r *plan.Literal
		res  arrow.DataType
		want any
		ok   bool
	}{
		{"-", date(1998, 12, 1), iv(0, 90), tDate, days(1998, 9, 2), true},
		{"+", date(1993, 7, 1), iv(3, 0), tDate, days(1993, 10, 1), true},
		{"+", date(2023, 1, 31), iv(1, 0), tDate, days(2023, 2, 28), true},
		{"+", date(2024, 1, 31), iv(1, 0), tDate, days(2024, 2, 29), true},
		{"-", date(2024, 3, 31), iv(1, 0), tDate, days(2024, 2, 29), true},
		{"+", date(1994, 1, 1), iv(12, 0), tDate, days(1995, 1, 1), true},
		{"+", iv(0, 1), date(1999, 12, 31), tDate, days(2000, 1, 1), true},
		{"-", date(2000, 3, 1), date(2000, 2, 1), i64, int64(29), true},
		{"+", lit(int64(1), i64), lit(int64(2), i64), i64, int64(3), true},
		{"*", lit(int64(1)<<62, i64), lit(int64(4), i64), i64, nil, false}, // overflow left to run time
		{"/", lit(1.0, f64), lit(0.0, f64), f64, nil, false},
		{"+", lit(decimal128.FromI64(1), dec(1, 1)), lit(decimal128.FromI64(2), dec(1, 1)), dec(2, 1), decimal128.FromI64(3), true},
		{"-", lit(decimal128.FromI64(6), dec(2, 2)), lit(decimal128.FromI64(1), dec(2, 2)), dec(3, 2), decimal128.FromI64(5), true},
		{"*", lit(decimal128.FromI64(15), dec(2, 1)), lit(decimal128.FromI64(3), dec(1, 0)), dec(3, 1), decimal128.FromI64(45), true},
		{"+", lit(nil, i64), lit(int64(2), i64), i64, nil, true},
	}
	for i, c := range cases {
		got, ok := foldArith(c.op, c.l, c.r, c.res)
		if ok != c.ok {
			t.Errorf("%d: ok=%v, want %v", i, ok, c.ok)
			continue
		}
		if ok && (got.Value != c.want || !arrow.TypeEqual(got.Typ, c.res)) {
			t.Errorf("%d: %v %s %v = %v (%v), want %v", i, c.l, c.op, c.r, got.Value, got.Typ, c.want)
		}
	}
}

func TestIntLiteral(t *testing.T) {
	for _, c := range []struct {
		text string
		typ  arrow.DataType
	}{
		{"0", i32}, {"2147483647", i32}, {"2147483648", i64}, {"9223372036854775807", i64},
		{"9223372036854775808", dec(38, 0)},
	} {
		l, err := intLiteral(c.text)
		if err != nil || !arrow.TypeEqual(l.Typ, c.typ) {
			t.Errorf("%s: %v %v, want %v", c.text, l, err, c.typ)
			continue
		}
		if v, ok := l.Value.(int64); ok && strconv.FormatInt(v, 10) != c.text {
			t.Errorf("%s: value %d", c.text, v)
		}
	}
	if _, err := intLiteral(strings.Repeat("9", 40)); err == nil {
		t.Error("40-digit integer must be rejected")
	}
}

// The binder sits between the parser and the optimizer: it may import the
// AST, the parser (for error rendering), plan and types, never execution,
// optimizer or physical packages.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/flint-engine/flint/plan":       true,
		"github.com/flint-engine/flint/types":      true,
		"github.com/flint-engine/flint/sql/ast":    true,
		"github.com/flint-engine/flint/sql/parser": true,
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/flint-engine/flint/") && !allowed[p] {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
