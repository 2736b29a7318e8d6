package ast

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Operator precedence levels, lowest first, as in PostgreSQL. The parser
// uses the same numbers (via Precedence) so printing and parsing agree.
const (
	PrecOr      = 1  // OR
	PrecAnd     = 2  // AND
	PrecNot     = 3  // prefix NOT
	PrecIs      = 4  // IS [NOT] NULL/TRUE/FALSE/DISTINCT FROM, ISNULL, NOTNULL
	PrecCmp     = 5  // = <> != < <= > >=
	PrecLike    = 6  // [NOT] BETWEEN, IN, LIKE, ILIKE
	PrecConcat  = 7  // || (PostgreSQL's "any other operator")
	PrecAdd     = 8  // + -
	PrecMul     = 9  // * / %
	PrecUnary   = 10 // prefix - +
	PrecCast    = 11 // ::
	PrecPrimary = 12 // literals, column refs, calls, parenthesized
)

// Precedence returns the binding strength of op (one of the Prec* levels).
func (op BinaryOp) Precedence() int {
	switch op {
	case OpOr:
		return PrecOr
	case OpAnd:
		return PrecAnd
	case OpEq, OpNotEq, OpLt, OpLtEq, OpGt, OpGtEq:
		return PrecCmp
	case OpConcat:
		return PrecConcat
	case OpAdd, OpSub:
		return PrecAdd
	default:
		return PrecMul
	}
}

var binaryOpText = [...]string{
	OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%", OpConcat: "||",
	OpEq: "=", OpNotEq: "<>", OpLt: "<", OpLtEq: "<=", OpGt: ">", OpGtEq: ">=",
	OpAnd: "AND", OpOr: "OR",
}

// String returns the operator's SQL spelling.
func (op BinaryOp) String() string {
	if int(op) < len(binaryOpText) {
		return binaryOpText[op]
	}
	return "BinaryOp(" + strconv.Itoa(int(op)) + ")"
}

// String returns the operator's SQL spelling.
func (op UnaryOp) String() string {
	switch op {
	case OpNot:
		return "NOT"
	case OpNeg:
		return "-"
	case OpPlus:
		return "+"
	}
	return "UnaryOp(" + strconv.Itoa(int(op)) + ")"
}

// String returns UNION, INTERSECT or EXCEPT.
func (k SetOpKind) String() string {
	switch k {
	case Union:
		return "UNION"
	case Intersect:
		return "INTERSECT"
	case Except:
		return "EXCEPT"
	}
	return "SetOpKind(" + strconv.Itoa(int(k)) + ")"
}

// String returns the join keyword(s): INNER, LEFT, RIGHT, FULL, CROSS.
func (t JoinType) String() string {
	switch t {
	case InnerJoin:
		return "INNER"
	case LeftJoin:
		return "LEFT"
	case RightJoin:
		return "RIGHT"
	case FullJoin:
		return "FULL"
	case CrossJoin:
		return "CROSS"
	}
	return "JoinType(" + strconv.Itoa(int(t)) + ")"
}

// String returns BOTH, LEADING or TRAILING.
func (k TrimKind) String() string {
	switch k {
	case TrimLeading:
		return "LEADING"
	case TrimTrailing:
		return "TRAILING"
	}
	return "BOTH"
}

// String returns ROWS, RANGE or GROUPS.
func (u FrameUnit) String() string {
	switch u {
	case FrameRange:
		return "RANGE"
	case FrameGroups:
		return "GROUPS"
	}
	return "ROWS"
}

// String renders the bound, e.g. "3 PRECEDING" or "CURRENT ROW".
func (fb FrameBound) String() string {
	var b strings.Builder
	writeFrameBound(&b, fb)
	return b.String()
}

// ExprPrecedence returns the binding strength of e as printed (Prec*).
func ExprPrecedence(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		return e.Op.Precedence()
	case *Unary:
		if e.Op == OpNot {
			return PrecNot
		}
		return PrecUnary
	case *IsNull, *IsBool, *IsDistinctFrom:
		return PrecIs
	case *Between, *InList, *InSubquery, *Like:
		return PrecLike
	case *Quantified:
		return PrecCmp
	case *Exists:
		if e.Not {
			return PrecNot
		}
	case *Cast:
		if e.ColonOp {
			return PrecCast
		}
	}
	return PrecPrimary
}

