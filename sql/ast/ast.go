package ast

// Pos is a position in the SQL source text. Line and Col are 1-based; Col
// counts characters (runes), not bytes, so a caret lines up under non-ASCII
// text. Offset is the 0-based byte offset into the source. The zero Pos means
// "unknown" (nodes synthesized by the parser, e.g. an implied CURRENT ROW
// frame end, may carry the position of the construct that implied them).
type Pos struct {
	Line   int
	Col    int
	Offset int
}

// IsValid reports whether p is a real source position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Node is implemented by every AST node.
type Node interface {
	// Pos is the position of the first token of the node, except for infix
	// and postfix operators (Binary, IS, BETWEEN, IN, LIKE, "::"), where it
	// is the operator token (NOT for NOT IN/LIKE/BETWEEN): that is where a
	// type error should point.
	Pos() Pos
	// String renders the node as SQL that parses back to an equal tree.
	// For expressions it is also the default output column name
	// (DuckDB-like: "sum(l_quantity)", "a + b").
	String() string
}

// Statement is a top-level SQL statement: *Query, *Explain,
// *CreateExternalTable, *CreateView, *Copy, *DropTable, *DropView, *Set,
// *Show, *Describe.
type Statement interface {
	Node
	stmtNode()
}

// QueryBody is the body of a query before ORDER BY/LIMIT: *SelectCore,
// *SetOp, *Values, or a parenthesized *Query that has its own WITH, ORDER BY,
// LIMIT or OFFSET (a parenthesized query without them is unwrapped).
type QueryBody interface {
	Node
	queryBodyNode()
}

// TableExpr is an item of a FROM clause: *TableName, *DerivedTable,
// *TableFunction, *Join.
type TableExpr interface {
	Node
	tableExprNode()
}

// Expr is a scalar expression.
type Expr interface {
	Node
	exprNode()
}

// ---------------------------------------------------------------------------
// Statements

// Query is a complete query: optional WITH list, a body, and ORDER BY,
// LIMIT and OFFSET that apply to the whole body (including set operations).
// It is a Statement, and also a QueryBody when parenthesized inside a set
// operation, and the operand of subqueries.
type Query struct {
	At        Pos    // position of WITH, SELECT, VALUES or "("
	With      []*CTE // nil if no WITH clause
	Recursive bool   // WITH RECURSIVE (parsed; the engine may reject it)
	Body      QueryBody
	OrderBy   []*OrderItem
	Limit     Expr // nil if absent; LIMIT ALL also gives nil
	Offset    Expr // nil if absent
}

// CTE is one common table expression: Name [(Columns)] AS (Query).
type CTE struct {
	At      Pos
	Name    string
	Columns []string // optional column aliases
	Query   *Query
}

// Explain is EXPLAIN [ANALYZE] [VERBOSE] statement.
type Explain struct {
	At      Pos
	Analyze bool
	Verbose bool
	Stmt    Statement
}

// CreateExternalTable registers files as a table:
//
//	CREATE EXTERNAL TABLE [IF NOT EXISTS] name [(col type [NOT NULL], ...)]
//	  STORED AS PARQUET|CSV|JSON
//	  [PARTITIONED BY (col, ...)]
//	  LOCATION 'uri'
//	  [OPTIONS ('key' 'value', ...)] [WITH (key = value, ...)]
//
// The clauses after the column list may come in any order.
type CreateExternalTable struct {
	At          Pos
	Name        []string // possibly qualified name parts
	IfNotExists bool
	Columns     []*ColumnDef // nil when the schema is inferred from the files
	// Format is the STORED AS word upper-cased (PARQUET, CSV, JSON), or ""
	// when absent (the planner may infer it from the location's extension).
	Format   string
	Location string
	// PartitionedBy lists hive-style partition columns (PARTITIONED BY).
	PartitionedBy []string
	// Options holds OPTIONS/WITH key-value pairs. Keys are lower-cased;
	// values are the literal text (strings unquoted, numbers and booleans
	// as written, identifiers lower-cased).
	Options map[string]string
}

