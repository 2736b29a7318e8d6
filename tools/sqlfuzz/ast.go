package main

import (
	"fmt"
	"strings"
)

// The query AST the generator builds and the reducer shrinks. It covers
// only what the generator produces, and prints SQL that Flint and DuckDB
// both accept: every compound expression is parenthesised so that the two
// dialects' precedence rules never matter.

// Kind is the type family of an expression.
type Kind int

const (
	KInt Kind = iota
	KDecimal
	KFloat
	KText
	KDate
	KBool
	KTs // TIMESTAMP
	KOther
)

func (k Kind) String() string {
	return [...]string{"int", "decimal", "float", "text", "date", "bool", "timestamp", "other"}[k]
}

// Type is an expression's type: a kind, and for decimals the scale.
type Type struct {
	K     Kind
	Scale int
}

var (
	tInt   = Type{K: KInt}
	tFloat = Type{K: KFloat}
	tText  = Type{K: KText}
	tDate  = Type{K: KDate}
	tBool  = Type{K: KBool}
	tTs    = Type{K: KTs}
)

func tDec(scale int) Type { return Type{K: KDecimal, Scale: scale} }

// numeric reports whether t is an integer, decimal or float.
func (t Type) numeric() bool { return t.K == KInt || t.K == KDecimal || t.K == KFloat }

// sqlName is the SQL spelling of t for CASTs.
func (t Type) sqlName() string {
	switch t.K {
	case KInt:
		return "BIGINT"
	case KDecimal:
		return fmt.Sprintf("DECIMAL(18,%d)", t.Scale)
	case KFloat:
		return "DOUBLE"
	case KText:
		return "VARCHAR"
	case KDate:
		return "DATE"
	case KBool:
		return "BOOLEAN"
	case KTs:
		return "TIMESTAMP"
	}
	return "VARCHAR"
}

// Expr is an expression node.
type Expr interface {
	// write appends the SQL text.
	write(b *strings.Builder)
	// Type is the expression's result type.
	Type() Type
	// slots returns pointers to the child expressions, so the reducer
	// can replace them in place.
	slots() []*Expr
	// clone copies the node deeply.
	clone() Expr
}

// ColRef is a qualified column reference alias.name.
type ColRef struct {
	Alias, Name string
	T           Type
}

// Lit is a literal spelled as SQL text.
type Lit struct {
	Text string
	T    Type
}

// Bin is a binary operator (arithmetic, comparison, AND/OR, ||).
type Bin struct {
	Op   string
	L, R Expr
	T    Type
}

// Not is NOT e.
type Not struct{ E Expr }

// Neg is -e.
type Neg struct{ E Expr }

// IsNull is e IS [NOT] NULL.
type IsNull struct {
	E   Expr
	Not bool
}

// InList is e [NOT] IN (list).
type InList struct {
	E    Expr
	List []Expr
	Not  bool
}

// Between is e [NOT] BETWEEN lo AND hi.
type Between struct {
	E, Lo, Hi Expr
	Not       bool
}

// Like is e [NOT] LIKE pattern.
type Like struct {
	E, Pattern Expr
	Not        bool
}

// Case is CASE WHEN c THEN v ... [ELSE e] END.
type Case struct {
	Whens []When
	Else  Expr
	T     Type
}

// When is one WHEN branch.
type When struct{ Cond, Val Expr }

// Func is a scalar or aggregate function call. Star is count(*); Filter
// is an aggregate's FILTER (WHERE ...).
type Func struct {
	Name     string
	Args     []Expr
	Distinct bool
	Star     bool
	Filter   Expr
	T        Type
}

// Cast is CAST(e AS type).
type Cast struct {
	E Expr
	T Type
}

// Extract is EXTRACT(field FROM e).
type Extract struct {
	Field string
	E     Expr
}