// ---------------------------------------------------------------------------
// Expressions

func (n *ColumnRef) String() string      { return exprString(n) }
func (n *NumberLit) String() string      { return n.Text }
func (n *StringLit) String() string      { return QuoteString(n.Value) }
func (n *BoolLit) String() string        { return exprString(n) }
func (n *NullLit) String() string        { return "NULL" }
func (n *TypedLit) String() string       { return exprString(n) }
func (n *IntervalLit) String() string    { return exprString(n) }
func (n *Param) String() string          { return "$" + strconv.Itoa(n.Index) }
func (n *Binary) String() string         { return exprString(n) }
func (n *Unary) String() string          { return exprString(n) }
func (n *IsNull) String() string         { return exprString(n) }
func (n *IsBool) String() string         { return exprString(n) }
func (n *IsDistinctFrom) String() string { return exprString(n) }
func (n *Between) String() string        { return exprString(n) }
func (n *InList) String() string         { return exprString(n) }
func (n *InSubquery) String() string     { return exprString(n) }
func (n *Quantified) String() string     { return exprString(n) }
func (n *Exists) String() string         { return exprString(n) }
func (n *ScalarSubquery) String() string { return exprString(n) }
func (n *Like) String() string           { return exprString(n) }
func (n *Case) String() string           { return exprString(n) }
func (n *Cast) String() string           { return exprString(n) }
func (n *FuncCall) String() string       { return exprString(n) }
func (n *Extract) String() string        { return exprString(n) }
func (n *Substring) String() string      { return exprString(n) }
func (n *Trim) String() string           { return exprString(n) }
func (n *Position) String() string       { return exprString(n) }
func (n *GroupingSet) String() string    { return exprString(n) }
func (n *Subscript) String() string      { return exprString(n) }
func (n *ListLit) String() string        { return exprString(n) }
func (n *ModelArg) String() string       { return exprString(n) }
func (n *TableArg) String() string       { return exprString(n) }

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, 0)
	return b.String()
}

