package optimizer

import (
	"github.com/flint-engine/flint/plan"
)

// ReduceAggregateInput filters the input of a grouped aggregate that is
// joined on one of its group keys with a semi join against a small,
// filtered scan that bounds the other side's key values ("magic set"
// reduction, what DuckDB's delim joins achieve for decorrelated
// subqueries).
//
// TPC-H Q17 decorrelates into
//
//	Join Inner on p_partkey = l_partkey'
//	  Aggregate group=[l_partkey] avg(l_quantity)   -- all 6M lineitem rows
//	  Join (lineitem, Scan part filters=[brand, container])
//
// Only the ~200 parts passing the filters can ever meet an aggregate row,
// so the aggregate may read lineitem SEMI JOIN (that filtered part scan)
// instead: a whole group survives or goes, so every aggregate value that
// reaches the join is unchanged.
//
// Validity: the other side's key column must take its values from the scan
// through operators that only drop rows or copy values (filters, column
// projections, inner joins, the kept side of semi joins, group keys of
// aggregates), possibly crossing to an equal column through an inner or
// semi join's equality. Then every key value on the other side occurs in
// the filtered scan, and the semi join removes only groups the join would
// drop anyway. The rule fires when the scan is estimated at under an
// eighth of the aggregate's input; it runs once.
type ReduceAggregateInput struct{}

func (ReduceAggregateInput) Name() string { return "reduce_aggregate_input" }

// reduceFactor is how much smaller than the aggregate's input the filtered
// scan must be estimated for the rewrite to pay for its extra scan.
const reduceFactor = 8

func (ReduceAggregateInput) Apply(n plan.Node, ctx *Context) (plan.Node, bool, error) {
	est := newEstimator(n, ctx.Stats)
	changed := false
	out := plan.TransformPlan(n, func(x plan.Node) plan.Node {
		j, ok := x.(*plan.Join)
		if !ok || (j.Type != plan.JoinInner && j.Type != plan.JoinSemi) {
			return x
		}
		if nl, ok := reduceSide(j.Left, j.Right, j.Cond, est, ctx.IDs); ok {
			changed = true
			m := *j
			m.Left = nl
			return &m
		}
		if nr, ok := reduceSide(j.Right, j.Left, j.Cond, est, ctx.IDs); ok {
			changed = true
			m := *j
			m.Right = nr
			return &m
		}
		return x
	})
	return out, changed, nil
}

// reduceSide rewrites the aggregate under side (through column-copying
// projections) when cond equates one of its group keys with a column of
// other bounded by a small filtered scan.
func reduceSide(side, other plan.Node, cond plan.Expr, est *estimator, ids *plan.IDGen) (plan.Node, bool) {
	agg, path := aggregateBelow(side)
	if agg == nil || len(agg.GroupBy) == 0 {
		return nil, false
	}
	if j, ok := agg.Input.(*plan.Join); ok && j.Type == plan.JoinSemi {
		if _, ok := j.Right.(*plan.Scan); ok {
			return nil, false // already reduced
		}
	}
	sideCols, otherCols := side.Schema().IDs(), other.Schema().IDs()
	for _, c := range plan.SplitConjuncts(cond) {
		a, b, ok := columnEquality(c)
		if !ok {
			continue
		}
		if !sideCols.Has(a) {
			a, b = b, a
		}
		if !sideCols.Has(a) || !otherCols.Has(b) {
			continue
		}
		key, ok := groupKeyInput(agg, traceColumn(path, a))
		if !ok {
			continue
		}
		scan, col := boundingScan(other, b, est)
		if scan == nil || est.rows(scan)*reduceFactor > est.rows(agg.Input) {
			continue
		}
		clone, m := plan.Clone(scan, ids)
		cs := clone.Schema()
		ref := cs[cs.Index(m[col])].Ref()
		reduced := &plan.Aggregate{
			Input:   &plan.Join{Left: agg.Input, Right: clone, Type: plan.JoinSemi, Cond: plan.Eq(key, ref)},
			GroupBy: agg.GroupBy, Aggs: agg.Aggs, Out: agg.Out,
		}
		return replaceNode(side, agg, reduced), true
	}
	return nil, false
}

