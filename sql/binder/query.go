package binder

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/types"
)

// cteEnv is the chain of WITH definitions visible to a query.
type cteEnv struct {
	name   string
	node   plan.Node
	names  []string
	parent *cteEnv
}

func (e *cteEnv) lookup(name string) *cteEnv {
	for ; e != nil; e = e.parent {
		if nameEq(e.name, name) {
			return e
		}
	}
	return nil
}

func (e *cteEnv) names_() []string {
	var out []string
	for ; e != nil; e = e.parent {
		out = append(out, e.name)
	}
	return out
}

// bindSubquery binds a subquery expression's query with the current scope
// as its outer scope. In an aggregating SELECT/HAVING/ORDER BY the outer
// columns that are GROUP BY keys are exposed as the Aggregate's group
// output columns, so correlated references stay valid above the Aggregate;
// references to other input columns are rejected by checkAggCorrelation.
func (b *Binder) bindSubquery(q *ast.Query, ctx *exprCtx) (plan.Node, error) {
	sc := ctx.sc
	if ctx.agg != nil && !ctx.inAgg {
		mapped := &scope{parent: sc.parent, cols: make([]scopeCol, len(sc.cols))}
		for i, c := range sc.cols {
			if i, ok := ctx.agg.groupIdx[exprKey(c.col.Ref())]; ok {
				c.col = ctx.agg.groupCols[i]
			}
			mapped.cols[i] = c
		}
		sc = mapped
	}
	return b.bindQuery(q, sc, ctx.env)
}

// bindQuery binds a full query; parent is the scope of the enclosing query
// (for correlated subqueries), env the visible CTEs.
func (b *Binder) bindQuery(q *ast.Query, parent *scope, env *cteEnv) (plan.Node, error) {
	if q.Recursive {
		return nil, b.errf(q.At, "WITH RECURSIVE is not supported")
	}
	for _, c := range q.With {
		n, err := b.bindQuery(c.Query, parent, env)
		if err != nil {
			return nil, err
		}
		names, err := b.aliasNames(n, c.Columns, c.At, c.Name)
		if err != nil {
			return nil, err
		}
		env = &cteEnv{name: c.Name, node: n, names: names, parent: env}
	}
	if sel, ok := q.Body.(*ast.SelectCore); ok {
		return b.bindSelect(sel, q, parent, env)
	}
	n, err := b.bindBody(q.Body, parent, env)
	if err != nil {
		return nil, err
	}
	if len(q.OrderBy) > 0 {
		if n, err = b.orderOutput(n, q.OrderBy, parent, env); err != nil {
			return nil, err
		}
	}
	return b.limit(n, q)
}

// aliasNames returns the column names of n after applying aliases.
func (b *Binder) aliasNames(n plan.Node, aliases []string, pos ast.Pos, what string) ([]string, error) {
	sch := n.Schema()
	names := make([]string, len(sch))
	for i, c := range sch {
		names[i] = c.Name
	}
	if len(aliases) > len(names) {
		return nil, b.errf(pos, "%s has %d columns but %d column aliases were given", what, len(names), len(aliases))
	}
	copy(names, aliases)
	return names, nil
}

func (b *Binder) bindBody(body ast.QueryBody, parent *scope, env *cteEnv) (plan.Node, error) {
	switch x := body.(type) {
	case *ast.SelectCore:
		return b.bindSelect(x, nil, parent, env)
	case *ast.SetOp:
		return b.bindSetOp(x, parent, env)
	case *ast.Values:
		return b.bindValues(x, parent)
	case *ast.Query:
		return b.bindQuery(x, parent, env)
	}
	return nil, b.errf(body.Pos(), "unsupported query form %s", body.String())
}