// writeExpr prints e, parenthesized if it binds looser than minPrec.
func writeExpr(b *strings.Builder, e Expr, minPrec int) {
	if e == nil {
		b.WriteString("<nil>")
		return
	}
	if ExprPrecedence(e) < minPrec {
		b.WriteByte('(')
		writeExpr(b, e, 0)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *ColumnRef:
		writeName(b, e.Parts)
	case *NumberLit:
		b.WriteString(e.Text)
	case *StringLit:
		b.WriteString(QuoteString(e.Value))
	case *BoolLit:
		if e.Value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case *NullLit:
		b.WriteString("NULL")
	case *TypedLit:
		writeType(b, e.Type)
		b.WriteByte(' ')
		b.WriteString(QuoteString(e.Value))
	case *IntervalLit:
		b.WriteString("INTERVAL ")
		b.WriteString(QuoteString(e.Value))
		if e.Unit != "" {
			b.WriteByte(' ')
			b.WriteString(e.Unit)
		}
		if e.ToUnit != "" {
			b.WriteString(" TO ")
			b.WriteString(e.ToUnit)
		}
	case *Param:
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(e.Index))
	case *Binary:
		p := e.Op.Precedence()
		writeExpr(b, e.Left, p)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeExpr(b, e.Right, p+1)
	case *Unary:
		switch e.Op {
		case OpNot:
			b.WriteString("NOT ")
			writeExpr(b, e.Expr, PrecNot)
		default:
			b.WriteString(e.Op.String())
			// Avoid "--x", which would start a comment.
			var sub strings.Builder
			writeExpr(&sub, e.Expr, PrecUnary)
			s := sub.String()
			if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
				b.WriteByte('(')
				b.WriteString(s)
				b.WriteByte(')')
			} else {
				b.WriteString(s)
			}
		}
	case *IsNull:
		writeExpr(b, e.Expr, PrecIs)
		if e.Not {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
	case *IsBool:
		writeExpr(b, e.Expr, PrecIs)
		b.WriteString(" IS ")
		if e.Not {
			b.WriteString("NOT ")
		}
		if e.Value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case *IsDistinctFrom:
		writeExpr(b, e.Left, PrecIs)
		if e.Not {
			b.WriteString(" IS NOT DISTINCT FROM ")
		} else {
			b.WriteString(" IS DISTINCT FROM ")
		}
		writeExpr(b, e.Right, PrecIs+1)
	case *Between:
		writeExpr(b, e.Expr, PrecLike)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		writeExpr(b, e.Low, PrecLike+1)
		b.WriteString(" AND ")
		writeExpr(b, e.High, PrecLike+1)
	case *InList:
		writeExpr(b, e.Expr, PrecLike)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		writeExprList(b, e.List)
		b.WriteByte(')')
	case *InSubquery:
		writeExpr(b, e.Expr, PrecLike)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		writeQuery(b, e.Query)
		b.WriteByte(')')
	case *Quantified:
		writeExpr(b, e.Expr, PrecCmp)
		b.WriteString(" " + e.Op.String())
		if e.All {
			b.WriteString(" ALL (")
		} else {
			b.WriteString(" ANY (")
		}
		writeQuery(b, e.Query)
		b.WriteByte(')')
	case *Exists:
		if e.Not {
			b.WriteString("NOT ")
		}
		b.WriteString("EXISTS (")
		writeQuery(b, e.Query)
		b.WriteByte(')')
	case *ScalarSubquery:
		b.WriteByte('(')
		writeQuery(b, e.Query)
		b.WriteByte(')')
	case *Like:
		writeExpr(b, e.Expr, PrecLike)
		if e.Not {
			b.WriteString(" NOT")
		}
		if e.ILike {
			b.WriteString(" ILIKE ")
		} else {
			b.WriteString(" LIKE ")
		}
		writeExpr(b, e.Pattern, PrecLike+1)
		if e.Escape != nil {
			b.WriteString(" ESCAPE ")
			writeExpr(b, e.Escape, PrecLike+1)
		}
	case *Case:
		b.WriteString("CASE")
		if e.Operand != nil {
			b.WriteByte(' ')
			writeExpr(b, e.Operand, 0)
		}
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			writeExpr(b, w.Cond, 0)
			b.WriteString(" THEN ")
			writeExpr(b, w.Result, 0)
		}
		if e.Else != nil {
			b.WriteString(" ELSE ")
			writeExpr(b, e.Else, 0)
		}
		b.WriteString(" END")
	case *Cast:
		if e.ColonOp && !e.Try {
			writeExpr(b, e.Expr, PrecCast)
			b.WriteString("::")
			writeType(b, e.Type)
			return
		}
		if e.Try {
			b.WriteString("TRY_CAST(")
		} else {
			b.WriteString("CAST(")
		}
		writeExpr(b, e.Expr, 0)
		b.WriteString(" AS ")
		writeType(b, e.Type)
		b.WriteByte(')')
	case *FuncCall:
		writeFuncCall(b, e)
	case *Subscript:
		writeExpr(b, e.Expr, PrecPrimary)
		b.WriteByte('[')
		writeExpr(b, e.Index, 0)
		b.WriteByte(']')
	case *ListLit:
		b.WriteByte('[')
		for i, it := range e.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, it, 0)
		}
		b.WriteByte(']')
	case *ModelArg:
		b.WriteString("MODEL ")
		writeName(b, e.Name)
	case *TableArg:
		b.WriteString("TABLE ")
		writeName(b, e.Name)
	case *GroupingSet:
		switch e.Kind {
		case GroupingRollup:
			b.WriteString("ROLLUP ")
		case GroupingCube:
			b.WriteString("CUBE ")
		case GroupingSets:
			b.WriteString("GROUPING SETS ")
		}
		b.WriteByte('(')
		writeExprList(b, e.Items)
		b.WriteByte(')')
	case *Extract:
		b.WriteString("EXTRACT(")
		if isUpperWord(e.Field) {
			b.WriteString(e.Field)
		} else {
			b.WriteString(QuoteString(e.Field))
		}
		b.WriteString(" FROM ")
		writeExpr(b, e.From, 0)
		b.WriteByte(')')
	case *Substring:
		b.WriteString("SUBSTRING(")
		writeExpr(b, e.Expr, 0)
		if e.From != nil {
			b.WriteString(" FROM ")
			writeExpr(b, e.From, 0)
		}
		if e.For != nil {
			b.WriteString(" FOR ")
			writeExpr(b, e.For, 0)
		}
		b.WriteByte(')')
	case *Trim:
		b.WriteString("TRIM(")
		b.WriteString(e.Kind.String())
		if e.Chars != nil {
			b.WriteByte(' ')
			writeExpr(b, e.Chars, 0)
		}
		b.WriteString(" FROM ")
		writeExpr(b, e.Expr, 0)
		b.WriteByte(')')
	case *Position:
		b.WriteString("POSITION(")
		// Sub is parsed above IN's level so that "a IN b" is not taken as
		// an IN list.
		writeExpr(b, e.Sub, PrecLike+1)
		b.WriteString(" IN ")
		writeExpr(b, e.Str, 0)
		b.WriteByte(')')
	default:
		b.WriteString("<unknown expr>")
	}
}

