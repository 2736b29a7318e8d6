package parser

import (
	"strconv"
	"strings"

	"github.com/flint-engine/flint/sql/ast"
)

// binaryOps maps operator tokens to binary operators.
var binaryOps = map[string]ast.BinaryOp{
	"+": ast.OpAdd, "-": ast.OpSub, "*": ast.OpMul, "/": ast.OpDiv, "%": ast.OpMod,
	"||": ast.OpConcat, "=": ast.OpEq, "==": ast.OpEq, "<>": ast.OpNotEq, "!=": ast.OpNotEq,
	"<": ast.OpLt, "<=": ast.OpLtEq, ">": ast.OpGt, ">=": ast.OpGtEq,
}

// parseExpr parses an expression whose operators all bind at least as
// tightly as minPrec (precedence climbing; levels are ast.Prec*).
func (p *parser) parseExpr(minPrec int) ast.Expr {
	p.enter()
	defer p.leave()
	left := p.parsePrefix()
	for {
		t := p.cur()
		switch t.kind {
		case tOp:
			if op, ok := binaryOps[t.val]; ok {
				prec := op.Precedence()
				if prec < minPrec {
					return left
				}
				p.i++
				if prec == ast.PrecCmp && (p.isKw("ANY") || p.isKw("SOME") || p.isKw("ALL")) {
					left = p.parseQuantified(left, op, t.pos)
					continue
				}
				right := p.parseExpr(prec + 1)
				left = &ast.Binary{At: t.pos, Op: op, Left: left, Right: right}
				continue
			}
			if t.val == "[" {
				p.i++
				idx := p.parseExpr(0)
				p.expectOp("]")
				left = &ast.Subscript{At: t.pos, Expr: left, Index: idx}
				continue
			}
			if t.val == "::" {
				if ast.PrecCast < minPrec {
					return left
				}
				p.i++
				left = &ast.Cast{At: t.pos, Expr: left, Type: p.parseType(), ColonOp: true}
				continue
			}
			return left
		case tWord:
			var next ast.Expr
			switch t.upper {
			case "AND", "OR":
				op := ast.OpAnd
				if t.upper == "OR" {
					op = ast.OpOr
				}
				prec := op.Precedence()
				if prec < minPrec {
					return left
				}
				p.i++
				right := p.parseExpr(prec + 1)
				next = &ast.Binary{At: t.pos, Op: op, Left: left, Right: right}
			case "IS":
				if ast.PrecIs < minPrec {
					return left
				}
				next = p.parseIs(left)
			case "ISNULL", "NOTNULL":
				if ast.PrecIs < minPrec {
					return left
				}
				p.i++
				next = &ast.IsNull{At: t.pos, Expr: left, Not: t.upper == "NOTNULL"}
			case "NOT":
				u := p.peek(1)
				if u.kind != tWord || !(u.upper == "BETWEEN" || u.upper == "IN" || u.upper == "LIKE" || u.upper == "ILIKE") {
					return left
				}
				if ast.PrecLike < minPrec {
					return left
				}
				p.i++
				next = p.parsePredicate(left, true, t.pos)
			case "BETWEEN", "IN", "LIKE", "ILIKE":
				if ast.PrecLike < minPrec {
					return left
				}
				next = p.parsePredicate(left, false, t.pos)
			default:
				return left
			}
			left = next
		default:
			return left
		}
	}
}

// parseQuantified parses ANY|SOME|ALL (query) after a comparison operator.
func (p *parser) parseQuantified(left ast.Expr, op ast.BinaryOp, at ast.Pos) ast.Expr {
	kw := p.next()
	if !p.isOp("(") {
		p.failExpected(`"(" after ` + kw.upper)
	}
	p.i++
	if !p.looksLikeQuery() {
		p.failExpected("a subquery after " + kw.upper + " (")
	}
	q := p.parseQuery()
	p.expectOp(")")
	return &ast.Quantified{At: at, Op: op, All: kw.upper == "ALL", Expr: left, Query: q}
}