// limit applies LIMIT/OFFSET of q.
func (b *Binder) limit(n plan.Node, q *ast.Query) (plan.Node, error) {
	if q == nil || (q.Limit == nil && q.Offset == nil) {
		return n, nil
	}
	l := &plan.Limit{Input: n, Count: -1}
	var err error
	if _, null := q.Limit.(*ast.NullLit); q.Limit != nil && !null { // LIMIT NULL: no limit
		if l.Count, err = b.constInt(q.Limit, "LIMIT"); err != nil {
			return nil, err
		}
	}
	if _, null := q.Offset.(*ast.NullLit); q.Offset != nil && !null {
		if l.Offset, err = b.constInt(q.Offset, "OFFSET"); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// orderOutput sorts the result of a set operation or VALUES by output
// names, ordinals or expressions over the output columns.
func (b *Binder) orderOutput(n plan.Node, items []*ast.OrderItem, parent *scope, env *cteEnv) (plan.Node, error) {
	sch := n.Schema()
	ctx := &exprCtx{sc: scopeOf(n, "", parent), clause: "ORDER BY", env: env}
	keys := make([]plan.SortKey, 0, len(items))
	for _, o := range items {
		if i, ok, err := b.ordinal(o.Expr, len(sch)); err != nil {
			return nil, err
		} else if ok {
			keys = append(keys, sortKey(sch[i].Ref(), o))
			continue
		}
		e, err := b.bindExpr(o.Expr, ctx)
		if err != nil {
			return nil, err
		}
		keys = append(keys, sortKey(e, o))
	}
	return &plan.Sort{Input: n, Keys: keys, Limit: -1}, nil
}

// ordinal recognizes ORDER BY / GROUP BY n.
func (b *Binder) ordinal(e ast.Expr, n int) (int, bool, error) {
	x, ok := e.(*ast.NumberLit)
	if !ok || !x.IsInteger() {
		return 0, false, nil
	}
	var v int
	if _, err := fmt.Sscan(x.Text, &v); err != nil || v < 1 || v > n {
		return 0, false, b.errf(x.At, "position %s is not in the select list (1..%d)", x.Text, n)
	}
	return v - 1, true, nil
}

// selectItem is one SELECT list entry after star expansion.
type selectItem struct {
	e    ast.Expr     // nil for a star-expanded column
	col  *plan.Column // star-expanded column
	name string
	pos  ast.Pos
}

func (b *Binder) expandItems(sel *ast.SelectCore, sc *scope) ([]selectItem, error) {
	var items []selectItem
	for _, it := range sel.Items {
		if !it.Star {
			items = append(items, selectItem{e: it.Expr, name: outputName(it.Expr, it.Alias), pos: it.At})
			continue
		}
		n := 0
		if len(it.StarTable) == 0 {
			for _, c := range sc.cols {
				if !c.hidden {
					col := c.col
					items = append(items, selectItem{col: &col, name: c.name, pos: it.At})
					n++
				}
			}
			if n == 0 {
				return nil, b.errf(it.At, "SELECT * with no tables")
			}
			continue
		}
		t := it.StarTable[len(it.StarTable)-1]
		for _, c := range sc.cols {
			if !c.synthetic && nameEq(c.table, t) {
				col := c.col
				items = append(items, selectItem{col: &col, name: c.name, pos: it.At})
				n++
			}
		}
		if n == 0 {
			return nil, b.errf(it.At, "unknown table %s in %s.*%s", t, t, suggest(t, sc.tableNames()))
		}
	}
	return items, nil
}

// bindSelect binds one SELECT block with the ORDER BY/LIMIT of q (q may be
// nil). Plan shape, bottom-up: FROM, Filter(WHERE), Aggregate,
// Filter(HAVING), Window, Filter(QUALIFY), Project, [distinct Aggregate],
// Sort, [Project dropping hidden ORDER BY columns], Limit.
func (b *Binder) bindSelect(sel *ast.SelectCore, q *ast.Query, parent *scope, env *cteEnv) (plan.Node, error) {
	var orderBy []*ast.OrderItem
	if q != nil {
		orderBy = q.OrderBy
	}
	var node plan.Node
	var sc *scope
	var err error
	if len(sel.From) == 0 {
		node = &plan.Values{Rows: [][]plan.Expr{{}}, Out: plan.Schema{}}
		sc = &scope{parent: parent}
	} else if node, sc, err = b.bindFromList(sel.From, parent, env); err != nil {
		return nil, err
	}
	windows := map[string]*ast.WindowSpec{}
	for _, w := range sel.Windows {
		windows[strings.ToLower(w.Name)] = w.Spec
	}
	items, err := b.expandItems(sel, sc)
	if err != nil {
		return nil, err
	}
	aliases := map[string]ast.Expr{}
	for _, it := range items {
		if it.e != nil {
			if k := strings.ToLower(it.name); aliases[k] == nil {
				aliases[k] = it.e
			}
		}
	}
	base := &exprCtx{sc: sc, clause: "WHERE", windows: windows, env: env, aliases: aliases}
	if sel.Where != nil {
		cond, err := b.bindExpr(sel.Where, base)
		if err != nil {
			return nil, err
		}
		if cond, err = b.requireBool(cond, sel.Where, "WHERE condition"); err != nil {
			return nil, err
		}
		node = &plan.Filter{Input: node, Cond: cond}
	}
	aggregating := len(sel.GroupBy) > 0 || sel.GroupByAll || sel.Having != nil ||
		(sel.Qualify != nil && containsAggregate(sel.Qualify))
	for _, it := range items {
		aggregating = aggregating || (it.e != nil && containsAggregate(it.e))
	}
	for _, o := range orderBy {
		aggregating = aggregating || containsAggregate(o.Expr)
	}
	var ag *aggCtx
	if aggregating {
		ag = &aggCtx{input: node}
		if err := b.bindGroupBy(sel, items, ag, base); err != nil {
			return nil, err
		}
	}
	win := &winCtx{}
	selCtx := &exprCtx{sc: sc, agg: ag, win: win, clause: "SELECT", windows: windows, env: env, aliases: aliases}
	projs := make([]plan.Expr, 0, len(items))
	names := make([]string, 0, len(items))
	for _, it := range items {
		var e plan.Expr
		if it.col != nil {
			e = it.col.Ref()
			if ag != nil {
				m, ok := ag.matchGroup(e)
				if !ok {
					return nil, b.errf(it.pos, "column %s must appear in the GROUP BY clause or be used in an aggregate function", it.name)
				}
				e = m
			}
		} else if e, err = b.bindExpr(it.e, selCtx); err != nil {
			return nil, err
		}
		projs = append(projs, e)
		names = append(names, it.name)
	}
	var having, qualify plan.Expr
	if sel.Having != nil {
		hctx := &exprCtx{sc: sc, agg: ag, clause: "HAVING", windows: windows, env: env, aliases: aliases}
		if having, err = b.bindExpr(sel.Having, hctx); err != nil {
			return nil, err
		}
		if having, err = b.requireBool(having, sel.Having, "HAVING condition"); err != nil {
			return nil, err
		}
	}
	if sel.Qualify != nil {
		qctx := *selCtx
		qctx.clause = "QUALIFY"
		if qualify, err = b.bindExpr(sel.Qualify, &qctx); err != nil {
			return nil, err
		}
		if qualify, err = b.requireBool(qualify, sel.Qualify, "QUALIFY condition"); err != nil {
			return nil, err
		}
	}
	// ORDER BY: output names and ordinals first, then expressions over
	// the input, added as hidden projections when not already projected.
	visible := len(projs)
	type orderRef struct {
		idx  int
		item *ast.OrderItem
	}
	var order []orderRef
	octx := *selCtx
	octx.clause = "ORDER BY"
	for _, o := range orderBy {
		idx, ok, err := b.ordinal(o.Expr, visible)
		if err != nil {
			return nil, err
		}
		if !ok {
			idx = -1
			if cr, isRef := o.Expr.(*ast.ColumnRef); isRef && len(cr.Parts) == 1 {
				for i := 0; i < visible; i++ {
					if items[i].e != nil && nameEq(items[i].name, cr.Parts[0]) {
						idx = i
						break
					}
				}
			}
		}
		if idx < 0 {
			e, err := b.bindExpr(o.Expr, &octx)
			if err != nil {
				return nil, err
			}
			if !plan.HasSubquery(e) {
				k := exprKey(e)
				for i, p := range projs {
					if exprKey(p) == k {
						idx = i
						break
					}
				}
			}
			if idx < 0 {
				if sel.Distinct {
					return nil, b.errf(o.At, "for SELECT DISTINCT, ORDER BY expressions must appear in the select list: %s", o.Expr.String())
				}
				idx = len(projs)
				projs = append(projs, e)
				names = append(names, fmt.Sprintf("__order%d", len(order)))
			}
		}
		order = append(order, orderRef{idx, o})
	}
	if ag != nil {
		node = ag.buildNode(node, b.ids)
	}
	if having != nil {
		node = &plan.Filter{Input: node, Cond: having}
	}
	if len(win.funcs) > 0 {
		node = win.build(node)
	}
	if qualify != nil {
		node = &plan.Filter{Input: node, Cond: qualify}
	}
	node = b.project(node, projs, names)
	if sel.Distinct {
		node = b.distinct(node)
	}
	if len(order) > 0 {
		sch := node.Schema()
		keys := make([]plan.SortKey, len(order))
		for i, o := range order {
			keys[i] = sortKey(sch[o.idx].Ref(), o.item)
		}
		node = &plan.Sort{Input: node, Keys: keys, Limit: -1}
	}
	if len(projs) > visible {
		sch := node.Schema()
		refs := make([]plan.Expr, visible)
		for i := range refs {
			refs[i] = sch[i].Ref()
		}
		node = b.project(node, refs, names[:visible])
	}
	return b.limit(node, q)
}

func (b *Binder) bindGroupBy(sel *ast.SelectCore, items []selectItem, ag *aggCtx, base *exprCtx) error {
	gctx := *base
	gctx.clause = "GROUP BY"
	ag.items = items
	// sets is the cross product of the grouping sets of every item; a
	// plain key contributes the one set {key}.
	sets := [][]int{{}}
	hasSets := false
	for _, g := range sel.GroupBy {
		gs, err := b.groupItemSets(g, items, ag, base, &gctx)
		if err != nil {
			return err
		}
		if _, ok := g.(*ast.GroupingSet); ok {
			hasSets = true
		}
		var next [][]int
		for _, l := range sets {
			for _, r := range gs {
				next = append(next, unionInts(l, r))
				if len(next) > maxGroupingSets {
					return b.errf(g.Pos(), "too many grouping sets (more than %d)", maxGroupingSets)
				}
			}
		}
		sets = next
	}
	if hasSets {
		ag.setGroupingSets(sets)
	}
	if sel.GroupByAll {
		for _, it := range items {
			if it.col != nil {
				ag.addGroup(it.col.Ref(), b.ids, it.name)
				continue
			}
			if containsAggregate(it.e) || containsWindow(it.e) {
				continue
			}
			e, err := b.bindExpr(it.e, &gctx)
			if err != nil {
				return err
			}
			ag.addGroupFrom(e, it.e, b.ids, it.name)
		}
	}
	return nil
}

// maxGroupingSets bounds the grouping sets of one GROUP BY (CUBE of 10
// keys has 1024); each becomes an aggregation of its own.
const maxGroupingSets = 1024

// unionInts is the sorted union of the key index sets l and r.
func unionInts(l, r []int) []int {
	out := append([]int(nil), l...)
	for _, v := range r {
		if !containsInt(out, v) {
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

// groupItemSets binds one GROUP BY item and returns its grouping sets:
// {key} for an expression, the one set of a "(a, b)" list, the prefixes of
// ROLLUP, the subsets of CUBE, the sets of each GROUPING SETS item.
func (b *Binder) groupItemSets(g ast.Expr, items []selectItem, ag *aggCtx, base, gctx *exprCtx) ([][]int, error) {
	gs, ok := g.(*ast.GroupingSet)
	if !ok {
		k, err := b.bindGroupKey(g, items, ag, base, gctx)
		if err != nil {
			return nil, err
		}
		return [][]int{{k}}, nil
	}
	// elems: the sets of each item (a key list is a single set).
	elems := make([][][]int, len(gs.Items))
	for i, it := range gs.Items {
		var err error
		if elems[i], err = b.groupItemSets(it, items, ag, base, gctx); err != nil {
			return nil, err
		}
	}
	var out [][]int
	switch gs.Kind {
	case ast.GroupingList:
		set := []int{}
		for _, e := range elems {
			set = unionInts(set, e[0])
		}
		out = [][]int{set}
	case ast.GroupingSets:
		for _, e := range elems {
			out = append(out, e...)
		}
	case ast.GroupingRollup:
		// (e1..en), (e1..en-1), ..., ().
		for n := len(elems); n >= 0; n-- {
			set := []int{}
			for _, e := range elems[:n] {
				set = unionInts(set, e[0])
			}
			out = append(out, set)
		}
	case ast.GroupingCube:
		if len(elems) > 10 {
			return nil, b.errf(gs.At, "CUBE takes at most 10 elements, got %d", len(elems))
		}
		// Every subset, the full set first (DuckDB's order).
		n := len(elems)
		for m := (1 << n) - 1; m >= 0; m-- {
			set := []int{}
			for i := 0; i < n; i++ {
				if m&(1<<(n-1-i)) != 0 {
					set = unionInts(set, elems[i][0])
				}
			}
			out = append(out, set)
		}
	}
	if len(out) > maxGroupingSets {
		return nil, b.errf(gs.At, "too many grouping sets (more than %d)", maxGroupingSets)
	}
	return out, nil
}

// bindGroupKey binds one GROUP BY key expression and returns its index.
// An ordinal or a select alias names a select item (also inside ROLLUP,
// CUBE and GROUPING SETS, as in DuckDB).
func (b *Binder) bindGroupKey(g ast.Expr, items []selectItem, ag *aggCtx, base, gctx *exprCtx) (int, error) {
	ge := g
	name := outputName(g, "")
	if i, ok, err := b.ordinal(g, len(items)); err != nil {
		return 0, err
	} else if ok {
		if items[i].col != nil {
			return ag.addGroup(items[i].col.Ref(), b.ids, items[i].name), nil
		}
		ge, name = items[i].e, items[i].name
	} else if cr, ok := g.(*ast.ColumnRef); ok && len(cr.Parts) == 1 {
		if _, _, err := b.resolve(base.sc, cr); err != nil {
			found := false
			for _, it := range items {
				if it.e != nil && nameEq(it.name, cr.Parts[0]) && it.e != g {
					ge, name, found = it.e, it.name, true
					break
				}
			}
			if !found {
				return 0, err
			}
		}
	}
	if containsAggregate(ge) {
		return 0, b.errf(ge.Pos(), "aggregate functions are not allowed in GROUP BY: %s", ge.String())
	}
	if containsGrouping(ge) {
		return 0, b.errf(ge.Pos(), "grouping() is not allowed in GROUP BY: %s", ge.String())
	}
	e, err := b.bindExpr(ge, gctx)
	if err != nil {
		return 0, err
	}
	return ag.addGroupFrom(e, ge, b.ids, name), nil
}

// distinct groups n by all its columns (SELECT DISTINCT, UNION).
func (b *Binder) distinct(n plan.Node) plan.Node {
	sch := n.Schema()
	groups := make([]plan.Expr, len(sch))
	out := make(plan.Schema, len(sch))
	for i, c := range sch {
		groups[i] = c.Ref()
		t := c.Type
		if types.IsNull(t) {
			// Hash keys need a type: DISTINCT NULL is an INTEGER (DuckDB).
			t = types.Int32
			groups[i] = &plan.Cast{E: groups[i], To: t}
		}
		out[i] = b.ids.NewColumn(c.Name, "", t, c.Nullable)
	}
	return &plan.Aggregate{Input: n, GroupBy: groups, Out: out}
}

// bindFromList binds comma-separated FROM items as cross joins.
func (b *Binder) bindFromList(items []ast.TableExpr, parent *scope, env *cteEnv) (plan.Node, *scope, error) {
	var node plan.Node
	sc := &scope{parent: parent}
	for _, it := range items {
		n, s, err := b.bindTableExpr(it, parent, env)
		if err != nil {
			return nil, nil, err
		}
		if node == nil {
			node = n
		} else {
			node = &plan.Join{Left: node, Right: n, Type: plan.JoinCross}
		}
		sc.cols = append(sc.cols, s.cols...)
	}
	return node, sc, nil
}

func (b *Binder) bindTableExpr(t ast.TableExpr, parent *scope, env *cteEnv) (plan.Node, *scope, error) {
	switch x := t.(type) {
	case *ast.TableName:
		return b.bindTableName(x, env)
	case *ast.DerivedTable:
		n, err := b.bindQuery(x.Subquery, parent, env)
		if err != nil {
			return nil, nil, err
		}
		names, err := b.aliasNames(n, x.ColumnAliases, x.At, "derived table "+x.Alias)
		if err != nil {
			return nil, nil, err
		}
		return n, namedScope(n, x.Alias, names), nil
	case *ast.Join:
		return b.bindJoin(x, parent, env)
	case *ast.TableFunction:
		if isPredict(x.Name) {
			return b.bindPredict(x, parent, env)
		}
		if isEvaluate(x.Name) {
			return b.bindEvaluate(x, parent, env)
		}
		if what, ok := modelInfoFunction(x.Name); ok {
			return b.bindModelInfo(x, what)
		}
		return nil, nil, b.errf(x.At, "table function %s is not supported in FROM; register the files as a table", strings.Join(x.Name, "."))
	}
	return nil, nil, b.errf(t.Pos(), "unsupported FROM item %s", t.String())
}

func namedScope(n plan.Node, qual string, names []string) *scope {
	s := &scope{}
	for i, c := range n.Schema() {
		s.cols = append(s.cols, scopeCol{table: qual, name: names[i], col: c})
	}
	return s
}

func (b *Binder) bindTableName(x *ast.TableName, env *cteEnv) (plan.Node, *scope, error) {
	name := x.Name[len(x.Name)-1]
	qual := x.Alias
	if qual == "" {
		qual = name
	}
	var node plan.Node
	var names []string
	if c := env.lookup(name); c != nil && len(x.Name) == 1 {
		node, _ = plan.Clone(c.node, b.ids)
		names = append([]string(nil), c.names...)
	} else {
		src, view, ok := b.cat.LookupTable(strings.Join(x.Name, "."))
		if !ok && len(x.Name) > 1 {
			src, view, ok = b.cat.LookupTable(name)
		}
		if !ok {
			cands := append(b.cat.TableNames(), env.names_()...)
			return nil, nil, b.errf(x.At, "unknown table %s%s", strings.Join(x.Name, "."), suggest(name, cands))
		}
		if src != nil && src.Schema == nil {
			return nil, nil, b.errf(x.At, "table %s has no schema", name)
		}
		if src != nil {
			scan := &plan.Scan{Source: src}
			for i, f := range src.Schema.Fields() {
				scan.Cols = append(scan.Cols, i)
				scan.Out = append(scan.Out, b.ids.NewColumn(f.Name, qual, f.Type, f.Nullable))
				names = append(names, f.Name)
			}
			node = scan
		} else if view != nil {
			node, _ = plan.Clone(view, b.ids)
			for _, c := range node.Schema() {
				names = append(names, c.Name)
			}
		} else {
			return nil, nil, b.errf(x.At, "catalog returned neither a table nor a view for %s", name)
		}
	}
	if len(x.ColumnAliases) > len(names) {
		return nil, nil, b.errf(x.At, "table %s has %d columns but %d column aliases were given", name, len(names), len(x.ColumnAliases))
	}
	copy(names, x.ColumnAliases)
	return node, namedScope(node, qual, names), nil
}

var joinTypes = map[ast.JoinType]plan.JoinType{
	ast.InnerJoin: plan.JoinInner, ast.LeftJoin: plan.JoinLeft, ast.RightJoin: plan.JoinRight,
	ast.FullJoin: plan.JoinFull, ast.CrossJoin: plan.JoinCross,
}

func (b *Binder) bindJoin(x *ast.Join, parent *scope, env *cteEnv) (plan.Node, *scope, error) {
	ln, ls, err := b.bindTableExpr(x.Left, parent, env)
	if err != nil {
		return nil, nil, err
	}
	rn, rs, err := b.bindTableExpr(x.Right, parent, env)
	if err != nil {
		return nil, nil, err
	}
	jt := joinTypes[x.Type]
	using := x.Using
	if x.Natural {
		for _, l := range ls.cols {
			if l.hidden {
				continue
			}
			for _, r := range rs.cols {
				if !r.hidden && nameEq(l.name, r.name) {
					using = append(using, l.name)
					break
				}
			}
		}
	}
	sc := &scope{parent: parent}
	sc.cols = append(append(sc.cols, ls.cols...), rs.cols...)
	nl := len(ls.cols)
	var conds []plan.Expr
	type usingPair struct{ li, ri int }
	var pairs []usingPair
	for _, u := range using {
		find := func(s *scope, side string) (int, error) {
			idx := -1
			for i, c := range s.cols {
				if !c.hidden && nameEq(c.name, u) {
					if idx >= 0 {
						return 0, b.errf(x.At, "column %s in USING is ambiguous on the %s side", u, side)
					}
					idx = i
				}
			}
			if idx < 0 {
				return 0, b.errf(x.At, "column %s in USING does not exist on the %s side of the join", u, side)
			}
			return idx, nil
		}
		li, err := find(ls, "left")
		if err != nil {
			return nil, nil, err
		}
		ri, err := find(rs, "right")
		if err != nil {
			return nil, nil, err
		}
		uref := &ast.ColumnRef{At: x.At, Parts: []string{u}}
		c, err := b.compare(plan.OpEq, ls.cols[li].col.Ref(), rs.cols[ri].col.Ref(), x.At, uref, uref)
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, c)
		pairs = append(pairs, usingPair{li, nl + ri})
	}
	if x.On != nil {
		on, err := b.bindExpr(x.On, &exprCtx{sc: sc, clause: "JOIN condition", env: env})
		if err != nil {
			return nil, nil, err
		}
		if on, err = b.requireBool(on, x.On, "JOIN condition"); err != nil {
			return nil, nil, err
		}
		conds = append(conds, on)
	}
	cond := plan.And(conds...)
	if jt == plan.JoinCross && cond != nil {
		jt = plan.JoinInner
	}
	if jt == plan.JoinInner && cond == nil {
		jt = plan.JoinCross
	}
	var node plan.Node = &plan.Join{Left: ln, Right: rn, Type: jt, Cond: cond}
	// Rebuild the scope's columns from the join's schema (outer joins make
	// columns nullable).
	js := node.Schema()
	for i := range sc.cols {
		sc.cols[i].col = js[i]
	}
	if len(pairs) == 0 {
		return node, sc, nil
	}
	if jt != plan.JoinFull {
		for _, p := range pairs {
			if jt == plan.JoinRight {
				sc.cols[p.li].hidden = true
			} else {
				sc.cols[p.ri].hidden = true
			}
		}
		return node, sc, nil
	}
	// FULL JOIN USING: the visible column is COALESCE(left, right).
	var projs []plan.Expr
	var names []string
	for _, p := range pairs {
		l, r := sc.cols[p.li].col.Ref(), sc.cols[p.ri].col.Ref()
		t, err := types.CommonSuperType(l.Type(), r.Type())
		if err != nil {
			return nil, nil, b.errf(x.At, "USING column %s: %v", sc.cols[p.li].name, err)
		}
		lc, _ := b.castTo(l, t, x.At)
		rc, _ := b.castTo(r, t, x.At)
		projs = append(projs, &plan.Func{Name: "coalesce", Args: []plan.Expr{lc, rc}, Typ: t})
		names = append(names, sc.cols[p.li].name)
		sc.cols[p.li].hidden = true
		sc.cols[p.ri].hidden = true
	}
	for _, c := range js {
		projs = append(projs, c.Ref())
		names = append(names, c.Name)
	}
	proj := b.project(node, projs, names)
	out := &scope{parent: parent}
	for i := range pairs {
		out.cols = append(out.cols, scopeCol{name: names[i], col: proj.Out[i], synthetic: true})
	}
	for i, c := range sc.cols {
		c.col = proj.Out[len(pairs)+i]
		out.cols = append(out.cols, c)
	}
	return proj, out, nil
}

// bindValues binds VALUES rows; columns are named col0, col1, ... (DuckDB)
// and typed with the common super type of each column.
func (b *Binder) bindValues(x *ast.Values, parent *scope) (plan.Node, error) {
	ctx := &exprCtx{sc: &scope{parent: parent}, clause: "VALUES"}
	if len(x.Rows) == 0 {
		return nil, b.errf(x.At, "VALUES needs at least one row")
	}
	width := len(x.Rows[0])
	rows := make([][]plan.Expr, len(x.Rows))
	for i, r := range x.Rows {
		if len(r) != width {
			return nil, b.errf(x.At, "VALUES rows must have the same number of columns: row 1 has %d, row %d has %d", width, i+1, len(r))
		}
		rows[i] = make([]plan.Expr, width)
		for j, e := range r {
			p, err := b.bindExpr(e, ctx)
			if err != nil {
				return nil, err
			}
			rows[i][j] = p
		}
	}
	out := make(plan.Schema, width)
	for j := 0; j < width; j++ {
		ts := make([]arrow.DataType, len(rows))
		nullable := false
		for i := range rows {
			ts[i] = rows[i][j].Type()
			nullable = nullable || rows[i][j].Nullable()
		}
		t, err := types.CommonSuperType(ts...)
		if err != nil {
			return nil, b.errf(x.At, "VALUES column %d: %v", j+1, err)
		}
		for i := range rows {
			if rows[i][j], err = b.castTo(rows[i][j], t, x.Rows[i][j].Pos()); err != nil {
				return nil, err
			}
		}
		out[j] = b.ids.NewColumn(fmt.Sprintf("col%d", j), "", t, nullable)
	}
	return &plan.Values{Rows: rows, Out: out}, nil
}

var setOpNames = map[ast.SetOpKind]string{ast.Union: "UNION", ast.Intersect: "INTERSECT", ast.Except: "EXCEPT"}

// bindSetOp binds UNION [ALL], INTERSECT [ALL] and EXCEPT [ALL].
// INTERSECT/EXCEPT tag each side with a marker column, union them, group by
// all columns (NULLs group together, as set operations require) and keep
// groups by the min/max of the marker. The ALL forms first number the
// copies of each distinct row on each side (row_number() partitioned by all
// columns) and group by the copy number too: copies 1..min(m, n) are on
// both sides, copies n+1..m only on the left.
func (b *Binder) bindSetOp(x *ast.SetOp, parent *scope, env *cteEnv) (plan.Node, error) {
	opName := setOpNames[x.Op]
	ln, err := b.bindBody(x.Left, parent, env)
	if err != nil {
		return nil, err
	}
	rn, err := b.bindBody(x.Right, parent, env)
	if err != nil {
		return nil, err
	}
	ls, rs := ln.Schema(), rn.Schema()
	if len(ls) != len(rs) {
		return nil, b.errf(x.At, "each %s query must have the same number of columns: left has %d, right has %d", opName, len(ls), len(rs))
	}
	ts := make([]arrow.DataType, len(ls))
	for i := range ls {
		t, err := types.CommonSuperType(ls[i].Type, rs[i].Type)
		if err != nil {
			return nil, b.errf(x.At, "%s column %d (%s): %v", opName, i+1, ls[i].Name, err)
		}
		ts[i] = t
	}
	names := make([]string, len(ls))
	for i, c := range ls {
		names[i] = c.Name
	}
	side := func(n plan.Node, marker int64) plan.Node {
		sch := n.Schema()
		changed := marker >= 0
		projs := make([]plan.Expr, len(sch))
		for i, c := range sch {
			projs[i] = c.Ref()
			if !arrow.TypeEqual(c.Type, ts[i]) {
				projs[i] = &plan.Cast{E: projs[i], To: ts[i]}
				changed = true
			}
		}
		if !changed {
			return n
		}
		nm := append([]string(nil), names...)
		if marker >= 0 {
			projs = append(projs, lit(marker, types.Int32))
			nm = append(nm, "__side")
		}
		return b.project(n, projs, nm)
	}
	unionOut := func(l, r plan.Node) plan.Schema {
		lsch, rsch := l.Schema(), r.Schema()
		out := make(plan.Schema, len(lsch))
		for i, c := range lsch {
			name := c.Name
			if i < len(names) {
				name = names[i]
			}
			out[i] = b.ids.NewColumn(name, "", c.Type, c.Nullable || rsch[i].Nullable)
		}
		return out
	}
	if x.Op == ast.Union {
		l, r := side(ln, -1), side(rn, -1)
		var n plan.Node = &plan.Union{Inputs: []plan.Node{l, r}, Out: unionOut(l, r)}
		if !x.All {
			n = b.distinct(n)
		}
		return n, nil
	}
	l, r := side(ln, 1), side(rn, 0)
	k := len(names)
	keys := k
	if x.All {
		l, r = b.numberCopies(side(ln, -1), names, 1), b.numberCopies(side(rn, -1), names, 0)
		keys++
	}
	u := &plan.Union{Inputs: []plan.Node{l, r}, Out: unionOut(l, r)}
	ag := &aggCtx{input: u}
	for _, c := range u.Out[:keys] {
		ag.addGroup(c.Ref(), b.ids, c.Name)
	}
	marker := u.Out[keys].Ref()
	minRef := ag.addAgg(&plan.AggCall{Func: "min", Args: []plan.Expr{marker}, Typ: types.Int32}, b.ids, "__min_side")
	maxRef := ag.addAgg(&plan.AggCall{Func: "max", Args: []plan.Expr{marker}, Typ: types.Int32}, b.ids, "__max_side")
	var cond plan.Expr
	if x.Op == ast.Intersect {
		cond = plan.And(plan.Eq(minRef, lit(int64(0), types.Int32)), plan.Eq(maxRef, lit(int64(1), types.Int32)))
	} else {
		cond = plan.Eq(minRef, lit(int64(1), types.Int32))
	}
	f := &plan.Filter{Input: ag.build(u), Cond: cond}
	refs := make([]plan.Expr, k)
	for i := range refs {
		refs[i] = ag.groupCols[i].Ref()
	}
	return b.project(f, refs, names), nil
}

// numberCopies appends to n's columns the copy number of each row among
// its equal rows (row_number() OVER (PARTITION BY every column)) and the
// set operation side marker.
func (b *Binder) numberCopies(n plan.Node, names []string, marker int64) plan.Node {
	sch := n.Schema()
	call := &plan.WindowCall{Func: "row_number", Typ: types.Int64}
	for _, c := range sch {
		call.PartitionBy = append(call.PartitionBy, c.Ref())
	}
	wc := &winCtx{}
	copyRef := wc.add(call, b.ids, "__copy")
	w := wc.build(n)
	projs := make([]plan.Expr, 0, len(sch)+2)
	for _, c := range sch {
		projs = append(projs, c.Ref())
	}
	projs = append(projs, copyRef, lit(marker, types.Int32))
	nm := append(append([]string(nil), names...), "__copy", "__side")
	return b.project(w, projs, nm)
}
