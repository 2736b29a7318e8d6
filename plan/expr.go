package plan

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Expr is a bound, typed scalar expression. Implementations are immutable:
// rewrites build new nodes with WithChildren.
type Expr interface {
	// Type is the expression's result type.
	Type() arrow.DataType
	// Nullable reports whether the expression may evaluate to NULL.
	Nullable() bool
	Children() []Expr
	// WithChildren returns a copy of the expression with the given children
	// (same count and order as Children).
	WithChildren(children []Expr) Expr
	String() string
}

// ColRef refers to a column produced by a child node (or, inside a
// correlated subquery before decorrelation, by an outer query).
type ColRef struct {
	ID   ColumnID
	Name string
	Typ  arrow.DataType
	Null bool
}

func (e *ColRef) Type() arrow.DataType       { return e.Typ }
func (e *ColRef) Nullable() bool             { return e.Null }
func (e *ColRef) Children() []Expr           { return nil }
func (e *ColRef) WithChildren(c []Expr) Expr { return e }
func (e *ColRef) String() string             { return fmt.Sprintf("%s#%d", e.Name, e.ID) }

// Literal is a constant. Value is one of: nil (NULL of Typ), bool, int64 (any
// integer type), float64, string, decimal128.Num (unscaled, at Typ's scale;
// for both decimal widths),
// arrow.Date32, arrow.Timestamp, arrow.MonthDayNanoInterval.
type Literal struct {
	Value any
	Typ   arrow.DataType
}

func (e *Literal) Type() arrow.DataType       { return e.Typ }
func (e *Literal) Nullable() bool             { return e.Value == nil }
func (e *Literal) Children() []Expr           { return nil }
func (e *Literal) WithChildren(c []Expr) Expr { return e }
func (e *Literal) String() string             { return FormatLiteral(e.Value, e.Typ) }

// FormatLiteral renders a literal value as SQL text.
func FormatLiteral(v any, t arrow.DataType) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case decimal128.Num:
		if dt, ok := t.(arrow.DecimalType); ok {
			return x.ToString(dt.GetScale())
		}
		return x.BigInt().String()
	case arrow.Date32:
		return "DATE '" + x.FormattedString() + "'"
	case arrow.Timestamp:
		return "TIMESTAMP '" + x.ToTime(arrow.Microsecond).Format("2006-01-02 15:04:05.999999") + "'"
	case arrow.MonthDayNanoInterval:
		return fmt.Sprintf("INTERVAL '%d months %d days %d ns'", x.Months, x.Days, x.Nanoseconds)
	default:
		return fmt.Sprint(x)
	}
}

// BinaryOp is the operator of a Binary expression.
type BinaryOp string

// Binary operators. Comparisons and logical operators yield Boolean.
const (
	OpEq    BinaryOp = "="
	OpNotEq BinaryOp = "<>"
	OpLt    BinaryOp = "<"
	OpLtEq  BinaryOp = "<="
	OpGt    BinaryOp = ">"
	OpGtEq  BinaryOp = ">="
	// OpIsNotDistinct is null-safe equality (IS NOT DISTINCT FROM).
	OpIsNotDistinct BinaryOp = "IS NOT DISTINCT FROM"
	OpIsDistinct    BinaryOp = "IS DISTINCT FROM"
	OpAnd           BinaryOp = "AND"
	OpOr            BinaryOp = "OR"
	OpAdd           BinaryOp = "+"
	OpSub           BinaryOp = "-"
	OpMul           BinaryOp = "*"
	OpDiv           BinaryOp = "/"
	OpMod           BinaryOp = "%"
)

// IsComparison reports whether op compares two values.
func (op BinaryOp) IsComparison() bool {
	switch op {
	case OpEq, OpNotEq, OpLt, OpLtEq, OpGt, OpGtEq, OpIsNotDistinct, OpIsDistinct:
		return true
	}
	return false
}

// IsLogical reports whether op is AND or OR.
func (op BinaryOp) IsLogical() bool { return op == OpAnd || op == OpOr }

