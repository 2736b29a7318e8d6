package optimizer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

// This file is the general decorrelation of Decorrelate, after Neumann and
// Kemper, "Unnesting Arbitrary Queries" (as DuckDB does it). It is used
// only where the fast paths (correlation pulled up as join predicates, an
// aggregate grouped by the inner side of correlation equalities) reject a
// subquery: correlation that is not an equality under an aggregate, a
// correlated scalar subquery without an aggregate, correlation under
// LIMIT / ORDER BY … LIMIT, a window or an outer join, HAVING over a
// correlated aggregate without GROUP BY, outer columns in a SELECT list.
//
// Let D be the distinct values of the outer columns the subquery q reads
// (an Aggregate grouping a copy of the outer input by them). q is
// rewritten into q' computing q for every row of D at once, D's columns
// standing for the outer columns:
//
//   - a subtree that reads no outer column is cross-joined with D (its
//     correlated parents then filter or join on D's columns: a filter over
//     the cross join becomes a hash join on equalities, non-equalities as
//     its residual, or a nested-loop join);
//   - filters, projections, sorts and joins read D's columns in place of
//     the outer ones and pass them up; a join with correlation on both
//     sides joins them on D's columns too;
//   - an aggregate groups by D's columns as well; one without GROUP BY
//     (one row per outer row, even over no input rows) is Left-joined to
//     D again so that a value of D without rows still gets its row:
//     COUNT 0, other aggregates NULL (the count bug), HAVING then sees it;
//   - LIMIT and ORDER BY … LIMIT keep the first rows of every value of D:
//     row_number() over (partition by D's columns, order by the keys);
//   - a window is partitioned by D's columns as well.
//
// The outer input is then joined with q' on its outer columns IS NOT
// DISTINCT FROM D's (a NULL outer value is a value of D like any other):
// a Left join for a scalar subquery (one that may yield several rows per
// outer row is checked first: single_row_value over count(*) and first()
// grouped by D fails the query, as DuckDB does), a Semi / Anti join for a
// WHERE [NOT] EXISTS / IN, a Mark join elsewhere. Physical planning hashes
// on IS NOT DISTINCT FROM (see physical's lowerJoin).

// unnester rewrites a subquery plan for the rows of D.
type unnester struct {
	ctx   *Context
	input plan.Node     // the outer input
	outer []plan.Column // the outer columns the subquery reads, by ID
	set   plan.ColumnSet
}

// newUnnester prepares the general rewrite of a subquery reading the outer
// columns outer. D is over those of input; columns of a query further out
// (a subquery nested in a subquery) stay references in the rewritten plan,
// for the decorrelation of that query's subquery to handle. When the
// subquery reads none of input's columns, D is a single empty row.
func newUnnester(input plan.Node, outer plan.ColumnSet, ctx *Context) (*unnester, error) {
	sch := input.Schema()
	u := &unnester{ctx: ctx, input: input, set: plan.ColumnSet{}}
	for _, id := range sortedIDs(outer) {
		if i := sch.Index(id); i >= 0 {
			u.outer = append(u.outer, sch[i])
			u.set[id] = struct{}{}
		}
	}
	return u, nil
}

// domain returns a fresh copy of D (its own column IDs) and its columns,
// aligned with u.outer.
func (u *unnester) domain() (plan.Node, plan.Schema) {
	if len(u.outer) == 0 {
		// The subquery reads only columns of a query further out: the
		// domain is one row without columns.
		return &plan.Values{Rows: [][]plan.Expr{{}}}, nil
	}
	cp, m := plan.Clone(u.input, u.ctx.IDs)
	groups := make([]plan.Expr, len(u.outer))
	out := make(plan.Schema, len(u.outer))
	for i, c := range u.outer {
		r := c.Ref()
		r.ID = m[c.ID]
		groups[i] = r
		out[i] = u.ctx.IDs.NewColumn(c.Name, "", c.Type, c.Nullable)
	}
	return &plan.Aggregate{Input: cp, GroupBy: groups, Out: out}, out
}

