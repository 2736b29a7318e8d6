package types

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// The ML feature transforms: window-style functions fitted over their
// whole window (OVER () or OVER (PARTITION BY ...)) and applied row by
// row. The optimizer rewrites each into a distributed aggregation (the
// fit) joined back to its input and a projection through one of the
// "fitted" scalar functions below (the apply); a model's stored TRANSFORM
// is made of the same fitted functions with the statistics as literals.
const (
	MLStandardScaler    = "ml.standard_scaler"    // (x − mean) / sample stddev
	MLMinMaxScaler      = "ml.min_max_scaler"     // (x − min) / (max − min)
	MLImputer           = "ml.imputer"            // NULL/NaN → mean, median or most frequent
	MLQuantileBucketize = "ml.quantile_bucketize" // bucket of n equal-frequency buckets
	MLLabelEncoder      = "ml.label_encoder"      // category → index by frequency
	MLOneHotEncoder     = "ml.one_hot_encoder"    // category → one-hot LIST<DOUBLE>

	// MLQuantileSketch is the aggregate the transforms fit quantiles with.
	MLQuantileSketch = "ml.quantile_sketch"
	// MLCategoryCounts is the aggregate the encoders fit their categories
	// with: each distinct non-NULL STRING and how many rows hold it.
	MLCategoryCounts = "ml.category_counts"

	// Scalar functions.
	MLBucketize      = "ml.bucketize"       // (x, [s1, s2, ...]) → bucket index
	MLSketchQuantile = "ml.sketch_quantile" // (sketch, q) → DOUBLE
	MLSketchSplits   = "ml.sketch_splits"   // (sketch, n) → LIST<DOUBLE> of bucket boundaries
	MLStandardScale  = "ml.standard_scale"  // (x, mean, stddev) → DOUBLE
	MLMinMaxScale    = "ml.min_max_scale"   // (x, min, max) → DOUBLE
	MLImpute         = "ml.impute"          // (x, value) → x, or value when x is NULL or NaN
	MLLabelIndex     = "ml.label_index"     // (s, [c0, c1, ...]) → index of s, or the list's length
	MLOneHot         = "ml.one_hot"         // (index, k) → LIST<DOUBLE> of k with 1 at index
	ListValue        = "list_value"         // (a, b, ...) → [a, b, ...]
)

var mlTransforms = map[string]bool{
	MLStandardScaler: true, MLMinMaxScaler: true, MLImputer: true,
	MLQuantileBucketize: true, MLLabelEncoder: true, MLOneHotEncoder: true,
}

// IsMLTransform reports whether name (lower-case) is an ML feature
// transform, a function that needs an OVER clause.
func IsMLTransform(name string) bool { return mlTransforms[name] }

// ListOf is LIST<elem>.
func ListOf(elem arrow.DataType) arrow.DataType { return arrow.ListOf(elem) }

// MLTransformType is the result type of an ML transform over args. The
// arguments after the first must be constants; the binder checks that.
//
//	ml.standard_scaler(x), ml.min_max_scaler(x)  x numeric → DOUBLE
//	ml.imputer(x, method)                        x numeric, method VARCHAR → DOUBLE
//	ml.quantile_bucketize(x, n)                  x numeric, n integer → BIGINT
//	ml.label_encoder(s [, top_k [, min_freq]])   any s, integers → BIGINT
//	ml.one_hot_encoder(s [, top_k [, min_freq]]) any s, integers → LIST<DOUBLE>
func MLTransformType(name string, args []arrow.DataType) (arrow.DataType, error) {
	bad := func(want string) (arrow.DataType, error) {
		ts := make([]string, len(args))
		for i, a := range args {
			ts[i] = TypeName(a)
		}
		return nil, fmt.Errorf("%s takes %s, got (%s)", name, want, joinTypes(ts))
	}
	numeric := func(t arrow.DataType) bool { return IsNumeric(t) || IsNull(t) }
	integer := func(t arrow.DataType) bool { return IsInteger(t) }
	switch name {
	case MLStandardScaler, MLMinMaxScaler:
		if len(args) != 1 || !numeric(args[0]) {
			return bad("one numeric argument")
		}
		return Float64, nil
	case MLImputer:
		if len(args) != 2 || !numeric(args[0]) || !IsString(args[1]) {
			return bad("a numeric argument and 'mean', 'median' or 'most_frequent'")
		}
		return Float64, nil
	case MLQuantileBucketize:
		if len(args) != 2 || !numeric(args[0]) || !integer(args[1]) {
			return bad("a numeric argument and a number of buckets")
		}
		return Int64, nil
	case MLLabelEncoder, MLOneHotEncoder:
		if len(args) < 1 || len(args) > 3 {
			return bad("a category and optionally top_k and min_frequency")
		}
		for _, a := range args[1:] {
			if !integer(a) {
				return bad("a category and optionally top_k and min_frequency (integers)")
			}
		}
		if name == MLOneHotEncoder {
			return ListOf(Float64), nil
		}
		return Int64, nil
	}
	return nil, fmt.Errorf("unknown ML transform %s", name)
}

func joinTypes(ts []string) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += t
	}
	return s
}

// mlFunctions are the scalar ML functions and list_value.
func mlFunctions(m map[string]funcRule) {
	F, I, S := Float64, Int64, String
	listF := ListOf(Float64)
	m[MLSketchQuantile] = func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
		if len(a) != 2 || a[0].ID() != arrow.BINARY || !ImplicitCast(a[1], F) {
			return nil, nil, argErr(n, a)
		}
		return F, []arrow.DataType{a[0], F}, nil
	}
	m[MLSketchSplits] = func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
		if len(a) != 2 || a[0].ID() != arrow.BINARY || !IsInteger(a[1]) {
			return nil, nil, argErr(n, a)
		}
		return listF, []arrow.DataType{a[0], I}, nil
	}
	m[MLBucketize] = func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
		if len(a) != 2 || !(IsNumeric(a[0]) || IsNull(a[0])) {
			return nil, nil, argErr(n, a)
		}
		if !arrow.TypeEqual(a[1], listF) {
			return nil, nil, fmt.Errorf("%s: the split points must be a list of numbers such as [0, 10, 100], got %s", n, TypeName(a[1]))
		}
		return I, []arrow.DataType{F, listF}, nil
	}
	m[MLStandardScale] = fixed(F, 3, F, F, F)
	m[MLMinMaxScale] = fixed(F, 3, F, F, F)
	m[MLImpute] = fixed(F, 2, F, F)
	m[MLOneHot] = fixed(listF, 2, I, I)
	m[MLLabelIndex] = func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
		if len(a) != 2 || !(IsString(a[0]) || IsNull(a[0])) || !arrow.TypeEqual(a[1], ListOf(S)) {
			return nil, nil, argErr(n, a)
		}
		return I, []arrow.DataType{S, a[1]}, nil
	}
	m[ListValue] = func(n string, a []arrow.DataType) (arrow.DataType, []arrow.DataType, error) {
		if len(a) == 0 {
			return nil, nil, fmt.Errorf("%s needs at least one element", n)
		}
		elem, casts, err := superRule(1, 0)(n, a)
		if err != nil {
			return nil, nil, err
		}
		if IsNull(elem) {
			elem = Int32
			casts = make([]arrow.DataType, len(a))
			for i := range casts {
				casts[i] = elem
			}
		}
		return ListOf(elem), casts, nil
	}
}
