package main

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

func TestRender(t *testing.T) {
	huge, _ := new(big.Int).SetString("18000000000000000000", 10)
	for _, c := range []struct {
		v      any
		dbType string
		want   string
	}{
		{nil, "INTEGER", "NULL"},
		{duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(1230)}, "DECIMAL(10,2)", "12.30"},
		{duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(-5)}, "DECIMAL(10,2)", "-0.05"},
		{duckdb.Decimal{Width: 10, Scale: 0, Value: big.NewInt(7)}, "DECIMAL(10,0)", "7"},
		{1.0 / 3, "DOUBLE", "0.333333333333"},
		{float32(0.5), "FLOAT", "0.5"},
		{int64(-3), "BIGINT", "-3"},
		{huge, "HUGEINT", "18000000000000000000"},
		{"", "VARCHAR", "(empty)"},
		{"a b", "VARCHAR", "a b"},
		{true, "BOOLEAN", "true"},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "DATE", "2024-02-29"},
		{time.Date(2024, 2, 29, 1, 2, 3, 0, time.UTC), "TIMESTAMP", "2024-02-29 01:02:03"},
		{time.Date(2024, 2, 29, 1, 2, 3, 500000000, time.UTC), "TIMESTAMP", "2024-02-29 01:02:03.5"},
	} {
		got, err := render(c.v, c.dbType)
		if err != nil || got != c.want {
			t.Errorf("render(%v, %s) = %q, %v; want %q", c.v, c.dbType, got, err, c.want)
		}
	}
	if _, err := render(struct{}{}, "STRUCT"); err == nil {
		t.Error("unsupported type accepted")
	}
}

func TestTranslate(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '/d/t.parquet'",
			"CREATE VIEW t AS SELECT * FROM read_parquet('/d/t.parquet')"},
		{"CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '" + dir + "'",
			"CREATE VIEW t AS SELECT * FROM read_parquet('" + filepath.Join(dir, "*.parquet") + "')"},
		{"create external table t (a INT, b DECIMAL(10, 2)) stored as csv location '/d/t.csv' OPTIONS ('header' 'false', delimiter = '|')",
			"CREATE VIEW t AS SELECT * FROM read_csv('/d/t.csv', columns = {'a': 'INT', 'b': 'DECIMAL(10, 2)'}, header = false, allow_quoted_nulls = false, delim = '|')"},
		{"CREATE EXTERNAL TABLE j STORED AS JSON LOCATION '/d/x.json'",
			"CREATE VIEW j AS SELECT * FROM read_json('/d/x.json', format = 'newline_delimited')"},
	} {
		got, err := translate(c.in)
		if err != nil || got != c.want {
			t.Errorf("translate(%q) =\n  %q, %v\nwant\n  %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"CREATE EXTERNAL TABLE t LOCATION '/x'",
		"CREATE EXTERNAL TABLE t STORED AS AVRO LOCATION '/x'",
		"CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/x' OPTIONS (header)",
	} {
		if _, err := translate(bad); err == nil {
			t.Errorf("translate(%q) succeeded", bad)
		}
	}
}

// TestCorpusMatchesDuckDB re-runs every query of the committed corpus in
// DuckDB and checks the expected blocks are exactly DuckDB's answers.
func TestCorpusMatchesDuckDB(t *testing.T) {
	files, err := filepath.Glob("../../testdata/slt/*.slt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		before, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains("\n"+string(before), "\n# sltcomplete: skip") {
			continue // answers from elsewhere (the ML libraries)
		}
		var out bytes.Buffer
		if _, err := complete(context.Background(), f, true, &out); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if out.Len() > 0 {
			t.Errorf("expected blocks differ from DuckDB (run go run . to refresh):\n%s", out.String())
		}
		after, _ := os.ReadFile(f)
		if !bytes.Equal(before, after) {
			t.Errorf("%s: check mode wrote the file", f)
		}
	}
}

func TestRunOne(t *testing.T) {
	var out bytes.Buffer
	if err := runOne(context.Background(), "CREATE VIEW v AS SELECT 1 AS a, 'x y' AS b; SELECT a, b FROM v", &out); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "1 x y" {
		t.Errorf("runOne printed %q", got)
	}
}

func TestLetterFits(t *testing.T) {
	for _, c := range []struct {
		letter byte
		dbType string
		want   bool
	}{
		{'I', "INTEGER", true}, {'I', "BIGINT", true}, {'I', "HUGEINT", true}, {'I', "SMALLINT", true},
		{'R', "DECIMAL(10,2)", true}, {'R', "DOUBLE", true}, {'I', "DOUBLE", false},
		{'T', "VARCHAR", true}, {'B', "BOOLEAN", true}, {'D', "DATE", true}, {'T', "DATE", false},
		{'T', "TIMESTAMP", true}, {'I', "NULL", true},
	} {
		if got := letterFits(c.letter, c.dbType); got != c.want {
			t.Errorf("letterFits(%c, %s) = %v, want %v", c.letter, c.dbType, got, c.want)
		}
	}
}
