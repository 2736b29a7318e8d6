package optimizer

import (
	"reflect"
	"testing"

	"github.com/flint-engine/flint/plan"
)

// TestTopN calls the rule directly (not through Apply, which would hide a
// plan changed without reporting it) and checks the whole shape: where it
// fires, a Limit with the same offset and count over a Sort of the same
// input by the same keys that keeps offset+count rows; where it must not,
// the very plan it was given.
func TestTopN(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	keys := []plan.SortKey{{E: b.col(o, "o_totalprice"), Desc: true}, {E: b.col(o, "o_orderkey")}}
	sort := func(limit int64) *plan.Sort { return &plan.Sort{Input: o, Keys: keys, Limit: limit} }
	tests := []struct {
		name      string
		in        *plan.Limit
		wantLimit int64 // the Sort's limit after the rule
	}{
		{"limit over sort", &plan.Limit{Input: sort(-1), Count: 10}, 10},
		{"offset adds to the sort limit", &plan.Limit{Input: sort(-1), Offset: 5, Count: 10}, 15},
		{"looser top-n tightens", &plan.Limit{Input: sort(100), Count: 10}, 10},
		{"limit 0 keeps no row", &plan.Limit{Input: sort(-1), Count: 0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := plan.Format(tc.in)
			out, changed, err := TopN{}.Apply(tc.in, &Context{IDs: b.ids})
			if err != nil {
				t.Fatal(err)
			}
			if plan.Format(tc.in) != before {
				t.Errorf("the input plan was modified in place:\n%s", plan.Format(tc.in))
			}
			if !changed {
				t.Fatalf("did not fire:\n%s", plan.Format(out))
			}
			l, ok := out.(*plan.Limit)
			if !ok || l.Offset != tc.in.Offset || l.Count != tc.in.Count {
				t.Fatalf("want Limit offset=%d count=%d on top, got\n%s", tc.in.Offset, tc.in.Count, plan.Format(out))
			}
			s, ok := l.Input.(*plan.Sort)
			if !ok {
				t.Fatalf("the Sort is gone:\n%s", plan.Format(out))
			}
			if s.Limit != tc.wantLimit {
				t.Errorf("sort keeps %d rows, want %d:\n%s", s.Limit, tc.wantLimit, plan.Format(out))
			}
			if s.Input != plan.Node(o) {
				t.Errorf("sort input changed:\n%s", plan.Format(out))
			}
			if !reflect.DeepEqual(s.Keys, keys) {
				t.Errorf("sort keys %v, want %v", s.Keys, keys)
			}
			if !sameSchema(out.Schema(), tc.in.Schema()) {
				t.Errorf("schema %s, want %s", out.Schema(), tc.in.Schema())
			}
			// Idempotent: a second run leaves the top-N alone.
			if again, changed, _ := (TopN{}).Apply(out, &Context{IDs: b.ids}); changed || again != out {
				t.Errorf("fired again:\n%s", plan.Format(again))
			}
		})
	}

	unchanged := []struct {
		name string
		in   plan.Node
	}{
		{"already top-n", &plan.Limit{Input: sort(10), Count: 10}},
		// The Sort keeps 5 rows: widening it to 10 would return rows the
		// query never asked for.
		{"tighter top-n stays", &plan.Limit{Input: sort(5), Count: 10}},
		{"offset only: no count", &plan.Limit{Input: sort(-1), Offset: 5, Count: -1}},
		{"limit without sort", &plan.Limit{Input: o, Count: 10}},
		{"sort without limit", sort(-1)},
		// A Filter between them: the top rows of the sort are not the top
		// rows of the result.
		{"limit over filter over sort", &plan.Limit{Input: filter(sort(-1), bin(plan.OpGt, b.col(o, "o_totalprice"), dec(100000, 15, 2))), Count: 10}},
	}
	for _, tc := range unchanged {
		t.Run(tc.name, func(t *testing.T) {
			before := plan.Format(tc.in)
			out, changed, err := TopN{}.Apply(tc.in, &Context{IDs: b.ids})
			if err != nil {
				t.Fatal(err)
			}
			if changed {
				t.Errorf("fired:\n%s", plan.Format(out))
			}
			if got := plan.Format(out); got != before || plan.Format(tc.in) != before {
				t.Errorf("plan changed:\n%s\nwant\n%s", got, before)
			}
		})
	}
}
