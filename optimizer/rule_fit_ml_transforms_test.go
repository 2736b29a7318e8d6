package optimizer

import (
	"strings"
	"testing"

	"github.com/flint-engine/flint/plan"
)

// TestFitMLTransforms binds ML transforms over TPC-H tables and checks the
// rule fired and left no ML window call: a global fit is a group-less
// aggregate joined without keys, a partitioned fit one grouped by the
// partition key and joined on it null-safely, and the encoders rank their
// category counts. Other window functions of the same SELECT stay in a
// Window. The answers themselves are checked against DuckDB in
// testdata/slt/ml_transform.slt.
func TestFitMLTransforms(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string
	}{
		{"global scaler", "SELECT ml.standard_scaler(o_totalprice) OVER () FROM orders",
			[]string{"Aggregate group=[] aggs=[avg(", "stddev_samp(", "ml.standard_scale(", "Join Left\n"}},
		{"partitioned min-max", "SELECT ml.min_max_scaler(o_totalprice) OVER (PARTITION BY o_orderstatus) FROM orders",
			[]string{"aggs=[min(", "max(", "IS NOT DISTINCT FROM", "ml.min_max_scale("}},
		{"median", "SELECT ml.imputer(o_totalprice, 'median') OVER () FROM orders",
			[]string{"ml.quantile_sketch(", "ml.sketch_quantile(", "ml.impute("}},
		{"quantile buckets", "SELECT ml.quantile_bucketize(o_totalprice, 10) OVER () FROM orders",
			[]string{"ml.quantile_sketch(", "ml.sketch_splits(", "ml.bucketize("}},
		{"most frequent", "SELECT ml.imputer(o_custkey, 'most_frequent') OVER () FROM orders",
			[]string{"row_number(", "count(*)", "ml.impute("}},
		{"one-hot with another window", "SELECT ml.one_hot_encoder(o_orderpriority, 3) OVER (), rank() OVER (ORDER BY o_orderdate) FROM orders",
			[]string{"row_number(", "ml.one_hot(", "Window rank("}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := &plan.IDGen{}
			p := bindSQL(t, tc.sql, ids)
			out, trace, err := OptimizeTrace(p, ids)
			if err != nil {
				t.Fatal(err)
			}
			if !fired(trace, FitMLTransforms{}.Name()) {
				t.Fatalf("fit_ml_transforms did not fire: %v", trace)
			}
			got := plan.Format(out)
			walkAll(out, func(n plan.Node) {
				if w, ok := n.(*plan.Window); ok && hasMLTransform(w) {
					t.Errorf("an ML transform is left in the plan:\n%s", got)
				}
			})
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("plan lacks %q:\n%s", w, got)
				}
			}
		})
	}
	// No transform: the rule does not fire.
	ids := &plan.IDGen{}
	p := bindSQL(t, "SELECT rank() OVER (ORDER BY o_orderdate) FROM orders", ids)
	if _, changed, err := (FitMLTransforms{}).Apply(p, &Context{IDs: ids}); err != nil || changed {
		t.Errorf("fired on a plan without transforms (changed=%v, err=%v)", changed, err)
	}
}
