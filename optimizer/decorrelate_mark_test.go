package optimizer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

func anyq(p plan.Node, e plan.Expr, op plan.BinaryOp, negated bool) *plan.Subquery {
	return &plan.Subquery{Kind: plan.SubAny, Plan: p, E: e, Op: op, Negated: negated, Typ: arrow.FixedWidthTypes.Boolean}
}

func oneJoin(t *testing.T, out plan.Node, typ plan.JoinType) *plan.Join {
	t.Helper()
	js := joinsOfType(out, typ)
	if len(js) != 1 {
		t.Fatalf("want one %s join:\n%s", typ, plan.Format(out))
	}
	return js[0]
}

// topFilter returns the first Filter from the root down through Projects.
func topFilter(t *testing.T, out plan.Node) *plan.Filter {
	t.Helper()
	for {
		switch x := out.(type) {
		case *plan.Filter:
			return x
		case *plan.Project:
			out = x.Input
		default:
			t.Fatalf("no filter on top:\n%s", plan.Format(out))
		}
	}
}

func noJoin(t *testing.T, out plan.Node, types ...plan.JoinType) {
	t.Helper()
	for _, typ := range types {
		if js := joinsOfType(out, typ); len(js) > 0 {
			t.Errorf("unexpected %s join:\n%s", typ, plan.Format(out))
		}
	}
}

// EXISTS under OR: a mark join on the correlation, its mark in the OR.
func TestDecorrelateMarkExistsUnderOr(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	corr := eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))
	local := bin(plan.OpLt, b.col(li, "l_commitdate"), b.col(li, "l_receiptdate"))
	ex := subq(plan.SubExists, project(filter(li, corr, local), b.col(li, "l_comment")), nil, false)
	n := filter(o, plan.Or(ex, eq(b.col(o, "o_orderstatus"), str("F"))))
	out := decorrelate(t, b, n)
	noJoin(t, out, plan.JoinSemi, plan.JoinAnti)
	j := oneJoin(t, out, plan.JoinMark)
	if j.Cond == nil || j.Cond.String() != corr.String() || j.MarkCond != nil || j.Mark.Nullable {
		t.Errorf("mark join %s: want cond %s, no mark condition, non-nullable mark", j, corr)
	}
	if f, ok := j.Right.(*plan.Filter); !ok || f.Cond.String() != local.String() {
		t.Errorf("the local predicate should stay in the subquery side:\n%s", plan.Format(j.Right))
	}
	if f := topFilter(t, out); !strings.HasPrefix(f.Cond.String(), "("+j.Mark.Ref().String()+" OR ") {
		t.Errorf("the filter should read the mark:\n%s", plan.Format(out))
	}
	if len(out.Schema()) != len(o.Schema()) {
		t.Errorf("the mark column leaks into the output: %s", out.Schema())
	}
}

// IN and NOT IN inside expressions: the mark condition is x = y, the
// negation wraps the mark, and the mark is nullable exactly when a side
// may be NULL.
func TestDecorrelateMarkIn(t *testing.T) {
	for _, nulls := range []bool{false, true} {
		b := newBuilder(t)
		c := b.scan("customer", "")
		o := b.scan("orders", "")
		if nulls {
			o = nullableScan(o)
		}
		in := subq(plan.SubIn, project(o, b.col(o, "o_custkey")), b.col(c, "c_custkey"), true)
		val := b.ids.NewColumn("v", "", arrow.FixedWidthTypes.Boolean, true)
		n := &plan.Project{Input: c, Projections: []plan.Expr{b.col(c, "c_custkey"), in},
			Out: plan.Schema{c.Out[0], val}}
		out := decorrelate(t, b, n)
		j := oneJoin(t, out, plan.JoinMark)
		want := eq(b.col(c, "c_custkey"), b.col(o, "o_custkey")).String()
		if j.Cond != nil || j.MarkCond == nil || j.MarkCond.String() != want || j.Mark.Nullable != nulls {
			t.Errorf("nulls=%v: mark join %s, want mark condition %s, nullable %v", nulls, j, want, nulls)
		}
		p := out.(*plan.Project)
		if got := p.Projections[1].String(); got != "(NOT "+j.Mark.Ref().String()+")" {
			t.Errorf("NOT IN should be NOT mark, got %s", got)
		}
	}
}