func writeExprList(b *strings.Builder, list []Expr) {
	for i, x := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, x, 0)
	}
}

func writeFuncName(b *strings.Builder, parts []string, plainCall bool) {
	// Reserved words that the parser accepts as function names when
	// followed by "(" print bare (left(s, 2)); "substring" only for the
	// plain comma form, which is all its keyword syntax accepts.
	if len(parts) == 1 && FuncNameKeyword(parts[0]) && (plainCall || parts[0] != "substring") {
		b.WriteString(parts[0])
		return
	}
	writeName(b, parts)
}

// FuncNameKeyword reports whether a reserved keyword is also accepted as a
// function name when directly followed by "(" (left(s, n), right(s, n),
// substring(s, a, b)).
func FuncNameKeyword(lowerName string) bool {
	return lowerName == "left" || lowerName == "right" || lowerName == "substring"
}

func writeFuncCall(b *strings.Builder, f *FuncCall) {
	if f.NoParens {
		b.WriteString(strings.ToUpper(strings.Join(f.Name, ".")))
		return
	}
	plain := len(f.Args) > 0 && !f.Distinct && !f.Star && f.OrderBy == nil && f.Filter == nil && f.Over == nil
	writeFuncName(b, f.Name, plain)
	b.WriteByte('(')
	if f.Distinct {
		b.WriteString("DISTINCT ")
	}
	if f.Star {
		b.WriteByte('*')
	} else {
		writeExprList(b, f.Args)
	}
	if len(f.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		writeOrderBy(b, f.OrderBy)
	}
	b.WriteByte(')')
	if f.Filter != nil {
		b.WriteString(" FILTER (WHERE ")
		writeExpr(b, f.Filter, 0)
		b.WriteByte(')')
	}
	if f.Over != nil {
		b.WriteString(" OVER ")
		if f.Over.Name != "" && len(f.Over.PartitionBy) == 0 && len(f.Over.OrderBy) == 0 && f.Over.Frame == nil {
			b.WriteString(QuoteIdent(f.Over.Name))
		} else {
			b.WriteByte('(')
			writeWindowSpec(b, f.Over)
			b.WriteByte(')')
		}
	}
}

func writeWindowSpec(b *strings.Builder, w *WindowSpec) {
	sep := ""
	if w.Name != "" {
		b.WriteString(QuoteIdent(w.Name))
		sep = " "
	}
	if len(w.PartitionBy) > 0 {
		b.WriteString(sep)
		b.WriteString("PARTITION BY ")
		writeExprList(b, w.PartitionBy)
		sep = " "
	}
	if len(w.OrderBy) > 0 {
		b.WriteString(sep)
		b.WriteString("ORDER BY ")
		writeOrderBy(b, w.OrderBy)
		sep = " "
	}
	if w.Frame != nil {
		b.WriteString(sep)
		b.WriteString(w.Frame.Unit.String())
		b.WriteString(" BETWEEN ")
		writeFrameBound(b, w.Frame.Start)
		b.WriteString(" AND ")
		writeFrameBound(b, w.Frame.End)
	}
}

