package types

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// funcRule computes the result type and argument casts of one function
// from the (lower-cased) name and the argument types.
type funcRule func(name string, args []arrow.DataType) (arrow.DataType, []arrow.DataType, error)

var functions map[string]funcRule

// FunctionNames lists the registered scalar function names, sorted.
func FunctionNames() []string {
	out := make([]string, 0, len(functions))
	for n := range functions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// RoundDecimalType is the result type of round(x, digits) for a DECIMAL x
// and a constant digits (DuckDB): digits >= scale keeps the type, 0 <= digits
// < scale gives DECIMAL(w, digits), negative digits give DECIMAL(w, 0).
// FunctionType cannot see the constant and reports x's own type;
// expr.Call applies this rule.
func RoundDecimalType(t arrow.DataType, digits int64) arrow.DataType {
	p, s := DecimalParams(t)
	switch {
	case digits >= int64(s):
		return t
	case digits >= 0:
		return Decimal(p, int32(digits))
	}
	return Decimal(p, 0)
}

// FunctionType returns the result type of the scalar function name applied
// to args, and the type each argument must be cast to before the call
// (argCasts[i] equals args[i] when no cast is needed). Names are
// case-insensitive. An unknown name gives an error suggesting near names.
func FunctionType(name string, args []arrow.DataType) (result arrow.DataType, argCasts []arrow.DataType, err error) {
	lname := strings.ToLower(name)
	rule, ok := functions[lname]
	if !ok {
		return nil, nil, unknownFunction(name)
	}
	for i, a := range args {
		if a == nil {
			return nil, nil, fmt.Errorf("%s: argument %d has no type", lname, i+1)
		}
	}
	return rule(lname, args)
}

func unknownFunction(name string) error {
	type cand struct {
		n string
		d int
	}
	var cs []cand
	for n := range functions {
		d := editDistance(name, n)
		if d <= 2 || (len(name) >= 4 && strings.Contains(n, strings.ToLower(name))) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].n < cs[j].n
	})
	if len(cs) == 0 {
		return fmt.Errorf("unknown function %s", name)
	}
	names := make([]string, 0, 3)
	for i := 0; i < len(cs) && i < 3; i++ {
		names = append(names, cs[i].n)
	}
	return fmt.Errorf("unknown function %s; did you mean %s?", name, strings.Join(names, ", "))
}

func argErr(name string, args []arrow.DataType) error {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = TypeName(a)
	}
	return fmt.Errorf("no function %s(%s)", name, strings.Join(ts, ", "))
}

// fixed builds a rule with a fixed parameter list (the trailing optional
// ones may be omitted down to minArgs); every argument must implicitly cast
// to its parameter (strings accept only strings and NULL).
// SingleRowValue names the function that passes a scalar subquery's value
// through and fails when the subquery produced more than one row.
const SingleRowValue = "single_row_value"

// ErrSubqueryRows is the message of SingleRowValue's error.
const ErrSubqueryRows = "more than one row returned by a subquery used as an expression"

func fixed(result arrow.DataType, minArgs int, params ...arrow.DataType) funcRule {
	return func(name string, args []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
		if len(args) < minArgs || len(args) > len(params) {
			return nil, nil, argErr(name, args)
		}
		casts := make([]arrow.DataType, len(args))
		for i, a := range args {
			p := params[i]
			if !ImplicitCast(a, p) || (IsString(a) && !IsString(p)) {
				return nil, nil, argErr(name, args)
			}
			casts[i] = p
		}
		return result, casts, nil
	}
}

// superRule casts all arguments to their common super type and returns it.
func superRule(minArgs, maxArgs int) funcRule {
	return func(name string, args []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
		if len(args) < minArgs || (maxArgs > 0 && len(args) > maxArgs) {
			return nil, nil, argErr(name, args)
		}
		t, err := CommonSuperType(args...)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		casts := make([]arrow.DataType, len(args))
		for i := range casts {
			casts[i] = t
		}
		return t, casts, nil
	}
}