// A correlated IN in a CASE: correlation in the condition, x = y in the
// mark condition.
func TestDecorrelateMarkCorrelatedInCase(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	corr := eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))
	in := subq(plan.SubIn, project(filter(li, corr), b.col(li, "l_partkey")), b.col(o, "o_custkey"), false)
	cs := &plan.Case{Whens: []plan.When{{Cond: in, Value: i64(1)}}, Else: i64(0), Typ: arrow.PrimitiveTypes.Int64}
	val := b.ids.NewColumn("v", "", arrow.PrimitiveTypes.Int64, false)
	out := decorrelate(t, b, &plan.Project{Input: o, Projections: []plan.Expr{cs}, Out: plan.Schema{val}})
	j := oneJoin(t, out, plan.JoinMark)
	if j.Cond == nil || j.Cond.String() != corr.String() || j.MarkCond.String() != eq(b.col(o, "o_custkey"), b.col(li, "l_partkey")).String() {
		t.Errorf("mark join %s", j)
	}
}

// WHERE conjuncts keep their semi and anti joins: no mark join.
func TestDecorrelateMarkNotForConjuncts(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	ex := subq(plan.SubExists, filter(li, eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))), nil, false)
	in := subq(plan.SubIn, project(li, b.col(li, "l_partkey")), b.col(o, "o_custkey"), true)
	out := decorrelate(t, b, filter(o, ex, in, eq(b.col(o, "o_orderstatus"), str("F"))))
	noJoin(t, out, plan.JoinMark)
	oneJoin(t, out, plan.JoinSemi)
	oneJoin(t, out, plan.JoinAnti)
}

// x op ANY: one aggregate of the subquery (count(*), count(y), the
// extreme), Left-joined; no mark join.
func TestDecorrelateAnyAggregate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		op         plan.BinaryOp
		correlated bool
		negated    bool
		want       []string
		wantNot    []string
	}{
		{"uncorrelated >", plan.OpGt, false, false, []string{"min(ps_supplycost#", "(count_star()#", " = 0) THEN false", "(p_retailprice#"}, []string{"max(", "NOT CASE"}},
		{"uncorrelated <=", plan.OpLtEq, false, false, []string{"max(ps_supplycost#", "<= max(ps_supplycost)#"}, []string{"min("}},
		{"<> uses both extremes", plan.OpNotEq, false, false, []string{"min(ps_supplycost#", "max(ps_supplycost#", " <> min(", " <> max("}, nil},
		{"ALL is a negated ANY", plan.OpLt, false, true, []string{"NOT CASE WHEN", "max(ps_supplycost#"}, nil},
		{"correlated", plan.OpGtEq, true, false, []string{"Aggregate group=[ps_partkey#", "IS NULL) THEN false", "Join Left on (p_partkey#"}, []string{" = 0) THEN false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(t)
			p := b.scan("part", "")
			ps := b.scan("partsupp", "")
			var in plan.Node = ps
			if tc.correlated {
				in = filter(ps, eq(b.col(ps, "ps_partkey"), b.col(p, "p_partkey")))
			}
			sub := project(in, b.col(ps, "ps_supplycost"))
			q := anyq(sub, b.col(p, "p_retailprice"), tc.op, tc.negated)
			out := decorrelate(t, b, filter(p, plan.Or(q, eq(b.col(p, "p_size"), i64(1)))))
			noJoin(t, out, plan.JoinMark, plan.JoinSemi)
			oneJoin(t, out, plan.JoinLeft)
			s := plan.Format(out)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("want %q in\n%s", w, s)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(s, w) {
					t.Errorf("do not want %q in\n%s", w, s)
				}
			}
		})
	}
}

// Correlated by a non-equality, the aggregate has nothing to group on:
// x op ANY takes a mark join whose mark condition is the comparison.
func TestDecorrelateAnyFallsBackToMark(t *testing.T) {
	b := newBuilder(t)
	p := b.scan("part", "")
	ps := b.scan("partsupp", "")
	corr := bin(plan.OpLt, b.col(ps, "ps_partkey"), b.col(p, "p_partkey"))
	sub := project(filter(ps, corr), b.col(ps, "ps_supplycost"))
	out := decorrelate(t, b, filter(p, anyq(sub, b.col(p, "p_retailprice"), plan.OpGt, true)))
	noJoin(t, out, plan.JoinLeft)
	j := oneJoin(t, out, plan.JoinMark)
	if j.Cond.String() != corr.String() || j.MarkCond.String() != bin(plan.OpGt, b.col(p, "p_retailprice"), b.col(ps, "ps_supplycost")).String() {
		t.Errorf("mark join %s", j)
	}
	if f := topFilter(t, out); f.Cond.String() != "(NOT "+j.Mark.Ref().String()+")" {
		t.Errorf("ALL should filter on NOT mark: %s", f.Cond)
	}
	// A volatile operand would be evaluated several times by the CASE.
	b = newBuilder(t)
	p = b.scan("part", "")
	ps = b.scan("partsupp", "")
	rnd := &plan.Func{Name: "random", Typ: arrow.PrimitiveTypes.Float64}
	sub = project(ps, b.col(ps, "ps_supplycost"))
	out = decorrelate(t, b, filter(p, anyq(sub, &plan.Cast{E: rnd, To: sub.Out[0].Type}, plan.OpGt, false)))
	oneJoin(t, out, plan.JoinMark)
}