// subst rewrites e over D's columns d instead of the outer columns.
func (u *unnester) subst(e plan.Expr, d plan.Schema) plan.Expr {
	if e == nil {
		return nil
	}
	m := make(map[plan.ColumnID]plan.Expr, len(u.outer))
	for i, c := range u.outer {
		m[c.ID] = d[i].Ref()
	}
	return plan.ReplaceColumns(e, m)
}

func (u *unnester) substAll(es []plan.Expr, d plan.Schema) []plan.Expr {
	if es == nil {
		return nil
	}
	out := make([]plan.Expr, len(es))
	for i, e := range es {
		out[i] = u.subst(e, d)
	}
	return out
}

func (u *unnester) substKeys(ks []plan.SortKey, d plan.Schema) []plan.SortKey {
	out := make([]plan.SortKey, len(ks))
	for i, k := range ks {
		k.E = u.subst(k.E, d)
		out[i] = k
	}
	return out
}

// freshCopy returns columns like s with new IDs.
func (u *unnester) freshCopy(s plan.Schema) plan.Schema {
	out := make(plan.Schema, len(s))
	for i, c := range s {
		out[i] = u.ctx.IDs.NewColumn(c.Name, "", c.Type, c.Nullable)
	}
	return out
}

// nullSafeEq is l IS NOT DISTINCT FROM r, or l = r when neither can be NULL.
func nullSafeEq(l, r plan.Expr) plan.Expr {
	op := plan.OpIsNotDistinct
	if !l.Nullable() && !r.Nullable() {
		op = plan.OpEq
	}
	return &plan.Binary{Op: op, L: l, R: r, Typ: types.Boolean}
}

// sameDomain matches two sets of D's columns.
func sameDomain(a, b plan.Schema) []plan.Expr {
	out := make([]plan.Expr, len(a))
	for i := range a {
		out[i] = nullSafeEq(a[i].Ref(), b[i].Ref())
	}
	return out
}

// matchOuter is the condition joining the outer input with a rewritten
// subquery whose D columns are d.
func (u *unnester) matchOuter(d plan.Schema) plan.Expr {
	out := make([]plan.Expr, len(d))
	for i, c := range u.outer {
		out[i] = nullSafeEq(c.Ref(), d[i].Ref())
	}
	return plan.And(out...)
}

