package optimizer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

func subq(kind plan.SubqueryKind, p plan.Node, e plan.Expr, negated bool) *plan.Subquery {
	typ := arrow.DataType(arrow.FixedWidthTypes.Boolean)
	if kind == plan.SubScalar {
		typ = p.Schema()[0].Type
	}
	return &plan.Subquery{Kind: kind, Plan: p, E: e, Negated: negated, Typ: typ}
}

func decorrelate(t *testing.T, b *builder, n plan.Node) plan.Node {
	t.Helper()
	out, trace, err := Apply(n, b.ids, Decorrelate{})
	if err != nil {
		t.Fatalf("decorrelate: %v", err)
	}
	if !fired(trace, "decorrelate_subqueries") {
		t.Fatalf("decorrelate did not fire")
	}
	if hasSubqueryAnywhere(out) {
		t.Fatalf("subquery left:\n%s", plan.Format(out))
	}
	if !sameSchemaTypes(out.Schema(), n.Schema()) {
		t.Fatalf("schema changed: %s -> %s", n.Schema(), out.Schema())
	}
	return out
}

// Q4 shape: EXISTS (select * from lineitem where l_orderkey = o_orderkey
// and l_commitdate < l_receiptdate).
func TestDecorrelateExists(t *testing.T) {
	for _, negated := range []bool{false, true} {
		b := newBuilder(t)
		o := b.scan("orders", "")
		li := b.scan("lineitem", "")
		corr := eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))
		local := bin(plan.OpLt, b.col(li, "l_commitdate"), b.col(li, "l_receiptdate"))
		sub := project(filter(li, corr, local), b.col(li, "l_orderkey"), b.col(li, "l_comment"))
		n := project(filter(o, bin(plan.OpGtEq, b.col(o, "o_orderdate"), date("1993-07-01")), subq(plan.SubExists, sub, nil, negated)), b.col(o, "o_orderpriority"))
		out := decorrelate(t, b, n)
		wantType := plan.JoinSemi
		if negated {
			wantType = plan.JoinAnti
		}
		js := joinsOfType(out, wantType)
		if len(js) != 1 {
			t.Fatalf("negated=%v: want one %s join:\n%s", negated, wantType, plan.Format(out))
		}
		j := js[0]
		if j.Cond == nil || j.Cond.String() != corr.String() || j.NullAware {
			t.Errorf("join cond = %v, want %s", j.Cond, corr)
		}
		// The local predicate stays inside the subquery side.
		if f, ok := j.Right.(*plan.Filter); !ok || f.Cond.String() != local.String() {
			t.Errorf("right side = %s, want Filter %s", plan.Format(j.Right), local)
		}
		// The outer filter's other conjunct remains above.
		if !strings.Contains(plan.Format(out), "o_orderdate") {
			t.Errorf("outer predicate lost:\n%s", plan.Format(out))
		}
	}
}

// Q21 shape: EXISTS and NOT EXISTS with a non-equality correlation.
func TestDecorrelateExistsNonEquality(t *testing.T) {
	b := newBuilder(t)
	l1 := b.scan("lineitem", "l1")
	l2 := b.scan("lineitem", "l2")
	l3 := b.scan("lineitem", "l3")
	ex := subq(plan.SubExists, filter(l2, eq(b.col(l2, "l_orderkey"), b.col(l1, "l_orderkey")),
		bin(plan.OpNotEq, b.col(l2, "l_suppkey"), b.col(l1, "l_suppkey"))), nil, false)
	nex := subq(plan.SubExists, filter(l3, eq(b.col(l3, "l_orderkey"), b.col(l1, "l_orderkey")),
		bin(plan.OpNotEq, b.col(l3, "l_suppkey"), b.col(l1, "l_suppkey")),
		bin(plan.OpGt, b.col(l3, "l_receiptdate"), b.col(l3, "l_commitdate"))), nil, true)
	n := filter(l1, ex, nex)
	out := decorrelate(t, b, n)
	semi, anti := joinsOfType(out, plan.JoinSemi), joinsOfType(out, plan.JoinAnti)
	if len(semi) != 1 || len(anti) != 1 {
		t.Fatalf("want one semi and one anti join:\n%s", plan.Format(out))
	}
	for _, j := range []*plan.Join{semi[0], anti[0]} {
		if c := j.Cond.String(); !strings.Contains(c, "<>") || !strings.Contains(c, "=") {
			t.Errorf("cond %s lacks the equality or the <> correlation", c)
		}
	}
	if !strings.Contains(plan.Format(anti[0].Right), "l_receiptdate") {
		t.Errorf("local predicate of NOT EXISTS not kept inside:\n%s", plan.Format(anti[0].Right))
	}
}