// Flip returns the comparison with its operands swapped (a < b == b > a).
func (op BinaryOp) Flip() BinaryOp {
	switch op {
	case OpLt:
		return OpGt
	case OpLtEq:
		return OpGtEq
	case OpGt:
		return OpLt
	case OpGtEq:
		return OpLtEq
	}
	return op
}

// Negate returns the comparison that is TRUE exactly when op is FALSE
// (a < b is FALSE iff a >= b), for the six ordering comparisons.
func (op BinaryOp) Negate() BinaryOp {
	switch op {
	case OpEq:
		return OpNotEq
	case OpNotEq:
		return OpEq
	case OpLt:
		return OpGtEq
	case OpLtEq:
		return OpGt
	case OpGt:
		return OpLtEq
	case OpGtEq:
		return OpLt
	}
	return op
}

// Binary is a comparison, logical or arithmetic operation. For comparisons
// both operands have the same type (the binder inserts casts); for
// arithmetic the operands are cast as types.ArithmeticType says and Typ is
// the result type.
type Binary struct {
	Op   BinaryOp
	L, R Expr
	Typ  arrow.DataType
}

func (e *Binary) Type() arrow.DataType { return e.Typ }
func (e *Binary) Nullable() bool {
	if e.Op == OpIsDistinct || e.Op == OpIsNotDistinct {
		return false
	}
	return e.L.Nullable() || e.R.Nullable() || e.Op == OpDiv || e.Op == OpMod
}
func (e *Binary) Children() []Expr { return []Expr{e.L, e.R} }
func (e *Binary) WithChildren(c []Expr) Expr {
	n := *e
	n.L, n.R = c[0], c[1]
	return &n
}
func (e *Binary) String() string {
	return "(" + e.L.String() + " " + string(e.Op) + " " + e.R.String() + ")"
}

// UnaryOp is the operator of a Unary expression.
type UnaryOp string

// Unary operators.
const (
	OpNot       UnaryOp = "NOT"
	OpNeg       UnaryOp = "-"
	OpIsNull    UnaryOp = "IS NULL"
	OpIsNotNull UnaryOp = "IS NOT NULL"
)

// Unary is NOT, negation, IS NULL or IS NOT NULL.
type Unary struct {
	Op UnaryOp
	E  Expr
}

func (e *Unary) Type() arrow.DataType {
	if e.Op == OpNeg {
		return e.E.Type()
	}
	return arrow.FixedWidthTypes.Boolean
}
func (e *Unary) Nullable() bool {
	if e.Op == OpIsNull || e.Op == OpIsNotNull {
		return false
	}
	return e.E.Nullable()
}
func (e *Unary) Children() []Expr { return []Expr{e.E} }
func (e *Unary) WithChildren(c []Expr) Expr {
	n := *e
	n.E = c[0]
	return &n
}
func (e *Unary) String() string {
	switch e.Op {
	case OpIsNull, OpIsNotNull:
		return "(" + e.E.String() + " " + string(e.Op) + ")"
	case OpNot:
		return "(NOT " + e.E.String() + ")"
	}
	return "(-" + e.E.String() + ")"
}

// Cast converts E to To.
type Cast struct {
	E  Expr
	To arrow.DataType
}

func (e *Cast) Type() arrow.DataType { return e.To }
func (e *Cast) Nullable() bool       { return e.E.Nullable() }
func (e *Cast) Children() []Expr     { return []Expr{e.E} }
func (e *Cast) WithChildren(c []Expr) Expr {
	n := *e
	n.E = c[0]
	return &n
}
func (e *Cast) String() string { return "CAST(" + e.E.String() + " AS " + typeString(e.To) + ")" }

// typeString is t's Arrow name, except that both decimal widths print as
// decimal(p, s): the width follows from the precision.
func typeString(t arrow.DataType) string {
	if t.ID() == arrow.DECIMAL64 || t.ID() == arrow.DECIMAL128 {
		d := t.(arrow.DecimalType)
		return fmt.Sprintf("decimal(%d, %d)", d.GetPrecision(), d.GetScale())
	}
	return t.String()
}

// When is one WHEN cond THEN value arm of a Case.
type When struct{ Cond, Value Expr }