func writeFrameBound(b *strings.Builder, fb FrameBound) {
	switch fb.Kind {
	case UnboundedPreceding:
		b.WriteString("UNBOUNDED PRECEDING")
	case UnboundedFollowing:
		b.WriteString("UNBOUNDED FOLLOWING")
	case CurrentRow:
		b.WriteString("CURRENT ROW")
	case Preceding:
		writeExpr(b, fb.Offset, PrecAdd)
		b.WriteString(" PRECEDING")
	case Following:
		writeExpr(b, fb.Offset, PrecAdd)
		b.WriteString(" FOLLOWING")
	}
}

func writeOrderBy(b *strings.Builder, items []*OrderItem) {
	for i, o := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeOrderItem(b, o)
	}
}

func writeOrderItem(b *strings.Builder, o *OrderItem) {
	writeExpr(b, o.Expr, 0)
	if o.Desc {
		b.WriteString(" DESC")
	}
	if o.NullsFirst != nil {
		if *o.NullsFirst {
			b.WriteString(" NULLS FIRST")
		} else {
			b.WriteString(" NULLS LAST")
		}
	}
}

func writeType(b *strings.Builder, t *TypeName) {
	if t == nil {
		b.WriteString("<nil>")
		return
	}
	if isUpperWord(t.Name) {
		b.WriteString(t.Name)
	} else {
		b.WriteString(`"` + strings.ReplaceAll(t.Name, `"`, `""`) + `"`)
	}
	if len(t.Params) > 0 {
		b.WriteByte('(')
		for i, p := range t.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(p))
		}
		b.WriteByte(')')
	}
}

// ---------------------------------------------------------------------------
// Other nodes

func (n *TypeName) String() string {
	var b strings.Builder
	writeType(&b, n)
	return b.String()
}

func (n *OrderItem) String() string {
	var b strings.Builder
	writeOrderItem(&b, n)
	return b.String()
}

func (n *When) String() string {
	var b strings.Builder
	b.WriteString("WHEN ")
	writeExpr(&b, n.Cond, 0)
	b.WriteString(" THEN ")
	writeExpr(&b, n.Result, 0)
	return b.String()
}

func (n *WindowSpec) String() string {
	var b strings.Builder
	writeWindowSpec(&b, n)
	return b.String()
}

func (n *Frame) String() string {
	var b strings.Builder
	writeWindowSpec(&b, &WindowSpec{Frame: n})
	return b.String()
}

func (n *NamedWindow) String() string {
	var b strings.Builder
	b.WriteString(QuoteIdent(n.Name))
	b.WriteString(" AS (")
	writeWindowSpec(&b, n.Spec)
	b.WriteByte(')')
	return b.String()
}

func (n *SelectItem) String() string {
	var b strings.Builder
	writeSelectItem(&b, n)
	return b.String()
}

func writeSelectItem(b *strings.Builder, n *SelectItem) {
	if n.Star {
		if len(n.StarTable) > 0 {
			writeName(b, n.StarTable)
			b.WriteByte('.')
		}
		b.WriteByte('*')
		return
	}
	writeExpr(b, n.Expr, 0)
	if n.Alias != "" {
		b.WriteString(" AS ")
		b.WriteString(QuoteIdent(n.Alias))
	}
}

func (n *CTE) String() string {
	var b strings.Builder
	writeCTE(&b, n)
	return b.String()
}

func writeCTE(b *strings.Builder, c *CTE) {
	b.WriteString(QuoteIdent(c.Name))
	writeIdentList(b, c.Columns)
	b.WriteString(" AS (")
	writeQuery(b, c.Query)
	b.WriteByte(')')
}

// writeIdentList prints " (a, b)" or nothing when ids is empty.
func writeIdentList(b *strings.Builder, ids []string) {
	if len(ids) == 0 {
		return
	}
	b.WriteString(" (")
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(id))
	}
	b.WriteByte(')')
}

