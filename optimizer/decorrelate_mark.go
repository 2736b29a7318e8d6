package optimizer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

// This file is the part of Decorrelate that handles EXISTS, IN and
// x op ANY/ALL (subquery) where they are not a WHERE conjunct — under OR,
// NOT, CASE, in a SELECT list — so their three-valued result is needed,
// not just "keep the row or not":
//
//	x IN (q)      TRUE if some row of q equals x; else NULL if x is NULL
//	              (q not empty) or q has a NULL; else FALSE (q empty: FALSE)
//	x op ANY (q)  TRUE if some x op y is TRUE, else NULL if some is NULL,
//	              else FALSE (q empty: FALSE); = ANY is IN
//	x op ALL (q)  NOT (x <negated op> ANY (q)); <> ALL is NOT IN
//	EXISTS (q)    TRUE if q has a row, else FALSE (never NULL)
//
// Two plans compute them:
//
//   - A Mark join (plan.JoinMark) of the input with q, its correlation
//     predicates as the join condition and x = y (x op y) as the mark
//     condition. Its mark column replaces the subquery. Physical planning
//     hashes on correlation equalities, or for an uncorrelated IN on
//     x = y with IN's NULL bookkeeping.
//   - For x op ANY (q) with op one of < <= > >= <> (and so op ALL), an
//     aggregate of q instead: count(*), count(y) and min(y) and/or max(y),
//     grouped by q's correlation keys and Left-joined to the input. x > ANY
//     (q) is x > min(y), with count(*) = 0 (no group) giving FALSE and a
//     NULL x or count(y) < count(*) turning FALSE into NULL. One pass over
//     q and a join with at most one row per key beats comparing every x
//     with every y (an uncorrelated ANY would need a nested-loop join).
//     Correlation that is not all equalities cannot be grouped on; such
//     subqueries take the mark join, whose candidates are filtered by the
//     correlation predicates.
//   - Uncorrelated EXISTS (q) is count(*) > 0 over q LIMIT 1, joined as a
//     single row, instead of a mark join that would broadcast all of q.

// markSubquery replaces the EXISTS / IN / ANY subquery sq, evaluated for
// every row of input, by an expression over columns joined to input.
func markSubquery(input plan.Node, sq *plan.Subquery, ctx *Context) (plan.Expr, plan.Node, error) {
	sub, err := decorrelatePlan(sq.Plan, ctx)
	if err != nil {
		return nil, nil, err
	}
	kind, op := sq.Kind, sq.Op
	if kind == plan.SubAny && op == plan.OpEq {
		kind = plan.SubIn
	}
	if kind == plan.SubIn {
		op = plan.OpEq
	}
	negate := func(e plan.Expr) plan.Expr {
		if sq.Negated {
			return &plan.Unary{Op: plan.OpNot, E: e}
		}
		return e
	}
	switch kind {
	case plan.SubExists:
		// EXISTS ignores the SELECT list: drop projections (and ordering).
		sub = stripProjections(sub)
		if len(outerRefs(sub)) == 0 {
			e, in := existsByCount(input, sub, ctx)
			return negate(e), in, nil
		}
	case plan.SubIn, plan.SubAny:
		if len(sub.Schema()) == 0 {
			return nil, nil, fmt.Errorf("IN/ANY subquery returns no column")
		}
		sub = stripDistinct(sub)
		if kind == plan.SubAny {
			e, in, ok := anyByAggregate(input, sq.E, op, sub, ctx)
			if ok {
				return negate(e), in, nil
			}
		}
	default:
		return nil, nil, fmt.Errorf("unknown subquery kind %d", sq.Kind)
	}
	var markCond plan.Expr
	if kind != plan.SubExists {
		markCond = &plan.Binary{Op: op, L: sq.E, R: sub.Schema()[0].Ref(), Typ: types.Boolean}
	}
	var corr []plan.Expr
	if outer := outerRefs(sub); len(outer) > 0 {
		pulled, preds, err := pullCorrelated(sub, outer, ctx)
		if err != nil {
			// Beyond the fast path: the general rewrite.
			mark, j, gerr := generalMarkJoin(input, sub, markCond, ctx)
			if gerr != nil {
				return nil, nil, fmt.Errorf("%w (%v)", err, gerr)
			}
			return negate(mark), j, nil
		}
		sub, corr = pulled, preds
	}
	nullable := markCond != nil && markCond.Nullable()
	mark := ctx.IDs.NewColumn("mark", "", types.Boolean, nullable)
	j := &plan.Join{Left: input, Right: sub, Type: plan.JoinMark, Cond: plan.And(corr...), MarkCond: markCond, Mark: mark}
	return negate(mark.Ref()), j, nil
}