// Case is a searched CASE (simple CASE is rewritten to searched by the
// binder). Every Value and Else already have type Typ. Else may be nil.
type Case struct {
	Whens []When
	Else  Expr
	Typ   arrow.DataType
}

func (e *Case) Type() arrow.DataType { return e.Typ }
func (e *Case) Nullable() bool {
	if e.Else == nil || e.Else.Nullable() {
		return true
	}
	for _, w := range e.Whens {
		if w.Value.Nullable() {
			return true
		}
	}
	return false
}
func (e *Case) Children() []Expr {
	c := make([]Expr, 0, 2*len(e.Whens)+1)
	for _, w := range e.Whens {
		c = append(c, w.Cond, w.Value)
	}
	if e.Else != nil {
		c = append(c, e.Else)
	}
	return c
}
func (e *Case) WithChildren(c []Expr) Expr {
	n := *e
	n.Whens = make([]When, len(e.Whens))
	for i := range e.Whens {
		n.Whens[i] = When{Cond: c[2*i], Value: c[2*i+1]}
	}
	if e.Else != nil {
		n.Else = c[len(c)-1]
	}
	return &n
}
func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Value.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

// InList is E [NOT] IN (list of literals of E's type). Lists with
// non-constant members are rewritten by the binder into ORs of equalities.
type InList struct {
	E       Expr
	List    []*Literal
	Negated bool
}

func (e *InList) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e *InList) Nullable() bool {
	if e.E.Nullable() {
		return true
	}
	for _, l := range e.List {
		if l.Value == nil {
			return true
		}
	}
	return false
}
func (e *InList) Children() []Expr { return []Expr{e.E} }
func (e *InList) WithChildren(c []Expr) Expr {
	n := *e
	n.E = c[0]
	return &n
}
func (e *InList) String() string {
	parts := make([]string, len(e.List))
	for i, l := range e.List {
		parts[i] = l.String()
	}
	not := ""
	if e.Negated {
		not = "NOT "
	}
	return "(" + e.E.String() + " " + not + "IN (" + strings.Join(parts, ", ") + "))"
}

// Like is E [NOT] LIKE/ILIKE Pattern with a constant pattern.
type Like struct {
	E               Expr
	Pattern         string
	Escape          rune // 0 = none
	Negated         bool
	CaseInsensitive bool
}

func (e *Like) Type() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e *Like) Nullable() bool       { return e.E.Nullable() }
func (e *Like) Children() []Expr     { return []Expr{e.E} }
func (e *Like) WithChildren(c []Expr) Expr {
	n := *e
	n.E = c[0]
	return &n
}
func (e *Like) String() string {
	op := "LIKE"
	if e.CaseInsensitive {
		op = "ILIKE"
	}
	if e.Negated {
		op = "NOT " + op
	}
	return "(" + e.E.String() + " " + op + " " + FormatLiteral(e.Pattern, nil) + ")"
}

// TryCastFunc names TRY_CAST(x AS t) as a Func: one argument, result type
// Typ, NULL where the value does not convert. It is not in the registry of
// package types (the type comes from the syntax, not the argument).
const TryCastFunc = "try_cast"

// Func is a call of a scalar function from the registry in package types
// (types.FunctionType); arguments are already cast to the signature.
type Func struct {
	Name string
	Args []Expr
	Typ  arrow.DataType
}

func (e *Func) Type() arrow.DataType { return e.Typ }
func (e *Func) Nullable() bool {
	switch e.Name {
	case "coalesce":
		for _, a := range e.Args {
			if !a.Nullable() {
				return false
			}
		}
		return true
	case "concat":
		return false
	}
	return true
}
func (e *Func) Children() []Expr { return e.Args }
func (e *Func) WithChildren(c []Expr) Expr {
	n := *e
	n.Args = c
	return &n
}
func (e *Func) String() string {
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = a.String()
	}
	return e.Name + "(" + strings.Join(parts, ", ") + ")"
}

