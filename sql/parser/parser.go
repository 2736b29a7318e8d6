package parser

import (
	"strconv"
	"strings"

	"github.com/flint-engine/flint/sql/ast"
)

// maxDepth bounds nesting (parentheses, subqueries, prefix operators) so
// hostile input cannot overflow the stack.
const maxDepth = 1000

// Parse parses a script of semicolon-separated statements. Empty
// statements (";;") are skipped.
func Parse(sql string) ([]ast.Statement, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var stmts []ast.Statement
	err = p.run(func() {
		for {
			for p.acceptOp(";") {
			}
			if p.cur().kind == tEOF {
				return
			}
			stmts = append(stmts, p.parseStatement())
			if p.cur().kind != tEOF && !p.isOp(";") {
				p.failExpected("\";\" or end of input")
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

// ParseOne parses exactly one statement (a trailing ";" is allowed).
func ParseOne(sql string) (ast.Statement, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var stmt ast.Statement
	err = p.run(func() {
		if p.cur().kind == tEOF {
			p.fail(p.cur().pos, "empty statement")
		}
		stmt = p.parseStatement()
		for p.acceptOp(";") {
		}
		if p.cur().kind != tEOF {
			p.failExpected("end of statement")
		}
	})
	if err != nil {
		return nil, err
	}
	return stmt, nil
}

// ParseQuery parses one query (SELECT, WITH, VALUES or a parenthesized
// query); other statements are an error.
func ParseQuery(sql string) (*ast.Query, error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	var q *ast.Query
	err = p.run(func() {
		q = p.parseQuery()
		for p.acceptOp(";") {
		}
		if p.cur().kind != tEOF {
			p.failExpected("end of query")
		}
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// ParseExpr parses a single scalar expression, e.g. "x > 3 AND y IS NULL"
// (used by the DataFrame API).
func ParseExpr(s string) (ast.Expr, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	var e ast.Expr
	err = p.run(func() {
		e = p.parseExpr(0)
		if p.cur().kind != tEOF {
			p.failExpected("end of expression")
		}
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ParseSelectItems parses a comma-separated select list such as
// "a, b + 1 AS c, t.*" (DataFrame SelectExpr).
func ParseSelectItems(s string) ([]*ast.SelectItem, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	var items []*ast.SelectItem
	err = p.run(func() {
		for {
			items = append(items, p.parseSelectItem())
			if !p.acceptOp(",") {
				break
			}
		}
		if p.cur().kind != tEOF {
			p.failExpected(`"," or end of input`)
		}
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// ParseHParam parses the text of a tuned option's search space,
// HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([a, b, ...]), as CREATE MODEL
// writes it (the DataFrame API's TrainModel takes it as an option's
// value); key names the option in errors.
func ParseHParam(key, s string) (*ast.HParam, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	var h *ast.HParam
	err = p.run(func() {
		if !p.isHParam() {
			p.failExpected("HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([a, b, ...])")
		}
		h = p.parseHParam(key)
		if p.cur().kind != tEOF {
			p.failExpected("end of input")
		}
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ParseOrderBy parses a comma-separated ORDER BY list such as
// "a DESC NULLS LAST, b" (DataFrame Sort).
func ParseOrderBy(s string) ([]*ast.OrderItem, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	var items []*ast.OrderItem
	err = p.run(func() {
		items = p.parseOrderItems()
		if p.cur().kind != tEOF {
			p.failExpected(`"," or end of input`)
		}
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// parser is a recursive-descent parser over a pre-lexed token slice (which
// makes arbitrary lookahead and the rare backtrack cheap).
type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	params int // number of "?" parameters seen
}

// bailout carries a syntax error up the recursion; run turns it back into
// an error. Any other panic is a bug and propagates.
type bailout struct{ err *Error }

func newParser(sql string) (*parser, error) {
	toks, err := tokenize(sql)
	if err != nil {
		return nil, err
	}
	return &parser{src: sql, toks: toks}, nil
}

func (p *parser) run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			err = b.err
		}
	}()
	f()
	return nil
}

// ---------------------------------------------------------------------------
// Token helpers

func (p *parser) cur() *token { return &p.toks[p.i] }

// peek returns the token k positions ahead (EOF past the end).
func (p *parser) peek(k int) *token {
	if p.i+k < len(p.toks) {
		return &p.toks[p.i+k]
	}
	return &p.toks[len(p.toks)-1]
}

func (p *parser) next() *token {
	t := &p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(pos ast.Pos, msg string) {
	panic(bailout{&Error{Msg: msg, Pos: pos, SQL: p.src}})
}

// describe names a token for "found ..." in messages.
func (p *parser) describe(t *token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string " + quoteText("'"+t.val+"'")
	default:
		return quoteText(p.src[t.pos.Offset:t.end])
	}
}

func (p *parser) failExpected(what string) {
	t := p.cur()
	p.fail(t.pos, "expected "+what+", found "+p.describe(t))
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.cur().pos, "statement nested too deeply")
	}
}

func (p *parser) leave() { p.depth-- }

// isKw reports whether the current token is the keyword kw (upper case).
func (p *parser) isKw(kw string) bool {
	t := p.cur()
	return t.kind == tWord && t.upper == kw
}

func (p *parser) peekKw(k int, kw string) bool {
	t := p.peek(k)
	return t.kind == tWord && t.upper == kw
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

// acceptKws consumes the keyword sequence kws if all of it is present.
func (p *parser) acceptKws(kws ...string) bool {
	for k, kw := range kws {
		if !p.peekKw(k, kw) {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *parser) expectKw(kw string) ast.Pos {
	if !p.isKw(kw) {
		p.failExpected(kw)
	}
	return p.next().pos
}

func (p *parser) isOp(op string) bool {
	t := p.cur()
	return t.kind == tOp && t.val == op
}

func (p *parser) peekOp(k int, op string) bool {
	t := p.peek(k)
	return t.kind == tOp && t.val == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) ast.Pos {
	if !p.isOp(op) {
		p.failExpected(`"` + op + `"`)
	}
	return p.next().pos
}

// isIdent reports whether the current token can be an identifier: a quoted
// identifier or an unquoted word that is not a reserved keyword.
func (p *parser) isIdent() bool { return p.isIdentAt(0) }

func (p *parser) isIdentAt(k int) bool {
	t := p.peek(k)
	return t.kind == tQIdent || t.kind == tWord && !ast.IsReserved(t.upper)
}

// ident consumes an identifier (folded to lower case unless quoted).
func (p *parser) ident(what string) string {
	if !p.isIdent() {
		if p.cur().kind == tWord {
			p.fail(p.cur().pos, "expected "+what+", found reserved keyword "+p.describe(p.cur())+
				" (quote it to use it as a name)")
		}
		p.failExpected(what)
	}
	return p.next().val
}

// label consumes any word, reserved or not, or a quoted identifier: used
// after AS and after "." where no keyword can be meant.
func (p *parser) label(what string) string {
	t := p.cur()
	if t.kind != tWord && t.kind != tQIdent {
		p.failExpected(what)
	}
	p.i++
	return t.val
}

// qualifiedName parses ident(.label)*.
func (p *parser) qualifiedName(what string) []string {
	parts := []string{p.ident(what)}
	for p.isOp(".") && (p.peek(1).kind == tWord || p.peek(1).kind == tQIdent) {
		p.i++
		parts = append(parts, p.label(what))
	}
	return parts
}

// identList parses "(a, b, ...)".
func (p *parser) identList(what string) []string {
	p.expectOp("(")
	var ids []string
	for {
		ids = append(ids, p.ident(what))
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return ids
}

func (p *parser) stringLit(what string) string {
	t := p.cur()
	if t.kind != tString {
		p.failExpected(what)
	}
	p.i++
	return t.val
}

func (p *parser) intLit(what string) int {
	t := p.cur()
	if t.kind != tNumber {
		p.failExpected(what)
	}
	n, err := strconv.Atoi(t.val)
	if err != nil || n < 0 {
		p.fail(t.pos, "expected "+what+", found "+p.describe(t))
	}
	p.i++
	return n
}

// ---------------------------------------------------------------------------
// Statements

func (p *parser) parseStatement() ast.Statement {
	t := p.cur()
	if t.kind == tOp && t.val == "(" {
		return p.parseQuery()
	}
	if t.kind != tWord {
		p.failExpected("a statement")
	}
	switch t.upper {
	case "SELECT", "WITH", "VALUES":
		return p.parseQuery()
	case "EXPLAIN":
		p.i++
		ex := &ast.Explain{At: t.pos}
		for {
			if p.acceptKw("ANALYZE") {
				ex.Analyze = true
			} else if p.acceptKw("VERBOSE") {
				ex.Verbose = true
			} else {
				break
			}
		}
		if p.isKw("EXPLAIN") {
			p.fail(p.cur().pos, "EXPLAIN cannot be nested")
		}
		ex.Stmt = p.parseStatement()
		return ex
	case "CREATE":
		return p.parseCreate()
	case "COPY":
		return p.parseCopy()
	case "DROP":
		return p.parseDrop()
	case "SET":
		return p.parseSet()
	case "SHOW":
		p.i++
		if p.isKw("TABLES") || p.isKw("ALL") || p.isKw("MODELS") && p.peek(1).kind != tOp {
			return &ast.Show{At: t.pos, What: strings.ToLower(p.next().val)}
		}
		return &ast.Show{At: t.pos, What: strings.ToLower(strings.Join(p.qualifiedName("TABLES or a setting name"), "."))}
	case "DESCRIBE", "DESC":
		p.i++
		return &ast.Describe{At: t.pos, Name: p.qualifiedName("table name")}
	case "EXPORT":
		p.i++
		if !p.acceptKw("MODEL") {
			p.failExpected("MODEL (EXPORT MODEL name TO 'uri')")
		}
		ex := &ast.ExportModel{At: t.pos, Name: p.qualifiedName("model name")}
		if !p.acceptKw("TO") {
			p.failExpected("TO 'uri'")
		}
		ex.URI = p.stringLit("the URI to export to")
		return ex
	}
	p.fail(t.pos, "expected a statement (SELECT, WITH, VALUES, EXPLAIN, CREATE, COPY, DROP, SET, SHOW, DESCRIBE, EXPORT), found "+p.describe(t))
	return nil
}

func (p *parser) parseCreate() ast.Statement {
	at := p.expectKw("CREATE")
	orReplace := p.acceptKws("OR", "REPLACE")
	switch {
	case p.acceptKw("VIEW"):
		v := &ast.CreateView{At: at, OrReplace: orReplace}
		v.Name = p.qualifiedName("view name")
		if p.isOp("(") {
			v.Columns = p.identList("column name")
		}
		p.expectKw("AS")
		v.Query = p.parseQuery()
		return v
	case p.acceptKws("EXTERNAL", "TABLE"):
		if orReplace {
			p.fail(at, "OR REPLACE is not supported for CREATE EXTERNAL TABLE")
		}
		return p.parseCreateExternalTable(at)
	case p.acceptKw("MODEL"):
		return p.parseCreateModel(at, orReplace)
	}
	p.failExpected("EXTERNAL TABLE, VIEW or MODEL after CREATE")
	return nil
}

func (p *parser) parseCreateExternalTable(at ast.Pos) *ast.CreateExternalTable {
	ct := &ast.CreateExternalTable{At: at, Options: map[string]string{}}
	ct.IfNotExists = p.acceptKws("IF", "NOT", "EXISTS")
	ct.Name = p.qualifiedName("table name")
	if p.isOp("(") {
		p.i++
		for {
			cd := &ast.ColumnDef{At: p.cur().pos}
			cd.Name = p.ident("column name")
			cd.Type = p.parseType()
			if p.acceptKws("NOT", "NULL") {
				cd.NotNull = true
			} else {
				p.acceptKw("NULL")
			}
			ct.Columns = append(ct.Columns, cd)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	seenLocation := false
	for {
		switch {
		case p.acceptKws("STORED", "AS"):
			t := p.cur()
			if t.kind != tWord && t.kind != tQIdent {
				p.failExpected("file format (PARQUET, CSV, JSON)")
			}
			p.i++
			ct.Format = strings.ToUpper(t.val)
		case p.acceptKw("LOCATION"):
			ct.Location = p.stringLit("location string")
			seenLocation = true
		case p.acceptKws("PARTITIONED", "BY"):
			ct.PartitionedBy = p.identList("partition column")
		case p.acceptKws("WITH", "HEADER", "ROW"):
			ct.Options["header"] = "true"
		case p.acceptKw("DELIMITER"):
			ct.Options["delimiter"] = p.stringLit("delimiter string")
		case p.acceptKws("COMPRESSION", "TYPE"):
			ct.Options["compression"] = p.optionValue()
		case p.isKw("OPTIONS") || p.isKw("WITH"):
			p.i++
			p.parseOptions(ct.Options, nil)
		default:
			if !seenLocation {
				p.failExpected("LOCATION")
			}
			if len(ct.Options) == 0 {
				ct.Options = nil
			}
			return ct
		}
	}
}

// parseCreateModel parses what follows CREATE [OR REPLACE] MODEL:
// [IF NOT EXISTS] name OPTIONS (key = value | [value, ...], ...).
func (p *parser) parseCreateModel(at ast.Pos, orReplace bool) *ast.CreateModel {
	cm := &ast.CreateModel{At: at, OrReplace: orReplace}
	if t := p.cur(); p.acceptKws("IF", "NOT", "EXISTS") {
		if orReplace {
			p.fail(t.pos, "give OR REPLACE or IF NOT EXISTS, not both")
		}
		cm.IfNotExists = true
	}
	cm.Name = p.qualifiedName("model name")
	if p.acceptKw("TRANSFORM") {
		p.expectOp("(")
		cm.Transform = []*ast.SelectItem{}
		for {
			cm.Transform = append(cm.Transform, p.parseSelectItem())
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if !p.acceptKw("OPTIONS") {
		p.failExpected("OPTIONS (model_type = ..., model_path = ...)")
	}
	p.expectOp("(")
	seen := map[string]bool{}
	for {
		o := &ast.ModelOption{At: p.cur().pos}
		t := p.cur()
		switch t.kind {
		case tWord, tQIdent, tString:
			p.i++
			o.Key = strings.ToLower(t.val)
		default:
			p.failExpected("option name")
		}
		if o.Key == "" {
			p.fail(o.At, "empty option name")
		}
		if seen[o.Key] {
			p.fail(o.At, "option "+quoteText(o.Key)+" given twice")
		}
		seen[o.Key] = true
		p.acceptOp("=")
		if p.acceptOp("[") {
			o.IsList = true
			if !p.isOp("]") {
				for {
					o.List = append(o.List, p.stringLit("a string in the list"))
					if !p.acceptOp(",") {
						break
					}
				}
			}
			p.expectOp("]")
		} else if p.isHParam() {
			o.HParam = p.parseHParam(o.Key)
		} else {
			o.Value = p.optionValue()
		}
		cm.Options = append(cm.Options, o)
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	if t := p.cur(); p.acceptKw("AS") {
		if p.acceptOp("(") {
			cm.Query = p.parseQuery()
			p.expectOp(")")
		} else {
			cm.Query = p.parseQuery()
		}
	} else if cm.Transform != nil {
		p.fail(t.pos, "CREATE MODEL ... TRANSFORM (...) needs AS query: the rows its statistics are fitted on")
	}
	// Whether AS query fits a TRANSFORM or trains the model depends on
	// model_type: the session checks.
	return cm
}

// parseOptions parses "(key [=] value, ...)" into opts. Keys are strings or
// dotted identifiers, lower-cased. When partitionBy is non-nil the
// PARTITION_BY / PARTITION BY option is stored there instead.
func (p *parser) parseOptions(opts map[string]string, partitionBy *[]string) {
	p.expectOp("(")
	if p.acceptOp(")") {
		return
	}
	for {
		keyPos := p.cur().pos
		var key string
		switch t := p.cur(); t.kind {
		case tString:
			p.i++
			key = strings.ToLower(t.val)
		case tWord, tQIdent:
			p.i++
			key = t.val
			if t.kind == tQIdent {
				key = strings.ToLower(key)
			}
			for p.isOp(".") {
				p.i++
				key += "." + strings.ToLower(p.label("option name"))
			}
		default:
			p.failExpected("option name")
		}
		if key == "" {
			p.fail(keyPos, "empty option name")
		}
		if key == "partition" && p.isKw("BY") {
			p.i++
			key = "partition_by"
		}
		if partitionBy != nil && key == "partition_by" {
			p.acceptOp("=")
			if p.isOp("(") {
				*partitionBy = p.identList("partition column")
			} else {
				*partitionBy = []string{p.ident("partition column")}
			}
		} else {
			if _, dup := opts[key]; dup {
				p.fail(keyPos, "option "+quoteText(key)+" given twice")
			}
			p.acceptOp("=")
			if p.isOp(",") || p.isOp(")") {
				opts[key] = "true" // bare flag, e.g. (HEADER)
			} else {
				opts[key] = p.optionValue()
			}
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
}

// optionValue parses a string, number, word or boolean option value.
func (p *parser) optionValue() string {
	t := p.cur()
	switch t.kind {
	case tString, tWord, tQIdent:
		p.i++
		return t.val
	case tNumber:
		p.i++
		return t.val
	case tOp:
		if t.val == "-" && p.peek(1).kind == tNumber {
			p.i += 2
			return "-" + p.toks[p.i-1].val
		}
	}
	p.failExpected("option value")
	return ""
}

func (p *parser) parseCopy() *ast.Copy {
	c := &ast.Copy{At: p.expectKw("COPY")}
	if p.isOp("(") {
		p.i++
		c.Query = p.parseQuery()
		p.expectOp(")")
	} else {
		at := p.cur().pos
		c.Table = p.qualifiedName("table name or (query)")
		c.Query = &ast.Query{At: at, Body: &ast.SelectCore{
			At:    at,
			Items: []*ast.SelectItem{{At: at, Star: true}},
			From:  []ast.TableExpr{&ast.TableName{At: at, Name: c.Table}},
		}}
	}
	p.expectKw("TO")
	c.To = p.stringLit("destination string")
	opts := map[string]string{}
	if p.acceptKws("STORED", "AS") {
		t := p.cur()
		if t.kind != tWord && t.kind != tQIdent {
			p.failExpected("file format")
		}
		p.i++
		opts["format"] = t.val
	}
	if p.isKw("WITH") || p.isKw("OPTIONS") {
		p.i++
		p.parseOptions(opts, &c.PartitionBy)
	} else if p.isOp("(") {
		p.parseOptions(opts, &c.PartitionBy)
	}
	if len(opts) > 0 {
		c.Options = opts
	}
	return c
}

func (p *parser) parseDrop() ast.Statement {
	at := p.expectKw("DROP")
	view, model := false, false
	switch {
	case p.acceptKw("TABLE"):
	case p.acceptKw("VIEW"):
		view = true
	case p.acceptKw("MODEL"):
		model = true
	default:
		p.failExpected("TABLE, VIEW or MODEL after DROP")
	}
	ifExists := p.acceptKws("IF", "EXISTS")
	var names [][]string
	for {
		names = append(names, p.qualifiedName("name"))
		if !p.acceptOp(",") {
			break
		}
	}
	if view {
		return &ast.DropView{At: at, Names: names, IfExists: ifExists}
	}
	if model {
		return &ast.DropModel{At: at, Names: names, IfExists: ifExists}
	}
	return &ast.DropTable{At: at, Names: names, IfExists: ifExists}
}

func (p *parser) parseSet() *ast.Set {
	s := &ast.Set{At: p.expectKw("SET")}
	// Setting names are case-insensitive, even when quoted.
	s.Name = strings.ToLower(strings.Join(p.qualifiedName("setting name"), "."))
	if !p.acceptOp("=") && !p.acceptKw("TO") {
		p.failExpected(`"=" or TO`)
	}
	s.Value = p.optionValue()
	return s
}

// isHParam reports whether HPARAM_RANGE( or HPARAM_CANDIDATES( comes next.
func (p *parser) isHParam() bool {
	return (p.isKw("HPARAM_RANGE") || p.isKw("HPARAM_CANDIDATES")) && p.peekOp(1, "(")
}

// parseHParam parses HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([a, b,
// ...]), the search space of the tuned option key: numbers, lo <= hi, at
// least one candidate and none twice. Whether the option can be tuned and
// takes those values is the trainer's to check.
func (p *parser) parseHParam(key string) *ast.HParam {
	t := p.next()
	h := &ast.HParam{At: t.pos, Range: t.upper == "HPARAM_RANGE"}
	p.expectOp("(")
	what := "option " + key + ": " + t.upper
	// number parses a number, with its sign, as written.
	number := func(expected string) float64 {
		at := p.cur().pos
		text := ""
		if p.isOp("-") && p.peek(1).kind == tNumber {
			p.i++
			text = "-"
		}
		if p.cur().kind != tNumber {
			p.failExpected(expected)
		}
		text += p.next().val
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			p.fail(at, what+": "+text+" is not a finite number")
		}
		h.Values, h.Pos = append(h.Values, text), append(h.Pos, at)
		return f
	}
	if h.Range {
		lo := number("the lower bound of " + t.upper + "(lo, hi), a number")
		p.expectOp(",")
		hi := number("the upper bound of " + t.upper + "(lo, hi), a number")
		p.expectOp(")")
		if lo > hi {
			p.fail(h.Pos[0], what+": the lower bound "+h.Values[0]+" is above the upper bound "+h.Values[1])
		}
		return h
	}
	p.expectOp("[")
	if p.isOp("]") {
		p.fail(p.cur().pos, what+" needs at least one candidate")
	}
	seen := map[float64]string{}
	for {
		f := number("a number in the list of " + t.upper + "([a, b, ...])")
		v := h.Values[len(h.Values)-1]
		if prev, ok := seen[f]; ok {
			p.fail(h.Pos[len(h.Pos)-1], what+": candidate "+v+" is given twice (as "+prev+")")
		}
		seen[f] = v
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp("]")
	p.expectOp(")")
	return h
}
