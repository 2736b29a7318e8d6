package slt

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kind is the kind of a record.
type Kind int

const (
	// Statement runs SQL and expects success (or an error, see ErrPattern).
	Statement Kind = iota
	// Query runs SQL and compares its rows (or expects an error).
	Query
)

// SortMode says how a query's rows are compared.
type SortMode int

const (
	NoSort SortMode = iota
	RowSort
	ValueSort
)

func (m SortMode) String() string {
	return [...]string{"nosort", "rowsort", "valuesort"}[m]
}

// Record is one statement or query of a file. Line numbers are 1-based.
type Record struct {
	Kind Kind
	// Line is the line of the "statement"/"query" header.
	Line int
	// SQL is the statement text, lines joined with '\n'.
	SQL string
	// ExpectError is set for "statement error" and "query error";
	// ErrPattern is the (possibly empty) regexp the message must match.
	ExpectError bool
	ErrPattern  string
	// Types has one letter per column for a query (empty for query error).
	Types string
	Sort  SortMode
	// Expected holds the expected result lines (after "----").
	Expected []string
	// HasResults reports whether the record has a "----" line.
	HasResults bool
	// Skip is the reason given by a "# skip:" comment, or empty.
	Skip string
	// Reference is the SQL of "# duckdb:" comment lines right above the
	// record (joined with '\n'): what tools/sltcomplete runs in DuckDB
	// instead of SQL, for Flint functions DuckDB lacks (the ML
	// transforms), written out by their definitions.
	Reference string

	// headerLine, sqlEnd and end delimit the record for rewriting:
	// lines [Line-1, end) of the file (0-based) belong to the record, the
	// SQL ends before sqlEnd (0-based index of "----" or of end).
	sqlEnd, end int
}

// File is a parsed .slt file.
type File struct {
	Path string
	// Configs, if non-empty, names the only configurations to run under.
	Configs []string
	Records []*Record
	lines   []string
}

// ParseFile reads and parses path.
func ParseFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(b))
}

// Parse parses the text of a file; path names it in errors.
func Parse(path, text string) (*File, error) {
	f := &File{Path: path, lines: strings.Split(text, "\n")}
	lines := f.lines
	skip := ""
	var ref []string
	seenRecord := false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		switch {
		case line == "":
			skip = ""
			ref = nil
			continue
		case strings.HasPrefix(line, "#"):
			body := strings.TrimSpace(strings.TrimPrefix(line, "#"))
			if v, ok := strings.CutPrefix(body, "duckdb:"); ok {
				ref = append(ref, strings.TrimSpace(v))
			} else if v, ok := strings.CutPrefix(body, "skip:"); ok {
				skip = strings.TrimSpace(v)
				if skip == "" {
					skip = "skipped"
				}
			} else if v, ok := strings.CutPrefix(body, "configs:"); ok {
				if seenRecord {
					return nil, fmt.Errorf("%s:%d: '# configs:' must come before the first record", path, i+1)
				}
				for _, c := range strings.Split(v, ",") {
					if c = strings.TrimSpace(c); c != "" {
						f.Configs = append(f.Configs, c)
					}
				}
			}
			continue
		}
		seenRecord = true
		r, next, err := parseRecord(path, lines, i)
		if err != nil {
			return nil, err
		}
		r.Skip = skip
		r.Reference = strings.Join(ref, "\n")
		skip, ref = "", nil
		f.Records = append(f.Records, r)
		i = next - 1
	}
	return f, nil
}

// parseRecord parses the record whose header is lines[i] and returns it
// with the index of the first line after it.
func parseRecord(path string, lines []string, i int) (*Record, int, error) {
	header := strings.TrimRight(lines[i], " \t\r")
	r := &Record{Line: i + 1}
	word, rest, _ := strings.Cut(header, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case "statement":
		r.Kind = Statement
		switch {
		case rest == "ok":
		case rest == "error" || strings.HasPrefix(rest, "error "):
			r.ExpectError = true
			r.ErrPattern = strings.TrimSpace(strings.TrimPrefix(rest, "error"))
		default:
			return nil, 0, fmt.Errorf("%s:%d: want 'statement ok' or 'statement error <regexp>', got %q", path, i+1, header)
		}
	case "query":
		r.Kind = Query
		if rest == "error" || strings.HasPrefix(rest, "error ") {
			r.ExpectError = true
			r.ErrPattern = strings.TrimSpace(strings.TrimPrefix(rest, "error"))
			break
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			return nil, 0, fmt.Errorf("%s:%d: want 'query <types> [rowsort|valuesort|nosort]', got %q", path, i+1, header)
		}
		r.Types = fields[0]
		if len(fields) == 2 {
			switch fields[1] {
			case "nosort":
			case "rowsort":
				r.Sort = RowSort
			case "valuesort":
				r.Sort = ValueSort
			default:
				return nil, 0, fmt.Errorf("%s:%d: unknown sort mode %q (want rowsort, valuesort or nosort)", path, i+1, fields[1])
			}
		}
	default:
		return nil, 0, fmt.Errorf("%s:%d: unknown record %q (want statement or query)", path, i+1, header)
	}
	if r.ErrPattern != "" {
		if _, err := regexp.Compile(r.ErrPattern); err != nil {
			return nil, 0, fmt.Errorf("%s:%d: bad error pattern: %v", path, i+1, err)
		}
	}
	j := i + 1
	var sql []string
	for ; j < len(lines); j++ {
		l := strings.TrimRight(lines[j], "\r")
		if strings.TrimSpace(l) == "" || l == "----" {
			break
		}
		sql = append(sql, l)
	}
	if len(sql) == 0 {
		return nil, 0, fmt.Errorf("%s:%d: record has no SQL", path, i+1)
	}
	r.SQL = strings.Join(sql, "\n")
	r.sqlEnd = j
	if j < len(lines) && strings.TrimRight(lines[j], "\r") == "----" {
		if r.Kind != Query || r.ExpectError {
			return nil, 0, fmt.Errorf("%s:%d: only 'query <types>' records have a ---- result block", path, j+1)
		}
		r.HasResults = true
		for j++; j < len(lines); j++ {
			l := strings.TrimRight(lines[j], "\r")
			if strings.TrimSpace(l) == "" {
				break
			}
			r.Expected = append(r.Expected, l)
		}
	}
	r.end = j
	return r, j, nil
}

