package tpch

import (
	"fmt"
	"strings"
	"testing"
)

func TestQueries(t *testing.T) {
	// A parameter of each query, as given in TPC-H 2.4.x.4 (validation).
	params := map[int][]string{
		1: {"interval '90' day"}, 2: {"p_size = 15", "'%BRASS'", "'EUROPE'"},
		3: {"'BUILDING'", "date '1995-03-15'"}, 4: {"date '1993-07-01'", "interval '3' month"},
		5: {"'ASIA'", "date '1994-01-01'"}, 6: {"0.06 - 0.01", "l_quantity < 24"},
		7: {"'FRANCE'", "'GERMANY'"}, 8: {"'BRAZIL'", "'AMERICA'", "'ECONOMY ANODIZED STEEL'"},
		9: {"'%green%'"}, 10: {"date '1993-10-01'"}, 11: {"'GERMANY'", "0.0001"},
		12: {"'MAIL', 'SHIP'", "date '1994-01-01'"}, 13: {"'%special%requests%'"},
		14: {"date '1995-09-01'"}, 15: {"with revenue0 as", "date '1996-01-01'"},
		16: {"'Brand#45'", "'MEDIUM POLISHED%'", "(49, 14, 23, 45, 19, 3, 36, 9)"},
		17: {"'Brand#23'", "'MED BOX'"}, 18: {"> 300"},
		19: {"'Brand#12'", "'Brand#23'", "'Brand#34'", "l_quantity >= 1 ", "l_quantity >= 10 ", "l_quantity >= 20 "},
		20: {"'forest%'", "date '1994-01-01'", "'CANADA'"}, 21: {"'SAUDI ARABIA'"},
		22: {"('13', '31', '23', '29', '30', '18', '17')", "substring(c_phone from 1 for 2)"},
	}
	for n := 1; n <= NumQueries; n++ {
		q := Query(n)
		if !strings.HasPrefix(q, fmt.Sprintf("-- TPC-H Q%d:", n)) {
			t.Errorf("q%02d: does not start with its title comment: %.40q", n, q)
		}
		if strings.HasSuffix(q, ";") || strings.Count(q, ";") != 0 {
			t.Errorf("q%02d: contains a semicolon", n)
		}
		if !strings.Contains(q, "select") {
			t.Errorf("q%02d: no select", n)
		}
		for _, p := range params[n] {
			if !strings.Contains(q, p) {
				t.Errorf("q%02d: missing parameter text %q", n, p)
			}
		}
	}
	for _, n := range []int{0, 23, -1} {
		if Query(n) != "" {
			t.Errorf("Query(%d) = non-empty", n)
		}
		if _, err := QueryText(n); err == nil || !strings.Contains(err.Error(), fmt.Sprint(n)) {
			t.Errorf("QueryText(%d) error = %v, want one naming the number", n, err)
		}
	}
}

func TestSchemas(t *testing.T) {
	if len(Tables) != 8 {
		t.Fatalf("Tables = %v", Tables)
	}
	for _, tb := range Tables {
		s, err := Schema(tb)
		if err != nil {
			t.Fatal(err)
		}
		prefix := map[string]string{"partsupp": "ps_"}[tb]
		if prefix == "" {
			prefix = tb[:1] + "_"
		}
		for _, f := range s.Fields() {
			if !strings.HasPrefix(f.Name, prefix) || f.Nullable {
				t.Errorf("%s.%s: want prefix %q and NOT NULL", tb, f.Name, prefix)
			}
		}
	}
	if _, err := Schema("lineitems"); err == nil || !strings.Contains(err.Error(), "lineitems") {
		t.Errorf("unknown table error = %v", err)
	}
}