// push rewrites n to compute its rows for every row of D: the result has
// n's columns and D's columns, returned (aligned with u.outer).
func (u *unnester) push(n plan.Node) (plan.Node, plan.Schema, error) {
	if !nodeTouches(n, u.set) {
		d, cols := u.domain()
		return &plan.Join{Left: n, Right: d, Type: plan.JoinCross}, cols, nil
	}
	switch x := n.(type) {
	case *plan.Filter:
		in, d, err := u.push(x.Input)
		if err != nil {
			return nil, nil, err
		}
		return &plan.Filter{Input: in, Cond: u.subst(x.Cond, d)}, d, nil
	case *plan.Project:
		in, d, err := u.push(x.Input)
		if err != nil {
			return nil, nil, err
		}
		p := &plan.Project{Input: in, Projections: u.substAll(x.Projections, d), Out: append(plan.Schema(nil), x.Out...)}
		for _, c := range d {
			p.Projections = append(p.Projections, c.Ref())
			p.Out = append(p.Out, c)
		}
		return p, d, nil
	case *plan.Aggregate:
		return u.pushAggregate(x)
	case *plan.Sort:
		in, d, err := u.push(x.Input)
		if err != nil {
			return nil, nil, err
		}
		keys := u.substKeys(x.Keys, d)
		if x.Limit < 0 {
			return &plan.Sort{Input: in, Keys: keys, Limit: x.Limit}, d, nil
		}
		return u.limitPerKey(in, d, keys, 0, x.Limit), d, nil
	case *plan.Limit:
		inner := x.Input
		var keys []plan.SortKey
		if s, ok := inner.(*plan.Sort); ok && s.Limit < 0 {
			inner, keys = s.Input, s.Keys
		}
		in, d, err := u.push(inner)
		if err != nil {
			return nil, nil, err
		}
		return u.limitPerKey(in, d, u.substKeys(keys, d), x.Offset, x.Count), d, nil
	case *plan.Window:
		in, d, err := u.push(x.Input)
		if err != nil {
			return nil, nil, err
		}
		w := &plan.Window{Input: in, Out: append(append(plan.Schema(nil), in.Schema()...), x.Out[len(x.Input.Schema()):]...)}
		for _, f := range x.Funcs {
			g := *f
			g.Args = u.substAll(f.Args, d)
			g.PartitionBy = append(domainRefs(d), u.substAll(f.PartitionBy, d)...)
			g.OrderBy = u.substKeys(f.OrderBy, d)
			w.Funcs = append(w.Funcs, &g)
		}
		return w, d, nil
	case *plan.Predict:
		// Row by row, like a projection: D passes through.
		in, d, err := u.push(x.Input)
		if err != nil {
			return nil, nil, err
		}
		m := *x
		m.Input = in
		m.Features = u.substAll(x.Features, d)
		m.Out = append(append(plan.Schema(nil), in.Schema()...), x.Outputs()...)
		return &m, d, nil
	case *plan.Join:
		return u.pushJoin(x)
	case *plan.Union:
		out := &plan.Union{Out: append(plan.Schema(nil), x.Out...)}
		var dOut plan.Schema
		for _, in := range x.Inputs {
			p, d, err := u.push(in)
			if err != nil {
				return nil, nil, err
			}
			if dOut == nil {
				dOut = u.freshCopy(d)
				out.Out = append(out.Out, dOut...)
			}
			out.Inputs = append(out.Inputs, projectTo(p, append(append(plan.Schema(nil), in.Schema()...), d...)))
		}
		return out, dOut, nil
	}
	return nil, nil, fmt.Errorf("correlated subquery through %s not supported yet", nodeKind(n))
}

func domainRefs(d plan.Schema) []plan.Expr { return colRefsOf(d) }

// pushAggregate groups by D's columns as well. Without GROUP BY every row
// of D must keep its one row even when it has no input rows: the grouped
// aggregate is Left-joined to D, and a missing group gives COUNT's 0 and
// the other aggregates' NULL.
func (u *unnester) pushAggregate(x *plan.Aggregate) (plan.Node, plan.Schema, error) {
	in, d, err := u.push(x.Input)
	if err != nil {
		return nil, nil, err
	}
	g := u.freshCopy(d)
	agg := &plan.Aggregate{Input: in, GroupBy: append(domainRefs(d), u.substAll(x.GroupBy, d)...)}
	for _, a := range x.Aggs {
		agg.Aggs = append(agg.Aggs, a.WithChildren(u.substAll(a.Children(), d)).(*plan.AggCall))
	}
	if len(x.GroupBy) > 0 || len(d) == 0 {
		agg.Out = append(append(plan.Schema(nil), g...), x.Out...)
		return agg, g, nil
	}
	vals := u.freshCopy(x.Out)
	for i := range vals {
		vals[i].Nullable = true
	}
	agg.Out = append(append(plan.Schema(nil), g...), vals...)
	dom, dcols := u.domain()
	j := &plan.Join{Left: dom, Right: agg, Type: plan.JoinLeft, Cond: plan.And(sameDomain(dcols, g)...)}
	p := &plan.Project{Input: j, Projections: domainRefs(dcols), Out: append(append(plan.Schema(nil), dcols...), x.Out...)}
	for i, a := range x.Aggs {
		var e plan.Expr = vals[i].Ref()
		if a.Func == "count" || a.Func == "count_star" {
			e = &plan.Case{Whens: []plan.When{{Cond: &plan.Unary{Op: plan.OpIsNull, E: e}, Value: &plan.Literal{Value: int64(0), Typ: a.Typ}}},
				Else: e, Typ: a.Typ}
		}
		p.Projections = append(p.Projections, e)
	}
	return p, dcols, nil
}

