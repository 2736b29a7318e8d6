package flint

import (
	"fmt"
	"strings"

	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

// Column is an unresolved expression of the DataFrame API; it is bound to a
// DataFrame's columns (with the same rules as SQL) when it is used.
type Column struct {
	e     ast.Expr
	alias string
	err   error
}

// Col refers to a column by name ("x" or "t.x").
func Col(name string) Column {
	return Column{e: &ast.ColumnRef{Parts: strings.Split(name, ".")}}
}

// Expr parses a SQL expression, e.g. Expr("l_extendedprice * (1 - l_discount)").
func Expr(sql string) Column {
	e, err := parser.ParseExpr(sql)
	if err != nil {
		return Column{err: err}
	}
	return Column{e: e}
}

// Lit is a constant: nil, bool, integers, float64, or string. Use Decimal
// and Date for those types.
func Lit(v any) Column {
	switch x := v.(type) {
	case nil:
		return Column{e: &ast.NullLit{}}
	case bool:
		return Column{e: &ast.BoolLit{Value: x}}
	case string:
		return Column{e: &ast.StringLit{Value: x}}
	case int:
		return Column{e: &ast.NumberLit{Text: fmt.Sprint(x)}}
	case int32:
		return Column{e: &ast.NumberLit{Text: fmt.Sprint(x)}}
	case int64:
		return Column{e: &ast.NumberLit{Text: fmt.Sprint(x)}}
	case float64:
		return Column{e: &ast.Cast{Expr: &ast.StringLit{Value: fmt.Sprint(x)}, Type: &ast.TypeName{Name: "DOUBLE"}}}
	}
	return Column{err: fmt.Errorf("flint.Lit: unsupported value %v of type %T", v, v)}
}

// Decimal is an exact decimal constant written as text, e.g. Decimal("0.06").
func Decimal(text string) Column {
	return Column{e: &ast.NumberLit{Text: text, HasPoint: strings.Contains(text, ".")}}
}

// Date is a DATE constant, e.g. Date("1998-12-01").
func Date(yyyymmdd string) Column {
	return Column{e: &ast.TypedLit{Type: &ast.TypeName{Name: "DATE"}, Value: yyyymmdd}}
}

// Alias names the column produced by this expression.
func (c Column) Alias(name string) Column { c.alias = name; return c }

// String renders the expression as SQL.
func (c Column) String() string {
	if c.e == nil {
		return "<invalid>"
	}
	return c.e.String()
}

func (c Column) bin(op ast.BinaryOp, o Column) Column {
	if c.err != nil {
		return c
	}
	if o.err != nil {
		return o
	}
	return Column{e: &ast.Binary{Op: op, Left: c.e, Right: o.e}}
}

// Comparison, arithmetic and logical operators.
func (c Column) Eq(o Column) Column    { return c.bin(ast.OpEq, o) }
func (c Column) NotEq(o Column) Column { return c.bin(ast.OpNotEq, o) }
func (c Column) Lt(o Column) Column    { return c.bin(ast.OpLt, o) }
func (c Column) LtEq(o Column) Column  { return c.bin(ast.OpLtEq, o) }
func (c Column) Gt(o Column) Column    { return c.bin(ast.OpGt, o) }
func (c Column) GtEq(o Column) Column  { return c.bin(ast.OpGtEq, o) }
func (c Column) Add(o Column) Column   { return c.bin(ast.OpAdd, o) }
func (c Column) Sub(o Column) Column   { return c.bin(ast.OpSub, o) }
func (c Column) Mul(o Column) Column   { return c.bin(ast.OpMul, o) }
func (c Column) Div(o Column) Column   { return c.bin(ast.OpDiv, o) }
func (c Column) And(o Column) Column   { return c.bin(ast.OpAnd, o) }
func (c Column) Or(o Column) Column    { return c.bin(ast.OpOr, o) }

// Not negates a boolean expression.
func (c Column) Not() Column {
	if c.err != nil {
		return c
	}
	return Column{e: &ast.Unary{Op: ast.OpNot, Expr: c.e}}
}

// IsNull and IsNotNull test for NULL.
func (c Column) IsNull() Column    { return Column{e: &ast.IsNull{Expr: c.e}, err: c.err} }
func (c Column) IsNotNull() Column { return Column{e: &ast.IsNull{Expr: c.e, Not: true}, err: c.err} }

// Like matches a SQL LIKE pattern.
func (c Column) Like(pattern string) Column {
	return Column{e: &ast.Like{Expr: c.e, Pattern: &ast.StringLit{Value: pattern}}, err: c.err}
}

// In tests membership in a list of constants.
func (c Column) In(values ...Column) Column {
	list := make([]ast.Expr, len(values))
	for i, v := range values {
		if v.err != nil {
			return v
		}
		list[i] = v.e
	}
	return Column{e: &ast.InList{Expr: c.e, List: list}, err: c.err}
}

// Between is low <= c AND c <= high.
func (c Column) Between(low, high Column) Column {
	return Column{e: &ast.Between{Expr: c.e, Low: low.e, High: high.e}, err: firstErr(c.err, low.err, high.err)}
}

// Cast converts to a SQL type such as "DECIMAL(15,2)", "DATE" or "BIGINT".
func (c Column) Cast(sqlType string) Column {
	e, err := parser.ParseExpr("CAST(NULL AS " + sqlType + ")")
	if err != nil {
		return Column{err: fmt.Errorf("flint: bad type %q: %w", sqlType, err)}
	}
	cast := *(e.(*ast.Cast))
	cast.Expr = c.e
	return Column{e: &cast, err: c.err}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Call applies a scalar or aggregate function by name, e.g.
// Call("substring", Col("c_phone"), Lit(1), Lit(2)).
func Call(name string, args ...Column) Column {
	f := &ast.FuncCall{Name: []string{name}}
	for _, a := range args {
		if a.err != nil {
			return a
		}
		f.Args = append(f.Args, a.e)
	}
	return Column{e: f}
}

// Aggregate functions.
func Sum(c Column) Column   { return Call("sum", c) }
func Avg(c Column) Column   { return Call("avg", c) }
func Min(c Column) Column   { return Call("min", c) }
func Max(c Column) Column   { return Call("max", c) }
func Count(c Column) Column { return Call("count", c) }

// CountAll is count(*).
func CountAll() Column { return Column{e: &ast.FuncCall{Name: []string{"count"}, Star: true}} }

// CountDistinct is count(DISTINCT c).
func CountDistinct(c Column) Column {
	col := Call("count", c)
	if col.err == nil {
		col.e.(*ast.FuncCall).Distinct = true
	}
	return col
}

// SortOrder is one ORDER BY key.
type SortOrder struct {
	c          Column
	desc       bool
	nullsFirst *bool
}

// Asc and Desc make sort keys (NULLs last, as in DuckDB).
func (c Column) Asc() SortOrder  { return SortOrder{c: c} }
func (c Column) Desc() SortOrder { return SortOrder{c: c, desc: true} }

// NullsFirst puts NULLs first.
func (o SortOrder) NullsFirst() SortOrder { t := true; o.nullsFirst = &t; return o }

// NullsLast puts NULLs last.
func (o SortOrder) NullsLast() SortOrder { f := false; o.nullsFirst = &f; return o }
