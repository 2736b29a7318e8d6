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

const (
	sampleDir  = "../../testdata/tpch/sf-sample"
	answersDir = "../../testdata/tpch/answers/sample"
)

func TestFormatValue(t *testing.T) {
	bigNeg, _ := new(big.Int).SetString("-123456789012345678901234", 10)
	cases := []struct {
		v      any
		dbType string
		want   string
	}{
		{nil, "DOUBLE", ""},
		{duckdb.Decimal{Width: 15, Scale: 2, Value: big.NewInt(1230)}, "DECIMAL(15,2)", "12.30"},
		{duckdb.Decimal{Width: 15, Scale: 2, Value: big.NewInt(-5)}, "DECIMAL(15,2)", "-0.05"},
		{duckdb.Decimal{Width: 15, Scale: 2, Value: big.NewInt(0)}, "DECIMAL(15,2)", "0.00"},
		{duckdb.Decimal{Width: 38, Scale: 4, Value: bigNeg}, "DECIMAL(38,4)", "-12345678901234567890.1234"},
		{duckdb.Decimal{Width: 10, Scale: 0, Value: big.NewInt(7)}, "DECIMAL(10,0)", "7"},
		{25.575154611454693, "DOUBLE", "25.575154611454693"},
		{0.1, "DOUBLE", "0.1"},
		{int64(-3), "BIGINT", "-3"},
		{int32(14876), "INTEGER", "14876"},
		{"a,b", "VARCHAR", "a,b"},
		{true, "BOOLEAN", "true"},
		{time.Date(1998, 9, 2, 0, 0, 0, 0, time.UTC), "DATE", "1998-09-02"},
		{time.Date(1998, 9, 2, 1, 2, 3, 500000000, time.UTC), "TIMESTAMP", "1998-09-02 01:02:03.5"},
	}
	for _, c := range cases {
		got, err := formatValue(c.v, c.dbType)
		if err != nil || got != c.want {
			t.Errorf("formatValue(%v, %s) = %q, %v; want %q", c.v, c.dbType, got, err, c.want)
		}
	}
	if _, err := formatValue(struct{}{}, "STRUCT"); err == nil {
		t.Error("unsupported type accepted")
	}
}

// TestAnswersReproducible regenerates the sample answers and checks they
// equal the committed ones, and that DuckDB sees the generator's types.
func TestAnswersReproducible(t *testing.T) {
	out := t.TempDir()
	var log bytes.Buffer
	if err := run([]string{"answers", "--dir", sampleDir, "--out", out, "--queries", "../../tpch/queries"}, &log); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 22; n++ {
		name := "q" + twoDigits(n) + ".csv"
		want, err := os.ReadFile(filepath.Join(answersDir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%s differs from the committed answer", name)
		}
	}

	db, err := openDB(context.Background(), sampleDir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var q, d, k string
	if err := db.QueryRow("select typeof(l_quantity), typeof(l_shipdate), typeof(l_orderkey) from lineitem limit 1").Scan(&q, &d, &k); err != nil {
		t.Fatal(err)
	}
	if q != "DECIMAL(15,2)" || d != "DATE" || k != "BIGINT" {
		t.Errorf("DuckDB sees lineitem types %s, %s, %s", q, d, k)
	}
}

func TestBenchAndErrors(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"bench", "--dir", sampleDir, "--only", "1,6", "--queries", "../../tpch/queries"}, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "q01\t") || !strings.Contains(s, "q06\t") || !strings.Contains(s, "total\t") {
		t.Errorf("bench output:\n%s", s)
	}
	for _, args := range [][]string{
		nil,
		{"bench"},
		{"answers", "--dir", sampleDir},
		{"bench", "--dir", t.TempDir()},
		{"bench", "--dir", sampleDir, "--only", "23"},
		{"frobnicate", "--dir", sampleDir},
	} {
		if err := run(args, &out); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }
