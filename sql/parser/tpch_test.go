package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flint-engine/flint/sql/ast"
)

const tpchDir = "../../tpch/queries"

func readTPCH(t testing.TB, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tpchDir, fmt.Sprintf("q%02d.sql", n)))
	if err != nil {
		t.Fatalf("TPC-H queries (committed under tpch/queries): %v", err)
	}
	return string(b)
}

// TestTPCH parses all 22 TPC-H queries, checks that String round-trips,
// and checks the constructs that make the hard ones hard.
func TestTPCH(t *testing.T) {
	queries := map[int]*ast.Query{}
	for n := 1; n <= 22; n++ {
		sql := readTPCH(t, n)
		stmts, err := Parse(sql)
		if err != nil {
			t.Fatalf("Q%d: %v", n, err)
		}
		if len(stmts) != 1 {
			t.Fatalf("Q%d: %d statements, want 1", n, len(stmts))
		}
		q, ok := stmts[0].(*ast.Query)
		if !ok {
			t.Fatalf("Q%d: %T, want *ast.Query", n, stmts[0])
		}
		s := q.String()
		again, err := ParseOne(s)
		if err != nil {
			t.Fatalf("Q%d: re-parse of String(): %v\n%s", n, err, s)
		}
		if again.String() != s {
			t.Fatalf("Q%d: String not a fixpoint", n)
		}
		queries[n] = q
	}

	count := func(q *ast.Query, pred func(ast.Node) bool) int {
		n := 0
		walkQuery(q, func(x ast.Node) {
			if pred(x) {
				n++
			}
		})
		return n
	}
	is := func(f func(ast.Node) bool) func(ast.Node) bool { return f }

	// Q1: interval arithmetic on a date literal, count(*).
	if c := count(queries[1], is(func(x ast.Node) bool {
		iv, ok := x.(*ast.IntervalLit)
		return ok && iv.Unit == "DAY"
	})); c != 1 {
		t.Errorf("Q1: %d day intervals, want 1", c)
	}
	if c := count(queries[1], is(func(x ast.Node) bool { f, ok := x.(*ast.FuncCall); return ok && f.Star })); c != 1 {
		t.Errorf("Q1: %d count(*), want 1", c)
	}
	// Q7/Q8/Q9: EXTRACT(YEAR FROM ...).
	for _, n := range []int{7, 8, 9} {
		if c := count(queries[n], is(func(x ast.Node) bool { e, ok := x.(*ast.Extract); return ok && e.Field == "YEAR" })); c != 1 {
			t.Errorf("Q%d: %d EXTRACT(YEAR), want 1", n, c)
		}
	}
	// Q13: LEFT OUTER JOIN whose ON has an extra NOT LIKE predicate.
	if c := count(queries[13], is(func(x ast.Node) bool {
		j, ok := x.(*ast.Join)
		if !ok || j.Type != ast.LeftJoin {
			return false
		}
		and, ok := j.On.(*ast.Binary)
		if !ok || and.Op != ast.OpAnd {
			return false
		}
		l, ok := and.Right.(*ast.Like)
		return ok && l.Not
	})); c != 1 {
		t.Errorf("Q13: %d LEFT JOIN ... ON a = b AND c NOT LIKE p, want 1", c)
	}
	// Q15 (view-free form) references the same derived relation twice.
	if len(queries[15].With) != 1 {
		t.Logf("Q15 has no WITH clause (view-free text variant)")
	}
	// Q16: NOT IN (subquery) and count(DISTINCT).
	if c := count(queries[16], is(func(x ast.Node) bool { in, ok := x.(*ast.InSubquery); return ok && in.Not })); c != 1 {
		t.Errorf("Q16: %d NOT IN (subquery), want 1", c)
	}
	if c := count(queries[16], is(func(x ast.Node) bool { f, ok := x.(*ast.FuncCall); return ok && f.Distinct })); c != 1 {
		t.Errorf("Q16: %d count(DISTINCT), want 1", c)
	}
	// Q20: nested IN subqueries and a correlated scalar subquery.
	if c := count(queries[20], is(func(x ast.Node) bool { _, ok := x.(*ast.InSubquery); return ok })); c != 2 {
		t.Errorf("Q20: %d IN (subquery), want 2", c)
	}
	// Q21: EXISTS and NOT EXISTS.
	if c := count(queries[21], is(func(x ast.Node) bool { _, ok := x.(*ast.Exists); return ok })); c != 2 {
		t.Errorf("Q21: %d EXISTS, want 2", c)
	}
	if c := count(queries[21], is(func(x ast.Node) bool { e, ok := x.(*ast.Exists); return ok && e.Not })); c != 1 {
		t.Errorf("Q21: %d NOT EXISTS, want 1", c)
	}
	// Q22: SUBSTRING(c_phone FROM 1 FOR 2), three times.
	if c := count(queries[22], is(func(x ast.Node) bool {
		s, ok := x.(*ast.Substring)
		return ok && s.From != nil && s.For != nil
	})); c != 3 {
		t.Errorf("Q22: %d SUBSTRING(x FROM a FOR b), want 3", c)
	}
}

