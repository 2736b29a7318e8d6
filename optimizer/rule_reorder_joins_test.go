package optimizer

import (
	"testing"

	"github.com/flint-engine/flint/plan"
)

// q5 builds TPC-H Q5's FROM/WHERE: six relations as comma joins.
func q5(b *builder) plan.Node {
	c, o, l := b.scan("customer", ""), b.scan("orders", ""), b.scan("lineitem", "")
	s, n, r := b.scan("supplier", ""), b.scan("nation", ""), b.scan("region", "")
	f := filter(crossAll(c, o, l, s, n, r),
		eq(b.col(c, "c_custkey"), b.col(o, "o_custkey")),
		eq(b.col(l, "l_orderkey"), b.col(o, "o_orderkey")),
		eq(b.col(l, "l_suppkey"), b.col(s, "s_suppkey")),
		eq(b.col(c, "c_nationkey"), b.col(s, "s_nationkey")),
		eq(b.col(s, "s_nationkey"), b.col(n, "n_nationkey")),
		eq(b.col(n, "n_regionkey"), b.col(r, "r_regionkey")),
		eq(b.col(r, "r_name"), str("ASIA")),
		bin(plan.OpGtEq, b.col(o, "o_orderdate"), date("1994-01-01")),
		bin(plan.OpLt, b.col(o, "o_orderdate"), date("1995-01-01")))
	return project(f, b.col(n, "n_name"), b.col(l, "l_extendedprice"), b.col(l, "l_discount"))
}

func TestReorderJoinsQ5(t *testing.T) {
	b := newBuilder(t)
	n := q5(b)
	out, trace := mustOptimize(t, n, b.ids)
	if !fired(trace, "reorder_joins") {
		t.Errorf("reorder_joins did not fire: %v", trace)
	}
	if js := joinsOfType(out, plan.JoinCross); len(js) > 0 {
		t.Fatalf("cross join left:\n%s", plan.Format(out))
	}
	inner := joinsOfType(out, plan.JoinInner)
	if len(inner) != 5 {
		t.Fatalf("want 5 inner joins:\n%s", plan.Format(out))
	}
	for _, j := range inner {
		if j.Cond == nil {
			t.Errorf("join without condition: %s", j)
		}
		if l, r := EstimateRows(j.Left), EstimateRows(j.Right); r > l {
			t.Errorf("build side (right, %.0f rows) larger than probe side (%.0f rows) in %s", r, l, j)
		}
	}
	// lineitem, the largest relation, is never a build side.
	for _, j := range inner {
		if s, ok := j.Right.(*plan.Scan); ok && s.Source.Name == "lineitem" {
			t.Errorf("lineitem is a build side:\n%s", plan.Format(out))
		}
	}
	t.Logf("\n%s", plan.Format(out))
}

func TestReorderJoinsKeepsGoodOrder(t *testing.T) {
	b := newBuilder(t)
	o, c := b.scan("orders", ""), b.scan("customer", "")
	j := &plan.Join{Left: o, Right: c, Type: plan.JoinInner, Cond: eq(b.col(o, "o_custkey"), b.col(c, "c_custkey"))}
	out, trace, err := Apply(j, b.ids, ReorderJoins{})
	if err != nil {
		t.Fatal(err)
	}
	if len(trace) != 0 || out != plan.Node(j) {
		t.Errorf("reorder changed a join already probing the big side:\n%s", plan.Format(out))
	}
	// Swapped input: the smaller side moves to the right, a Project keeps
	// the column order.
	j2 := &plan.Join{Left: c, Right: o, Type: plan.JoinInner, Cond: eq(b.col(o, "o_custkey"), b.col(c, "c_custkey"))}
	out2, trace2, _ := Apply(j2, b.ids, ReorderJoins{})
	if !fired(trace2, "reorder_joins") {
		t.Fatal("did not fire")
	}
	p, ok := out2.(*plan.Project)
	if !ok || p.Input.(*plan.Join).Right.(*plan.Scan).Source.Name != "customer" {
		t.Errorf("want Project over Join(orders, customer):\n%s", plan.Format(out2))
	}
	if !sameSchemaExact(out2.Schema(), j2.Schema()) {
		t.Errorf("schema changed")
	}
}

func TestReorderJoinsDisconnectedStaysCross(t *testing.T) {
	b := newBuilder(t)
	n1, r := b.scan("nation", ""), b.scan("region", "")
	out, _ := mustOptimize(t, cross(n1, r), b.ids)
	if js := joinsOfType(out, plan.JoinCross); len(js) != 1 {
		t.Errorf("a real cross product must stay a cross join:\n%s", plan.Format(out))
	}
}

