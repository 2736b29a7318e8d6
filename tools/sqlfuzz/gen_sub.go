package main

import "fmt"

// Window functions and subqueries.

// tieSensitive functions give results that depend on the order of peers
// (rows equal on the window ORDER BY): their ordering is made total by
// appending the scope's row keys.
var tieSensitive = map[string]bool{"row_number": true, "lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true, "ntile": true}

// window generates a window function of kind k over sc's rows, or nil.
func (g *Gen) window(sc *scope, k Kind) Expr {
	in := &scope{rels: sc.rels, noSubq: true, depth: sc.depth}
	var f *Func
	switch k {
	case KInt:
		switch g.intn(6) {
		case 0:
			f = &Func{Name: "row_number", T: tInt}
		case 1:
			f = &Func{Name: pick(g, []string{"rank", "dense_rank"}), T: tInt}
		case 2:
			f = &Func{Name: "count", Star: true, T: tInt}
		case 3:
			f = &Func{Name: "ntile", Args: []Expr{&Lit{Text: fmt.Sprint(1 + g.intn(4)), T: tInt}}, T: tInt}
		default:
			f = &Func{Name: pick(g, []string{"sum", "min", "max", "count"}), Args: []Expr{g.expr(in, KInt, 1)}, T: tInt}
		}
	case KDecimal:
		a := g.expr(in, KDecimal, 1)
		f = &Func{Name: pick(g, []string{"sum", "min", "max"}), Args: []Expr{a}, T: a.Type()}
	case KFloat:
		switch g.intn(3) {
		case 0:
			f = &Func{Name: pick(g, []string{"percent_rank", "cume_dist"}), T: tFloat}
		default:
			f = &Func{Name: "avg", Args: []Expr{g.expr(in, pick(g, []Kind{KInt, KDecimal}), 1)}, T: tFloat}
		}
	case KDate, KText, KTs:
		f = &Func{Name: pick(g, []string{"min", "max"}), Args: []Expr{g.expr(in, k, 1)}, T: Type{K: k}}
	default:
		return nil
	}
	if g.chance(0.3) && k != KFloat {
		// lag/lead/first_value/last_value of the same kind instead.
		a := g.expr(in, k, 1)
		name := pick(g, []string{"lag", "lead", "lag", "lead", "first_value", "last_value", "nth_value"})
		f = &Func{Name: name, Args: []Expr{a}, T: a.Type()}
		if name == "nth_value" {
			f.Args = append(f.Args, &Lit{Text: fmt.Sprint(1 + g.intn(3)), T: tInt})
		}
		if (name == "lag" || name == "lead") && g.chance(0.4) {
			f.Args = append(f.Args, &Lit{Text: fmt.Sprint(1 + g.intn(3)), T: tInt})
			if g.chance(0.5) {
				f.Args = append(f.Args, g.smallLit(k))
			}
		}
	}
	w := &Window{F: f}
	for i := g.intn(3); i > 0; i-- {
		if e := g.groupKey(in); e != nil {
			w.Partition = append(w.Partition, e)
		}
	}
	for i := g.intn(3); i > 0; i-- {
		if e := g.groupKey(in); e != nil {
			w.Order = append(w.Order, g.orderExpr(e))
		}
	}
	sensitive := tieSensitive[f.Name]
	aggregate := f.Name == "sum" || f.Name == "min" || f.Name == "max" || f.Name == "count" || f.Name == "avg"
	if aggregate {
		g.maybeFilter(in, f)
	}
	if aggregate && len(w.Order) > 0 {
		switch g.intn(5) {
		case 1:
			w.Frame = g.rowsFrame()
			sensitive = true
		case 2:
			kk := Kind(-1)
			if len(w.Order) == 1 {
				kk = w.Order[0].E.Type().K
			}
			switch {
			case kk == KDecimal && g.chance(0.5):
				w.Frame = fmt.Sprintf("RANGE BETWEEN %s PRECEDING AND %s FOLLOWING", pick(g, []string{"0.5", "10.25", "1000.00", "2"}), pick(g, []string{"0", "0.75", "500.5"}))
			case kk == KInt || kk == KDecimal:
				w.Frame = fmt.Sprintf("RANGE BETWEEN %d PRECEDING AND %d FOLLOWING", g.intn(4), g.intn(4))
			case kk == KDate || kk == KTs:
				iv := func() string {
					return pick(g, []string{"INTERVAL 1 DAY", "INTERVAL 30 DAY", "INTERVAL 1 MONTH", "INTERVAL '2' MONTH", "INTERVAL 1 YEAR", "INTERVAL '12 hours'"})
				}
				w.Frame = pick(g, []string{
					"RANGE BETWEEN " + iv() + " PRECEDING AND CURRENT ROW",
					"RANGE BETWEEN " + iv() + " PRECEDING AND " + iv() + " FOLLOWING",
					"RANGE BETWEEN CURRENT ROW AND " + iv() + " FOLLOWING"})
			default:
				w.Frame = pick(g, []string{"RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING"})
			}
		case 3:
			w.Frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
		}
	}
	if (f.Name == "first_value" || f.Name == "last_value" || f.Name == "nth_value") && g.chance(0.5) {
		w.Frame = g.rowsFrame()
	}
	if sensitive {
		if sc.keys == nil {
			return nil
		}
		for _, k := range sc.keys {
			w.Order = append(w.Order, g.orderExpr(cloneExpr(k)))
		}
	}
	if f.Name == "sum" && f.T.K == KInt {
		return &Cast{E: w, T: tInt} // HUGEINT in DuckDB
	}
	return w
}

func (g *Gen) rowsFrame() string {
	return pick(g, []string{
		"ROWS BETWEEN 1 PRECEDING AND CURRENT ROW",
		"ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING",
		"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
		"ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
		"ROWS BETWEEN CURRENT ROW AND 3 FOLLOWING",
	})
}

func (g *Gen) orderExpr(e Expr) OrderItem {
	o := g.orderPos(0)
	o.E = e
	return o
}

// addWindow adds a window function over the groups of an aggregating
// SELECT (rank() OVER (ORDER BY sum(x)), sum(count(*)) OVER (...)).
func (g *Gen) addWindow(s *Select, sc *scope) {
	var f *Func
	switch g.intn(3) {
	case 0:
		f = &Func{Name: pick(g, []string{"rank", "dense_rank", "row_number"}), T: tInt}
	case 1:
		a := g.aggCall(sc, KInt)
		f = &Func{Name: pick(g, []string{"sum", "max"}), Args: []Expr{a}, T: tInt}
	default:
		a := g.aggCall(sc, KDecimal)
		f = &Func{Name: "sum", Args: []Expr{a}, T: a.Type()}
	}
	w := &Window{F: f}
	if len(s.GroupBy) > 1 && g.chance(0.5) {
		w.Partition = []Expr{cloneExpr(s.GroupBy[0])}
	}
	w.Order = []OrderItem{g.orderExpr(g.aggCall(sc, pick(g, []Kind{KInt, KDecimal})))}
	if f.Name == "row_number" || g.chance(0.3) {
		// Group keys identify a group: a total order.
		for _, k := range s.GroupBy {
			w.Order = append(w.Order, g.orderExpr(cloneExpr(k)))
		}
	}
	var e Expr = w
	if f.Name == "sum" && f.T.K == KInt {
		e = &Cast{E: w, T: tInt} // HUGEINT in DuckDB
	}
	s.Items = append(s.Items, Item{E: e, Name: fmt.Sprintf("c%d", len(s.Items))})
}

// innerRel starts a subquery over one base table and returns its scope
// and the correlation predicates to the outer scope sc (nil when
// uncorrelated).
func (g *Gen) innerRel(sc *scope, correlate bool) (*scope, rel, []Expr) {
	t := pick(g, g.cat.Names)
	var corr []Expr
	var cands []struct {
		outer rel
		e     Edge
		fwd   bool
	}
	if correlate {
		for _, r := range sc.rels {
			if r.Table == "" {
				continue
			}
			for _, e := range g.cat.Edges {
				if e.A == r.Table {
					cands = append(cands, struct {
						outer rel
						e     Edge
						fwd   bool
					}{r, e, true})
				}
				if e.B == r.Table {
					cands = append(cands, struct {
						outer rel
						e     Edge
						fwd   bool
					}{r, e, false})
				}
			}
		}
	}
	if len(cands) > 0 {
		c := pick(g, cands)
		outerCol, innerCol := c.e.ACol, c.e.BCol
		t = c.e.B
		if !c.fwd {
			outerCol, innerCol, t = innerCol, outerCol, c.e.A
		}
		r := g.baseRel(t)
		corr = append(corr, &Bin{Op: "=", L: &ColRef{Alias: r.Alias, Name: innerCol, T: tInt}, R: &ColRef{Alias: c.outer.Alias, Name: outerCol, T: tInt}, T: tBool})
		in := &scope{rels: []rel{r}, outer: sc, depth: sc.depth + 1}
		return in, r, corr
	}
	r := g.baseRel(t)
	return &scope{rels: []rel{r}, outer: sc, depth: sc.depth + 1}, r, nil
}

// innerWhere generates the non-correlated conditions of a subquery.
func (g *Gen) innerWhere(in *scope) []Expr {
	var out []Expr
	in.conjunct = true
	for i := g.intn(3); i > 0; i-- {
		out = append(out, g.pred(in, 1))
	}
	in.conjunct = false
	return out
}

// scalarSubquery is (SELECT agg(...) FROM t WHERE [correlation] AND ...)
// of kind k, or (SELECT col FROM t WHERE pk = literal).
func (g *Gen) scalarSubquery(sc *scope, k Kind) Expr {
	if g.opt.GeneralSubquery && g.chance(0.25) {
		if e := g.generalScalarSubquery(sc, k); e != nil {
			return e
		}
	}
	in, r, corr := g.innerRel(sc, g.chance(0.6))
	in.agg = true
	in.noSubq = true
	item := g.aggCall(in, k)
	in.agg, in.noSubq = false, false
	if corr == nil && g.chance(0.2) {
		tb := g.cat.Tables[r.Table]
		if len(tb.PK) == 1 {
			cols := in.colsOf(k)
			if len(cols) > 0 {
				pk := tb.col(tb.PK[0])
				sel := &Select{
					Items: []Item{{E: pick(g, cols).ref(), Name: "v"}},
					From:  []From{&TableRef{Table: r.Table, Alias: r.Alias}},
					Where: &Bin{Op: "=", L: &ColRef{Alias: r.Alias, Name: pk.Name, T: tInt}, R: g.literalOf(KInt, pk.Samples), T: tBool},
				}
				return &Subq{Kind: SubScalar, Q: &Query{Body: sel, Limit: -1}, T: sel.Items[0].E.Type()}
			}
		}
	}
	sel := &Select{
		Items: []Item{{E: item, Name: "v"}},
		From:  []From{&TableRef{Table: r.Table, Alias: r.Alias}},
		Where: and(append(corr, g.innerWhere(in)...)...),
		Agg:   true,
	}
	return &Subq{Kind: SubScalar, Q: &Query{Body: sel, Limit: -1}, T: item.Type()}
}

// subqueryPred generates [NOT] EXISTS, [NOT] IN, a comparison with a
// scalar subquery, or (with SubqueryOr) a quantified comparison.
func (g *Gen) subqueryPred(sc *scope) Expr {
	n := 4
	if g.opt.SubqueryOr {
		n = 5
	}
	switch g.intn(n) {
	case 0:
		in, r, corr := g.innerRel(sc, g.chance(0.75))
		where := append(corr, g.innerWhere(in)...)
		if corr != nil && g.chance(0.2) {
			// A non-equality correlation (TPC-H Q21).
			if oc, ic, ok := g.sameKindPair(sc, in); ok {
				where = append(where, &Bin{Op: pick(g, []string{"<>", "<", ">="}), L: ic, R: oc, T: tBool})
			}
		}
		var item Expr = &Lit{Text: "1", T: tInt}
		if g.chance(0.3) {
			item = pick(g, r.Cols).ref()
		}
		sel := &Select{Items: []Item{{E: item, Name: "x"}}, From: []From{&TableRef{Table: r.Table, Alias: r.Alias}}, Where: and(where...)}
		return &Subq{Kind: SubExists, Not: g.chance(0.4), Q: &Query{Body: sel, Limit: -1}, T: tBool}
	case 1, 2:
		in, r, corr := g.innerRel(sc, g.chance(0.3))
		oc, ic, ok := g.sameKindPair(sc, in)
		if !ok {
			return nil
		}
		sel := &Select{Items: []Item{{E: ic, Name: "x"}}, From: []From{&TableRef{Table: r.Table, Alias: r.Alias}}, Where: and(append(corr, g.innerWhere(in)...)...)}
		return &Subq{Kind: SubIn, Not: g.chance(0.4), E: oc, Q: &Query{Body: sel, Limit: -1}, T: tBool}
	case 3:
		k := pick(g, []Kind{KInt, KDecimal, KDate, KText})
		s := g.scalarSubquery(sc, k)
		l := g.expr(&scope{rels: sc.rels, noSubq: true, depth: sc.depth}, k, 1)
		if k == KInt || k == KDecimal {
			l = g.expr(&scope{rels: sc.rels, noSubq: true, depth: sc.depth}, pick(g, []Kind{KInt, KDecimal}), 1)
		}
		return &Bin{Op: pick(g, []string{"=", "<>", "<", "<=", ">", ">="}), L: l, R: s, T: tBool}
	default:
		in, r, corr := g.innerRel(sc, g.chance(0.3))
		oc, ic, ok := g.sameKindPair(sc, in)
		if !ok {
			return nil
		}
		sel := &Select{Items: []Item{{E: ic, Name: "x"}}, From: []From{&TableRef{Table: r.Table, Alias: r.Alias}}, Where: and(append(corr, g.innerWhere(in)...)...)}
		return &Subq{Kind: SubQuant, E: oc, Op: pick(g, []string{"=", "<>", "<", "<=", ">", ">="}), Quant: pick(g, []string{"ANY", "ALL"}), Q: &Query{Body: sel, Limit: -1}, T: tBool}
	}
}

// sameKindPair picks an outer and an inner column of the same kind,
// preferring foreign-key pairs.
func (g *Gen) sameKindPair(outer, inner *scope) (Expr, Expr, bool) {
	ir := inner.rels[0]
	if g.chance(0.6) {
		for _, e := range g.r.Perm(len(g.cat.Edges)) {
			ed := g.cat.Edges[e]
			for _, r := range outer.rels {
				if r.Table == ed.A && ir.Table == ed.B {
					return &ColRef{Alias: r.Alias, Name: ed.ACol, T: tInt}, &ColRef{Alias: ir.Alias, Name: ed.BCol, T: tInt}, true
				}
				if r.Table == ed.B && ir.Table == ed.A {
					return &ColRef{Alias: r.Alias, Name: ed.BCol, T: tInt}, &ColRef{Alias: ir.Alias, Name: ed.ACol, T: tInt}, true
				}
			}
		}
	}
	for _, i := range g.r.Perm(len(ir.Cols)) {
		ic := ir.Cols[i]
		if ic.T.K == KFloat {
			continue
		}
		if oc := outer.colsOf(ic.T.K); len(oc) > 0 {
			return pick(g, oc).ref(), ic.ref(), true
		}
	}
	return nil, nil, false
}

// generalScalarSubquery is a correlated scalar subquery that only the
// general decorrelation (not the fast paths) handles: an aggregate under
// a non-equality correlation (next to the foreign-key equality or
// alone), or a column ORDER BY 1 LIMIT 1 [OFFSET 1] without an
// aggregate (at most one row; ordered by the value itself, so ties do
// not change it). nil when no outer column pairs with an inner one.
func (g *Gen) generalScalarSubquery(sc *scope, k Kind) Expr {
	in, r, corr := g.innerRel(sc, true)
	oc, ic, ok := g.sameKindPair(sc, in)
	if !ok {
		return nil
	}
	where := []Expr{&Bin{Op: pick(g, []string{"<>", "<", ">="}), L: ic, R: oc, T: tBool}}
	if corr != nil && g.chance(0.7) {
		where = append(corr, where...)
	}
	where = append(where, g.innerWhere(in)...)
	if g.chance(0.5) {
		cols := in.colsOf(k)
		if len(cols) == 0 {
			return nil
		}
		item := pick(g, cols).ref()
		sel := &Select{Items: []Item{{E: item, Name: "v"}}, From: []From{&TableRef{Table: r.Table, Alias: r.Alias}}, Where: and(where...)}
		order := []OrderItem{{Pos: 1, Desc: g.chance(0.5), Nulls: pick(g, []string{"FIRST", "LAST"})}}
		return &Subq{Kind: SubScalar, Q: &Query{Body: sel, OrderBy: order, Limit: 1, Offset: g.intn(2)}, T: item.Type()}
	}
	in.agg, in.noSubq = true, true
	item := g.aggCall(in, k)
	in.agg, in.noSubq = false, false
	sel := &Select{Items: []Item{{E: item, Name: "v"}}, From: []From{&TableRef{Table: r.Table, Alias: r.Alias}}, Where: and(where...), Agg: true}
	return &Subq{Kind: SubScalar, Q: &Query{Body: sel, Limit: -1}, T: item.Type()}
}