// existsByCount computes an uncorrelated EXISTS (sub) as count(*) > 0
// over sub LIMIT 1, Left-joined (one row) to input.
func existsByCount(input, sub plan.Node, ctx *Context) (plan.Expr, plan.Node) {
	cnt := ctx.IDs.NewColumn("count_star()", "", arrow.PrimitiveTypes.Int64, false)
	agg := &plan.Aggregate{Input: &plan.Limit{Input: sub, Count: 1},
		Aggs: []*plan.AggCall{{Func: "count_star", Typ: arrow.PrimitiveTypes.Int64}}, Out: plan.Schema{cnt}}
	// The Left join keeps the column non-nullable in practice (the
	// aggregate always has its row); say so to the comparison.
	e := &plan.Binary{Op: plan.OpGt, L: cnt.Ref(), R: &plan.Literal{Value: int64(0), Typ: arrow.PrimitiveTypes.Int64}, Typ: types.Boolean}
	return e, &plan.Join{Left: input, Right: agg, Type: plan.JoinLeft}
}

// anyByAggregate computes x op ANY (sub), op one of < <= > >= <>, from
// count(*), count(y) and the extreme(s) of sub's column y, grouped by the
// correlation keys. ok is false when it cannot: x is volatile (it is
// read twice), y's type has no min/max, or the correlation is not a set
// of equalities the aggregate can group on.
func anyByAggregate(input plan.Node, x plan.Expr, op plan.BinaryOp, sub plan.Node, ctx *Context) (plan.Expr, plan.Node, bool) {
	switch op {
	case plan.OpLt, plan.OpLtEq, plan.OpGt, plan.OpGtEq, plan.OpNotEq:
	default:
		return nil, nil, false
	}
	val := sub.Schema()[0]
	if volatile(x) {
		return nil, nil, false
	}
	if _, err := types.AggregateType("min", val.Type); err != nil {
		return nil, nil, false
	}
	y := &plan.ColRef{ID: val.ID, Name: val.Name, Typ: val.Type, Null: val.Nullable}
	i64 := arrow.PrimitiveTypes.Int64
	agg := &plan.Aggregate{Input: sub}
	add := func(f string, args []plan.Expr, typ arrow.DataType, nullable bool) *plan.ColRef {
		name := f + "(" + val.Name + ")"
		if f == "count_star" {
			name = "count_star()"
		}
		c := ctx.IDs.NewColumn(name, "", typ, nullable)
		agg.Aggs = append(agg.Aggs, &plan.AggCall{Func: f, Args: args, Typ: typ})
		agg.Out = append(agg.Out, c)
		return c.Ref()
	}
	cnt := add("count_star", nil, i64, false)
	nonNull := add("count", []plan.Expr{y}, i64, false)
	// x > ANY holds when x > the smallest y; x < ANY when x < the largest;
	// x <> ANY when some non-NULL y differs from x: the least or the
	// greatest does.
	var hit plan.Expr
	cmp := func(op plan.BinaryOp, r plan.Expr) plan.Expr {
		return &plan.Binary{Op: op, L: x, R: r, Typ: types.Boolean}
	}
	switch op {
	case plan.OpGt, plan.OpGtEq:
		hit = cmp(op, add("min", []plan.Expr{y}, val.Type, true))
	case plan.OpLt, plan.OpLtEq:
		hit = cmp(op, add("max", []plan.Expr{y}, val.Type, true))
	case plan.OpNotEq:
		lo := add("min", []plan.Expr{y}, val.Type, true)
		hi := add("max", []plan.Expr{y}, val.Type, true)
		hit = plan.Or(cmp(op, lo), cmp(op, hi))
	}
	var right plan.Node = agg
	var corr []plan.Expr
	empty := plan.Expr(&plan.Binary{Op: plan.OpEq, L: cnt, R: &plan.Literal{Value: int64(0), Typ: i64}, Typ: types.Boolean})
	if outer := outerRefs(agg); len(outer) > 0 {
		var err error
		if right, corr, err = pullCorrelated(agg, outer, ctx); err != nil {
			return nil, nil, false
		}
		// A key without rows has no group: the Left join gives NULLs.
		empty = &plan.Unary{Op: plan.OpIsNull, E: cnt}
	}
	unknown := plan.Expr(&plan.Binary{Op: plan.OpLt, L: nonNull, R: cnt, Typ: types.Boolean})
	if x.Nullable() {
		unknown = plan.Or(&plan.Unary{Op: plan.OpIsNull, E: x}, unknown)
	}
	e := &plan.Case{Whens: []plan.When{
		{Cond: empty, Value: falseLit()},
		{Cond: hit, Value: trueLit()},
		{Cond: unknown, Value: nullOf(types.Boolean)},
	}, Else: falseLit(), Typ: types.Boolean}
	return e, &plan.Join{Left: input, Right: right, Type: plan.JoinLeft, Cond: plan.And(corr...)}, true
}