// Raw is a fixed piece of SQL with sub-expressions: Parts[0] E[0] Parts[1]
// E[1] ... (e.g. "CAST(" e " + INTERVAL '3' MONTH AS DATE)").
type Raw struct {
	Parts []string
	E     []Expr
	T     Type
}

// SubKind is the form of a subquery expression.
type SubKind int

const (
	SubScalar SubKind = iota
	SubExists
	SubIn
	SubQuant // e op ANY|ALL (q)
)

// Subq is a subquery expression.
type Subq struct {
	Kind  SubKind
	Not   bool   // NOT EXISTS, NOT IN
	E     Expr   // IN / quantified: the left side
	Op    string // quantified: comparison
	Quant string // quantified: ANY or ALL
	Q     *Query
	T     Type
}

// Window is f(args) OVER (PARTITION BY ... ORDER BY ... frame).
type Window struct {
	F         *Func
	Partition []Expr
	Order     []OrderItem
	Frame     string
}

// OrderItem is an ORDER BY item: an expression, or (in a query's ORDER
// BY) a 1-based output position.
type OrderItem struct {
	E     Expr
	Pos   int
	Desc  bool
	Nulls string // "", "FIRST" or "LAST"
}

func (e *ColRef) Type() Type  { return e.T }
func (e *Lit) Type() Type     { return e.T }
func (e *Bin) Type() Type     { return e.T }
func (e *Not) Type() Type     { return tBool }
func (e *Neg) Type() Type     { return e.E.Type() }
func (e *IsNull) Type() Type  { return tBool }
func (e *InList) Type() Type  { return tBool }
func (e *Between) Type() Type { return tBool }
func (e *Like) Type() Type    { return tBool }
func (e *Case) Type() Type    { return e.T }
func (e *Func) Type() Type    { return e.T }
func (e *Cast) Type() Type    { return e.T }
func (e *Extract) Type() Type { return tInt }
func (e *Raw) Type() Type     { return e.T }
func (e *Subq) Type() Type    { return e.T }
func (e *Window) Type() Type  { return e.F.T }

func (e *ColRef) slots() []*Expr  { return nil }
func (e *Lit) slots() []*Expr     { return nil }
func (e *Bin) slots() []*Expr     { return []*Expr{&e.L, &e.R} }
func (e *Not) slots() []*Expr     { return []*Expr{&e.E} }
func (e *Neg) slots() []*Expr     { return []*Expr{&e.E} }
func (e *IsNull) slots() []*Expr  { return []*Expr{&e.E} }
func (e *Between) slots() []*Expr { return []*Expr{&e.E, &e.Lo, &e.Hi} }
func (e *Like) slots() []*Expr    { return []*Expr{&e.E, &e.Pattern} }
func (e *Cast) slots() []*Expr    { return []*Expr{&e.E} }
func (e *Extract) slots() []*Expr { return []*Expr{&e.E} }
func (e *InList) slots() []*Expr {
	s := []*Expr{&e.E}
	for i := range e.List {
		s = append(s, &e.List[i])
	}
	return s
}
func (e *Case) slots() []*Expr {
	var s []*Expr
	for i := range e.Whens {
		s = append(s, &e.Whens[i].Cond, &e.Whens[i].Val)
	}
	if e.Else != nil {
		s = append(s, &e.Else)
	}
	return s
}
func (e *Func) slots() []*Expr {
	var s []*Expr
	for i := range e.Args {
		s = append(s, &e.Args[i])
	}
	if e.Filter != nil {
		s = append(s, &e.Filter)
	}
	return s
}
func (e *Raw) slots() []*Expr {
	var s []*Expr
	for i := range e.E {
		s = append(s, &e.E[i])
	}
	return s
}

// slots of a subquery are only its left side: the reducer reaches the
// inner query through queriesOf.
func (e *Subq) slots() []*Expr {
	if e.E != nil {
		return []*Expr{&e.E}
	}
	return nil
}
func (e *Window) slots() []*Expr {
	s := e.F.slots()
	for i := range e.Partition {
		s = append(s, &e.Partition[i])
	}
	for i := range e.Order {
		s = append(s, &e.Order[i].E)
	}
	return s
}