// An uncorrelated EXISTS needs only to know whether the subquery has a
// row: count(*) over LIMIT 1.
func TestDecorrelateUncorrelatedExistsCounts(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	ex := subq(plan.SubExists, filter(li, eq(b.col(li, "l_linenumber"), i64(9))), nil, true)
	out := decorrelate(t, b, filter(o, plan.Or(ex, eq(b.col(o, "o_orderstatus"), str("F")))))
	noJoin(t, out, plan.JoinMark)
	j := oneJoin(t, out, plan.JoinLeft)
	s := plan.Format(j.Right)
	if !strings.Contains(s, "aggs=[count(*)]") || !strings.Contains(s, "Limit offset=0 count=1") {
		t.Errorf("want count(*) over LIMIT 1:\n%s", s)
	}
	if c := topFilter(t, out).Cond.String(); !strings.HasPrefix(c, "((NOT (count_star()#") {
		t.Errorf("NOT EXISTS should be NOT (count > 0): %s", c)
	}
}

// Subqueries in aggregate arguments, sort keys and join conditions are
// computed as columns of a Project below (or, over both sides of an inner
// join, in a Filter above).
func TestDecorrelateSubqueryInOtherNodes(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	in := func() plan.Expr {
		return subq(plan.SubIn, project(li, b.col(li, "l_partkey")), b.col(o, "o_custkey"), false)
	}
	cs := &plan.Case{Whens: []plan.When{{Cond: in(), Value: i64(1)}}, Else: i64(0), Typ: arrow.PrimitiveTypes.Int64}
	sum := &plan.AggCall{Func: "sum", Args: []plan.Expr{cs}, Typ: arrow.PrimitiveTypes.Int64}
	out := decorrelate(t, b, b.agg(o, []plan.Expr{in()}, sum))
	if len(joinsOfType(out, plan.JoinMark)) != 2 {
		t.Errorf("want two mark joins below the aggregate:\n%s", plan.Format(out))
	}
	if a, ok := out.(*plan.Aggregate); !ok || hasSubquery(a.Exprs()...) {
		t.Errorf("want the aggregate on top, reading columns:\n%s", plan.Format(out))
	}

	srt := &plan.Sort{Input: o, Keys: []plan.SortKey{{E: in()}}, Limit: -1}
	out = decorrelate(t, b, srt)
	oneJoin(t, out, plan.JoinMark)
	if p, ok := out.(*plan.Project); !ok || len(p.Out) != len(o.Out) {
		t.Errorf("want the sort key projected away again:\n%s", plan.Format(out))
	}

	c := b.scan("customer", "")
	// Over the left input of a left join: computed there, the join keeps
	// every row.
	lj := &plan.Join{Left: o, Right: c, Type: plan.JoinLeft, Cond: plan.And(eq(b.col(o, "o_custkey"), b.col(c, "c_custkey")), in())}
	out = decorrelate(t, b, lj)
	noJoin(t, out, plan.JoinInner)
	j := oneJoin(t, out, plan.JoinLeft)
	oneJoin(t, j.Left, plan.JoinMark)
	// Over both inputs of an inner join: a filter above it.
	both := subq(plan.SubExists, filter(li, eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey")), eq(b.col(li, "l_suppkey"), b.col(c, "c_custkey"))), nil, false)
	ij := &plan.Join{Left: o, Right: c, Type: plan.JoinInner, Cond: plan.And(eq(b.col(o, "o_custkey"), b.col(c, "c_custkey")), plan.Or(both, eq(b.col(o, "o_orderstatus"), str("F"))))}
	out = decorrelate(t, b, ij)
	mj := oneJoin(t, out, plan.JoinMark)
	if inner, ok := mj.Left.(*plan.Join); !ok || inner.Type != plan.JoinInner {
		t.Errorf("want the mark join above the inner join:\n%s", plan.Format(out))
	}
}

// A mark join inside a correlated subquery is pulled through like any
// other join when only its left input is correlated.
func TestDecorrelateMarkInsideCorrelatedSubquery(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	ps := b.scan("partsupp", "")
	inner := subq(plan.SubIn, project(ps, b.col(ps, "ps_partkey")), b.col(li, "l_partkey"), false)
	ex := subq(plan.SubExists, filter(li, eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey")),
		plan.Or(inner, eq(b.col(li, "l_linenumber"), i64(1)))), nil, false)
	out := decorrelate(t, b, filter(o, ex))
	semi := oneJoin(t, out, plan.JoinSemi)
	if semi.Cond.String() != eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey")).String() {
		t.Errorf("semi join cond %s", semi.Cond)
	}
	oneJoin(t, semi.Right, plan.JoinMark)
}

// Subqueries over an aggregate without GROUP BY always have one row:
// EXISTS is TRUE, IN is a comparison with the scalar subquery (whose count
// bug handling gives COUNT's 0 where the correlation matches nothing).
func TestDecorrelateOneRowSubqueries(t *testing.T) {
	b := newBuilder(t)
	c := b.scan("customer", "")
	o := b.scan("orders", "")
	cnt := func() *plan.Aggregate {
		return b.agg(filter(o, eq(b.col(o, "o_custkey"), b.col(c, "c_custkey"))), nil, &plan.AggCall{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64})
	}
	out := decorrelate(t, b, filter(c, plan.Or(subq(plan.SubExists, cnt(), nil, false), eq(b.col(c, "c_nationkey"), i64(1)))))
	if n := countNodes(out, func(x plan.Node) bool { _, ok := x.(*plan.Join); return ok }); n != 0 {
		t.Errorf("EXISTS over a global aggregate needs no join:\n%s", plan.Format(out))
	}
	in := subq(plan.SubIn, cnt(), &plan.Cast{E: b.col(c, "c_nationkey"), To: arrow.PrimitiveTypes.Int64}, false)
	out = decorrelate(t, b, filter(c, in))
	noJoin(t, out, plan.JoinSemi, plan.JoinMark)
	oneJoin(t, out, plan.JoinLeft)
	if s := plan.Format(out); !strings.Contains(s, "IS NULL) THEN 0 ELSE count_star#") {
		t.Errorf("want the count-bug CASE:\n%s", s)
	}
}

// HAVING over a correlated global aggregate: when it rejects the empty
// group the fast path groups by the correlation key (a key without rows
// loses its group, as HAVING would drop it); otherwise the general
// rewrite Left-joins the grouped aggregate to the domain of the outer
// values so that a key without rows keeps its (empty) group.
func TestDecorrelateHavingOverCorrelatedAggregate(t *testing.T) {
	for _, tc := range []struct {
		having  int64
		op      plan.BinaryOp
		general bool
	}{{1, plan.OpGt, false}, {0, plan.OpEq, true}, {2, plan.OpLt, true}} {
		b := newBuilder(t)
		c := b.scan("customer", "")
		o := b.scan("orders", "")
		a := b.agg(filter(o, eq(b.col(o, "o_custkey"), b.col(c, "c_custkey"))), nil, &plan.AggCall{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64})
		ex := subq(plan.SubExists, filter(a, bin(tc.op, a.Out[0].Ref(), i64(tc.having))), nil, false)
		out := decorrelate(t, b, filter(c, ex))
		j := oneJoin(t, out, plan.JoinSemi)
		left := joinsOfType(j.Right, plan.JoinLeft)
		if tc.general != (len(left) == 1) {
			t.Errorf("HAVING count %s %d: general rewrite %v, want %v:\n%s", tc.op, tc.having, len(left) == 1, tc.general, plan.Format(out))
		}
		if tc.general && !strings.Contains(plan.Format(out), "IS NULL) THEN 0 ELSE count_star#") {
			t.Errorf("HAVING count %s %d: a key without rows must count 0:\n%s", tc.op, tc.having, plan.Format(out))
		}
	}
}

// DISTINCT and GROUP BY do not change IN or EXISTS; dropped, the
// correlated subquery decorrelates.
func TestDecorrelateDropsDistinct(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	corr := eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))
	dist := b.agg(filter(li, corr), []plan.Expr{b.col(li, "l_partkey")})
	out := decorrelate(t, b, filter(o, subq(plan.SubIn, dist, b.col(o, "o_custkey"), false)))
	if j := oneJoin(t, out, plan.JoinSemi); countNodes(j.Right, func(x plan.Node) bool { _, ok := x.(*plan.Aggregate); return ok }) != 0 {
		t.Errorf("DISTINCT kept:\n%s", plan.Format(out))
	}
	grouped := b.agg(filter(li, corr), []plan.Expr{b.col(li, "l_partkey")}, &plan.AggCall{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64})
	out = decorrelate(t, b, filter(o, plan.Or(subq(plan.SubExists, grouped, nil, true), eq(b.col(o, "o_orderstatus"), str("F")))))
	oneJoin(t, out, plan.JoinMark)
}
