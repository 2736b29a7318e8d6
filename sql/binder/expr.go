package binder

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/types"
)

// exprCtx is what an expression may see and contain.
type exprCtx struct {
	sc *scope
	// agg is set while binding SELECT/HAVING/ORDER BY of an aggregating
	// query: aggregate calls are collected there and other column
	// references must match a GROUP BY expression.
	agg *aggCtx
	// win is set where window functions are allowed.
	win *winCtx
	// inAgg marks aggregate arguments (nested aggregates are errors).
	inAgg bool
	// clause names the clause for error messages ("WHERE", ...).
	clause string
	// windows holds the WINDOW clause definitions of the query.
	windows map[string]*ast.WindowSpec
	env     *cteEnv
	// aliases are the SELECT list's aliases (lower case) where a name that
	// is no column may refer to one (DuckDB: HAVING, QUALIFY, window
	// specs and later SELECT items); expanding lists the aliases being
	// expanded, so that an alias cannot reach itself.
	aliases   map[string]ast.Expr
	expanding map[string]bool
}

// alias returns the SELECT item an unqualified name refers to, when the
// context allows aliases and the name is not being expanded already.
func (c *exprCtx) alias(x *ast.ColumnRef) (ast.Expr, bool) {
	if len(x.Parts) != 1 || c.aliases == nil {
		return nil, false
	}
	k := strings.ToLower(x.Parts[0])
	if c.expanding[k] {
		return nil, false
	}
	e, ok := c.aliases[k]
	return e, ok
}

func (c *exprCtx) plain() *exprCtx {
	p := *c
	p.agg, p.win = nil, nil
	return &p
}

// bindExpr binds e. In an aggregating context it first tries to match a
// whole aggregate-free subexpression against the GROUP BY expressions.
func (b *Binder) bindExpr(e ast.Expr, ctx *exprCtx) (plan.Expr, error) {
	if ctx.agg != nil && !ctx.inAgg {
		if fc, ok := e.(*ast.FuncCall); ok && fc.Over == nil && isAggregateCall(fc) {
			return b.bindAggCall(fc, ctx)
		}
		if ref, ok := ctx.agg.matchGroupSQL(e); ok {
			return ref, nil
		}
		if !containsSpecial(e) && !b.refsSpecialAlias(e, ctx) {
			p, err := b.bindExprInner(e, ctx.plain())
			if err != nil {
				return nil, err
			}
			if ref, ok := ctx.agg.matchGroup(p); ok {
				return ref, nil
			}
			if !ctx.agg.usesInput(p) {
				return p, nil
			}
			if cr, ok := e.(*ast.ColumnRef); ok {
				return nil, b.errf(cr.At, "column %s must appear in the GROUP BY clause or be used in an aggregate function", cr.String())
			}
		}
	}
	return b.bindExprInner(e, ctx)
}