func cloneExprs(es []Expr) []Expr {
	if es == nil {
		return nil
	}
	out := make([]Expr, len(es))
	for i, e := range es {
		out[i] = cloneExpr(e)
	}
	return out
}

func cloneExpr(e Expr) Expr {
	if e == nil {
		return nil
	}
	return e.clone()
}

func (e *ColRef) clone() Expr { c := *e; return &c }
func (e *Lit) clone() Expr    { c := *e; return &c }
func (e *Bin) clone() Expr    { return &Bin{Op: e.Op, L: cloneExpr(e.L), R: cloneExpr(e.R), T: e.T} }
func (e *Not) clone() Expr    { return &Not{E: cloneExpr(e.E)} }
func (e *Neg) clone() Expr    { return &Neg{E: cloneExpr(e.E)} }
func (e *IsNull) clone() Expr { return &IsNull{E: cloneExpr(e.E), Not: e.Not} }
func (e *InList) clone() Expr {
	return &InList{E: cloneExpr(e.E), List: cloneExprs(e.List), Not: e.Not}
}
func (e *Between) clone() Expr {
	return &Between{E: cloneExpr(e.E), Lo: cloneExpr(e.Lo), Hi: cloneExpr(e.Hi), Not: e.Not}
}
func (e *Like) clone() Expr {
	return &Like{E: cloneExpr(e.E), Pattern: cloneExpr(e.Pattern), Not: e.Not}
}
func (e *Case) clone() Expr {
	c := &Case{Else: cloneExpr(e.Else), T: e.T}
	for _, w := range e.Whens {
		c.Whens = append(c.Whens, When{Cond: cloneExpr(w.Cond), Val: cloneExpr(w.Val)})
	}
	return c
}
func (e *Func) clone() Expr {
	return &Func{Name: e.Name, Args: cloneExprs(e.Args), Distinct: e.Distinct, Star: e.Star, Filter: cloneExpr(e.Filter), T: e.T}
}
func (e *Cast) clone() Expr    { return &Cast{E: cloneExpr(e.E), T: e.T} }
func (e *Extract) clone() Expr { return &Extract{Field: e.Field, E: cloneExpr(e.E)} }
func (e *Raw) clone() Expr {
	return &Raw{Parts: append([]string(nil), e.Parts...), E: cloneExprs(e.E), T: e.T}
}
func (e *Subq) clone() Expr {
	return &Subq{Kind: e.Kind, Not: e.Not, E: cloneExpr(e.E), Op: e.Op, Quant: e.Quant, Q: e.Q.Clone(), T: e.T}
}
func (e *Window) clone() Expr {
	return &Window{F: e.F.clone().(*Func), Partition: cloneExprs(e.Partition), Order: cloneOrder(e.Order), Frame: e.Frame}
}

func cloneOrder(o []OrderItem) []OrderItem {
	if o == nil {
		return nil
	}
	out := make([]OrderItem, len(o))
	for i, it := range o {
		out[i] = it
		out[i].E = cloneExpr(it.E)
	}
	return out
}

