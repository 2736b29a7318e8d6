package ast

// Inspect traverses the tree rooted at n in depth-first order, calling f for
// each node (statements, query bodies, table expressions, expressions and
// the helper nodes CTE, SelectItem, OrderItem, When, WindowSpec, Frame,
// NamedWindow, ColumnDef, TypeName). If f returns false, the children of
// that node are skipped. Subqueries are entered; callers that must stop at
// query boundaries (e.g. to find the aggregates of one SELECT) return false
// for *Query.
func Inspect(n Node, f func(Node) bool) {
	if isNilNode(n) || !f(n) {
		return
	}
	switch n := n.(type) {
	// Statements.
	case *Query:
		for _, c := range n.With {
			Inspect(c, f)
		}
		Inspect(n.Body, f)
		for _, o := range n.OrderBy {
			Inspect(o, f)
		}
		inspectExpr(n.Limit, f)
		inspectExpr(n.Offset, f)
	case *CTE:
		Inspect(n.Query, f)
	case *Explain:
		Inspect(n.Stmt, f)
	case *CreateExternalTable:
		for _, c := range n.Columns {
			Inspect(c, f)
		}
	case *ColumnDef:
		Inspect(n.Type, f)
	case *CreateView:
		Inspect(n.Query, f)
	case *Copy:
		Inspect(n.Query, f)
	case *CreateModel:
		for _, o := range n.Options {
			Inspect(o, f)
		}

	// Query bodies.
	case *SetOp:
		Inspect(n.Left, f)
		Inspect(n.Right, f)
	case *SelectCore:
		for _, it := range n.Items {
			Inspect(it, f)
		}
		for _, t := range n.From {
			Inspect(t, f)
		}
		inspectExpr(n.Where, f)
		for _, g := range n.GroupBy {
			inspectExpr(g, f)
		}
		inspectExpr(n.Having, f)
		for _, w := range n.Windows {
			Inspect(w, f)
		}
		inspectExpr(n.Qualify, f)
	case *SelectItem:
		inspectExpr(n.Expr, f)
	case *Values:
		for _, row := range n.Rows {
			for _, e := range row {
				inspectExpr(e, f)
			}
		}
	case *NamedWindow:
		Inspect(n.Spec, f)
	case *OrderItem:
		inspectExpr(n.Expr, f)

	// Table expressions.
	case *DerivedTable:
		Inspect(n.Subquery, f)
	case *TableFunction:
		for _, a := range n.Args {
			inspectExpr(a, f)
		}
	case *Join:
		Inspect(n.Left, f)
		Inspect(n.Right, f)
		inspectExpr(n.On, f)

	// Expressions.
	case *TypedLit:
		Inspect(n.Type, f)
	case *Binary:
		inspectExpr(n.Left, f)
		inspectExpr(n.Right, f)
	case *Unary:
		inspectExpr(n.Expr, f)
	case *IsNull:
		inspectExpr(n.Expr, f)
	case *IsBool:
		inspectExpr(n.Expr, f)
	case *IsDistinctFrom:
		inspectExpr(n.Left, f)
		inspectExpr(n.Right, f)
	case *Between:
		inspectExpr(n.Expr, f)
		inspectExpr(n.Low, f)
		inspectExpr(n.High, f)
	case *InList:
		inspectExpr(n.Expr, f)
		for _, e := range n.List {
			inspectExpr(e, f)
		}
	case *InSubquery:
		inspectExpr(n.Expr, f)
		Inspect(n.Query, f)
	case *Quantified:
		inspectExpr(n.Expr, f)
		Inspect(n.Query, f)
	case *Exists:
		Inspect(n.Query, f)
	case *ScalarSubquery:
		Inspect(n.Query, f)
	case *Like:
		inspectExpr(n.Expr, f)
		inspectExpr(n.Pattern, f)
		inspectExpr(n.Escape, f)
	case *Case:
		inspectExpr(n.Operand, f)
		for _, w := range n.Whens {
			Inspect(w, f)
		}
		inspectExpr(n.Else, f)
	case *When:
		inspectExpr(n.Cond, f)
		inspectExpr(n.Result, f)
	case *Cast:
		inspectExpr(n.Expr, f)
		Inspect(n.Type, f)
	case *GroupingSet:
		for _, e := range n.Items {
			inspectExpr(e, f)
		}
	case *Subscript:
		inspectExpr(n.Expr, f)
		inspectExpr(n.Index, f)
	case *ListLit:
		for _, e := range n.Items {
			inspectExpr(e, f)
		}
	case *FuncCall:
		for _, a := range n.Args {
			inspectExpr(a, f)
		}
		for _, o := range n.OrderBy {
			Inspect(o, f)
		}
		inspectExpr(n.Filter, f)
		if n.Over != nil {
			Inspect(n.Over, f)
		}
	case *WindowSpec:
		for _, e := range n.PartitionBy {
			inspectExpr(e, f)
		}
		for _, o := range n.OrderBy {
			Inspect(o, f)
		}
		if n.Frame != nil {
			Inspect(n.Frame, f)
		}
	case *Frame:
		inspectExpr(n.Start.Offset, f)
		inspectExpr(n.End.Offset, f)
	case *Extract:
		inspectExpr(n.From, f)
	case *Substring:
		inspectExpr(n.Expr, f)
		inspectExpr(n.From, f)
		inspectExpr(n.For, f)
	case *Trim:
		inspectExpr(n.Chars, f)
		inspectExpr(n.Expr, f)
	case *Position:
		inspectExpr(n.Sub, f)
		inspectExpr(n.Str, f)
	}
	// Leaves: ColumnRef, literals, Param, TableName, TypeName, DropTable,
	// DropView, Set, Show, Describe.
}

func inspectExpr(e Expr, f func(Node) bool) {
	if e != nil {
		Inspect(e, f)
	}
}

// isNilNode reports whether n is nil or a typed nil pointer of the node
// kinds that appear as optional fields.
func isNilNode(n Node) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *Query:
		return n == nil
	case *TypeName:
		return n == nil
	case *WindowSpec:
		return n == nil
	case *Frame:
		return n == nil
	}
	return false
}
