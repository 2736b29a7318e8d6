package ast

import (
	"fmt"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	col := func(n string) *ColumnRef { return &ColumnRef{Parts: []string{n}} }
	num := &NumberLit{Text: "1"}
	sub := &Query{Body: &SelectCore{Items: []*SelectItem{{Expr: col("s")}}}}
	q := &Query{
		With: []*CTE{{Name: "c", Query: &Query{Body: &Values{Rows: [][]Expr{{col("v")}}}}}},
		Body: &SelectCore{
			Items: []*SelectItem{
				{Expr: &FuncCall{Name: []string{"sum"}, Args: []Expr{col("a")}, Filter: col("f"),
					Over: &WindowSpec{PartitionBy: []Expr{col("p")}, Frame: &Frame{Start: FrameBound{Kind: Preceding, Offset: num}}}}},
				{Star: true},
			},
			From: []TableExpr{&Join{Left: &TableName{Name: []string{"t"}},
				Right: &DerivedTable{Subquery: sub}, On: &Exists{Query: sub}}},
			Where: &Binary{Op: OpAnd, Left: &Between{Expr: col("b"), Low: num, High: num},
				Right: &Cast{Expr: col("x"), Type: &TypeName{Name: "INTEGER"}}},
		},
		Limit: num,
	}
	var visited []string
	Inspect(q, func(n Node) bool {
		visited = append(visited, strings.TrimPrefix(fmt.Sprintf("%T", n), "*ast."))
		return true
	})
	want := "Query CTE Query Values ColumnRef SelectCore SelectItem FuncCall ColumnRef ColumnRef WindowSpec ColumnRef Frame NumberLit " +
		"SelectItem Join TableName DerivedTable Query SelectCore SelectItem ColumnRef Exists Query SelectCore SelectItem ColumnRef " +
		"Binary Between ColumnRef NumberLit NumberLit Cast ColumnRef TypeName NumberLit"
	if got := strings.Join(visited, " "); got != want {
		t.Fatalf("visit order:\n got %s\nwant %s", got, want)
	}

	// Returning false prunes: stopping at subqueries leaves only the outer
	// query's own column references.
	var cols []string
	Inspect(q.Body, func(n Node) bool {
		switch n := n.(type) {
		case *Query:
			return false
		case *ColumnRef:
			cols = append(cols, n.Parts[0])
		}
		return true
	})
	if got := strings.Join(cols, ","); got != "a,f,p,b,x" {
		t.Fatalf("pruned walk saw %s, want a,f,p,b,x", got)
	}
	Inspect(nil, func(Node) bool { t.Fatal("called for nil"); return true })
	var nilQuery *Query
	Inspect(nilQuery, func(Node) bool { t.Fatal("called for typed nil"); return true })
}
