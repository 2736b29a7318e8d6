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
