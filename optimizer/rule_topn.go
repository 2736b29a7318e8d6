package optimizer

import "github.com/flint-engine/flint/plan"

// TopN turns Limit(Sort) into Limit(Sort{Limit: offset+count}), a top-N
// sort that keeps only the rows the Limit can return. The Limit stays on
// top (it applies the offset and is cheap).
type TopN struct{}

func (TopN) Name() string { return "top_n" }

func (TopN) Apply(n plan.Node, _ *Context) (plan.Node, bool, error) {
	changed := false
	out := plan.TransformPlan(n, func(x plan.Node) plan.Node {
		l, ok := x.(*plan.Limit)
		if !ok || l.Count < 0 {
			return x
		}
		s, ok := l.Input.(*plan.Sort)
		if !ok {
			return x
		}
		want := l.Offset + l.Count
		if s.Limit >= 0 && s.Limit <= want {
			return x
		}
		changed = true
		return &plan.Limit{Input: &plan.Sort{Input: s.Input, Keys: s.Keys, Limit: want}, Offset: l.Offset, Count: l.Count}
	})
	return out, changed, nil
}
