package binder

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/types"
)

// exprKey identifies an expression structurally (column IDs included), to
// match SELECT expressions against GROUP BY expressions and to share equal
// aggregate and window calls.
func exprKey(e plan.Expr) string { return e.String() + "::" + e.Type().String() }

// aggCtx collects the group keys and aggregate calls of one SELECT; it
// becomes one plan.Aggregate over input.
type aggCtx struct {
	input     plan.Node
	ids       plan.ColumnSet
	groups    []plan.Expr
	groupCols []plan.Column
	groupIdx  map[string]int
	aggs      []*plan.AggCall
	aggCols   []plan.Column
	aggIdx    map[string]int
	// sets lists the grouping sets (indexes into groups) of GROUP BY
	// ROLLUP/CUBE/GROUPING SETS; nil for one plain grouping.
	sets [][]int
	// grouping holds the grouping()/grouping_id() calls: their key
	// indexes and output columns (constants of each grouping set).
	grouping    [][]int
	groupingCol []plan.Column
	groupingIdx map[string]int
	// items are the select items, whose aliases grouping() arguments may
	// name.
	items []selectItem
}

func (a *aggCtx) inputIDs() plan.ColumnSet {
	if a.ids == nil {
		a.ids = a.input.Schema().IDs()
	}
	return a.ids
}

// usesInput reports whether e reads a column of the aggregate's input.
func (a *aggCtx) usesInput(e plan.Expr) bool {
	for id := range plan.ReferencedColumns(e) {
		if a.inputIDs().Has(id) {
			return true
		}
	}
	return false
}

func (a *aggCtx) addGroup(e plan.Expr, ids *plan.IDGen, name string) int {
	return a.addGroupKey(e, exprKey(e), ids, name)
}

// addGroupFrom registers the group expression e bound from src. Bound
// subqueries all print alike ("<subquery>"), so a group holding one is
// keyed by its SQL text instead; matchGroupSQL finds it again when the
// same text appears in the SELECT list (GROUP BY 1, an alias, or a repeat).
func (a *aggCtx) addGroupFrom(e plan.Expr, src ast.Expr, ids *plan.IDGen, name string) int {
	if plan.HasSubquery(e) {
		return a.addGroupKey(e, sqlKey(src), ids, name)
	}
	return a.addGroup(e, ids, name)
}

func sqlKey(e ast.Expr) string { return "sql::" + e.String() }

// matchGroupSQL returns a reference to the group column of a GROUP BY
// expression with a subquery whose SQL text is e's.
func (a *aggCtx) matchGroupSQL(e ast.Expr) (plan.Expr, bool) {
	i, ok := a.groupIdx[sqlKey(e)]
	if !ok {
		return nil, false
	}
	return a.groupCols[i].Ref(), true
}

// addGroupKey registers the group expression e under key k and returns
// its index in groups.
func (a *aggCtx) addGroupKey(e plan.Expr, k string, ids *plan.IDGen, name string) int {
	if a.groupIdx == nil {
		a.groupIdx = map[string]int{}
	}
	if i, ok := a.groupIdx[k]; ok {
		return i
	}
	if r, ok := e.(*plan.ColRef); ok {
		name = r.Name
	}
	if types.IsNull(e.Type()) {
		// Hash keys need a type: GROUP BY NULL groups as INTEGER.
		e = &plan.Cast{E: e, To: types.Int32}
	}
	a.groupIdx[k] = len(a.groups)
	a.groups = append(a.groups, e)
	a.groupCols = append(a.groupCols, ids.NewColumn(name, "", e.Type(), e.Nullable()))
	return len(a.groups) - 1
}

// matchGroup returns a reference to the group column computing e.
func (a *aggCtx) matchGroup(e plan.Expr) (plan.Expr, bool) {
	if plan.HasSubquery(e) {
		return nil, false
	}
	i, ok := a.groupIdx[exprKey(e)]
	if !ok {
		return nil, false
	}
	return a.groupCols[i].Ref(), true
}

func aggKey(c *plan.AggCall) string { return c.String() + "::" + c.Typ.String() }

