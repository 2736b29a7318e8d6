package binder

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/types"
)

// mlListArgs retypes the list literal of ml.bucketize (split points,
// DOUBLE) and ml.label_index (categories, VARCHAR), so that [0, 10, 20]
// works where LIST<DOUBLE> is expected: a LIST cannot be cast, but the
// elements of [...] can.
func (b *Binder) mlListArgs(name string, args []plan.Expr, pos ast.Pos) ([]plan.Expr, error) {
	var elem arrow.DataType
	switch name {
	case types.MLBucketize:
		elem = types.Float64
	case types.MLLabelIndex:
		elem = types.String
	default:
		return args, nil
	}
	if len(args) != 2 {
		return args, nil
	}
	f, ok := args[1].(*plan.Func)
	if !ok || f.Name != types.ListValue {
		return args, nil
	}
	items := make([]plan.Expr, len(f.Args))
	for i, it := range f.Args {
		if arrow.TypeEqual(it.Type(), elem) {
			items[i] = it
			continue
		}
		if elem == types.Float64 && !types.IsNumeric(it.Type()) && !types.IsNull(it.Type()) {
			return nil, fmt.Errorf("split point %s is %s, not a number", it, types.TypeName(it.Type()))
		}
		c, err := b.castTo(it, elem, pos)
		if err != nil {
			return nil, err
		}
		items[i] = c
	}
	if elem == types.Float64 {
		// Constant split points must ascend (checked here so that the
		// error comes before any task runs).
		prev, havePrev := 0.0, false
		var shown []string
		for _, it := range f.Args {
			shown = append(shown, it.String())
		}
		for _, it := range items {
			l, ok := it.(*plan.Literal)
			if !ok {
				break
			}
			v, ok := l.Value.(float64)
			if !ok {
				return nil, fmt.Errorf("split points must be numbers, got %s", l)
			}
			if havePrev && v < prev {
				return nil, fmt.Errorf("split points [%s] are not in ascending order", strings.Join(shown, ", "))
			}
			prev, havePrev = v, true
		}
	}
	out := append([]plan.Expr(nil), args...)
	out[1] = &plan.Func{Name: types.ListValue, Args: items, Typ: types.ListOf(elem)}
	return out, nil
}

// checkMLTransform checks and normalizes a bound ML transform call: the
// value argument becomes DOUBLE (scalers, imputer, quantile_bucketize) or
// VARCHAR (the encoders), and the arguments after it must be constants
// with sensible values.
func (b *Binder) checkMLTransform(call *plan.WindowCall, fc *ast.FuncCall) error {
	name := call.Func
	want := types.Float64
	if name == types.MLLabelEncoder || name == types.MLOneHotEncoder {
		want = types.String
	}
	if !arrow.TypeEqual(call.Args[0].Type(), want) {
		c, err := b.castTo(call.Args[0], want, fc.Args[0].Pos())
		if err != nil {
			return err
		}
		call.Args[0] = c
	}
	for i := 1; i < len(call.Args); i++ {
		l, ok := call.Args[i].(*plan.Literal)
		if !ok || l.Value == nil {
			return b.errf(fc.Args[i].Pos(), "%s: argument %d must be a constant, got %s", name, i+1, fc.Args[i].String())
		}
		switch v := l.Value.(type) {
		case string:
			m := strings.ToLower(v)
			if m != "mean" && m != "median" && m != "most_frequent" {
				return b.errf(fc.Args[i].Pos(), "%s: unknown strategy '%s'; expected 'mean', 'median' or 'most_frequent'", name, v)
			}
			call.Args[i] = &plan.Literal{Value: m, Typ: types.String}
		default:
			n, ok := literalInt(l)
			if !ok {
				return b.errf(fc.Args[i].Pos(), "%s: argument %d must be an integer constant", name, i+1)
			}
			min := int64(1)
			if n < min || n > 1<<20 {
				what := map[string]string{types.MLQuantileBucketize: "the number of buckets"}[name]
				if what == "" {
					what = []string{"", "top_k", "min_frequency"}[i]
				}
				return b.errf(fc.Args[i].Pos(), "%s: %s must be between %d and %d, got %d", name, what, min, 1<<20, n)
			}
			call.Args[i] = &plan.Literal{Value: n, Typ: types.Int64}
		}
	}
	return nil
}

// literalInt reads an integer literal of any integer type.
func literalInt(l *plan.Literal) (int64, bool) {
	switch v := l.Value.(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case int16:
		return int64(v), true
	case int8:
		return int64(v), true
	case int:
		return int64(v), true
	}
	return 0, false
}
