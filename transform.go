package flint

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/types"
)

// FitTransform fits one ML feature transform on the rows of df and
// returns its fitted form: a SQL expression of Flint's fitted scalar
// functions with the statistics as literals, which computes on any input
// what the transform computed on df. For example
//
//	df.FitTransform(ctx, "ml.standard_scaler(age)")
//	  → "ml.standard_scale(CAST((age) AS DOUBLE), 41.5, 12.25)"
//
// transform is a call of ml.standard_scaler, ml.min_max_scaler,
// ml.imputer, ml.quantile_bucketize, ml.label_encoder or
// ml.one_hot_encoder (with or without OVER (); PARTITION BY is not
// allowed: a fitted form holds one set of statistics). It is how a
// model's TRANSFORM is stored (CREATE MODEL ... TRANSFORM) and what the
// ml/pipeline package's stages fit. The fit runs as a query on df's
// session: in cluster mode, on the cluster.
func (df *DataFrame) FitTransform(ctx context.Context, transform string) (string, error) {
	if df.err != nil {
		return "", df.err
	}
	e, err := parser.ParseExpr(transform)
	if err != nil {
		return "", fmt.Errorf("transform %q: %w", transform, err)
	}
	fc, ok := e.(*ast.FuncCall)
	if !ok || !types.IsMLTransform(mlFuncName(fc)) {
		return "", fmt.Errorf("transform %q is not a call of an ML transform (ml.standard_scaler, ml.min_max_scaler, ml.imputer, ml.quantile_bucketize, ml.label_encoder, ml.one_hot_encoder)", transform)
	}
	fitted, err := df.fitTransform(ctx, fc, nil)
	if err != nil {
		return "", err
	}
	return fitted.String(), nil
}

func mlFuncName(fc *ast.FuncCall) string {
	if len(fc.Name) == 2 && strings.EqualFold(fc.Name[0], "ml") {
		return "ml." + strings.ToLower(fc.Name[1])
	}
	return strings.ToLower(fc.Name[len(fc.Name)-1])
}

