package optimizer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

// Decorrelate replaces every Subquery expression by a join:
//
//   - [NOT] EXISTS (q) as a WHERE conjunct → Semi / Anti join of the
//     filter's input with q, the correlation predicates of q (equalities and
//     others, e.g. TPC-H Q21's l2.l_suppkey <> l1.l_suppkey) pulled out of
//     q's filters into the join condition;
//   - x IN (q) as a WHERE conjunct → Semi join on x = q's column (+
//     correlation); x NOT IN (q) → Anti join, null-aware unless neither
//     side can be NULL or correlation equalities key it (see notInJoin);
//   - scalar subqueries anywhere in an expression → Left join (so an empty
//     result gives NULL) of the input with q and a reference to q's column.
//     For a correlated q that is a scalar aggregate, its correlation
//     equalities become GROUP BY keys and the Left join's condition
//     (TPC-H Q2, Q17, Q20). The count bug is handled: when q's value over
//     an empty group is not NULL (COUNT gives 0), the reference becomes
//     CASE WHEN key IS NULL THEN <empty value> ELSE value END;
//   - EXISTS, IN and x op ANY/ALL (q) anywhere else (under OR, NOT, CASE,
//     in a SELECT list, HAVING, a join condition) → a Mark join whose mark
//     column replaces the subquery, or for op ANY/ALL with an ordering or
//     <> comparison and for uncorrelated EXISTS an aggregate of q instead
//     (see decorrelate_mark.go).
//
// Subqueries may sit in Filter, Project, Aggregate (arguments, GROUP BY),
// Sort keys and inner join conditions; in an outer join condition only when
// the subquery's expression reads one side. Subquery plans are decorrelated
// first, so nesting (Q20) works from the inside out.
//
// Those are the fast paths. Where they reject a correlated subquery —
// non-equality correlation under an aggregate, a correlated scalar
// subquery without an aggregate, correlation under LIMIT, a window or an
// outer join, HAVING that keeps the empty group of a correlated global
// aggregate, outer columns in the subquery's SELECT list — the general
// rewrite of decorrelate_general.go takes over (the distinct outer values
// joined into the subquery, grouped by, matched back NULL-safely). A
// scalar subquery returning more than one row for an outer row fails at
// run time, as in DuckDB. Still unsupported (an error naming the shape):
// correlation inside a FULL join (DuckDB does not flatten it either), a
// subquery over both inputs of an outer join's condition.
type Decorrelate struct{}

func (Decorrelate) Name() string { return "decorrelate_subqueries" }

