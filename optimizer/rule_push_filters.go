package optimizer

import (
	"github.com/flint-engine/flint/plan"
)

// PushDownFilters moves predicates as close to the scans as they can go:
// through Project (substituting the projected expressions), Sort, Union,
// Predict (predicates not on the predictions) and Aggregate (predicates
// on group columns only), into the inputs of
// inner joins (a WHERE predicate over both sides becomes the join
// condition, turning a comma/cross join into an inner join), into the
// preserved side of outer joins and the left side of semi, anti and mark
// joins, and finally into Scan.Filters. A WHERE predicate that rejects the
// NULLs an outer join adds (e.g. x > y with y from the inner side) first
// turns the outer join into an inner (or the full join into a one-sided)
// join; a predicate on the null-supplying side of a remaining outer join
// stays above it. Predicates containing subqueries or volatile functions
// stay where they are.
type PushDownFilters struct{}

func (PushDownFilters) Name() string { return "push_down_filters" }

func (PushDownFilters) Apply(n plan.Node, _ *Context) (plan.Node, bool, error) {
	out := pushFilters(n, nil)
	return out, changedPlan(n, out), nil
}

func movable(p plan.Expr) bool { return !hasSubquery(p) && !volatile(p) }

// wrapFilter puts preds (deduplicated) in a Filter above n.
func wrapFilter(n plan.Node, preds []plan.Expr) plan.Node {
	preds = dedupe(preds)
	if len(preds) == 0 {
		return n
	}
	return &plan.Filter{Input: n, Cond: plan.And(preds...)}
}

func dedupe(preds []plan.Expr) []plan.Expr {
	seen := map[string]bool{}
	var out []plan.Expr
	for _, p := range preds {
		if plan.IsTrue(p) {
			continue
		}
		s := p.String()
		if !seen[s] {
			seen[s] = true
			out = append(out, p)
		}
	}
	return out
}

// pushFilters returns n with preds (over n's columns) applied as low as
// possible, and with pushdown done inside n's subtree.
func pushFilters(n plan.Node, preds []plan.Expr) plan.Node {
	switch x := n.(type) {
	case *plan.Filter:
		all := normalizePreds(append(append([]plan.Expr(nil), preds...), splitAnd(x.Cond)...))
		var fixed, move []plan.Expr
		for _, p := range all {
			if movable(p) {
				move = append(move, p)
			} else {
				fixed = append(fixed, p)
			}
		}
		if len(fixed) > 0 {
			return wrapFilter(pushFilters(x.Input, move), fixed)
		}
		return pushFilters(x.Input, move)

	case *plan.Project:
		m := make(map[plan.ColumnID]plan.Expr, len(x.Out))
		blocked := plan.ColumnSet{}
		for i, e := range x.Projections {
			m[x.Out[i].ID] = e
			if !movable(e) {
				blocked[x.Out[i].ID] = struct{}{}
			}
		}
		var down, keep []plan.Expr
		for _, p := range preds {
			if !movable(p) || touches(p, blocked) {
				keep = append(keep, p)
				continue
			}
			down = append(down, plan.ReplaceColumns(p, m))
		}
		return wrapFilter(&plan.Project{Input: pushFilters(x.Input, down), Projections: x.Projections, Out: x.Out}, keep)

	case *plan.Sort:
		if x.Limit >= 0 {
			return wrapFilter(&plan.Sort{Input: pushFilters(x.Input, nil), Keys: x.Keys, Limit: x.Limit}, preds)
		}
		return &plan.Sort{Input: pushFilters(x.Input, preds), Keys: x.Keys, Limit: x.Limit}

	case *plan.Limit:
		return wrapFilter(&plan.Limit{Input: pushFilters(x.Input, nil), Offset: x.Offset, Count: x.Count}, preds)

	case *plan.Aggregate:
		groupCols := plan.ColumnSet{}
		m := map[plan.ColumnID]plan.Expr{}
		for i, g := range x.GroupBy {
			groupCols[x.Out[i].ID] = struct{}{}
			m[x.Out[i].ID] = g
		}
		var down, keep []plan.Expr
		for _, p := range preds {
			r := refs(p)
			if movable(p) && len(r) > 0 && r.SubsetOf(groupCols) {
				down = append(down, plan.ReplaceColumns(p, m))
			} else {
				keep = append(keep, p)
			}
		}
		return wrapFilter(&plan.Aggregate{Input: pushFilters(x.Input, down), GroupBy: x.GroupBy, Aggs: x.Aggs, Out: x.Out}, keep)

	case *plan.Union:
		inputs := make([]plan.Node, len(x.Inputs))
		var keep []plan.Expr
		var move []plan.Expr
		for _, p := range preds {
			if movable(p) {
				move = append(move, p)
			} else {
				keep = append(keep, p)
			}
		}
		for i, in := range x.Inputs {
			s := in.Schema()
			m := make(map[plan.ColumnID]plan.Expr, len(x.Out))
			for j, c := range x.Out {
				m[c.ID] = s[j].Ref()
			}
			var down []plan.Expr
			for _, p := range move {
				down = append(down, plan.ReplaceColumns(p, m))
			}
			inputs[i] = pushFilters(in, down)
		}
		return wrapFilter(&plan.Union{Inputs: inputs, Out: x.Out}, keep)

	case *plan.Window:
		part := windowPartitionCols(x)
		var down, keep []plan.Expr
		for _, p := range preds {
			r := refs(p)
			if movable(p) && len(r) > 0 && r.SubsetOf(part) {
				down = append(down, p)
			} else {
				keep = append(keep, p)
			}
		}
		return wrapFilter(&plan.Window{Input: pushFilters(x.Input, down), Funcs: x.Funcs, Out: x.Out}, keep)

	case *plan.Predict:
		// Scoring is row by row: a predicate on the input's columns keeps
		// the same rows below it, and fewer rows are scored.
		in := x.Input.Schema().IDs()
		var down, keep []plan.Expr
		for _, p := range preds {
			if movable(p) && refs(p).SubsetOf(in) {
				down = append(down, p)
			} else {
				keep = append(keep, p)
			}
		}
		m := *x
		m.Input = pushFilters(x.Input, down)
		return wrapFilter(&m, keep)

	case *plan.Scan:
		var keep []plan.Expr
		s := *x
		s.Filters = append([]plan.Expr(nil), x.Filters...)
		for _, p := range preds {
			if movable(p) {
				s.Filters = append(s.Filters, p)
			} else {
				keep = append(keep, p)
			}
		}
		s.Filters = dedupe(s.Filters)
		return wrapFilter(&s, keep)

	case *plan.Join:
		return pushJoin(x, preds)
	}
	// Values and anything unknown: stop here.
	nc := make([]plan.Node, len(n.Children()))
	for i, c := range n.Children() {
		nc[i] = pushFilters(c, nil)
	}
	if len(nc) > 0 {
		n = n.WithChildren(nc)
	}
	return wrapFilter(n, preds)
}