func (n *ColumnDef) String() string {
	var b strings.Builder
	b.WriteString(QuoteIdent(n.Name))
	b.WriteByte(' ')
	writeType(&b, n.Type)
	if n.NotNull {
		b.WriteString(" NOT NULL")
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Queries

func (n *Query) String() string {
	var b strings.Builder
	writeQuery(&b, n)
	return b.String()
}

func (n *SetOp) String() string {
	var b strings.Builder
	writeBody(&b, n, 0)
	return b.String()
}

func (n *SelectCore) String() string {
	var b strings.Builder
	writeBody(&b, n, 0)
	return b.String()
}

func (n *Values) String() string {
	var b strings.Builder
	writeBody(&b, n, 0)
	return b.String()
}

func writeQuery(b *strings.Builder, q *Query) {
	if q == nil {
		b.WriteString("<nil>")
		return
	}
	if len(q.With) > 0 {
		b.WriteString("WITH ")
		if q.Recursive {
			b.WriteString("RECURSIVE ")
		}
		for i, c := range q.With {
			if i > 0 {
				b.WriteString(", ")
			}
			writeCTE(b, c)
		}
		b.WriteByte(' ')
	}
	writeBody(b, q.Body, 0)
	if len(q.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		writeOrderBy(b, q.OrderBy)
	}
	if q.Limit != nil {
		b.WriteString(" LIMIT ")
		writeExpr(b, q.Limit, 0)
	}
	if q.Offset != nil {
		b.WriteString(" OFFSET ")
		writeExpr(b, q.Offset, 0)
	}
}

func setOpPrec(k SetOpKind) int {
	if k == Intersect {
		return 2
	}
	return 1
}

// writeBody prints a query body; minPrec parenthesizes looser set operations.
func writeBody(b *strings.Builder, body QueryBody, minPrec int) {
	switch n := body.(type) {
	case *Query:
		b.WriteByte('(')
		writeQuery(b, n)
		b.WriteByte(')')
	case *SetOp:
		p := setOpPrec(n.Op)
		if p < minPrec {
			b.WriteByte('(')
			writeBody(b, n, 0)
			b.WriteByte(')')
			return
		}
		writeBody(b, n.Left, p)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		if n.All {
			b.WriteString(" ALL")
		}
		b.WriteByte(' ')
		writeBody(b, n.Right, p+1)
	case *Values:
		b.WriteString("VALUES ")
		for i, row := range n.Rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			writeExprList(b, row)
			b.WriteByte(')')
		}
	case *SelectCore:
		writeSelectCore(b, n)
	case nil:
		b.WriteString("<nil>")
	default:
		b.WriteString("<unknown query body>")
	}
}

func writeSelectCore(b *strings.Builder, s *SelectCore) {
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeSelectItem(b, it)
	}
	if len(s.From) > 0 {
		b.WriteString(" FROM ")
		for i, t := range s.From {
			if i > 0 {
				b.WriteString(", ")
			}
			writeTable(b, t)
		}
	}
	if s.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(b, s.Where, 0)
	}
	if s.GroupByAll {
		b.WriteString(" GROUP BY ALL")
	} else if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		writeExprList(b, s.GroupBy)
	}
	if s.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(b, s.Having, 0)
	}
	if len(s.Windows) > 0 {
		b.WriteString(" WINDOW ")
		for i, w := range s.Windows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(w.String())
		}
	}
	if s.Qualify != nil {
		b.WriteString(" QUALIFY ")
		writeExpr(b, s.Qualify, 0)
	}
}

// ---------------------------------------------------------------------------
// Table expressions

func (n *TableName) String() string     { return tableString(n) }
func (n *DerivedTable) String() string  { return tableString(n) }
func (n *TableFunction) String() string { return tableString(n) }
func (n *Join) String() string          { return tableString(n) }

func tableString(t TableExpr) string {
	var b strings.Builder
	writeTable(&b, t)
	return b.String()
}

func writeAlias(b *strings.Builder, alias string, cols []string) {
	if alias == "" {
		return
	}
	b.WriteString(" AS ")
	b.WriteString(QuoteIdent(alias))
	writeIdentList(b, cols)
}