// Rewriter edits a parsed file: replacing result blocks and error
// patterns. Edits refer to the records of the File it was made from.
type Rewriter struct {
	f       *File
	results map[*Record][]string
	errs    map[*Record]string
}

// NewRewriter starts editing f.
func NewRewriter(f *File) *Rewriter {
	return &Rewriter{f: f, results: map[*Record][]string{}, errs: map[*Record]string{}}
}

// SetResults replaces the expected rows of query record r.
func (w *Rewriter) SetResults(r *Record, rows []string) { w.results[r] = rows }

// SetErrPattern replaces the error pattern of an error record r.
func (w *Rewriter) SetErrPattern(r *Record, pattern string) { w.errs[r] = pattern }

// Changed reports whether any edit was made.
func (w *Rewriter) Changed() bool { return len(w.results)+len(w.errs) > 0 }

// Text returns the edited file.
func (w *Rewriter) Text() string {
	var out []string
	lines := w.f.lines
	pos := 0
	for _, r := range w.f.Records {
		rows, hasRows := w.results[r]
		pat, hasPat := w.errs[r]
		if !hasRows && !hasPat {
			continue
		}
		out = append(out, lines[pos:r.Line-1]...)
		header := lines[r.Line-1]
		if hasPat {
			word := "statement"
			if r.Kind == Query {
				word = "query"
			}
			header = strings.TrimSpace(word + " error " + pat)
		}
		out = append(out, header)
		out = append(out, lines[r.Line:r.sqlEnd]...)
		if hasRows {
			out = append(out, "----")
			out = append(out, rows...)
		} else {
			out = append(out, lines[r.sqlEnd:r.end]...)
		}
		pos = r.end
	}
	out = append(out, lines[pos:]...)
	return strings.Join(out, "\n")
}

// WriteFile writes the edited file back to its path.
func (w *Rewriter) WriteFile() error {
	return os.WriteFile(w.f.Path, []byte(w.Text()), 0o644)
}

// DataDir is the directory that the __DATA__ placeholder stands for.
func DataDir(sltPath string) (string, error) {
	abs, err := filepath.Abs(sltPath)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(abs), "data"), nil
}

// ExpandSQL replaces the __DATA__ placeholder with dataDir.
func ExpandSQL(sql, dataDir string) string {
	return strings.ReplaceAll(sql, "__DATA__", filepath.ToSlash(dataDir))
}

// Null, Empty are the renderings of NULL and of the empty string.
const (
	Null  = "NULL"
	Empty = "(empty)"
)

// FormatFloat renders a floating-point value: 12 significant digits,
// trailing zeros dropped, -0 as 0, NaN and ±Inf spelled out.
func FormatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 12, 64)
}

// FormatText renders a string value (the empty string is "(empty)").
func FormatText(s string) string {
	if s == "" {
		return Empty
	}
	return s
}

// Rows renders a result given as rows of rendered values into the lines
// to compare, applying the sort mode.
func Rows(values [][]string, mode SortMode) []string {
	var lines []string
	switch mode {
	case ValueSort:
		for _, row := range values {
			lines = append(lines, row...)
		}
		sort.Strings(lines)
	default:
		for _, row := range values {
			lines = append(lines, strings.Join(row, " "))
		}
		if mode == RowSort {
			sort.Strings(lines)
		}
	}
	return lines
}

// LinesMatch compares one expected line with one produced line. floatCols
// marks the columns (by index) whose produced values are floating point;
// their values match within a relative 1e-9 when the line splits
// unambiguously into fields. For valuesort results pass a single-column
// floatCols.
func LinesMatch(want, got string, floatCols []bool) bool {
	if want == got {
		return true
	}
	anyFloat := false
	for _, f := range floatCols {
		anyFloat = anyFloat || f
	}
	if !anyFloat {
		return false
	}
	wf := strings.Split(want, " ")
	gf := strings.Split(got, " ")
	if len(wf) != len(gf) || len(gf) != len(floatCols) {
		return false
	}
	for i := range wf {
		if wf[i] == gf[i] {
			continue
		}
		if !floatCols[i] || !floatsClose(wf[i], gf[i]) {
			return false
		}
	}
	return true
}

func floatsClose(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	d := math.Abs(x - y)
	return d <= 1e-9*math.Max(math.Abs(x), math.Abs(y)) || d <= 1e-12
}
