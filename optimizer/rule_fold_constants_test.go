package optimizer

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

func TestFoldExpr(t *testing.T) {
	b := newBuilder(t)
	li := b.scan("lineitem", "")
	qty := b.col(li, "l_quantity")
	flag := bin(plan.OpEq, b.col(li, "l_returnflag"), str("R"))
	dec152 := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	dec173 := &arrow.Decimal128Type{Precision: 17, Scale: 3}
	interval := func(m, d int32) *plan.Literal {
		return &plan.Literal{Value: arrow.MonthDayNanoInterval{Months: m, Days: d}, Typ: arrow.FixedWidthTypes.MonthDayNanoInterval}
	}
	dateT := arrow.FixedWidthTypes.Date32
	tests := []struct {
		name string
		in   plan.Expr
		want string // String() of the folded expression
	}{
		{"int add", bin(plan.OpAdd, i64(2), i64(3)), "5"},
		{"int mul", bin(plan.OpMul, i64(-4), i64(3)), "-12"},
		{"int div by zero stays", bin(plan.OpDiv, i64(1), i64(0)), "(1 / 0)"},
		{"int overflow stays", bin(plan.OpAdd, i64(1<<62), i64(1<<62)), "(4611686018427387904 + 4611686018427387904)"},
		{"float div", &plan.Binary{Op: plan.OpDiv, L: &plan.Literal{Value: 1.0, Typ: arrow.PrimitiveTypes.Float64}, R: &plan.Literal{Value: 4.0, Typ: arrow.PrimitiveTypes.Float64}, Typ: arrow.PrimitiveTypes.Float64}, "0.25"},
		// 0.05 + 0.010 at scale 3 = 0.060
		{"decimal add rescales", &plan.Binary{Op: plan.OpAdd, L: dec(5, 15, 2), R: dec(10, 15, 3), Typ: dec173}, "0.060"},
		// 0.06 - 0.01 = 0.05 (TPC-H Q6 discount bounds)
		{"decimal sub", &plan.Binary{Op: plan.OpSub, L: dec(6, 15, 2), R: dec(1, 15, 2), Typ: dec152}, "0.05"},
		// 1.50 * 0.2 = 0.300 (scale 2+1)
		{"decimal mul", &plan.Binary{Op: plan.OpMul, L: dec(150, 15, 2), R: dec(2, 2, 1), Typ: &arrow.Decimal128Type{Precision: 17, Scale: 3}}, "0.300"},
		{"cast int to decimal", &plan.Cast{E: i64(24), To: dec152}, "24.00"},
		{"cast string to date", &plan.Cast{E: str("1994-01-01"), To: dateT}, "DATE '1994-01-01'"},
		{"date plus 1 year", &plan.Binary{Op: plan.OpAdd, L: date("1994-01-01"), R: interval(12, 0), Typ: dateT}, "DATE '1995-01-01'"},
		{"date minus 90 days", &plan.Binary{Op: plan.OpSub, L: date("1998-12-01"), R: interval(0, 90), Typ: dateT}, "DATE '1998-09-02'"},
		{"date plus month clamps", &plan.Binary{Op: plan.OpAdd, L: date("1995-01-31"), R: interval(1, 0), Typ: dateT}, "DATE '1995-02-28'"},
		{"date minus 3 months across year", &plan.Binary{Op: plan.OpSub, L: date("1995-02-15"), R: interval(3, 0), Typ: dateT}, "DATE '1994-11-15'"},
		{"compare ints", bin(plan.OpLt, i64(1), i64(2)), "true"},
		{"compare strings", bin(plan.OpEq, str("a"), str("b")), "false"},
		{"compare dates", bin(plan.OpGtEq, date("1995-03-15"), date("1995-03-15")), "true"},
		{"compare with null", bin(plan.OpEq, i64(1), &plan.Literal{Typ: arrow.PrimitiveTypes.Int64}), "NULL"},
		{"null is not distinct from null", bin(plan.OpIsNotDistinct, &plan.Literal{Typ: arrow.PrimitiveTypes.Int64}, &plan.Literal{Typ: arrow.PrimitiveTypes.Int64}), "true"},
		{"x and true", bin(plan.OpAnd, flag, boolLit(true)), flag.String()},
		{"true and x", bin(plan.OpAnd, boolLit(true), flag), flag.String()},
		{"false and x", bin(plan.OpAnd, boolLit(false), flag), "false"},
		{"x and null stays", bin(plan.OpAnd, flag, boolLit(nil)), "(" + flag.String() + " AND NULL)"},
		{"null and false", bin(plan.OpAnd, boolLit(nil), boolLit(false)), "false"},
		{"x or true", bin(plan.OpOr, flag, boolLit(true)), "true"},
		{"x or false", bin(plan.OpOr, flag, boolLit(false)), flag.String()},
		{"not null", &plan.Unary{Op: plan.OpNot, E: boolLit(nil)}, "NULL"},
		{"is null", &plan.Unary{Op: plan.OpIsNull, E: i64(3)}, "false"},
		{"negate decimal", &plan.Unary{Op: plan.OpNeg, E: dec(5, 15, 2)}, "-0.05"},
		{"in list hit", &plan.InList{E: i64(3), List: []*plan.Literal{i64(1), i64(3)}}, "true"},
		{"in list miss with null", &plan.InList{E: i64(3), List: []*plan.Literal{i64(1), {Typ: arrow.PrimitiveTypes.Int64}}}, "NULL"},
		{"case true arm", &plan.Case{Whens: []plan.When{{Cond: boolLit(false), Value: i64(1)}, {Cond: boolLit(true), Value: i64(2)}}, Else: i64(3), Typ: arrow.PrimitiveTypes.Int64}, "2"},
		{"nested folds inside column expr", bin(plan.OpLt, qty, &plan.Cast{E: bin(plan.OpAdd, i64(20), i64(4)), To: dec152}), "(" + qty.String() + " < 24.00)"},
		{"column expr untouched", bin(plan.OpAdd, qty, qty), "(" + qty.String() + " + " + qty.String() + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FoldExpr(tc.in).String(); got != tc.want {
				t.Errorf("FoldExpr(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestFoldConstantsRule(t *testing.T) {
	b := newBuilder(t)
	li := b.scan("lineitem", "")
	flag := bin(plan.OpEq, b.col(li, "l_returnflag"), str("R"))

	// Fires: Filter(TRUE AND TRUE) disappears; x AND (1 < 2) → x.
	n := filter(filter(li, boolLit(true), bin(plan.OpLt, i64(1), i64(2))), flag, bin(plan.OpLt, i64(1), i64(2)))
	out, trace, err := Apply(n, b.ids, FoldConstants{})
	if err != nil {
		t.Fatal(err)
	}
	want := "Filter " + flag.String() + "\n  Scan lineitem [" + scanNames(li) + "]\n"
	if !fired(trace, "fold_constants") || plan.Format(out) != want {
		t.Errorf("got trace %v plan\n%s\nwant\n%s", trace, plan.Format(out), want)
	}

	// Does not fire: nothing constant.
	n2 := filter(li, flag)
	out2, trace2, _ := Apply(n2, b.ids, FoldConstants{})
	if len(trace2) != 0 || out2 != plan.Node(n2) {
		t.Errorf("rule fired on a plan without constants: %v", trace2)
	}
}

func scanNames(s *plan.Scan) string {
	out := ""
	for i, c := range s.Out {
		if i > 0 {
			out += ", "
		}
		out += c.Name
	}
	return out
}
