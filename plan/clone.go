package plan

// Clone copies the plan n giving every column it produces a fresh ID from
// ids, and returns the copy with the mapping old ID → new ID. Expressions
// inside the copy (including the plans of Subquery expressions) are
// rewritten to the new IDs; references to columns n does not produce
// (correlated outer references) are kept as they are.
//
// The binder clones a view or CTE at every reference, so that a CTE used
// twice in one query (TPC-H Q15) yields two subtrees with distinct IDs.
// Node types unknown to this package are copied with WithChildren and keep
// their own output IDs. The input is treated as a tree: a node object that
// appears twice is copied twice (and the map holds the second copy's IDs).
func Clone(n Node, ids *IDGen) (Node, map[ColumnID]ColumnID) {
	c := &cloner{ids: ids, m: map[ColumnID]ColumnID{}}
	return c.node(n), c.m
}

type cloner struct {
	ids *IDGen
	m   map[ColumnID]ColumnID
}

func (c *cloner) fresh(s Schema) Schema {
	out := make(Schema, len(s))
	for i, col := range s {
		nid := c.ids.New()
		c.m[col.ID] = nid
		col.ID = nid
		out[i] = col
	}
	return out
}

func (c *cloner) expr(e Expr) Expr {
	if e == nil {
		return nil
	}
	return TransformExpr(e, func(x Expr) Expr {
		switch x := x.(type) {
		case *ColRef:
			if nid, ok := c.m[x.ID]; ok {
				r := *x
				r.ID = nid
				return &r
			}
		case *Subquery:
			s := *x
			s.Plan = c.node(x.Plan)
			return &s
		}
		return x
	})
}

func (c *cloner) exprs(es []Expr) []Expr {
	if es == nil {
		return nil
	}
	out := make([]Expr, len(es))
	for i, e := range es {
		out[i] = c.expr(e)
	}
	return out
}

func (c *cloner) sortKeys(ks []SortKey) []SortKey {
	if ks == nil {
		return nil
	}
	out := make([]SortKey, len(ks))
	for i, k := range ks {
		k.E = c.expr(k.E)
		out[i] = k
	}
	return out
}

func (c *cloner) node(n Node) Node {
	switch n := n.(type) {
	case *Scan:
		m := *n
		m.Out = c.fresh(n.Out)
		m.Cols = append([]int(nil), n.Cols...)
		m.Filters = c.exprs(n.Filters)
		return &m
	case *Values:
		m := *n
		m.Rows = make([][]Expr, len(n.Rows))
		for i, r := range n.Rows {
			m.Rows[i] = c.exprs(r)
		}
		m.Out = c.fresh(n.Out)
		return &m
	case *Filter:
		m := *n
		m.Input = c.node(n.Input)
		m.Cond = c.expr(n.Cond)
		return &m
	case *Project:
		m := *n
		m.Input = c.node(n.Input)
		m.Projections = c.exprs(n.Projections)
		m.Out = c.fresh(n.Out)
		return &m
	case *Aggregate:
		m := *n
		m.Input = c.node(n.Input)
		m.GroupBy = c.exprs(n.GroupBy)
		m.Aggs = make([]*AggCall, len(n.Aggs))
		for i, a := range n.Aggs {
			m.Aggs[i] = c.expr(a).(*AggCall)
		}
		m.Out = c.fresh(n.Out)
		return &m
	case *Join:
		m := *n
		m.Left = c.node(n.Left)
		m.Right = c.node(n.Right)
		m.Cond = c.expr(n.Cond)
		m.MarkCond = c.expr(n.MarkCond)
		if n.Type == JoinMark {
			m.Mark = c.fresh(Schema{n.Mark})[0]
		}
		return &m
	case *Sort:
		m := *n
		m.Input = c.node(n.Input)
		m.Keys = c.sortKeys(n.Keys)
		return &m
	case *Limit:
		m := *n
		m.Input = c.node(n.Input)
		return &m
	case *Union:
		m := *n
		m.Inputs = make([]Node, len(n.Inputs))
		for i, in := range n.Inputs {
			m.Inputs[i] = c.node(in)
		}
		m.Out = c.fresh(n.Out)
		return &m
	case *Window:
		m := *n
		m.Input = c.node(n.Input)
		m.Funcs = make([]*WindowCall, len(n.Funcs))
		for i, f := range n.Funcs {
			g := *f
			g.Args = c.exprs(f.Args)
			g.PartitionBy = c.exprs(f.PartitionBy)
			g.OrderBy = c.sortKeys(f.OrderBy)
			if f.Filter != nil {
				g.Filter = c.expr(f.Filter)
			}
			if f.Frame != nil {
				fr := *f.Frame
				g.Frame = &fr
			}
			m.Funcs[i] = &g
		}
		m.Out = c.passThrough(n.Out, len(n.Funcs), m.Input.Schema())
		return &m
	case *Predict:
		m := *n
		m.Input = c.node(n.Input)
		m.Features = c.exprs(n.Features)
		m.Out = c.passThrough(n.Out, len(n.Kinds), m.Input.Schema())
		return &m
	}
	children := n.Children()
	if len(children) == 0 {
		return n
	}
	nc := make([]Node, len(children))
	for i, ch := range children {
		nc[i] = c.node(ch)
	}
	return n.WithChildren(nc)
}

// passThrough is the cloned output of a node that passes its input's
// columns (in, already cloned) through and adds added new ones: the
// input's columns, then fresh IDs for the added ones.
func (c *cloner) passThrough(out Schema, added int, in Schema) Schema {
	k := len(out) - added
	res := make(Schema, 0, len(out))
	if k == len(in) {
		res = append(res, in...)
	} else {
		// Unexpected shape: remap what we can.
		for _, col := range out[:k] {
			if nid, ok := c.m[col.ID]; ok {
				col.ID = nid
			}
			res = append(res, col)
		}
	}
	return append(res, c.fresh(out[k:])...)
}