func (Decorrelate) Apply(n plan.Node, ctx *Context) (plan.Node, bool, error) {
	if !planHasSubquery(n) {
		return n, false, nil
	}
	out, err := decorrelatePlan(n, ctx)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

func planHasSubquery(n plan.Node) bool {
	found := false
	plan.WalkPlan(n, func(x plan.Node) bool {
		if hasSubquery(x.Exprs()...) {
			found = true
		}
		return !found
	})
	return found
}

// transformPlanErr is plan.TransformPlan with an error-returning callback.
func transformPlanErr(n plan.Node, fn func(plan.Node) (plan.Node, error)) (plan.Node, error) {
	children := n.Children()
	if len(children) > 0 {
		nc := make([]plan.Node, len(children))
		changed := false
		for i, c := range children {
			x, err := transformPlanErr(c, fn)
			if err != nil {
				return nil, err
			}
			nc[i] = x
			changed = changed || x != c
		}
		if changed {
			n = n.WithChildren(nc)
		}
	}
	return fn(n)
}

func decorrelatePlan(n plan.Node, ctx *Context) (plan.Node, error) {
	return transformPlanErr(n, func(x plan.Node) (plan.Node, error) {
		if !hasSubquery(x.Exprs()...) {
			return x, nil
		}
		switch x := x.(type) {
		case *plan.Filter:
			return decorrelateFilter(x, ctx)
		case *plan.Project:
			return decorrelateProject(x, ctx)
		case *plan.Join:
			return decorrelateJoin(x, ctx)
		case *plan.Aggregate:
			return decorrelateAggregate(x, ctx)
		case *plan.Sort:
			return decorrelateSort(x, ctx)
		}
		return nil, fmt.Errorf("subquery in %s not supported yet", nodeKind(x))
	})
}

// computeBelow evaluates the expressions es on top of input as new
// columns of a Project (decorrelated there), returning the new input and
// a reference to each expression's column; expressions without subqueries
// are returned unchanged.
func computeBelow(input plan.Node, es []plan.Expr, name string, ctx *Context) (plan.Node, []plan.Expr, error) {
	p := &plan.Project{Input: input, Projections: colRefsOf(input.Schema()), Out: append(plan.Schema(nil), input.Schema()...)}
	out := make([]plan.Expr, len(es))
	for i, e := range es {
		if !hasSubquery(e) {
			out[i] = e
			continue
		}
		c := ctx.IDs.NewColumn(fmt.Sprintf("%s%d", name, i), "", e.Type(), e.Nullable())
		p.Projections = append(p.Projections, e)
		p.Out = append(p.Out, c)
		out[i] = c.Ref()
	}
	n, err := decorrelateProject(p, ctx)
	if err != nil {
		return nil, nil, err
	}
	return n, out, nil
}

// decorrelateAggregate computes subquery-holding GROUP BY expressions,
// aggregate arguments and FILTERs in a Project below the aggregate.
func decorrelateAggregate(a *plan.Aggregate, ctx *Context) (plan.Node, error) {
	var es []plan.Expr
	es = append(es, a.GroupBy...)
	for _, c := range a.Aggs {
		es = append(es, c.Children()...)
	}
	in, refs, err := computeBelow(a.Input, es, "_sq", ctx)
	if err != nil {
		return nil, err
	}
	out := &plan.Aggregate{Input: in, GroupBy: refs[:len(a.GroupBy)], Out: a.Out}
	refs = refs[len(a.GroupBy):]
	for _, c := range a.Aggs {
		k := len(c.Children())
		out.Aggs = append(out.Aggs, c.WithChildren(refs[:k]).(*plan.AggCall))
		refs = refs[k:]
	}
	return out, nil
}

// decorrelateSort computes subquery-holding sort keys below the sort.
func decorrelateSort(s *plan.Sort, ctx *Context) (plan.Node, error) {
	es := make([]plan.Expr, len(s.Keys))
	for i, k := range s.Keys {
		es[i] = k.E
	}
	in, refs, err := computeBelow(s.Input, es, "_sq", ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]plan.SortKey, len(s.Keys))
	for i, k := range s.Keys {
		k.E = refs[i]
		keys[i] = k
	}
	return projectTo(&plan.Sort{Input: in, Keys: keys, Limit: s.Limit}, s.Schema()), nil
}

// decorrelateJoin handles subqueries in a join condition. A conjunct whose
// columns (the subquery's correlation included) come from one input only
// is computed as a column of that input — evaluating it there is the same
// for every join type. A conjunct over both inputs of an inner join moves
// to a Filter above the join; of an outer join it is not supported.
func decorrelateJoin(j *plan.Join, ctx *Context) (plan.Node, error) {
	if hasSubquery(j.MarkCond) {
		return nil, fmt.Errorf("internal error: subquery in the mark condition of %s", j)
	}
	lIDs, rIDs := j.Left.Schema().IDs(), j.Right.Schema().IDs()
	var leftEs, rightEs, keep, above []plan.Expr
	for _, c := range plan.SplitConjuncts(j.Cond) {
		if !hasSubquery(c) {
			keep = append(keep, c)
			continue
		}
		r := refs(c)
		usesL, usesR := intersects(r, lIDs), intersects(r, rIDs)
		switch {
		case !usesR:
			leftEs = append(leftEs, c)
		case !usesL:
			rightEs = append(rightEs, c)
		case j.Type == plan.JoinInner || j.Type == plan.JoinCross:
			above = append(above, c)
		default:
			return nil, fmt.Errorf("subquery over both inputs in the condition of a %s join not supported yet: %s", j.Type, c)
		}
	}
	left, right := j.Left, j.Right
	var err error
	var lrefs, rrefs []plan.Expr
	if len(leftEs) > 0 {
		if left, lrefs, err = computeBelow(left, leftEs, "_on", ctx); err != nil {
			return nil, err
		}
	}
	if len(rightEs) > 0 {
		if right, rrefs, err = computeBelow(right, rightEs, "_on", ctx); err != nil {
			return nil, err
		}
	}
	cond := append(append(keep, lrefs...), rrefs...)
	typ := j.Type
	if typ == plan.JoinCross && len(cond) > 0 {
		typ = plan.JoinInner
	}
	m := *j
	m.Left, m.Right, m.Type, m.Cond = left, right, typ, plan.And(cond...)
	var out plan.Node = &m
	if len(above) > 0 {
		if m.Type == plan.JoinInner && m.Cond == nil {
			m.Type = plan.JoinCross
		}
		out, err = decorrelateFilter(&plan.Filter{Input: out, Cond: plan.And(above...)}, ctx)
		if err != nil {
			return nil, err
		}
	}
	return projectTo(out, j.Schema()), nil
}