// Q18 / Q16 shapes: IN → semi join, NOT IN → anti join, null-aware when
// a side may be NULL.
func TestDecorrelateIn(t *testing.T) {
	for _, negated := range []bool{false, true} {
		for _, nulls := range []bool{false, true} {
			b := newBuilder(t)
			o := b.scan("orders", "")
			li := b.scan("lineitem", "")
			if nulls {
				o, li = nullableScan(o), nullableScan(li)
			}
			sub := project(li, b.col(li, "l_orderkey"))
			n := filter(o, subq(plan.SubIn, sub, b.col(o, "o_orderkey"), negated))
			out := decorrelate(t, b, n)
			want := plan.JoinSemi
			if negated {
				want = plan.JoinAnti
			}
			js := joinsOfType(out, want)
			if len(js) != 1 {
				t.Fatalf("want one %s join:\n%s", want, plan.Format(out))
			}
			wantCond := eq(b.col(o, "o_orderkey"), b.col(li, "l_orderkey")).String()
			if js[0].Cond.String() != wantCond || js[0].NullAware != (negated && nulls) {
				t.Errorf("nulls=%v: join %s, want cond %s null-aware=%v", nulls, js[0], wantCond, negated && nulls)
			}
		}
	}
}

// nullableScan declares every column of s nullable (TPC-H columns are not).
func nullableScan(s *plan.Scan) *plan.Scan {
	m := *s
	m.Out = append(plan.Schema(nil), s.Out...)
	for i := range m.Out {
		m.Out[i].Nullable = true
	}
	return &m
}

// A correlated NOT IN keys the anti join on its correlation equality and
// keeps the NULL cases in the residual: a null-aware join keyed on the
// correlation too would let a NULL correlation key on either side decide
// (wrongly) for every row.
func TestDecorrelateCorrelatedNotIn(t *testing.T) {
	b := newBuilder(t)
	o := nullableScan(b.scan("orders", ""))
	li := nullableScan(b.scan("lineitem", ""))
	corr := eq(b.col(li, "l_suppkey"), b.col(o, "o_custkey"))
	sub := project(filter(li, corr), b.col(li, "l_partkey"))
	n := filter(o, subq(plan.SubIn, sub, b.col(o, "o_orderkey"), true))
	out := decorrelate(t, b, n)
	js := joinsOfType(out, plan.JoinAnti)
	if len(js) != 1 || js[0].NullAware {
		t.Fatalf("want one plain anti join:\n%s", plan.Format(out))
	}
	c := js[0].Cond.String()
	for _, want := range []string{corr.String(), "(o_orderkey#1 = l_partkey#", "(o_orderkey#1 IS NULL)", "(l_partkey#", "IS NULL))"} {
		if !strings.Contains(c, want) {
			t.Errorf("cond %s lacks %s", c, want)
		}
	}
	// Correlated only by a non-equality: nothing to key on but x = y,
	// null-aware with the correlation as residual.
	b = newBuilder(t)
	o = nullableScan(b.scan("orders", ""))
	li = nullableScan(b.scan("lineitem", ""))
	sub = project(filter(li, bin(plan.OpLt, b.col(li, "l_suppkey"), b.col(o, "o_custkey"))), b.col(li, "l_partkey"))
	out = decorrelate(t, b, filter(o, subq(plan.SubIn, sub, b.col(o, "o_orderkey"), true)))
	if js := joinsOfType(out, plan.JoinAnti); len(js) != 1 || !js[0].NullAware {
		t.Fatalf("want a null-aware anti join:\n%s", plan.Format(out))
	}
}

