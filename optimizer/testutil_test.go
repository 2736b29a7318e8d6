package optimizer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"go.uber.org/goleak"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/tpch"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sf1Rows are the TPC-H SF1 row counts used as Scan estimates.
var sf1Rows = map[string]int64{
	"lineitem": 6001215, "orders": 1500000, "customer": 150000, "part": 200000,
	"partsupp": 800000, "supplier": 10000, "nation": 25, "region": 5,
}

func tpchSource(t testing.TB, table string) *plan.TableSource {
	t.Helper()
	s, err := tpch.Schema(table)
	if err != nil {
		t.Fatal(err)
	}
	return &plan.TableSource{Name: table, Format: "parquet", Location: table + ".parquet", Schema: s, RowCount: sf1Rows[table]}
}

// tpchCatalog implements binder.Catalog over the TPC-H schemas.
type tpchCatalog struct{ t testing.TB }

func (c tpchCatalog) LookupTable(name string) (*plan.TableSource, plan.Node, bool) {
	name = strings.ToLower(name)
	if _, ok := sf1Rows[name]; !ok {
		return nil, nil, false
	}
	return tpchSource(c.t, name), nil, true
}

func (c tpchCatalog) TableNames() []string { return tpch.Tables }

// builder makes hand-written plans over TPC-H tables.
type builder struct {
	t   testing.TB
	ids *plan.IDGen
}

func newBuilder(t testing.TB) *builder { return &builder{t: t, ids: &plan.IDGen{}} }

// scan reads every column of table, qualified by alias (table if empty).
func (b *builder) scan(table, alias string) *plan.Scan {
	src := tpchSource(b.t, table)
	if alias == "" {
		alias = table
	}
	s := &plan.Scan{Source: src}
	for i, f := range src.Schema.Fields() {
		s.Cols = append(s.Cols, i)
		s.Out = append(s.Out, b.ids.NewColumn(f.Name, alias, f.Type, f.Nullable))
	}
	return s
}

// col finds a column by name ("name" or "table.name") in n's schema.
func (b *builder) col(n plan.Node, name string) *plan.ColRef {
	b.t.Helper()
	table, cname, ok := strings.Cut(name, ".")
	if !ok {
		table, cname = "", name
	}
	for _, c := range n.Schema() {
		if c.Name == cname && (table == "" || c.Table == table) {
			return c.Ref()
		}
	}
	b.t.Fatalf("no column %q in %s", name, n.Schema())
	return nil
}

func cross(l, r plan.Node) *plan.Join { return &plan.Join{Left: l, Right: r, Type: plan.JoinCross} }

func crossAll(ns ...plan.Node) plan.Node {
	out := ns[0]
	for _, n := range ns[1:] {
		out = cross(out, n)
	}
	return out
}

func filter(n plan.Node, preds ...plan.Expr) *plan.Filter {
	return &plan.Filter{Input: n, Cond: plan.And(preds...)}
}

func bin(op plan.BinaryOp, l, r plan.Expr) *plan.Binary {
	typ := l.Type()
	if op.IsComparison() || op.IsLogical() {
		typ = arrow.FixedWidthTypes.Boolean
	}
	return &plan.Binary{Op: op, L: l, R: r, Typ: typ}
}

func eq(l, r plan.Expr) plan.Expr { return bin(plan.OpEq, l, r) }

func i64(v int64) *plan.Literal  { return &plan.Literal{Value: v, Typ: arrow.PrimitiveTypes.Int64} }
func str(v string) *plan.Literal { return &plan.Literal{Value: v, Typ: arrow.BinaryTypes.String} }
func boolLit(v any) *plan.Literal {
	return &plan.Literal{Value: v, Typ: arrow.FixedWidthTypes.Boolean}
}
func dec(v int64, p, s int32) *plan.Literal {
	return &plan.Literal{Value: decimal128.FromI64(v), Typ: &arrow.Decimal128Type{Precision: p, Scale: s}}
}
func date(s string) *plan.Literal {
	return &plan.Literal{Value: arrow.Date32FromTime(mustTime(s)), Typ: arrow.FixedWidthTypes.Date32}
}

// project selects columns of n (keeping their IDs).
func project(n plan.Node, cols ...*plan.ColRef) *plan.Project {
	p := &plan.Project{Input: n}
	s := n.Schema()
	for _, c := range cols {
		p.Projections = append(p.Projections, c)
		p.Out = append(p.Out, s[s.Index(c.ID)])
	}
	return p
}

// agg builds a global or grouped aggregate with fresh output columns.
func (b *builder) agg(n plan.Node, groups []plan.Expr, calls ...*plan.AggCall) *plan.Aggregate {
	a := &plan.Aggregate{Input: n, GroupBy: groups, Aggs: calls}
	for _, g := range groups {
		name := "g"
		if r, ok := g.(*plan.ColRef); ok {
			name = r.Name
		}
		a.Out = append(a.Out, b.ids.NewColumn(name, "", g.Type(), g.Nullable()))
	}
	for _, c := range calls {
		a.Out = append(a.Out, b.ids.NewColumn(c.Func, "", c.Typ, c.Nullable()))
	}
	return a
}

// walkAll visits every node, including inside subquery plans.
func walkAll(n plan.Node, fn func(plan.Node)) {
	plan.WalkPlan(n, func(x plan.Node) bool {
		fn(x)
		for _, e := range x.Exprs() {
			plan.WalkExpr(e, func(y plan.Expr) bool {
				if sq, ok := y.(*plan.Subquery); ok {
					walkAll(sq.Plan, fn)
				}
				return true
			})
		}
		return true
	})
}

func countNodes(n plan.Node, pred func(plan.Node) bool) int {
	c := 0
	walkAll(n, func(x plan.Node) {
		if pred(x) {
			c++
		}
	})
	return c
}

func joinsOfType(n plan.Node, t plan.JoinType) []*plan.Join {
	var out []*plan.Join
	walkAll(n, func(x plan.Node) {
		if j, ok := x.(*plan.Join); ok && j.Type == t {
			out = append(out, j)
		}
	})
	return out
}

func hasSubqueryAnywhere(n plan.Node) bool {
	found := false
	walkAll(n, func(x plan.Node) {
		if hasSubquery(x.Exprs()...) {
			found = true
		}
	})
	return found
}

func fired(trace []string, name string) bool {
	for _, s := range trace {
		if s == name {
			return true
		}
	}
	return false
}

func mustOptimize(t *testing.T, n plan.Node, ids *plan.IDGen) (plan.Node, []string) {
	t.Helper()
	want := n.Schema()
	out, trace, err := OptimizeTrace(n, ids)
	if err != nil {
		t.Fatalf("optimize: %v\nplan:\n%s", err, plan.Format(n))
	}
	if !sameSchemaTypes(out.Schema(), want) {
		t.Fatalf("schema changed: %s -> %s", want, out.Schema())
	}
	return out, trace
}

// sameSchemaTypes compares IDs, names and types (an outer join turned
// inner may make columns non-nullable).
func sameSchemaTypes(a, b plan.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name || !arrow.TypeEqual(a[i].Type, b[i].Type) {
			return false
		}
	}
	return true
}
