// Pos methods, interface markers and compile-time checks for every node type.

package ast

// Pos methods.
func (n *Query) Pos() Pos               { return n.At }
func (n *Explain) Pos() Pos             { return n.At }
func (n *CreateExternalTable) Pos() Pos { return n.At }
func (n *CreateView) Pos() Pos          { return n.At }
func (n *Copy) Pos() Pos                { return n.At }
func (n *DropTable) Pos() Pos           { return n.At }
func (n *DropView) Pos() Pos            { return n.At }
func (n *Set) Pos() Pos                 { return n.At }
func (n *CreateModel) Pos() Pos         { return n.At }
func (n *ModelOption) Pos() Pos         { return n.At }
func (n *DropModel) Pos() Pos           { return n.At }
func (n *Subscript) Pos() Pos           { return n.At }
func (n *ExportModel) Pos() Pos         { return n.At }
func (n *ListLit) Pos() Pos             { return n.At }
func (n *ModelArg) Pos() Pos            { return n.At }
func (n *TableArg) Pos() Pos            { return n.At }
func (n *Show) Pos() Pos                { return n.At }
func (n *Describe) Pos() Pos            { return n.At }
func (n *SetOp) Pos() Pos               { return n.At }
func (n *SelectCore) Pos() Pos          { return n.At }
func (n *Values) Pos() Pos              { return n.At }
func (n *TableName) Pos() Pos           { return n.At }
func (n *DerivedTable) Pos() Pos        { return n.At }
func (n *TableFunction) Pos() Pos       { return n.At }
func (n *Join) Pos() Pos                { return n.At }
func (n *ColumnRef) Pos() Pos           { return n.At }
func (n *NumberLit) Pos() Pos           { return n.At }
func (n *StringLit) Pos() Pos           { return n.At }
func (n *BoolLit) Pos() Pos             { return n.At }
func (n *NullLit) Pos() Pos             { return n.At }
func (n *TypedLit) Pos() Pos            { return n.At }
func (n *IntervalLit) Pos() Pos         { return n.At }
func (n *Param) Pos() Pos               { return n.At }
func (n *Binary) Pos() Pos              { return n.At }
func (n *Unary) Pos() Pos               { return n.At }
func (n *IsNull) Pos() Pos              { return n.At }
func (n *IsBool) Pos() Pos              { return n.At }
func (n *IsDistinctFrom) Pos() Pos      { return n.At }
func (n *Between) Pos() Pos             { return n.At }
func (n *InList) Pos() Pos              { return n.At }
func (n *InSubquery) Pos() Pos          { return n.At }
func (n *Quantified) Pos() Pos          { return n.At }
func (n *Exists) Pos() Pos              { return n.At }
func (n *ScalarSubquery) Pos() Pos      { return n.At }
func (n *Like) Pos() Pos                { return n.At }
func (n *Case) Pos() Pos                { return n.At }
func (n *Cast) Pos() Pos                { return n.At }
func (n *FuncCall) Pos() Pos            { return n.At }
func (n *Extract) Pos() Pos             { return n.At }
func (n *Substring) Pos() Pos           { return n.At }
func (n *Trim) Pos() Pos                { return n.At }
func (n *Position) Pos() Pos            { return n.At }
func (n *GroupingSet) Pos() Pos         { return n.At }
func (n *CTE) Pos() Pos                 { return n.At }
func (n *ColumnDef) Pos() Pos           { return n.At }
func (n *SelectItem) Pos() Pos          { return n.At }
func (n *NamedWindow) Pos() Pos         { return n.At }
func (n *OrderItem) Pos() Pos           { return n.At }
func (n *When) Pos() Pos                { return n.At }
func (n *TypeName) Pos() Pos            { return n.At }
func (n *WindowSpec) Pos() Pos          { return n.At }
func (n *Frame) Pos() Pos               { return n.At }

func (*Query) stmtNode()               {}
func (*Explain) stmtNode()             {}
func (*CreateExternalTable) stmtNode() {}
func (*CreateView) stmtNode()          {}
func (*Copy) stmtNode()                {}
func (*DropTable) stmtNode()           {}
func (*DropView) stmtNode()            {}
func (*Set) stmtNode()                 {}
func (*CreateModel) stmtNode()         {}
func (*DropModel) stmtNode()           {}
func (*ExportModel) stmtNode()         {}
func (*Show) stmtNode()                {}
func (*Describe) stmtNode()            {}

func (*Query) queryBodyNode()      {}
func (*SetOp) queryBodyNode()      {}
func (*SelectCore) queryBodyNode() {}
func (*Values) queryBodyNode()     {}