func intersects(a, b plan.ColumnSet) bool {
	for id := range a {
		if b.Has(id) {
			return true
		}
	}
	return false
}

func nodeKind(n plan.Node) string {
	switch n.(type) {
	case *plan.Join:
		return "a join condition"
	case *plan.Aggregate:
		return "an aggregate"
	case *plan.Sort:
		return "ORDER BY"
	case *plan.Window:
		return "a window function"
	case *plan.Predict:
		return "ml.predict"
	case *plan.Scan:
		return "a scan filter"
	case *plan.Values:
		return "VALUES"
	}
	return fmt.Sprintf("%T", n)
}

// asSemiSubquery recognises [NOT] EXISTS / [NOT] IN conjuncts.
func asSemiSubquery(e plan.Expr) (*plan.Subquery, bool, bool) {
	neg := false
	for {
		u, ok := e.(*plan.Unary)
		if !ok || u.Op != plan.OpNot {
			break
		}
		neg = !neg
		e = u.E
	}
	sq, ok := e.(*plan.Subquery)
	if !ok || (sq.Kind != plan.SubExists && sq.Kind != plan.SubIn) {
		return nil, false, false
	}
	return sq, sq.Negated != neg, true
}

func decorrelateFilter(f *plan.Filter, ctx *Context) (plan.Node, error) {
	input := f.Input
	joined := map[plan.ColumnID]plan.Expr{}
	// The conjuncts without subqueries filter the input first: the joins
	// below then see (and the general rewrite's domain of outer values is
	// drawn from) the filtered rows, not, say, the cross product of a
	// comma-join whose join predicates sit in this WHERE.
	var plain, subq []plan.Expr
	for _, c := range plan.SplitConjuncts(f.Cond) {
		if hasSubquery(c) {
			subq = append(subq, c)
		} else {
			plain = append(plain, c)
		}
	}
	if len(plain) > 0 {
		input = &plan.Filter{Input: input, Cond: plan.And(plain...)}
	}
	var keep []plan.Expr
	for _, c := range subq {
		c = shortcutSubqueries(c)
		if sq, neg, ok := asSemiSubquery(c); ok && !hasSubquery(sq.E) {
			j, err := semiJoin(input, sq, neg, ctx)
			if err != nil {
				return nil, err
			}
			input = j
			continue
		}
		e, in, err := replaceSubqueries(c, input, ctx, joined)
		if err != nil {
			return nil, err
		}
		input = in
		keep = append(keep, e)
	}
	var out plan.Node = input
	if len(keep) > 0 {
		out = &plan.Filter{Input: input, Cond: plan.And(keep...)}
	}
	return projectTo(out, f.Schema()), nil
}

func decorrelateProject(p *plan.Project, ctx *Context) (plan.Node, error) {
	input := p.Input
	joined := map[plan.ColumnID]plan.Expr{}
	projs := make([]plan.Expr, len(p.Projections))
	for i, e := range p.Projections {
		if !hasSubquery(e) {
			projs[i] = e
			continue
		}
		ne, in, err := replaceSubqueries(e, input, ctx, joined)
		if err != nil {
			return nil, err
		}
		projs[i], input = ne, in
	}
	return &plan.Project{Input: input, Projections: projs, Out: p.Out}, nil
}

