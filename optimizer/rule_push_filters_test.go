package optimizer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

func push(t *testing.T, b *builder, n plan.Node) (plan.Node, bool) {
	t.Helper()
	out, trace, err := Apply(n, b.ids, PushDownFilters{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameSchemaTypes(out.Schema(), n.Schema()) {
		t.Fatalf("schema changed: %s -> %s", n.Schema(), out.Schema())
	}
	return out, fired(trace, "push_down_filters")
}

func TestPushDownIntoScansAndJoinCond(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	join := eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))
	dateP := bin(plan.OpLt, b.col(o, "o_orderdate"), date("1995-03-15"))
	shipP := bin(plan.OpGt, b.col(li, "l_shipdate"), date("1995-03-15"))
	n := project(filter(cross(o, li), join, dateP, shipP), b.col(o, "o_orderkey"))
	out, ok := push(t, b, n)
	if !ok {
		t.Fatal("did not fire")
	}
	want := "Project o_orderkey#1 AS orders.o_orderkey#1\n" +
		"  Join Inner on " + join.String() + "\n" +
		"    Scan orders [" + scanNames(o) + "] filters=[" + dateP.String() + "]\n" +
		"    Scan lineitem [" + scanNames(li) + "] filters=[" + shipP.String() + "]\n"
	if got := plan.Format(out); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Idempotent: a second run changes nothing.
	if _, again := push(t, b, out); again {
		t.Errorf("pushdown fired twice")
	}
}

func TestPushDownLeftJoin(t *testing.T) {
	b := newBuilder(t)
	c := b.scan("customer", "")
	o := b.scan("orders", "")
	onEq := eq(b.col(c, "c_custkey"), b.col(o, "o_custkey"))
	onRight := &plan.Like{E: b.col(o, "o_comment"), Pattern: "%special%requests%", Negated: true}
	onLeft := bin(plan.OpGt, b.col(c, "c_acctbal"), dec(0, 15, 2))
	j := &plan.Join{Left: c, Right: o, Type: plan.JoinLeft, Cond: plan.And(onEq, onRight, onLeft)}
	leftWhere := bin(plan.OpEq, b.col(c, "c_mktsegment"), str("BUILDING"))
	rightIsNull := &plan.Unary{Op: plan.OpIsNull, E: b.col(o, "o_orderkey")}
	out, ok := push(t, b, filter(j, leftWhere, rightIsNull))
	if !ok {
		t.Fatal("did not fire")
	}
	f, isF := out.(*plan.Filter)
	if !isF || f.Cond.String() != rightIsNull.String() {
		t.Fatalf("IS NULL on the right side must stay above the left join:\n%s", plan.Format(out))
	}
	nj := f.Input.(*plan.Join)
	if nj.Type != plan.JoinLeft {
		t.Errorf("left join must stay left (IS NULL does not reject nulls): %s", nj)
	}
	if nj.Cond.String() != plan.And(onEq, onLeft).String() {
		t.Errorf("ON keeps the equality and the left-only predicate, got %s", nj.Cond)
	}
	if s := nj.Left.(*plan.Scan); len(s.Filters) != 1 || s.Filters[0].String() != leftWhere.String() {
		t.Errorf("WHERE on the left side goes into the left scan: %s", s)
	}
	if s := nj.Right.(*plan.Scan); len(s.Filters) != 1 || s.Filters[0].String() != onRight.String() {
		t.Errorf("ON predicate on the right side goes into the right scan: %s", s)
	}
}

func TestPushDownLeftJoinBecomesInner(t *testing.T) {
	b := newBuilder(t)
	c := b.scan("customer", "")
	o := b.scan("orders", "")
	j := &plan.Join{Left: c, Right: o, Type: plan.JoinLeft, Cond: eq(b.col(c, "c_custkey"), b.col(o, "o_custkey"))}
	rightP := bin(plan.OpGt, b.col(o, "o_totalprice"), dec(100, 15, 2))
	out, _ := push(t, b, filter(j, rightP))
	nj, ok := out.(*plan.Join)
	if !ok || nj.Type != plan.JoinInner {
		t.Fatalf("null-rejecting WHERE should make the join inner:\n%s", plan.Format(out))
	}
	if s := nj.Right.(*plan.Scan); len(s.Filters) != 1 {
		t.Errorf("predicate should reach the orders scan:\n%s", plan.Format(out))
	}
	// A predicate that accepts NULL (COALESCE) keeps the left join.
	co := &plan.Func{Name: "coalesce", Args: []plan.Expr{b.col(o, "o_totalprice"), dec(0, 15, 2)}, Typ: b.col(o, "o_totalprice").Typ}
	out2, _ := push(t, b, filter(j, bin(plan.OpEq, co, dec(0, 15, 2))))
	if js := joinsOfType(out2, plan.JoinLeft); len(js) != 1 {
		t.Errorf("coalesce predicate must not turn the join inner:\n%s", plan.Format(out2))
	}
}