// windowPartitionCols are the columns every window function partitions by:
// filtering on them commutes with the window.
func windowPartitionCols(w *plan.Window) plan.ColumnSet {
	var out plan.ColumnSet
	for _, f := range w.Funcs {
		set := plan.ColumnSet{}
		for _, p := range f.PartitionBy {
			if r, ok := p.(*plan.ColRef); ok {
				set[r.ID] = struct{}{}
			}
		}
		if out == nil {
			out = set
			continue
		}
		for id := range out {
			if !set.Has(id) {
				delete(out, id)
			}
		}
	}
	return out
}

func pushJoin(x *plan.Join, preds []plan.Expr) plan.Node {
	lcols, rcols := x.Left.Schema().IDs(), x.Right.Schema().IDs()
	typ := x.Type
	switch typ {
	case plan.JoinLeft:
		if anyNullRejecting(preds, rcols) {
			typ = plan.JoinInner
		}
	case plan.JoinRight:
		if anyNullRejecting(preds, lcols) {
			typ = plan.JoinInner
		}
	case plan.JoinFull:
		rejL, rejR := anyNullRejecting(preds, lcols), anyNullRejecting(preds, rcols)
		switch {
		case rejL && rejR:
			typ = plan.JoinInner
		case rejL:
			typ = plan.JoinLeft
		case rejR:
			typ = plan.JoinRight
		}
	}
	var lp, rp, cond, keep []plan.Expr
	condPreds := splitAnd(x.Cond)
	switch typ {
	case plan.JoinInner, plan.JoinCross:
		for _, p := range normalizePreds(append(append([]plan.Expr(nil), preds...), condPreds...)) {
			r := refs(p)
			switch {
			case !movable(p):
				cond = append(cond, p)
			case r.SubsetOf(lcols):
				lp = append(lp, p)
			case r.SubsetOf(rcols):
				rp = append(rp, p)
			default:
				cond = append(cond, p)
				// An OR over both sides still implies a filter on each
				// side (TPC-H Q19, Q7): keep p, push the implied ones.
				if d := impliedFor(p, lcols); d != nil {
					lp = append(lp, d)
				}
				if d := impliedFor(p, rcols); d != nil {
					rp = append(rp, d)
				}
			}
		}
		typ = plan.JoinInner
		if len(dedupe(cond)) == 0 {
			typ = plan.JoinCross
		}
	case plan.JoinLeft, plan.JoinRight:
		keepSide, nullSide := lcols, rcols
		if typ == plan.JoinRight {
			keepSide, nullSide = rcols, lcols
		}
		var kp, np []plan.Expr
		for _, p := range preds {
			if movable(p) && refs(p).SubsetOf(keepSide) {
				kp = append(kp, p)
			} else {
				keep = append(keep, p)
			}
		}
		for _, p := range condPreds {
			r := refs(p)
			if movable(p) && len(r) > 0 && r.SubsetOf(nullSide) {
				np = append(np, p)
			} else {
				cond = append(cond, p)
			}
		}
		if typ == plan.JoinLeft {
			lp, rp = kp, np
		} else {
			lp, rp = np, kp
		}
	case plan.JoinSemi, plan.JoinAnti:
		for _, p := range preds {
			if movable(p) {
				lp = append(lp, p)
			} else {
				keep = append(keep, p)
			}
		}
		for _, p := range condPreds {
			r := refs(p)
			switch {
			case x.NullAware || !movable(p) || len(r) == 0:
				cond = append(cond, p)
			case r.SubsetOf(rcols):
				rp = append(rp, p)
			case typ == plan.JoinSemi && r.SubsetOf(lcols):
				lp = append(lp, p)
			default:
				cond = append(cond, p)
			}
		}
	case plan.JoinMark:
		// Every left row passes once, so filters on left columns commute;
		// a predicate on the mark stays above. A condition on the right
		// columns alone only narrows the right rows every mark looks at.
		for _, p := range preds {
			if movable(p) && refs(p).SubsetOf(lcols) {
				lp = append(lp, p)
			} else {
				keep = append(keep, p)
			}
		}
		for _, p := range condPreds {
			r := refs(p)
			if movable(p) && len(r) > 0 && r.SubsetOf(rcols) {
				rp = append(rp, p)
			} else {
				cond = append(cond, p)
			}
		}
	default: // Full
		keep = preds
		cond = condPreds
	}
	j := &plan.Join{
		Left:      pushFilters(x.Left, lp),
		Right:     pushFilters(x.Right, rp),
		Type:      typ,
		Cond:      plan.And(equalitiesFirst(dedupe(cond))...),
		NullAware: x.NullAware,
		MarkCond:  x.MarkCond,
		Mark:      x.Mark,
	}
	if typ == plan.JoinSemi || typ == plan.JoinAnti {
		return wrapFilter(pushSemiIntoInner(j), keep)
	}
	return wrapFilter(j, keep)
}