// ColumnDef is a column of CREATE EXTERNAL TABLE.
type ColumnDef struct {
	At      Pos
	Name    string
	Type    *TypeName
	NotNull bool
}

// CreateView is CREATE [OR REPLACE] VIEW name [(cols)] AS query.
type CreateView struct {
	At        Pos
	Name      []string
	OrReplace bool
	Columns   []string
	Query     *Query
}

// Copy writes a query result to files:
//
//	COPY (query) TO 'uri' [[WITH] (FORMAT parquet, PARTITION_BY (a, b), ...)]
//	COPY table TO 'uri' [...]
//
// For the second form Query is "SELECT * FROM table" and Table is set.
type Copy struct {
	At    Pos
	Query *Query
	Table []string // non-nil for COPY table TO ...
	To    string
	// Options holds every option except PARTITION_BY. Keys are lower-cased
	// (e.g. "format", "compression", "header", "delimiter"); values are
	// the literal text (strings unquoted, identifiers lower-cased).
	Options map[string]string
	// PartitionBy lists the PARTITION_BY (or PARTITION BY) columns.
	PartitionBy []string
}

// DropTable is DROP TABLE [IF EXISTS] name [, name ...].
type DropTable struct {
	At       Pos
	Names    [][]string
	IfExists bool
}

// DropView is DROP VIEW [IF EXISTS] name [, name ...].
type DropView struct {
	At       Pos
	Names    [][]string
	IfExists bool
}

// CreateModel imports a trained model into the session's model store:
//
//	CREATE [OR REPLACE] MODEL [IF NOT EXISTS] name
//	  [TRANSFORM (ml.standard_scaler(a) OVER () AS a, b, ...)]
//	  OPTIONS (model_type = 'xgboost', model_path = 'uri',
//	           feature_columns = ['a', 'b'], input_label_cols = ['y'])
//	  [AS query]
//
// A TRANSFORM is fitted on the rows of the AS query and stored with the
// model; ml.predict applies it to its input before scoring.
type CreateModel struct {
	At          Pos
	Name        []string
	OrReplace   bool
	IfNotExists bool
	Transform   []*SelectItem // nil without TRANSFORM
	Options     []*ModelOption
	Query       *Query // the AS query, nil without
}

// ModelOption is one OPTIONS entry of CREATE MODEL: key = value,
// key = ['a', 'b'] (IsList set, the items in List), or the search space
// of a tuned hyperparameter, key = HPARAM_RANGE(lo, hi) or key =
// HPARAM_CANDIDATES([a, b, ...]) (HParam set).
type ModelOption struct {
	At     Pos
	Key    string // lower-cased
	Value  string // strings unquoted; numbers and words as written
	IsList bool
	List   []string
	HParam *HParam // nil unless the value is HPARAM_RANGE or HPARAM_CANDIDATES
}

// HParam is the search space of a hyperparameter that CREATE MODEL tunes
// (with num_trials), as BigQuery ML writes it: HPARAM_RANGE(lo, hi), every
// value from lo to hi, or HPARAM_CANDIDATES([a, b, ...]), those values.
// The values are numbers as written (a leading minus kept); the parser
// checks lo <= hi and that no candidate is given twice, and the trainer
// what each option accepts.
type HParam struct {
	At     Pos // of HPARAM_RANGE / HPARAM_CANDIDATES
	Range  bool
	Values []string // lo and hi for a range, else the candidates
	Pos    []Pos    // the position of each value
}

// ExportModel is EXPORT MODEL name TO 'uri': the model's file (XGBoost
// JSON/UBJSON or LightGBM text, as the library reads it) copied to uri.
type ExportModel struct {
	At   Pos
	Name []string
	URI  string
}

// DropModel is DROP MODEL [IF EXISTS] name [, name ...].
type DropModel struct {
	At       Pos
	Names    [][]string
	IfExists bool
}