func writeTable(b *strings.Builder, t TableExpr) {
	switch n := t.(type) {
	case *TableName:
		writeName(b, n.Name)
		writeAlias(b, n.Alias, n.ColumnAliases)
	case *DerivedTable:
		b.WriteByte('(')
		writeQuery(b, n.Subquery)
		b.WriteByte(')')
		writeAlias(b, n.Alias, n.ColumnAliases)
	case *TableFunction:
		writeName(b, n.Name)
		b.WriteByte('(')
		writeExprList(b, n.Args)
		b.WriteByte(')')
		writeAlias(b, n.Alias, n.ColumnAliases)
	case *Join:
		writeTable(b, n.Left)
		b.WriteByte(' ')
		if n.Natural {
			b.WriteString("NATURAL ")
		}
		switch n.Type {
		case InnerJoin:
			b.WriteString("JOIN ")
		case CrossJoin:
			b.WriteString("CROSS JOIN ")
		default:
			b.WriteString(n.Type.String())
			b.WriteString(" JOIN ")
		}
		if _, ok := n.Right.(*Join); ok {
			b.WriteByte('(')
			writeTable(b, n.Right)
			b.WriteByte(')')
		} else {
			writeTable(b, n.Right)
		}
		if n.On != nil {
			b.WriteString(" ON ")
			writeExpr(b, n.On, 0)
		}
		if n.Using != nil {
			b.WriteString(" USING")
			writeIdentList(b, n.Using)
		}
	case nil:
		b.WriteString("<nil>")
	default:
		b.WriteString("<unknown table>")
	}
}

// ---------------------------------------------------------------------------
// Statements

func (n *Explain) String() string {
	var b strings.Builder
	b.WriteString("EXPLAIN ")
	if n.Analyze {
		b.WriteString("ANALYZE ")
	}
	if n.Verbose {
		b.WriteString("VERBOSE ")
	}
	if n.Stmt != nil {
		b.WriteString(n.Stmt.String())
	}
	return b.String()
}

func writeOptions(b *strings.Builder, opts map[string]string) {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteString(k))
		b.WriteByte(' ')
		b.WriteString(QuoteString(opts[k]))
	}
}

func (n *CreateExternalTable) String() string {
	var b strings.Builder
	b.WriteString("CREATE EXTERNAL TABLE ")
	if n.IfNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	writeName(&b, n.Name)
	if len(n.Columns) > 0 {
		b.WriteString(" (")
		for i, c := range n.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.String())
		}
		b.WriteByte(')')
	}
	if n.Format != "" {
		b.WriteString(" STORED AS ")
		if isUpperWord(n.Format) {
			b.WriteString(n.Format)
		} else {
			b.WriteString(`"` + strings.ReplaceAll(n.Format, `"`, `""`) + `"`)
		}
	}
	if len(n.PartitionedBy) > 0 {
		b.WriteString(" PARTITIONED BY")
		writeIdentList(&b, n.PartitionedBy)
	}
	b.WriteString(" LOCATION ")
	b.WriteString(QuoteString(n.Location))
	if len(n.Options) > 0 {
		b.WriteString(" OPTIONS (")
		writeOptions(&b, n.Options)
		b.WriteByte(')')
	}
	return b.String()
}

func (n *CreateView) String() string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if n.OrReplace {
		b.WriteString("OR REPLACE ")
	}
	b.WriteString("VIEW ")
	writeName(&b, n.Name)
	writeIdentList(&b, n.Columns)
	b.WriteString(" AS ")
	writeQuery(&b, n.Query)
	return b.String()
}

func (n *Copy) String() string {
	var b strings.Builder
	b.WriteString("COPY ")
	if n.Table != nil {
		writeName(&b, n.Table)
	} else {
		b.WriteByte('(')
		writeQuery(&b, n.Query)
		b.WriteByte(')')
	}
	b.WriteString(" TO ")
	b.WriteString(QuoteString(n.To))
	if len(n.Options) > 0 || len(n.PartitionBy) > 0 {
		b.WriteString(" (")
		keys := make([]string, 0, len(n.Options))
		for k := range n.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(QuoteIdent(k))
			b.WriteByte(' ')
			b.WriteString(QuoteString(n.Options[k]))
		}
		if len(n.PartitionBy) > 0 {
			if len(keys) > 0 {
				b.WriteString(", ")
			}
			b.WriteString("PARTITION_BY")
			writeIdentList(&b, n.PartitionBy)
		}
		b.WriteByte(')')
	}
	return b.String()
}

