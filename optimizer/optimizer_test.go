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
	o, li, c := b.scan("orders", ""), b.scan("lineitem", ""), b.scan("customer", "")
	// A subquery over both inputs of an outer join's condition.
	ex := subq(plan.SubExists, filter(li, eq(b.col(li, "l_orderkey"), b.col(o, "o_orderkey")), eq(b.col(li, "l_suppkey"), b.col(c, "c_custkey"))), nil, false)
	j := &plan.Join{Left: o, Right: c, Type: plan.JoinLeft, Cond: plan.Or(ex, eq(b.col(o, "o_custkey"), b.col(c, "c_custkey")))}
	_, err := Optimize(j, b.ids)
	if err == nil || !strings.Contains(err.Error(), "decorrelate_subqueries") || !strings.Contains(err.Error(), "not supported yet") {
		t.Errorf("want a decorrelation error naming the rule, got %v", err)
	}
}