func (e *ColRef) write(b *strings.Builder) { b.WriteString(e.Alias + "." + e.Name) }
func (e *Lit) write(b *strings.Builder)    { b.WriteString(e.Text) }
func (e *Bin) write(b *strings.Builder) {
	b.WriteByte('(')
	e.L.write(b)
	b.WriteString(" " + e.Op + " ")
	e.R.write(b)
	b.WriteByte(')')
}
func (e *Not) write(b *strings.Builder) {
	b.WriteString("(NOT ")
	e.E.write(b)
	b.WriteByte(')')
}
func (e *Neg) write(b *strings.Builder) {
	b.WriteString("(- ")
	e.E.write(b)
	b.WriteByte(')')
}
func (e *IsNull) write(b *strings.Builder) {
	b.WriteByte('(')
	e.E.write(b)
	if e.Not {
		b.WriteString(" IS NOT NULL)")
	} else {
		b.WriteString(" IS NULL)")
	}
}
func (e *InList) write(b *strings.Builder) {
	b.WriteByte('(')
	e.E.write(b)
	if e.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN (")
	for i, x := range e.List {
		if i > 0 {
			b.WriteString(", ")
		}
		x.write(b)
	}
	b.WriteString("))")
}
func (e *Between) write(b *strings.Builder) {
	b.WriteByte('(')
	e.E.write(b)
	if e.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" BETWEEN ")
	e.Lo.write(b)
	b.WriteString(" AND ")
	e.Hi.write(b)
	b.WriteByte(')')
}
func (e *Like) write(b *strings.Builder) {
	b.WriteByte('(')
	e.E.write(b)
	if e.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" LIKE ")
	e.Pattern.write(b)
	b.WriteByte(')')
}
func (e *Case) write(b *strings.Builder) {
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN ")
		w.Cond.write(b)
		b.WriteString(" THEN ")
		w.Val.write(b)
	}
	if e.Else != nil {
		b.WriteString(" ELSE ")
		e.Else.write(b)
	}
	b.WriteString(" END")
}
func (e *Func) write(b *strings.Builder) {
	b.WriteString(e.Name + "(")
	if e.Star {
		b.WriteByte('*')
	}
	if e.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, a := range e.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		a.write(b)
	}
	b.WriteByte(')')
	if e.Filter != nil {
		b.WriteString(" FILTER (WHERE ")
		e.Filter.write(b)
		b.WriteByte(')')
	}
}
func (e *Cast) write(b *strings.Builder) {
	b.WriteString("CAST(")
	e.E.write(b)
	b.WriteString(" AS " + e.T.sqlName() + ")")
}
func (e *Extract) write(b *strings.Builder) {
	b.WriteString("EXTRACT(" + e.Field + " FROM ")
	e.E.write(b)
	b.WriteByte(')')
}
func (e *Raw) write(b *strings.Builder) {
	for i, p := range e.Parts {
		b.WriteString(p)
		if i < len(e.E) {
			e.E[i].write(b)
		}
	}
}
func (e *Subq) write(b *strings.Builder) {
	switch e.Kind {
	case SubScalar:
		b.WriteByte('(')
		e.Q.write(b)
		b.WriteByte(')')
	case SubExists:
		if e.Not {
			b.WriteString("NOT ")
		}
		b.WriteString("EXISTS (")
		e.Q.write(b)
		b.WriteByte(')')
	case SubIn:
		b.WriteByte('(')
		e.E.write(b)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		e.Q.write(b)
		b.WriteString("))")
	case SubQuant:
		b.WriteByte('(')
		e.E.write(b)
		b.WriteString(" " + e.Op + " " + e.Quant + " (")
		e.Q.write(b)
		b.WriteString("))")
	}
}
func (e *Window) write(b *strings.Builder) {
	e.F.write(b)
	b.WriteString(" OVER (")
	sep := ""
	if len(e.Partition) > 0 {
		b.WriteString("PARTITION BY ")
		for i, p := range e.Partition {
			if i > 0 {
				b.WriteString(", ")
			}
			p.write(b)
		}
		sep = " "
	}
	if len(e.Order) > 0 {
		b.WriteString(sep + "ORDER BY ")
		writeOrder(b, e.Order)
		sep = " "
	}
	if e.Frame != "" {
		b.WriteString(sep + e.Frame)
	}
	b.WriteByte(')')
}