// fitTransform fits the ML transform fc on df's rows and returns its
// fitted form (a call of the fitted scalar functions).
//
// counted holds categories already counted (prefitCategories), by the
// encoder's VARCHAR expression; an encoder found there runs no query.
func (df *DataFrame) fitTransform(ctx context.Context, fc *ast.FuncCall, counted map[string][]categoryCount) (*ast.FuncCall, error) {
	name := mlFuncName(fc)
	if fc.Over != nil && (len(fc.Over.PartitionBy) > 0 || len(fc.Over.OrderBy) > 0 || fc.Over.Frame != nil || fc.Over.Name != "") {
		return nil, fmt.Errorf("%s: a fitted transform is fitted over all rows: write OVER () or no OVER, without PARTITION BY", fc.String())
	}
	if len(fc.Args) == 0 {
		return nil, fmt.Errorf("%s: missing the value to transform", fc.String())
	}
	arg := fc.Args[0].String()
	num := "CAST((" + arg + ") AS DOUBLE)"
	clean := "ml.impute(" + num + ", NULL)" // NaN and NULL are missing
	constArg := func(i int) (string, error) {
		if i >= len(fc.Args) {
			return "", nil
		}
		switch a := fc.Args[i].(type) {
		case *ast.NumberLit:
			return a.Text, nil
		case *ast.StringLit:
			return strings.ToLower(a.Value), nil
		}
		return "", fmt.Errorf("%s: argument %d must be a constant, got %s", name, i+1, fc.Args[i].String())
	}
	intArg := func(i int, what string, def int64) (int64, error) {
		s, err := constArg(i)
		if err != nil || s == "" {
			return def, err
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 1 || v > 1<<20 {
			return 0, fmt.Errorf("%s: %s must be an integer between 1 and %d, got %s", name, what, 1<<20, s)
		}
		return v, nil
	}
	// Type-check the call as SQL does.
	argTypes := make([]arrow.DataType, len(fc.Args))
	for i, a := range fc.Args {
		e, err := df.bind(Column{e: a})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fc.String(), err)
		}
		argTypes[i] = e.Type()
	}
	if _, err := types.MLTransformType(name, argTypes); err != nil {
		return nil, fmt.Errorf("%s: %w", fc.String(), err)
	}
	row := func(exprs ...string) ([]any, error) {
		cols := make([]Column, len(exprs))
		for i, e := range exprs {
			cols[i] = Expr(e)
		}
		return firstRow(ctx, df.GroupBy().Agg(cols...))
	}
	call := func(fn string, args ...string) (*ast.FuncCall, error) {
		e, err := parser.ParseExpr(fn + "(" + strings.Join(args, ", ") + ")")
		if err != nil {
			return nil, fmt.Errorf("%s: fitted form: %w", name, err)
		}
		return e.(*ast.FuncCall), nil
	}
	switch name {
	case types.MLStandardScaler, types.MLMinMaxScaler:
		aggs := []string{"avg(" + clean + ")", "stddev_samp(" + clean + ")"}
		fn := types.MLStandardScale
		if name == types.MLMinMaxScaler {
			aggs = []string{"min(" + clean + ")", "max(" + clean + ")"}
			fn = types.MLMinMaxScale
		}
		r, err := row(aggs...)
		if err != nil {
			return nil, err
		}
		return call(fn, num, sqlNumber(r[0]), sqlNumber(r[1]))
	case types.MLImputer:
		strategy, err := constArg(1)
		if err != nil {
			return nil, err
		}
		var v any
		switch strategy {
		case "mean":
			r, err := row("avg(" + clean + ")")
			if err != nil {
				return nil, err
			}
			v = r[0]
		case "median":
			r, err := row("ml.sketch_quantile(ml.quantile_sketch(" + clean + "), 0.5)")
			if err != nil {
				return nil, err
			}
			v = r[0]
		case "most_frequent":
			top, err := df.topValues(ctx, clean, 1, 1)
			if err != nil {
				return nil, err
			}
			if len(top) > 0 {
				v = top[0]
			}
		default:
			return nil, fmt.Errorf("%s: unknown strategy '%s'; expected 'mean', 'median' or 'most_frequent'", name, strategy)
		}
		return call(types.MLImpute, num, sqlNumber(v))
	case types.MLQuantileBucketize:
		n, err := intArg(1, "the number of buckets", 0)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: missing the number of buckets", name)
		}
		r, err := row(fmt.Sprintf("ml.sketch_splits(ml.quantile_sketch(%s), %d)", clean, n))
		if err != nil {
			return nil, err
		}
		splits, _ := r[0].([]float64)
		items := make([]string, len(splits))
		for i, s := range splits {
			items[i] = sqlNumber(s)
		}
		if len(items) == 0 {
			// No value to fit: every value falls in bucket 0.
			items = []string{sqlNumber(math.MaxFloat64)}
		}
		return call(types.MLBucketize, num, "["+strings.Join(items, ", ")+"]")
	case types.MLLabelEncoder, types.MLOneHotEncoder:
		topK, err := intArg(1, "top_k", 0)
		if err != nil {
			return nil, err
		}
		minFreq, err := intArg(2, "min_frequency", 1)
		if err != nil {
			return nil, err
		}
		text := encoderText(arg)
		var cats []any
		if counts, ok := counted[text]; ok {
			cats = topCategories(counts, topK, minFreq)
		} else if cats, err = df.topValues(ctx, text, topK, minFreq); err != nil {
			return nil, err
		}
		items := make([]string, len(cats))
		for i, c := range cats {
			items[i] = "'" + strings.ReplaceAll(fmt.Sprint(c), "'", "''") + "'"
		}
		if len(items) == 0 {
			// No category to keep: every value (and NULL) is k = 0, and
			// its one-hot vector is empty.
			if name == types.MLLabelEncoder {
				return call("coalesce", "CAST(0 AS BIGINT)")
			}
			return call(types.MLOneHot, "CAST(0 AS BIGINT)", "0")
		}
		list := "[" + strings.Join(items, ", ") + "]"
		idx := types.MLLabelIndex + "(" + text + ", " + list + ")"
		if name == types.MLLabelEncoder {
			return call(types.MLLabelIndex, text, list)
		}
		return call(types.MLOneHot, idx, strconv.Itoa(len(items)))
	}
	return nil, fmt.Errorf("%s is not an ML transform", name)
}

// encoderText is the VARCHAR expression an encoder of arg counts.
func encoderText(arg string) string { return "CAST((" + arg + ") AS VARCHAR)" }