// Set is SET name = value / SET name TO value (session configuration).
// Value is the literal text (strings unquoted, identifiers lower-cased).
type Set struct {
	At    Pos
	Name  string // lower-cased, may contain dots ("flint.batch_size")
	Value string
}

// Show is SHOW TABLES (What "tables"), SHOW ALL (What "all"), SHOW MODELS
// (What "models") or SHOW name (a setting; What is the lower-cased,
// possibly dotted name).
type Show struct {
	At   Pos
	What string
}

// Describe is DESCRIBE name (also DESC name): the columns of a table or view.
type Describe struct {
	At   Pos
	Name []string
}

// ---------------------------------------------------------------------------
// Query bodies

// SetOpKind is the kind of a set operation.
type SetOpKind int

// Set operations. INTERSECT binds tighter than UNION and EXCEPT.
const (
	Union SetOpKind = iota
	Intersect
	Except
)

// SetOp is Left UNION|INTERSECT|EXCEPT [ALL|DISTINCT] Right.
type SetOp struct {
	At    Pos // position of the operator keyword
	Op    SetOpKind
	All   bool
	Left  QueryBody
	Right QueryBody
}

// SelectCore is one SELECT ... FROM ... WHERE ... GROUP BY ... HAVING ...
// WINDOW ... block.
type SelectCore struct {
	At       Pos // position of SELECT
	Distinct bool
	Items    []*SelectItem
	From     []TableExpr // comma-separated FROM items (implicit cross join)
	Where    Expr
	// GroupBy items: expressions, or *GroupingSet for ROLLUP (...),
	// CUBE (...), GROUPING SETS (...), "(a, b)" and "()". GROUP BY ALL
	// sets GroupByAll.
	GroupBy    []Expr
	GroupByAll bool
	Having     Expr
	Windows    []*NamedWindow // WINDOW w AS (...), ...
	Qualify    Expr           // QUALIFY predicate (DuckDB/Snowflake), optional
}

// SelectItem is one entry of a select list: either an expression with an
// optional alias, or a star ("*" or "t.*").
type SelectItem struct {
	At        Pos
	Star      bool     // "*" or qualified "t.*"
	StarTable []string // qualifier of "t.*" (nil for bare "*")
	Expr      Expr     // nil when Star
	Alias     string   // "" if none
}

// Values is VALUES (a, b), (c, d), ... used as a query body.
type Values struct {
	At   Pos
	Rows [][]Expr
}

// NamedWindow is one entry of a WINDOW clause: Name AS (Spec).
type NamedWindow struct {
	At   Pos
	Name string
	Spec *WindowSpec
}

// OrderItem is Expr [ASC|DESC] [NULLS FIRST|LAST].
type OrderItem struct {
	At   Pos
	Expr Expr
	Desc bool
	// NullsFirst is nil when not specified (the engine default applies:
	// PostgreSQL puts NULLs last for ASC and first for DESC).
	NullsFirst *bool
}

// ---------------------------------------------------------------------------
// Table expressions

// TableName is a named table (or CTE or view) in FROM: name [[AS] alias [(cols)]].
type TableName struct {
	At            Pos
	Name          []string // name parts: t, s.t, c.s.t
	Alias         string
	ColumnAliases []string
}

// DerivedTable is a subquery in FROM: (query) [AS] alias [(cols)].
type DerivedTable struct {
	At            Pos
	Subquery      *Query
	Alias         string
	ColumnAliases []string
}

// TableFunction is a table-valued function in FROM, e.g.
// read_parquet('s3://b/*.parquet') or generate_series(1, 10).
type TableFunction struct {
	At            Pos
	Name          []string
	Args          []Expr
	Alias         string
	ColumnAliases []string
}

// JoinType is the kind of a join.
type JoinType int

// Join kinds as written in SQL (semi/anti joins are planner concepts and
// live in the logical plan, not here).
const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
)