func (*TableName) tableExprNode()     {}
func (*DerivedTable) tableExprNode()  {}
func (*TableFunction) tableExprNode() {}
func (*Join) tableExprNode()          {}

func (*ColumnRef) exprNode()      {}
func (*NumberLit) exprNode()      {}
func (*StringLit) exprNode()      {}
func (*BoolLit) exprNode()        {}
func (*NullLit) exprNode()        {}
func (*TypedLit) exprNode()       {}
func (*IntervalLit) exprNode()    {}
func (*Param) exprNode()          {}
func (*Binary) exprNode()         {}
func (*Unary) exprNode()          {}
func (*IsNull) exprNode()         {}
func (*IsBool) exprNode()         {}
func (*IsDistinctFrom) exprNode() {}
func (*Between) exprNode()        {}
func (*InList) exprNode()         {}
func (*InSubquery) exprNode()     {}
func (*Quantified) exprNode()     {}
func (*Exists) exprNode()         {}
func (*ScalarSubquery) exprNode() {}
func (*Like) exprNode()           {}
func (*Case) exprNode()           {}
func (*Cast) exprNode()           {}
func (*FuncCall) exprNode()       {}
func (*Extract) exprNode()        {}
func (*Substring) exprNode()      {}
func (*Trim) exprNode()           {}
func (*Position) exprNode()       {}
func (*GroupingSet) exprNode()    {}
func (*Subscript) exprNode()      {}
func (*ListLit) exprNode()        {}
func (*ModelArg) exprNode()       {}
func (*TableArg) exprNode()       {}

// Compile-time interface checks.
var (
	_ Statement = (*Query)(nil)
	_ Statement = (*Explain)(nil)
	_ Statement = (*CreateExternalTable)(nil)
	_ Statement = (*CreateView)(nil)
	_ Statement = (*Copy)(nil)
	_ Statement = (*DropTable)(nil)
	_ Statement = (*DropView)(nil)
	_ Statement = (*Set)(nil)
	_ Statement = (*CreateModel)(nil)
	_ Statement = (*DropModel)(nil)
	_ Statement = (*ExportModel)(nil)
	_ Statement = (*Show)(nil)
	_ Statement = (*Describe)(nil)
	_ QueryBody = (*Query)(nil)
	_ QueryBody = (*SetOp)(nil)
	_ QueryBody = (*SelectCore)(nil)
	_ QueryBody = (*Values)(nil)
	_ TableExpr = (*TableName)(nil)
	_ TableExpr = (*DerivedTable)(nil)
	_ TableExpr = (*TableFunction)(nil)
	_ TableExpr = (*Join)(nil)
	_ Expr      = (*ColumnRef)(nil)
	_ Expr      = (*NumberLit)(nil)
	_ Expr      = (*StringLit)(nil)
	_ Expr      = (*BoolLit)(nil)
	_ Expr      = (*NullLit)(nil)
	_ Expr      = (*TypedLit)(nil)
	_ Expr      = (*IntervalLit)(nil)
	_ Expr      = (*Param)(nil)
	_ Expr      = (*Binary)(nil)
	_ Expr      = (*Unary)(nil)
	_ Expr      = (*IsNull)(nil)
	_ Expr      = (*IsBool)(nil)
	_ Expr      = (*IsDistinctFrom)(nil)
	_ Expr      = (*Between)(nil)
	_ Expr      = (*InList)(nil)
	_ Expr      = (*InSubquery)(nil)
	_ Expr      = (*Quantified)(nil)
	_ Expr      = (*Exists)(nil)
	_ Expr      = (*ScalarSubquery)(nil)
	_ Expr      = (*Like)(nil)
	_ Expr      = (*Case)(nil)
	_ Expr      = (*Cast)(nil)
	_ Expr      = (*FuncCall)(nil)
	_ Expr      = (*Extract)(nil)
	_ Expr      = (*Substring)(nil)
	_ Expr      = (*Trim)(nil)
	_ Expr      = (*Position)(nil)
	_ Expr      = (*GroupingSet)(nil)
	_ Expr      = (*Subscript)(nil)
	_ Expr      = (*ListLit)(nil)
	_ Expr      = (*ModelArg)(nil)
	_ Expr      = (*TableArg)(nil)
	_ Node      = (*ModelOption)(nil)
	_ Node      = (*CTE)(nil)
	_ Node      = (*ColumnDef)(nil)
	_ Node      = (*SelectItem)(nil)
	_ Node      = (*NamedWindow)(nil)
	_ Node      = (*OrderItem)(nil)
	_ Node      = (*When)(nil)
	_ Node      = (*TypeName)(nil)
	_ Node      = (*WindowSpec)(nil)
	_ Node      = (*Frame)(nil)
)