// parseIs parses the part after IS: [NOT] NULL|TRUE|FALSE|UNKNOWN|DISTINCT FROM x.
func (p *parser) parseIs(left ast.Expr) ast.Expr {
	at := p.expectKw("IS")
	not := p.acceptKw("NOT")
	switch {
	case p.acceptKw("NULL"), p.acceptKw("UNKNOWN"):
		return &ast.IsNull{At: at, Expr: left, Not: not}
	case p.acceptKw("TRUE"):
		return &ast.IsBool{At: at, Expr: left, Not: not, Value: true}
	case p.acceptKw("FALSE"):
		return &ast.IsBool{At: at, Expr: left, Not: not, Value: false}
	case p.acceptKws("DISTINCT", "FROM"):
		right := p.parseExpr(ast.PrecIs + 1)
		return &ast.IsDistinctFrom{At: at, Left: left, Right: right, Not: not}
	}
	p.failExpected("NULL, TRUE, FALSE or DISTINCT FROM after IS")
	return nil
}

// parsePredicate parses BETWEEN / IN / LIKE / ILIKE with the cursor on the
// keyword (after NOT when not is set).
func (p *parser) parsePredicate(left ast.Expr, not bool, at ast.Pos) ast.Expr {
	kw := p.next()
	switch kw.upper {
	case "BETWEEN":
		if p.isKw("SYMMETRIC") {
			p.fail(p.cur().pos, "BETWEEN SYMMETRIC is not supported")
		}
		p.acceptKw("ASYMMETRIC")
		low := p.parseExpr(ast.PrecLike + 1)
		p.expectKw("AND")
		high := p.parseExpr(ast.PrecLike + 1)
		return &ast.Between{At: at, Expr: left, Not: not, Low: low, High: high}
	case "IN":
		return p.parseIn(left, not, at)
	default: // LIKE, ILIKE
		l := &ast.Like{At: at, Expr: left, Not: not, ILike: kw.upper == "ILIKE"}
		l.Pattern = p.parseExpr(ast.PrecLike + 1)
		if p.acceptKw("ESCAPE") {
			l.Escape = p.parseExpr(ast.PrecLike + 1)
		}
		return l
	}
}

func (p *parser) parseIn(left ast.Expr, not bool, at ast.Pos) ast.Expr {
	if !p.isOp("(") {
		p.failExpected(`"(" after IN`)
	}
	if p.looksLikeQuery() {
		var q *ast.Query
		err := p.try(func() {
			p.i++
			q = p.parseQuery()
			p.expectOp(")")
		})
		if err == nil {
			return &ast.InSubquery{At: at, Expr: left, Not: not, Query: q}
		}
		if !p.peekOp(1, "(") { // "IN (SELECT" can only be a subquery
			panic(bailout{err})
		}
		var list []ast.Expr
		if err2 := p.try(func() {
			p.i++
			list = p.parseExprList()
			p.expectOp(")")
		}); err2 != nil {
			panic(bailout{further(err, err2)})
		}
		return &ast.InList{At: at, Expr: left, Not: not, List: list}
	}
	p.i++
	list := p.parseExprList()
	p.expectOp(")")
	return &ast.InList{At: at, Expr: left, Not: not, List: list}
}

