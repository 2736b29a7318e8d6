package flint

import (
	"context"
	"strings"
	"testing"

	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

// TestPrefitCategoriesMatchesQueries fits a TRANSFORM's encoders together
// (one ml.category_counts scan) and each alone (a GROUP BY query each,
// FitTransform) and expects the same fitted SQL: ties by value, top_k,
// min_frequency, NULLs, a number cast to VARCHAR, a repeated argument, and
// an encoder nested in a scaler (fitted alone, after).
func TestPrefitCategoriesMatchesQueries(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, WithSlots(2), WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	df := s.SQL(ctx, `SELECT * FROM (VALUES (1, 'b', 'q'), (2, 'a', 'q'), (2, 'a', NULL), (NULL, NULL, 'r'),
		(3, 'c', 'q'), (1, 'b', 's'), (1, 'it''s', 'r')) AS t(x, c, d)`)
	items := []struct{ expr, alias string }{
		{"ml.label_encoder(c)", "a"},
		{"ml.label_encoder(c, 2)", "b"},
		{"ml.one_hot_encoder(d)", "o"},
		{"ml.label_encoder(x)", "xi"},
		{"ml.label_encoder(c, 10, 2)", "m"},
		{"ml.label_encoder(c) OVER ()", "again"},
		{"ml.standard_scaler(ml.label_encoder(d))", "nested"},
		{"x", ""},
	}
	var sel []*ast.SelectItem
	for _, it := range items {
		e, err := parser.ParseExpr(it.expr)
		if err != nil {
			t.Fatal(err)
		}
		sel = append(sel, &ast.SelectItem{Expr: e, Alias: it.alias})
	}
	var calls []*ast.FuncCall
	for _, it := range sel {
		ast.Inspect(it.Expr, func(n ast.Node) bool {
			if fc, ok := n.(*ast.FuncCall); ok {
				calls = append(calls, fc)
			}
			return true
		})
	}
	counted, err := df.prefitCategories(ctx, calls)
	if err != nil {
		t.Fatal(err)
	}
	if len(counted) != 3 { // c, d (the nested encoder's too) and x
		t.Errorf("prefit %d expressions, want 4 (c, d, x)", len(counted))
	}
	got, err := df.fitTransformItems(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items[:6] {
		want, err := df.FitTransform(ctx, it.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got[i].SQL != want {
			t.Errorf("%s: fitted together %s, alone %s", it.expr, got[i].SQL, want)
		}
	}
	if got[6].SQL == "" || got[7].SQL != "x" {
		t.Errorf("nested %q, plain %q", got[6].SQL, got[7].SQL)
	}
}

// TestPrefitCategoriesBadArgument: when an encoder's argument does not
// bind, the shared query steps aside and the error names that encoder.
func TestPrefitCategoriesBadArgument(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, WithSlots(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	df := s.SQL(ctx, "SELECT * FROM (VALUES (1, 'b')) AS t(x, c)")
	var sel []*ast.SelectItem
	for _, e := range []string{"ml.label_encoder(c)", "ml.label_encoder(nope)"} {
		x, err := parser.ParseExpr(e)
		if err != nil {
			t.Fatal(err)
		}
		sel = append(sel, &ast.SelectItem{Expr: x, Alias: "a" + e[len(e)-3:len(e)-1]})
	}
	_, err = df.fitTransformItems(ctx, sel)
	if err == nil || !strings.Contains(err.Error(), "ml.label_encoder(nope)") {
		t.Fatalf("err = %v, want one naming ml.label_encoder(nope)", err)
	}
}

// TestPrefitCategoriesParquet: over a Parquet table whose strings are
// dictionary-encoded, the shared fit counts dictionary indices
// (exec.NewDictCategoryCounts), with a filter on another column and
// NULLs, and fits what each encoder's own GROUP BY query fits.
func TestPrefitCategoriesParquet(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, WithSlots(2), WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := t.TempDir() + "/cats"
	digits := "(VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))"
	copySQL := `COPY (SELECT id,
		CASE WHEN id % 17 = 0 THEN NULL ELSE 'c' || CAST(id * 7 % 13 AS VARCHAR) END AS c,
		CASE id % 3 WHEN 0 THEN 'x' WHEN 1 THEN 'y' ELSE 'zz' END AS d
		FROM (SELECT a.i * 1000 + b.i * 100 + c.i * 10 + d.i + 10000 * e.i AS id
		      FROM ` + digits + ` a(i), ` + digits + ` b(i), ` + digits + ` c(i), ` + digits + ` d(i), (VALUES (0), (1), (2)) e(i)))
		TO '` + dir + `' (FORMAT parquet)`
	if _, err := s.SQL(ctx, copySQL).Collect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterTable(ctx, "cats", "parquet", dir, nil); err != nil {
		t.Fatal(err)
	}
	df := s.SQL(ctx, "SELECT * FROM cats WHERE id % 5 < 3")
	exprs := []string{"ml.label_encoder(c)", "ml.one_hot_encoder(d)", "ml.label_encoder(d, 2)"}
	var sel []*ast.SelectItem
	var calls []*ast.FuncCall
	for i, x := range exprs {
		e, err := parser.ParseExpr(x)
		if err != nil {
			t.Fatal(err)
		}
		sel = append(sel, &ast.SelectItem{Expr: e, Alias: string(rune('a' + i))})
		calls = append(calls, e.(*ast.FuncCall))
	}
	counted, err := df.prefitCategories(ctx, calls)
	if err != nil {
		t.Fatal(err)
	}
	if len(counted) != 2 {
		t.Fatalf("prefit %d expressions, want 2 (c, d)", len(counted))
	}
	got, err := df.fitTransformItems(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range exprs {
		want, err := df.FitTransform(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if got[i].SQL != want {
			t.Errorf("%s: fitted together %s, alone %s", x, got[i].SQL, want)
		}
	}
}
