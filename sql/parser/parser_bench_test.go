package parser

import (
	"strings"
	"testing"
	"time"
)

func BenchmarkParseTPCH(b *testing.B) {
	var qs []string
	for n := 1; n <= 22; n++ {
		qs = append(qs, readTPCH(b, n))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, q := range qs {
			if _, err := Parse(q); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestPathologicalInputsAreFast guards against exponential backtracking and
// quadratic scans on adversarial nesting (the time bound is generous; a
// regression would take minutes, not milliseconds).
func TestPathologicalInputsAreFast(t *testing.T) {
	n := 400
	open, closeP := strings.Repeat("(", n), strings.Repeat(")", n)
	inputs := []string{
		"select " + open + "1" + closeP,
		"select " + open + "select 1" + closeP,
		"select " + open + "select 1" + closeP + " +",
		"select " + open + "select 1" + strings.Repeat(")", n-1) + " union select 2)",
		"select " + open + "select 1" + strings.Repeat(") union (select 1", 5) + closeP + " x",
		"select a in " + open + "select 1" + closeP,
		"select a in " + open + "select 1" + strings.Repeat(")", n-1) + " x",
		"select * from " + open + "select 1" + closeP,
		"select * from " + open + "select 1" + strings.Repeat(")", n-1) + " join",
		"select * from " + open + "a" + closeP,
		"select * from " + strings.Repeat("(a join ", n) + "b" + strings.Repeat(" on true)", n),
		strings.Repeat("select 1 union ", 5000) + "select 1",
		"select " + strings.Repeat("a + ", 20000) + "a",
		"select a in (" + strings.Repeat("1, ", 50000) + "1)",
		"select " + strings.Repeat("-", 900) + "1",
		"select " + strings.Repeat("not ", 900) + "a",
		strings.Repeat("/* ", 10000),
		"select '" + strings.Repeat("''", 50000) + "'",
	}
	for i, in := range inputs {
		start := time.Now()
		_, _ = Parse(in)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("input %d took %v", i, d)
		}
	}
}
