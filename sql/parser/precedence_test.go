package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flint-engine/flint/sql/ast"
)

// sexpr renders the tree shape of e fully parenthesized, independently of
// ast's String, so precedence is checked against hand-written trees.
func sexpr(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return strings.Join(e.Parts, ".")
	case *ast.NumberLit:
		return e.Text
	case *ast.StringLit:
		return "'" + e.Value + "'"
	case *ast.BoolLit:
		return fmt.Sprint(e.Value)
	case *ast.NullLit:
		return "null"
	case *ast.Binary:
		return "(" + sexpr(e.Left) + " " + e.Op.String() + " " + sexpr(e.Right) + ")"
	case *ast.Unary:
		return "(" + e.Op.String() + " " + sexpr(e.Expr) + ")"
	case *ast.IsNull:
		return "(isnull " + fmt.Sprint(!e.Not) + " " + sexpr(e.Expr) + ")"
	case *ast.IsBool:
		return fmt.Sprintf("(is %v not=%v %s)", e.Value, e.Not, sexpr(e.Expr))
	case *ast.IsDistinctFrom:
		return fmt.Sprintf("(distinct not=%v %s %s)", e.Not, sexpr(e.Left), sexpr(e.Right))
	case *ast.Between:
		return fmt.Sprintf("(between not=%v %s %s %s)", e.Not, sexpr(e.Expr), sexpr(e.Low), sexpr(e.High))
	case *ast.InList:
		parts := make([]string, len(e.List))
		for i, x := range e.List {
			parts[i] = sexpr(x)
		}
		return fmt.Sprintf("(in not=%v %s [%s])", e.Not, sexpr(e.Expr), strings.Join(parts, " "))
	case *ast.Like:
		return fmt.Sprintf("(like not=%v i=%v %s %s)", e.Not, e.ILike, sexpr(e.Expr), sexpr(e.Pattern))
	case *ast.Cast:
		return "(cast " + sexpr(e.Expr) + " " + e.Type.Name + ")"
	case *ast.Exists:
		return fmt.Sprintf("(exists not=%v)", e.Not)
	case *ast.FuncCall:
		parts := make([]string, len(e.Args))
		for i, x := range e.Args {
			parts[i] = sexpr(x)
		}
		return strings.Join(e.Name, ".") + "(" + strings.Join(parts, " ") + ")"
	}
	return fmt.Sprintf("<%T>", e)
}

func TestPrecedence(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a or b and c", "(a OR (b AND c))"},
		{"a and b or c", "((a AND b) OR c)"},
		{"not a and b", "((NOT a) AND b)"},
		{"not a = b", "(NOT (a = b))"},
		{"not a or b", "((NOT a) OR b)"},
		{"a = b and c = d", "((a = b) AND (c = d))"},
		{"a = b is null", "(isnull true (a = b))"},
		{"a is null = b", "((isnull true a) = b)"}, // as in PostgreSQL: IS NULL is complete, then "="
		{"not a is null", "(NOT (isnull true a))"},
		{"a < b + c", "(a < (b + c))"},
		{"a + b < c", "((a + b) < c)"},
		{"a || b = c", "((a || b) = c)"},
		{"a + b || c", "((a + b) || c)"},
		{"a || b * c", "(a || (b * c))"},
		{"a + b * c", "(a + (b * c))"},
		{"a * b + c", "((a * b) + c)"},
		{"a - b - c", "((a - b) - c)"},
		{"a / b * c", "((a / b) * c)"},
		{"a % b % c", "((a % b) % c)"},
		{"-a * b", "((- a) * b)"},
		{"-a ^ b", "<error>"},
		{"- a::int", "(- (cast a INTEGER))"},
		{"a::int + b", "((cast a INTEGER) + b)"},
		{"a + b::int", "(a + (cast b INTEGER))"},
		{"a between b and c and d", "((between not=false a b c) AND d)"},
		{"a between b + 1 and c || d", "(between not=false a (b + 1) (c || d))"},
		{"a not between b and c or d", "((between not=true a b c) OR d)"},
		{"a = b between c and d", "(a = (between not=false b c d))"},
		{"a like b || c", "(like not=false i=false a (b || c))"},
		{"a like b = c", "((like not=false i=false a b) = c)"},
		{"a not in (1, 2) and b", "((in not=true a [1 2]) AND b)"},
		{"a in (1) = b in (2)", "((in not=false a [1]) = (in not=false b [2]))"},
		{"a is not distinct from b = c", "(distinct not=true a (b = c))"},
		{"a is true or b", "((is true not=false a) OR b)"},
		{"not exists (select 1) and b", "((exists not=true) AND b)"},
		{"not (exists (select 1))", "(exists not=true)"},
		{"not not exists (select 1)", "(NOT (exists not=true))"},
		{"a = not b", "(a = (NOT b))"},
		{"f(a, b + c) * 2", "(f(a (b + c)) * 2)"},
		{"0.06 - 0.01", "(0.06 - 0.01)"},
		{"-5 + 3", "((- 5) + 3)"},
		{"a = b = c", "((a = b) = c)"},
		{"a isnull is null", "(isnull true (isnull true a))"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e, err := ParseExpr(tc.in)
			got := "<error>"
			if err == nil {
				got = sexpr(e)
			}
			if got != tc.want {
				t.Fatalf("ParseExpr(%q) = %s, want %s (err %v)", tc.in, got, tc.want, err)
			}
		})
	}
}

// TestPrintParenthesization checks that String inserts exactly the parens a
// tree needs, for trees built by hand (not by the parser).
func TestPrintParenthesization(t *testing.T) {
	col := func(n string) ast.Expr { return &ast.ColumnRef{Parts: []string{n}} }
	bin := func(op ast.BinaryOp, l, r ast.Expr) ast.Expr { return &ast.Binary{Op: op, Left: l, Right: r} }
	tests := []struct {
		e    ast.Expr
		want string
	}{
		{bin(ast.OpMul, bin(ast.OpAdd, col("a"), col("b")), col("c")), "(a + b) * c"},
		{bin(ast.OpSub, col("a"), bin(ast.OpSub, col("b"), col("c"))), "a - (b - c)"},
		{bin(ast.OpAnd, bin(ast.OpOr, col("a"), col("b")), col("c")), "(a OR b) AND c"},
		{&ast.Unary{Op: ast.OpNeg, Expr: &ast.Unary{Op: ast.OpNeg, Expr: col("a")}}, "-(-a)"},
		{&ast.Unary{Op: ast.OpNeg, Expr: bin(ast.OpAdd, col("a"), col("b"))}, "-(a + b)"},
		{&ast.Unary{Op: ast.OpNot, Expr: bin(ast.OpAnd, col("a"), col("b"))}, "NOT (a AND b)"},
		{&ast.IsNull{Expr: bin(ast.OpOr, col("a"), col("b"))}, "(a OR b) IS NULL"},
		{&ast.Cast{Expr: bin(ast.OpAdd, col("a"), col("b")), Type: &ast.TypeName{Name: "INTEGER"}, ColonOp: true}, "(a + b)::INTEGER"},
		{&ast.Between{Expr: col("a"), Low: bin(ast.OpAnd, col("b"), col("c")), High: col("d")}, "a BETWEEN (b AND c) AND d"},
		{&ast.Exists{Not: true, Query: &ast.Query{Body: &ast.SelectCore{Items: []*ast.SelectItem{{Expr: &ast.NumberLit{Text: "1"}}}}}}, "NOT EXISTS (SELECT 1)"},
	}
	for _, tc := range tests {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
}
