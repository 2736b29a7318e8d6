package main

// Delta debugging on the AST: try one-step simplifications of a failing
// query (drop a set operation side, an output column, a join, a WHERE
// conjunct, a clause; replace an expression by a child or a literal) and
// keep each one under which the failure persists, until none does.

// reduce shrinks q while still(q) holds, running at most maxChecks
// candidates. It returns the smallest query found and the number of
// checks it ran.
func reduce(q *Query, still func(*Query) bool, maxChecks int) (*Query, int) {
	checks := 0
	for changed := true; changed && checks < maxChecks; {
		changed = false
		cands := candidates(q)
		for i := 0; i < len(cands) && checks < maxChecks; i++ {
			checks++
			if still(cands[i]) {
				q = cands[i]
				changed = true
				cands = candidates(q)
				i-- // the list changed: try the same position again
			}
		}
	}
	return q, checks
}

// queriesOf lists every query in the tree (q first), in a fixed order.
func queriesOf(q *Query) []*Query {
	out := []*Query{q}
	for _, w := range q.With {
		out = append(out, queriesOf(w.Q)...)
	}
	for _, s := range bodySelects(q.Body) {
		out = append(out, selectQueries(s)...)
	}
	return out
}

// selectQueries lists the queries nested in a SELECT: derived tables and
// subqueries (with theirs).
func selectQueries(s *Select) []*Query {
	var out []*Query
	for _, f := range s.From {
		out = append(out, fromQueries(f)...)
	}
	for _, slot := range selectSlots(s) {
		out = append(out, exprQueries(*slot)...)
	}
	return out
}

func fromQueries(f From) []*Query {
	switch f := f.(type) {
	case *Derived:
		return queriesOf(f.Q)
	case *Join:
		return append(fromQueries(f.L), fromQueries(f.R)...)
	}
	return nil
}

func exprQueries(e Expr) []*Query {
	if e == nil {
		return nil
	}
	var out []*Query
	if sq, ok := e.(*Subq); ok {
		out = append(out, queriesOf(sq.Q)...)
	}
	for _, s := range e.slots() {
		out = append(out, exprQueries(*s)...)
	}
	return out
}

// bodySelects lists the SELECTs of a body (the leaves of set operations).
func bodySelects(b Body) []*Select {
	switch b := b.(type) {
	case *Select:
		return []*Select{b}
	case *SetOp:
		return append(bodySelects(b.L), bodySelects(b.R)...)
	}
	return nil
}

// selectSlots lists a SELECT's own top-level expression slots.
func selectSlots(s *Select) []*Expr {
	var out []*Expr
	for i := range s.Items {
		out = append(out, &s.Items[i].E)
	}
	out = append(out, fromSlots(s.From)...)
	if s.Where != nil {
		out = append(out, &s.Where)
	}
	for i := range s.GroupBy {
		out = append(out, &s.GroupBy[i])
	}
	if s.Having != nil {
		out = append(out, &s.Having)
	}
	return out
}

func fromSlots(fs []From) []*Expr {
	var out []*Expr
	var walk func(f From)
	walk = func(f From) {
		if j, ok := f.(*Join); ok {
			walk(j.L)
			walk(j.R)
			if j.On != nil {
				out = append(out, &j.On)
			}
		}
	}
	for _, f := range fs {
		walk(f)
	}
	return out
}

// allSlots lists every expression slot of the tree, nested ones included
// (not window ORDER BY items: they keep window results deterministic).
func allSlots(q *Query) []*Expr {
	var out []*Expr
	var walk func(p *Expr)
	walk = func(p *Expr) {
		out = append(out, p)
		e := *p
		if w, ok := e.(*Window); ok {
			for _, s := range w.F.slots() {
				walk(s)
			}
			for i := range w.Partition {
				walk(&w.Partition[i])
			}
			return
		}
		for _, s := range e.slots() {
			walk(s)
		}
	}
	for _, qq := range queriesOf(q) {
		for _, s := range bodySelects(qq.Body) {
			for _, slot := range selectSlots(s) {
				walk(slot)
			}
		}
	}
	return out
}

// allSelects lists every SELECT of the tree.
func allSelects(q *Query) []*Select {
	var out []*Select
	for _, qq := range queriesOf(q) {
		out = append(out, bodySelects(qq.Body)...)
	}
	return out
}