// semiJoin turns [NOT] EXISTS / [NOT] IN into a Semi / Anti join.
func semiJoin(input plan.Node, sq *plan.Subquery, negated bool, ctx *Context) (plan.Node, error) {
	sub, err := decorrelatePlan(sq.Plan, ctx)
	if err != nil {
		return nil, err
	}
	var cond []plan.Expr
	var val *plan.ColRef
	if sq.Kind == plan.SubIn {
		if len(sub.Schema()) == 0 {
			return nil, fmt.Errorf("IN subquery returns no column")
		}
		sub = stripDistinct(sub)
		val = sub.Schema()[0].Ref()
	} else {
		// EXISTS ignores the SELECT list: drop projections (and ordering).
		sub = stripProjections(sub)
	}
	outer := outerRefs(sub)
	if len(outer) > 0 {
		pulled, preds, err := pullCorrelated(sub, outer, ctx)
		if err != nil {
			// Beyond the fast path: the general rewrite.
			j, gerr := generalSemiJoin(input, sub, sq.E, val, negated, ctx)
			if gerr != nil {
				return nil, fmt.Errorf("%w (%v)", err, gerr)
			}
			return j, nil
		}
		sub = pulled
		cond = append(cond, preds...)
	}
	if sq.Kind == plan.SubIn && negated {
		return notInJoin(input, sub, sq.E, val, cond), nil
	}
	if val != nil {
		cond = append([]plan.Expr{plan.Eq(sq.E, val)}, cond...)
	}
	j := &plan.Join{Left: input, Right: sub, Type: plan.JoinSemi, Cond: plan.And(cond...)}
	if negated {
		j.Type = plan.JoinAnti
	}
	return j, nil
}

// notInJoin builds x NOT IN (sub) with correlation predicates corr. A row
// qualifies when no row of sub passing corr compares equal or unknown:
//
//   - when neither x nor the subquery's column can be NULL, that is a
//     plain Anti join on x = y AND corr;
//   - when corr has an equality usable as a hash key, a plain Anti join on
//     corr AND (x = y OR x IS NULL OR y IS NULL): hashed on the
//     correlation keys, partitionable, and rows with NULL correlation keys
//     are never in any row's subquery (a null-aware join keyed on them
//     too would get that wrong);
//   - otherwise a null-aware Anti join on x = y, corr as its residual.
func notInJoin(input, sub plan.Node, x plan.Expr, y *plan.ColRef, corr []plan.Expr) plan.Node {
	eq := plan.Eq(x, y)
	j := &plan.Join{Left: input, Right: sub, Type: plan.JoinAnti}
	switch {
	case !x.Nullable() && !y.Nullable():
		j.Cond = plan.And(append([]plan.Expr{eq}, corr...)...)
	case hasEquiKey(corr, input.Schema().IDs(), sub.Schema().IDs()):
		unknown := []plan.Expr{eq}
		if x.Nullable() {
			unknown = append(unknown, &plan.Unary{Op: plan.OpIsNull, E: x})
		}
		if y.Nullable() {
			unknown = append(unknown, &plan.Unary{Op: plan.OpIsNull, E: y})
		}
		j.Cond = plan.And(append(append([]plan.Expr(nil), corr...), plan.Or(unknown...))...)
	default:
		j.Cond, j.NullAware = plan.And(append([]plan.Expr{eq}, corr...)...), true
	}
	return j
}

// hasEquiKey reports whether some predicate is an equality between an
// expression over the left columns and one over the right columns (what
// physical planning turns into hash join keys).
func hasEquiKey(preds []plan.Expr, lIDs, rIDs plan.ColumnSet) bool {
	for _, p := range preds {
		b, ok := p.(*plan.Binary)
		if !ok || b.Op != plan.OpEq {
			continue
		}
		l, r := refs(b.L), refs(b.R)
		if len(l) == 0 || len(r) == 0 {
			continue
		}
		if (l.SubsetOf(lIDs) && r.SubsetOf(rIDs)) || (l.SubsetOf(rIDs) && r.SubsetOf(lIDs)) {
			return true
		}
	}
	return false
}

// stripProjections removes from the top of an EXISTS subquery what does
// not change whether it has a row: projections, ordering, LIMIT n > 0,
// GROUP BY (there is a group exactly when there is a row).
func stripProjections(n plan.Node) plan.Node {
	for {
		switch x := n.(type) {
		case *plan.Project:
			if hasSubquery(x.Projections...) {
				return n
			}
			n = x.Input
		case *plan.Sort:
			if x.Limit == 0 {
				return n
			}
			n = x.Input
		case *plan.Limit:
			if x.Offset != 0 || x.Count == 0 {
				return n
			}
			n = x.Input
		case *plan.Aggregate:
			if len(x.GroupBy) == 0 || hasSubquery(x.Exprs()...) {
				return n
			}
			n = x.Input
		default:
			return n
		}
	}
}