// Join is Left [NATURAL] type JOIN Right [ON cond | USING (cols)].
type Join struct {
	At      Pos // position of the JOIN keyword group (e.g. LEFT)
	Type    JoinType
	Natural bool
	Left    TableExpr
	Right   TableExpr
	On      Expr     // nil if none
	Using   []string // nil if none
}

// ---------------------------------------------------------------------------
// Expressions

// ColumnRef is a possibly qualified column reference: a, t.a, s.t.a.
// Unquoted identifiers are folded to lower case; quoted ones keep their case.
type ColumnRef struct {
	At    Pos
	Parts []string
}

// NumberLit is a numeric literal, kept as written.
type NumberLit struct {
	At       Pos
	Text     string // e.g. "42", "0.06", "1e3", ".5"
	HasPoint bool   // contains '.'
	HasExp   bool   // contains an exponent (e/E)
}

// IsInteger reports whether the literal has neither a point nor an exponent.
func (n *NumberLit) IsInteger() bool { return !n.HasPoint && !n.HasExp }

// StringLit is a 'string' literal; Value has ” escapes resolved.
type StringLit struct {
	At    Pos
	Value string
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	At    Pos
	Value bool
}

// NullLit is NULL.
type NullLit struct {
	At Pos
}

// TypedLit is a typed string literal: DATE '1998-12-01',
// TIMESTAMP '2020-01-01 10:00:00', TIME '10:00'. Type.Name is upper case.
type TypedLit struct {
	At    Pos
	Type  *TypeName
	Value string
}

// IntervalLit is INTERVAL 'value' [unit [TO unit]].
//
//	INTERVAL '3' MONTH       -> Value "3", Unit "MONTH"
//	INTERVAL '90' DAY        -> Value "90", Unit "DAY"
//	INTERVAL '3 months'      -> Value "3 months", Unit ""
//	INTERVAL '1-2' YEAR TO MONTH -> Unit "YEAR", ToUnit "MONTH"
//
// Unit and ToUnit are upper-case singular (YEAR, QUARTER, MONTH, WEEK, DAY,
// HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND) or "". Method Interval
// evaluates the literal.
type IntervalLit struct {
	At     Pos
	Value  string
	Unit   string
	ToUnit string
}

// Param is a positional parameter: $1 (Index 1) or ? (numbered in order).
type Param struct {
	At    Pos
	Index int
}

// BinaryOp is a binary operator.
type BinaryOp int

// Binary operators.
const (
	OpAdd    BinaryOp = iota // +
	OpSub                    // -
	OpMul                    // *
	OpDiv                    // /
	OpMod                    // %
	OpConcat                 // ||
	OpEq                     // =
	OpNotEq                  // <> or !=
	OpLt                     // <
	OpLtEq                   // <=
	OpGt                     // >
	OpGtEq                   // >=
	OpAnd                    // AND
	OpOr                     // OR
)

// Binary is Left Op Right.
type Binary struct {
	At    Pos // position of the operator
	Op    BinaryOp
	Left  Expr
	Right Expr
}

// UnaryOp is a prefix operator.
type UnaryOp int

// Unary operators.
const (
	OpNot  UnaryOp = iota // NOT
	OpNeg                 // -
	OpPlus                // +
)

// Unary is Op Expr.
type Unary struct {
	At   Pos
	Op   UnaryOp
	Expr Expr
}

// IsNull is Expr IS [NOT] NULL (also ISNULL / NOTNULL).
type IsNull struct {
	At   Pos // position of IS
	Expr Expr
	Not  bool
}

// IsBool is Expr IS [NOT] TRUE|FALSE. (IS [NOT] UNKNOWN becomes IsNull.)
type IsBool struct {
	At    Pos
	Expr  Expr
	Not   bool
	Value bool
}

// IsDistinctFrom is Left IS [NOT] DISTINCT FROM Right (null-safe comparison).
type IsDistinctFrom struct {
	At    Pos
	Left  Expr
	Right Expr
	Not   bool
}