// aggregateBelow finds an Aggregate at n or under Projects, returning the
// projections passed on the way down.
func aggregateBelow(n plan.Node) (*plan.Aggregate, []*plan.Project) {
	var path []*plan.Project
	for {
		switch x := n.(type) {
		case *plan.Aggregate:
			return x, path
		case *plan.Project:
			path = append(path, x)
			n = x.Input
		default:
			return nil, nil
		}
	}
}

// traceColumn follows column id down through projections that copy it;
// it returns -1 when a projection computes it.
func traceColumn(path []*plan.Project, id plan.ColumnID) plan.ColumnID {
	for _, p := range path {
		i := p.Out.Index(id)
		if i < 0 {
			return -1
		}
		r, ok := p.Projections[i].(*plan.ColRef)
		if !ok {
			return -1
		}
		id = r.ID
	}
	return id
}

// groupKeyInput returns the input column of the group key that the
// aggregate outputs as id, when that key is a plain column.
func groupKeyInput(agg *plan.Aggregate, id plan.ColumnID) (*plan.ColRef, bool) {
	if id < 0 {
		return nil, false
	}
	i := agg.Out.Index(id)
	if i < 0 || i >= len(agg.GroupBy) {
		return nil, false
	}
	r, ok := agg.GroupBy[i].(*plan.ColRef)
	return r, ok
}

// boundingScan finds the filtered Scan with the fewest estimated rows whose
// column bounds the values of column id in n (see ReduceAggregateInput),
// and that column.
func boundingScan(n plan.Node, id plan.ColumnID, est *estimator) (*plan.Scan, plan.ColumnID) {
	var best *plan.Scan
	var bestCol plan.ColumnID
	consider := func(s *plan.Scan, c plan.ColumnID) {
		if s != nil && (best == nil || est.rows(s) < est.rows(best)) {
			best, bestCol = s, c
		}
	}
	switch x := n.(type) {
	case *plan.Scan:
		if len(x.Filters) > 0 && x.Out.Index(id) >= 0 {
			return x, id
		}
	case *plan.Filter:
		return boundingScan(x.Input, id, est)
	case *plan.Project:
		if c := traceColumn([]*plan.Project{x}, id); c >= 0 {
			return boundingScan(x.Input, c, est)
		}
	case *plan.Aggregate:
		if r, ok := groupKeyInput(x, id); ok {
			return boundingScan(x.Input, r.ID, est)
		}
	case *plan.Join:
		if x.Type != plan.JoinInner && x.Type != plan.JoinSemi {
			return nil, 0
		}
		l, r := x.Left.Schema().IDs(), x.Right.Schema().IDs()
		var here plan.Node
		var there plan.Node
		var thereCols plan.ColumnSet
		switch {
		case l.Has(id):
			here, there, thereCols = x.Left, x.Right, r
		case r.Has(id) && x.Type == plan.JoinInner:
			here, there, thereCols = x.Right, x.Left, l
		default:
			return nil, 0
		}
		consider(boundingScan(here, id, est))
		// An equality with the other input bounds id by that column too.
		for _, c := range plan.SplitConjuncts(x.Cond) {
			a, b, ok := columnEquality(c)
			if !ok {
				continue
			}
			if b == id {
				a, b = b, a
			}
			if a == id && thereCols.Has(b) {
				consider(boundingScan(there, b, est))
			}
		}
	}
	return best, bestCol
}

// replaceNode returns root with the node old replaced by repl.
func replaceNode(root, old, repl plan.Node) plan.Node {
	return plan.TransformPlan(root, func(x plan.Node) plan.Node {
		if x == old {
			return repl
		}
		return x
	})
}