// parsePrefix parses a primary expression or a prefix operator.
func (p *parser) parsePrefix() ast.Expr {
	t := p.cur()
	switch t.kind {
	case tNumber:
		p.i++
		return &ast.NumberLit{At: t.pos, Text: t.val,
			HasPoint: strings.IndexByte(t.val, '.') >= 0,
			HasExp:   strings.IndexAny(t.val, "eE") >= 0}
	case tString:
		p.i++
		return &ast.StringLit{At: t.pos, Value: t.val}
	case tParam:
		p.i++
		if t.val == "" {
			p.params++
			return &ast.Param{At: t.pos, Index: p.params}
		}
		n, err := strconv.Atoi(t.val)
		if err != nil || n < 1 || n > 65535 {
			p.fail(t.pos, "invalid parameter number "+quoteText("$"+t.val))
		}
		return &ast.Param{At: t.pos, Index: n}
	case tQIdent:
		return p.parseNameExpr()
	case tOp:
		switch t.val {
		case "(":
			return p.parseParenExpr()
		case "[":
			p.i++
			l := &ast.ListLit{At: t.pos}
			if !p.isOp("]") {
				for {
					l.Items = append(l.Items, p.parseExpr(0))
					if !p.acceptOp(",") {
						break
					}
				}
			}
			p.expectOp("]")
			return l
		case "-", "+":
			p.i++
			op := ast.OpNeg
			if t.val == "+" {
				op = ast.OpPlus
			}
			return &ast.Unary{At: t.pos, Op: op, Expr: p.parseExpr(ast.PrecUnary)}
		}
	case tWord:
		return p.parseWordExpr(t)
	}
	p.failExpected("an expression")
	return nil
}

func (p *parser) parseWordExpr(t *token) ast.Expr {
	switch t.upper {
	case "NULL":
		p.i++
		return &ast.NullLit{At: t.pos}
	case "TRUE", "FALSE":
		p.i++
		return &ast.BoolLit{At: t.pos, Value: t.upper == "TRUE"}
	case "NOT":
		p.i++
		e := p.parseExpr(ast.PrecNot)
		if ex, ok := e.(*ast.Exists); ok && !ex.Not {
			ex.Not = true
			ex.At = t.pos
			return ex
		}
		return &ast.Unary{At: t.pos, Op: ast.OpNot, Expr: e}
	case "EXISTS":
		p.i++
		p.expectOp("(")
		q := p.parseQuery()
		p.expectOp(")")
		return &ast.Exists{At: t.pos, Query: q}
	case "CASE":
		return p.parseCase()
	case "CAST", "TRY_CAST":
		p.i++
		p.expectOp("(")
		e := p.parseExpr(0)
		p.expectKw("AS")
		typ := p.parseType()
		p.expectOp(")")
		return &ast.Cast{At: t.pos, Expr: e, Type: typ, Try: t.upper == "TRY_CAST"}
	case "EXTRACT":
		p.i++
		p.expectOp("(")
		f := p.cur()
		if f.kind != tWord && f.kind != tString && f.kind != tQIdent {
			p.failExpected("a date part (YEAR, MONTH, DAY, ...)")
		}
		p.i++
		field := strings.ToUpper(f.val)
		p.expectKw("FROM")
		from := p.parseExpr(0)
		p.expectOp(")")
		return &ast.Extract{At: t.pos, Field: field, From: from}
	case "SUBSTRING":
		return p.parseSubstring()
	case "TRIM":
		return p.parseTrim()
	case "POSITION":
		p.i++
		p.expectOp("(")
		sub := p.parseExpr(ast.PrecLike + 1)
		p.expectKw("IN")
		str := p.parseExpr(0)
		p.expectOp(")")
		return &ast.Position{At: t.pos, Sub: sub, Str: str}
	case "INTERVAL":
		return p.parseInterval()
	case "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP":
		p.i++
		if p.isOp("(") && p.peekOp(1, ")") {
			p.i += 2
		}
		return &ast.FuncCall{At: t.pos, Name: []string{t.val}, NoParens: true}
	case "LEFT", "RIGHT":
		if p.peekOp(1, "(") {
			p.i++
			return p.parseFuncCall(t.pos, []string{t.val})
		}
	case "DATE", "TIME", "TIMESTAMP":
		if p.peek(1).kind == tString {
			p.i++
			s := p.next()
			return &ast.TypedLit{At: t.pos, Type: &ast.TypeName{At: t.pos, Name: t.upper}, Value: s.val}
		}
	}
	if ast.IsReserved(t.upper) {
		p.fail(t.pos, "expected an expression, found reserved keyword "+p.describe(t))
	}
	return p.parseNameExpr()
}