// categoryCount is a category and how many rows hold it.
type categoryCount struct {
	value string
	count int64
}

// topCategories is topValues over counted categories: those seen at
// least minFreq times, by descending count, ties by ascending value, the
// first topK (all when topK is 0).
func topCategories(counts []categoryCount, topK, minFreq int64) []any {
	cs := slices.Clone(counts)
	slices.SortFunc(cs, func(a, b categoryCount) int {
		if a.count != b.count {
			return cmp.Compare(b.count, a.count)
		}
		return strings.Compare(a.value, b.value)
	})
	var out []any
	for _, c := range cs {
		if c.count < minFreq || (topK > 0 && int64(len(out)) == topK) {
			break
		}
		out = append(out, c.value)
	}
	return out
}

// prefitCategories counts the categories of every encoder among calls
// (label_encoder and one_hot_encoder whose argument holds no other
// transform) in one scan of df, with ml.category_counts, where fitting
// them one by one runs a GROUP BY query each. The result is by
// encoderText; nil when fewer than two encoders would share the scan.
func (df *DataFrame) prefitCategories(ctx context.Context, calls []*ast.FuncCall) (map[string][]categoryCount, error) {
	var texts []string
	seen := map[string]bool{}
	for _, fc := range calls {
		name := mlFuncName(fc)
		if (name != types.MLLabelEncoder && name != types.MLOneHotEncoder) || len(fc.Args) == 0 || hasMLTransform(fc.Args[0]) {
			continue
		}
		if t := encoderText(fc.Args[0].String()); !seen[t] {
			seen[t] = true
			texts = append(texts, t)
		}
	}
	if len(texts) < 2 {
		return nil, nil
	}
	cols := make([]Column, len(texts))
	for i, t := range texts {
		cols[i] = Expr("ml.category_counts(" + t + ")").Alias(fmt.Sprintf("ml_categories%d", i))
	}
	batches, err := df.GroupBy().Agg(cols...).Collect(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		// A call the shared query cannot run (an argument that does not
		// bind, say): each encoder then fits alone, and the one at fault
		// reports its own error.
		return nil, nil
	}
	defer releaseAll(batches)
	out := make(map[string][]categoryCount, len(texts))
	for i, t := range texts {
		out[t] = []categoryCount{}
		for _, b := range batches {
			a, ok := b.Column(i).(*array.Binary)
			if !ok {
				return nil, fmt.Errorf("fitting %s: category counts of type %s", t, b.Column(i).DataType())
			}
			for r := 0; r < a.Len(); r++ {
				if a.IsNull(r) {
					continue
				}
				err := exec.DecodeCategoryCounts(a.Value(r), func(v string, c int64) {
					out[t] = append(out[t], categoryCount{v, c})
				})
				if err != nil {
					return nil, fmt.Errorf("fitting %s: %w", t, err)
				}
			}
		}
	}
	return out, nil
}

// hasMLTransform reports whether e calls an ML transform.
func hasMLTransform(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if fc, ok := n.(*ast.FuncCall); ok && types.IsMLTransform(mlFuncName(fc)) {
			found = true
		}
		return !found
	})
	return found
}

// topValues returns the non-NULL values of expr seen at least minFreq
// times, by descending count, ties by ascending value, the first topK
// (all when topK is 0).
func (df *DataFrame) topValues(ctx context.Context, expr string, topK, minFreq int64) ([]any, error) {
	g := df.Select(Expr(expr).Alias("ml_value")).Where("ml_value IS NOT NULL").
		GroupBy(Col("ml_value")).Agg(CountAll().Alias("ml_count"))
	if minFreq > 1 {
		g = g.Where(fmt.Sprintf("ml_count >= %d", minFreq))
	}
	g = g.OrderBy(Col("ml_count").Desc(), Col("ml_value").Asc())
	if topK > 0 {
		g = g.Limit(topK)
	}
	batches, err := g.Collect(ctx)
	if err != nil {
		return nil, err
	}
	defer releaseAll(batches)
	var out []any
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			out = append(out, cellValue(b.Column(0), r))
		}
	}
	return out, nil
}