func (b *Binder) bindExprInner(e ast.Expr, ctx *exprCtx) (plan.Expr, error) {
	switch x := e.(type) {
	case *ast.ColumnRef:
		col, _, err := b.resolve(ctx.sc, x)
		if err != nil {
			if e, ok := ctx.alias(x); ok {
				// A SELECT alias stands for its expression, bound here.
				inner := *ctx
				inner.expanding = map[string]bool{strings.ToLower(x.Parts[0]): true}
				for k := range ctx.expanding {
					inner.expanding[k] = true
				}
				return b.bindExpr(e, &inner)
			}
			return nil, err
		}
		if ctx.agg != nil && !ctx.inAgg && ctx.agg.inputIDs().Has(col.ID) {
			if ref, ok := ctx.agg.matchGroup(col.Ref()); ok {
				return ref, nil
			}
			return nil, b.errf(x.At, "column %s must appear in the GROUP BY clause or be used in an aggregate function", x.String())
		}
		return col.Ref(), nil
	case *ast.NumberLit:
		return b.numberLiteral(x)
	case *ast.StringLit:
		return lit(x.Value, types.String), nil
	case *ast.BoolLit:
		return lit(x.Value, types.Boolean), nil
	case *ast.NullLit:
		return lit(nil, types.Null), nil
	case *ast.TypedLit:
		t, err := types.ParseTypeName(x.Type.Name, x.Type.Params)
		if err != nil {
			return nil, b.errf(x.At, "%v", err)
		}
		v, _, err := convertLiteral(x.Value, types.String, t)
		if err != nil {
			return nil, b.errf(x.At, "invalid %s literal '%s': %v", types.TypeName(t), x.Value, err)
		}
		return lit(v, t), nil
	case *ast.IntervalLit:
		unit := x.Unit
		if x.ToUnit != "" {
			return nil, b.errf(x.At, "INTERVAL ... %s TO %s is not supported; write e.g. INTERVAL '1 year 2 months'", x.Unit, x.ToUnit)
		}
		iv, err := types.ParseInterval(x.Value, unit)
		if err != nil {
			return nil, b.errf(x.At, "%v", err)
		}
		return lit(iv, types.Interval), nil
	case *ast.Param:
		return nil, b.errf(x.At, "query parameters are not supported")
	case *ast.Binary:
		return b.bindBinary(x, ctx)
	case *ast.Unary:
		inner, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case ast.OpPlus:
			if !types.IsNumeric(inner.Type()) && !types.IsNull(inner.Type()) {
				return nil, b.errf(x.At, "cannot apply unary + to %s (%s)", x.Expr.String(), types.TypeName(inner.Type()))
			}
			return inner, nil
		case ast.OpNeg:
			t := inner.Type()
			if !types.IsNumeric(t) && t.ID() != arrow.INTERVAL_MONTH_DAY_NANO && !types.IsNull(t) {
				return nil, b.errf(x.At, "cannot negate %s (%s)", x.Expr.String(), types.TypeName(t))
			}
			if l, ok := inner.(*plan.Literal); ok {
				if n, ok := negateLiteral(l); ok {
					return n, nil
				}
				if v, ok := l.Value.(int64); ok && l.Typ.ID() == arrow.INT32 && v == 2147483648 {
					return lit(int64(-2147483648), types.Int32), nil
				}
			}
			return &plan.Unary{Op: plan.OpNeg, E: inner}, nil
		default:
			inner, err = b.requireBool(inner, x.Expr, "NOT")
			if err != nil {
				return nil, err
			}
			return &plan.Unary{Op: plan.OpNot, E: inner}, nil
		}
	case *ast.IsNull:
		inner, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		op := plan.OpIsNull
		if x.Not {
			op = plan.OpIsNotNull
		}
		return &plan.Unary{Op: op, E: inner}, nil
	case *ast.IsBool:
		inner, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		if inner, err = b.requireBool(inner, x.Expr, "IS TRUE/FALSE"); err != nil {
			return nil, err
		}
		// x IS TRUE  == x IS NOT NULL AND x; x IS FALSE == x IS NOT NULL AND NOT x.
		var v plan.Expr = inner
		if !x.Value {
			v = &plan.Unary{Op: plan.OpNot, E: inner}
		}
		res := plan.And(&plan.Unary{Op: plan.OpIsNotNull, E: inner}, v)
		if x.Not {
			res = &plan.Unary{Op: plan.OpNot, E: res}
		}
		return res, nil
	case *ast.IsDistinctFrom:
		l, r, err := b.bindPair(x.Left, x.Right, ctx)
		if err != nil {
			return nil, err
		}
		op := plan.OpIsDistinct
		if x.Not {
			op = plan.OpIsNotDistinct
		}
		return b.compare(op, l, r, x.At, x.Left, x.Right)
	case *ast.Between:
		v, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		lo, err := b.bindExpr(x.Low, ctx)
		if err != nil {
			return nil, err
		}
		hi, err := b.bindExpr(x.High, ctx)
		if err != nil {
			return nil, err
		}
		if x.Not {
			c1, err := b.compare(plan.OpLt, v, lo, x.At, x.Expr, x.Low)
			if err != nil {
				return nil, err
			}
			c2, err := b.compare(plan.OpGt, v, hi, x.At, x.Expr, x.High)
			if err != nil {
				return nil, err
			}
			return plan.Or(c1, c2), nil
		}
		c1, err := b.compare(plan.OpGtEq, v, lo, x.At, x.Expr, x.Low)
		if err != nil {
			return nil, err
		}
		c2, err := b.compare(plan.OpLtEq, v, hi, x.At, x.Expr, x.High)
		if err != nil {
			return nil, err
		}
		return plan.And(c1, c2), nil
	case *ast.InList:
		return b.bindInList(x, ctx)
	case *ast.InSubquery:
		v, sub, err := b.bindCompareSubquery(x.Expr, x.Query, "IN", x.At, ctx)
		if err != nil {
			return nil, err
		}
		return &plan.Subquery{Kind: plan.SubIn, Plan: sub, E: v, Negated: x.Not, Typ: types.Boolean}, nil
	case *ast.Quantified:
		op, ok := comparisonOps[x.Op]
		if !ok {
			return nil, b.errf(x.At, "%s ANY/ALL needs a comparison operator", x.Op)
		}
		what := "ANY"
		if x.All {
			what = "ALL"
		}
		v, sub, err := b.bindCompareSubquery(x.Expr, x.Query, what, x.At, ctx)
		if err != nil {
			return nil, err
		}
		// = ANY is IN and <> ALL is NOT IN; op ALL is NOT (negated op ANY).
		out := &plan.Subquery{Kind: plan.SubAny, Plan: sub, E: v, Op: op, Typ: types.Boolean}
		if x.All {
			out.Op, out.Negated = op.Negate(), true
		}
		if out.Op == plan.OpEq {
			out.Kind, out.Op = plan.SubIn, ""
		}
		return out, nil
	case *ast.Exists:
		sub, err := b.bindSubquery(x.Query, ctx)
		if err != nil {
			return nil, err
		}
		out := &plan.Subquery{Kind: plan.SubExists, Plan: sub, Negated: x.Not, Typ: types.Boolean}
		if err := b.checkAggCorrelation(out, ctx, x.At); err != nil {
			return nil, err
		}
		return out, nil
	case *ast.ScalarSubquery:
		sub, err := b.bindSubquery(x.Query, ctx)
		if err != nil {
			return nil, err
		}
		sch := sub.Schema()
		if len(sch) != 1 {
			return nil, b.errf(x.At, "scalar subquery must return one column, got %d", len(sch))
		}
		out := &plan.Subquery{Kind: plan.SubScalar, Plan: sub, Typ: sch[0].Type}
		if err := b.checkAggCorrelation(out, ctx, x.At); err != nil {
			return nil, err
		}
		return out, nil
	case *ast.Like:
		return b.bindLike(x, ctx)
	case *ast.Case:
		return b.bindCase(x, ctx)
	case *ast.Cast:
		inner, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		t, err := types.ParseTypeName(x.Type.Name, x.Type.Params)
		if err != nil {
			return nil, b.errf(x.Type.At, "%v", err)
		}
		if !types.CanCast(inner.Type(), t) {
			return nil, b.errf(x.At, "cannot cast %s (%s) to %s", x.Expr.String(), types.TypeName(inner.Type()), types.TypeName(t))
		}
		if x.Try {
			if arrow.TypeEqual(inner.Type(), t) {
				return inner, nil
			}
			if l, ok := inner.(*plan.Literal); ok {
				v, _, err := convertLiteral(l.Value, l.Typ, t)
				if err != nil {
					v = nil
				}
				return lit(v, t), nil
			}
			// A function, not a plan.Cast: no rule may treat it as a
			// cast that can fail, and the wire carries it by name.
			return &plan.Func{Name: plan.TryCastFunc, Args: []plan.Expr{inner}, Typ: t}, nil
		}
		return b.castTo(inner, t, x.At)
	case *ast.FuncCall:
		return b.bindFuncCall(x, ctx)
	case *ast.ListLit:
		items := make([]plan.Expr, len(x.Items))
		for i, it := range x.Items {
			var err error
			if items[i], err = b.bindExpr(it, ctx); err != nil {
				return nil, err
			}
		}
		if len(items) == 0 {
			return nil, b.errf(x.At, "an empty list [] has no element type; write at least one element")
		}
		return b.callFunc(types.ListValue, items, x.At, x.String())
	case *ast.Subscript:
		l, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		i, err := b.bindExpr(x.Index, ctx)
		if err != nil {
			return nil, err
		}
		return b.callFunc(types.ListExtract, []plan.Expr{l, i}, x.At, x.String())
	case *ast.ModelArg, *ast.TableArg:
		return nil, b.errf(x.Pos(), "%s is an argument of a table function such as ml.predict, not a value", x.String())
	case *ast.Extract:
		from, err := b.bindExpr(x.From, ctx)
		if err != nil {
			return nil, err
		}
		return b.callFunc("extract", []plan.Expr{lit(strings.ToLower(x.Field), types.String), from}, x.At, "EXTRACT")
	case *ast.Substring:
		s, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		args := []plan.Expr{s}
		if x.From != nil {
			f, err := b.bindExpr(x.From, ctx)
			if err != nil {
				return nil, err
			}
			args = append(args, f)
		} else {
			args = append(args, lit(int64(1), types.Int64))
		}
		if x.For != nil {
			f, err := b.bindExpr(x.For, ctx)
			if err != nil {
				return nil, err
			}
			args = append(args, f)
		}
		return b.callFunc("substring", args, x.At, "SUBSTRING")
	case *ast.Trim:
		s, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		args := []plan.Expr{s}
		if x.Chars != nil {
			c, err := b.bindExpr(x.Chars, ctx)
			if err != nil {
				return nil, err
			}
			args = append(args, c)
		}
		name := map[ast.TrimKind]string{ast.TrimBoth: "trim", ast.TrimLeading: "ltrim", ast.TrimTrailing: "rtrim"}[x.Kind]
		return b.callFunc(name, args, x.At, "TRIM")
	case *ast.Position:
		sub, str, err := b.bindPair(x.Sub, x.Str, ctx)
		if err != nil {
			return nil, err
		}
		return b.callFunc("strpos", []plan.Expr{str, sub}, x.At, "POSITION")
	}
	return nil, b.errf(e.Pos(), "unsupported expression %s", e.String())
}