// parseNameExpr parses a column reference or a function call.
func (p *parser) parseNameExpr() ast.Expr {
	at := p.cur().pos
	parts := []string{p.ident("column name")}
	for p.isOp(".") {
		p.i++
		parts = append(parts, p.label("column name"))
	}
	if p.isOp("(") {
		return p.parseFuncCall(at, parts)
	}
	return &ast.ColumnRef{At: at, Parts: parts}
}

// parseFuncCall parses the argument list and trailing FILTER/OVER clauses
// of a call; the cursor is on "(".
func (p *parser) parseFuncCall(at ast.Pos, name []string) *ast.FuncCall {
	f := &ast.FuncCall{At: at, Name: name}
	p.expectOp("(")
	switch {
	case p.isOp("*") && p.peekOp(1, ")"):
		p.i++
		f.Star = true
	case p.isOp(")"):
	default:
		if p.acceptKw("DISTINCT") {
			f.Distinct = true
		} else {
			p.acceptKw("ALL")
		}
		f.Args = p.parseExprList()
		if p.acceptKws("ORDER", "BY") {
			f.OrderBy = p.parseOrderItems()
		}
	}
	p.expectOp(")")
	if p.isKw("FILTER") && p.peekOp(1, "(") {
		p.i += 2
		p.expectKw("WHERE")
		f.Filter = p.parseExpr(0)
		p.expectOp(")")
	}
	if p.isKw("OVER") {
		p.i++
		if p.isOp("(") {
			f.Over = p.parseWindowSpecParens()
		} else {
			wat := p.cur().pos
			f.Over = &ast.WindowSpec{At: wat, Name: p.ident("window name or \"(\"")}
		}
	}
	return f
}

func (p *parser) parseParenExpr() ast.Expr {
	at := p.cur().pos
	if p.looksLikeQuery() {
		if !p.peekOp(1, "(") { // "(SELECT ...": a scalar subquery
			p.i++
			q := p.parseQuery()
			p.expectOp(")")
			return &ast.ScalarSubquery{At: at, Query: q}
		}
		// "((SELECT 1) + 1)" or "((SELECT 1) UNION (SELECT 2))".
		var e ast.Expr
		err := p.try(func() {
			p.i++
			e = p.parseExpr(0)
			p.expectOp(")")
		})
		if err == nil {
			return e
		}
		var q *ast.Query
		if err2 := p.try(func() {
			p.i++
			q = p.parseQuery()
			p.expectOp(")")
		}); err2 != nil {
			panic(bailout{further(err, err2)})
		}
		return &ast.ScalarSubquery{At: at, Query: q}
	}
	p.i++
	e := p.parseExpr(0)
	p.expectOp(")")
	return e
}