func writeOrder(b *strings.Builder, items []OrderItem) {
	for i, o := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if o.E != nil {
			o.E.write(b)
		} else {
			fmt.Fprintf(b, "%d", o.Pos)
		}
		if o.Desc {
			b.WriteString(" DESC")
		}
		if o.Nulls != "" {
			b.WriteString(" NULLS " + o.Nulls)
		}
	}
}

// SQL renders an expression.
func SQL(e Expr) string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

// Query is a query: a body (a SELECT or a set operation) with ORDER BY
// output positions, LIMIT and OFFSET.
type Query struct {
	With    []CTE
	Body    Body
	OrderBy []OrderItem // Pos only
	Limit   int         // -1: none
	Offset  int         // 0: none
}

// CTE is one WITH name AS (query).
type CTE struct {
	Name string
	Q    *Query
}

// Body is a *Select or a *SetOp.
type Body interface {
	writeBody(b *strings.Builder)
	cloneBody() Body
	// Out is the body's output columns.
	Out() []Column
}

// Column is an output column of a query or a FROM item.
type Column struct {
	Name string
	T    Type
}

// SetOp is left op [ALL] right.
type SetOp struct {
	Op   string // UNION, INTERSECT, EXCEPT
	All  bool
	L, R Body
}

// Select is one SELECT block.
type Select struct {
	Distinct bool
	Items    []Item
	From     []From // comma-separated
	Where    Expr
	GroupBy  []Expr
	// GroupSets wraps GroupBy in ROLLUP or CUBE ("" for a plain list).
	GroupSets string
	Having    Expr
	// Agg marks an aggregating query (GROUP BY, or aggregates without it).
	Agg bool
}

// Item is a select-list item with its output name.
type Item struct {
	E    Expr
	Name string
}

// From is a FROM item: *TableRef, *Derived or *Join.
type From interface {
	writeFrom(b *strings.Builder)
	cloneFrom() From
}

// TableRef is a base table with an alias.
type TableRef struct {
	Table, Alias string
}

// Derived is (query) AS alias.
type Derived struct {
	Q     *Query
	Alias string
}

// Join is l <type> JOIN r [ON cond].
type Join struct {
	Type string // INNER, LEFT, RIGHT, FULL, CROSS
	L, R From
	On   Expr
}

func (s *Select) Out() []Column {
	out := make([]Column, len(s.Items))
	for i, it := range s.Items {
		out[i] = Column{Name: it.Name, T: it.E.Type()}
	}
	return out
}

func (s *SetOp) Out() []Column {
	l, r := s.L.Out(), s.R.Out()
	out := make([]Column, len(l))
	for i := range l {
		out[i] = l[i]
		if i < len(r) {
			out[i].T = unify(l[i].T, r[i].T)
		}
	}
	return out
}

// unify is the type of a value that may come from a or b (set operations,
// CASE, COALESCE).
func unify(a, b Type) Type {
	switch {
	case a == b:
		return a
	case a.K == KFloat || b.K == KFloat:
		return tFloat
	case a.K == KDecimal || b.K == KDecimal:
		return tDec(max(a.Scale, b.Scale))
	}
	return a
}

func (q *Query) write(b *strings.Builder) {
	for i, c := range q.With {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(c.Name + " AS (")
		c.Q.write(b)
		b.WriteString(")")
	}
	if len(q.With) > 0 {
		b.WriteByte(' ')
	}
	q.Body.writeBody(b)
	if len(q.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		writeOrder(b, q.OrderBy)
	}
	if q.Limit >= 0 {
		fmt.Fprintf(b, " LIMIT %d", q.Limit)
	}
	if q.Offset > 0 {
		fmt.Fprintf(b, " OFFSET %d", q.Offset)
	}
}

// SQL renders the query.
func (q *Query) SQL() string {
	var b strings.Builder
	q.write(&b)
	return b.String()
}

