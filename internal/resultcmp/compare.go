package resultcmp

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// DefaultRelTol is the relative tolerance used when Options.RelTol is 0.
const DefaultRelTol = 1e-9

// Options controls CompareCSV.
type Options struct {
	// Ordered compares rows in order (queries with ORDER BY). When the
	// ordered comparison fails but the rows match as a multiset, the error
	// says so. When false, both sides are sorted before comparing.
	Ordered bool
	// RelTol is the relative tolerance for non-integer numbers
	// (default DefaultRelTol). Two numbers e (expected) and g (got) match
	// when |e-g| <= max(RelTol*max(|e|,|g|), AbsTol, 10^-s), where s is the
	// scale of g's column when it is a DECIMAL with s > 0: a decimal cannot
	// be closer than its last digit to a DOUBLE answer.
	RelTol float64
	// AbsTol is an absolute tolerance for non-integer numbers (default 0).
	AbsTol float64
	// CheckNames also requires the column names to match (ASCII
	// case-insensitively).
	CheckNames bool
}

type colKind uint8

const (
	kindText colKind = iota
	kindInt
	kindDecimal
	kindFloat
)

type column struct {
	name  string
	typ   arrow.DataType
	kind  colKind
	scale int
}

// CompareCSV checks that got holds the same result as the canonical CSV
// read from expected (header row, then one line per row; see tools/duckref):
// same number of columns, same number of rows, and equal values. Integers
// compare exactly; other numbers with the tolerance in opts; everything
// else compares as FormatValue text, with NULL equal to an empty field.
// The returned error names the first differing row (1-based, header not
// counted) and column, with both values. got may be empty (no batches).
func CompareCSV(expected io.Reader, got []arrow.RecordBatch, opts Options) error {
	if opts.RelTol == 0 {
		opts.RelTol = DefaultRelTol
	}
	header, expRows, err := readCSV(expected)
	if err != nil {
		return fmt.Errorf("resultcmp: expected answer: %w", err)
	}
	var cols []column
	var gotRows [][]cell
	if len(got) > 0 {
		cols = columnsOf(got[0].Schema())
		for bi, b := range got {
			if int(b.NumCols()) != len(cols) {
				return fmt.Errorf("resultcmp: batch %d has %d columns, batch 0 has %d", bi, b.NumCols(), len(cols))
			}
			gotRows = appendRows(gotRows, b)
		}
		if len(cols) != len(header) {
			return fmt.Errorf("resultcmp: column count: expected %d %v, got %d %v", len(header), header, len(cols), names(cols))
		}
		if opts.CheckNames {
			for i, c := range cols {
				if !strings.EqualFold(c.name, header[i]) {
					return fmt.Errorf("resultcmp: column %d name: expected %q, got %q", i+1, header[i], c.name)
				}
			}
		}
	} else {
		cols = make([]column, len(header))
		for i, h := range header {
			cols[i] = column{name: h}
		}
	}

	orderedErr := compareRows(header, cols, expRows, gotRows, opts)
	if orderedErr == nil || !opts.Ordered {
		if orderedErr != nil {
			return fmt.Errorf("resultcmp: (rows sorted) %w", orderedErr)
		}
		return nil
	}
	if len(expRows) == len(gotRows) && compareSorted(header, cols, expRows, gotRows, opts) == nil {
		return fmt.Errorf("resultcmp: rows match as a multiset but not in order: %w", orderedErr)
	}
	return fmt.Errorf("resultcmp: %w", orderedErr)
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

func columnsOf(s *arrow.Schema) []column {
	cols := make([]column, s.NumFields())
	for i, f := range s.Fields() {
		c := column{name: f.Name, typ: f.Type}
		t := f.Type
		if d, ok := t.(*arrow.DictionaryType); ok {
			t = d.ValueType
		}
		switch t.ID() {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
			c.kind = kindInt
		case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
			c.kind = kindFloat
		case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
			c.kind = kindDecimal
			c.scale = decimalScale(t)
		}
		cols[i] = c
	}
	return cols
}

// cell is one formatted value of the result under test.
type cell struct {
	text string
	null bool
}

func appendRows(rows [][]cell, b arrow.RecordBatch) [][]cell {
	n := int(b.NumRows())
	start := len(rows)
	for r := 0; r < n; r++ {
		rows = append(rows, make([]cell, b.NumCols()))
	}
	for c, arr := range b.Columns() {
		for r := 0; r < n; r++ {
			rows[start+r][c] = cell{text: FormatValue(arr, r), null: arr.IsNull(r)}
		}
	}
	return rows
}

func compareSorted(header []string, cols []column, exp [][]string, got [][]cell, opts Options) error {
	exp = append([][]string(nil), exp...)
	got = append([][]cell(nil), got...)
	sort.SliceStable(exp, func(i, j int) bool {
		return lessRow(cols, func(c int) (string, bool) { return exp[i][c], exp[i][c] == "" },
			func(c int) (string, bool) { return exp[j][c], exp[j][c] == "" })
	})
	sort.SliceStable(got, func(i, j int) bool {
		return lessRow(cols, func(c int) (string, bool) { return got[i][c].text, got[i][c].null },
			func(c int) (string, bool) { return got[j][c].text, got[j][c].null })
	})
	return compareRowsInOrder(header, cols, exp, got, opts)
}

func compareRows(header []string, cols []column, exp [][]string, got [][]cell, opts Options) error {
	if !opts.Ordered {
		return compareSorted(header, cols, exp, got, opts)
	}
	return compareRowsInOrder(header, cols, exp, got, opts)
}

// lessRow orders rows for the unordered comparison: NULLs first, numeric
// columns by value, others by text.
func lessRow(cols []column, a, b func(int) (string, bool)) bool {
	for c, col := range cols {
		as, an := a(c)
		bs, bn := b(c)
		if an != bn {
			return an
		}
		if an {
			continue
		}
		if col.kind != kindText {
			af, aerr := strconv.ParseFloat(as, 64)
			bf, berr := strconv.ParseFloat(bs, 64)
			if aerr == nil && berr == nil {
				if af != bf {
					return af < bf
				}
				continue
			}
		}
		if as != bs {
			return as < bs
		}
	}
	return false
}

func compareRowsInOrder(header []string, cols []column, exp [][]string, got [][]cell, opts Options) error {
	n := min(len(exp), len(got))
	var firstDiff error
	for r := 0; r < n && firstDiff == nil; r++ {
		for c := range cols {
			if ok, why := valuesMatch(exp[r][c], got[r][c], cols[c], opts); !ok {
				firstDiff = fmt.Errorf("row %d column %d (%s): expected %s, got %s%s%s",
					r+1, c+1, header[c], quoteExp(exp[r][c]), quoteGot(got[r][c]), typeNote(cols[c]), why)
				break
			}
		}
	}
	if len(exp) == len(got) {
		return firstDiff
	}
	count := fmt.Errorf("row count: expected %d, got %d", len(exp), len(got))
	switch {
	case firstDiff != nil:
		return fmt.Errorf("%w; first difference: %w", count, firstDiff)
	case len(exp) > len(got):
		return fmt.Errorf("%w; first missing row %d: %s", count, n+1, strings.Join(quoteAll(exp[n]), ", "))
	default:
		return fmt.Errorf("%w; first extra row %d: %s", count, n+1, formatGotRow(got[n]))
	}
}

func quoteExp(s string) string {
	if s == "" {
		return "NULL"
	}
	return strconv.Quote(s)
}

func quoteGot(c cell) string {
	if c.null {
		return "NULL"
	}
	return strconv.Quote(c.text)
}

func quoteAll(rec []string) []string {
	out := make([]string, len(rec))
	for i, s := range rec {
		out[i] = quoteExp(s)
	}
	return out
}

func formatGotRow(row []cell) string {
	parts := make([]string, len(row))
	for i, c := range row {
		parts[i] = quoteGot(c)
	}
	return strings.Join(parts, ", ")
}

func typeNote(c column) string {
	if c.typ == nil {
		return ""
	}
	return " [" + c.typ.String() + "]"
}

// valuesMatch compares one expected CSV field with one formatted value.
func valuesMatch(exp string, got cell, col column, opts Options) (bool, string) {
	if got.null {
		return exp == "", ""
	}
	if col.kind == kindText {
		return exp == got.text, ""
	}
	if exp == "" {
		return false, ""
	}
	if col.kind == kindInt && isIntegerText(exp) {
		e, ok1 := new(big.Int).SetString(exp, 10)
		g, ok2 := new(big.Int).SetString(got.text, 10)
		if ok1 && ok2 {
			return e.Cmp(g) == 0, ""
		}
	}
	e, err := strconv.ParseFloat(exp, 64)
	if err != nil {
		return false, " (expected value is not a number)"
	}
	g, err := strconv.ParseFloat(got.text, 64)
	if err != nil {
		return false, " (got value is not a number)"
	}
	if math.IsNaN(e) || math.IsNaN(g) {
		return math.IsNaN(e) && math.IsNaN(g), ""
	}
	if math.IsInf(e, 0) || math.IsInf(g, 0) {
		return e == g, ""
	}
	tol := max(opts.RelTol*max(math.Abs(e), math.Abs(g)), opts.AbsTol)
	if col.kind == kindDecimal && col.scale > 0 {
		tol = max(tol, math.Pow10(-col.scale))
	}
	diff := math.Abs(e - g)
	if diff <= tol {
		return true, ""
	}
	return false, fmt.Sprintf(" (difference %.3g > tolerance %.3g)", diff, tol)
}

func isIntegerText(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
