package optimizer

import (
	"testing"

	"github.com/flint-engine/flint/plan"
)

func TestTopN(t *testing.T) {
	b := newBuilder(t)
	o := b.scan("orders", "")
	keys := []plan.SortKey{{E: b.col(o, "o_totalprice"), Desc: true}}
	tests := []struct {
		name      string
		in        plan.Node
		fires     bool
		wantLimit int64
	}{
		{"limit over sort", &plan.Limit{Input: &plan.Sort{Input: o, Keys: keys, Limit: -1}, Count: 10}, true, 10},
		{"offset adds to the sort limit", &plan.Limit{Input: &plan.Sort{Input: o, Keys: keys, Limit: -1}, Offset: 5, Count: 10}, true, 15},
		{"already top-n", &plan.Limit{Input: &plan.Sort{Input: o, Keys: keys, Limit: 10}, Count: 10}, false, 10},
		{"offset only: no count", &plan.Limit{Input: &plan.Sort{Input: o, Keys: keys, Limit: -1}, Offset: 5, Count: -1}, false, -1},
		{"limit without sort", &plan.Limit{Input: o, Count: 10}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, trace, err := Apply(tc.in, b.ids, TopN{})
			if err != nil {
				t.Fatal(err)
			}
			if fired(trace, "top_n") != tc.fires {
				t.Fatalf("fired=%v, want %v:\n%s", !tc.fires, tc.fires, plan.Format(out))
			}
			l := out.(*plan.Limit)
			if s, ok := l.Input.(*plan.Sort); ok && s.Limit != tc.wantLimit {
				t.Errorf("sort limit %d, want %d", s.Limit, tc.wantLimit)
			}
		})
	}
}
