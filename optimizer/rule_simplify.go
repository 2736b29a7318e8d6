package optimizer

import "github.com/flint-engine/flint/plan"

// Simplify removes no-op nodes and merges adjacent ones:
//   - Filter(TRUE) disappears; adjacent Filters merge into one;
//   - a Project that passes its input's columns through unchanged (same
//     IDs, names, order) disappears;
//   - Project(Project) merges when no inner computed expression would be
//     evaluated twice;
//   - a Project that only selects input columns by ID disappears below
//     an Aggregate or on the right of a semi/anti join (they pick columns
//     by ID and define their own output);
//   - Limit(Project) becomes Project(Limit), so Limit meets a Sort below
//     (top-N) and the projection runs on fewer rows; Limit(Predict)
//     becomes Predict(Limit) for the same reasons (scoring is row by row).
type Simplify struct{}

func (Simplify) Name() string { return "simplify" }

func (Simplify) Apply(n plan.Node, _ *Context) (plan.Node, bool, error) {
	changed := false
	out := plan.TransformPlan(n, func(x plan.Node) plan.Node {
		y := simplifyNode(x)
		if y != x {
			changed = true
		}
		return y
	})
	return out, changed, nil
}

func simplifyNode(x plan.Node) plan.Node {
	switch n := x.(type) {
	case *plan.Filter:
		if plan.IsTrue(n.Cond) {
			return n.Input
		}
		if in, ok := n.Input.(*plan.Filter); ok {
			return &plan.Filter{Input: in.Input, Cond: plan.And(append(splitAnd(in.Cond), splitAnd(n.Cond)...)...)}
		}
	case *plan.Project:
		if isIdentityProject(n) {
			return n.Input
		}
		if in, ok := n.Input.(*plan.Project); ok && mergeable(n, in) {
			m := make(map[plan.ColumnID]plan.Expr, len(in.Out))
			for i, e := range in.Projections {
				m[in.Out[i].ID] = e
			}
			projs := make([]plan.Expr, len(n.Projections))
			for i, e := range n.Projections {
				projs[i] = plan.ReplaceColumns(e, m)
			}
			return &plan.Project{Input: in.Input, Projections: projs, Out: n.Out}
		}
	case *plan.Aggregate:
		if in, ok := n.Input.(*plan.Project); ok && isPassThrough(in) {
			return &plan.Aggregate{Input: in.Input, GroupBy: n.GroupBy, Aggs: n.Aggs, Out: n.Out}
		}
	case *plan.Join:
		// The right input of a semi/anti/mark join is not part of its output.
		if in, ok := n.Right.(*plan.Project); ok && isPassThrough(in) && (n.Type == plan.JoinSemi || n.Type == plan.JoinAnti || n.Type == plan.JoinMark) {
			m := *n
			m.Right = in.Input
			return &m
		}
	case *plan.Limit:
		if p, ok := n.Input.(*plan.Project); ok && !hasSubquery(p.Projections...) {
			return &plan.Project{Input: &plan.Limit{Input: p.Input, Offset: n.Offset, Count: n.Count}, Projections: p.Projections, Out: p.Out}
		}
		if p, ok := n.Input.(*plan.Predict); ok {
			m := *p
			m.Input = &plan.Limit{Input: p.Input, Offset: n.Offset, Count: n.Count}
			return &m
		}
	}
	return x
}

// isPassThrough reports whether p only selects input columns, keeping
// their IDs: a parent that picks columns by ID can read p's input instead.
func isPassThrough(p *plan.Project) bool {
	for i, e := range p.Projections {
		r, ok := e.(*plan.ColRef)
		if !ok || r.ID != p.Out[i].ID {
			return false
		}
	}
	return true
}

func isIdentityProject(p *plan.Project) bool {
	in := p.Input.Schema()
	if len(in) != len(p.Out) {
		return false
	}
	for i, e := range p.Projections {
		r, ok := e.(*plan.ColRef)
		if !ok || r.ID != in[i].ID || p.Out[i].ID != in[i].ID || p.Out[i].Name != in[i].Name ||
			p.Out[i].Table != in[i].Table || p.Out[i].Nullable != in[i].Nullable {
			return false
		}
	}
	return true
}

// mergeable: every computed (non-ColRef) inner expression is used at most
// once by the outer Project, and none is volatile or a subquery.
func mergeable(outer, inner *plan.Project) bool {
	uses := map[plan.ColumnID]int{}
	for _, e := range outer.Projections {
		plan.WalkExpr(e, func(x plan.Expr) bool {
			if r, ok := x.(*plan.ColRef); ok {
				uses[r.ID]++
			}
			return true
		})
		if hasSubquery(e) {
			return false
		}
	}
	for i, e := range inner.Projections {
		if _, ok := e.(*plan.ColRef); ok {
			continue
		}
		if _, ok := e.(*plan.Literal); ok {
			continue
		}
		if uses[inner.Out[i].ID] > 1 || volatile(e) || hasSubquery(e) {
			return false
		}
	}
	return true
}