// comparisonOps maps the SQL comparisons allowed before ANY/ALL.
var comparisonOps = map[ast.BinaryOp]plan.BinaryOp{
	ast.OpEq: plan.OpEq, ast.OpNotEq: plan.OpNotEq, ast.OpLt: plan.OpLt,
	ast.OpLtEq: plan.OpLtEq, ast.OpGt: plan.OpGt, ast.OpGtEq: plan.OpGtEq,
}

// bindCompareSubquery binds the operand and the one-column subquery of
// x IN (q) or x op ANY/ALL (q), casting both to their comparison type (the
// subquery's column through a projection).
func (b *Binder) bindCompareSubquery(e ast.Expr, q *ast.Query, what string, at ast.Pos, ctx *exprCtx) (plan.Expr, plan.Node, error) {
	v, err := b.bindExpr(e, ctx)
	if err != nil {
		return nil, nil, err
	}
	sub, err := b.bindSubquery(q, ctx)
	if err != nil {
		return nil, nil, err
	}
	sch := sub.Schema()
	if len(sch) != 1 {
		return nil, nil, b.errf(at, "subquery of %s must return one column, got %d", what, len(sch))
	}
	st := sch[0].Type
	t, err := types.ComparisonType(v.Type(), st)
	if err != nil {
		return nil, nil, b.errf(at, "cannot compare %s (%s) with the %s subquery's column (%s)", e.String(), types.TypeName(v.Type()), what, types.TypeName(st))
	}
	if !arrow.TypeEqual(st, t) {
		ref := sch[0].Ref()
		sub = b.project(sub, []plan.Expr{&plan.Cast{E: ref, To: t}}, []string{sch[0].Name})
	}
	if v, err = b.castTo(v, t, at); err != nil {
		return nil, nil, err
	}
	if err := b.checkAggCorrelation(&plan.Subquery{Plan: sub}, ctx, at); err != nil {
		return nil, nil, err
	}
	return v, sub, nil
}

// checkAggCorrelation rejects a subquery that, inside an aggregating
// SELECT/HAVING/ORDER BY, refers to a column of the aggregate's input: after
// aggregation that column no longer exists (rewriting such references to
// the group keys is not implemented).
func (b *Binder) checkAggCorrelation(sub plan.Expr, ctx *exprCtx, pos ast.Pos) error {
	if ctx.agg == nil || ctx.inAgg {
		return nil
	}
	if ctx.agg.usesInput(sub) {
		return b.errf(pos, "subqueries in an aggregating %s may not refer to columns of the outer FROM clause", ctx.clause)
	}
	return nil
}

func (b *Binder) bindPair(l, r ast.Expr, ctx *exprCtx) (plan.Expr, plan.Expr, error) {
	le, err := b.bindExpr(l, ctx)
	if err != nil {
		return nil, nil, err
	}
	re, err := b.bindExpr(r, ctx)
	if err != nil {
		return nil, nil, err
	}
	return le, re, nil
}

func (b *Binder) numberLiteral(x *ast.NumberLit) (plan.Expr, error) {
	if x.IsInteger() {
		l, err := intLiteral(x.Text)
		if err != nil {
			return nil, b.errf(x.At, "%v", err)
		}
		return l, nil
	}
	if !x.HasExp {
		n, _, s, err := types.ParseDecimalLiteral(x.Text)
		// The width is every digit written, leading zeros included, as in
		// DuckDB: 0.05 is DECIMAL(3,2), 100.00 DECIMAL(5,2), .5 DECIMAL(1,1).
		p := int32(0)
		for _, c := range x.Text {
			if c >= '0' && c <= '9' {
				p++
			}
		}
		if err == nil && p <= types.MaxDecimalPrecision {
			return lit(n, types.Decimal(max(p, s, 1), s)), nil
		}
	}
	f, _, err := convertLiteral(x.Text, types.String, types.Float64)
	if err != nil {
		return nil, b.errf(x.At, "invalid number %s", x.Text)
	}
	return lit(f, types.Float64), nil
}