// stripDistinct turns a DISTINCT (grouping without aggregates) at the top
// of an IN or ANY subquery, under projections, into a projection: repeated
// values do not change the result, and a correlated DISTINCT could not be
// decorrelated.
func stripDistinct(n plan.Node) plan.Node {
	switch x := n.(type) {
	case *plan.Project:
		in := stripDistinct(x.Input)
		if in == x.Input {
			return n
		}
		return &plan.Project{Input: in, Projections: x.Projections, Out: x.Out}
	case *plan.Aggregate:
		if len(x.Aggs) > 0 || len(x.GroupBy) == 0 {
			return n
		}
		return &plan.Project{Input: x.Input, Projections: x.GroupBy, Out: x.Out}
	}
	return n
}

// oneRow reports whether n always yields exactly one row: projections
// over an aggregate without GROUP BY (and without HAVING).
func oneRow(n plan.Node) bool {
	for {
		switch x := n.(type) {
		case *plan.Project:
			n = x.Input
		case *plan.Aggregate:
			return len(x.GroupBy) == 0
		default:
			return false
		}
	}
}

// rejectsEmptyGroup reports whether one of the HAVING conjuncts preds is
// FALSE or NULL over the row an aggregate without GROUP BY (in, under
// projections) yields for no input rows (COUNT 0, other aggregates NULL).
func rejectsEmptyGroup(preds []plan.Expr, in plan.Node) bool {
	for _, p := range preds {
		m := map[plan.ColumnID]plan.Expr{}
		known := true
		for id := range refs(p) {
			v := emptyGroupValue(in, id)
			if v == nil {
				known = false
				break
			}
			m[id] = v
		}
		if !known {
			continue
		}
		if l, ok := FoldExpr(plan.ReplaceColumns(p, m)).(*plan.Literal); ok && (l.Value == nil || l.Value == false) {
			return true
		}
	}
	return false
}

// shortcutSubqueries rewrites subqueries whose plan always yields exactly
// one row: EXISTS is TRUE, and x IN / op ANY (q) is the comparison with
// the scalar subquery q. Decorrelating them as semi or mark joins would
// lose that row where the correlation matches nothing (the count bug:
// COUNT gives 0 there, not "no row").
func shortcutSubqueries(e plan.Expr) plan.Expr {
	return plan.TransformExpr(e, func(x plan.Expr) plan.Expr {
		sq, ok := x.(*plan.Subquery)
		if !ok {
			return x
		}
		var out plan.Expr
		switch sq.Kind {
		case plan.SubExists:
			if !oneRow(stripProjections(sq.Plan)) {
				return x
			}
			return &plan.Literal{Value: !sq.Negated, Typ: types.Boolean}
		case plan.SubIn, plan.SubAny:
			if !oneRow(sq.Plan) || len(sq.Plan.Schema()) == 0 {
				return x
			}
			op := sq.Op
			if sq.Kind == plan.SubIn {
				op = plan.OpEq
			}
			val := &plan.Subquery{Kind: plan.SubScalar, Plan: sq.Plan, Typ: sq.Plan.Schema()[0].Type}
			out = &plan.Binary{Op: op, L: sq.E, R: val, Typ: types.Boolean}
		default:
			return x
		}
		if sq.Negated {
			out = &plan.Unary{Op: plan.OpNot, E: out}
		}
		return out
	})
}

// replaceSubqueries joins every subquery of e to input and replaces it by
// an expression over the joined columns: a scalar subquery by its value,
// EXISTS / IN / ANY by a mark column (or an expression over an aggregate
// of the subquery). Inner subqueries (in an IN operand) go first.
// joined maps the value column of the scalar subqueries already joined
// (for this node) to their replacement: one subquery can occur several
// times (x BETWEEN a AND b binds x twice), and joining it twice would put
// its columns twice in the plan.
func replaceSubqueries(e plan.Expr, input plan.Node, ctx *Context, joined map[plan.ColumnID]plan.Expr) (plan.Expr, plan.Node, error) {
	e = shortcutSubqueries(e)
	var firstErr error
	out := plan.TransformExpr(e, func(x plan.Expr) plan.Expr {
		sq, ok := x.(*plan.Subquery)
		if !ok || firstErr != nil {
			return x
		}
		var ref plan.Expr
		var in plan.Node
		var err error
		var key plan.ColumnID
		if sq.Kind == plan.SubScalar {
			if sch := sq.Plan.Schema(); len(sch) > 0 {
				key = sch[0].ID
				if r, ok := joined[key]; ok {
					return r
				}
			}
			ref, in, err = scalarJoin(input, sq, ctx)
		} else {
			ref, in, err = markSubquery(input, sq, ctx)
		}
		if err != nil {
			firstErr = err
			return x
		}
		if key != 0 {
			joined[key] = ref
		}
		input = in
		return ref
	})
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return out, input, nil
}

