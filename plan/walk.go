package plan

import "strings"

// WalkPlan calls fn on n and its descendants in pre-order; fn returning
// false skips the node's children.
func WalkPlan(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	for _, c := range n.Children() {
		WalkPlan(c, fn)
	}
}

// TransformPlan rebuilds n bottom-up, replacing each node by fn(node).
func TransformPlan(n Node, fn func(Node) Node) Node {
	children := n.Children()
	if len(children) > 0 {
		changed := false
		nc := make([]Node, len(children))
		for i, c := range children {
			nc[i] = TransformPlan(c, fn)
			if nc[i] != c {
				changed = true
			}
		}
		if changed {
			n = n.WithChildren(nc)
		}
	}
	return fn(n)
}

// Format renders the plan as an indented tree, one node per line.
func Format(n Node) string {
	var b strings.Builder
	var rec func(n Node, depth int)
	rec = func(n Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.String())
		b.WriteByte('\n')
		for _, c := range n.Children() {
			rec(c, depth+1)
		}
	}
	rec(n, 0)
	return b.String()
}