// walkQuery calls f on every node reachable from q (test helper; a small,
// obviously complete traversal over the node kinds TPC-H uses).
func walkQuery(q *ast.Query, f func(ast.Node)) {
	if q == nil {
		return
	}
	f(q)
	for _, c := range q.With {
		walkQuery(c.Query, f)
	}
	walkBody(q.Body, f)
	for _, o := range q.OrderBy {
		walkExpr(o.Expr, f)
	}
	walkExpr(q.Limit, f)
	walkExpr(q.Offset, f)
}

func walkBody(b ast.QueryBody, f func(ast.Node)) {
	switch b := b.(type) {
	case *ast.Query:
		walkQuery(b, f)
	case *ast.SetOp:
		f(b)
		walkBody(b.Left, f)
		walkBody(b.Right, f)
	case *ast.SelectCore:
		f(b)
		for _, it := range b.Items {
			walkExpr(it.Expr, f)
		}
		for _, t := range b.From {
			walkTable(t, f)
		}
		walkExpr(b.Where, f)
		for _, g := range b.GroupBy {
			walkExpr(g, f)
		}
		walkExpr(b.Having, f)
	}
}

func walkTable(t ast.TableExpr, f func(ast.Node)) {
	f(t)
	switch t := t.(type) {
	case *ast.Join:
		walkTable(t.Left, f)
		walkTable(t.Right, f)
		walkExpr(t.On, f)
	case *ast.DerivedTable:
		walkQuery(t.Subquery, f)
	}
}

func walkExpr(e ast.Expr, f func(ast.Node)) {
	if e == nil {
		return
	}
	f(e)
	switch e := e.(type) {
	case *ast.Binary:
		walkExpr(e.Left, f)
		walkExpr(e.Right, f)
	case *ast.Unary:
		walkExpr(e.Expr, f)
	case *ast.IsNull:
		walkExpr(e.Expr, f)
	case *ast.Between:
		walkExpr(e.Expr, f)
		walkExpr(e.Low, f)
		walkExpr(e.High, f)
	case *ast.InList:
		walkExpr(e.Expr, f)
		for _, x := range e.List {
			walkExpr(x, f)
		}
	case *ast.InSubquery:
		walkExpr(e.Expr, f)
		walkQuery(e.Query, f)
	case *ast.Quantified:
		walkExpr(e.Expr, f)
		walkQuery(e.Query, f)
	case *ast.Exists:
		walkQuery(e.Query, f)
	case *ast.ScalarSubquery:
		walkQuery(e.Query, f)
	case *ast.Like:
		walkExpr(e.Expr, f)
		walkExpr(e.Pattern, f)
	case *ast.Case:
		walkExpr(e.Operand, f)
		for _, w := range e.Whens {
			walkExpr(w.Cond, f)
			walkExpr(w.Result, f)
		}
		walkExpr(e.Else, f)
	case *ast.Cast:
		walkExpr(e.Expr, f)
	case *ast.FuncCall:
		for _, a := range e.Args {
			walkExpr(a, f)
		}
	case *ast.Extract:
		walkExpr(e.From, f)
	case *ast.Substring:
		walkExpr(e.Expr, f)
		walkExpr(e.From, f)
		walkExpr(e.For, f)
	}
}