// limitPerKey keeps rows offset+1 .. offset+count (count < 0: all) of in
// for every value of D's columns d, in the order of keys.
func (u *unnester) limitPerKey(in plan.Node, d plan.Schema, keys []plan.SortKey, offset, count int64) plan.Node {
	if offset <= 0 && count < 0 {
		return in
	}
	i64 := arrow.PrimitiveTypes.Int64
	rn := u.ctx.IDs.NewColumn("row_number()", "", i64, false)
	w := &plan.Window{Input: in, Funcs: []*plan.WindowCall{{Func: "row_number", PartitionBy: domainRefs(d), OrderBy: keys, Typ: i64}},
		Out: append(append(plan.Schema(nil), in.Schema()...), rn)}
	var cond []plan.Expr
	if offset > 0 {
		cond = append(cond, &plan.Binary{Op: plan.OpGt, L: rn.Ref(), R: &plan.Literal{Value: offset, Typ: i64}, Typ: types.Boolean})
	}
	if count >= 0 {
		cond = append(cond, &plan.Binary{Op: plan.OpLtEq, L: rn.Ref(), R: &plan.Literal{Value: offset + count, Typ: i64}, Typ: types.Boolean})
	}
	return projectTo(&plan.Filter{Input: w, Cond: plan.And(cond...)}, in.Schema())
}

// pushJoin rewrites the sides that must see D: those reading outer
// columns, and the preserved side of an outer join whose other side
// does (each of its rows is kept once per value of D). When both sides
// are rewritten they are joined on their D columns as well.
func (u *unnester) pushJoin(x *plan.Join) (plan.Node, plan.Schema, error) {
	lt, rt := nodeTouches(x.Left, u.set), nodeTouches(x.Right, u.set)
	var pushL, pushR bool
	switch x.Type {
	case plan.JoinInner, plan.JoinCross:
		pushL, pushR = lt || !rt, rt
	case plan.JoinLeft, plan.JoinSemi, plan.JoinAnti, plan.JoinMark:
		pushL, pushR = true, rt
	case plan.JoinRight:
		pushL, pushR = lt, true
	default:
		return nil, nil, fmt.Errorf("correlation inside a %s join in a subquery not supported yet", x.Type)
	}
	l, r := x.Left, x.Right
	var ld, rd plan.Schema
	var err error
	if pushL {
		if l, ld, err = u.push(l); err != nil {
			return nil, nil, err
		}
	}
	if pushR {
		if r, rd, err = u.push(r); err != nil {
			return nil, nil, err
		}
	}
	d := ld
	if d == nil || x.Type == plan.JoinRight {
		d = rd
	}
	cond := plan.SplitConjuncts(u.subst(x.Cond, d))
	if pushL && pushR {
		cond = append(cond, sameDomain(ld, rd)...)
	}
	j := &plan.Join{Left: l, Right: r, Type: x.Type, Cond: plan.And(cond...), NullAware: x.NullAware,
		MarkCond: u.subst(x.MarkCond, d), Mark: x.Mark}
	if j.Type == plan.JoinCross && j.Cond != nil {
		j.Type = plan.JoinInner
	}
	return j, d, nil
}

// atMostOneRow reports whether n yields at most one row: projections and
// filters over an aggregate without GROUP BY or a LIMIT of at most 1.
func atMostOneRow(n plan.Node) bool {
	for {
		switch x := n.(type) {
		case *plan.Project:
			n = x.Input
		case *plan.Filter:
			n = x.Input
		case *plan.Limit:
			return x.Count >= 0 && x.Count <= 1
		case *plan.Sort:
			if x.Limit >= 0 && x.Limit <= 1 {
				return true
			}
			n = x.Input
		default:
			return isScalarAggregate(n)
		}
	}
}