// NOT (x IN (...)) is NOT IN.
func TestDecorrelateNotWrappedIn(t *testing.T) {
	b := newBuilder(t)
	ps := b.scan("partsupp", "")
	s := b.scan("supplier", "")
	s = nullableScan(s)
	sub := project(filter(s, &plan.Like{E: b.col(s, "s_comment"), Pattern: "%Customer%Complaints%"}), b.col(s, "s_suppkey"))
	n := filter(ps, &plan.Unary{Op: plan.OpNot, E: subq(plan.SubIn, sub, b.col(ps, "ps_suppkey"), false)})
	out := decorrelate(t, b, n)
	js := joinsOfType(out, plan.JoinAnti)
	if len(js) != 1 || !js[0].NullAware {
		t.Fatalf("want a null-aware anti join:\n%s", plan.Format(out))
	}
}

// Q22 shape: uncorrelated scalar subquery → Left join, ref in the filter.
func TestDecorrelateUncorrelatedScalar(t *testing.T) {
	b := newBuilder(t)
	c := b.scan("customer", "")
	c2 := b.scan("customer", "c2")
	avg := &plan.AggCall{Func: "avg", Args: []plan.Expr{b.col(c2, "c_acctbal")}, Typ: &arrow.Decimal128Type{Precision: 38, Scale: 6}}
	a := b.agg(filter(c2, bin(plan.OpGt, b.col(c2, "c_acctbal"), dec(0, 15, 2))), nil, avg)
	n := project(filter(c, bin(plan.OpGt, &plan.Cast{E: b.col(c, "c_acctbal"), To: avg.Typ}, subq(plan.SubScalar, a, nil, false))), b.col(c, "c_custkey"))
	out := decorrelate(t, b, n)
	js := joinsOfType(out, plan.JoinLeft)
	if len(js) != 1 || js[0].Cond != nil || js[0].Right != plan.Node(a) {
		t.Fatalf("want Left join with the aggregate on the right:\n%s", plan.Format(out))
	}
	f, ok := out.(*plan.Project).Input.(*plan.Project).Input.(*plan.Filter)
	if !ok || !strings.Contains(f.Cond.String(), "avg#") {
		t.Fatalf("filter should compare with the aggregate column:\n%s", plan.Format(out))
	}
}

// One scalar subquery used twice (x BETWEEN a AND b binds x twice, and
// the two comparisons become separate conjuncts) is joined once.
func TestDecorrelateScalarUsedTwice(t *testing.T) {
	b := newBuilder(t)
	c := b.scan("customer", "")
	c2 := b.scan("customer", "c2")
	mx := &plan.AggCall{Func: "max", Args: []plan.Expr{b.col(c2, "c_acctbal")}, Typ: &arrow.Decimal128Type{Precision: 15, Scale: 2}}
	a := b.agg(filter(c2, eq(b.col(c2, "c_nationkey"), b.col(c, "c_nationkey"))), nil, mx)
	sq := subq(plan.SubScalar, a, nil, false)
	n := filter(c, bin(plan.OpGt, sq, dec(0, 15, 2)), bin(plan.OpLt, sq, dec(100000, 15, 2)))
	out := decorrelate(t, b, n)
	if js := joinsOfType(out, plan.JoinLeft); len(js) != 1 {
		t.Fatalf("want one Left join:\n%s", plan.Format(out))
	}
}