// move mutates a copy of the query; it reports false when it does not
// apply.
type move func(q *Query) bool

// candidates returns the one-step simplifications of q, the biggest
// steps first.
func candidates(q *Query) []*Query {
	var moves []move
	nq := len(queriesOf(q))
	for qi := 0; qi < nq; qi++ {
		qi := qi
		at := func(c *Query) *Query { return queriesOf(c)[qi] }
		moves = append(moves,
			func(c *Query) bool {
				t := at(c)
				if s, ok := t.Body.(*SetOp); ok {
					t.Body = s.L
					return true
				}
				return false
			},
			func(c *Query) bool {
				t := at(c)
				if s, ok := t.Body.(*SetOp); ok {
					t.Body = s.R
					return true
				}
				return false
			},
			func(c *Query) bool {
				t := at(c)
				if t.OrderBy == nil && t.Limit < 0 && t.Offset == 0 {
					return false
				}
				t.OrderBy, t.Limit, t.Offset = nil, -1, 0
				return true
			},
			func(c *Query) bool {
				t := at(c)
				if t.Offset == 0 {
					return false
				}
				t.Offset = 0
				return true
			},
		)
		ncols := len(q.Body.Out())
		if qi > 0 {
			ncols = len(queriesOf(q)[qi].Body.Out())
		}
		for j := 0; j < ncols && ncols > 1; j++ {
			j := j
			moves = append(moves, func(c *Query) bool { return dropColumn(at(c), j) })
		}
	}
	sels := allSelects(q)
	for si, s := range sels {
		si := si
		at := func(c *Query) *Select { return allSelects(c)[si] }
		moves = append(moves, func(c *Query) bool {
			t := at(c)
			if len(t.From) < 2 {
				return false
			}
			t.From = t.From[:len(t.From)-1]
			return true
		})
		for fi := range s.From {
			fi := fi
			moves = append(moves, func(c *Query) bool {
				t := at(c)
				if len(t.From) < 2 {
					return false
				}
				t.From = append(t.From[:fi:fi], t.From[fi+1:]...)
				return true
			})
		}
		nj := len(joinsOf(s.From))
		for ji := 0; ji < nj; ji++ {
			ji := ji
			for _, side := range []int{0, 1, 2} {
				side := side
				moves = append(moves, func(c *Query) bool {
					t := at(c)
					return replaceJoin(t, ji, side)
				})
			}
		}
		moves = append(moves,
			func(c *Query) bool {
				t := at(c)
				if t.Where == nil {
					return false
				}
				t.Where = nil
				return true
			},
			func(c *Query) bool {
				t := at(c)
				if t.Having == nil {
					return false
				}
				t.Having = nil
				return true
			},
			func(c *Query) bool {
				t := at(c)
				if t.GroupBy == nil {
					return false
				}
				t.GroupBy = nil
				return true
			},
			func(c *Query) bool {
				t := at(c)
				if !t.Distinct {
					return false
				}
				t.Distinct = false
				return true
			},
		)
		for ci := range conjuncts(s.Where) {
			ci := ci
			moves = append(moves, func(c *Query) bool {
				t := at(c)
				cs := conjuncts(t.Where)
				if len(cs) < 2 {
					return false
				}
				t.Where = and(append(cs[:ci:ci], cs[ci+1:]...)...)
				return true
			})
		}
		for gi := range s.GroupBy {
			gi := gi
			moves = append(moves, func(c *Query) bool {
				t := at(c)
				if len(t.GroupBy) < 2 {
					return false
				}
				t.GroupBy = append(t.GroupBy[:gi:gi], t.GroupBy[gi+1:]...)
				return true
			})
		}
	}
	slots := allSlots(q)
	for si, p := range slots {
		si := si
		for _, alt := range exprAlternatives(*p) {
			alt := alt
			moves = append(moves, func(c *Query) bool {
				p := allSlots(c)[si]
				*p = alt(*p)
				return true
			})
		}
	}
	var out []*Query
	for _, m := range moves {
		c := q.Clone()
		if m(c) {
			out = append(out, c)
		}
	}
	return out
}