func TestPushDownThroughProjectAggregateUnion(t *testing.T) {
	b := newBuilder(t)
	li := b.scan("lineitem", "")
	flag := b.col(li, "l_returnflag")
	qty := b.col(li, "l_quantity")
	sum := &plan.AggCall{Func: "sum", Args: []plan.Expr{qty}, Typ: &arrow.Decimal128Type{Precision: 38, Scale: 2}}
	a := b.agg(li, []plan.Expr{flag}, sum)
	// Renaming project above the aggregate.
	rf := b.ids.NewColumn("rf", "", flag.Typ, false)
	total := b.ids.NewColumn("total", "", sum.Typ, true)
	p := &plan.Project{Input: a, Projections: []plan.Expr{a.Out[0].Ref(), a.Out[1].Ref()}, Out: plan.Schema{rf, total}}
	onGroup := bin(plan.OpEq, rf.Ref(), str("R"))
	onAgg := bin(plan.OpGt, total.Ref(), dec(100, 38, 2))
	out, ok := push(t, b, filter(p, onGroup, onAgg))
	if !ok {
		t.Fatal("did not fire")
	}
	s := plan.Format(out)
	if !strings.Contains(s, "  Filter (sum#18 > 1.00)\n    Aggregate") {
		t.Errorf("predicate on the aggregate result must stay above the aggregate:\n%s", s)
	}
	if !strings.Contains(s, "filters=[(l_returnflag#") {
		t.Errorf("predicate on the group column must reach the scan:\n%s", s)
	}

	// Union: the predicate is rewritten for each input.
	b2 := newBuilder(t)
	n1, n2 := b2.scan("nation", "n1"), b2.scan("nation", "n2")
	outCol := b2.ids.NewColumn("k", "", arrow.PrimitiveTypes.Int64, false)
	u := &plan.Union{Inputs: []plan.Node{project(n1, b2.col(n1, "n_nationkey")), project(n2, b2.col(n2, "n_nationkey"))}, Out: plan.Schema{outCol}}
	out2, _ := push(t, b2, filter(u, bin(plan.OpLt, outCol.Ref(), i64(5))))
	if got := strings.Count(plan.Format(out2), "filters=[(n_nationkey#"); got != 2 {
		t.Errorf("want the predicate in both union inputs:\n%s", plan.Format(out2))
	}
}

