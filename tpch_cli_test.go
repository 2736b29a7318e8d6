package flint_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/tpch"
)

// TestTPCHSF1CLI runs the 22 queries at SF1 as `flint sql --table NAME=PATH
// … --format csv` processes and compares what they print with DuckDB's
// committed SF1 answers, cell by cell (floating-point cells within a
// relative 1e-9). Like TestTPCHSF1 it needs FLINT_TPCH_SF1.
func TestTPCHSF1CLI(t *testing.T) {
	dir := os.Getenv("FLINT_TPCH_SF1")
	if dir == "" {
		t.Skip("set FLINT_TPCH_SF1 to a directory of TPC-H SF1 Parquet files")
	}
	bin := clustertest.Binary(t)
	var tables []string
	for _, table := range tpch.Tables {
		tables = append(tables, "--table", table+"="+filepath.Join(dir, table+".parquet"))
	}
	for q := 1; q <= tpch.NumQueries; q++ {
		t.Run(fmt.Sprintf("q%02d", q), func(t *testing.T) {
			args := append([]string{"sql", "--format", "csv", "-f", filepath.Join("tpch", "queries", fmt.Sprintf("q%02d.sql", q))}, tables...)
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("flint sql: %v\n%s", err, stderr.String())
			}
			want, err := os.ReadFile(filepath.Join("testdata", "tpch", "answers", "sf1", fmt.Sprintf("q%02d.csv", q)))
			if err != nil {
				t.Fatal(err)
			}
			if err := sameCSV(want, out); err != nil {
				t.Error(err)
			}
		})
	}
}

// sameCSV compares two CSV texts row by row in order: equal header, equal
// row count, and per cell equal text or, when both parse as floats, values
// within a relative 1e-9.
func sameCSV(want, got []byte) error {
	w, err := csv.NewReader(bytes.NewReader(want)).ReadAll()
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	g, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		return fmt.Errorf("flint output: %w", err)
	}
	if len(w) != len(g) {
		return fmt.Errorf("%d lines (header included), want %d", len(g), len(w))
	}
	for i := range w {
		if len(w[i]) != len(g[i]) {
			return fmt.Errorf("line %d: %d fields, want %d", i+1, len(g[i]), len(w[i]))
		}
		for j := range w[i] {
			a, b := w[i][j], g[i][j]
			if a == b {
				continue
			}
			x, errx := strconv.ParseFloat(a, 64)
			y, erry := strconv.ParseFloat(b, 64)
			if i > 0 && errx == nil && erry == nil && math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(x)) {
				continue
			}
			return fmt.Errorf("line %d field %d (%s): got %q, want %q", i+1, j+1, w[0][j], b, a)
		}
	}
	return nil
}

func TestSameCSV(t *testing.T) {
	want := []byte("a,b\nx,1.5\ny,0.1\n")
	for _, c := range []struct {
		got string
		ok  bool
	}{
		{"a,b\nx,1.5\ny,0.1\n", true},
		{"a,b\nx,1.5\ny,0.10000000000000001\n", true},
		{"a,b\nx,1.5\ny,0.2\n", false},
		{"a,b\ny,0.1\nx,1.5\n", false},
		{"a,c\nx,1.5\ny,0.1\n", false},
		{"a,b\nx,1.5\n", false},
	} {
		if err := sameCSV(want, []byte(c.got)); (err == nil) != c.ok {
			t.Errorf("sameCSV(%q) = %v, want ok=%v", c.got, err, c.ok)
		}
	}
}