// requireBool checks that e is BOOLEAN (an untyped NULL becomes a NULL
// boolean).
func (b *Binder) requireBool(e plan.Expr, src ast.Expr, what string) (plan.Expr, error) {
	t := e.Type()
	if t.ID() == arrow.BOOL {
		return e, nil
	}
	if types.IsNull(t) {
		return b.castTo(e, types.Boolean, src.Pos())
	}
	return nil, b.errf(src.Pos(), "%s must be BOOLEAN, but %s is %s", what, src.String(), types.TypeName(t))
}

// castTo converts e to t, folding the conversion of a literal.
func (b *Binder) castTo(e plan.Expr, t arrow.DataType, pos ast.Pos) (plan.Expr, error) {
	if arrow.TypeEqual(e.Type(), t) {
		return e, nil
	}
	if l, ok := e.(*plan.Literal); ok {
		v, _, err := convertLiteral(l.Value, l.Typ, t)
		if err != nil {
			return nil, b.errf(pos, "%v", err)
		}
		return lit(v, t), nil
	}
	return &plan.Cast{E: e, To: t}, nil
}

var binaryOps = map[ast.BinaryOp]plan.BinaryOp{
	ast.OpAdd: plan.OpAdd, ast.OpSub: plan.OpSub, ast.OpMul: plan.OpMul, ast.OpDiv: plan.OpDiv, ast.OpMod: plan.OpMod,
	ast.OpEq: plan.OpEq, ast.OpNotEq: plan.OpNotEq, ast.OpLt: plan.OpLt, ast.OpLtEq: plan.OpLtEq,
	ast.OpGt: plan.OpGt, ast.OpGtEq: plan.OpGtEq, ast.OpAnd: plan.OpAnd, ast.OpOr: plan.OpOr,
}

func (b *Binder) bindBinary(x *ast.Binary, ctx *exprCtx) (plan.Expr, error) {
	l, r, err := b.bindPair(x.Left, x.Right, ctx)
	if err != nil {
		return nil, err
	}
	if x.Op == ast.OpConcat {
		return b.callFunc("concat_op", []plan.Expr{l, r}, x.At, "||")
	}
	op := binaryOps[x.Op]
	switch {
	case op.IsLogical():
		if l, err = b.requireBool(l, x.Left, string(op)+" operand"); err != nil {
			return nil, err
		}
		if r, err = b.requireBool(r, x.Right, string(op)+" operand"); err != nil {
			return nil, err
		}
		return &plan.Binary{Op: op, L: l, R: r, Typ: types.Boolean}, nil
	case op.IsComparison():
		return b.compare(op, l, r, x.At, x.Left, x.Right)
	}
	return b.arith(op, l, r, x)
}

func isNullLit(e plan.Expr) bool {
	l, ok := e.(*plan.Literal)
	return ok && l.Value == nil
}

// arith binds l op r with the operand casts of types.ArithmeticType and
// folds it when both sides are literals.
func (b *Binder) arith(op plan.BinaryOp, l, r plan.Expr, x *ast.Binary) (plan.Expr, error) {
	if isNullLit(l) && isNullLit(r) {
		return lit(nil, types.Null), nil
	}
	lc, rc, res, err := types.ArithmeticType(string(op), l.Type(), r.Type())
	if err != nil {
		return nil, b.errf(x.At, "cannot apply %s to %s (%s) and %s (%s)", op, x.Left.String(), types.TypeName(l.Type()), x.Right.String(), types.TypeName(r.Type()))
	}
	if (isNullLit(l) || isNullLit(r)) && types.IsDecimal(res) {
		// DECIMAL arithmetic with a constant NULL operand (typed or not)
		// is an untyped NULL, as in DuckDB: price * NULL unions with
		// DECIMAL(15,2) as DECIMAL(15,2), not as the product's
		// DECIMAL(30,4). Other arithmetic keeps its type (NULL + a DATE
		// is a DATE, CAST(NULL AS DATE) + INTERVAL a TIMESTAMP).
		return lit(nil, types.Null), nil
	}
	if l, err = b.castTo(l, lc, x.Left.Pos()); err != nil {
		return nil, err
	}
	if r, err = b.castTo(r, rc, x.Right.Pos()); err != nil {
		return nil, err
	}
	ll, lok := l.(*plan.Literal)
	rl, rok := r.(*plan.Literal)
	if lok && rok {
		if f, ok := foldArith(string(op), ll, rl, res); ok {
			return f, nil
		}
	}
	return &plan.Binary{Op: op, L: l, R: r, Typ: res}, nil
}

// compare binds a comparison. When one side is a literal whose value is
// exactly representable in the other side's type, only the literal is
// converted (l_quantity < 24 compares against DECIMAL 24.00, the column is
// not cast); otherwise both sides go to types.ComparisonType.
func (b *Binder) compare(op plan.BinaryOp, l, r plan.Expr, pos ast.Pos, ls, rs ast.Expr) (plan.Expr, error) {
	bin := func(l, r plan.Expr) plan.Expr { return &plan.Binary{Op: op, L: l, R: r, Typ: types.Boolean} }
	lt, rt := l.Type(), r.Type()
	if types.IsNull(lt) && types.IsNull(rt) {
		// Two untyped NULLs (columns of SELECT NULL or x - NULL): compare
		// as INTEGER, which join keys and kernels support.
		var err error
		if l, err = b.castTo(l, types.Int32, pos); err != nil {
			return nil, err
		}
		if r, err = b.castTo(r, types.Int32, pos); err != nil {
			return nil, err
		}
		return bin(l, r), nil
	}
	if arrow.TypeEqual(lt, rt) {
		return bin(l, r), nil
	}
	ll, lok := l.(*plan.Literal)
	rl, rok := r.(*plan.Literal)
	if rok && !lok && literalMayAdapt(rl.Typ, lt) {
		if v, exact, err := convertLiteral(rl.Value, rl.Typ, lt); err == nil && exact {
			return bin(l, lit(v, lt)), nil
		}
	}
	if lok && !rok && literalMayAdapt(ll.Typ, rt) {
		if v, exact, err := convertLiteral(ll.Value, ll.Typ, rt); err == nil && exact {
			return bin(lit(v, rt), r), nil
		}
	}
	t, err := types.ComparisonType(lt, rt)
	if err != nil {
		return nil, b.errf(pos, "cannot compare %s (%s) with %s (%s)", ls.String(), types.TypeName(lt), rs.String(), types.TypeName(rt))
	}
	if l, err = b.castTo(l, t, ls.Pos()); err != nil {
		return nil, err
	}
	if r, err = b.castTo(r, t, rs.Pos()); err != nil {
		return nil, err
	}
	return bin(l, r), nil
}