func writeDrop(b *strings.Builder, what string, names [][]string, ifExists bool) {
	b.WriteString("DROP ")
	b.WriteString(what)
	b.WriteByte(' ')
	if ifExists {
		b.WriteString("IF EXISTS ")
	}
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		writeName(b, n)
	}
}

func (n *ExportModel) String() string {
	var b strings.Builder
	b.WriteString("EXPORT MODEL ")
	writeName(&b, n.Name)
	b.WriteString(" TO ")
	b.WriteString(QuoteString(n.URI))
	return b.String()
}

func (n *DropModel) String() string {
	var b strings.Builder
	writeDrop(&b, "MODEL", n.Names, n.IfExists)
	return b.String()
}

func (n *CreateModel) String() string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if n.OrReplace {
		b.WriteString("OR REPLACE ")
	}
	b.WriteString("MODEL ")
	if n.IfNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	writeName(&b, n.Name)
	if n.Transform != nil {
		b.WriteString(" TRANSFORM (")
		for i, it := range n.Transform {
			if i > 0 {
				b.WriteString(", ")
			}
			writeSelectItem(&b, it)
		}
		b.WriteByte(')')
	}
	b.WriteString(" OPTIONS (")
	for i, o := range n.Options {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.String())
	}
	b.WriteByte(')')
	if n.Query != nil {
		b.WriteString(" AS ")
		writeQuery(&b, n.Query)
	}
	return b.String()
}

func (n *ModelOption) String() string {
	var b strings.Builder
	b.WriteString(QuoteIdent(n.Key))
	b.WriteString(" = ")
	if n.HParam != nil {
		b.WriteString(n.HParam.String())
		return b.String()
	}
	if !n.IsList {
		b.WriteString(QuoteString(n.Value))
		return b.String()
	}
	b.WriteByte('[')
	for i, v := range n.List {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteString(v))
	}
	b.WriteByte(']')
	return b.String()
}

func (n *DropTable) String() string {
	var b strings.Builder
	writeDrop(&b, "TABLE", n.Names, n.IfExists)
	return b.String()
}

func (n *DropView) String() string {
	var b strings.Builder
	writeDrop(&b, "VIEW", n.Names, n.IfExists)
	return b.String()
}

func (n *Set) String() string {
	var b strings.Builder
	b.WriteString("SET ")
	writeDottedName(&b, n.Name)
	b.WriteString(" = ")
	b.WriteString(QuoteString(n.Value))
	return b.String()
}

// writeDottedName prints a setting name stored joined with dots. A part
// that held a dot itself (from a quoted identifier) can leave empty parts;
// then the whole name is quoted as one identifier, which reads back the same.
func writeDottedName(b *strings.Builder, name string) {
	parts := strings.Split(name, ".")
	if slices.Contains(parts, "") {
		b.WriteString(`"` + strings.ReplaceAll(name, `"`, `""`) + `"`)
		return
	}
	writeName(b, parts)
}

// isUpperWord reports whether s is a plain upper-case word (A-Z, 0-9, _)
// that can be printed without quotes where the grammar takes any word.
func isUpperWord(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (n *Show) String() string {
	switch n.What {
	case "tables":
		return "SHOW TABLES"
	case "all":
		return "SHOW ALL"
	}
	var b strings.Builder
	b.WriteString("SHOW ")
	parts := strings.Split(n.What, ".")
	if slices.Contains(parts, "") {
		writeDottedName(&b, n.What)
		return b.String()
	}
	if parts[0] == "tables" || parts[0] == "all" {
		// Quoted so it is not read back as SHOW TABLES / SHOW ALL.
		b.WriteString(`"` + parts[0] + `"`)
		parts = parts[1:]
		if len(parts) > 0 {
			b.WriteByte('.')
		}
	}
	writeName(&b, parts)
	return b.String()
}

func (n *Describe) String() string { return "DESCRIBE " + FormatName(n.Name) }

// String renders HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([a, b, ...]).
func (h *HParam) String() string {
	if h.Range {
		return "HPARAM_RANGE(" + strings.Join(h.Values, ", ") + ")"
	}
	return "HPARAM_CANDIDATES([" + strings.Join(h.Values, ", ") + "])"
}
