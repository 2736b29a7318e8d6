package optimizer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

// FitMLTransforms turns the ML feature transforms of a Window
// (ml.standard_scaler(x) OVER (PARTITION BY p), ml.label_encoder, ...)
// into a fit and an apply, the way Spark ML runs an estimator and then
// its model, but inside one plan:
//
//   - the fit is an aggregation over a clone of the window's input,
//     grouped by the partition keys: avg and stddev_samp, min and max, a
//     mergeable quantile sketch (median, bucket boundaries), or, for the
//     encoders, category counts ranked by a window over the (few) distinct
//     categories. Aggregations run two-phase across the tasks, so the fit
//     is distributed, and spill like any other;
//   - the apply is a projection through the fitted scalar functions
//     (ml.standard_scale, ml.impute, ml.bucketize, ...) over the input
//     LEFT JOINed with its partition's statistics on the partition keys
//     (IS NOT DISTINCT FROM: NULL keys form a partition), or with the one
//     row of a global fit (OVER ()), which the planner broadcasts.
//
// NaN values are treated as missing by every fit. Other window functions
// of the same Window stay in a Window below the joins. Filters above the
// rewritten window may then move into the input side; the fit, on its own
// clone, still sees every row of the window's input.
type FitMLTransforms struct{}

func (FitMLTransforms) Name() string { return "fit_ml_transforms" }

func (FitMLTransforms) Apply(n plan.Node, ctx *Context) (plan.Node, bool, error) {
	var err error
	out := plan.TransformPlan(n, func(x plan.Node) plan.Node {
		w, ok := x.(*plan.Window)
		if !ok || err != nil || !hasMLTransform(w) {
			return x
		}
		var r plan.Node
		if r, err = fitMLWindow(w, ctx.IDs); err != nil {
			return x
		}
		return r
	})
	if err != nil {
		return nil, false, err
	}
	return out, changedPlan(n, out), nil
}

func hasMLTransform(w *plan.Window) bool {
	for _, f := range w.Funcs {
		if types.IsMLTransform(f.Func) {
			return true
		}
	}
	return false
}

// mlFit builds the plans of one Window's transforms.
type mlFit struct {
	ids *plan.IDGen
	in  plan.Node // the window's input, cloned for every fit
	cur plan.Node // the input with the statistics joined so far
}

// clone returns a fresh copy of the window input and a function moving
// expressions over the input onto the copy.
func (f *mlFit) clone() (plan.Node, func(plan.Expr) plan.Expr) {
	c, _ := plan.Clone(f.in, f.ids)
	m := map[plan.ColumnID]plan.Expr{}
	for i, col := range f.in.Schema() {
		m[col.ID] = c.Schema()[i].Ref()
	}
	return c, func(e plan.Expr) plan.Expr { return plan.ReplaceColumns(e, m) }
}

// aggregate groups in by keys (each becoming a fresh column) with aggs.
func (f *mlFit) aggregate(in plan.Node, keys []plan.Expr, aggs ...*plan.AggCall) (*plan.Aggregate, []plan.Column) {
	var out plan.Schema
	for i, k := range keys {
		out = append(out, f.ids.NewColumn(fmt.Sprintf("ml_key%d", i), "", k.Type(), k.Nullable()))
	}
	for _, a := range aggs {
		out = append(out, f.ids.NewColumn(a.Func, "", a.Typ, a.Nullable()))
	}
	return &plan.Aggregate{Input: in, GroupBy: keys, Aggs: aggs, Out: out}, out[len(keys):]
}

// join LEFT JOINs stats, whose first len(keys) columns are the partition
// keys, onto the current plan and returns references to the columns of
// stats after the keys (nullable: a partition may have no statistics).
func (f *mlFit) join(stats plan.Node, keys []plan.Expr, extra ...plan.Expr) []plan.Expr {
	s := stats.Schema()
	var conds []plan.Expr
	for i, k := range keys {
		conds = append(conds, &plan.Binary{Op: plan.OpIsNotDistinct, L: k, R: s[i].Ref(), Typ: types.Boolean})
	}
	conds = append(conds, extra...)
	var cond plan.Expr
	if len(conds) > 0 {
		cond = plan.And(conds...)
	}
	f.cur = &plan.Join{Left: f.cur, Right: stats, Type: plan.JoinLeft, Cond: cond}
	var refs []plan.Expr
	for _, c := range s[len(keys):] {
		r := c.Ref()
		r.Null = true
		refs = append(refs, r)
	}
	return refs
}

