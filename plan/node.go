package plan

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Node is a logical relational operator.
type Node interface {
	// Schema lists the columns the node produces, in order.
	Schema() Schema
	Children() []Node
	// WithChildren returns a copy with the given children (same count).
	WithChildren(children []Node) Node
	// Exprs lists the expressions the node evaluates (for analysis).
	Exprs() []Expr
	// String describes the node alone (one line, no children).
	String() string
}

// TableSource describes a file-backed table: what the catalog knows, as
// plain data. Physical planning opens it with connectors.Open.
type TableSource struct {
	Name     string
	Format   string // "parquet", "csv", "json"
	Location string
	Options  map[string]string
	// Schema is the full table schema as the connector reports it.
	Schema *arrow.Schema
	// RowCount is an estimate from file metadata; -1 when unknown.
	RowCount int64
}

// Scan reads columns Cols (indices into Source.Schema) of a table. Filters
// are predicates over the scan's own output columns that the scan applies
// exactly (and may use to skip row groups).
type Scan struct {
	Source  *TableSource
	Cols    []int
	Out     Schema
	Filters []Expr
}

func (n *Scan) Schema() Schema             { return n.Out }
func (n *Scan) Children() []Node           { return nil }
func (n *Scan) WithChildren(c []Node) Node { return n }
func (n *Scan) Exprs() []Expr              { return n.Filters }
func (n *Scan) String() string {
	names := make([]string, len(n.Out))
	for i, c := range n.Out {
		names[i] = c.Name
	}
	s := fmt.Sprintf("Scan %s [%s]", n.Source.Name, strings.Join(names, ", "))
	if len(n.Filters) > 0 {
		s += " filters=" + exprList(n.Filters)
	}
	return s
}

// Values produces constant rows (SELECT without FROM has one empty row).
type Values struct {
	Rows [][]Expr
	Out  Schema
}

func (n *Values) Schema() Schema             { return n.Out }
func (n *Values) Children() []Node           { return nil }
func (n *Values) WithChildren(c []Node) Node { return n }
func (n *Values) Exprs() []Expr {
	var out []Expr
	for _, r := range n.Rows {
		out = append(out, r...)
	}
	return out
}
func (n *Values) String() string { return fmt.Sprintf("Values rows=%d %s", len(n.Rows), n.Out) }

// Filter keeps rows for which Cond is TRUE.
type Filter struct {
	Input Node
	Cond  Expr
}

func (n *Filter) Schema() Schema             { return n.Input.Schema() }
func (n *Filter) Children() []Node           { return []Node{n.Input} }
func (n *Filter) WithChildren(c []Node) Node { m := *n; m.Input = c[0]; return &m }
func (n *Filter) Exprs() []Expr              { return []Expr{n.Cond} }
func (n *Filter) String() string             { return "Filter " + n.Cond.String() }

// Project computes Exprs; Out[i] is the column Exprs[i] produces.
type Project struct {
	Input       Node
	Projections []Expr
	Out         Schema
}

func (n *Project) Schema() Schema             { return n.Out }
func (n *Project) Children() []Node           { return []Node{n.Input} }
func (n *Project) WithChildren(c []Node) Node { m := *n; m.Input = c[0]; return &m }
func (n *Project) Exprs() []Expr              { return n.Projections }
func (n *Project) String() string {
	parts := make([]string, len(n.Projections))
	for i, e := range n.Projections {
		parts[i] = e.String() + " AS " + n.Out[i].String()
	}
	return "Project " + strings.Join(parts, ", ")
}

// Aggregate groups by GroupBy and computes Aggs. Out lists the group
// columns first (one per GroupBy expression) then one per aggregate.
type Aggregate struct {
	Input   Node
	GroupBy []Expr
	Aggs    []*AggCall
	Out     Schema
}

func (n *Aggregate) Schema() Schema             { return n.Out }
func (n *Aggregate) Children() []Node           { return []Node{n.Input} }
func (n *Aggregate) WithChildren(c []Node) Node { m := *n; m.Input = c[0]; return &m }
func (n *Aggregate) Exprs() []Expr {
	out := append([]Expr(nil), n.GroupBy...)
	for _, a := range n.Aggs {
		out = append(out, a)
	}
	return out
}
func (n *Aggregate) String() string {
	aggs := make([]Expr, len(n.Aggs))
	for i, a := range n.Aggs {
		aggs[i] = a
	}
	return "Aggregate group=" + exprList(n.GroupBy) + " aggs=" + exprList(aggs) + " -> " + n.Out.String()
}

