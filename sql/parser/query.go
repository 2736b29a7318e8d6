package parser

import "github.com/flint-engine/flint/sql/ast"

// parseQuery parses [WITH ...] body [ORDER BY ...] [LIMIT ...] [OFFSET ...]
// [FETCH FIRST n ROWS ONLY].
func (p *parser) parseQuery() *ast.Query {
	p.enter()
	defer p.leave()
	q := &ast.Query{At: p.cur().pos}
	if p.acceptKw("WITH") {
		q.Recursive = p.acceptKw("RECURSIVE")
		for {
			c := &ast.CTE{At: p.cur().pos}
			c.Name = p.ident("CTE name")
			if p.isOp("(") {
				c.Columns = p.identList("column name")
			}
			p.expectKw("AS")
			p.acceptKws("NOT", "MATERIALIZED")
			p.acceptKw("MATERIALIZED")
			p.expectOp("(")
			c.Query = p.parseQuery()
			p.expectOp(")")
			q.With = append(q.With, c)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	q.Body = p.parseSetOps(0)
	if p.acceptKws("ORDER", "BY") {
		q.OrderBy = p.parseOrderItems()
	}
	for {
		switch {
		case p.isKw("LIMIT"):
			if q.Limit != nil {
				p.fail(p.cur().pos, "LIMIT given twice")
			}
			p.i++
			if !p.acceptKw("ALL") {
				q.Limit = p.parseExpr(0)
			}
		case p.isKw("OFFSET"):
			if q.Offset != nil {
				p.fail(p.cur().pos, "OFFSET given twice")
			}
			p.i++
			q.Offset = p.parseExpr(0)
			if !p.acceptKw("ROWS") {
				p.acceptKw("ROW")
			}
		case p.isKw("FETCH"):
			if q.Limit != nil {
				p.fail(p.cur().pos, "LIMIT given twice (FETCH after LIMIT)")
			}
			p.i++
			if !p.acceptKw("FIRST") && !p.acceptKw("NEXT") {
				p.failExpected("FIRST or NEXT")
			}
			if p.isKw("ROW") || p.isKw("ROWS") {
				q.Limit = &ast.NumberLit{At: p.cur().pos, Text: "1"}
			} else {
				q.Limit = p.parseExpr(ast.PrecAdd)
			}
			if !p.acceptKw("ROWS") && !p.acceptKw("ROW") {
				p.failExpected("ROWS")
			}
			p.expectKw("ONLY")
		default:
			return q
		}
	}
}

func setOpPrec(t *token) (ast.SetOpKind, int, bool) {
	if t.kind != tWord {
		return 0, 0, false
	}
	switch t.upper {
	case "UNION":
		return ast.Union, 1, true
	case "EXCEPT":
		return ast.Except, 1, true
	case "INTERSECT":
		return ast.Intersect, 2, true
	}
	return 0, 0, false
}

// parseSetOps parses set operations by precedence climbing; INTERSECT binds
// tighter than UNION and EXCEPT, all are left-associative.
func (p *parser) parseSetOps(minPrec int) ast.QueryBody {
	left := p.parseSetOperand()
	for {
		op, prec, ok := setOpPrec(p.cur())
		if !ok || prec < minPrec {
			return left
		}
		at := p.next().pos
		all := p.acceptKw("ALL")
		if !all {
			p.acceptKw("DISTINCT")
		}
		p.enter()
		right := p.parseSetOps(prec + 1)
		p.leave()
		left = &ast.SetOp{At: at, Op: op, All: all, Left: left, Right: right}
	}
}

func (p *parser) parseSetOperand() ast.QueryBody {
	t := p.cur()
	switch {
	case t.kind == tOp && t.val == "(":
		p.i++
		q := p.parseQuery()
		p.expectOp(")")
		if q.With == nil && q.OrderBy == nil && q.Limit == nil && q.Offset == nil {
			return q.Body
		}
		q.At = t.pos
		return q
	case p.isKw("SELECT"):
		return p.parseSelectCore()
	case p.isKw("VALUES"):
		return p.parseValues()
	}
	p.failExpected("SELECT, VALUES or \"(\"")
	return nil
}

func (p *parser) parseValues() *ast.Values {
	v := &ast.Values{At: p.expectKw("VALUES")}
	for {
		p.expectOp("(")
		row := p.parseExprList()
		p.expectOp(")")
		if len(v.Rows) > 0 && len(row) != len(v.Rows[0]) {
			p.fail(p.toks[p.i-1].pos, "VALUES rows must all have the same number of columns")
		}
		v.Rows = append(v.Rows, row)
		if !p.acceptOp(",") {
			return v
		}
	}
}

func (p *parser) parseExprList() []ast.Expr {
	var list []ast.Expr
	for {
		list = append(list, p.parseExpr(0))
		if !p.acceptOp(",") {
			return list
		}
	}
}

func (p *parser) parseOrderItems() []*ast.OrderItem {
	var items []*ast.OrderItem
	for {
		o := &ast.OrderItem{At: p.cur().pos}
		o.Expr = p.parseExpr(0)
		if p.acceptKw("DESC") {
			o.Desc = true
		} else {
			p.acceptKw("ASC")
		}
		if p.acceptKw("NULLS") {
			switch {
			case p.acceptKw("FIRST"):
				v := true
				o.NullsFirst = &v
			case p.acceptKw("LAST"):
				v := false
				o.NullsFirst = &v
			default:
				p.failExpected("FIRST or LAST after NULLS")
			}
		}
		items = append(items, o)
		if !p.acceptOp(",") {
			return items
		}
	}
}

func (p *parser) parseSelectCore() *ast.SelectCore {
	s := &ast.SelectCore{At: p.expectKw("SELECT")}
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	for {
		s.Items = append(s.Items, p.parseSelectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("FROM") {
		for {
			s.From = append(s.From, p.parseTableExpr())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("WHERE") {
		s.Where = p.parseExpr(0)
	}
	if p.acceptKws("GROUP", "BY") {
		if p.acceptKw("ALL") {
			s.GroupByAll = true
		} else {
			s.GroupBy = p.parseGroupByList()
		}
	}
	if p.acceptKw("HAVING") {
		s.Having = p.parseExpr(0)
	}
	if p.acceptKw("WINDOW") {
		for {
			w := &ast.NamedWindow{At: p.cur().pos}
			w.Name = p.ident("window name")
			p.expectKw("AS")
			w.Spec = p.parseWindowSpecParens()
			s.Windows = append(s.Windows, w)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("QUALIFY") {
		s.Qualify = p.parseExpr(0)
	}
	return s
}

func (p *parser) parseSelectItem() *ast.SelectItem {
	it := &ast.SelectItem{At: p.cur().pos}
	if p.acceptOp("*") {
		it.Star = true
		return it
	}
	// t.* / s.t.*: a name followed by ".*".
	if p.isIdent() {
		k := 1
		for p.peekOp(k, ".") && (p.peek(k+1).kind == tWord || p.peek(k+1).kind == tQIdent) {
			k += 2
		}
		if p.peekOp(k, ".") && p.peekOp(k+1, "*") {
			it.Star = true
			it.StarTable = p.qualifiedName("table name")
			p.i += 2
			return it
		}
	}
	it.Expr = p.parseExpr(0)
	it.Alias = p.parseAlias(true)
	return it
}

// parseAlias parses an optional [AS] alias. Without AS only a non-reserved
// identifier is taken; after AS any word is allowed when anyWord is set
// (column labels), else only identifiers.
func (p *parser) parseAlias(anyWord bool) string {
	if p.acceptKw("AS") {
		if anyWord {
			if p.cur().kind == tString { // DuckDB-style AS 'name'
				return p.next().val
			}
			return p.label("alias")
		}
		return p.ident("alias")
	}
	if p.isIdent() {
		t := p.next()
		if t.kind == tWord {
			p.checkMisspelledKeyword(t)
		}
		return t.val
	}
	return ""
}

// clauseKeywords are the keywords that can follow a select item or a table
// and are worth suggesting when misspelled.
var clauseKeywords = []string{"FROM", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT",
	"UNION", "JOIN", "INNER", "LEFT", "RIGHT", "OUTER", "CROSS", "SELECT", "OFFSET",
	"EXCEPT", "INTERSECT", "WINDOW", "USING"}

// checkMisspelledKeyword turns "SELECT a FORM t" into `expected FROM, found
// "FORM"` instead of taking FORM as an alias and failing later at "t". It
// only fires when the alias is followed by something that cannot follow an
// alias (so a valid statement is never rejected) and the alias is one edit
// away from a clause keyword.
func (p *parser) checkMisspelledKeyword(alias *token) {
	switch n := p.cur(); n.kind {
	case tWord:
		if ast.IsReserved(n.upper) {
			return
		}
	case tQIdent, tNumber, tString, tParam:
	default:
		return
	}
	if len(alias.upper) < 3 {
		return
	}
	for _, kw := range clauseKeywords {
		if oneEditApart(alias.upper, kw) {
			p.fail(alias.pos, "expected "+kw+", found "+p.describe(alias))
		}
	}
}

// oneEditApart reports whether a and b differ by exactly one substitution,
// insertion, deletion or transposition of adjacent characters.
func oneEditApart(a, b string) bool {
	if a == b {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	switch len(b) - len(a) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case 1:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		return a[i:] == b[i+1:]
	}
	return false
}

// parseTableExpr parses a FROM item with its chain of joins.
func (p *parser) parseTableExpr() ast.TableExpr {
	left := p.parseTablePrimary()
	for {
		at := p.cur().pos
		natural := p.acceptKw("NATURAL")
		var jt ast.JoinType
		switch {
		case p.acceptKw("JOIN"):
			jt = ast.InnerJoin
		case p.acceptKws("INNER", "JOIN"):
			jt = ast.InnerJoin
		case p.acceptKws("LEFT", "OUTER", "JOIN"), p.acceptKws("LEFT", "JOIN"):
			jt = ast.LeftJoin
		case p.acceptKws("RIGHT", "OUTER", "JOIN"), p.acceptKws("RIGHT", "JOIN"):
			jt = ast.RightJoin
		case p.acceptKws("FULL", "OUTER", "JOIN"), p.acceptKws("FULL", "JOIN"):
			jt = ast.FullJoin
		case p.acceptKws("CROSS", "JOIN"):
			if natural {
				p.fail(at, "NATURAL CROSS JOIN is not valid")
			}
			jt = ast.CrossJoin
		default:
			if natural {
				p.failExpected("JOIN after NATURAL")
			}
			if p.isKw("INNER") || p.isKw("LEFT") || p.isKw("RIGHT") || p.isKw("FULL") || p.isKw("CROSS") {
				p.i++
				if p.isKw("OUTER") {
					p.i++
				}
				p.failExpected("JOIN")
			}
			return left
		}
		j := &ast.Join{At: at, Type: jt, Natural: natural, Left: left}
		j.Right = p.parseTablePrimary()
		if jt != ast.CrossJoin && !natural {
			switch {
			case p.acceptKw("ON"):
				j.On = p.parseExpr(0)
			case p.acceptKw("USING"):
				j.Using = p.identList("column name")
			default:
				p.failExpected("ON or USING")
			}
		}
		left = j
	}
}

// looksLikeQuery reports whether the tokens at the cursor, after any number
// of "(", start a query.
func (p *parser) looksLikeQuery() bool {
	k := 0
	for p.peekOp(k, "(") {
		k++
	}
	t := p.peek(k)
	return t.kind == tWord && (t.upper == "SELECT" || t.upper == "WITH" || t.upper == "VALUES")
}

// try runs f; if f fails, it rewinds and returns the error.
func (p *parser) try(f func()) (err *Error) {
	save, saveParams, saveDepth := p.i, p.params, p.depth
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			p.i, p.params, p.depth = save, saveParams, saveDepth
			err = b.err
		}
	}()
	f()
	return nil
}

// further returns whichever error happened later in the text: the
// alternative that got further is most likely what the user meant.
func further(a, b *Error) *Error {
	if b.Pos.Offset > a.Pos.Offset {
		return b
	}
	return a
}

func (p *parser) parseTablePrimary() ast.TableExpr {
	p.enter()
	defer p.leave()
	at := p.cur().pos
	if p.isOp("(") {
		if p.looksLikeQuery() {
			// "(SELECT ...) alias" or "((SELECT ...) UNION ...) alias"; a
			// parenthesized join that starts with a subquery is the rare
			// alternative.
			var dt *ast.DerivedTable
			err := p.try(func() {
				p.i++
				q := p.parseQuery()
				p.expectOp(")")
				dt = &ast.DerivedTable{At: at, Subquery: q}
			})
			if err == nil {
				dt.Alias = p.parseAlias(false)
				if dt.Alias != "" && p.isOp("(") {
					dt.ColumnAliases = p.identList("column alias")
				}
				return dt
			}
			var te ast.TableExpr
			err2 := p.try(func() { te = p.parseParenJoin() })
			if err2 != nil {
				panic(bailout{further(err, err2)})
			}
			return te
		}
		return p.parseParenJoin()
	}
	name := p.qualifiedName("table name")
	if p.isOp("(") {
		tf := &ast.TableFunction{At: at, Name: name}
		p.i++
		if !p.isOp(")") {
			tf.Args = p.parseTableFuncArgs()
		}
		p.expectOp(")")
		tf.Alias = p.parseAlias(false)
		if tf.Alias != "" && p.isOp("(") {
			tf.ColumnAliases = p.identList("column alias")
		}
		return tf
	}
	tn := &ast.TableName{At: at, Name: name}
	tn.Alias = p.parseAlias(false)
	if tn.Alias != "" && p.isOp("(") {
		tn.ColumnAliases = p.identList("column alias")
	}
	return tn
}

// parseTableFuncArgs parses the arguments of a table function:
// expressions, MODEL name and TABLE name.
func (p *parser) parseTableFuncArgs() []ast.Expr {
	var args []ast.Expr
	for {
		t := p.cur()
		switch {
		case p.isKw("MODEL") && p.isIdentAt(1):
			p.i++
			args = append(args, &ast.ModelArg{At: t.pos, Name: p.qualifiedName("model name")})
		case p.isKw("TABLE"):
			p.i++
			args = append(args, &ast.TableArg{At: t.pos, Name: p.qualifiedName("table name")})
		default:
			args = append(args, p.parseExpr(0))
		}
		if !p.acceptOp(",") {
			return args
		}
	}
}

// parseParenJoin parses "( table_expr )", e.g. "(a JOIN b ON ...)".
func (p *parser) parseParenJoin() ast.TableExpr {
	p.expectOp("(")
	te := p.parseTableExpr()
	p.expectOp(")")
	return te
}

// parseGroupByList parses the GROUP BY items: expressions, ROLLUP (...),
// CUBE (...), GROUPING SETS (...), "(a, b)" and "()".
func (p *parser) parseGroupByList() []ast.Expr {
	var list []ast.Expr
	for {
		list = append(list, p.parseGroupItem())
		if !p.acceptOp(",") {
			return list
		}
	}
}

func (p *parser) parseGroupItem() ast.Expr {
	at := p.cur().pos
	kind := ast.GroupingList
	switch {
	case p.isKw("GROUPING") && p.peekKw(1, "SETS") && p.peekOp(2, "("):
		p.i += 2
		p.enter()
		defer p.leave()
		return &ast.GroupingSet{At: at, Kind: ast.GroupingSets, Items: p.parseGroupParens(p.parseGroupItem)}
	case p.isKw("ROLLUP") && p.peekOp(1, "("):
		kind = ast.GroupingRollup
	case p.isKw("CUBE") && p.peekOp(1, "("):
		kind = ast.GroupingCube
	default:
		return p.parseGroupKey()
	}
	p.i++
	if p.peekOp(1, ")") {
		p.i++
		p.failExpected("an expression")
	}
	return &ast.GroupingSet{At: at, Kind: kind, Items: p.parseGroupParens(p.parseGroupKey)}
}

// parseGroupParens parses "(" item {"," item} ")".
func (p *parser) parseGroupParens(item func() ast.Expr) []ast.Expr {
	p.expectOp("(")
	var items []ast.Expr
	for {
		items = append(items, item())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return items
}

// parseGroupKey parses a key expression or a parenthesized key list:
// "(a, b)" (one composite key set) or "()" (the empty set). "(a)" is the
// expression a.
func (p *parser) parseGroupKey() ast.Expr {
	if p.isOp("(") {
		at := p.cur().pos
		if p.peekOp(1, ")") {
			p.i += 2
			return &ast.GroupingSet{At: at, Kind: ast.GroupingList}
		}
		if !p.looksLikeQuery() {
			var items []ast.Expr
			if p.try(func() {
				p.i++
				items = p.parseExprList()
				p.expectOp(")")
				if len(items) < 2 {
					p.fail(at, "not a key list")
				}
			}) == nil {
				return &ast.GroupingSet{At: at, Kind: ast.GroupingList, Items: items}
			}
		}
	}
	return p.parseExpr(0)
}
