package optimizer

import "github.com/flint-engine/flint/plan"

// PruneColumns keeps in every node only the columns needed above it: Scan
// Cols/Out shrink to the referenced columns (a Project above the scan
// drops those only its filters read), Projects drop unused
// expressions, Aggregates drop unused aggregate calls, Windows drop unused
// functions, Predicts drop unused outputs and disappear when none is used
// (all side-effect free). The root keeps all its columns. A node
// may still produce more than is needed (a scan keeps one column when none
// is referenced, so it still counts rows); Union inputs are projected to
// exactly the columns the Union keeps, since Union maps by position.
type PruneColumns struct{}

func (PruneColumns) Name() string { return "prune_columns" }

func (PruneColumns) Apply(n plan.Node, _ *Context) (plan.Node, bool, error) {
	out := projectTo(prune(n, n.Schema().IDs()), n.Schema())
	return out, changedPlan(n, out), nil
}

func prune(n plan.Node, req plan.ColumnSet) plan.Node {
	switch x := n.(type) {
	case *plan.Scan:
		s := pruneScan(x, req)
		// Columns read only by the scan's own filters stop at the scan:
		// above it they would be carried (through exchanges, into build
		// tables) for nothing.
		var p plan.Project
		for _, c := range s.Out {
			if req.Has(c.ID) {
				p.Projections = append(p.Projections, c.Ref())
				p.Out = append(p.Out, c)
			}
		}
		if len(p.Out) > 0 && len(p.Out) < len(s.Out) {
			p.Input = s
			return &p
		}
		return s
	case *plan.Values:
		return x
	case *plan.Filter:
		return &plan.Filter{Input: prune(x.Input, union(req, refs(x.Cond))), Cond: x.Cond}
	case *plan.Project:
		p := &plan.Project{}
		for i, e := range x.Projections {
			if req.Has(x.Out[i].ID) {
				p.Projections = append(p.Projections, e)
				p.Out = append(p.Out, x.Out[i])
			}
		}
		if len(p.Out) == 0 && len(x.Out) > 0 {
			p.Projections, p.Out = x.Projections[:1:1], x.Out[:1:1]
		}
		if sc, ok := x.Input.(*plan.Scan); ok {
			p.Input = pruneScan(sc, refsAll(p.Projections)) // p drops the filter columns
		} else {
			p.Input = prune(x.Input, refsAll(p.Projections))
		}
		return p
	case *plan.Aggregate:
		a := &plan.Aggregate{GroupBy: x.GroupBy, Out: append(plan.Schema(nil), x.Out[:len(x.GroupBy)]...)}
		need := refsAll(x.GroupBy)
		for i, ag := range x.Aggs {
			col := x.Out[len(x.GroupBy)+i]
			if !req.Has(col.ID) {
				continue
			}
			a.Aggs = append(a.Aggs, ag)
			a.Out = append(a.Out, col)
			need = union(need, refs(ag))
		}
		if len(a.Out) == 0 && len(x.Aggs) > 0 {
			// Keep one aggregate: a global aggregate must still yield its row.
			a.Aggs, a.Out = x.Aggs[:1:1], x.Out[:1:1]
			need = union(need, refs(x.Aggs[0]))
		}
		a.Input = prune(x.Input, need)
		return a
	case *plan.Join:
		need := req
		for _, e := range x.Exprs() {
			need = union(need, refs(e))
		}
		l := prune(x.Left, need)
		var r plan.Node
		if x.Type == plan.JoinSemi || x.Type == plan.JoinAnti || x.Type == plan.JoinMark {
			r = prune(x.Right, refsAll(x.Exprs()))
		} else {
			r = prune(x.Right, need)
		}
		m := *x
		m.Left, m.Right = l, r
		return &m
	case *plan.Sort:
		need := req
		for _, k := range x.Keys {
			need = union(need, refs(k.E))
		}
		return &plan.Sort{Input: prune(x.Input, need), Keys: x.Keys, Limit: x.Limit}
	case *plan.Limit:
		return &plan.Limit{Input: prune(x.Input, req), Offset: x.Offset, Count: x.Count}
	case *plan.Window:
		w := &plan.Window{Out: append(plan.Schema(nil), x.Out[:len(x.Out)-len(x.Funcs)]...)}
		need := plan.ColumnSet{}
		for id := range req {
			need[id] = struct{}{}
		}
		base := len(x.Out) - len(x.Funcs)
		for i, f := range x.Funcs {
			if !req.Has(x.Out[base+i].ID) {
				continue
			}
			w.Funcs = append(w.Funcs, f)
			w.Out = append(w.Out, x.Out[base+i])
			need = union(need, refsAll(f.PartitionBy))
			need = union(need, refsAll(f.Args))
			if f.Filter != nil {
				need = union(need, refs(f.Filter))
			}
			for _, k := range f.OrderBy {
				need = union(need, refs(k.E))
			}
		}
		in := prune(x.Input, need)
		w.Input = in
		// Window's output is its input's columns then the functions.
		w.Out = append(append(plan.Schema(nil), in.Schema()...), w.Out[base:]...)
		if len(w.Funcs) == 0 {
			return in
		}
		return w
	case *plan.Predict:
		p := &plan.Predict{Model: x.Model, Features: x.Features}
		for i, c := range x.Outputs() {
			if req.Has(c.ID) {
				p.Kinds = append(p.Kinds, x.Kinds[i])
				p.Out = append(p.Out, c)
			}
		}
		if len(p.Kinds) == 0 {
			return prune(x.Input, req)
		}
		p.Input = prune(x.Input, union(req, refsAll(x.Features)))
		// Predict's output is its input's columns then the predictions.
		p.Out = append(append(plan.Schema(nil), p.Input.Schema()...), p.Out...)
		return p
	case *plan.Union:
		u := &plan.Union{}
		var keep []int
		for j, c := range x.Out {
			if req.Has(c.ID) {
				keep = append(keep, j)
				u.Out = append(u.Out, c)
			}
		}
		if len(keep) == 0 && len(x.Out) > 0 {
			keep, u.Out = []int{0}, x.Out[:1:1]
		}
		for _, in := range x.Inputs {
			s := in.Schema()
			want := make(plan.Schema, len(keep))
			need := plan.ColumnSet{}
			for i, j := range keep {
				want[i] = s[j]
				need[s[j].ID] = struct{}{}
			}
			u.Inputs = append(u.Inputs, projectTo(prune(in, need), want))
		}
		return u
	}
	return n
}

func orTrue(e plan.Expr) plan.Expr {
	if e == nil {
		return trueLit()
	}
	return e
}

// pruneScan keeps the columns of x that req or its filters read.
func pruneScan(x *plan.Scan, req plan.ColumnSet) *plan.Scan {
	need := union(req, refsAll(x.Filters))
	s := *x
	s.Cols, s.Out = nil, nil
	for i, c := range x.Out {
		if need.Has(c.ID) {
			s.Cols = append(s.Cols, x.Cols[i])
			s.Out = append(s.Out, c)
		}
	}
	if len(s.Out) == 0 && len(x.Out) > 0 {
		s.Cols, s.Out = x.Cols[:1:1], x.Out[:1:1]
	}
	return &s
}
