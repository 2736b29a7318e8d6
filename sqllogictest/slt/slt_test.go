package slt

import (
	"reflect"
	"strings"
	"testing"
)

const sample = `# configs: local, one-slot
# a comment

statement ok
CREATE VIEW v AS SELECT 1

# skip: not yet
query IT rowsort
SELECT a,
  b FROM v
----
1 x
2 y

query error unknown column
SELECT nope

statement error
DROP TABLE x

query R
SELECT 1.5
`

func TestParse(t *testing.T) {
	f, err := Parse("sample.slt", sample)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"local", "one-slot"}; !reflect.DeepEqual(f.Configs, want) {
		t.Errorf("configs = %v, want %v", f.Configs, want)
	}
	want := []Record{
		{Kind: Statement, Line: 4, SQL: "CREATE VIEW v AS SELECT 1"},
		{Kind: Query, Line: 8, SQL: "SELECT a,\n  b FROM v", Types: "IT", Sort: RowSort, Expected: []string{"1 x", "2 y"}, HasResults: true, Skip: "not yet"},
		{Kind: Query, Line: 15, SQL: "SELECT nope", ExpectError: true, ErrPattern: "unknown column"},
		{Kind: Statement, Line: 18, SQL: "DROP TABLE x", ExpectError: true},
		{Kind: Query, Line: 21, SQL: "SELECT 1.5", Types: "R"},
	}
	if len(f.Records) != len(want) {
		t.Fatalf("got %d records, want %d", len(f.Records), len(want))
	}
	for i, r := range f.Records {
		got := *r
		got.sqlEnd, got.end = 0, 0
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"select 1\n", `x.slt:1: unknown record "select 1"`},
		{"statement maybe\nSELECT 1\n", "x.slt:1: want 'statement ok'"},
		{"query I sideways\nSELECT 1\n", `x.slt:1: unknown sort mode "sideways"`},
		{"query\nSELECT 1\n", "x.slt:1: want 'query <types>"},
		{"query error ([\nSELECT 1\n", "x.slt:1: bad error pattern"},
		{"statement ok\n\n", "x.slt:1: record has no SQL"},
		{"statement ok\nSELECT 1\n----\n1\n", "x.slt:3: only 'query <types>' records"},
		{"statement ok\nSELECT 1\n\n# configs: local\n", "x.slt:4: '# configs:' must come before"},
	} {
		_, err := Parse("x.slt", tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tc.text, err, tc.want)
		}
	}
}

func TestRewrite(t *testing.T) {
	f, err := Parse("sample.slt", sample)
	if err != nil {
		t.Fatal(err)
	}
	w := NewRewriter(f)
	if w.Changed() {
		t.Fatal("new rewriter reports changes")
	}
	w.SetResults(f.Records[1], []string{"3 z"})
	w.SetErrPattern(f.Records[3], `table x does not exist`)
	w.SetResults(f.Records[4], []string{"1.5"})
	want := strings.NewReplacer(
		"----\n1 x\n2 y\n", "----\n3 z\n",
		"statement error\nDROP", "statement error table x does not exist\nDROP",
		"SELECT 1.5\n", "SELECT 1.5\n----\n1.5\n",
	).Replace(sample)
	if got := w.Text(); got != want {
		t.Errorf("rewritten text:\n%s\nwant:\n%s", got, want)
	}
	// A rewritten file parses back to the edited records.
	g, err := Parse("sample.slt", w.Text())
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Records[4].Expected; !reflect.DeepEqual(got, []string{"1.5"}) {
		t.Errorf("re-parsed results = %v", got)
	}
}

func TestFormatFloat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {-0.0 * 1, "0"}, {1, "1"}, {2.5, "2.5"}, {-1.75, "-1.75"},
		{1.0 / 3, "0.333333333333"}, {0.1 + 0.2, "0.3"}, {1e15, "1e+15"},
		{123456789012, "123456789012"}, {1e-7, "1e-07"},
	} {
		if got := FormatFloat(tc.v); got != tc.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestRows(t *testing.T) {
	vals := [][]string{{"2", "b"}, {"1", "z"}, {"10", "a"}}
	for _, tc := range []struct {
		mode SortMode
		want []string
	}{
		{NoSort, []string{"2 b", "1 z", "10 a"}},
		{RowSort, []string{"1 z", "10 a", "2 b"}},
		{ValueSort, []string{"1", "10", "2", "a", "b", "z"}},
	} {
		if got := Rows(vals, tc.mode); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.mode, got, tc.want)
		}
	}
}

func TestLinesMatch(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		floats    []bool
		match     bool
	}{
		{"1 a", "1 a", []bool{false, false}, true},
		{"1 a", "1 b", []bool{false, false}, false},
		{"0.3 x", "0.300000000001 x", []bool{true, false}, true},
		{"0.3 x", "0.31 x", []bool{true, false}, false},
		// decimals (not float columns) must match exactly, scale included
		{"12.30", "12.3", []bool{false}, false},
		{"NULL", "0", []bool{true}, false},
		{"1e+15", "1000000000000000.1", []bool{true}, true},
		// a value with spaces makes the split ambiguous: exact only
		{"a b 1", "a b 1.0000000000001", []bool{false, true}, false},
	} {
		if got := LinesMatch(tc.want, tc.got, tc.floats); got != tc.match {
			t.Errorf("LinesMatch(%q, %q, %v) = %v, want %v", tc.want, tc.got, tc.floats, got, tc.match)
		}
	}
}

func TestExpandSQL(t *testing.T) {
	if got := ExpandSQL("SELECT '__DATA__/a.csv', '__DATA__'", "/d"); got != "SELECT '/d/a.csv', '/d'" {
		t.Errorf("got %q", got)
	}
}