// dropColumn removes output column j from every SELECT of q's body and
// renumbers ORDER BY.
func dropColumn(q *Query, j int) bool {
	for _, s := range bodySelects(q.Body) {
		if j >= len(s.Items) || len(s.Items) < 2 {
			return false
		}
		s.Items = append(s.Items[:j:j], s.Items[j+1:]...)
	}
	var ob []OrderItem
	for _, o := range q.OrderBy {
		switch {
		case o.Pos == j+1:
			continue
		case o.Pos > j+1:
			o.Pos--
		}
		ob = append(ob, o)
	}
	q.OrderBy = ob
	if len(ob) == 0 && q.Limit >= 0 {
		q.Limit, q.Offset = -1, 0
	}
	return true
}

func joinsOf(fs []From) []*Join {
	var out []*Join
	var walk func(f From)
	walk = func(f From) {
		if j, ok := f.(*Join); ok {
			out = append(out, j)
			walk(j.L)
			walk(j.R)
		}
	}
	for _, f := range fs {
		walk(f)
	}
	return out
}

// replaceJoin replaces join ji of s by its left input (side 0), its right
// input (1), or makes it an inner join (2).
func replaceJoin(s *Select, ji, side int) bool {
	target := joinsOf(s.From)[ji]
	if side == 2 {
		if target.Type == "INNER" || target.Type == "CROSS" {
			return false
		}
		target.Type = "INNER"
		return true
	}
	repl := target.L
	if side == 1 {
		repl = target.R
	}
	var rewrite func(f From) From
	rewrite = func(f From) From {
		j, ok := f.(*Join)
		if !ok {
			return f
		}
		if j == target {
			return repl
		}
		j.L, j.R = rewrite(j.L), rewrite(j.R)
		return j
	}
	for i, f := range s.From {
		s.From[i] = rewrite(f)
	}
	return true
}

// exprAlternatives are the simpler forms of e: its children of the same
// kind, a literal, and smaller variants of lists and windows.
func exprAlternatives(e Expr) []func(Expr) Expr {
	var out []func(Expr) Expr
	k := e.Type().K
	if w, ok := e.(*Window); ok {
		if w.Frame != "" {
			out = append(out, func(x Expr) Expr { x.(*Window).Frame = ""; return x })
		}
		if len(w.Partition) > 0 {
			out = append(out, func(x Expr) Expr { x.(*Window).Partition = nil; return x })
		}
	} else {
		for i, s := range e.slots() {
			if (*s).Type().K == k {
				i := i
				out = append(out, func(x Expr) Expr { return *x.slots()[i] })
			}
		}
	}
	switch x := e.(type) {
	case *Lit, *ColRef:
	default:
		out = append(out, func(Expr) Expr { return simpleLit(k) })
	case *InList:
		for i := range x.List {
			i := i
			out = append(out, func(y Expr) Expr {
				l := y.(*InList)
				if len(l.List) < 2 {
					return y
				}
				l.List = append(l.List[:i:i], l.List[i+1:]...)
				return l
			})
		}
		out = append(out, func(Expr) Expr { return simpleLit(k) })
	case *Case:
		if x.Else != nil {
			out = append(out, func(y Expr) Expr { y.(*Case).Else = nil; return y })
		}
		for i := range x.Whens {
			i := i
			out = append(out, func(y Expr) Expr {
				c := y.(*Case)
				if len(c.Whens) < 2 {
					return y
				}
				c.Whens = append(c.Whens[:i:i], c.Whens[i+1:]...)
				return c
			})
		}
		out = append(out, func(Expr) Expr { return simpleLit(k) })
	case *Func:
		if x.Filter != nil {
			out = append(out, func(y Expr) Expr { y.(*Func).Filter = nil; return y })
		}
		if x.Distinct {
			out = append(out, func(y Expr) Expr { y.(*Func).Distinct = false; return y })
		}
		out = append(out, func(Expr) Expr { return simpleLit(k) })
	}
	return out
}

func simpleLit(k Kind) Expr {
	switch k {
	case KInt:
		return &Lit{Text: "1", T: tInt}
	case KDecimal:
		return &Lit{Text: "1.00", T: tDec(2)}
	case KFloat:
		return &Lit{Text: "CAST(1 AS DOUBLE)", T: tFloat}
	case KText:
		return &Lit{Text: "'a'", T: tText}
	case KDate:
		return &Lit{Text: "DATE '1995-01-01'", T: tDate}
	case KTs:
		return &Lit{Text: "TIMESTAMP '1995-01-01 00:00:00'", T: tTs}
	}
	return &Lit{Text: "TRUE", T: tBool}
}