// project keeps the first keep columns of in (the partition keys) and
// adds exprs as fresh columns: the statistics the apply needs, without the
// (large) fitted state they come from.
func (f *mlFit) project(in plan.Node, keep int, exprs ...plan.Expr) (plan.Node, []plan.Column) {
	s := in.Schema()[:keep]
	proj := colRefsOf(s)
	out := append(plan.Schema{}, s...)
	var cols []plan.Column
	for i, e := range exprs {
		c := f.ids.NewColumn(fmt.Sprintf("ml_stat%d", i), "", e.Type(), e.Nullable())
		proj = append(proj, e)
		out = append(out, c)
		cols = append(cols, c)
	}
	return &plan.Project{Input: in, Projections: proj, Out: out}, cols
}

func call(name string, t arrow.DataType, args ...plan.Expr) plan.Expr {
	return &plan.Func{Name: name, Args: args, Typ: t}
}

func intLit(v int64) plan.Expr { return &plan.Literal{Value: v, Typ: types.Int64} }

// notNaN is x with NaN as NULL: ml.impute(x, NULL).
func notNaN(x plan.Expr) plan.Expr {
	return call(types.MLImpute, types.Float64, x, &plan.Literal{Typ: types.Float64})
}

func fitMLWindow(w *plan.Window, ids *plan.IDGen) (plan.Node, error) {
	inSchema := w.Input.Schema()
	nIn := len(inSchema)
	f := &mlFit{ids: ids, in: w.Input, cur: w.Input}
	var others []*plan.WindowCall
	otherOut := append(plan.Schema{}, inSchema...)
	for i, c := range w.Funcs {
		if !types.IsMLTransform(c.Func) {
			others = append(others, c)
			otherOut = append(otherOut, w.Out[nIn+i])
		}
	}
	if len(others) > 0 {
		f.cur = &plan.Window{Input: w.Input, Funcs: others, Out: otherOut}
	}
	final := map[plan.ColumnID]plan.Expr{}
	for i, c := range w.Funcs {
		if !types.IsMLTransform(c.Func) {
			continue
		}
		e, err := f.transform(c)
		if err != nil {
			return nil, err
		}
		final[w.Out[nIn+i].ID] = e
	}
	proj := make([]plan.Expr, len(w.Out))
	for i, col := range w.Out {
		if e, ok := final[col.ID]; ok {
			proj[i] = e
		} else {
			proj[i] = col.Ref()
		}
	}
	return &plan.Project{Input: f.cur, Projections: proj, Out: w.Out}, nil
}