// pushSemiIntoInner moves a semi/anti join below an inner join on its left
// when its condition uses only one input of that inner join:
// Semi(Inner(A, B), R) = Inner(Semi(A, R), B). The semi join then filters
// A before the (possibly large) inner join (TPC-H Q18).
func pushSemiIntoInner(j *plan.Join) plan.Node {
	in, ok := j.Left.(*plan.Join)
	if !ok || (in.Type != plan.JoinInner && in.Type != plan.JoinCross) {
		return j
	}
	rcols := j.Right.Schema().IDs()
	leftRefs := plan.ColumnSet{}
	for id := range refs(orTrue(j.Cond)) {
		if !rcols.Has(id) {
			leftRefs[id] = struct{}{}
		}
	}
	if len(leftRefs) == 0 {
		return j
	}
	move := func(child plan.Node) plan.Node {
		m := *j
		m.Left = child
		return pushSemiIntoInner(&m)
	}
	// Only worth it when the semi join's build side is smaller than the
	// input it would filter: Q21's EXISTS over all of lineitem is better
	// probed with the few rows left after the selective inner joins.
	cheap := func(target plan.Node) bool {
		return EstimateRows(j.Right) < EstimateRows(target)
	}
	switch {
	case leftRefs.SubsetOf(in.Left.Schema().IDs()) && cheap(in.Left):
		return &plan.Join{Left: move(in.Left), Right: in.Right, Type: in.Type, Cond: in.Cond}
	case leftRefs.SubsetOf(in.Right.Schema().IDs()) && cheap(in.Right):
		return &plan.Join{Left: in.Left, Right: move(in.Right), Type: in.Type, Cond: in.Cond}
	}
	return j
}