// literalMayAdapt reports whether a literal of type from may silently take
// the type to of the other comparison operand: numbers between numeric
// types, strings to anything (DuckDB casts a string literal to the other
// side's type), dates and timestamps between themselves, NULL to anything.
// A number never becomes a string: comparing a VARCHAR column with a number
// is a type error, as in types.ComparisonType.
func literalMayAdapt(from, to arrow.DataType) bool {
	switch {
	case types.IsNull(to):
		return false
	case types.IsNull(from), types.IsString(from):
		return true
	case types.IsNumeric(from):
		return types.IsNumeric(to)
	case types.IsTemporal(from):
		return types.IsTemporal(to)
	}
	return false
}

func (b *Binder) bindInList(x *ast.InList, ctx *exprCtx) (plan.Expr, error) {
	v, err := b.bindExpr(x.Expr, ctx)
	if err != nil {
		return nil, err
	}
	items := make([]plan.Expr, len(x.List))
	allLit := true
	for i, it := range x.List {
		if items[i], err = b.bindExpr(it, ctx); err != nil {
			return nil, err
		}
		if _, ok := items[i].(*plan.Literal); !ok {
			allLit = false
		}
	}
	if !allLit {
		var preds []plan.Expr
		for i, it := range items {
			op := plan.OpEq
			if x.Not {
				op = plan.OpNotEq
			}
			c, err := b.compare(op, v, it, x.At, x.Expr, x.List[i])
			if err != nil {
				return nil, err
			}
			preds = append(preds, c)
		}
		if x.Not {
			return plan.And(preds...), nil
		}
		return plan.Or(preds...), nil
	}
	// Keep the operand's type when every literal converts to it exactly.
	target := v.Type()
	if types.IsNull(target) {
		target = types.Null
	}
	fits := !types.IsNull(target)
	for _, it := range items {
		if !fits {
			break
		}
		l := it.(*plan.Literal)
		if !literalMayAdapt(l.Typ, target) {
			fits = false
			break
		}
		if _, exact, err := convertLiteral(l.Value, l.Typ, target); err != nil || !exact {
			fits = false
		}
	}
	if !fits {
		target = v.Type()
		for i, it := range items {
			t, err := types.ComparisonType(target, it.Type())
			if err != nil {
				return nil, b.errf(x.List[i].Pos(), "cannot compare %s (%s) with IN list value %s (%s)", x.Expr.String(), types.TypeName(v.Type()), x.List[i].String(), types.TypeName(it.Type()))
			}
			target = t
		}
	}
	if v, err = b.castTo(v, target, x.Expr.Pos()); err != nil {
		return nil, err
	}
	list := make([]*plan.Literal, len(items))
	for i, it := range items {
		c, err := b.castTo(it, target, x.List[i].Pos())
		if err != nil {
			return nil, err
		}
		list[i] = c.(*plan.Literal)
	}
	return &plan.InList{E: v, List: list, Negated: x.Not}, nil
}

func (b *Binder) constString(e ast.Expr, ctx *exprCtx, what string) (string, error) {
	p, err := b.bindExpr(e, ctx.plain())
	if err != nil {
		return "", err
	}
	l, ok := p.(*plan.Literal)
	if !ok || (l.Value != nil && !types.IsString(l.Typ)) {
		return "", b.errf(e.Pos(), "%s must be a constant string, got %s", what, e.String())
	}
	if l.Value == nil {
		return "", b.errf(e.Pos(), "%s must not be NULL", what)
	}
	return l.Value.(string), nil
}

func (b *Binder) bindLike(x *ast.Like, ctx *exprCtx) (plan.Expr, error) {
	v, err := b.bindExpr(x.Expr, ctx)
	if err != nil {
		return nil, err
	}
	if !types.IsString(v.Type()) {
		if !types.IsNull(v.Type()) {
			return nil, b.errf(x.At, "LIKE needs a VARCHAR operand, but %s is %s", x.Expr.String(), types.TypeName(v.Type()))
		}
		v = lit(nil, types.String)
	}
	pat, err := b.constString(x.Pattern, ctx, "LIKE pattern")
	if err != nil {
		// A pattern computed per row: the like/ilike function.
		return b.bindLikeFunc(x, v, ctx)
	}
	var esc rune
	if x.Escape != nil {
		s, err := b.constString(x.Escape, ctx, "LIKE ESCAPE")
		if err != nil {
			return nil, err
		}
		rs := []rune(s)
		if len(rs) > 1 {
			return nil, b.errf(x.Escape.Pos(), "LIKE ESCAPE must be a single character, got '%s'", s)
		}
		if len(rs) == 1 {
			esc = rs[0]
		}
	}
	return &plan.Like{E: v, Pattern: pat, Escape: esc, Negated: x.Not, CaseInsensitive: x.ILike}, nil
}

// bindLikeFunc binds LIKE with a pattern that is not a constant as a call
// of like/ilike(v, pattern[, escape]).
func (b *Binder) bindLikeFunc(x *ast.Like, v plan.Expr, ctx *exprCtx) (plan.Expr, error) {
	pat, err := b.bindExpr(x.Pattern, ctx)
	if err != nil {
		return nil, err
	}
	if !types.IsString(pat.Type()) && !types.IsNull(pat.Type()) {
		return nil, b.errf(x.Pattern.Pos(), "LIKE pattern must be VARCHAR, but %s is %s", x.Pattern.String(), types.TypeName(pat.Type()))
	}
	bound := []plan.Expr{v, pat}
	if x.Escape != nil {
		e, err := b.bindExpr(x.Escape, ctx)
		if err != nil {
			return nil, err
		}
		bound = append(bound, e)
	}
	name := "like"
	if x.ILike {
		name = "ilike"
	}
	call, err := b.callFunc(name, bound, x.At, "LIKE")
	if err != nil {
		return nil, err
	}
	if x.Not {
		return &plan.Unary{Op: plan.OpNot, E: call}, nil
	}
	return call, nil
}

