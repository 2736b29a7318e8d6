package executor

import (
	"fmt"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
	"github.com/flint-engine/flint/plan"
)

// CompileExpr binds a logical expression to the positions of schema and
// returns the vectorized expression that evaluates it.
func CompileExpr(e plan.Expr, schema plan.Schema) (exec.Expr, error) {
	c := func(x plan.Expr) (exec.Expr, error) { return CompileExpr(x, schema) }
	switch e := e.(type) {
	case *plan.ColRef:
		i := schema.Index(e.ID)
		if i < 0 {
			return nil, fmt.Errorf("internal error: column %s is not produced by the operator's input %s", e, schema)
		}
		return expr.Col(i, schema[i].Type, schema[i].Name), nil
	case *plan.Literal:
		return expr.Lit(e.Value, e.Typ)
	case *plan.Binary:
		l, err := c(e.L)
		if err != nil {
			return nil, err
		}
		r, err := c(e.R)
		if err != nil {
			return nil, err
		}
		switch {
		case e.Op == plan.OpAnd:
			return expr.And(l, r), nil
		case e.Op == plan.OpOr:
			return expr.Or(l, r), nil
		case e.Op.IsComparison():
			return expr.Compare(string(e.Op), l, r)
		}
		return expr.Arith(string(e.Op), l, r, e.Typ)
	case *plan.Unary:
		x, err := c(e.E)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case plan.OpNot:
			return expr.Not(x), nil
		case plan.OpNeg:
			return expr.Neg(x), nil
		case plan.OpIsNull:
			return expr.IsNull(x, false), nil
		case plan.OpIsNotNull:
			return expr.IsNull(x, true), nil
		}
	case *plan.Cast:
		x, err := c(e.E)
		if err != nil {
			return nil, err
		}
		return expr.Cast(x, e.To)
	case *plan.Case:
		whens := make([]expr.When, len(e.Whens))
		for i, w := range e.Whens {
			cond, err := c(w.Cond)
			if err != nil {
				return nil, err
			}
			val, err := c(w.Value)
			if err != nil {
				return nil, err
			}
			whens[i] = expr.When{Cond: cond, Value: val}
		}
		var els exec.Expr
		if e.Else != nil {
			var err error
			if els, err = c(e.Else); err != nil {
				return nil, err
			}
		}
		return expr.Case(whens, els, e.Typ)
	case *plan.InList:
		x, err := c(e.E)
		if err != nil {
			return nil, err
		}
		vals := make([]any, len(e.List))
		for i, l := range e.List {
			vals[i] = l.Value
		}
		return expr.InList(x, vals, e.Negated)
	case *plan.Like:
		x, err := c(e.E)
		if err != nil {
			return nil, err
		}
		return expr.Like(x, e.Pattern, e.Escape, e.Negated, e.CaseInsensitive)
	case *plan.Func:
		args := make([]exec.Expr, len(e.Args))
		for i, a := range e.Args {
			x, err := c(a)
			if err != nil {
				return nil, err
			}
			args[i] = x
		}
		if e.Name == plan.TryCastFunc && len(args) == 1 {
			return expr.TryCast(args[0], e.Typ)
		}
		return expr.Call(e.Name, args)
	case *plan.Subquery:
		return nil, fmt.Errorf("subquery could not be decorrelated: %s", e)
	case *plan.AggCall:
		return nil, fmt.Errorf("internal error: aggregate %s outside an aggregation", e)
	}
	return nil, fmt.Errorf("internal error: cannot compile expression %T (%s)", e, e)
}
