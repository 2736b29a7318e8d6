package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// GenOptions choose what the generator may produce.
type GenOptions struct {
	// SubqueryOr allows EXISTS / IN subqueries under OR (and elsewhere
	// than as WHERE conjuncts) and quantified comparisons (op ANY|ALL).
	SubqueryOr bool
	// GeneralSubquery allows correlated scalar subqueries that need the
	// general decorrelation: non-equality correlation under an aggregate,
	// ORDER BY ... LIMIT without an aggregate.
	GeneralSubquery bool
}

// Gen generates random queries over a Catalog. The same seed, catalog
// and options always give the same queries.
type Gen struct {
	r     *rand.Rand
	cat   *Catalog
	opt   GenOptions
	alias int
}

// NewGen returns a generator seeded with seed.
func NewGen(cat *Catalog, seed uint64, opt GenOptions) *Gen {
	return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cat: cat, opt: opt}
}

// scol is a column visible in a scope.
type scol struct {
	Alias, Name string
	T           Type
	Samples     []string
	Table       string // base table, "" for derived columns
}

func (c scol) ref() *ColRef { return &ColRef{Alias: c.Alias, Name: c.Name, T: c.T} }

// rel is a FROM item in a scope.
type rel struct {
	Alias, Table string // Table "" for derived tables
	Rows         int
	Cols         []scol
}

// scope is what expressions of one SELECT block can see.
type scope struct {
	rels  []rel
	outer *scope
	// keys are column references that together identify a row of the
	// FROM clause (nil if unknown): appended to window orderings whose
	// result depends on the order of peers.
	keys []Expr
	// aggregate context: group keys usable as leaves, and aggregates
	// allowed.
	agg     bool
	groupBy []Expr
	// noSubq forbids subqueries (window arguments, ON conditions,
	// aggregate arguments).
	noSubq bool
	// depth of subquery nesting.
	depth int
	// conjunct is set while generating a WHERE conjunct: EXISTS/IN
	// subqueries are allowed there.
	conjunct bool
}

func (s *scope) cols() []scol {
	var out []scol
	for _, r := range s.rels {
		out = append(out, r.Cols...)
	}
	return out
}

func (s *scope) colsOf(k Kind) []scol {
	var out []scol
	for _, c := range s.cols() {
		if c.T.K == k {
			out = append(out, c)
		}
	}
	return out
}

func (g *Gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *Gen) intn(n int) int        { return g.r.IntN(n) }