func (b *Binder) bindCase(x *ast.Case, ctx *exprCtx) (plan.Expr, error) {
	var operand plan.Expr
	var err error
	if x.Operand != nil {
		if operand, err = b.bindExpr(x.Operand, ctx); err != nil {
			return nil, err
		}
	}
	conds := make([]plan.Expr, len(x.Whens))
	vals := make([]plan.Expr, 0, len(x.Whens)+1)
	for i, w := range x.Whens {
		c, err := b.bindExpr(w.Cond, ctx)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if c, err = b.compare(plan.OpEq, operand, c, w.At, x.Operand, w.Cond); err != nil {
				return nil, err
			}
		} else if c, err = b.requireBool(c, w.Cond, "CASE WHEN condition"); err != nil {
			return nil, err
		}
		conds[i] = c
		v, err := b.bindExpr(w.Result, ctx)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	if x.Else != nil {
		v, err := b.bindExpr(x.Else, ctx)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	ts := make([]arrow.DataType, len(vals))
	for i, v := range vals {
		ts[i] = v.Type()
	}
	t, err := types.CommonSuperType(ts...)
	if err != nil {
		return nil, b.errf(x.At, "CASE branches have incompatible types: %v", err)
	}
	out := &plan.Case{Typ: t}
	for i := range conds {
		v, err := b.castTo(vals[i], t, x.Whens[i].Result.Pos())
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, plan.When{Cond: conds[i], Value: v})
	}
	if x.Else != nil {
		if out.Else, err = b.castTo(vals[len(vals)-1], t, x.Else.Pos()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// callFunc binds a scalar function call through types.FunctionType.
func (b *Binder) callFunc(name string, args []plan.Expr, pos ast.Pos, text string) (plan.Expr, error) {
	ts := make([]arrow.DataType, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	args, err := b.mlListArgs(name, args, pos)
	if err != nil {
		return nil, b.errf(pos, "%s: %v", text, err)
	}
	for i, a := range args {
		ts[i] = a.Type()
	}
	res, casts, err := types.FunctionType(name, ts)
	if err != nil {
		return nil, b.errf(pos, "%s: %v", text, err)
	}
	out := make([]plan.Expr, len(args))
	for i, a := range args {
		if out[i], err = b.castTo(a, casts[i], pos); err != nil {
			return nil, err
		}
	}
	if name == "extract" || name == "date_part" || name == "date_trunc" {
		if l, ok := out[0].(*plan.Literal); ok {
			if s, ok := l.Value.(string); ok {
				unit := strings.ToLower(s)
				if !validDatePart(unit) {
					return nil, b.errf(pos, "%s: unknown date part %q; expected one of %s", text, s, strings.Join(types.DatePartUnits, ", "))
				}
				out[0] = lit(unit, types.String)
			}
		}
	}
	if name == "round" && len(out) == 2 && types.IsDecimal(res) {
		// round(DECIMAL, digits) changes the scale with the constant
		// digits, as the kernel does (FunctionType cannot see constants).
		if l, ok := out[1].(*plan.Literal); ok {
			if d, ok := l.Value.(int64); ok {
				res = types.RoundDecimalType(res, d)
			}
		}
	}
	return &plan.Func{Name: name, Args: out, Typ: res}, nil
}

func validDatePart(u string) bool {
	for _, x := range types.DatePartUnits {
		if x == u {
			return true
		}
	}
	return false
}

func funcName(fc *ast.FuncCall) string {
	last := strings.ToLower(fc.Name[len(fc.Name)-1])
	if len(fc.Name) == 2 && strings.EqualFold(fc.Name[0], "ml") {
		return "ml." + last
	}
	return last
}

// isGroupingCall reports a call of grouping()/grouping_id().
func isGroupingCall(fc *ast.FuncCall) bool {
	n := funcName(fc)
	return fc.Over == nil && len(fc.Name) == 1 && (n == "grouping" || n == "grouping_id")
}

func containsGrouping(e ast.Expr) bool {
	found := false
	walkAST(e, func(x ast.Expr) bool {
		if fc, ok := x.(*ast.FuncCall); ok && isGroupingCall(fc) {
			found = true
		}
		return !found
	})
	return found
}

// bindGrouping binds grouping(k1, ..., kn) (alias grouping_id): a BIGINT
// whose bit n-1-i is set when key ki is aggregated away in the row's
// grouping set. Every argument must be a GROUP BY key.
func (b *Binder) bindGrouping(fc *ast.FuncCall, ctx *exprCtx) (plan.Expr, error) {
	name := funcName(fc)
	switch {
	case ctx.inAgg:
		return nil, b.errf(fc.At, "%s() is not allowed inside an aggregate function: %s", name, fc.String())
	case ctx.agg == nil:
		return nil, b.errf(fc.At, "%s() needs a GROUP BY and is not allowed in %s: %s", name, ctx.clause, fc.String())
	case fc.Distinct || fc.Star || fc.Filter != nil || len(fc.OrderBy) > 0:
		return nil, b.errf(fc.At, "invalid call of %s(): %s", name, fc.String())
	case len(fc.Args) == 0:
		return nil, b.errf(fc.At, "%s() needs at least one argument", name)
	case len(fc.Args) > 62:
		return nil, b.errf(fc.At, "%s() takes at most 62 arguments, got %d", name, len(fc.Args))
	}
	argCtx := &exprCtx{sc: ctx.sc, clause: name + "() arguments", windows: ctx.windows, env: ctx.env}
	keys := make([]int, len(fc.Args))
	for i, a := range fc.Args {
		var idx int
		ok := false
		if j, found := ctx.agg.groupIdx[sqlKey(a)]; found {
			idx, ok = j, true // a key holding a subquery, by its SQL text
		} else if j, found := b.groupAlias(a, ctx, argCtx); found {
			idx, ok = j, true
		} else if !containsSpecial(a) {
			e, err := b.bindExpr(a, argCtx)
			if err != nil {
				return nil, err
			}
			idx, ok = ctx.agg.groupIndex(e)
		}
		if !ok {
			return nil, b.errf(a.Pos(), "%s() argument %s must be a GROUP BY key", name, a.String())
		}
		keys[i] = idx
	}
	return ctx.agg.addGrouping(keys, b.ids, outputName(fc, "")), nil
}

// groupAlias finds the group key that a bare name naming a select item,
// not a column of the FROM clause, stands for (DuckDB resolves select
// aliases in grouping() as in GROUP BY).
func (b *Binder) groupAlias(a ast.Expr, ctx, argCtx *exprCtx) (int, bool) {
	cr, ok := a.(*ast.ColumnRef)
	if !ok || len(cr.Parts) != 1 {
		return 0, false
	}
	if _, _, err := b.resolve(ctx.sc, cr); err == nil {
		return 0, false
	}
	for _, it := range ctx.agg.items {
		if it.e == nil || !nameEq(it.name, cr.Parts[0]) {
			continue
		}
		if i, ok := ctx.agg.groupIdx[sqlKey(it.e)]; ok {
			return i, true
		}
		if containsSpecial(it.e) {
			continue
		}
		if e, err := b.bindExpr(it.e, argCtx); err == nil {
			return ctx.agg.groupIndex(e)
		}
	}
	return 0, false
}

func isAggregateCall(fc *ast.FuncCall) bool {
	_, ok := types.AggregateName(funcName(fc))
	return ok
}

func (b *Binder) bindFuncCall(fc *ast.FuncCall, ctx *exprCtx) (plan.Expr, error) {
	name := funcName(fc)
	if fc.Over != nil {
		return b.bindWindowCall(fc, ctx)
	}
	if isAggregateCall(fc) {
		return b.bindAggCall(fc, ctx)
	}
	if isGroupingCall(fc) {
		return b.bindGrouping(fc, ctx)
	}
	if types.IsWindowFunction(name) {
		return nil, b.errf(fc.At, "window function %s requires an OVER clause", name)
	}
	if types.IsMLTransform(name) {
		return nil, b.errf(fc.At, "%s is fitted over a window: write %s OVER () (or OVER (PARTITION BY ...))", name, fc.String())
	}
	if fc.Distinct || fc.Star || fc.Filter != nil || len(fc.OrderBy) > 0 {
		return nil, b.errf(fc.At, "%s is not an aggregate function", name)
	}
	switch {
	case name == "current_date" && len(fc.Args) == 0:
		// Evaluated once per statement, like DuckDB's transaction time (UTC).
		return lit(arrow.Date32FromTime(b.now()), types.Date32), nil
	case (name == "current_timestamp" || name == "now" || name == "localtimestamp") && len(fc.Args) == 0:
		return lit(arrow.Timestamp(b.now().UnixMicro()), types.Timestamp), nil
	case fc.NoParens:
		return nil, b.errf(fc.At, "%s is not supported", strings.ToUpper(name))
	}
	args := make([]plan.Expr, len(fc.Args))
	for i, a := range fc.Args {
		var err error
		if args[i], err = b.bindExpr(a, ctx); err != nil {
			return nil, err
		}
	}
	switch name {
	case "date_part", "datepart":
		name = "date_part"
	case "ifnull":
		name = "coalesce"
	case "nullif":
		if len(args) == 2 && !types.IsNull(args[0].Type()) {
			// CASE WHEN a = b THEN NULL ELSE a END: the type of a (DuckDB),
			// the comparison in the common type.
			eq, err := b.compare(plan.OpEq, args[0], args[1], fc.At, fc.Args[0], fc.Args[1])
			if err != nil {
				return nil, err
			}
			t := args[0].Type()
			return &plan.Case{Whens: []plan.When{{Cond: eq, Value: lit(nil, t)}}, Else: args[0], Typ: t}, nil
		}
	}
	return b.callFunc(name, args, fc.At, fc.String())
}

// bindAggCall binds an aggregate call and returns a reference to the
// Aggregate output column computing it.
func (b *Binder) bindAggCall(fc *ast.FuncCall, ctx *exprCtx) (plan.Expr, error) {
	name, _ := types.AggregateName(funcName(fc))
	if ctx.inAgg {
		return nil, b.errf(fc.At, "aggregate function calls cannot be nested: %s", fc.String())
	}
	if ctx.agg == nil {
		return nil, b.errf(fc.At, "aggregate functions are not allowed in %s: %s", ctx.clause, fc.String())
	}
	if len(fc.OrderBy) > 0 {
		return nil, b.errf(fc.At, "ORDER BY inside aggregate %s is not supported", name)
	}
	argCtx := &exprCtx{sc: ctx.sc, inAgg: true, clause: "aggregate arguments", windows: ctx.windows, env: ctx.env}
	call, untyped, err := b.aggCallOf(fc, name, argCtx)
	if err != nil {
		return nil, err
	}
	ref := ctx.agg.addAgg(call, b.ids, outputName(fc, ""))
	if untyped {
		// min(NULL), sum(x - NULL): NULL, untyped as in DuckDB (so CASE
		// and UNION take the other branch's type); the aggregate stays
		// so that the query still aggregates.
		return lit(nil, types.Null), nil
	}
	return ref, nil
}

// aggCallOf builds the AggCall of fc with arguments bound in argCtx.
// untyped reports an untyped NULL argument (cast to INTEGER for the
// kernels) of an aggregate other than count: its result is NULL.
func (b *Binder) aggCallOf(fc *ast.FuncCall, name string, argCtx *exprCtx) (*plan.AggCall, bool, error) {
	var args []plan.Expr
	untyped := false
	if fc.Star || (name == "count" && len(fc.Args) == 0) {
		if name != "count" {
			return nil, false, b.errf(fc.At, "%s(*) is not supported", name)
		}
		name = "count_star"
	} else {
		if len(fc.Args) != 1 {
			return nil, false, b.errf(fc.At, "aggregate %s takes one argument, got %d", name, len(fc.Args))
		}
		a, err := b.bindExpr(fc.Args[0], argCtx)
		if err != nil {
			return nil, false, err
		}
		if types.IsNull(a.Type()) && name != "bool_and" && name != "bool_or" {
			// min(NULL), sum(x - NULL): the kernels need a concrete type.
			if a, err = b.castTo(a, types.Int32, fc.Args[0].Pos()); err != nil {
				return nil, false, err
			}
			untyped = name != "count"
		}
		args = []plan.Expr{a}
	}
	var argT arrow.DataType
	if len(args) > 0 {
		argT = args[0].Type()
	}
	t, err := types.AggregateType(name, argT)
	if err != nil {
		return nil, false, b.errf(fc.At, "cannot compute %s: %s is %s", fc.String(), fc.Args[0].String(), types.TypeName(argT))
	}
	if (name == "bool_and" || name == "bool_or") && types.IsNull(argT) {
		args[0], _ = b.castTo(args[0], types.Boolean, fc.At)
	}
	call := &plan.AggCall{Func: name, Args: args, Distinct: fc.Distinct, Typ: t}
	if fc.Filter != nil {
		f, err := b.bindExpr(fc.Filter, argCtx)
		if err != nil {
			return nil, false, err
		}
		if call.Filter, err = b.requireBool(f, fc.Filter, "FILTER condition"); err != nil {
			return nil, false, err
		}
	}
	return call, untyped, nil
}

// constInt evaluates a constant integer expression (LIMIT, OFFSET, frame
// offsets).
func (b *Binder) constInt(e ast.Expr, what string) (int64, error) {
	p, err := b.bindExpr(e, &exprCtx{sc: &scope{}, clause: what})
	if err != nil {
		return 0, err
	}
	l, ok := p.(*plan.Literal)
	if !ok {
		return 0, b.errf(e.Pos(), "%s must be a constant integer, got %s", what, e.String())
	}
	switch v := l.Value.(type) {
	case int64:
		if v < 0 {
			return 0, b.errf(e.Pos(), "%s must not be negative, got %d", what, v)
		}
		return v, nil
	case decimal128.Num:
		if _, s := types.DecimalParams(l.Typ); s == 0 && v.BigInt().IsInt64() && v.Sign() >= 0 {
			return v.BigInt().Int64(), nil
		}
	}
	return 0, b.errf(e.Pos(), "%s must be a non-negative integer, got %s (%s)", what, e.String(), types.TypeName(l.Typ))
}

// containsSpecial reports whether e contains an aggregate call, a window
// call or a subquery (outside nested subqueries).
func containsSpecial(e ast.Expr) bool {
	found := false
	walkAST(e, func(x ast.Expr) bool {
		switch x := x.(type) {
		case *ast.FuncCall:
			if x.Over != nil || isAggregateCall(x) || isGroupingCall(x) {
				found = true
			}
		case *ast.ScalarSubquery, *ast.Exists, *ast.InSubquery, *ast.Quantified:
			found = true
		}
		return !found
	})
	return found
}

// refsSpecialAlias reports whether e names a SELECT alias (not a column)
// whose expression holds an aggregate, window call or subquery: HAVING c
// > 2 with count(*) AS c is not an aggregate-free expression.
func (b *Binder) refsSpecialAlias(e ast.Expr, ctx *exprCtx) bool {
	if len(ctx.aliases) == 0 {
		return false
	}
	found := false
	walkAST(e, func(x ast.Expr) bool {
		if cr, ok := x.(*ast.ColumnRef); ok {
			if a, ok := ctx.alias(cr); ok && containsSpecial(a) {
				if _, _, err := b.resolve(ctx.sc, cr); err != nil {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// containsAggregate reports whether e contains an aggregate call that is
// not a window call (aggregates inside window arguments count).
func containsAggregate(e ast.Expr) bool {
	found := false
	walkAST(e, func(x ast.Expr) bool {
		if fc, ok := x.(*ast.FuncCall); ok && fc.Over == nil && isAggregateCall(fc) {
			found = true
		}
		return !found
	})
	return found
}

func containsWindow(e ast.Expr) bool {
	found := false
	walkAST(e, func(x ast.Expr) bool {
		if fc, ok := x.(*ast.FuncCall); ok && fc.Over != nil {
			found = true
		}
		return !found
	})
	return found
}

// walkAST visits e and its subexpressions in pre-order (not entering
// subqueries); fn returning false stops descent below that node.
func walkAST(e ast.Expr, fn func(ast.Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	var kids []ast.Expr
	switch x := e.(type) {
	case *ast.Binary:
		kids = []ast.Expr{x.Left, x.Right}
	case *ast.Unary:
		kids = []ast.Expr{x.Expr}
	case *ast.IsNull:
		kids = []ast.Expr{x.Expr}
	case *ast.IsBool:
		kids = []ast.Expr{x.Expr}
	case *ast.IsDistinctFrom:
		kids = []ast.Expr{x.Left, x.Right}
	case *ast.Between:
		kids = []ast.Expr{x.Expr, x.Low, x.High}
	case *ast.InList:
		kids = append([]ast.Expr{x.Expr}, x.List...)
	case *ast.InSubquery:
		kids = []ast.Expr{x.Expr}
	case *ast.Quantified:
		kids = []ast.Expr{x.Expr}
	case *ast.Like:
		kids = []ast.Expr{x.Expr, x.Pattern, x.Escape}
	case *ast.Case:
		kids = []ast.Expr{x.Operand}
		for _, w := range x.Whens {
			kids = append(kids, w.Cond, w.Result)
		}
		kids = append(kids, x.Else)
	case *ast.Cast:
		kids = []ast.Expr{x.Expr}
	case *ast.FuncCall:
		kids = append(kids, x.Args...)
		kids = append(kids, x.Filter)
		for _, o := range x.OrderBy {
			kids = append(kids, o.Expr)
		}
		if x.Over != nil {
			kids = append(kids, x.Over.PartitionBy...)
			for _, o := range x.Over.OrderBy {
				kids = append(kids, o.Expr)
			}
		}
	case *ast.Extract:
		kids = []ast.Expr{x.From}
	case *ast.Subscript:
		kids = []ast.Expr{x.Expr, x.Index}
	case *ast.ListLit:
		kids = x.Items
	case *ast.Substring:
		kids = []ast.Expr{x.Expr, x.From, x.For}
	case *ast.Trim:
		kids = []ast.Expr{x.Chars, x.Expr}
	case *ast.Position:
		kids = []ast.Expr{x.Sub, x.Str}
	}
	for _, k := range kids {
		if k != nil {
			walkAST(k, fn)
		}
	}
}