func TestEstimateRows(t *testing.T) {
	b := newBuilder(t)
	o, l, c := b.scan("orders", ""), b.scan("lineitem", ""), b.scan("customer", "")
	fo := filter(o, bin(plan.OpLt, b.col(o, "o_orderdate"), date("1995-03-15")))
	tests := []struct {
		name string
		n    plan.Node
		want float64
	}{
		{"scan", o, 1500000},
		{"range filter", fo, 1500000 * 0.3},
		{"eq filter", filter(c, eq(b.col(c, "c_mktsegment"), str("BUILDING"))), 15000},
		// FK-PK: lineitem rows × selectivity of the orders filter.
		{"fk-pk join", &plan.Join{Left: l, Right: fo, Type: plan.JoinInner, Cond: eq(b.col(l, "l_orderkey"), b.col(o, "o_orderkey"))}, 6001215 * 0.3},
		{"cross", cross(o, c), 1500000.0 * 150000},
		{"global aggregate", b.agg(o, nil), 1},
		{"limit", &plan.Limit{Input: o, Count: 10}, 10},
	}
	for _, tc := range tests {
		if got := EstimateRows(tc.n); got < tc.want*0.999 || got > tc.want*1.001 {
			t.Errorf("%s: EstimateRows = %.1f, want %.1f", tc.name, got, tc.want)
		}
	}
}

func TestReorderFlipsOuterJoinBuildSide(t *testing.T) {
	b := newBuilder(t)
	c, o := b.scan("customer", ""), b.scan("orders", "")
	cond := eq(b.col(c, "c_custkey"), b.col(o, "o_custkey"))
	left := &plan.Join{Left: c, Right: o, Type: plan.JoinLeft, Cond: cond}
	out, trace, _ := Apply(left, b.ids, ReorderJoins{})
	if !fired(trace, "reorder_joins") {
		t.Fatal("did not fire")
	}
	j := out.(*plan.Project).Input.(*plan.Join)
	if j.Type != plan.JoinRight || j.Right != plan.Node(c) {
		t.Errorf("want orders RIGHT JOIN customer:\n%s", plan.Format(out))
	}
	if !sameSchemaExact(out.Schema(), left.Schema()) {
		t.Errorf("schema changed: %s", out.Schema())
	}
	// Already building on the smaller side: unchanged.
	good := &plan.Join{Left: o, Right: c, Type: plan.JoinLeft, Cond: cond}
	if _, trace, _ := Apply(good, b.ids, ReorderJoins{}); len(trace) != 0 {
		t.Errorf("flipped a left join that already builds on the smaller side")
	}
}

// A two-sided range on one column is one guess, not the product of two.
func TestSelectivityPairsRangeBounds(t *testing.T) {
	b := newBuilder(t)
	l := b.scan("lineitem", "")
	d := b.col(l, "l_shipdate")
	q := b.col(l, "l_quantity")
	lo := bin(plan.OpGtEq, d, date("1995-01-01"))
	hi := bin(plan.OpLtEq, d, date("1996-12-31"))
	flipped := bin(plan.OpGt, date("1996-12-31"), d) // literal on the left: an upper bound
	cases := []struct {
		name  string
		preds []plan.Expr
		want  float64
	}{
		{"between", []plan.Expr{lo, hi}, selBetween},
		{"between, literal first", []plan.Expr{flipped, lo}, selBetween},
		{"one side", []plan.Expr{lo}, selRange},
		{"bounds on different columns", []plan.Expr{lo, bin(plan.OpLt, q, dec(2400, 15, 2))}, selRange * selRange},
		{"three bounds", []plan.Expr{lo, hi, lo}, selBetween * selRange},
	}
	for _, c := range cases {
		if got := selectivityAll(c.preds); got != c.want {
			t.Errorf("%s: selectivity %v, want %v", c.name, got, c.want)
		}
	}
}

// s.s_suppkey = ps.ps_suppkey AND s.s_suppkey = ps.ps_partkey: the three
// columns are one equivalence class, which takes two equalities to keep
// whichever way the join is oriented (one per partsupp column, or one
// join key plus ps_partkey = ps_suppkey on partsupp).
func TestReorderJoinsKeepsEqualityWithinRelation(t *testing.T) {
	b := newBuilder(t)
	s := b.scan("supplier", "")
	ps := b.scan("partsupp", "")
	n := filter(cross(s, ps), eq(b.col(s, "s_suppkey"), b.col(ps, "ps_suppkey")), eq(b.col(s, "s_suppkey"), b.col(ps, "ps_partkey")))
	out, _ := mustOptimize(t, n, b.ids)
	eqs := 0
	plan.WalkPlan(out, func(x plan.Node) bool {
		for _, e := range x.Exprs() {
			for _, c := range plan.SplitConjuncts(e) {
				if _, _, ok := columnEquality(c); ok {
					eqs++
				}
			}
		}
		return true
	})
	if eqs < 2 {
		t.Fatalf("%d column equalities left for a class of three columns:\n%s", eqs, plan.Format(out))
	}
}