// Q17 shape: l_quantity < (select 0.2 * avg(l_quantity) from lineitem
// where l_partkey = p_partkey) → aggregate grouped by l_partkey, Left join.
func TestDecorrelateCorrelatedScalarAggregate(t *testing.T) {
	b := newBuilder(t)
	li := b.scan("lineitem", "")
	p := b.scan("part", "")
	l2 := b.scan("lineitem", "l2")
	avgT := &arrow.Decimal128Type{Precision: 38, Scale: 6}
	avg := &plan.AggCall{Func: "avg", Args: []plan.Expr{b.col(l2, "l_quantity")}, Typ: avgT}
	a := b.agg(filter(l2, eq(b.col(l2, "l_partkey"), b.col(p, "p_partkey"))), nil, avg)
	val := b.ids.NewColumn("x", "", avgT, true)
	sub := &plan.Project{Input: a, Projections: []plan.Expr{bin(plan.OpMul, dec(2, 2, 1), a.Out[0].Ref())}, Out: plan.Schema{val}}
	n := filter(cross(li, p), eq(b.col(p, "p_partkey"), b.col(li, "l_partkey")),
		bin(plan.OpLt, &plan.Cast{E: b.col(li, "l_quantity"), To: avgT}, subq(plan.SubScalar, sub, nil, false)))
	out := decorrelate(t, b, n)
	js := joinsOfType(out, plan.JoinLeft)
	if len(js) != 1 {
		t.Fatalf("want one Left join:\n%s", plan.Format(out))
	}
	aggs := 0
	plan.WalkPlan(js[0].Right, func(x plan.Node) bool {
		if ag, ok := x.(*plan.Aggregate); ok {
			aggs++
			if len(ag.GroupBy) != 1 || ag.GroupBy[0].String() != b.col(l2, "l_partkey").String() {
				t.Errorf("aggregate should group by l2.l_partkey: %s", ag)
			}
		}
		return true
	})
	if aggs != 1 {
		t.Errorf("want the aggregate on the right side:\n%s", plan.Format(out))
	}
	if c := js[0].Cond.String(); !strings.HasPrefix(c, "(p_partkey#") {
		t.Errorf("join cond %s should equate p_partkey with the group key", c)
	}
	if strings.Contains(plan.Format(out), "CASE") {
		t.Errorf("avg needs no count-bug CASE:\n%s", plan.Format(out))
	}
}

// COUNT over no rows is 0: the reference is wrapped in a CASE.
func TestDecorrelateCountBug(t *testing.T) {
	b := newBuilder(t)
	c := b.scan("customer", "")
	o := b.scan("orders", "")
	cnt := &plan.AggCall{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64}
	a := b.agg(filter(o, eq(b.col(o, "o_custkey"), b.col(c, "c_custkey"))), nil, cnt)
	n := filter(c, bin(plan.OpEq, subq(plan.SubScalar, a, nil, false), i64(0)))
	out := decorrelate(t, b, n)
	s := plan.Format(out)
	if !strings.Contains(s, "CASE WHEN (o_custkey#") || !strings.Contains(s, "IS NULL) THEN 0 ELSE count_star#") {
		t.Errorf("count bug not handled:\n%s", s)
	}
}

func TestDecorrelateUnsupported(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	// A subquery over both inputs of an outer join's condition.
	c := b.scan("customer", "")
	ex := subq(plan.SubExists, filter(li, eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey")), eq(b.col(li, "l_suppkey"), b.col(c, "c_custkey"))), nil, false)
	j := &plan.Join{Left: o, Right: c, Type: plan.JoinLeft, Cond: plan.Or(ex, eq(b.col(o, "o_custkey"), b.col(c, "c_custkey")))}
	_, _, err := Apply(j, b.ids, Decorrelate{})
	if err == nil || !strings.Contains(err.Error(), "both inputs in the condition of a Left join") {
		t.Errorf("want a 'both inputs' error, got %v", err)
	}
	// Correlation inside a FULL join (DuckDB does not flatten it either).
	n, s := b.scan("nation", ""), b.scan("supplier", "")
	full := &plan.Join{Left: filter(s, bin(plan.OpGt, b.col(s, "s_acctbal"), b.col(c, "c_acctbal"))), Right: n, Type: plan.JoinFull,
		Cond: eq(b.col(s, "s_nationkey"), b.col(n, "n_nationkey"))}
	sc := subq(plan.SubScalar, b.agg(full, nil, &plan.AggCall{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64}), nil, false)
	_, _, err = Apply(filter(c, bin(plan.OpGt, sc, i64(1))), b.ids, Decorrelate{})
	if err == nil || !strings.Contains(err.Error(), "Full join") {
		t.Errorf("want a 'Full join' error, got %v", err)
	}
}

func TestDecorrelateNoSubquery(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	n := filter(o, bin(plan.OpEq, b.col(o, "o_orderstatus"), str("F")))
	out, trace, err := Apply(n, b.ids, Decorrelate{})
	if err != nil || len(trace) != 0 || out != plan.Node(n) {
		t.Errorf("rule fired without subqueries: %v %v", trace, err)
	}
}