// JoinType is the kind of a Join.
type JoinType int

// Join types. Semi and Anti output only the left columns; Mark outputs the
// left columns and its Mark column.
const (
	JoinInner JoinType = iota
	JoinLeft
	JoinRight
	JoinFull
	JoinSemi
	JoinAnti
	JoinCross
	// JoinMark keeps every left row exactly once and appends the BOOLEAN
	// column Mark: the value, in three-valued logic, of "some right row
	// satisfies MarkCond", over the right rows for which Cond is TRUE
	// (Cond nil: all of them). Mark is TRUE if MarkCond is TRUE for one of
	// them, else NULL if it is NULL for one, else FALSE (no such rows:
	// FALSE). MarkCond nil means TRUE: the mark is then EXISTS. It is
	// what [NOT] IN, EXISTS and op ANY/ALL subqueries become when they sit
	// inside an expression (under OR, CASE, in a SELECT list) rather than
	// being a WHERE conjunct.
	JoinMark
)

func (t JoinType) String() string {
	return [...]string{"Inner", "Left", "Right", "Full", "Semi", "Anti", "Cross", "Mark"}[t]
}

// Join combines Left and Right rows for which Cond holds (Cond nil: every
// pair). NullAware marks an Anti join with NOT IN semantics: a NULL on
// either side of the (single) equality makes the comparison unknown.
// MarkCond and Mark are set only for JoinMark.
type Join struct {
	Left, Right Node
	Type        JoinType
	Cond        Expr
	NullAware   bool
	MarkCond    Expr
	Mark        Column
}

func (n *Join) Schema() Schema {
	l, r := n.Left.Schema(), n.Right.Schema()
	switch n.Type {
	case JoinSemi, JoinAnti:
		return l
	case JoinMark:
		return append(append(Schema{}, l...), n.Mark)
	case JoinLeft:
		return append(append(Schema{}, l...), nullable(r)...)
	case JoinRight:
		return append(nullable(l), r...)
	case JoinFull:
		return append(nullable(l), nullable(r)...)
	}
	return append(append(Schema{}, l...), r...)
}
func (n *Join) Children() []Node { return []Node{n.Left, n.Right} }
func (n *Join) WithChildren(c []Node) Node {
	m := *n
	m.Left, m.Right = c[0], c[1]
	return &m
}
func (n *Join) Exprs() []Expr {
	var out []Expr
	if n.Cond != nil {
		out = append(out, n.Cond)
	}
	if n.MarkCond != nil {
		out = append(out, n.MarkCond)
	}
	return out
}
func (n *Join) String() string {
	s := "Join " + n.Type.String()
	if n.NullAware {
		s += " (null-aware)"
	}
	if n.Cond != nil {
		s += " on " + n.Cond.String()
	}
	if n.Type == JoinMark {
		cond := "TRUE"
		if n.MarkCond != nil {
			cond = n.MarkCond.String()
		}
		s += " mark " + cond + " -> " + n.Mark.String()
	}
	return s
}

func nullable(s Schema) Schema {
	out := make(Schema, len(s))
	for i, c := range s {
		c.Nullable = true
		out[i] = c
	}
	return out
}

// SortKey orders by E.
type SortKey struct {
	E          Expr
	Desc       bool
	NullsFirst bool
}

func (k SortKey) String() string {
	s := k.E.String()
	if k.Desc {
		s += " DESC"
	}
	if k.NullsFirst {
		s += " NULLS FIRST"
	} else {
		s += " NULLS LAST"
	}
	return s
}

// Sort orders its input. Limit >= 0 makes it a top-N: only the first
// Limit rows (after skipping none) are needed.
type Sort struct {
	Input Node
	Keys  []SortKey
	Limit int64
}

func (n *Sort) Schema() Schema             { return n.Input.Schema() }
func (n *Sort) Children() []Node           { return []Node{n.Input} }
func (n *Sort) WithChildren(c []Node) Node { m := *n; m.Input = c[0]; return &m }
func (n *Sort) Exprs() []Expr {
	out := make([]Expr, len(n.Keys))
	for i, k := range n.Keys {
		out[i] = k.E
	}
	return out
}
func (n *Sort) String() string {
	parts := make([]string, len(n.Keys))
	for i, k := range n.Keys {
		parts[i] = k.String()
	}
	s := "Sort " + strings.Join(parts, ", ")
	if n.Limit >= 0 {
		s = fmt.Sprintf("TopN %d by %s", n.Limit, strings.Join(parts, ", "))
	}
	return s
}