// Between is Expr [NOT] BETWEEN Low AND High.
type Between struct {
	At   Pos // position of BETWEEN (or NOT)
	Expr Expr
	Not  bool
	Low  Expr
	High Expr
}

// InList is Expr [NOT] IN (List...).
type InList struct {
	At   Pos
	Expr Expr
	Not  bool
	List []Expr
}

// InSubquery is Expr [NOT] IN (Query).
type InSubquery struct {
	At    Pos
	Expr  Expr
	Not   bool
	Query *Query
}

// Quantified is Expr Op ANY|SOME|ALL (Query): a comparison with every row
// of a one-column subquery. SOME is ANY.
type Quantified struct {
	At    Pos      // position of the comparison operator
	Op    BinaryOp // one of the six comparisons
	All   bool     // ALL; false for ANY and SOME
	Expr  Expr
	Query *Query
}

// Exists is [NOT] EXISTS (Query). The parser folds NOT EXISTS into Not.
type Exists struct {
	At    Pos
	Not   bool
	Query *Query
}

// ScalarSubquery is a parenthesized query used as a value.
type ScalarSubquery struct {
	At    Pos
	Query *Query
}

// Like is Expr [NOT] LIKE|ILIKE Pattern [ESCAPE Escape].
type Like struct {
	At      Pos
	Expr    Expr
	Not     bool
	ILike   bool
	Pattern Expr
	Escape  Expr // nil if none
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE ...] END.
type Case struct {
	At      Pos
	Operand Expr // nil for a searched CASE
	Whens   []*When
	Else    Expr // nil if none
}

// When is one WHEN Cond THEN Result arm of a CASE.
type When struct {
	At     Pos
	Cond   Expr
	Result Expr
}

// Cast is CAST(Expr AS Type), TRY_CAST(...), or Expr::Type.
type Cast struct {
	At      Pos
	Expr    Expr
	Type    *TypeName
	Try     bool // TRY_CAST: NULL instead of an error on failure
	ColonOp bool // written as Expr::Type (affects String only)
}

// TypeName is a SQL type. Name is normalized to upper case and canonical
// spelling: INTEGER (INT, INT4), BIGINT (INT8), SMALLINT (INT2), TINYINT,
// BOOLEAN (BOOL), REAL (FLOAT4), FLOAT, DOUBLE (DOUBLE PRECISION, FLOAT8),
// DECIMAL, NUMERIC, VARCHAR (CHARACTER VARYING), CHAR (CHARACTER), TEXT,
// STRING, DATE, TIME, TIMESTAMP, INTERVAL; any other name is kept upper-cased.
type TypeName struct {
	At     Pos
	Name   string
	Params []int // e.g. DECIMAL(15,2) -> [15 2]; VARCHAR(25) -> [25]
}

// FuncCall is a function call, aggregate or window function:
//
//	name([DISTINCT] args [ORDER BY ...]) [FILTER (WHERE f)] [OVER w]
//	count(*)
//
// Name parts are lower-cased unless quoted. Special SQL forms without
// parentheses (CURRENT_DATE, CURRENT_TIMESTAMP, ...) become a FuncCall with
// NoParens set. COALESCE, NULLIF, GREATEST, LEAST and substring(x, a, b) are
// plain FuncCalls.
type FuncCall struct {
	At       Pos
	Name     []string
	Args     []Expr
	Distinct bool
	Star     bool         // count(*)
	OrderBy  []*OrderItem // ordered-set aggregates: string_agg(x, ',' ORDER BY y)
	Filter   Expr         // FILTER (WHERE ...), nil if none
	Over     *WindowSpec  // nil if not a window call
	NoParens bool         // CURRENT_DATE etc.
}

// Subscript is Expr[Index]: an element of a LIST, 1-based, as in DuckDB
// (the binder makes it list_extract(Expr, Index)).
type Subscript struct {
	At    Pos // position of "["
	Expr  Expr
	Index Expr
}

