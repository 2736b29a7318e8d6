package optimizer

import (
	"strings"
	"testing"

	"github.com/flint-engine/flint/plan"
)

func TestOptimizeTraceAndSchema(t *testing.T) {
	b := newBuilder(t)
	out, trace := mustOptimize(t, q5(b), b.ids)
	for _, want := range []string{"push_down_filters", "reorder_joins", "prune_columns"} {
		if !fired(trace, want) {
			t.Errorf("rule %s did not fire; trace %v", want, trace)
		}
	}
	// Optimizing an optimized plan changes nothing.
	again, trace2, err := OptimizeTrace(out, b.ids)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Format(again) != plan.Format(out) {
		t.Errorf("second optimization changed the plan (trace %v):\n%s\nvs\n%s", trace2, plan.Format(out), plan.Format(again))
	}
}

func TestOptimizeReportsUnsupported(t *testing.T) {
	b := newBuilder(t)
	o, li := b.scan("orders", ""), b.scan("lineitem", "")
	// A correlated scalar subquery without an aggregate.
	sc := subq(plan.SubScalar, project(filter(li, eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey"))), b.col(li, "l_quantity")), nil, false)
	_, err := Optimize(filter(o, plan.Or(bin(plan.OpGt, sc, dec(1, 15, 2)), bin(plan.OpEq, b.col(o, "o_orderstatus"), str("F")))), b.ids)
	if err == nil || !strings.Contains(err.Error(), "decorrelate_subqueries") || !strings.Contains(err.Error(), "not supported yet") {
		t.Errorf("want a decorrelation error naming the rule, got %v", err)
	}
}