func numericUnary(name string, args []arrow.DataType, withDigits bool) (arrow.DataType, []arrow.DataType, error) {
	if len(args) < 1 || len(args) > 1+int(boolInt(withDigits)) {
		return nil, nil, argErr(name, args)
	}
	a := args[0]
	if IsNull(a) {
		a = Float64
	}
	if !IsNumeric(a) {
		return nil, nil, argErr(name, args)
	}
	casts := []arrow.DataType{a}
	if len(args) == 2 {
		if !IsInteger(args[1]) && !IsNull(args[1]) {
			return nil, nil, argErr(name, args)
		}
		casts = append(casts, Int32)
	}
	res := a
	switch {
	case IsFloat(a):
		casts[0], res = Float64, Float64
	case IsDecimal(a) && (name == "floor" || name == "ceil" || name == "ceiling" || (name == "round" && len(args) == 1)):
		// DuckDB keeps the width: DECIMAL(w,s) -> DECIMAL(w,0).
		p, _ := DecimalParams(a)
		res = Decimal(p, 0)
	}
	return res, casts, nil
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func datePart(name string, args []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
	if len(args) != 2 || !(IsString(args[0]) || IsNull(args[0])) || !(IsTemporal(args[1]) || IsNull(args[1]) || IsString(args[1])) {
		return nil, nil, argErr(name, args)
	}
	t := args[1]
	if IsNull(t) || IsString(t) {
		t = Timestamp
	}
	if name == "date_trunc" {
		// A TIMESTAMP for DATE input too, as in DuckDB.
		return Timestamp, []arrow.DataType{String, Timestamp}, nil
	}
	return Int64, []arrow.DataType{String, t}, nil
}

// dateDiff types date_diff(part, start, end): BIGINT, the number of part
// boundaries between start and end; two DATEs stay DATEs, anything else
// compares as TIMESTAMP.
func dateDiff(name string, args []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
	if len(args) != 3 || !(IsString(args[0]) || IsNull(args[0])) {
		return nil, nil, argErr(name, args)
	}
	t := Date32
	for _, a := range args[1:] {
		switch {
		case IsNull(a), a.ID() == arrow.DATE32:
		case a.ID() == arrow.TIMESTAMP, IsString(a):
			t = Timestamp
		default:
			return nil, nil, argErr(name, args)
		}
	}
	return Int64, []arrow.DataType{String, t, t}, nil
}

func unaryPart(name string, args []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
	if len(args) != 1 || !(IsTemporal(args[0]) || IsNull(args[0])) {
		return nil, nil, argErr(name, args)
	}
	t := args[0]
	if IsNull(t) {
		t = Date32
	}
	return Int64, []arrow.DataType{t}, nil
}

func concatRule(name string, args []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
	if len(args) < 1 || (name == "concat_op" && len(args) != 2) || (name == "concat_ws" && len(args) < 2) {
		return nil, nil, argErr(name, args)
	}
	casts := make([]arrow.DataType, len(args))
	for i, a := range args {
		if !CanCast(a, String) {
			return nil, nil, argErr(name, args)
		}
		casts[i] = String
	}
	return String, casts, nil
}

// DatePartUnits are the units extract/date_part/date_trunc accept.
var DatePartUnits = []string{"year", "quarter", "month", "week", "day", "dow", "doy", "hour", "minute", "second", "millisecond", "microsecond", "epoch"}

func init() {
	S, I, B, F := String, Int64, Boolean, Float64
	functions = map[string]funcRule{
		"substring":        fixed(S, 2, S, I, I),
		"substr":           fixed(S, 2, S, I, I),
		"upper":            fixed(S, 1, S),
		"lower":            fixed(S, 1, S),
		"ucase":            fixed(S, 1, S),
		"lcase":            fixed(S, 1, S),
		"trim":             fixed(S, 1, S, S),
		"ltrim":            fixed(S, 1, S, S),
		"rtrim":            fixed(S, 1, S, S),
		"length":           fixed(I, 1, S),
		"char_length":      fixed(I, 1, S),
		"character_length": fixed(I, 1, S),
		"octet_length":     fixed(I, 1, S),
		"concat":           concatRule,
		"concat_ws":        concatRule,
		"lpad":             fixed(S, 3, S, I, S),
		"rpad":             fixed(S, 3, S, I, S),
		"repeat":           fixed(S, 2, S, I),
		"split_part":       fixed(S, 3, S, S, I),
		"concat_op":        concatRule,
		"replace":          fixed(S, 3, S, S, S),
		"starts_with":      fixed(B, 2, S, S),
		// like/ilike(s, pattern[, escape]): LIKE with a pattern that is
		// not a constant (a constant one is plan.Like, compiled once).
		"like":      fixed(B, 2, S, S, S),
		"ilike":     fixed(B, 2, S, S, S),
		"ends_with": fixed(B, 2, S, S),
		"contains":  fixed(B, 2, S, S),
		"strpos":    fixed(I, 2, S, S),
		"position":  fixed(I, 2, S, S),
		"instr":     fixed(I, 2, S, S),
		"reverse":   fixed(S, 1, S),
		"left":      fixed(S, 2, S, I),
		"right":     fixed(S, 2, S, I),
		"coalesce":  superRule(1, 0),
		// single_row_value(row_count, value) is value, or an error when
		// row_count > 1: the decorrelator's check that a scalar subquery
		// yields at most one row.
		SingleRowValue: func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
			if len(a) != 2 || !ImplicitCast(a[0], arrow.PrimitiveTypes.Int64) {
				return nil, nil, argErr(n, a)
			}
			return a[1], []arrow.DataType{arrow.PrimitiveTypes.Int64, a[1]}, nil
		},
		"list_extract": listExtract,
		"list_element": listExtract,
		"ifnull":       superRule(2, 2),
		"nullif":       superRule(2, 2),
		"greatest":     superRule(1, 0),
		"least":        superRule(1, 0),
		"abs": func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
			return numericUnary(n, a, false)
		},
		"round": func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
			return numericUnary(n, a, true)
		},
		"floor": func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
			return numericUnary(n, a, false)
		},
		"ceil": func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
			return numericUnary(n, a, false)
		},
		"ceiling": func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
			return numericUnary(n, a, false)
		},
		"sign":       fixed(I, 1, F),
		"sqrt":       fixed(F, 1, F),
		"exp":        fixed(F, 1, F),
		"ln":         fixed(F, 1, F),
		"log":        fixed(F, 1, F), // log10, like DuckDB
		"log10":      fixed(F, 1, F),
		"log2":       fixed(F, 1, F),
		"power":      fixed(F, 2, F, F),
		"pow":        fixed(F, 2, F, F),
		"extract":    datePart,
		"date_part":  datePart,
		"date_trunc": datePart,
		"date_diff":  dateDiff,
		"datediff":   dateDiff,
		"year":       unaryPart,
		"month":      unaryPart,
		"day":        unaryPart,
		"quarter":    unaryPart,
		"dayofweek":  unaryPart,
		"dayofyear":  unaryPart,
		"dayofmonth": unaryPart,
		"week":       unaryPart,
		"weekofyear": unaryPart,
		"last_day": func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
			if len(a) != 1 || !(IsTemporal(a[0]) || IsNull(a[0])) {
				return nil, nil, argErr(n, a)
			}
			return Date32, []arrow.DataType{Date32}, nil
		},
		"make_date": fixed(Date32, 3, I, I, I),
		"hour":      unaryPart,
		"minute":    unaryPart,
		"second":    unaryPart,
	}
	mlFunctions(functions)
}

// ListExtract is the function x[i] binds to: the i-th element of the LIST
// x, 1-based; a negative i counts from the end (-1 is the last); NULL
// when i is 0 or beyond the list (DuckDB's list_extract).
const ListExtract = "list_extract"

// listExtract types list_extract(list, index): the list's element type,
// with the index cast to BIGINT.
func listExtract(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
	if len(a) != 2 || !(IsInteger(a[1]) || IsNull(a[1])) {
		return nil, nil, argErr(n, a)
	}
	switch l := a[0].(type) {
	case *arrow.ListType:
		return l.Elem(), []arrow.DataType{a[0], Int64}, nil
	case *arrow.NullType:
		return a[0], []arrow.DataType{a[0], Int64}, nil
	}
	return nil, nil, fmt.Errorf("%s: %s is not a LIST; only LIST values can be indexed with [i]", n, TypeName(a[0]))
}
