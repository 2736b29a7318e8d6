package types

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// aggregateNames maps accepted aggregate spellings to their canonical name
// (the name plan.AggCall.Func carries).
var aggregateNames = map[string]string{
	"count":       "count",
	"count_star":  "count_star",
	"sum":         "sum",
	"avg":         "avg",
	"mean":        "avg",
	"min":         "min",
	"max":         "max",
	"first":       "first",
	"any_value":   "first",
	"arbitrary":   "first",
	"stddev":      "stddev_samp",
	"stddev_samp": "stddev_samp",
	"stddev_pop":  "stddev_pop",
	"variance":    "var_samp",
	"var_samp":    "var_samp",
	"var_pop":     "var_pop",
	"bool_and":    "bool_and",
	"bool_or":     "bool_or",
	"every":       "bool_and",
	// ml.quantile_sketch(x): the mergeable quantile sketch of DOUBLE x
	// (package ml/quantile) as BINARY, which ml.sketch_quantile and
	// ml.sketch_splits query. The ML transforms fit with it.
	MLQuantileSketch: MLQuantileSketch,
	// ml.category_counts(s): the distinct non-NULL values of STRING s
	// with their counts, as BINARY (package exec's encoding, which
	// DecodeCategoryCounts reads). The encoders fit with it.
	MLCategoryCounts: MLCategoryCounts,
}

// windowOnlyNames are the functions that exist only as window functions.
var windowOnlyNames = map[string]bool{
	"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true,
	"cume_dist": true, "ntile": true, "lag": true, "lead": true,
	"first_value": true, "last_value": true, "nth_value": true,
}

// AggregateName returns the canonical name of an aggregate function
// (stddev → stddev_samp, variance → var_samp, mean → avg) and whether name
// is an aggregate at all. Names are case-insensitive.
func AggregateName(name string) (string, bool) {
	c, ok := aggregateNames[strings.ToLower(name)]
	return c, ok
}

// IsWindowFunction reports whether name is a window-only function
// (row_number, rank, lag, ...). Aggregates may also be used as windows.
func IsWindowFunction(name string) bool { return windowOnlyNames[strings.ToLower(name)] }

// AggregateType is the result type of aggregate name over an argument of
// type arg (arg is ignored for count_star), following DuckDB:
// count/count_star → BIGINT; sum(integer) → BIGINT (DuckDB gives HUGEINT
// for sum(BIGINT); we keep BIGINT and the kernel reports overflow);
// sum(DECIMAL(p,s)) → DECIMAL(38,s); sum(float) → DOUBLE; avg and the
// variance family → DOUBLE; min/max/first → arg; bool_and/bool_or need and
// return BOOLEAN.
func AggregateType(name string, arg arrow.DataType) (arrow.DataType, error) {
	canon, ok := AggregateName(name)
	if !ok {
		return nil, fmt.Errorf("unknown aggregate function %s", name)
	}
	if canon == "count" || canon == "count_star" {
		return Int64, nil
	}
	if arg == nil {
		return nil, fmt.Errorf("%s: missing argument", canon)
	}
	bad := func() (arrow.DataType, error) {
		return nil, fmt.Errorf("no aggregate %s(%s)", canon, TypeName(arg))
	}
	switch canon {
	case "sum":
		switch {
		case IsNull(arg), IsInteger(arg):
			return Int64, nil
		case IsDecimal(arg):
			_, s := DecimalParams(arg)
			return Decimal(MaxDecimalPrecision, s), nil
		case IsFloat(arg):
			return Float64, nil
		}
		return bad()
	case "avg", "stddev_samp", "stddev_pop", "var_samp", "var_pop":
		if IsNull(arg) || IsNumeric(arg) {
			return Float64, nil
		}
		return bad()
	case "min", "max", "first":
		switch {
		case IsNumeric(arg), IsString(arg), IsTemporal(arg), IsNull(arg),
			arg.ID() == arrow.BOOL, arg.ID() == arrow.INTERVAL_MONTH_DAY_NANO:
			return arg, nil
		}
		return bad()
	case "bool_and", "bool_or":
		if IsNull(arg) || arg.ID() == arrow.BOOL {
			return Boolean, nil
		}
		return bad()
	case MLQuantileSketch:
		if arg.ID() == arrow.FLOAT64 {
			return arrow.BinaryTypes.Binary, nil
		}
		return nil, fmt.Errorf("%s takes a DOUBLE, not %s", canon, TypeName(arg))
	case MLCategoryCounts:
		if arg.ID() == arrow.STRING {
			return arrow.BinaryTypes.Binary, nil
		}
		return nil, fmt.Errorf("%s takes a VARCHAR, not %s", canon, TypeName(arg))
	}
	return bad()
}

// WindowFunctionType is the result type of a window function (or of an
// aggregate used as a window function) over args, following DuckDB:
// row_number/rank/dense_rank/ntile → BIGINT; percent_rank/cume_dist →
// DOUBLE; lag/lead/first_value/last_value/nth_value → the type of their
// first argument. Aggregates defer to AggregateType.
func WindowFunctionType(name string, args []arrow.DataType) (arrow.DataType, error) {
	lname := strings.ToLower(name)
	if IsMLTransform(lname) {
		return MLTransformType(lname, args)
	}
	argc := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			if lo == hi {
				return fmt.Errorf("window function %s takes %d argument(s), got %d", lname, lo, len(args))
			}
			return fmt.Errorf("window function %s takes %d to %d arguments, got %d", lname, lo, hi, len(args))
		}
		return nil
	}
	switch lname {
	case "row_number", "rank", "dense_rank":
		if err := argc(0, 0); err != nil {
			return nil, err
		}
		return Int64, nil
	case "percent_rank", "cume_dist":
		if err := argc(0, 0); err != nil {
			return nil, err
		}
		return Float64, nil
	case "ntile":
		if err := argc(1, 1); err != nil {
			return nil, err
		}
		if !IsInteger(args[0]) && !IsNull(args[0]) {
			return nil, fmt.Errorf("ntile: bucket count must be an integer, got %s", TypeName(args[0]))
		}
		return Int64, nil
	case "lag", "lead":
		if err := argc(1, 3); err != nil {
			return nil, err
		}
		if len(args) >= 2 && !IsInteger(args[1]) && !IsNull(args[1]) {
			return nil, fmt.Errorf("%s: offset must be an integer, got %s", lname, TypeName(args[1]))
		}
		return args[0], nil
	case "first_value", "last_value":
		if err := argc(1, 1); err != nil {
			return nil, err
		}
		return args[0], nil
	case "nth_value":
		if err := argc(2, 2); err != nil {
			return nil, err
		}
		if !IsInteger(args[1]) && !IsNull(args[1]) {
			return nil, fmt.Errorf("nth_value: n must be an integer, got %s", TypeName(args[1]))
		}
		return args[0], nil
	}
	if _, ok := AggregateName(lname); ok {
		var arg arrow.DataType
		if len(args) > 0 {
			arg = args[0]
		}
		return AggregateType(lname, arg)
	}
	return nil, fmt.Errorf("unknown window function %s", name)
}