// Clone copies the query deeply.
func (q *Query) Clone() *Query {
	if q == nil {
		return nil
	}
	c := &Query{Body: q.Body.cloneBody(), OrderBy: cloneOrder(q.OrderBy), Limit: q.Limit, Offset: q.Offset}
	for _, w := range q.With {
		c.With = append(c.With, CTE{Name: w.Name, Q: w.Q.Clone()})
	}
	return c
}

func (s *SetOp) writeBody(b *strings.Builder) {
	s.L.writeBody(b)
	b.WriteString(" " + s.Op)
	if s.All {
		b.WriteString(" ALL")
	}
	b.WriteByte(' ')
	if _, ok := s.R.(*SetOp); ok {
		// Set operations group to the left; a right-nested one needs
		// parentheses.
		b.WriteByte('(')
		s.R.writeBody(b)
		b.WriteByte(')')
		return
	}
	s.R.writeBody(b)
}

func (s *SetOp) cloneBody() Body {
	return &SetOp{Op: s.Op, All: s.All, L: s.L.cloneBody(), R: s.R.cloneBody()}
}

func (s *Select) writeBody(b *strings.Builder) {
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.E.write(b)
		b.WriteString(" AS " + it.Name)
	}
	if len(s.From) > 0 {
		b.WriteString(" FROM ")
		for i, f := range s.From {
			if i > 0 {
				b.WriteString(", ")
			}
			f.writeFrom(b)
		}
	}
	if s.Where != nil {
		b.WriteString(" WHERE ")
		s.Where.write(b)
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		if s.GroupSets != "" {
			b.WriteString(s.GroupSets + " (")
		}
		for i, g := range s.GroupBy {
			if i > 0 {
				b.WriteString(", ")
			}
			g.write(b)
		}
		if s.GroupSets != "" {
			b.WriteString(")")
		}
	}
	if s.Having != nil {
		b.WriteString(" HAVING ")
		s.Having.write(b)
	}
}

func (s *Select) cloneBody() Body {
	c := &Select{Distinct: s.Distinct, Where: cloneExpr(s.Where), GroupBy: cloneExprs(s.GroupBy), GroupSets: s.GroupSets, Having: cloneExpr(s.Having), Agg: s.Agg}
	for _, it := range s.Items {
		c.Items = append(c.Items, Item{E: cloneExpr(it.E), Name: it.Name})
	}
	for _, f := range s.From {
		c.From = append(c.From, f.cloneFrom())
	}
	return c
}

func (t *TableRef) writeFrom(b *strings.Builder) { b.WriteString(t.Table + " " + t.Alias) }
func (t *TableRef) cloneFrom() From              { c := *t; return &c }

func (d *Derived) writeFrom(b *strings.Builder) {
	b.WriteByte('(')
	d.Q.write(b)
	b.WriteString(") " + d.Alias)
}
func (d *Derived) cloneFrom() From { return &Derived{Q: d.Q.Clone(), Alias: d.Alias} }

func (j *Join) writeFrom(b *strings.Builder) {
	j.L.writeFrom(b)
	b.WriteString(" " + j.Type + " JOIN ")
	if _, ok := j.R.(*Join); ok {
		b.WriteByte('(')
		j.R.writeFrom(b)
		b.WriteByte(')')
	} else {
		j.R.writeFrom(b)
	}
	if j.On != nil {
		b.WriteString(" ON ")
		j.On.write(b)
	}
}
func (j *Join) cloneFrom() From {
	return &Join{Type: j.Type, L: j.L.cloneFrom(), R: j.R.cloneFrom(), On: cloneExpr(j.On)}
}

// and joins conjuncts (nil when there are none).
func and(es ...Expr) Expr {
	var out Expr
	for _, e := range es {
		if e == nil {
			continue
		}
		if out == nil {
			out = e
		} else {
			out = &Bin{Op: "AND", L: out, R: e, T: tBool}
		}
	}
	return out
}

// conjuncts splits a chain of ANDs.
func conjuncts(e Expr) []Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*Bin); ok && b.Op == "AND" {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	return []Expr{e}
}