// addAgg registers call (sharing an equal one) and returns a reference to
// its output column.
func (a *aggCtx) addAgg(call *plan.AggCall, ids *plan.IDGen, name string) plan.Expr {
	if a.aggIdx == nil {
		a.aggIdx = map[string]int{}
	}
	k := aggKey(call)
	if i, ok := a.aggIdx[k]; ok {
		return a.aggCols[i].Ref()
	}
	// Subqueries print alike ("<subquery>"): never share calls holding one.
	if !plan.HasSubquery(call) {
		a.aggIdx[k] = len(a.aggs)
	}
	a.aggs = append(a.aggs, call)
	col := ids.NewColumn(name, "", call.Typ, call.Nullable())
	a.aggCols = append(a.aggCols, col)
	return col.Ref()
}

// groupIndex returns the index of the group key computing e.
func (a *aggCtx) groupIndex(e plan.Expr) (int, bool) {
	if plan.HasSubquery(e) {
		return 0, false
	}
	i, ok := a.groupIdx[exprKey(e)]
	return i, ok
}

// setGroupingSets records the grouping sets of GROUP BY and makes the
// keys some set leaves out nullable (their rolled-up rows hold NULL).
// One set holding every key is a plain grouping.
func (a *aggCtx) setGroupingSets(sets [][]int) {
	if len(sets) == 1 && len(sets[0]) == len(a.groups) {
		return
	}
	a.sets = sets
	for i := range a.groupCols {
		for _, s := range sets {
			if !containsInt(s, i) {
				a.groupCols[i].Nullable = true
				break
			}
		}
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// addGrouping registers grouping(keys...) and returns its value: a
// constant 0 for a plain grouping, else a reference to a column each
// grouping set fills with its own constant.
func (a *aggCtx) addGrouping(keys []int, ids *plan.IDGen, name string) plan.Expr {
	if a.sets == nil {
		return &plan.Literal{Value: int64(0), Typ: types.Int64}
	}
	if a.groupingIdx == nil {
		a.groupingIdx = map[string]int{}
	}
	k := fmt.Sprint(keys)
	if i, ok := a.groupingIdx[k]; ok {
		return a.groupingCol[i].Ref()
	}
	a.groupingIdx[k] = len(a.grouping)
	a.grouping = append(a.grouping, keys)
	col := ids.NewColumn(name, "", types.Int64, false)
	a.groupingCol = append(a.groupingCol, col)
	return col.Ref()
}

// groupingValue is grouping(keys...) in grouping set set: bit i (the
// first key most significant) is set when key i is aggregated away.
func groupingValue(keys, set []int) int64 {
	var v int64
	for _, k := range keys {
		v <<= 1
		if !containsInt(set, k) {
			v |= 1
		}
	}
	return v
}

func (a *aggCtx) build(input plan.Node) *plan.Aggregate {
	out := append(append(plan.Schema{}, a.groupCols...), a.aggCols...)
	return &plan.Aggregate{Input: input, GroupBy: a.groups, Aggs: a.aggs, Out: out}
}

// buildNode builds the aggregation: one plan.Aggregate, or for grouping
// sets a UNION ALL of one Aggregate per set (each over its own copy of
// input), each projected to the schema of the single Aggregate: NULL for
// the keys the set leaves out, then the aggregates, then the constants of
// the grouping() calls.
func (a *aggCtx) buildNode(input plan.Node, ids *plan.IDGen) plan.Node {
	if a.sets == nil {
		return a.build(input)
	}
	out := append(append(append(plan.Schema{}, a.groupCols...), a.aggCols...), a.groupingCol...)
	u := &plan.Union{Out: out}
	for k, set := range a.sets {
		groups := make([]plan.Expr, len(set))
		aggOut := make(plan.Schema, 0, len(set)+len(a.aggs))
		for i, g := range set {
			groups[i] = a.groups[g]
			c := a.groupCols[g]
			aggOut = append(aggOut, ids.NewColumn(c.Name, "", c.Type, a.groups[g].Nullable()))
		}
		for _, c := range a.aggCols {
			aggOut = append(aggOut, ids.NewColumn(c.Name, "", c.Type, c.Nullable))
		}
		var n plan.Node = &plan.Aggregate{Input: input, GroupBy: groups, Aggs: a.aggs, Out: aggOut}
		if k > 0 {
			n, _ = plan.Clone(n, ids)
		}
		sch := n.Schema()
		projs := make([]plan.Expr, 0, len(out))
		for g, c := range a.groupCols {
			if j := indexInt(set, g); j >= 0 {
				projs = append(projs, sch[j].Ref())
			} else {
				projs = append(projs, &plan.Literal{Value: nil, Typ: c.Type})
			}
		}
		for j := range a.aggCols {
			projs = append(projs, sch[len(set)+j].Ref())
		}
		for _, keys := range a.grouping {
			projs = append(projs, &plan.Literal{Value: groupingValue(keys, set), Typ: types.Int64})
		}
		pout := make(plan.Schema, len(projs))
		for i, e := range projs {
			pout[i] = ids.NewColumn(out[i].Name, "", e.Type(), e.Nullable())
		}
		u.Inputs = append(u.Inputs, &plan.Project{Input: n, Projections: projs, Out: pout})
	}
	return u
}

func indexInt(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// winCtx collects the window calls of one SELECT; it becomes one
// plan.Window above the aggregation.
type winCtx struct {
	funcs []*plan.WindowCall
	cols  []plan.Column
	idx   map[string]int
}

func windowKey(w *plan.WindowCall) string {
	k := w.String() + "::" + w.Typ.String()
	if w.Frame != nil {
		k += fmt.Sprintf("::%v", *w.Frame)
	}
	return k
}

func (w *winCtx) add(call *plan.WindowCall, ids *plan.IDGen, name string) plan.Expr {
	if w.idx == nil {
		w.idx = map[string]int{}
	}
	k := windowKey(call)
	if i, ok := w.idx[k]; ok {
		return w.cols[i].Ref()
	}
	hasSub := false
	for _, e := range append(append([]plan.Expr(nil), call.Args...), call.PartitionBy...) {
		hasSub = hasSub || plan.HasSubquery(e)
	}
	for _, k := range call.OrderBy {
		hasSub = hasSub || plan.HasSubquery(k.E)
	}
	hasSub = hasSub || (call.Filter != nil && plan.HasSubquery(call.Filter))
	if !hasSub {
		w.idx[k] = len(w.funcs)
	}
	w.funcs = append(w.funcs, call)
	nullable := true
	switch call.Func {
	case "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "count", "count_star":
		nullable = false
	}
	col := ids.NewColumn(name, "", call.Typ, nullable)
	w.cols = append(w.cols, col)
	return col.Ref()
}

func (w *winCtx) build(input plan.Node) *plan.Window {
	out := append(append(plan.Schema{}, input.Schema()...), w.cols...)
	return &plan.Window{Input: input, Funcs: w.funcs, Out: out}
}

// bindWindowCall binds f(...) OVER (...) and returns a reference to the
// Window output column.
func (b *Binder) bindWindowCall(fc *ast.FuncCall, ctx *exprCtx) (plan.Expr, error) {
	name := funcName(fc)
	if ctx.win == nil {
		return nil, b.errf(fc.At, "window functions are not allowed in %s: %s", ctx.clause, fc.String())
	}
	spec, err := b.resolveWindow(fc.Over, ctx.windows)
	if err != nil {
		return nil, err
	}
	argCtx := &exprCtx{sc: ctx.sc, agg: ctx.agg, clause: "window function arguments", windows: ctx.windows, env: ctx.env, aliases: ctx.aliases, expanding: ctx.expanding}
	call := &plan.WindowCall{}
	if canon, ok := types.AggregateName(name); ok {
		if fc.Distinct {
			return nil, b.errf(fc.At, "DISTINCT is not supported in window aggregate %s", name)
		}
		if fc.Star {
			if canon != "count" {
				return nil, b.errf(fc.At, "%s(*) is not supported", name)
			}
			canon = "count_star"
		} else if len(fc.Args) != 1 {
			return nil, b.errf(fc.At, "aggregate %s takes one argument, got %d", name, len(fc.Args))
		}
		name = canon
	} else if types.IsMLTransform(name) {
		if fc.Distinct || fc.Star || fc.Filter != nil {
			return nil, b.errf(fc.At, "invalid call of %s", fc.String())
		}
		if len(spec.OrderBy) > 0 || spec.Frame != nil {
			return nil, b.errf(fc.At, "%s is fitted over its whole window: its OVER clause takes only PARTITION BY, not ORDER BY or a frame", name)
		}
	} else if !types.IsWindowFunction(name) {
		return nil, b.errf(fc.At, "unknown window function %s", name)
	} else if fc.Distinct || fc.Star || fc.Filter != nil {
		return nil, b.errf(fc.At, "invalid call of window function %s", fc.String())
	}
	call.Func = name
	argTypes := make([]arrow.DataType, len(fc.Args))
	for i, a := range fc.Args {
		e, err := b.bindExpr(a, argCtx)
		if err != nil {
			return nil, err
		}
		if i == 0 && types.IsNull(e.Type()) {
			// min(NULL) OVER (...): the kernels need a concrete type.
			if e, err = b.castTo(e, types.Int32, a.Pos()); err != nil {
				return nil, err
			}
		}
		call.Args = append(call.Args, e)
		argTypes[i] = e.Type()
	}
	t, err := types.WindowFunctionType(name, argTypes)
	if err != nil {
		return nil, b.errf(fc.At, "%s: %v", fc.String(), err)
	}
	call.Typ = t
	if types.IsMLTransform(name) {
		if err := b.checkMLTransform(call, fc); err != nil {
			return nil, err
		}
	}
	if (name == "lag" || name == "lead") && len(call.Args) == 3 {
		if call.Args[2], err = b.castTo(call.Args[2], t, fc.Args[2].Pos()); err != nil {
			return nil, err
		}
	}
	if fc.Filter != nil {
		f, err := b.bindExpr(fc.Filter, argCtx)
		if err != nil {
			return nil, err
		}
		if call.Filter, err = b.requireBool(f, fc.Filter, "FILTER condition"); err != nil {
			return nil, err
		}
	}
	for _, p := range spec.PartitionBy {
		e, err := b.bindExpr(p, argCtx)
		if err != nil {
			return nil, err
		}
		call.PartitionBy = append(call.PartitionBy, e)
	}
	for _, o := range spec.OrderBy {
		e, err := b.bindExpr(o.Expr, argCtx)
		if err != nil {
			return nil, err
		}
		call.OrderBy = append(call.OrderBy, sortKey(e, o))
	}
	if spec.Frame != nil {
		if call.Frame, err = b.bindFrame(spec.Frame); err != nil {
			return nil, err
		}
		if err := b.checkRangeFrame(call.Frame, call.OrderBy, spec.Frame.At); err != nil {
			return nil, err
		}
	}
	return ctx.win.add(call, b.ids, outputName(fc, "")), nil
}

// sortKey applies DuckDB's defaults: ASC, and NULLS LAST for both
// directions (DuckDB 1.x; PostgreSQL would put NULLs first for DESC).
func sortKey(e plan.Expr, o *ast.OrderItem) plan.SortKey {
	k := plan.SortKey{E: e, Desc: o.Desc}
	if o.NullsFirst != nil {
		k.NullsFirst = *o.NullsFirst
	}
	return k
}

// resolveWindow merges a window reference (OVER w, OVER (w ORDER BY ...))
// with its WINDOW clause definition.
func (b *Binder) resolveWindow(spec *ast.WindowSpec, defs map[string]*ast.WindowSpec) (*ast.WindowSpec, error) {
	if spec.Name == "" {
		return spec, nil
	}
	base, ok := defs[strings.ToLower(spec.Name)]
	if !ok {
		var names []string
		for n := range defs {
			names = append(names, n)
		}
		return nil, b.errf(spec.At, "unknown window %s%s", spec.Name, suggest(spec.Name, names))
	}
	base, err := b.resolveWindow(base, defs)
	if err != nil {
		return nil, err
	}
	if len(spec.PartitionBy) > 0 {
		return nil, b.errf(spec.At, "cannot override PARTITION BY of window %s", spec.Name)
	}
	m := *base
	if len(spec.OrderBy) > 0 {
		if len(base.OrderBy) > 0 {
			return nil, b.errf(spec.At, "cannot override ORDER BY of window %s", spec.Name)
		}
		m.OrderBy = spec.OrderBy
	}
	if spec.Frame != nil {
		m.Frame = spec.Frame
	}
	return &m, nil
}

func (b *Binder) bindFrame(f *ast.Frame) (*plan.WindowFrame, error) {
	if f.Unit == ast.FrameGroups {
		return nil, b.errf(f.At, "GROUPS frames are not supported")
	}
	out := &plan.WindowFrame{Rows: f.Unit == ast.FrameRows}
	var err error
	if out.Start, err = b.bindFrameBound(f.Start, out.Rows); err != nil {
		return nil, err
	}
	if out.End, err = b.bindFrameBound(f.End, out.Rows); err != nil {
		return nil, err
	}
	if out.Start.Kind > out.End.Kind || out.Start.Kind == plan.UnboundedFollowing || out.End.Kind == plan.UnboundedPreceding {
		return nil, b.errf(f.At, "invalid window frame: start is after end")
	}
	return out, nil
}

func (b *Binder) bindFrameBound(fb ast.FrameBound, rows bool) (plan.FrameBound, error) {
	out := plan.FrameBound{Kind: plan.FrameBoundKind(fb.Kind)}
	if fb.Kind == ast.Preceding || fb.Kind == ast.Following {
		if fb.Offset == nil {
			return out, b.errf(fb.At, "frame bound needs an offset")
		}
		if rows {
			n, err := b.constInt(fb.Offset, "ROWS frame offset")
			if err != nil {
				return out, err
			}
			out.Offset = n
			return out, nil
		}
		return b.bindRangeOffset(fb, out)
	}
	return out, nil
}

// bindRangeOffset binds a RANGE frame offset: a non-negative integer or
// decimal constant (Offset·10^-Scale), or a non-negative INTERVAL (for
// DATE and TIMESTAMP keys; checked by checkRangeFrame).
func (b *Binder) bindRangeOffset(fb ast.FrameBound, out plan.FrameBound) (plan.FrameBound, error) {
	what := "RANGE frame offset"
	p, err := b.bindExpr(fb.Offset, &exprCtx{sc: &scope{}, clause: what})
	if err != nil {
		return out, err
	}
	l, ok := p.(*plan.Literal)
	if !ok || l.Value == nil {
		return out, b.errf(fb.Offset.Pos(), "%s must be a constant number or interval, got %s", what, fb.Offset.String())
	}
	switch v := l.Value.(type) {
	case int64:
		if v >= 0 {
			out.Offset = v
			return out, nil
		}
	case decimal128.Num:
		_, s := types.DecimalParams(l.Typ)
		if v.Sign() >= 0 && v.BigInt().IsInt64() && s <= 18 {
			out.Offset, out.Scale = v.BigInt().Int64(), s
			return out, nil
		}
	case arrow.MonthDayNanoInterval:
		if v.Months >= 0 && v.Days >= 0 && v.Nanoseconds >= 0 {
			out.Interval, out.Months, out.Days, out.Offset = true, v.Months, v.Days, v.Nanoseconds/1000
			return out, nil
		}
	}
	return out, b.errf(fb.Offset.Pos(), "%s must be a non-negative number or interval, got %s (%s)", what, fb.Offset.String(), types.TypeName(l.Typ))
}

// checkRangeFrame checks a RANGE frame's offsets against its single ORDER
// BY key, as DuckDB does: INTERVAL offsets for DATE and TIMESTAMP keys
// (or whole days for DATE), numbers for numeric keys.
func (b *Binder) checkRangeFrame(f *plan.WindowFrame, order []plan.SortKey, at ast.Pos) error {
	if f == nil || f.Rows {
		return nil
	}
	for _, fb := range []plan.FrameBound{f.Start, f.End} {
		if fb.Kind != plan.Preceding && fb.Kind != plan.Following {
			continue
		}
		if len(order) != 1 {
			return b.errf(at, "a RANGE frame with an offset needs exactly one ORDER BY key, got %d", len(order))
		}
		kt := order[0].E.Type()
		temporal := kt.ID() == arrow.DATE32 || kt.ID() == arrow.TIMESTAMP
		switch {
		case temporal && !fb.Interval && (kt.ID() == arrow.TIMESTAMP || fb.Scale > 0):
			// DATE ± integer is a date (days); nothing else is.
			return b.errf(at, "a RANGE frame over a %s key needs an INTERVAL offset", types.TypeName(kt))
		case !temporal && fb.Interval:
			return b.errf(at, "an INTERVAL RANGE offset needs a DATE or TIMESTAMP key, got %s", types.TypeName(kt))
		case !temporal && !types.IsNumeric(kt):
			return b.errf(at, "a RANGE frame with an offset needs a numeric, DATE or TIMESTAMP key, got %s", types.TypeName(kt))
		}
	}
	return nil
}
