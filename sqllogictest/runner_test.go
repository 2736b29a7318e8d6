package sqllogictest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a reporter that keeps what the runner reports.
type recorder struct {
	errors  []string
	fatal   string
	skipped string
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(f string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(f, args...))
}
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skipped = fmt.Sprintf(f, args...) }

func writeSLT(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.slt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunner(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		// wantErrs are substrings, one per expected reported error, in order.
		wantErrs []string
		wantSkip bool
	}{
		{name: "passing", text: `
statement ok
CREATE VIEW v AS SELECT * FROM (VALUES (1, 'a', CAST(0.5 AS DOUBLE)), (2, '', NULL)) AS t(i, s, f)

query ITR rowsort
SELECT i, s, f FROM v
----
1 a 0.5
2 (empty) NULL

query R
SELECT sum(f) + 0.1 FROM v
----
0.600000000000001

query error unknown column
SELECT nope FROM v
`},
		{name: "wrong result", text: `
query I
SELECT 1
----
2
`, wantErrs: []string{"x.slt:2: wrong result"}},
		{name: "wrong row count", text: `
query I rowsort
SELECT * FROM (VALUES (1), (2)) AS t(x)
----
1
`, wantErrs: []string{"x.slt:2: wrong result"}},
		{name: "wrong column count", text: `
query II
SELECT 1
----
1
`, wantErrs: []string{"declares 2 columns (II) but returned 1"}},
		{name: "unexpected error", text: `
statement ok
SELECT nope
`, wantErrs: []string{"x.slt:2: unexpected error"}},
		{name: "missing error", text: `
query error .*
SELECT 1
`, wantErrs: []string{"x.slt:2: expected an error"}},
		{name: "error mismatch", text: `
query error no such thing
SELECT nope
`, wantErrs: []string{`x.slt:2: error does not match "no such thing"`}},
		{name: "skipped record", text: `
# skip: known bug
query I
SELECT nope
----
1
`},
		{name: "config excluded", text: `# configs: one-slot
query I
SELECT 1
----
1
`, wantSkip: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			run(rec, writeSLT(t, tc.text), Configs[0])
			if rec.fatal != "" {
				t.Fatalf("fatal: %s", rec.fatal)
			}
			if (rec.skipped != "") != tc.wantSkip {
				t.Errorf("skipped = %q, want skip %v", rec.skipped, tc.wantSkip)
			}
			if len(rec.errors) != len(tc.wantErrs) {
				t.Fatalf("got errors %q, want %d matching %q", rec.errors, len(tc.wantErrs), tc.wantErrs)
			}
			for i, w := range tc.wantErrs {
				if !strings.Contains(rec.errors[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, rec.errors[i], w)
				}
			}
		})
	}
}

// TestRewriteErrors checks that rewrite mode fills in error patterns from
// Flint's messages and leaves query results alone.
func TestRewriteErrors(t *testing.T) {
	const text = `query error
SELECT nope FROM (VALUES (1)) AS t(x)

query I
SELECT 1
----
5
`
	p := writeSLT(t, text)
	cfg := Configs[0]
	cfg.Rewrite = true
	rec := &recorder{}
	run(rec, p, cfg)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "wrong result") {
		t.Errorf("errors = %q, want one wrong result", rec.errors)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(text, "query error\n", "query error binder error at line 1, column 8: unknown column nope\n", 1)
	if string(b) != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", b, want)
	}
	// The rewritten pattern matches on the next run.
	rec = &recorder{}
	run(rec, p, Configs[0])
	if len(rec.errors) != 1 {
		t.Errorf("errors after rewrite = %q, want only the wrong result", rec.errors)
	}
}