func (p *parser) parseCase() ast.Expr {
	c := &ast.Case{At: p.expectKw("CASE")}
	if !p.isKw("WHEN") {
		c.Operand = p.parseExpr(0)
	}
	for p.isKw("WHEN") {
		w := &ast.When{At: p.next().pos}
		w.Cond = p.parseExpr(0)
		p.expectKw("THEN")
		w.Result = p.parseExpr(0)
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		p.failExpected("WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.parseExpr(0)
	}
	p.expectKw("END")
	return c
}

// parseSubstring parses SUBSTRING(x FROM a [FOR b]), SUBSTRING(x FOR b
// [FROM a]) and the plain call form substring(x, a[, b]).
func (p *parser) parseSubstring() ast.Expr {
	at := p.expectKw("SUBSTRING")
	p.expectOp("(")
	e := p.parseExpr(0)
	if p.isOp(",") || p.isOp(")") {
		args := []ast.Expr{e}
		for p.acceptOp(",") {
			args = append(args, p.parseExpr(0))
		}
		p.expectOp(")")
		return &ast.FuncCall{At: at, Name: []string{"substring"}, Args: args}
	}
	s := &ast.Substring{At: at, Expr: e}
	for s.From == nil && p.acceptKw("FROM") || s.For == nil && p.acceptKw("FOR") {
		if p.toks[p.i-1].upper == "FROM" {
			s.From = p.parseExpr(0)
		} else {
			s.For = p.parseExpr(0)
		}
	}
	if s.From == nil && s.For == nil {
		p.failExpected("FROM, FOR or \",\"")
	}
	p.expectOp(")")
	return s
}

// parseTrim parses TRIM([BOTH|LEADING|TRAILING] [chars] FROM x), TRIM(x)
// and TRIM(x, chars).
func (p *parser) parseTrim() ast.Expr {
	tr := &ast.Trim{At: p.expectKw("TRIM")}
	p.expectOp("(")
	switch {
	case p.acceptKw("BOTH"):
		tr.Kind = ast.TrimBoth
	case p.acceptKw("LEADING"):
		tr.Kind = ast.TrimLeading
	case p.acceptKw("TRAILING"):
		tr.Kind = ast.TrimTrailing
	}
	if p.acceptKw("FROM") {
		tr.Expr = p.parseExpr(0)
	} else {
		first := p.parseExpr(0)
		switch {
		case p.acceptKw("FROM"):
			tr.Chars = first
			tr.Expr = p.parseExpr(0)
		case p.acceptOp(","):
			tr.Expr = first
			tr.Chars = p.parseExpr(0)
		default:
			tr.Expr = first
		}
	}
	p.expectOp(")")
	return tr
}

// intervalUnits maps unit spellings to canonical upper-case singular names.
var intervalUnits = map[string]string{
	"YEAR": "YEAR", "YEARS": "YEAR", "QUARTER": "QUARTER", "QUARTERS": "QUARTER",
	"MONTH": "MONTH", "MONTHS": "MONTH", "WEEK": "WEEK", "WEEKS": "WEEK",
	"DAY": "DAY", "DAYS": "DAY", "HOUR": "HOUR", "HOURS": "HOUR",
	"MINUTE": "MINUTE", "MINUTES": "MINUTE", "SECOND": "SECOND", "SECONDS": "SECOND",
	"MILLISECOND": "MILLISECOND", "MILLISECONDS": "MILLISECOND",
	"MICROSECOND": "MICROSECOND", "MICROSECONDS": "MICROSECOND",
}

// parseInterval parses INTERVAL 'v' [unit [TO unit]] or INTERVAL n unit.
func (p *parser) parseInterval() ast.Expr {
	iv := &ast.IntervalLit{At: p.expectKw("INTERVAL")}
	numeric := false
	switch t := p.cur(); {
	case t.kind == tString:
		iv.Value = t.val
		p.i++
	case t.kind == tNumber:
		iv.Value = t.val
		numeric = true
		p.i++
	case t.kind == tOp && t.val == "-" && p.peek(1).kind == tNumber:
		iv.Value = "-" + p.peek(1).val
		numeric = true
		p.i += 2
	default:
		p.failExpected("an interval string such as '3 days' or '3' DAY")
	}
	if t := p.cur(); t.kind == tWord {
		if u, ok := intervalUnits[t.upper]; ok {
			iv.Unit = u
			p.i++
			if p.acceptKw("TO") {
				t2 := p.cur()
				u2, ok := intervalUnits[t2.upper]
				if t2.kind != tWord || !ok {
					p.failExpected("an interval unit after TO")
				}
				iv.ToUnit = u2
				p.i++
			}
		}
	}
	if numeric && iv.Unit == "" {
		p.failExpected("an interval unit (YEAR, MONTH, DAY, ...)")
	}
	return iv
}

// parseType parses a type name with optional parameters and normalizes its
// spelling (see ast.TypeName).
func (p *parser) parseType() *ast.TypeName {
	t := p.cur()
	if t.kind != tWord && t.kind != tQIdent {
		p.failExpected("a type name")
	}
	p.i++
	name := strings.ToUpper(t.val)
	switch name {
	case "INT", "INTEGER", "INT4", "SIGNED":
		name = "INTEGER"
	case "BIGINT", "INT8", "LONG":
		name = "BIGINT"
	case "SMALLINT", "INT2", "SHORT":
		name = "SMALLINT"
	case "TINYINT", "INT1":
		name = "TINYINT"
	case "BOOLEAN", "BOOL":
		name = "BOOLEAN"
	case "REAL", "FLOAT4":
		name = "REAL"
	case "FLOAT8":
		name = "DOUBLE"
	case "DOUBLE":
		p.acceptKw("PRECISION")
	case "DEC":
		name = "DECIMAL"
	case "CHARACTER", "CHAR":
		if p.acceptKw("VARYING") {
			name = "VARCHAR"
		} else {
			name = "CHAR"
		}
	case "BPCHAR":
		name = "CHAR"
	}
	typ := &ast.TypeName{At: t.pos, Name: name}
	if p.isOp("(") {
		p.i++
		for {
			typ.Params = append(typ.Params, p.intLit("a type parameter (integer)"))
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if name == "TIMESTAMP" || name == "TIME" {
		switch {
		case p.acceptKws("WITHOUT", "TIME", "ZONE"):
		case p.acceptKws("WITH", "TIME", "ZONE"):
			typ.Name += "TZ"
		}
	}
	return typ
}

// parseWindowSpecParens parses "( [name] [PARTITION BY ...] [ORDER BY ...]
// [frame] )".
func (p *parser) parseWindowSpecParens() *ast.WindowSpec {
	w := &ast.WindowSpec{At: p.expectOp("(")}
	if p.isIdent() && !(p.isKw("PARTITION") && p.peekKw(1, "BY")) && !p.isFrameStart() {
		w.Name = p.ident("window name")
	}
	if p.acceptKws("PARTITION", "BY") {
		w.PartitionBy = p.parseExprList()
	}
	if p.acceptKws("ORDER", "BY") {
		w.OrderBy = p.parseOrderItems()
	}
	if p.isFrameStart() {
		w.Frame = p.parseFrame()
	}
	p.expectOp(")")
	return w
}

func (p *parser) isFrameStart() bool {
	return p.isKw("ROWS") || p.isKw("RANGE") || p.isKw("GROUPS")
}

func (p *parser) parseFrame() *ast.Frame {
	t := p.next()
	f := &ast.Frame{At: t.pos}
	switch t.upper {
	case "RANGE":
		f.Unit = ast.FrameRange
	case "GROUPS":
		f.Unit = ast.FrameGroups
	}
	if p.acceptKw("BETWEEN") {
		f.Start = p.parseFrameBound()
		p.expectKw("AND")
		f.End = p.parseFrameBound()
	} else {
		f.Start = p.parseFrameBound()
		f.End = ast.FrameBound{At: f.Start.At, Kind: ast.CurrentRow}
	}
	if f.Start.Kind == ast.UnboundedFollowing {
		p.fail(f.Start.At, "frame start cannot be UNBOUNDED FOLLOWING")
	}
	if f.End.Kind == ast.UnboundedPreceding {
		p.fail(f.End.At, "frame end cannot be UNBOUNDED PRECEDING")
	}
	if f.Start.Kind > f.End.Kind {
		p.fail(f.Start.At, "frame starts after it ends ("+f.Start.String()+" AND "+f.End.String()+")")
	}
	return f
}

func (p *parser) parseFrameBound() ast.FrameBound {
	at := p.cur().pos
	switch {
	case p.acceptKws("UNBOUNDED", "PRECEDING"):
		return ast.FrameBound{At: at, Kind: ast.UnboundedPreceding}
	case p.acceptKws("UNBOUNDED", "FOLLOWING"):
		return ast.FrameBound{At: at, Kind: ast.UnboundedFollowing}
	case p.acceptKws("CURRENT", "ROW"):
		return ast.FrameBound{At: at, Kind: ast.CurrentRow}
	}
	off := p.parseExpr(ast.PrecAdd)
	switch {
	case p.acceptKw("PRECEDING"):
		return ast.FrameBound{At: at, Kind: ast.Preceding, Offset: off}
	case p.acceptKw("FOLLOWING"):
		return ast.FrameBound{At: at, Kind: ast.Following, Offset: off}
	}
	p.failExpected("PRECEDING or FOLLOWING")
	return ast.FrameBound{}
}
