package binder

import (
	"fmt"
	"strings"
	"time"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

// Catalog resolves table names for the binder.
type Catalog interface {
	// LookupTable returns a file table or a view (a logical plan registered
	// by the DataFrame API / CREATE VIEW); names are case-insensitive.
	LookupTable(name string) (src *plan.TableSource, view plan.Node, ok bool)
	// TableNames lists the known names, for "did you mean" suggestions.
	TableNames() []string
}

// Binder binds ASTs to logical plans. A Binder may bind several queries one
// after the other but is not safe for concurrent use.
type Binder struct {
	cat Catalog
	ids *plan.IDGen
	sql string
	// stmtTime is the statement time CURRENT_DATE and CURRENT_TIMESTAMP
	// fold to; set on first use per Bind call.
	stmtTime time.Time
}

func (b *Binder) now() time.Time {
	if b.stmtTime.IsZero() {
		b.stmtTime = time.Now().UTC()
	}
	return b.stmtTime
}

// New returns a binder resolving tables in cat and allocating column IDs
// from ids (shared by the session so that plans can be combined).
func New(cat Catalog, ids *plan.IDGen) *Binder {
	if ids == nil {
		ids = &plan.IDGen{}
	}
	return &Binder{cat: cat, ids: ids}
}

// Error is a binding error at a position of the SQL text.
type Error struct {
	Pos ast.Pos
	Msg string
	SQL string
}

func (e *Error) Error() string {
	if e.SQL != "" && e.Pos.IsValid() {
		return parser.FormatErrorKind("binder error", e.SQL, e.Pos, e.Msg)
	}
	if e.Pos.IsValid() {
		return fmt.Sprintf("binder error at line %d, column %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return "binder error: " + e.Msg
}

func (b *Binder) errf(pos ast.Pos, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), SQL: b.sql}
}

// BindQuery binds a query. sql is the source text, used for error carets.
// The root of the result is a Project (or a Sort/Limit/Aggregate above
// one) whose schema names are the output column names.
func (b *Binder) BindQuery(sql string, q *ast.Query) (plan.Node, error) {
	b.sql = sql
	b.stmtTime = time.Time{}
	if q == nil {
		return nil, &Error{Msg: "no query to bind", SQL: sql}
	}
	n, err := b.bindQuery(q, nil, nil)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// BindExpr binds a scalar expression over the columns of input (DataFrame
// Filter / WithColumn / Select). Aggregates and window functions are not
// allowed; subqueries are.
func (b *Binder) BindExpr(sql string, e ast.Expr, input plan.Node) (plan.Expr, error) {
	b.sql = sql
	b.stmtTime = time.Time{}
	sc := scopeOf(input, "", nil)
	return b.bindExpr(e, &exprCtx{sc: sc, clause: "expression"})
}

// BindAggregate builds an Aggregate over input grouping by groupBy and
// computing aggs (DataFrame GroupBy().Agg()). Each aggs entry is an
// expression that may combine aggregates (sum(a) / count(*)). The result is
// a Project whose columns are the group keys (named after the column or
// expression text) followed by the aggregates, named by aliases[i] when
// given and non-empty, else by the expression text.
func (b *Binder) BindAggregate(sql string, input plan.Node, groupBy []ast.Expr, aggs []ast.Expr, aliases []string) (plan.Node, error) {
	b.sql = sql
	b.stmtTime = time.Time{}
	sc := scopeOf(input, "", nil)
	base := &exprCtx{sc: sc, clause: "GROUP BY"}
	ag := &aggCtx{input: input}
	for _, g := range groupBy {
		if containsAggregate(g) {
			return nil, b.errf(g.Pos(), "aggregate functions are not allowed in GROUP BY")
		}
		e, err := b.bindExpr(g, base)
		if err != nil {
			return nil, err
		}
		ag.addGroupFrom(e, g, b.ids, outputName(g, ""))
	}
	ctx := &exprCtx{sc: sc, agg: ag, clause: "aggregate list"}
	var projs []plan.Expr
	var names []string
	for i, g := range ag.groups {
		projs = append(projs, ag.groupCols[i].Ref())
		names = append(names, ag.groupCols[i].Name)
		_ = g
	}
	for i, a := range aggs {
		e, err := b.bindExpr(a, ctx)
		if err != nil {
			return nil, err
		}
		name := ""
		if i < len(aliases) {
			name = aliases[i]
		}
		projs = append(projs, e)
		names = append(names, outputName(a, name))
	}
	return b.project(ag.build(input), projs, names), nil
}

// project builds a Project with fresh output columns.
func (b *Binder) project(input plan.Node, exprs []plan.Expr, names []string) *plan.Project {
	out := make(plan.Schema, len(exprs))
	for i, e := range exprs {
		out[i] = b.ids.NewColumn(names[i], "", e.Type(), e.Nullable())
	}
	return &plan.Project{Input: input, Projections: exprs, Out: out}
}

// outputName is the DuckDB-style name of a select item.
func outputName(e ast.Expr, alias string) string {
	if alias != "" {
		return alias
	}
	switch x := e.(type) {
	case *ast.ColumnRef:
		return x.Parts[len(x.Parts)-1]
	case *ast.FuncCall:
		if (x.Star || len(x.Args) == 0) && !x.Distinct && x.Over == nil && x.Filter == nil && len(x.Name) == 1 && strings.EqualFold(x.Name[0], "count") {
			return "count_star()"
		}
	}
	return e.String()
}