func TestPushDownSemiJoinAndTopN(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	local := bin(plan.OpLt, b.col(li, "l_commitdate"), b.col(li, "l_receiptdate"))
	semi := &plan.Join{Left: o, Right: li, Type: plan.JoinSemi, Cond: plan.And(eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey")), local)}
	out, _ := push(t, b, filter(semi, bin(plan.OpEq, b.col(o, "o_orderstatus"), str("F"))))
	j := out.(*plan.Join)
	if len(j.Left.(*plan.Scan).Filters) != 1 || len(j.Right.(*plan.Scan).Filters) != 1 {
		t.Errorf("semi join: WHERE goes left, right-only ON goes right:\n%s", plan.Format(out))
	}

	// Not through a top-N sort: filtering first would change which rows
	// are the top N.
	topn := &plan.Sort{Input: o, Keys: []plan.SortKey{{E: b.col(o, "o_totalprice"), Desc: true}}, Limit: 10}
	p := bin(plan.OpEq, b.col(o, "o_orderstatus"), str("F"))
	out2, _ := push(t, b, filter(topn, p))
	if f, ok := out2.(*plan.Filter); !ok || f.Cond.String() != p.String() {
		t.Errorf("filter must stay above a top-N sort:\n%s", plan.Format(out2))
	}
}

func TestOrFactoringAndImpliedPredicates(t *testing.T) {
	b := newBuilder(t)
	li, p := b.scan("lineitem", ""), b.scan("part", "")
	join := eq(b.col(p, "p_partkey"), b.col(li, "l_partkey"))
	arm := func(brand string, lo, hi int64) plan.Expr {
		return plan.And(join, bin(plan.OpEq, b.col(p, "p_brand"), str(brand)),
			bin(plan.OpGtEq, b.col(li, "l_quantity"), dec(lo*100, 15, 2)), bin(plan.OpLtEq, b.col(li, "l_quantity"), dec(hi*100, 15, 2)))
	}
	n := filter(cross(li, p), plan.Or(arm("Brand#12", 1, 11), arm("Brand#23", 10, 20)))
	out, _ := push(t, b, n)
	j := out.(*plan.Join)
	if j.Type != plan.JoinInner || !strings.HasPrefix(j.Cond.String(), "("+join.String()+" AND ") {
		t.Fatalf("common equality should be factored into an inner join key:\n%s", plan.Format(out))
	}
	if ls := j.Left.(*plan.Scan); len(ls.Filters) != 1 || !strings.Contains(ls.Filters[0].String(), "l_quantity") {
		t.Errorf("implied lineitem filter missing:\n%s", plan.Format(out))
	}
	if rs := j.Right.(*plan.Scan); len(rs.Filters) != 1 || !strings.Contains(rs.Filters[0].String(), "Brand#12") {
		t.Errorf("implied part filter missing:\n%s", plan.Format(out))
	}
	// An OR with an arm that does not touch a side implies nothing there.
	n2 := filter(cross(li, p), plan.Or(bin(plan.OpEq, b.col(p, "p_brand"), str("x")), bin(plan.OpLt, b.col(li, "l_quantity"), b.col(p, "p_retailprice"))))
	out2, _ := push(t, b, n2)
	if ls := out2.(*plan.Join).Left.(*plan.Scan); len(ls.Filters) != 0 {
		t.Errorf("nothing is implied on lineitem:\n%s", plan.Format(out2))
	}
}

func TestSemiJoinPushedIntoInnerInput(t *testing.T) {
	b := newBuilder(t)
	c, o, li := b.scan("customer", ""), b.scan("orders", ""), b.scan("lineitem", "")
	big := b.agg(li, []plan.Expr{b.col(li, "l_orderkey")}, &plan.AggCall{Func: "sum", Args: []plan.Expr{b.col(li, "l_quantity")}, Typ: &arrow.Decimal128Type{Precision: 38, Scale: 2}})
	sub := filter(big, bin(plan.OpGt, big.Out[1].Ref(), dec(30000, 38, 2)))
	inner := &plan.Join{Left: o, Right: c, Type: plan.JoinInner, Cond: eq(b.col(o, "o_custkey"), b.col(c, "c_custkey"))}
	semi := &plan.Join{Left: inner, Right: sub, Type: plan.JoinSemi, Cond: eq(b.col(o, "o_orderkey"), big.Out[0].Ref())}
	out, _ := push(t, b, semi)
	top, ok := out.(*plan.Join)
	if !ok || top.Type != plan.JoinInner {
		t.Fatalf("semi join should move below the inner join:\n%s", plan.Format(out))
	}
	if l, ok := top.Left.(*plan.Join); !ok || l.Type != plan.JoinSemi {
		t.Errorf("semi join should filter orders directly:\n%s", plan.Format(out))
	}
	// Not when the semi join's build side is larger than the input it
	// would filter (Q21: EXISTS over all of lineitem).
	l2 := b.scan("lineitem", "l2")
	semi2 := &plan.Join{Left: inner, Right: l2, Type: plan.JoinSemi, Cond: eq(b.col(o, "o_orderkey"), b.col(l2, "l_orderkey"))}
	out2, _ := push(t, b, semi2)
	if j := out2.(*plan.Join); j.Type != plan.JoinSemi {
		t.Errorf("semi join over a big build side must stay on top:\n%s", plan.Format(out2))
	}
}

// A mark join keeps every left row once: filters on left columns go below
// it, a filter on the mark stays above, and a condition conjunct on the
// right columns alone filters the right input.
func TestPushDownMarkJoin(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	mark := b.ids.NewColumn("mark", "", arrow.FixedWidthTypes.Boolean, true)
	corr := eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))
	rightOnly := bin(plan.OpGt, b.col(li, "l_quantity"), dec(5, 15, 2))
	leftOnly := eq(b.col(o, "o_orderstatus"), str("F"))
	j := &plan.Join{Left: o, Right: li, Type: plan.JoinMark, Cond: plan.And(corr, rightOnly, leftOnly),
		MarkCond: eq(b.col(o, "o_custkey"), b.col(li, "l_suppkey")), Mark: mark}
	leftWhere := bin(plan.OpLt, b.col(o, "o_orderdate"), date("1995-03-15"))
	markWhere := plan.Or(mark.Ref(), eq(b.col(o, "o_orderpriority"), str("1-URGENT")))
	out, ok := push(t, b, filter(j, leftWhere, markWhere))
	if !ok {
		t.Fatal("did not fire")
	}
	f, isFilter := out.(*plan.Filter)
	if !isFilter || f.Cond.String() != markWhere.String() {
		t.Fatalf("the predicate on the mark should stay on top:\n%s", plan.Format(out))
	}
	nj := f.Input.(*plan.Join)
	if nj.Type != plan.JoinMark || nj.Mark != mark || nj.MarkCond != j.MarkCond {
		t.Fatalf("mark join changed: %s", nj)
	}
	// The left-only conjunct of the condition stays: it decides which right
	// rows count, not which left rows pass.
	if c := nj.Cond.String(); !strings.Contains(c, corr.String()) || !strings.Contains(c, leftOnly.String()) || strings.Contains(c, "l_quantity") {
		t.Errorf("cond %s", c)
	}
	if s := plan.Format(nj.Left); !strings.Contains(s, "filters=["+leftWhere.String()+"]") {
		t.Errorf("left filter not pushed into the scan:\n%s", s)
	}
	if s := plan.Format(nj.Right); !strings.Contains(s, "filters=["+rightOnly.String()+"]") {
		t.Errorf("right-only condition not pushed into the right scan:\n%s", s)
	}
	if _, again := push(t, b, out); again {
		t.Errorf("pushdown fired twice")
	}
}
