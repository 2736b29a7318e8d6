package main

import (
	"cmp"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Result is a query result with every value rendered as package slt does.
type Result struct {
	Cols []Kind
	Rows [][]string
}

// Order says how a query orders its output: Total when its ORDER BY
// covers every output column (rows must come in the same sequence),
// Prefix the output positions (0-based) it orders by otherwise.
type Order struct {
	Total  bool
	Prefix []int
	Keys   []OrderItem // the ORDER BY (positions)
}

// orderOf derives the Order of q.
func orderOf(q *Query) Order {
	n := len(q.Body.Out())
	var o Order
	seen := map[int]bool{}
	for _, it := range q.OrderBy {
		o.Prefix = append(o.Prefix, it.Pos-1)
		seen[it.Pos-1] = true
	}
	o.Total = len(q.OrderBy) > 0 && len(seen) == n
	o.Keys = q.OrderBy
	return o
}

// floatTol is the relative (and, near zero, absolute) tolerance for
// floating-point values: sums in a different order differ in the last
// bits, more where positive and negative values cancel.
const floatTol = 1e-6

// compareResults describes how got (Flint) differs from want (DuckDB), or
// returns "" when they agree. Decimals, integers, strings and dates are
// compared exactly (as rendered), floats within floatTol; rows as a
// multiset unless the order says otherwise.
func compareResults(want, got *Result, o Order) string {
	if len(want.Cols) != len(got.Cols) {
		return fmt.Sprintf("DuckDB returns %d columns, Flint %d", len(want.Cols), len(got.Cols))
	}
	float := make([]bool, len(want.Cols))
	for i := range float {
		float[i] = want.Cols[i] == KFloat || got.Cols[i] == KFloat
	}
	if len(want.Rows) != len(got.Rows) {
		return fmt.Sprintf("DuckDB returns %d rows, Flint %d\n%s", len(want.Rows), len(got.Rows), diffRows(want.Rows, got.Rows, float))
	}
	// Floats that differ in the last bits may order peers differently:
	// where the ORDER BY has a float, check the multiset and that Flint's
	// rows are sorted (floats within the tolerance count as equal).
	floatKey := false
	for _, k := range o.Keys {
		floatKey = floatKey || float[k.Pos-1]
	}
	if o.Total && !floatKey {
		for i := range want.Rows {
			if !rowsMatch(want.Rows[i], got.Rows[i], float) {
				return fmt.Sprintf("row %d differs (ordered result)\n%s", i+1, diffRows(want.Rows, got.Rows, float))
			}
		}
		return ""
	}
	w, g := sortedRows(want.Rows, float), sortedRows(got.Rows, float)
	for i := range w {
		if !rowsMatch(w[i], g[i], float) {
			return fmt.Sprintf("rows differ (compared as multisets)\n%s", diffRows(w, g, float))
		}
	}
	if floatKey {
		for i := 1; i < len(got.Rows); i++ {
			if orderCmp(got.Rows[i-1], got.Rows[i], o.Keys, got.Cols) > 0 {
				return fmt.Sprintf("rows %d and %d are out of order in Flint\n%s", i, i+1, diffRows(want.Rows, got.Rows, float))
			}
		}
		return ""
	}
	if len(o.Prefix) > 0 {
		for i := range want.Rows {
			for _, c := range o.Prefix {
				if !cellsMatch(want.Rows[i][c], got.Rows[i][c], float[c]) {
					return fmt.Sprintf("row %d: ORDER BY column %d is %s in DuckDB, %s in Flint\n%s", i+1, c+1, want.Rows[i][c], got.Rows[i][c], diffRows(want.Rows, got.Rows, float))
				}
			}
		}
	}
	return ""
}

func rowsMatch(w, g []string, float []bool) bool {
	for i := range w {
		if !cellsMatch(w[i], g[i], float[i]) {
			return false
		}
	}
	return true
}

func cellsMatch(w, g string, float bool) bool {
	if w == g {
		return true
	}
	if !float {
		return false
	}
	x, err1 := strconv.ParseFloat(w, 64)
	y, err2 := strconv.ParseFloat(g, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	d := math.Abs(x - y)
	return d <= floatTol*math.Max(math.Abs(x), math.Abs(y)) || d <= floatTol
}

// sortedRows sorts rows for a multiset comparison: by the exact columns
// first, then by the float columns numerically, so that values within the
// tolerance end up facing each other.
func sortedRows(rows [][]string, float []bool) [][]string {
	type keyed struct {
		exact string
		nums  []float64
		r     []string
	}
	ks := make([]keyed, len(rows))
	for i, r := range rows {
		var exact []string
		var nums []float64
		for c, v := range r {
			if !float[c] {
				exact = append(exact, v)
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				// NULL (and anything unparsable) sorts first.
				exact = append(exact, "\x00"+v)
				f = math.Inf(-1)
			}
			nums = append(nums, f)
		}
		ks[i] = keyed{strings.Join(exact, "\x00"), nums, r}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		if ks[i].exact != ks[j].exact {
			return ks[i].exact < ks[j].exact
		}
		for c := range ks[i].nums {
			// cmp.Compare orders NaN (first) consistently; < and != do not.
			if d := cmp.Compare(ks[i].nums[c], ks[j].nums[c]); d != 0 {
				return d < 0
			}
		}
		return false
	})
	out := make([][]string, len(rows))
	for i := range ks {
		out[i] = ks[i].r
	}
	return out
}

// diffRows shows both results side by side: up to 30 lines each, from a
// few rows before the first difference.
func diffRows(want, got [][]string, float []bool) string {
	first := 0
	for first < len(want) && first < len(got) && rowsMatch(want[first], got[first], float) {
		first++
	}
	from := max(0, first-3)
	var b strings.Builder
	show := func(title string, rows [][]string, other [][]string) {
		fmt.Fprintf(&b, "%s (%d rows):\n", title, len(rows))
		if from > 0 {
			fmt.Fprintf(&b, "    ... %d equal rows\n", from)
		}
		for i := from; i < len(rows); i++ {
			if i == from+30 {
				fmt.Fprintf(&b, "    ...\n")
				break
			}
			mark := "    "
			if i >= len(other) || !rowsMatch(rows[i], other[i], float) {
				mark = "  ! "
			}
			b.WriteString(mark + strings.Join(rows[i], " ") + "\n")
		}
	}
	show("DuckDB", want, got)
	show("Flint", got, want)
	return b.String()
}

// orderCmp compares two rows under ORDER BY keys as DuckDB sorts them
// (NULLS LAST unless the key says otherwise); floats within the
// tolerance are equal.
func orderCmp(a, b []string, keys []OrderItem, kinds []Kind) int {
	for _, k := range keys {
		c := k.Pos - 1
		x, y := a[c], b[c]
		if kinds[c] == KFloat && x != "NULL" && y != "NULL" && cellsMatch(x, y, true) {
			// Nearly equal floats (rendered to 12 digits): the order
			// between them, and so what the later keys must say, rests
			// on bits the rendering dropped.
			return 0
		}
		if x == y {
			continue
		}
		nullsFirst := k.Nulls == "FIRST"
		var r int
		switch {
		case x == "NULL":
			r = 1
			if nullsFirst {
				r = -1
			}
			return r
		case y == "NULL":
			r = -1
			if nullsFirst {
				r = 1
			}
			return r
		}
		switch kinds[c] {
		case KInt, KDecimal, KFloat:
			fx, _ := strconv.ParseFloat(x, 64)
			fy, _ := strconv.ParseFloat(y, 64)
			if fx < fy {
				r = -1
			} else if fx > fy {
				r = 1
			}
		default:
			if x == "(empty)" {
				x = ""
			}
			if y == "(empty)" {
				y = ""
			}
			r = strings.Compare(x, y)
		}
		if r == 0 {
			continue
		}
		if k.Desc {
			r = -r
		}
		return r
	}
	return 0
}