// Limit skips Offset rows and returns at most Count rows (Count < 0: all).
type Limit struct {
	Input         Node
	Offset, Count int64
}

func (n *Limit) Schema() Schema             { return n.Input.Schema() }
func (n *Limit) Children() []Node           { return []Node{n.Input} }
func (n *Limit) WithChildren(c []Node) Node { m := *n; m.Input = c[0]; return &m }
func (n *Limit) Exprs() []Expr              { return nil }
func (n *Limit) String() string             { return fmt.Sprintf("Limit offset=%d count=%d", n.Offset, n.Count) }

// Union concatenates its inputs (UNION ALL). Input i's column j maps to
// Out[j]; inputs have identical column types (the binder adds casts).
type Union struct {
	Inputs []Node
	Out    Schema
}

func (n *Union) Schema() Schema   { return n.Out }
func (n *Union) Children() []Node { return n.Inputs }
func (n *Union) WithChildren(c []Node) Node {
	m := *n
	m.Inputs = c
	return &m
}
func (n *Union) Exprs() []Expr  { return nil }
func (n *Union) String() string { return "Union all -> " + n.Out.String() }

// FrameBoundKind is one end of a window frame.
type FrameBoundKind int

// Frame bound kinds.
const (
	UnboundedPreceding FrameBoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is one end of a window frame; the offset is for Preceding
// and Following. A numeric offset is Offset·10^-Scale (RANGE 2.50
// PRECEDING is Offset 250, Scale 2). An INTERVAL offset (RANGE over a DATE
// or TIMESTAMP key) has Interval set and is Months, Days and Offset
// microseconds.
type FrameBound struct {
	Kind     FrameBoundKind
	Offset   int64
	Scale    int32
	Interval bool
	Months   int32
	Days     int32
}

// WindowFrame is ROWS or RANGE BETWEEN Start AND End.
type WindowFrame struct {
	Rows       bool
	Start, End FrameBound
}

// WindowCall is one window function with its window. Func is a window
// function (row_number, rank, dense_rank, percent_rank, cume_dist, ntile,
// lag, lead, first_value, last_value, nth_value) or an aggregate name.
type WindowCall struct {
	Func        string
	Args        []Expr
	PartitionBy []Expr
	OrderBy     []SortKey
	Frame       *WindowFrame // nil: SQL default
	// Filter is an aggregate's optional FILTER (WHERE ...) condition.
	Filter Expr
	Typ    arrow.DataType
}

func (w *WindowCall) exprs() []Expr {
	out := append([]Expr(nil), w.Args...)
	out = append(out, w.PartitionBy...)
	for _, k := range w.OrderBy {
		out = append(out, k.E)
	}
	if w.Filter != nil {
		out = append(out, w.Filter)
	}
	return out
}

func (w *WindowCall) String() string {
	s := w.Func + "(" + exprList(w.Args) + ")"
	if w.Filter != nil {
		s += " FILTER (WHERE " + w.Filter.String() + ")"
	}
	s += " OVER (partition=" + exprList(w.PartitionBy)
	if len(w.OrderBy) > 0 {
		parts := make([]string, len(w.OrderBy))
		for i, k := range w.OrderBy {
			parts[i] = k.String()
		}
		s += " order=" + strings.Join(parts, ", ")
	}
	return s + ")"
}

// Window appends one column per function to its input's columns: Out is
// the input schema followed by one column per Funcs entry.
type Window struct {
	Input Node
	Funcs []*WindowCall
	Out   Schema
}

func (n *Window) Schema() Schema             { return n.Out }
func (n *Window) Children() []Node           { return []Node{n.Input} }
func (n *Window) WithChildren(c []Node) Node { m := *n; m.Input = c[0]; return &m }
func (n *Window) Exprs() []Expr {
	var out []Expr
	for _, f := range n.Funcs {
		out = append(out, f.exprs()...)
	}
	return out
}
func (n *Window) String() string {
	parts := make([]string, len(n.Funcs))
	for i, f := range n.Funcs {
		parts[i] = f.String()
	}
	return "Window " + strings.Join(parts, "; ")
}

func exprList(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

var (
	_ Node = (*Scan)(nil)
	_ Node = (*Values)(nil)
	_ Node = (*Filter)(nil)
	_ Node = (*Project)(nil)
	_ Node = (*Aggregate)(nil)
	_ Node = (*Join)(nil)
	_ Node = (*Sort)(nil)
	_ Node = (*Limit)(nil)
	_ Node = (*Union)(nil)
	_ Node = (*Window)(nil)
)
