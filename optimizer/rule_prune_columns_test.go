package optimizer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

func TestPruneColumns(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	c := b.scan("customer", "")
	j := &plan.Join{Left: o, Right: c, Type: plan.JoinInner, Cond: eq(b.col(o, "o_custkey"), b.col(c, "c_custkey"))}
	f := filter(j, bin(plan.OpEq, b.col(c, "c_mktsegment"), str("BUILDING")))
	cnt := &plan.AggCall{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64}
	sum := &plan.AggCall{Func: "sum", Args: []plan.Expr{b.col(o, "o_totalprice")}, Typ: &arrow.Decimal128Type{Precision: 38, Scale: 2}}
	a := b.agg(f, []plan.Expr{b.col(o, "o_orderdate")}, cnt, sum)
	root := project(a, a.Out[0].Ref(), a.Out[1].Ref()) // sum is unused
	out, trace, err := Apply(root, b.ids, PruneColumns{})
	if err != nil || !fired(trace, "prune_columns") {
		t.Fatalf("did not fire: %v", err)
	}
	s := plan.Format(out)
	for _, want := range []string{
		"Scan orders [o_custkey, o_orderdate]",
		"Scan customer [c_custkey, c_mktsegment]",
		"aggs=[count(*)]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("want %q in\n%s", want, s)
		}
	}
	if !sameSchemaExact(out.Schema(), root.Schema()) {
		t.Errorf("root schema changed")
	}
	// Scan.Cols follow Out.
	plan.WalkPlan(out, func(x plan.Node) bool {
		if sc, ok := x.(*plan.Scan); ok {
			for i, col := range sc.Out {
				if sc.Source.Schema.Field(sc.Cols[i]).Name != col.Name {
					t.Errorf("scan %s: Cols[%d]=%d does not match %s", sc.Source.Name, i, sc.Cols[i], col.Name)
				}
			}
		}
		return true
	})
	// Nothing to prune: does not fire.
	again, trace2, _ := Apply(out, b.ids, PruneColumns{})
	if len(trace2) != 0 || again != out {
		t.Errorf("fired on a pruned plan:\n%s", plan.Format(again))
	}

	// count(*) over a scan keeps one column so rows can still be counted.
	n := b.scan("nation", "n2")
	ca := b.agg(n, nil, &plan.AggCall{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64})
	out3, _, _ := Apply(ca, b.ids, PruneColumns{})
	if !strings.Contains(plan.Format(out3), "Scan nation [n_nationkey]") {
		t.Errorf("count(*) scan should keep one column:\n%s", plan.Format(out3))
	}
}

// A mark join outputs its left columns and the mark: the right input keeps
// only what the condition and the mark condition read.
func TestPruneColumnsMarkJoin(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	li := b.scan("lineitem", "")
	mark := b.ids.NewColumn("mark", "", arrow.FixedWidthTypes.Boolean, true)
	j := &plan.Join{Left: o, Right: li, Type: plan.JoinMark, Cond: eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey")),
		MarkCond: eq(b.col(o, "o_custkey"), b.col(li, "l_suppkey")), Mark: mark}
	root := &plan.Project{Input: j, Projections: []plan.Expr{b.col(o, "o_orderstatus"), mark.Ref()}, Out: plan.Schema{o.Out[2], mark}}
	out, trace, err := Apply(root, b.ids, PruneColumns{})
	if err != nil || !fired(trace, "prune_columns") {
		t.Fatalf("did not fire: %v", err)
	}
	s := plan.Format(out)
	for _, want := range []string{"Scan orders [o_orderkey, o_custkey, o_orderstatus]", "Scan lineitem [l_orderkey, l_suppkey]", "mark (o_custkey#2 = l_suppkey#"} {
		if !strings.Contains(s, want) {
			t.Errorf("want %q in\n%s", want, s)
		}
	}
}

// TestPruneColumnsScanFilterColumns: a column only a scan's own filter
// reads is dropped right above the scan, so that it is not carried
// further; pruning again changes nothing.
func TestPruneColumnsScanFilterColumns(t *testing.T) {
	b := newBuilder(t)
	l := b.scan("lineitem", "")
	l.Filters = []plan.Expr{bin(plan.OpLt, b.col(l, "l_commitdate"), b.col(l, "l_receiptdate"))}
	root := project(l, b.col(l, "l_orderkey"), b.col(l, "l_suppkey"))
	j := &plan.Join{Left: b.scan("orders", ""), Right: root, Type: plan.JoinInner}
	j.Cond = eq(b.col(j.Left, "o_orderkey"), b.col(l, "l_orderkey"))
	top := project(j, b.col(j.Left, "o_orderkey"))
	out, trace, err := Apply(top, b.ids, PruneColumns{})
	if err != nil || !fired(trace, "prune_columns") {
		t.Fatalf("did not fire: %v", err)
	}
	want := "Project l_orderkey#"
	s := plan.Format(out)
	if !strings.Contains(s, "Scan lineitem [l_orderkey, l_commitdate, l_receiptdate]") {
		t.Errorf("scan should read its key and filter columns:\n%s", s)
	}
	var above *plan.Project
	plan.WalkPlan(out, func(x plan.Node) bool {
		if p, ok := x.(*plan.Project); ok {
			if _, ok := p.Input.(*plan.Scan); ok && p.Input.(*plan.Scan).Source.Name == "lineitem" {
				above = p
			}
		}
		return true
	})
	if above == nil || len(above.Out) != 1 || !strings.HasPrefix(plan.Format(above), want) {
		t.Fatalf("want a Project of l_orderkey alone above the lineitem scan:\n%s", s)
	}
	again, trace2, _ := Apply(out, b.ids, PruneColumns{})
	if len(trace2) != 0 || again != out {
		t.Errorf("fired on a pruned plan:\n%s", plan.Format(again))
	}

	// A filter on a column that is also used above: no Project.
	l2 := b.scan("lineitem", "l2")
	l2.Filters = []plan.Expr{bin(plan.OpGt, b.col(l2, "l_quantity"), i64(3))}
	top2 := project(l2, b.col(l2, "l_quantity"))
	out2, _, _ := Apply(top2, b.ids, PruneColumns{})
	if n := countNodes(out2, func(x plan.Node) bool { _, ok := x.(*plan.Project); return ok }); n != 1 {
		t.Errorf("want only the root Project, got %d Projects:\n%s", n, plan.Format(out2))
	}
}