// transform fits one call and returns the expression that applies it.
func (f *mlFit) transform(c *plan.WindowCall) (plan.Expr, error) {
	x := c.Args[0]
	keys := c.PartitionBy
	src, onClone := f.clone()
	ckeys := make([]plan.Expr, len(keys))
	for i, k := range keys {
		ckeys[i] = onClone(k)
	}
	cx := onClone(x)
	agg := func(name string, arg plan.Expr, t arrow.DataType) *plan.AggCall {
		return &plan.AggCall{Func: name, Args: []plan.Expr{arg}, Typ: t}
	}
	F := types.Float64
	switch c.Func {
	case types.MLStandardScaler:
		a, _ := f.aggregate(src, ckeys, agg("avg", notNaN(cx), F), agg("stddev_samp", notNaN(cx), F))
		s := f.join(a, keys)
		return call(types.MLStandardScale, F, x, s[0], s[1]), nil
	case types.MLMinMaxScaler:
		a, _ := f.aggregate(src, ckeys, agg("min", notNaN(cx), F), agg("max", notNaN(cx), F))
		s := f.join(a, keys)
		return call(types.MLMinMaxScale, F, x, s[0], s[1]), nil
	case types.MLImputer:
		switch c.Args[1].(*plan.Literal).Value {
		case "mean":
			a, _ := f.aggregate(src, ckeys, agg("avg", notNaN(cx), F))
			s := f.join(a, keys)
			return call(types.MLImpute, F, x, s[0]), nil
		case "median":
			a, cols := f.aggregate(src, ckeys, agg(types.MLQuantileSketch, notNaN(cx), arrow.BinaryTypes.Binary))
			p, _ := f.project(a, len(keys), call(types.MLSketchQuantile, F, cols[0].Ref(), &plan.Literal{Value: 0.5, Typ: F}))
			s := f.join(p, keys)
			return call(types.MLImpute, F, x, s[0]), nil
		case "most_frequent":
			v := notNaN(cx)
			ranked := f.ranked(&plan.Filter{Input: src, Cond: &plan.Unary{Op: plan.OpIsNotNull, E: v}}, ckeys, v, 1, 1)
			s := f.join(ranked, keys)
			// s: the value, its count, its rank.
			return call(types.MLImpute, F, x, s[0]), nil
		}
		return nil, fmt.Errorf("%s: unknown strategy %v", c.Func, c.Args[1])
	case types.MLQuantileBucketize:
		a, cols := f.aggregate(src, ckeys, agg(types.MLQuantileSketch, notNaN(cx), arrow.BinaryTypes.Binary))
		p, _ := f.project(a, len(keys), call(types.MLSketchSplits, types.ListOf(F), cols[0].Ref(), c.Args[1]))
		s := f.join(p, keys)
		return call(types.MLBucketize, types.Int64, x, s[0]), nil
	case types.MLLabelEncoder, types.MLOneHotEncoder:
		topK, minFreq := int64(0), int64(1)
		if len(c.Args) > 1 {
			topK = c.Args[1].(*plan.Literal).Value.(int64)
		}
		if len(c.Args) > 2 {
			minFreq = c.Args[2].(*plan.Literal).Value.(int64)
		}
		nonNull := &plan.Filter{Input: src, Cond: &plan.Unary{Op: plan.OpIsNotNull, E: cx}}
		ranked := f.ranked(nonNull, ckeys, cx, topK, minFreq)
		// The number of categories kept per partition, on a copy of the
		// ranking (its columns must be fresh).
		rc, _ := plan.Clone(ranked, f.ids)
		rs := rc.Schema()
		kagg, _ := f.aggregate(rc, colRefsOf(rs[:len(keys)]), &plan.AggCall{Func: "count_star", Typ: types.Int64})
		kref := f.join(kagg, keys)[0]
		rsch := ranked.Schema()
		s := f.join(ranked, keys, &plan.Binary{Op: plan.OpEq, L: x, R: rsch[len(keys)].Ref(), Typ: types.Boolean})
		rn := s[len(s)-1]
		idx := &plan.Binary{Op: plan.OpSub, L: rn, R: intLit(1), Typ: types.Int64}
		k := call("coalesce", types.Int64, kref, intLit(0))
		if c.Func == types.MLOneHotEncoder {
			return call(types.MLOneHot, types.ListOf(F), idx, k), nil
		}
		return call("coalesce", types.Int64, idx, k), nil
	}
	return nil, fmt.Errorf("unknown ML transform %s", c.Func)
}

// ranked counts the rows of in per (keys, v), keeps the values seen at
// least minFreq times and ranks them per partition by descending count,
// ties by ascending value, keeping the first topK (all when topK is 0).
// Its columns: the keys, the value, its count, its rank (from 1).
func (f *mlFit) ranked(in plan.Node, keys []plan.Expr, v plan.Expr, topK, minFreq int64) plan.Node {
	a, cols := f.aggregate(in, append(append([]plan.Expr{}, keys...), v), &plan.AggCall{Func: "count_star", Typ: types.Int64})
	out := a.Out
	nk := len(keys)
	val, cnt := out[nk], cols[0]
	var n plan.Node = a
	if minFreq > 1 {
		n = &plan.Filter{Input: n, Cond: &plan.Binary{Op: plan.OpGtEq, L: cnt.Ref(), R: intLit(minFreq), Typ: types.Boolean}}
	}
	rn := f.ids.NewColumn("ml_rank", "", types.Int64, false)
	wc := &plan.WindowCall{Func: "row_number", Typ: types.Int64,
		PartitionBy: colRefsOf(out[:nk]),
		OrderBy:     []plan.SortKey{{E: cnt.Ref(), Desc: true}, {E: val.Ref()}}}
	n = &plan.Window{Input: n, Funcs: []*plan.WindowCall{wc}, Out: append(append(plan.Schema{}, out...), rn)}
	if topK > 0 {
		n = &plan.Filter{Input: n, Cond: &plan.Binary{Op: plan.OpLtEq, L: rn.Ref(), R: intLit(topK), Typ: types.Boolean}}
	}
	return n
}
