package optimizer

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

// q17Shape builds Join(Aggregate(lineitem by l_partkey), Join(lineitem, part))
// joined on the aggregate's group key, with the given filters on part.
func q17Shape(b *builder, joinType plan.JoinType, partFilters ...func(*plan.Scan) plan.Expr) plan.Node {
	l1 := b.scan("lineitem", "l1")
	sum := &plan.AggCall{Func: "sum", Args: []plan.Expr{b.col(l1, "l_quantity")}, Typ: &arrow.Decimal128Type{Precision: 38, Scale: 2}}
	a := b.agg(l1, []plan.Expr{b.col(l1, "l_partkey")}, sum)
	l2 := b.scan("lineitem", "l2")
	p := b.scan("part", "")
	for _, f := range partFilters {
		p.Filters = append(p.Filters, f(p))
	}
	inner := &plan.Join{Left: l2, Right: p, Type: plan.JoinInner, Cond: eq(b.col(l2, "l_partkey"), b.col(p, "p_partkey"))}
	return &plan.Join{Left: project(a, a.Out[0].Ref(), a.Out[1].Ref()), Right: inner, Type: joinType,
		Cond: eq(a.Out[0].Ref(), b.col(p, "p_partkey"))}
}

func TestReduceAggregateInput(t *testing.T) {
	b := newBuilder(t)
	brand := func(p *plan.Scan) plan.Expr { return eq(b.col(p, "p_brand"), str("Brand#23")) }
	box := func(p *plan.Scan) plan.Expr { return eq(b.col(p, "p_container"), str("MED BOX")) }
	tests := []struct {
		name  string
		in    plan.Node
		fires bool
	}{
		{"filtered part bounds the group key", q17Shape(b, plan.JoinInner, brand, box), true},
		{"semi join on the group key", q17Shape(b, plan.JoinSemi, brand, box), true},
		{"unfiltered part: nothing to gain", q17Shape(b, plan.JoinInner), false},
		{"left join keeps every aggregate row", q17Shape(b, plan.JoinLeft, brand, box), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, trace, err := Apply(tc.in, b.ids, ReduceAggregateInput{})
			if err != nil {
				t.Fatal(err)
			}
			if fired(trace, "reduce_aggregate_input") != tc.fires {
				t.Fatalf("fired=%v, want %v:\n%s", !tc.fires, tc.fires, plan.Format(out))
			}
			if !tc.fires {
				return
			}
			// The aggregate now reads lineitem semi-joined with a fresh copy
			// of the filtered part scan on l_partkey = p_partkey.
			var agg *plan.Aggregate
			walkAll(out, func(x plan.Node) {
				if a, ok := x.(*plan.Aggregate); ok {
					agg = a
				}
			})
			j, ok := agg.Input.(*plan.Join)
			if !ok || j.Type != plan.JoinSemi {
				t.Fatalf("aggregate input is not a semi join:\n%s", plan.Format(out))
			}
			s, ok := j.Right.(*plan.Scan)
			if !ok || s.Source.Name != "part" || len(s.Filters) != 2 {
				t.Fatalf("semi join does not read the filtered part scan:\n%s", plan.Format(out))
			}
			if produced(tc.in).Has(s.Out[0].ID) {
				t.Errorf("the copied scan reuses column IDs of the original plan")
			}
			if !sameSchema(out.Schema(), tc.in.Schema()) {
				t.Errorf("schema changed")
			}
			// Running again does not stack a second reduction.
			_, trace, err = Apply(out, b.ids, ReduceAggregateInput{})
			if err != nil {
				t.Fatal(err)
			}
			if fired(trace, "reduce_aggregate_input") {
				t.Errorf("fired twice")
			}
		})
	}
}