// ListLit is [a, b, ...], a LIST value (DuckDB's list syntax; the binder
// makes it list_value(a, b, ...)).
type ListLit struct {
	At    Pos // position of "["
	Items []Expr
}

// ModelArg is MODEL name, an argument of a table function such as
// ml.predict(MODEL m, (SELECT ...)). The parser produces it only there.
type ModelArg struct {
	At   Pos
	Name []string
}

// TableArg is TABLE name, an argument of a table function standing for
// SELECT * FROM name. The parser produces it only there.
type TableArg struct {
	At   Pos
	Name []string
}

// Extract is EXTRACT(Field FROM Expr) (also DATE_PART-style inputs are plain
// FuncCalls). Field is upper case: YEAR, QUARTER, MONTH, WEEK, DAY, HOUR,
// MINUTE, SECOND, MILLISECOND, MICROSECOND, DOW, DOY, EPOCH, ...
type Extract struct {
	At    Pos
	Field string
	From  Expr
}

// Substring is SUBSTRING(Expr FROM From [FOR For]) or SUBSTRING(Expr FOR For).
// The comma form substring(x, a, b) is a plain FuncCall.
type Substring struct {
	At   Pos
	Expr Expr
	From Expr // nil if absent
	For  Expr // nil if absent
}

// TrimKind selects which ends TRIM strips.
type TrimKind int

// Trim kinds.
const (
	TrimBoth TrimKind = iota
	TrimLeading
	TrimTrailing
)

// Trim is TRIM([BOTH|LEADING|TRAILING] [Chars] FROM Expr) or TRIM(Expr).
type Trim struct {
	At    Pos
	Kind  TrimKind
	Chars Expr // nil means spaces
	Expr  Expr
}

// Position is POSITION(Sub IN Str): 1-based index of Sub in Str, 0 if absent.
type Position struct {
	At  Pos
	Sub Expr
	Str Expr
}

// GroupingKind is the form of a GroupingSet.
type GroupingKind int

// Grouping set forms.
const (
	GroupingList GroupingKind = iota // (a, b) or (): one set of keys
	GroupingRollup
	GroupingCube
	GroupingSets
)

// GroupingSet is a GROUP BY item naming grouping sets: ROLLUP (Items),
// CUBE (Items), GROUPING SETS (Items) or a parenthesized key list (Items)
// ("()" is the empty set). Items are key expressions or nested
// *GroupingSet: a GroupingList inside ROLLUP and CUBE (one composite
// element), any kind inside GROUPING SETS. It only appears in GroupBy.
type GroupingSet struct {
	At    Pos
	Kind  GroupingKind
	Items []Expr
}

// WindowSpec is the window of an OVER clause or WINDOW definition:
// [ref] [PARTITION BY ...] [ORDER BY ...] [frame]. OVER w gives a spec with
// only Name set.
type WindowSpec struct {
	At          Pos
	Name        string // referenced named window, "" if none
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *Frame // nil if none
}

// FrameUnit is ROWS or RANGE (or GROUPS).
type FrameUnit int

// Frame units.
const (
	FrameRows FrameUnit = iota
	FrameRange
	FrameGroups
)

// Frame is Unit BETWEEN Start AND End. A frame written with only a start
// ("ROWS 3 PRECEDING") gets End = CURRENT ROW, as SQL specifies.
type Frame struct {
	At    Pos
	Unit  FrameUnit
	Start FrameBound
	End   FrameBound
}

// FrameBoundKind is the kind of a frame bound.
type FrameBoundKind int

// Frame bound kinds.
const (
	UnboundedPreceding FrameBoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is one end of a window frame. Offset is set for PRECEDING and
// FOLLOWING with a value ("3 PRECEDING", "INTERVAL '1' DAY PRECEDING").
type FrameBound struct {
	At     Pos
	Kind   FrameBoundKind
	Offset Expr
}