// generalScalarJoin is the general rewrite of the correlated scalar
// subquery sub (already decorrelated inside) over input.
func generalScalarJoin(input, sub plan.Node, ctx *Context) (plan.Expr, plan.Node, error) {
	u, err := newUnnester(input, outerRefs(sub), ctx)
	if err != nil {
		return nil, nil, err
	}
	res, d, err := u.push(sub)
	if err != nil {
		return nil, nil, err
	}
	val := sub.Schema()[0]
	ref := &plan.ColRef{ID: val.ID, Name: val.Name, Typ: val.Type, Null: true}
	if !atMostOneRow(sub) {
		// Count the rows of every value of D; more than one fails.
		g := u.freshCopy(d)
		i64 := arrow.PrimitiveTypes.Int64
		cnt := ctx.IDs.NewColumn("count_star()", "", i64, false)
		first := ctx.IDs.NewColumn("first("+val.Name+")", "", val.Type, true)
		agg := &plan.Aggregate{Input: res, GroupBy: domainRefs(d), Aggs: []*plan.AggCall{
			{Func: "count_star", Typ: i64},
			{Func: "first", Args: []plan.Expr{val.Ref()}, Typ: val.Type},
		}, Out: append(append(plan.Schema(nil), g...), cnt, first)}
		v := ctx.IDs.NewColumn(val.Name, "", val.Type, true)
		res = &plan.Project{Input: agg, Projections: append(domainRefs(g), &plan.Func{
			Name: types.SingleRowValue, Args: []plan.Expr{cnt.Ref(), first.Ref()}, Typ: val.Type}),
			Out: append(append(plan.Schema(nil), g...), v)}
		d, ref = g, v.Ref()
	}
	return ref, &plan.Join{Left: input, Right: res, Type: plan.JoinLeft, Cond: u.matchOuter(d)}, nil
}

// generalSemiJoin is the general rewrite of a WHERE [NOT] EXISTS (sub) or
// x [NOT] IN (sub) conjunct: a Semi / Anti join on the outer columns.
// x NOT IN excludes a row when some row of its subquery equals x or
// compares unknown (x or y NULL).
func generalSemiJoin(input, sub plan.Node, x plan.Expr, val *plan.ColRef, negated bool, ctx *Context) (plan.Node, error) {
	u, err := newUnnester(input, outerRefs(sub), ctx)
	if err != nil {
		return nil, err
	}
	res, d, err := u.push(sub)
	if err != nil {
		return nil, err
	}
	cond := []plan.Expr{u.matchOuter(d)}
	if val != nil {
		hit := []plan.Expr{plan.Eq(x, val)}
		if negated {
			if x.Nullable() {
				hit = append(hit, &plan.Unary{Op: plan.OpIsNull, E: x})
			}
			if val.Nullable() {
				hit = append(hit, &plan.Unary{Op: plan.OpIsNull, E: val})
			}
		}
		cond = append(cond, plan.Or(hit...))
	}
	j := &plan.Join{Left: input, Right: res, Type: plan.JoinSemi, Cond: plan.And(cond...)}
	if negated {
		j.Type = plan.JoinAnti
	}
	return j, nil
}

// generalMarkJoin is the general rewrite of EXISTS / IN / op ANY (sub)
// inside an expression: a Mark join on the outer columns, markCond (nil
// for EXISTS) deciding the mark.
func generalMarkJoin(input, sub plan.Node, markCond plan.Expr, ctx *Context) (plan.Expr, plan.Node, error) {
	u, err := newUnnester(input, outerRefs(sub), ctx)
	if err != nil {
		return nil, nil, err
	}
	res, d, err := u.push(sub)
	if err != nil {
		return nil, nil, err
	}
	nullable := markCond != nil && markCond.Nullable()
	mark := ctx.IDs.NewColumn("mark", "", types.Boolean, nullable)
	j := &plan.Join{Left: input, Right: res, Type: plan.JoinMark, Cond: u.matchOuter(d), MarkCond: markCond, Mark: mark}
	return mark.Ref(), j, nil
}
