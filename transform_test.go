package flint_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	flint "github.com/flint-engine/flint"
)

// TestFitTransform fits each transform on four rows whose statistics are
// known by hand (mean 2.5, sample stddev sqrt(5/3), min 1, max 4, median
// 2, most frequent 4 over 1, 2, 4, 4 and NULL) and applies the fitted SQL;
// on no rows, each fit still gives an expression that applies.
func TestFitTransform(t *testing.T) {
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	df := s.SQL(ctx, "SELECT * FROM (VALUES (1, 'b'), (2, 'a'), (4, 'a'), (4, NULL), (NULL, 'c')) AS t(x, c)")
	sd := math.Sqrt(((1-2.75)*(1-2.75) + (2-2.75)*(2-2.75) + 2*(4-2.75)*(4-2.75)) / 3)
	tests := []struct {
		transform string
		in        string
		want      float64
	}{
		{"ml.standard_scaler(x)", "1", (1 - 2.75) / sd},
		{"ml.min_max_scaler(x) OVER ()", "2", 1.0 / 3},
		{"ml.imputer(x, 'mean')", "NULL", 2.75},
		{"ml.imputer(x, 'median')", "NULL", 2},
		{"ml.imputer(x, 'most_frequent')", "NULL", 4},
		{"ml.quantile_bucketize(x, 2)", "2", 1}, // boundary: the value at rank 2 of 4, i.e. 2
		{"ml.label_encoder(c)", "'a'", 0},
		{"ml.label_encoder(c)", "'zzz'", 3},
		{"ml.label_encoder(c, 1)", "'b'", 1},
		{"ml.one_hot_encoder(c)[2]", "'b'", 1},
	}
	for _, tc := range tests {
		call := strings.TrimSuffix(tc.transform, "[2]")
		fitted, err := df.FitTransform(ctx, call)
		if err != nil {
			t.Fatalf("%s: %v", tc.transform, err)
		}
		expr := fitted
		if strings.HasSuffix(tc.transform, "[2]") {
			expr = "(" + fitted + ")[2]"
		}
		param := "x"
		if strings.Contains(call, "(c") {
			param = "c"
		}
		q := "SELECT CAST(" + strings.ReplaceAll(expr, "CAST(("+param+")", "CAST(("+tc.in+")") + " AS DOUBLE) FROM (VALUES (0)) AS z(" + param + ")"
		got := scalar(t, ctx, s, strings.ReplaceAll(q, "CAST("+param+" ", "CAST("+tc.in+" "))
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s applied to %s: %v, want %v (fitted %s)", tc.transform, tc.in, got, tc.want, fitted)
		}
	}
	empty := df.Where("x > 100")
	for _, tc := range tests {
		fitted, err := empty.FitTransform(ctx, strings.TrimSuffix(tc.transform, "[2]"))
		if err != nil {
			t.Fatalf("%s on no rows: %v", tc.transform, err)
		}
		if err := df.SelectExpr(fitted + " AS v").Err(); err != nil {
			t.Errorf("%s on no rows: fitted %s does not apply: %v", tc.transform, fitted, err)
		}
	}
	for _, bad := range []string{"ml.standard_scaler(c)", "ml.imputer(x, 'mode')", "ml.standard_scaler(x) OVER (PARTITION BY c)", "abs(x)", "ml.quantile_bucketize(x, x)"} {
		if _, err := df.FitTransform(ctx, bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func scalar(t *testing.T, ctx context.Context, s *flint.Session, q string) float64 {
	t.Helper()
	batches, err := s.SQL(ctx, q).Collect(ctx)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	for _, b := range batches {
		if b.NumRows() > 0 {
			c := b.Column(0).(*array.Float64)
			if c.IsNull(0) {
				return math.NaN()
			}
			return c.Value(0)
		}
	}
	t.Fatalf("%s: no row", q)
	return 0
}