// firstRow collects df and returns its first row's values (Go values:
// float64, int64, string, []float64 or nil).
func firstRow(ctx context.Context, df *DataFrame) ([]any, error) {
	batches, err := df.Collect(ctx)
	if err != nil {
		return nil, err
	}
	defer releaseAll(batches)
	for _, b := range batches {
		if b.NumRows() == 0 {
			continue
		}
		out := make([]any, b.NumCols())
		for i := range out {
			out[i] = cellValue(b.Column(i), 0)
		}
		return out, nil
	}
	return nil, fmt.Errorf("the fit query returned no row")
}

func releaseAll(bs []arrow.RecordBatch) {
	for _, b := range bs {
		if b != nil {
			b.Release()
		}
	}
}

func cellValue(a arrow.Array, r int) any {
	if a.IsNull(r) {
		return nil
	}
	switch a := a.(type) {
	case *array.Float64:
		return a.Value(r)
	case *array.Int64:
		return a.Value(r)
	case *array.String:
		return strings.Clone(a.Value(r))
	case *array.List:
		lo, hi := a.ValueOffsets(r)
		if f, ok := a.ListValues().(*array.Float64); ok {
			return append([]float64(nil), f.Float64Values()[lo:hi]...)
		}
	}
	return a.ValueStr(r)
}

// sqlNumber renders a fitted statistic as a SQL literal that parses back
// to the same float64 (NULL for nil).
func sqlNumber(v any) string {
	var f float64
	switch v := v.(type) {
	case nil:
		return "CAST(NULL AS DOUBLE)"
	case float64:
		f = v
	case int64:
		f = float64(v)
	default:
		return "CAST(NULL AS DOUBLE)"
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "CAST(NULL AS DOUBLE)"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	if strings.HasPrefix(s, "-") {
		return "(" + s + ")"
	}
	return s
}

// fitTransformItems fits the ML transforms inside the items of a
// TRANSFORM clause on df's rows (innermost first) and returns each item
// as a named SQL expression of fitted functions. An item is an expression
// over df's columns, possibly containing transforms; it is named by its
// alias or, for a plain column, the column's name.
func (df *DataFrame) fitTransformItems(ctx context.Context, items []*ast.SelectItem) ([]store.TransformColumn, error) {
	var all []*ast.FuncCall
	for _, it := range items {
		if it.Star {
			continue
		}
		ast.Inspect(it.Expr, func(n ast.Node) bool {
			if fc, ok := n.(*ast.FuncCall); ok && types.IsMLTransform(mlFuncName(fc)) {
				all = append(all, fc)
			}
			return true
		})
	}
	counted, err := df.prefitCategories(ctx, all)
	if err != nil {
		return nil, err
	}
	var out []store.TransformColumn
	seen := map[string]bool{}
	for _, it := range items {
		if it.Star {
			return nil, fmt.Errorf("* is not allowed: list the columns the model reads")
		}
		name := it.Alias
		if name == "" {
			if c, ok := it.Expr.(*ast.ColumnRef); ok {
				name = c.Parts[len(c.Parts)-1]
			} else {
				return nil, fmt.Errorf("%s needs a name: add AS name (the model's features bind to the TRANSFORM's column names)", it.Expr.String())
			}
		}
		if seen[strings.ToLower(name)] {
			return nil, fmt.Errorf("column %s is given twice", name)
		}
		seen[strings.ToLower(name)] = true
		var calls []*ast.FuncCall
		ast.Inspect(it.Expr, func(n ast.Node) bool {
			if fc, ok := n.(*ast.FuncCall); ok && types.IsMLTransform(mlFuncName(fc)) {
				calls = append(calls, fc)
			}
			return true
		})
		// Inspect visits a call before its arguments: fit from the last.
		for i := len(calls) - 1; i >= 0; i-- {
			fitted, err := df.fitTransform(ctx, calls[i], counted)
			if err != nil {
				return nil, err
			}
			*calls[i] = *fitted
		}
		// Check the fitted item binds over df (names, types).
		if _, err := df.bind(Column{e: it.Expr}); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, store.TransformColumn{Name: name, SQL: it.Expr.String()})
	}
	return out, nil
}

// transformOf is a stored TRANSFORM as plans carry it.
func transformOf(cols []store.TransformColumn) []plan.TransformColumn {
	if len(cols) == 0 {
		return nil
	}
	out := make([]plan.TransformColumn, len(cols))
	for i, c := range cols {
		out[i] = plan.TransformColumn{Name: c.Name, SQL: c.SQL}
	}
	return out
}