// normalizePreds splits conjuncts and factors conjuncts common to every
// arm of an OR out of it: (a AND b) OR (a AND c) → a AND (b OR c). TPC-H
// Q19 repeats its join equality in each arm; factored out it becomes a
// hash join key.
func normalizePreds(preds []plan.Expr) []plan.Expr {
	var out []plan.Expr
	for _, p := range preds {
		out = append(out, splitAnd(factorOr(p))...)
	}
	return out
}

func factorOr(p plan.Expr) plan.Expr {
	b, ok := p.(*plan.Binary)
	if !ok || b.Op != plan.OpOr {
		return p
	}
	arms := plan.SplitDisjuncts(p)
	sets := make([][]plan.Expr, len(arms))
	count := map[string]int{}
	for i, a := range arms {
		seen := map[string]bool{}
		for _, c := range plan.SplitConjuncts(a) {
			sets[i] = append(sets[i], c)
			if k := c.String(); !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	var common []plan.Expr
	isCommon := map[string]bool{}
	for _, c := range sets[0] {
		if k := c.String(); count[k] == len(arms) && !isCommon[k] {
			isCommon[k] = true
			common = append(common, c)
		}
	}
	if len(common) == 0 {
		return p
	}
	var rest []plan.Expr
	for _, set := range sets {
		var keep []plan.Expr
		for _, c := range set {
			if !isCommon[c.String()] {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			// One arm is just the common part: the OR adds nothing.
			return plan.And(common...)
		}
		rest = append(rest, plan.And(keep...))
	}
	return plan.And(append(common, plan.Or(rest...))...)
}

// impliedFor derives from an OR a predicate over side's columns only: the
// OR of, per arm, the AND of the arm's conjuncts on side. Nil when some
// arm has none (then nothing is implied).
func impliedFor(p plan.Expr, side plan.ColumnSet) plan.Expr {
	b, ok := p.(*plan.Binary)
	if !ok || b.Op != plan.OpOr {
		return nil
	}
	var arms []plan.Expr
	for _, a := range plan.SplitDisjuncts(p) {
		var keep []plan.Expr
		for _, c := range plan.SplitConjuncts(a) {
			if r := refs(c); len(r) > 0 && r.SubsetOf(side) && movable(c) {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return nil
		}
		arms = append(arms, plan.And(keep...))
	}
	return plan.Or(arms...)
}

func anyNullRejecting(preds []plan.Expr, side plan.ColumnSet) bool {
	for _, p := range preds {
		if nullRejecting(p, side) {
			return true
		}
	}
	return false
}

// nullRejecting reports whether p is never TRUE when every column of side
// is NULL: a comparison (or LIKE / IN list) of strict expressions that
// references side. OR / IS NULL / CASE / COALESCE are conservatively not.
func nullRejecting(p plan.Expr, side plan.ColumnSet) bool {
	if !touches(p, side) {
		return false
	}
	switch x := p.(type) {
	case *plan.Binary:
		if x.Op == plan.OpAnd {
			return nullRejecting(x.L, side) || nullRejecting(x.R, side)
		}
		if x.Op == plan.OpIsDistinct || x.Op == plan.OpIsNotDistinct || !x.Op.IsComparison() {
			return false
		}
		return strict(x.L) && strict(x.R)
	case *plan.Like:
		return strict(x.E)
	case *plan.InList:
		return strict(x.E)
	case *plan.Unary:
		return x.Op == plan.OpIsNotNull && strict(x.E)
	}
	return false
}

// strict reports whether e is NULL whenever any column it references is.
func strict(e plan.Expr) bool {
	switch x := e.(type) {
	case *plan.ColRef, *plan.Literal:
		return true
	case *plan.Binary:
		if x.Op.IsLogical() || x.Op == plan.OpIsDistinct || x.Op == plan.OpIsNotDistinct {
			return false
		}
		return strict(x.L) && strict(x.R)
	case *plan.Unary:
		return x.Op == plan.OpNeg && strict(x.E)
	case *plan.Cast:
		return strict(x.E)
	case *plan.Func:
		switch x.Name {
		case "coalesce", "ifnull", "nvl", "concat", "concat_ws", "nullif", "greatest", "least":
			return false
		}
		for _, a := range x.Args {
			if !strict(a) {
				return false
			}
		}
		return true
	}
	return false
}