func scalarJoin(input plan.Node, sq *plan.Subquery, ctx *Context) (plan.Expr, plan.Node, error) {
	sub, err := decorrelatePlan(sq.Plan, ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(sub.Schema()) == 0 {
		return nil, nil, fmt.Errorf("scalar subquery returns no column")
	}
	val := sub.Schema()[0]
	ref := &plan.ColRef{ID: val.ID, Name: val.Name, Typ: val.Type, Null: true}
	outer := outerRefs(sub)
	if len(outer) == 0 {
		if !isScalarAggregate(sub) {
			// It could return several rows: count them and fail at run
			// time if there is more than one, as SQL requires.
			ref, sub = singleRow(sub, val, ctx)
		}
		return ref, &plan.Join{Left: input, Right: sub, Type: plan.JoinLeft}, nil
	}
	if !isScalarAggregate(sub) {
		return generalScalarJoin(input, sub, ctx)
	}
	empty := emptyGroupValue(sub, val.ID)
	pulled, preds, err := pullCorrelated(sub, outer, ctx)
	if err != nil {
		// Beyond the fast path: the general rewrite.
		e, j, gerr := generalScalarJoin(input, sub, ctx)
		if gerr != nil {
			return nil, nil, fmt.Errorf("%w (%v)", err, gerr)
		}
		return e, j, nil
	}
	j := &plan.Join{Left: input, Right: pulled, Type: plan.JoinLeft, Cond: plan.And(preds...)}
	var result plan.Expr = ref
	if empty != nil && empty.Value != nil {
		// Count bug: no matching group must give COUNT's 0, not NULL. The
		// group key is non-null exactly when a group matched.
		key := groupKeyOf(preds, pulled.Schema().IDs())
		if key == nil {
			return generalScalarJoin(input, sub, ctx)
		}
		result = &plan.Case{
			Whens: []plan.When{{Cond: &plan.Unary{Op: plan.OpIsNull, E: key}, Value: empty}},
			Else:  ref, Typ: val.Type,
		}
	}
	return result, j, nil
}

// singleRow wraps an uncorrelated scalar subquery's plan so that it yields
// exactly one row: its value (NULL when it has no row), or a run-time error
// when it has more than one.
//
//	Project single_row_value(count(*), first(val))
//	  Aggregate group=[] aggs=[count(*), first(val)]
func singleRow(sub plan.Node, val plan.Column, ctx *Context) (*plan.ColRef, plan.Node) {
	in := &plan.ColRef{ID: val.ID, Name: val.Name, Typ: val.Type, Null: val.Nullable}
	cnt := ctx.IDs.NewColumn("count_star()", "", arrow.PrimitiveTypes.Int64, false)
	agg := &plan.Aggregate{Input: sub, Aggs: []*plan.AggCall{
		{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64},
	}, Out: plan.Schema{cnt}}
	var value plan.Expr
	if types.IsNull(val.Type) {
		// (SELECT NULL ...): the value is NULL whatever the row; only the
		// row count is needed (no aggregate takes an untyped column).
		value = &plan.Literal{Value: nil, Typ: val.Type}
	} else {
		first := ctx.IDs.NewColumn("first("+val.Name+")", "", val.Type, true)
		agg.Aggs = append(agg.Aggs, &plan.AggCall{Func: "first", Args: []plan.Expr{in}, Typ: val.Type})
		agg.Out = append(agg.Out, first)
		value = first.Ref()
	}
	out := ctx.IDs.NewColumn(val.Name, "", val.Type, true)
	p := &plan.Project{Input: agg, Out: plan.Schema{out}, Projections: []plan.Expr{&plan.Func{
		Name: types.SingleRowValue, Args: []plan.Expr{cnt.Ref(), value}, Typ: val.Type}}}
	return out.Ref(), p
}

func groupKeyOf(preds []plan.Expr, inner plan.ColumnSet) plan.Expr {
	for _, p := range preds {
		b, ok := p.(*plan.Binary)
		if !ok {
			continue
		}
		for _, side := range []plan.Expr{b.L, b.R} {
			if r, ok := side.(*plan.ColRef); ok && inner.Has(r.ID) {
				return r
			}
		}
	}
	return nil
}

// isScalarAggregate reports whether n is (projections and filters over) an
// Aggregate without GROUP BY, which yields at most one row.
func isScalarAggregate(n plan.Node) bool {
	for {
		switch x := n.(type) {
		case *plan.Project:
			n = x.Input
		case *plan.Filter:
			n = x.Input
		case *plan.Aggregate:
			return len(x.GroupBy) == 0
		default:
			return false
		}
	}
}

// emptyGroupValue is the value column id of n takes when its aggregate
// sees no rows (COUNT → 0, other aggregates → NULL), or nil if unknown.
func emptyGroupValue(n plan.Node, id plan.ColumnID) *plan.Literal {
	switch x := n.(type) {
	case *plan.Aggregate:
		i := x.Out.Index(id)
		if i < len(x.GroupBy) {
			return nil
		}
		a := x.Aggs[i-len(x.GroupBy)]
		if a.Func == "count" || a.Func == "count_star" {
			return &plan.Literal{Value: int64(0), Typ: a.Typ}
		}
		return nullOf(a.Typ)
	case *plan.Project:
		i := x.Out.Index(id)
		if i < 0 {
			return nil
		}
		m := map[plan.ColumnID]plan.Expr{}
		for rid := range refs(x.Projections[i]) {
			v := emptyGroupValue(x.Input, rid)
			if v == nil {
				return nil
			}
			m[rid] = v
		}
		if l, ok := FoldExpr(plan.ReplaceColumns(x.Projections[i], m)).(*plan.Literal); ok {
			return l
		}
	}
	return nil
}

func touches(e plan.Expr, set plan.ColumnSet) bool {
	for id := range refs(e) {
		if set.Has(id) {
			return true
		}
	}
	return false
}

func nodeTouches(n plan.Node, set plan.ColumnSet) bool {
	found := false
	plan.WalkPlan(n, func(x plan.Node) bool {
		for _, e := range x.Exprs() {
			if touches(e, set) {
				found = true
			}
		}
		return !found
	})
	return found
}

// pullCorrelated removes the predicates of n that reference outer columns
// and returns them, rewritten over n's (possibly widened) output columns.
func pullCorrelated(n plan.Node, outer plan.ColumnSet, ctx *Context) (plan.Node, []plan.Expr, error) {
	if !nodeTouches(n, outer) {
		return n, nil, nil
	}
	switch x := n.(type) {
	case *plan.Filter:
		in, preds, err := pullCorrelated(x.Input, outer, ctx)
		if err != nil {
			return nil, nil, err
		}
		var keep []plan.Expr
		for _, c := range plan.SplitConjuncts(x.Cond) {
			if touches(c, outer) {
				preds = append(preds, c)
			} else {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return in, preds, nil
		}
		if len(preds) > 0 && oneRow(x.Input) && !rejectsEmptyGroup(keep, x.Input) {
			// The aggregate becomes grouped by the correlation keys: a key
			// without rows loses its (empty) group, which HAVING kept.
			return nil, nil, fmt.Errorf("HAVING %s over a correlated aggregate without GROUP BY not supported yet", plan.And(keep...))
		}
		return &plan.Filter{Input: in, Cond: plan.And(keep...)}, preds, nil
	case *plan.Project:
		for _, e := range x.Projections {
			if touches(e, outer) {
				return nil, nil, fmt.Errorf("outer column referenced in the SELECT list of a correlated subquery not supported yet: %s", e)
			}
		}
		in, preds, err := pullCorrelated(x.Input, outer, ctx)
		if err != nil {
			return nil, nil, err
		}
		p := &plan.Project{Input: in, Projections: append([]plan.Expr(nil), x.Projections...), Out: append(plan.Schema(nil), x.Out...)}
		have := p.Out.IDs()
		inSchema := in.Schema()
		for _, id := range sortedIDs(refsAll(preds)) {
			if outer.Has(id) || have.Has(id) {
				continue
			}
			if i := inSchema.Index(id); i >= 0 {
				p.Projections = append(p.Projections, inSchema[i].Ref())
				p.Out = append(p.Out, inSchema[i])
				have[id] = struct{}{}
			}
		}
		return p, preds, nil
	case *plan.Aggregate:
		for _, e := range x.Exprs() {
			if touches(e, outer) {
				// sum(o_totalprice + c_acctbal): the outer value must be
				// joined in below the aggregate (the general rewrite).
				return nil, nil, fmt.Errorf("outer column in an aggregate's argument or key: %s", e)
			}
		}
		in, preds, err := pullCorrelated(x.Input, outer, ctx)
		if err != nil {
			return nil, nil, err
		}
		if len(preds) == 0 {
			return &plan.Aggregate{Input: in, GroupBy: x.GroupBy, Aggs: x.Aggs, Out: x.Out}, nil, nil
		}
		if len(x.GroupBy) > 0 {
			return nil, nil, fmt.Errorf("correlated subquery with GROUP BY not supported yet")
		}
		var groups []plan.Expr
		var gcols plan.Schema
		var out []plan.Expr
		for _, p := range preds {
			b, ok := p.(*plan.Binary)
			if !ok || b.Op != plan.OpEq {
				return nil, nil, fmt.Errorf("correlated predicate %s under an aggregate must be an equality", p)
			}
			innerSide, outerSide := b.L, b.R
			if touches(innerSide, outer) {
				innerSide, outerSide = outerSide, innerSide
			}
			if touches(innerSide, outer) || !refs(outerSide).SubsetOf(outer) {
				return nil, nil, fmt.Errorf("correlated predicate %s under an aggregate must compare an outer and an inner expression", p)
			}
			var g plan.Column
			found := false
			for i, ge := range groups {
				if ge.String() == innerSide.String() {
					g, found = gcols[i], true
				}
			}
			if !found {
				name := "corr_key"
				if r, ok := innerSide.(*plan.ColRef); ok {
					name = r.Name
				}
				g = ctx.IDs.NewColumn(name, "", innerSide.Type(), innerSide.Nullable())
				groups = append(groups, innerSide)
				gcols = append(gcols, g)
			}
			out = append(out, &plan.Binary{Op: plan.OpEq, L: outerSide, R: g.Ref(), Typ: arrow.FixedWidthTypes.Boolean})
		}
		return &plan.Aggregate{Input: in, GroupBy: groups, Aggs: x.Aggs, Out: append(gcols, x.Out...)}, out, nil
	case *plan.Join:
		if x.MarkCond != nil && touches(x.MarkCond, outer) {
			return nil, nil, fmt.Errorf("outer column compared with an IN/ANY subquery inside a subquery not supported yet: %s", x.MarkCond)
		}
		if x.Cond != nil && touches(x.Cond, outer) && x.Type != plan.JoinInner && x.Type != plan.JoinCross {
			return nil, nil, fmt.Errorf("outer column in the condition of a %s join inside a subquery not supported yet", x.Type)
		}
		if nodeTouches(x.Right, outer) && x.Type != plan.JoinInner && x.Type != plan.JoinCross {
			return nil, nil, fmt.Errorf("correlation inside the right input of a %s join in a subquery not supported yet", x.Type)
		}
		if nodeTouches(x.Left, outer) && (x.Type == plan.JoinRight || x.Type == plan.JoinFull) {
			return nil, nil, fmt.Errorf("correlation inside the left input of a %s join in a subquery not supported yet", x.Type)
		}
		l, lp, err := pullCorrelated(x.Left, outer, ctx)
		if err != nil {
			return nil, nil, err
		}
		r, rp, err := pullCorrelated(x.Right, outer, ctx)
		if err != nil {
			return nil, nil, err
		}
		preds := append(lp, rp...)
		var keep []plan.Expr
		for _, c := range plan.SplitConjuncts(x.Cond) {
			if touches(c, outer) {
				preds = append(preds, c)
			} else {
				keep = append(keep, c)
			}
		}
		j := &plan.Join{Left: l, Right: r, Type: x.Type, Cond: plan.And(keep...), NullAware: x.NullAware,
			MarkCond: x.MarkCond, Mark: x.Mark}
		if (j.Type == plan.JoinSemi || j.Type == plan.JoinAnti) && len(rp) > 0 {
			return nil, nil, fmt.Errorf("correlation inside a nested semi/anti join not supported yet")
		}
		return j, preds, nil
	case *plan.Sort:
		if x.Limit >= 0 {
			return nil, nil, fmt.Errorf("correlated subquery with ORDER BY ... LIMIT not supported yet")
		}
		in, preds, err := pullCorrelated(x.Input, outer, ctx)
		if err != nil {
			return nil, nil, err
		}
		return &plan.Sort{Input: in, Keys: x.Keys, Limit: x.Limit}, preds, nil
	}
	return nil, nil, fmt.Errorf("correlated subquery through %T not supported yet", n)
}