func pick[T any](g *Gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

func (g *Gen) newAlias(prefix string) string {
	g.alias++
	return fmt.Sprintf("%s%d", prefix, g.alias)
}

// Query generates a top-level query.
func (g *Gen) Query() *Query {
	g.alias = 0
	if g.chance(0.08) {
		return g.withQuery()
	}
	return g.query(nil, 0, true)
}

// withQuery generates WITH w AS (q) and a query reading w twice: joined
// to itself, or in both sides of a UNION ALL (one exchange may then serve
// both reads).
func (g *Gen) withQuery() *Query {
	inner := g.query(nil, 1, false)
	name := g.newAlias("w")
	out := inner.Body.Out()
	cteRel := func() rel {
		r := rel{Alias: g.newAlias("x"), Rows: 1000}
		for _, c := range out {
			r.Cols = append(r.Cols, scol{Alias: r.Alias, Name: c.Name, T: c.T})
		}
		return r
	}
	side := func(want []Type) *Select {
		a, b := cteRel(), cteRel()
		sc := &scope{rels: []rel{a, b}, depth: 1}
		s := &Select{From: []From{&TableRef{Table: name, Alias: a.Alias}}}
		var on []Expr
		for i, c := range out {
			if c.T.K != KFloat {
				on = append(on, &Bin{Op: "=", L: &ColRef{Alias: a.Alias, Name: c.Name, T: c.T}, R: &ColRef{Alias: b.Alias, Name: c.Name, T: c.T}, T: tBool})
				if i > 0 || g.chance(0.5) {
					break
				}
			}
		}
		if on != nil && g.chance(0.6) {
			s.From = []From{&Join{Type: pick(g, []string{"INNER", "LEFT"}), L: s.From[0], R: &TableRef{Table: name, Alias: b.Alias}, On: and(on...)}}
		} else {
			sc.rels = sc.rels[:1]
		}
		sc.conjunct = true
		if g.chance(0.5) {
			s.Where = g.pred(sc, 1)
		}
		sc.conjunct = false
		n := 1 + g.intn(3)
		if want != nil {
			n = len(want)
		}
		for i := 0; i < n; i++ {
			k := pick(g, []Kind{KInt, KDecimal, KText, KDate})
			if want != nil {
				k = want[i].K
			}
			e := g.expr(sc, k, 1)
			if want != nil && e.Type().K != want[i].K {
				e = &Cast{E: e, T: want[i]}
			}
			s.Items = append(s.Items, Item{E: e, Name: fmt.Sprintf("c%d", i)})
		}
		return s
	}
	q := &Query{With: []CTE{{Name: name, Q: inner}}, Limit: -1}
	l := side(nil)
	if g.chance(0.4) {
		var want []Type
		for _, c := range l.Out() {
			want = append(want, c.T)
		}
		q.Body = &SetOp{Op: "UNION", All: true, L: l, R: side(want)}
	} else {
		q.Body = l
	}
	return q
}

// query generates a query; top allows ORDER BY without LIMIT.
func (g *Gen) query(outer *scope, depth int, top bool) *Query {
	q := &Query{Limit: -1}
	if depth < 2 && g.chance(0.12) {
		q.Body = g.setOp(depth)
	} else {
		q.Body = g.selectBlock(outer, depth, nil)
	}
	out := q.Body.Out()
	switch {
	case g.chance(0.25):
		// ORDER BY every column (a total order up to equal rows), then
		// LIMIT/OFFSET are deterministic.
		for _, p := range g.r.Perm(len(out)) {
			q.OrderBy = append(q.OrderBy, g.orderPos(p+1))
		}
		q.Limit = g.intn(25)
		if g.chance(0.3) {
			q.Offset = 1 + g.intn(10)
		}
	case top && g.chance(0.25):
		for _, p := range g.r.Perm(len(out))[:1+g.intn(len(out))] {
			q.OrderBy = append(q.OrderBy, g.orderPos(p+1))
		}
	}
	return q
}

func (g *Gen) orderPos(pos int) OrderItem {
	o := OrderItem{Pos: pos, Desc: g.chance(0.4)}
	switch g.intn(3) {
	case 1:
		o.Nulls = "FIRST"
	case 2:
		o.Nulls = "LAST"
	}
	return o
}

// setOp generates a set operation of two SELECTs with the same output
// types.
func (g *Gen) setOp(depth int) Body {
	l := g.selectBlock(nil, depth, nil)
	var want []Type
	for _, c := range l.Out() {
		want = append(want, c.T)
	}
	r := g.selectBlock(nil, depth, want)
	op := pick(g, []string{"UNION", "UNION", "INTERSECT", "EXCEPT"})
	all := g.chance(0.5)
	if op != "UNION" {
		all = g.chance(0.4) // INTERSECT ALL / EXCEPT ALL: bag semantics
	}
	if !all && hasFloat(want) {
		// Distinct set operations on floats depend on the last bits.
		op, all = "UNION", true
	}
	return &SetOp{Op: op, All: all, L: l, R: r}
}

func hasFloat(ts []Type) bool {
	for _, t := range ts {
		if t.K == KFloat {
			return true
		}
	}
	return false
}

// selectBlock generates one SELECT; want, when set, fixes the output
// types (the right side of a set operation).
func (g *Gen) selectBlock(outer *scope, depth int, want []Type) *Select {
	s := &Select{}
	sc := &scope{outer: outer, depth: depth}
	var where []Expr
	s.From, where = g.from(sc, depth)
	sc.conjunct = true
	for i := g.intn(3); i > 0; i-- {
		where = append(where, g.pred(sc, 2))
	}
	sc.conjunct = false
	s.Where = and(where...)

	nItems := 1 + g.intn(4)
	if want != nil {
		nItems = len(want)
	}
	kinds := func(i int) Kind {
		if want != nil {
			return want[i].K
		}
		return pick(g, []Kind{KInt, KInt, KDecimal, KDecimal, KText, KText, KDate, KFloat, KBool, KTs})
	}
	if g.chance(0.3) {
		// Aggregating query.
		s.Agg = true
		for i := g.intn(3); i > 0; i-- {
			if k := g.groupKey(sc); k != nil {
				s.GroupBy = append(s.GroupBy, k)
			}
		}
		sc.agg, sc.groupBy = true, s.GroupBy
		for i := 0; i < nItems; i++ {
			s.Items = append(s.Items, Item{E: g.aggExpr(sc, kinds(i), 2), Name: fmt.Sprintf("c%d", i)})
		}
		g.groupingSets(s, want == nil)
		if g.chance(0.3) {
			s.Having = g.aggPred(sc)
		}
		if g.chance(0.15) && want == nil {
			g.addWindow(s, sc)
		}
	} else {
		for i := 0; i < nItems; i++ {
			k := kinds(i)
			var e Expr
			if want == nil && depth <= 1 && g.chance(0.15) && k != KBool {
				e = g.window(sc, k)
			}
			if e == nil {
				e = g.expr(sc, k, 2)
			}
			s.Items = append(s.Items, Item{E: e, Name: fmt.Sprintf("c%d", i)})
		}
	}
	if want != nil {
		for i, it := range s.Items {
			if it.E.Type().K != want[i].K {
				s.Items[i].E = &Cast{E: it.E, T: want[i]}
			}
		}
	}
	if g.chance(0.12) {
		var ts []Type
		for _, c := range s.Out() {
			ts = append(ts, c.T)
		}
		s.Distinct = !hasFloat(ts)
	}
	return s
}

// from generates the FROM clause: 1-4 tables joined along foreign keys
// (explicit joins or comma joins whose predicates go to WHERE), sometimes
// a derived table. It fills sc and returns the WHERE conjuncts it needs.
func (g *Gen) from(sc *scope, depth int) ([]From, []Expr) {
	n := 1 + g.intn(3)
	if g.chance(0.15) {
		n = 4
	}
	if depth > 0 {
		n = 1 + g.intn(2)
	}
	var items []From
	var where []Expr
	var cur From
	rows := 1
	// The first item: a base table or (rarely) a derived table.
	if depth < 2 && g.chance(0.2) {
		d, r := g.derived(sc, depth)
		cur, rows = d, r.Rows
		sc.rels = append(sc.rels, r)
		sc.keys = nil
	} else {
		t := pick(g, g.cat.Names)
		r := g.baseRel(t)
		cur, rows = &TableRef{Table: t, Alias: r.Alias}, r.Rows
		sc.rels = append(sc.rels, r)
		sc.keys = append(sc.keys, g.pkRefs(r)...)
	}
	// visible are the aliases an ON condition of the join tree being
	// built may reference (not those of earlier comma-separated items).
	visible := map[string]bool{sc.rels[0].Alias: true}
	// deferred is set once join conditions went to WHERE: a RIGHT or FULL
	// join above would keep them from filtering the cross product early.
	deferred := false
	for i := 1; i < n; i++ {
		nr, conds, fromAlias, ok := g.joinable(sc)
		if !ok {
			break
		}
		comma := fromAlias != "" && !visible[fromAlias]
		if len(conds) == 0 {
			if rows*nr.Rows > 30000 {
				continue
			}
			rows *= nr.Rows
		} else {
			rows = max(rows, nr.Rows)
		}
		ref := &TableRef{Table: nr.Table, Alias: nr.Alias}
		sc.rels = append(sc.rels, nr)
		sc.keys = append(sc.keys, g.pkRefs(nr)...)
		switch {
		case len(conds) == 0:
			if g.chance(0.5) {
				cur = &Join{Type: "CROSS", L: cur, R: ref}
			} else {
				items = append(items, cur)
				cur = ref
				visible = map[string]bool{}
			}
		case comma || g.chance(0.25):
			// Comma (or CROSS) join with the condition in WHERE.
			if g.chance(0.3) {
				cur = &Join{Type: "CROSS", L: cur, R: ref}
			} else {
				items = append(items, cur)
				cur = ref
				visible = map[string]bool{}
			}
			where = append(where, conds...)
			deferred = true
		default:
			typ := pick(g, []string{"INNER", "INNER", "INNER", "LEFT", "LEFT", "LEFT", "RIGHT", "FULL"})
			if deferred && (typ == "RIGHT" || typ == "FULL") {
				typ = "LEFT"
			}
			on := and(conds...)
			if g.chance(0.3) {
				// An extra ON predicate: on outer joins it filters matches,
				// not rows.
				var rels []rel
				for _, r := range sc.rels {
					if visible[r.Alias] || r.Alias == nr.Alias {
						rels = append(rels, r)
					}
				}
				inner := &scope{rels: rels, noSubq: true, depth: sc.depth}
				on = and(on, g.pred(inner, 1))
			}
			cur = &Join{Type: typ, L: cur, R: ref, On: on}
		}
		visible[nr.Alias] = true
	}
	items = append(items, cur)
	if sc.rels[0].Table == "" {
		// A derived table's rows have no key: no total order over them.
		sc.keys = nil
	}
	return items, where
}

func (g *Gen) baseRel(t string) rel {
	tb := g.cat.Tables[t]
	r := rel{Alias: g.newAlias(strings.ToLower(t[:1])), Table: t, Rows: tb.Rows}
	for _, c := range tb.Cols {
		r.Cols = append(r.Cols, scol{Alias: r.Alias, Name: c.Name, T: c.T, Samples: c.Samples, Table: t})
	}
	return r
}

func (g *Gen) pkRefs(r rel) []Expr {
	var out []Expr
	for _, k := range g.cat.Tables[r.Table].PK {
		out = append(out, &ColRef{Alias: r.Alias, Name: k, T: tInt})
	}
	return out
}

// joinable picks a new table to join to the scope, the equalities that
// connect it (none for a cross join of small tables) and the alias of the
// table they connect it to.
func (g *Gen) joinable(sc *scope) (rel, []Expr, string, bool) {
	type cand struct {
		from   rel
		e      Edge
		fwd    bool // from is e.A
		target string
	}
	var cands []cand
	for _, r := range sc.rels {
		if r.Table == "" {
			continue
		}
		for _, e := range g.cat.Edges {
			if e.A == r.Table {
				cands = append(cands, cand{r, e, true, e.B})
			}
			if e.B == r.Table {
				cands = append(cands, cand{r, e, false, e.A})
			}
		}
	}
	if len(cands) == 0 || g.chance(0.08) {
		// Cross join with a small table.
		t := pick(g, []string{"nation", "region", "supplier"})
		return g.baseRel(t), nil, "", true
	}
	c := pick(g, cands)
	nr := g.baseRel(c.target)
	fromCol, toCol := c.e.ACol, c.e.BCol
	if !c.fwd {
		fromCol, toCol = toCol, fromCol
	}
	conds := []Expr{&Bin{Op: "=", L: &ColRef{Alias: c.from.Alias, Name: fromCol, T: tInt}, R: &ColRef{Alias: nr.Alias, Name: toCol, T: tInt}, T: tBool}}
	// lineitem-partsupp joins on both keys most of the time.
	if (c.target == "partsupp" && c.from.Table == "lineitem") || (c.target == "lineitem" && c.from.Table == "partsupp") {
		if g.chance(0.8) {
			other := map[string]string{"l_partkey": "l_suppkey", "l_suppkey": "l_partkey", "ps_partkey": "ps_suppkey", "ps_suppkey": "ps_partkey"}
			conds = append(conds, &Bin{Op: "=", L: &ColRef{Alias: c.from.Alias, Name: other[fromCol], T: tInt}, R: &ColRef{Alias: nr.Alias, Name: other[toCol], T: tInt}, T: tBool})
		}
	}
	if g.chance(0.1) {
		// A non-equi condition besides the key.
		inner := &scope{rels: []rel{c.from, nr}, noSubq: true}
		conds = append(conds, g.compare(inner, pick(g, []Kind{KInt, KDecimal, KDate, KText}), 1))
	}
	return nr, conds, c.from.Alias, true
}

// derived generates (query) AS alias as a FROM item.
func (g *Gen) derived(sc *scope, depth int) (*Derived, rel) {
	q := g.query(nil, depth+1, false)
	alias := g.newAlias("d")
	r := rel{Alias: alias, Rows: 1000}
	if q.Limit >= 0 {
		r.Rows = q.Limit
	}
	for _, c := range q.Body.Out() {
		r.Cols = append(r.Cols, scol{Alias: alias, Name: c.Name, T: c.T})
	}
	return &Derived{Q: q, Alias: alias}, r
}

// groupingSets sometimes turns the GROUP BY list into ROLLUP (...) or
// CUBE (...), and then may add a grouping() item of all the keys when
// the items are free (item adds it).
func (g *Gen) groupingSets(s *Select, item bool) {
	if len(s.GroupBy) == 0 || !g.chance(0.25) {
		return
	}
	s.GroupSets = pick(g, []string{"ROLLUP", "ROLLUP", "CUBE"})
	if item && g.chance(0.5) {
		s.Items = append(s.Items, Item{E: &Func{Name: "grouping", Args: cloneExprs(s.GroupBy), T: tInt}, Name: fmt.Sprintf("c%d", len(s.Items))})
	}
}

// groupKey picks a GROUP BY expression (never a float).
func (g *Gen) groupKey(sc *scope) Expr {
	cols := sc.cols()
	var ok []scol
	for _, c := range cols {
		if c.T.K != KFloat {
			ok = append(ok, c)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	c := pick(g, ok)
	if g.chance(0.2) {
		switch c.T.K {
		case KDate:
			return &Extract{Field: pick(g, []string{"YEAR", "MONTH"}), E: c.ref()}
		case KText:
			return &Func{Name: "substring", Args: []Expr{c.ref(), &Lit{Text: "1", T: tInt}, &Lit{Text: "1", T: tInt}}, T: tText}
		}
	}
	return c.ref()
}

// literalOf returns a literal of kind k, from samples when there are.
func (g *Gen) literalOf(k Kind, samples []string) Expr {
	if len(samples) > 0 && g.chance(0.8) {
		t := tInt
		switch k {
		case KDecimal:
			t = tDec(2)
		case KText:
			t = tText
		case KDate:
			t = tDate
		case KTs:
			t = tTs
		}
		return &Lit{Text: pick(g, samples), T: t}
	}
	return g.smallLit(k)
}

// smallLit is a literal of kind k from a small fixed domain.
func (g *Gen) smallLit(k Kind) Expr {
	switch k {
	case KInt:
		return &Lit{Text: fmt.Sprint(pick(g, []int{0, 1, 2, 3, 5, 7, 10, 20, 25, 50, -1})), T: tInt}
	case KDecimal:
		return &Lit{Text: pick(g, []string{"0.00", "0.05", "1.50", "10.25", "100.00", "-2.50", "0.10"}), T: tDec(2)}
	case KFloat:
		return &Lit{Text: pick(g, []string{"CAST(0.5 AS DOUBLE)", "CAST(2 AS DOUBLE)", "CAST(-1.25 AS DOUBLE)", "CAST(1000 AS DOUBLE)"}), T: tFloat}
	case KText:
		return &Lit{Text: pick(g, []string{"'A'", "'F'", "'N'", "'R'", "''", "'MAIL'", "'abc'", "'1-URGENT'", "'Customer'"}), T: tText}
	case KDate:
		return &Lit{Text: pick(g, []string{"DATE '1992-01-01'", "DATE '1994-06-30'", "DATE '1995-03-15'", "DATE '1996-12-31'", "DATE '1998-08-02'"}), T: tDate}
	case KBool:
		return &Lit{Text: pick(g, []string{"TRUE", "FALSE"}), T: tBool}
	case KTs:
		return &Lit{Text: pick(g, []string{"TIMESTAMP '1992-01-01 00:00:00'", "TIMESTAMP '1994-06-30 12:00:00'", "TIMESTAMP '1995-03-15 00:00:00'", "TIMESTAMP '1996-12-31 23:59:59'", "TIMESTAMP '1998-08-02 06:30:00'"}), T: tTs}
	}
	return &Lit{Text: "NULL", T: tInt}
}

// nullOf is a typed NULL.
func nullOf(t Type) Expr {
	return &Cast{E: &Lit{Text: "NULL", T: t}, T: t}
}

// leaf returns a column or literal of kind k.
func (g *Gen) leaf(sc *scope, k Kind) Expr {
	if sc.agg {
		var keys []Expr
		for _, e := range sc.groupBy {
			if e.Type().K == k {
				keys = append(keys, e)
			}
		}
		if len(keys) > 0 && g.chance(0.7) {
			return cloneExpr(pick(g, keys))
		}
		if g.chance(0.8) {
			return g.aggCall(sc, k)
		}
		return g.smallLit(k)
	}
	cols := sc.colsOf(k)
	if len(cols) > 0 && g.chance(0.85) {
		return pick(g, cols).ref()
	}
	switch k {
	case KFloat:
		if dec := sc.colsOf(KDecimal); len(dec) > 0 && g.chance(0.7) {
			return &Cast{E: pick(g, dec).ref(), T: tFloat}
		}
		if ints := sc.colsOf(KInt); len(ints) > 0 && g.chance(0.7) {
			return &Cast{E: pick(g, ints).ref(), T: tFloat}
		}
	case KDecimal:
		if ints := sc.colsOf(KInt); len(ints) > 0 && g.chance(0.5) {
			return &Cast{E: pick(g, ints).ref(), T: tDec(2)}
		}
	}
	if g.chance(0.05) {
		return nullOf(Type{K: k, Scale: 2 * btoi(k == KDecimal)})
	}
	return g.smallLit(k)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// expr generates an expression of kind k (decimals of any scale).
func (g *Gen) expr(sc *scope, k Kind, depth int) Expr {
	if depth <= 0 || g.chance(0.35) {
		return g.leaf(sc, k)
	}
	switch k {
	case KBool:
		return g.pred(sc, depth)
	case KInt:
		return g.intExpr(sc, depth)
	case KDecimal:
		return g.decExpr(sc, depth)
	case KFloat:
		return g.floatExpr(sc, depth)
	case KText:
		return g.textExpr(sc, depth)
	case KDate:
		return g.dateExpr(sc, depth)
	case KTs:
		return g.tsExpr(sc, depth)
	}
	return g.leaf(sc, k)
}

// common expressions of any kind: CASE, COALESCE, NULLIF, scalar
// subqueries.
func (g *Gen) anyKind(sc *scope, k Kind, depth int) Expr {
	switch g.intn(4) {
	case 0:
		c := &Case{}
		for i := 1 + g.intn(2); i > 0; i-- {
			c.Whens = append(c.Whens, When{Cond: g.pred(sc, depth-1), Val: g.expr(sc, k, depth-1)})
		}
		if g.chance(0.7) {
			c.Else = g.expr(sc, k, depth-1)
		}
		c.T = c.Whens[0].Val.Type()
		for _, w := range c.Whens[1:] {
			c.T = unify(c.T, w.Val.Type())
		}
		if c.Else != nil {
			c.T = unify(c.T, c.Else.Type())
		}
		return c
	case 1:
		a, b := g.expr(sc, k, depth-1), g.expr(sc, k, depth-1)
		return &Func{Name: "coalesce", Args: []Expr{a, b}, T: unify(a.Type(), b.Type())}
	case 2:
		a, b := g.expr(sc, k, depth-1), g.leaf(sc, k)
		return &Func{Name: "nullif", Args: []Expr{a, b}, T: unify(a.Type(), b.Type())}
	default:
		if !sc.noSubq && !sc.agg && sc.depth < 2 && k != KBool {
			if e := g.scalarSubquery(sc, k); e != nil {
				return e
			}
		}
		return g.leaf(sc, k)
	}
}

func (g *Gen) intExpr(sc *scope, depth int) Expr {
	switch g.intn(9) {
	case 0, 1:
		op := pick(g, []string{"+", "-", "*", "%"})
		l, r := g.expr(sc, KInt, depth-1), g.expr(sc, KInt, depth-1)
		if op == "%" {
			r = &Func{Name: "nullif", Args: []Expr{r, &Lit{Text: "0", T: tInt}}, T: tInt}
		}
		if op == "*" {
			// Keep products small: one side a small literal.
			r = g.smallLit(KInt)
		}
		return &Bin{Op: op, L: l, R: r, T: tInt}
	case 2:
		return &Func{Name: "length", Args: []Expr{g.expr(sc, KText, depth-1)}, T: tInt}
	case 3:
		if g.chance(0.2) {
			return &Extract{Field: pick(g, []string{"YEAR", "MONTH", "DAY", "HOUR", "MINUTE"}), E: g.expr(sc, KTs, depth-1)}
		}
		return &Extract{Field: pick(g, []string{"YEAR", "MONTH", "DAY", "QUARTER", "DOW", "DOY", "WEEK"}), E: g.expr(sc, KDate, depth-1)}
	case 4:
		if g.chance(0.4) {
			unit := pick(g, []string{"'year'", "'quarter'", "'month'", "'week'", "'day'", "'hour'"})
			k := pick(g, []Kind{KDate, KDate, KTs})
			return &Func{Name: pick(g, []string{"date_diff", "datediff"}), Args: []Expr{&Lit{Text: unit, T: tText}, g.expr(sc, k, depth-1), g.expr(sc, k, depth-1)}, T: tInt}
		}
		// DATE - DATE is a number of days.
		return &Bin{Op: "-", L: g.expr(sc, KDate, depth-1), R: g.expr(sc, KDate, depth-1), T: tInt}
	case 5:
		if g.chance(0.2) {
			// Through text and back.
			return &Cast{E: &Cast{E: g.expr(sc, KInt, depth-1), T: tText}, T: tInt}
		}
		if g.chance(0.15) {
			// Text that mostly does not parse: NULL, not an error.
			return &Raw{Parts: []string{"TRY_CAST(", " AS BIGINT)"}, E: []Expr{g.expr(sc, KText, depth-1)}, T: tInt}
		}
		return &Cast{E: g.expr(sc, pick(g, []Kind{KDecimal, KFloat}), depth-1), T: tInt}
	case 6:
		return &Func{Name: "abs", Args: []Expr{g.expr(sc, KInt, depth-1)}, T: tInt}
	}
	return g.anyKind(sc, KInt, depth)
}

func (g *Gen) decExpr(sc *scope, depth int) Expr {
	switch g.intn(8) {
	case 0, 1:
		op := pick(g, []string{"+", "-", "+", "-", "%"})
		l, r := g.expr(sc, KDecimal, depth-1), g.expr(sc, pick(g, []Kind{KDecimal, KInt}), depth-1)
		if op == "%" {
			r = &Func{Name: "nullif", Args: []Expr{r, &Lit{Text: "0", T: tInt}}, T: r.Type()}
		}
		return &Bin{Op: op, L: l, R: r, T: tDec(max(l.Type().Scale, r.Type().Scale))}
	case 2:
		// Products of two base decimals (scale 4) or a decimal and an
		// integer; never more, to stay within DECIMAL(38).
		l := g.leaf(sc, KDecimal)
		r := g.leaf(sc, pick(g, []Kind{KDecimal, KInt}))
		if l.Type().Scale+r.Type().Scale > 4 || l.Type().K != KDecimal {
			r = g.smallLit(KInt)
		}
		return &Bin{Op: "*", L: l, R: r, T: tDec(l.Type().Scale + r.Type().Scale)}
	case 3:
		if g.chance(0.2) {
			return &Cast{E: &Cast{E: g.expr(sc, KDecimal, depth-1), T: tText}, T: tDec(2)}
		}
		return &Cast{E: g.expr(sc, pick(g, []Kind{KInt, KFloat, KDecimal}), depth-1), T: tDec(2)}
	case 4:
		e := g.expr(sc, KDecimal, depth-1)
		return &Func{Name: "abs", Args: []Expr{e}, T: e.Type()}
	case 5:
		e := g.leaf(sc, KDecimal)
		d := g.intn(3)
		return &Func{Name: "round", Args: []Expr{e, &Lit{Text: fmt.Sprint(d), T: tInt}}, T: tDec(min(d, e.Type().Scale))}
	case 6:
		e := g.expr(sc, KDecimal, depth-1)
		return &Neg{E: e}
	}
	return g.anyKind(sc, KDecimal, depth)
}

func (g *Gen) floatExpr(sc *scope, depth int) Expr {
	switch g.intn(5) {
	case 0, 1:
		// Division yields DOUBLE; by zero it is ±Infinity or NaN (0/0),
		// which compare above every other value. Mostly NULLIF keeps the
		// divisor away from zero.
		l := g.expr(sc, pick(g, []Kind{KInt, KDecimal, KFloat}), depth-1)
		r := g.expr(sc, pick(g, []Kind{KInt, KDecimal}), depth-1)
		if g.chance(0.7) {
			r = &Func{Name: "nullif", Args: []Expr{r, &Lit{Text: "0", T: tInt}}, T: r.Type()}
		}
		return &Bin{Op: "/", L: l, R: r, T: tFloat}
	case 2:
		return &Bin{Op: pick(g, []string{"+", "-", "*"}), L: g.expr(sc, KFloat, depth-1), R: g.expr(sc, pick(g, []Kind{KInt, KDecimal, KFloat}), depth-1), T: tFloat}
	case 3:
		return &Cast{E: g.expr(sc, pick(g, []Kind{KInt, KDecimal}), depth-1), T: tFloat}
	}
	return g.anyKind(sc, KFloat, depth)
}

func (g *Gen) textExpr(sc *scope, depth int) Expr {
	switch g.intn(10) {
	case 0:
		return &Func{Name: pick(g, []string{"upper", "lower"}), Args: []Expr{g.expr(sc, KText, depth-1)}, T: tText}
	case 1:
		args := []Expr{g.expr(sc, KText, depth-1), &Lit{Text: fmt.Sprint(pick(g, []int{1, 1, 2, 3, 4, 0, -2})), T: tInt}}
		if g.chance(0.8) {
			args = append(args, &Lit{Text: fmt.Sprint(g.intn(6)), T: tInt})
		}
		return &Func{Name: "substring", Args: args, T: tText}
	case 2:
		f := &Func{Name: pick(g, []string{"trim", "ltrim", "rtrim"}), Args: []Expr{g.expr(sc, KText, depth-1)}, T: tText}
		if g.chance(0.3) {
			f.Args = append(f.Args, &Lit{Text: pick(g, []string{"'a'", "' #'", "'AEIOU'", "'0123456789-'"}), T: tText})
		}
		return f
	case 3, 4:
		return &Bin{Op: "||", L: g.expr(sc, KText, depth-1), R: g.expr(sc, pick(g, []Kind{KText, KText, KInt}), depth-1), T: tText}
	case 5:
		return &Func{Name: "concat", Args: []Expr{g.expr(sc, KText, depth-1), g.expr(sc, KText, depth-1)}, T: tText}
	case 6:
		return &Cast{E: g.expr(sc, pick(g, []Kind{KInt, KDecimal, KDate}), depth-1), T: tText}
	case 7:
		return g.textFunc(sc, depth)
	}
	return g.anyKind(sc, KText, depth)
}

// textFunc is one of the padding/splitting string functions.
func (g *Gen) textFunc(sc *scope, depth int) Expr {
	s := g.expr(sc, KText, depth-1)
	n := func() Expr { return &Lit{Text: fmt.Sprint(pick(g, []int{0, 1, 3, 5, 12, -1})), T: tInt} }
	switch g.intn(5) {
	case 0, 1:
		name := pick(g, []string{"lpad", "rpad"})
		return &Func{Name: name, Args: []Expr{s, n(), &Lit{Text: pick(g, []string{"'*'", "'ab'", "' '"}), T: tText}}, T: tText}
	case 2:
		return &Func{Name: "repeat", Args: []Expr{s, &Lit{Text: fmt.Sprint(g.intn(3)), T: tInt}}, T: tText}
	case 3:
		return &Func{Name: "concat_ws", Args: []Expr{&Lit{Text: pick(g, []string{"'|'", "', '", "''"}), T: tText}, s, g.expr(sc, pick(g, []Kind{KText, KInt}), depth-1)}, T: tText}
	}
	return &Func{Name: "split_part", Args: []Expr{s, &Lit{Text: pick(g, []string{"' '", "'-'", "'#'", "'e'"}), T: tText}, &Lit{Text: fmt.Sprint(pick(g, []int{1, 2, -1, 0, 3})), T: tInt}}, T: tText}
}

func (g *Gen) dateExpr(sc *scope, depth int) Expr {
	switch g.intn(6) {
	case 0:
		return &Bin{Op: pick(g, []string{"+", "-"}), L: g.expr(sc, KDate, depth-1), R: g.smallLit(KInt), T: tDate}
	case 4:
		return &Cast{E: &Cast{E: g.expr(sc, KDate, depth-1), T: tText}, T: tDate}
	case 1, 2:
		// DATE ± INTERVAL is a TIMESTAMP (see tsExpr); back to a date.
		return &Cast{E: g.tsExpr(sc, depth), T: tDate}
	}
	return g.anyKind(sc, KDate, depth)
}

// tsExpr generates a TIMESTAMP: date arithmetic with intervals, date_trunc
// and casts.
func (g *Gen) tsExpr(sc *scope, depth int) Expr {
	switch g.intn(7) {
	case 0, 1, 2:
		// DATE ± INTERVAL (a TIMESTAMP in both engines).
		unit := pick(g, []string{"DAY", "MONTH", "YEAR", "DAY", "HOUR"})
		n := pick(g, []int{1, 3, 12, 30, 90, -2})
		op := pick(g, []string{"+", "-"})
		if g.chance(0.2) {
			return &Raw{Parts: []string{fmt.Sprintf("(INTERVAL '%d' %s + ", n, unit), ")"}, E: []Expr{g.expr(sc, KDate, depth-1)}, T: tTs}
		}
		return &Raw{Parts: []string{"(", fmt.Sprintf(" %s INTERVAL '%d' %s)", op, n, unit)}, E: []Expr{g.expr(sc, pick(g, []Kind{KDate, KDate, KTs}), depth-1)}, T: tTs}
	case 3:
		unit := pick(g, []string{"'year'", "'quarter'", "'month'", "'week'", "'day'", "'hour'"})
		return &Func{Name: "date_trunc", Args: []Expr{&Lit{Text: unit, T: tText}, g.expr(sc, KTs, depth-1)}, T: tTs}
	case 4:
		return &Cast{E: g.expr(sc, KDate, depth-1), T: tTs}
	}
	return g.anyKind(sc, KTs, depth)
}

// pred generates a boolean expression.
func (g *Gen) pred(sc *scope, depth int) Expr {
	top := sc.conjunct
	sc.conjunct = false
	defer func() { sc.conjunct = top }()
	if top && !sc.noSubq && sc.depth < 2 && !sc.agg && g.chance(0.25) {
		if e := g.subqueryPred(sc); e != nil {
			return e
		}
	}
	if depth <= 0 {
		return g.simplePred(sc)
	}
	switch g.intn(10) {
	case 0, 1:
		op := pick(g, []string{"AND", "OR", "OR"})
		l, r := g.pred(sc, depth-1), g.pred(sc, depth-1)
		if op == "OR" && g.opt.SubqueryOr && !sc.noSubq && !sc.agg && sc.depth < 2 && g.chance(0.3) {
			if e := g.subqueryPred(sc); e != nil {
				r = e
			}
		}
		return &Bin{Op: op, L: l, R: r, T: tBool}
	case 2:
		return &Not{E: g.pred(sc, depth-1)}
	}
	return g.simplePred(sc)
}

func (g *Gen) simplePred(sc *scope) Expr {
	k := pick(g, []Kind{KInt, KInt, KDecimal, KDecimal, KText, KText, KDate, KDate, KFloat, KTs})
	switch g.intn(10) {
	case 0:
		return &IsNull{E: g.expr(sc, k, 1), Not: g.chance(0.5)}
	case 1:
		if k == KFloat {
			k = KDecimal
		}
		e, samples := g.exprWithSamples(sc, k)
		in := &InList{E: e, Not: g.chance(0.3)}
		for i := 1 + g.intn(4); i > 0; i-- {
			switch {
			case k == KInt && g.chance(0.15):
				in.List = append(in.List, g.smallLit(KDecimal))
			case k == KDecimal && g.chance(0.15):
				in.List = append(in.List, g.smallLit(KInt))
			default:
				in.List = append(in.List, g.literalOf(k, samples))
			}
		}
		if g.chance(0.2) {
			in.List = append(in.List, nullOf(in.List[0].Type()))
		}
		return in
	case 2:
		if k == KFloat {
			k = KInt
		}
		e, samples := g.exprWithSamples(sc, k)
		lo, hi := g.literalOf(k, samples), g.literalOf(k, samples)
		return &Between{E: e, Lo: lo, Hi: hi, Not: g.chance(0.2)}
	case 3:
		e, samples := g.exprWithSamples(sc, KText)
		if g.chance(0.15) {
			// A pattern computed per row.
			p := &Bin{Op: "||", L: &Lit{Text: "'%'", T: tText}, R: &Func{Name: "substring", Args: []Expr{g.expr(sc, KText, 1), &Lit{Text: "2", T: tInt}, &Lit{Text: "2", T: tInt}}, T: tText}, T: tText}
			return &Like{E: e, Pattern: p, Not: g.chance(0.3)}
		}
		return &Like{E: e, Pattern: &Lit{Text: g.likePattern(samples), T: tText}, Not: g.chance(0.3)}
	case 4:
		l, r := g.expr(sc, k, 1), g.expr(sc, k, 1)
		op := "IS DISTINCT FROM"
		if g.chance(0.5) {
			op = "IS NOT DISTINCT FROM"
		}
		return &Bin{Op: op, L: l, R: r, T: tBool}
	case 5:
		if sc.agg {
			return g.compare(sc, k, 1)
		}
		cols := sc.colsOf(KBool)
		_ = cols
	}
	return g.compare(sc, k, 1)
}

// exprWithSamples returns a column (or expression) of kind k and the
// sample values that fit it.
func (g *Gen) exprWithSamples(sc *scope, k Kind) (Expr, []string) {
	if !sc.agg {
		cols := sc.colsOf(k)
		if len(cols) > 0 && g.chance(0.8) {
			c := pick(g, cols)
			return c.ref(), c.Samples
		}
	}
	return g.expr(sc, k, 1), nil
}

// compare generates e op e' of kind k.
func (g *Gen) compare(sc *scope, k Kind, depth int) Expr {
	op := pick(g, []string{"=", "<>", "<", "<=", ">", ">="})
	l, samples := g.exprWithSamples(sc, k)
	if depth > 1 {
		l = g.expr(sc, k, depth)
	}
	var r Expr
	switch {
	case g.chance(0.5):
		r = g.literalOf(k, samples)
	case k == KDecimal || k == KInt:
		r = g.expr(sc, pick(g, []Kind{KInt, KDecimal}), depth)
	default:
		r = g.expr(sc, k, depth)
	}
	return &Bin{Op: op, L: l, R: r, T: tBool}
}

func (g *Gen) likePattern(samples []string) string {
	if len(samples) > 0 && g.chance(0.8) {
		s := strings.Trim(pick(g, samples), "'")
		s = strings.ReplaceAll(s, "%", "")
		s = strings.ReplaceAll(s, "_", "")
		if len(s) == 0 {
			return "'%'"
		}
		i := g.intn(len(s))
		j := i + 1 + g.intn(min(4, len(s)-i))
		part := s[i:j]
		if g.chance(0.3) && len(part) > 1 {
			part = part[:1] + "_" + part[2:]
		}
		switch g.intn(3) {
		case 0:
			return "'" + strings.ReplaceAll(part, "'", "''") + "%'"
		case 1:
			return "'%" + strings.ReplaceAll(part, "'", "''") + "'"
		}
		return "'%" + strings.ReplaceAll(part, "'", "''") + "%'"
	}
	return pick(g, []string{"'%'", "'_'", "'%A%'", "'%e%'", "''", "'%1%'"})
}

// aggCall generates an aggregate call of result kind k over the scope's
// rows.
func (g *Gen) aggCall(sc *scope, k Kind) Expr {
	in := &scope{rels: sc.rels, noSubq: true, depth: sc.depth}
	var f *Func
	defer func() { g.maybeFilter(in, f) }()
	switch k {
	case KInt:
		switch g.intn(4) {
		case 0:
			f = &Func{Name: "count", Star: true, T: tInt}
		case 1:
			f = &Func{Name: "count", Args: []Expr{g.expr(in, pick(g, []Kind{KInt, KText, KDecimal, KDate}), 1)}, Distinct: g.chance(0.4), T: tInt}
		case 2:
			// sum(BIGINT) is HUGEINT in DuckDB and BIGINT in Flint (a
			// documented difference that shows once it is unified with a
			// decimal): cast it.
			f = &Func{Name: "sum", Args: []Expr{g.expr(in, KInt, 1)}, Distinct: g.chance(0.15), T: tInt}
			return &Cast{E: f, T: tInt}
		default:
			f = &Func{Name: pick(g, []string{"min", "max"}), Args: []Expr{g.expr(in, KInt, 1)}, T: tInt}
		}
	case KDecimal:
		a := g.expr(in, KDecimal, 1)
		f = &Func{Name: pick(g, []string{"sum", "sum", "min", "max"}), Args: []Expr{a}, T: a.Type()}
		f.Distinct = f.Name == "sum" && g.chance(0.1)
	case KFloat:
		a := g.expr(in, pick(g, []Kind{KInt, KDecimal, KDecimal, KFloat}), 1)
		f = &Func{Name: "avg", Args: []Expr{a}, Distinct: g.chance(0.1), T: tFloat}
		if g.chance(0.15) {
			f = &Func{Name: pick(g, []string{"stddev_samp", "var_pop", "var_samp", "stddev_pop"}), Args: []Expr{a}, T: tFloat}
			break
		}
		if a.Type().K == KFloat && g.chance(0.5) {
			f.Name = pick(g, []string{"sum", "min", "max"})
		}
	case KText, KDate, KTs:
		f = &Func{Name: pick(g, []string{"min", "max"}), Args: []Expr{g.expr(in, k, 1)}, T: Type{K: k}}
	case KBool:
		if g.chance(0.3) {
			f = &Func{Name: pick(g, []string{"bool_and", "bool_or"}), Args: []Expr{g.pred(in, 1)}, T: tBool}
			return f
		}
		return g.aggCompare(sc)
	}
	return f
}

// maybeFilter sometimes gives the aggregate call f (nil: none) a FILTER
// (WHERE ...) over the rows of in.
func (g *Gen) maybeFilter(in *scope, f *Func) {
	if f != nil && g.chance(0.2) {
		f.Filter = g.pred(in, 1)
	}
}

// aggExpr generates an expression of kind k in an aggregating SELECT.
func (g *Gen) aggExpr(sc *scope, k Kind, depth int) Expr {
	if depth <= 0 || g.chance(0.5) {
		return g.leaf(sc, k)
	}
	switch k {
	case KInt:
		return &Bin{Op: pick(g, []string{"+", "-"}), L: g.aggExpr(sc, KInt, depth-1), R: g.aggExpr(sc, KInt, depth-1), T: tInt}
	case KDecimal:
		l, r := g.aggExpr(sc, KDecimal, depth-1), g.aggExpr(sc, KInt, depth-1)
		return &Bin{Op: pick(g, []string{"+", "-"}), L: l, R: r, T: tDec(l.Type().Scale)}
	case KFloat:
		l := g.aggExpr(sc, pick(g, []Kind{KDecimal, KInt}), depth-1)
		r := g.aggExpr(sc, KInt, depth-1)
		return &Bin{Op: "/", L: l, R: &Func{Name: "nullif", Args: []Expr{r, &Lit{Text: "0", T: tInt}}, T: tInt}, T: tFloat}
	case KBool:
		return g.aggCompare(sc)
	}
	return g.expr(sc, k, depth)
}

func (g *Gen) aggCompare(sc *scope) Expr {
	k := pick(g, []Kind{KInt, KDecimal, KText, KDate})
	l := g.aggExpr(sc, k, 1)
	var r Expr
	if k == KInt || k == KDecimal {
		r = g.aggExpr(sc, pick(g, []Kind{KInt, KDecimal}), 1)
	} else {
		r = g.aggExpr(sc, k, 1)
	}
	return &Bin{Op: pick(g, []string{"=", "<>", "<", "<=", ">", ">="}), L: l, R: r, T: tBool}
}

// aggPred is a HAVING condition.
func (g *Gen) aggPred(sc *scope) Expr {
	p := g.aggCompare(sc)
	switch g.intn(4) {
	case 0:
		return &Bin{Op: pick(g, []string{"AND", "OR"}), L: p, R: g.aggCompare(sc), T: tBool}
	case 1:
		if sc.depth < 1 {
			if s := g.scalarSubquery(&scope{depth: sc.depth}, KInt); s != nil {
				return &Bin{Op: pick(g, []string{"<", ">", "<>"}), L: g.aggCall(sc, KInt), R: s, T: tBool}
			}
		}
	}
	return p
}