// AggCall is an aggregate function call. It appears only in Aggregate.Aggs
// (and Window functions), never inside another expression: the binder
// replaces aggregate calls in SELECT/HAVING/ORDER BY by references to the
// Aggregate node's output columns.
type AggCall struct {
	// Func is one of count, count_star, sum, avg, min, max, stddev_samp,
	// stddev_pop, var_samp, var_pop, bool_and, bool_or, first.
	Func     string
	Args     []Expr
	Distinct bool
	// Filter is an optional FILTER (WHERE ...) condition.
	Filter Expr
	Typ    arrow.DataType
}

func (e *AggCall) Type() arrow.DataType { return e.Typ }
func (e *AggCall) Nullable() bool       { return e.Func != "count" && e.Func != "count_star" }
func (e *AggCall) Children() []Expr {
	c := append([]Expr(nil), e.Args...)
	if e.Filter != nil {
		c = append(c, e.Filter)
	}
	return c
}
func (e *AggCall) WithChildren(c []Expr) Expr {
	n := *e
	n.Args = c[:len(e.Args)]
	if e.Filter != nil {
		n.Filter = c[len(e.Args)]
	}
	return &n
}
func (e *AggCall) String() string {
	var s string
	if e.Func == "count_star" {
		s = "count(*)"
	} else {
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = a.String()
		}
		d := ""
		if e.Distinct {
			d = "DISTINCT "
		}
		s = e.Func + "(" + d + strings.Join(parts, ", ") + ")"
	}
	if e.Filter != nil {
		s += " FILTER (WHERE " + e.Filter.String() + ")"
	}
	return s
}

// SubqueryKind tells what a Subquery expression asks of its plan.
type SubqueryKind int

// Subquery kinds.
const (
	// SubScalar yields the single value of a one-column, at most one-row plan.
	SubScalar SubqueryKind = iota
	// SubExists is [NOT] EXISTS (plan).
	SubExists
	// SubIn is E [NOT] IN (plan with one column).
	SubIn
	// SubAny is E Op ANY (plan with one column); negated, it is
	// NOT (E Op ANY (plan)), which is E <negated Op> ALL (plan).
	SubAny
)

// Subquery is a nested query used as an expression. Plan may refer to
// columns of enclosing queries (correlation) through ColRefs whose IDs are
// not produced inside Plan. The optimizer's decorrelation rule replaces
// every Subquery by joins; physical planning rejects any that remain.
type Subquery struct {
	Kind    SubqueryKind
	Plan    Node
	E       Expr     // the left operand of IN and ANY
	Op      BinaryOp // the comparison of ANY (OpEq for IN)
	Negated bool     // NOT EXISTS / NOT IN / NOT (E Op ANY ...)
	Typ     arrow.DataType
}

func (e *Subquery) Type() arrow.DataType { return e.Typ }
func (e *Subquery) Nullable() bool       { return e.Kind != SubExists }
func (e *Subquery) Children() []Expr {
	if e.E != nil {
		return []Expr{e.E}
	}
	return nil
}
func (e *Subquery) WithChildren(c []Expr) Expr {
	n := *e
	if e.E != nil {
		n.E = c[0]
	}
	return &n
}
func (e *Subquery) String() string {
	not := ""
	if e.Negated {
		not = "NOT "
	}
	switch e.Kind {
	case SubExists:
		return not + "EXISTS(<subquery>)"
	case SubIn:
		return "(" + e.E.String() + " " + not + "IN (<subquery>))"
	case SubAny:
		if e.Negated {
			return "(" + e.E.String() + " " + string(e.Op.Negate()) + " ALL (<subquery>))"
		}
		return "(" + e.E.String() + " " + string(e.Op) + " ANY (<subquery>))"
	}
	return "(<scalar subquery>)"
}

var (
	_ Expr = (*ColRef)(nil)
	_ Expr = (*Literal)(nil)
	_ Expr = (*Binary)(nil)
	_ Expr = (*Unary)(nil)
	_ Expr = (*Cast)(nil)
	_ Expr = (*Case)(nil)
	_ Expr = (*InList)(nil)
	_ Expr = (*Like)(nil)
	_ Expr = (*Func)(nil)
	_ Expr = (*AggCall)(nil)
	_ Expr = (*Subquery)(nil)
)
