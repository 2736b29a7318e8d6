package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// flintBin is the binary built once by TestMain; the tests run it as a
// real OS process.
var flintBin string

const (
	cliData  = "../../testdata/cli/"
	tpchData = "../../testdata/tpch/sf-sample"
	answers  = "../../testdata/tpch/answers/sample/"
	queries  = "../../tpch/queries/"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flint-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	flintBin = filepath.Join(dir, "flint")
	if runtime.GOOS == "windows" {
		flintBin += ".exe"
	}
	build := exec.Command("go", "build", "-o", flintBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building flint:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the flint binary with args; stdout is a pipe, so the default
// output format is CSV.
func run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(flintBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running flint %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// mustRun runs flint and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("flint %q: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

func peopleTable() string { return "people=" + cliData + "people.csv" }

// The tests reason about testdata/cli/people.csv:
//
//	id,name,dept,salary,hired
//	1,Ann,eng,120.50,2020-01-15
//	2,Bob,eng,100.00,2019-03-01
//	3,Cid,ops,90.25,2021-07-30
//	4,Dee,,80.00,2022-11-11
//	5,Eve,ops,,2018-05-20

func TestExecuteAndFile(t *testing.T) {
	want := "dept,n,payroll\neng,2,220.50\nops,2,90.25\n"
	t.Run("-f", func(t *testing.T) {
		if got := mustRun(t, "sql", "--table", peopleTable(), "-f", cliData+"report.sql"); got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("-e", func(t *testing.T) {
		q := "SELECT dept, count(*) AS n, sum(salary) AS payroll FROM people WHERE dept IS NOT NULL GROUP BY dept ORDER BY dept"
		if got := mustRun(t, "sql", "--table", peopleTable(), "-e", q); got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("--execute and --file long forms", func(t *testing.T) {
		if got := mustRun(t, "sql", "--table", peopleTable(), "--file", cliData+"report.sql"); got != want {
			t.Errorf("--file got:\n%s", got)
		}
		if got := mustRun(t, "sql", "--execute", "SELECT 40 + 2 AS answer"); got != "answer\n42\n" {
			t.Errorf("--execute got:\n%s", got)
		}
	})
}

func TestTableSources(t *testing.T) {
	tests := []struct {
		name  string
		table string
		query string
		want  string
	}{
		{"parquet file", "n=" + tpchData + "/nation.parquet",
			"SELECT count(*) AS c, sum(n_nationkey) AS s, min(n_name) AS first FROM n",
			"c,s,first\n25,300,ALGERIA\n"},
		{"csv file", peopleTable(),
			"SELECT name FROM people WHERE salary > 95 ORDER BY name",
			"name\nAnn\nBob\n"},
		{"json file", "p=" + cliData + "scores.json",
			"SELECT name, score FROM p ORDER BY id",
			"name,score\nAnn,1.5\nBob,\nCid,-2.25\n"},
		// events/part-1.csv has 2 rows (click 3, view 5), part-2.csv has 3
		// (click 7, view 11, click 13).
		{"directory", "e=" + cliData + "events",
			"SELECT kind, sum(n) AS s, count(*) AS c, min(day) AS d FROM e GROUP BY kind ORDER BY kind",
			"kind,s,c,d\nclick,23,3,2024-01-01\nview,16,2,2024-01-02\n"},
		{"directory with trailing slash", "e=" + cliData + "events/",
			"SELECT count(*) AS c FROM e", "c\n5\n"},
		{"glob", "e=" + cliData + "events/part-*.csv",
			"SELECT kind, sum(n) AS s FROM e GROUP BY kind ORDER BY kind",
			"kind,s\nclick,23\nview,16\n"},
		{"glob of one file", "e=" + cliData + "events/*-2.csv",
			"SELECT sum(n) AS s FROM e", "s\n31\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, "sql", "--table", tc.table, "-e", tc.query); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	t.Run("repeated --table", func(t *testing.T) {
		got := mustRun(t, "sql", "--table", peopleTable(), "--table", "d="+cliData+"depts.csv",
			"-e", "SELECT p.name, d.floor FROM people p JOIN d ON p.dept = d.dept ORDER BY p.name")
		if want := "name,floor\nAnn,3\nBob,3\nCid,1\nEve,1\n"; got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("--tables", func(t *testing.T) {
		got := mustRun(t, "sql", "--tables", tpchData, "-e",
			"SELECT (SELECT count(*) FROM region) AS r, (SELECT count(*) FROM nation) AS n, (SELECT count(*) FROM lineitem) AS l")
		if want := "r,n,l\n5,25,60175\n"; got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("--tables over csv, json and a directory", func(t *testing.T) {
		// testdata/cli holds people.csv, depts.csv, scores.json, the
		// events/ directory and report.sql (not a table).
		got := mustRun(t, "sql", "--tables", cliData, "-e",
			"SELECT (SELECT count(*) FROM people) AS p, (SELECT count(*) FROM depts) AS d, "+
				"(SELECT count(*) FROM scores) AS s, (SELECT count(*) FROM events) AS e")
		if want := "p,d,s,e\n5,3,3,5\n"; got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("--tables with two files for one name", func(t *testing.T) {
		dir := t.TempDir()
		for _, name := range []string{"t.csv", "t.json"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r := run(t, "sql", "--tables", dir, "-e", "SELECT 1")
		if r.code != 1 || !strings.Contains(r.stderr, "t.csv and t.json") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("--tables with no tables", func(t *testing.T) {
		r := run(t, "sql", "--tables", t.TempDir(), "-e", "SELECT 1")
		if r.code != 1 || !strings.Contains(r.stderr, "no .parquet, .csv or .json tables") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("--table overrides --tables", func(t *testing.T) {
		got := mustRun(t, "sql", "--tables", cliData, "--table", "people="+cliData+"depts.csv", "-e", "SELECT count(*) AS c FROM people")
		if got != "c\n3\n" {
			t.Errorf("got %q", got)
		}
	})
}

func TestFormats(t *testing.T) {
	q := "SELECT id, name, dept, salary, hired FROM people ORDER BY id"
	t.Run("csv", func(t *testing.T) {
		got := mustRun(t, "sql", "--table", peopleTable(), "--format", "csv", "-e", q)
		want := "id,name,dept,salary,hired\n" +
			"1,Ann,eng,120.50,2020-01-15\n" +
			"2,Bob,eng,100.00,2019-03-01\n" +
			"3,Cid,ops,90.25,2021-07-30\n" +
			"4,Dee,,80.00,2022-11-11\n" +
			"5,Eve,ops,,2018-05-20\n"
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("csv is the default off a terminal", func(t *testing.T) {
		a := mustRun(t, "sql", "--table", peopleTable(), "-e", q)
		b := mustRun(t, "sql", "--table", peopleTable(), "--format", "csv", "-e", q)
		if a != b {
			t.Errorf("default output differs from --format csv:\n%s\n---\n%s", a, b)
		}
	})
	t.Run("csv quoting", func(t *testing.T) {
		got := mustRun(t, "sql", "-e", `SELECT 'a,b' AS "x,y", 'say "hi"' AS q, '' AS empty, NULL AS n`)
		want := "\"x,y\",q,empty,n\n\"a,b\",\"say \"\"hi\"\"\",,\n"
		if got != want {
			t.Errorf("got:\n%q\nwant:\n%q", got, want)
		}
	})
	t.Run("decimals at scale", func(t *testing.T) {
		// l_extendedprice is DECIMAL(15,2): sums keep the scale, and a
		// product of two scale-2 decimals has scale 4.
		got := mustRun(t, "sql", "--tables", tpchData, "-e",
			"SELECT CAST(1536127 AS DECIMAL(15,2)) AS a, sum(l_quantity) AS q, min(l_extendedprice * l_discount) AS m FROM lineitem WHERE l_orderkey = 1")
		// Order 1's six lines: quantities 17+36+8+28+24+32 = 145.
		lines := strings.Split(got, "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[1], "1536127.00,145.00,") {
			t.Fatalf("got:\n%s", got)
		}
		m := strings.Split(lines[1], ",")[2]
		if i := strings.IndexByte(m, '.'); i < 0 || len(m)-i-1 != 4 {
			t.Errorf("product of DECIMAL(15,2)s printed as %q, want 4 decimals", m)
		}
	})
	t.Run("json", func(t *testing.T) {
		got := mustRun(t, "sql", "--table", peopleTable(), "--format", "json", "-e",
			q+" LIMIT 5")
		want := `{"id":1,"name":"Ann","dept":"eng","salary":120.50,"hired":"2020-01-15"}
{"id":2,"name":"Bob","dept":"eng","salary":100.00,"hired":"2019-03-01"}
{"id":3,"name":"Cid","dept":"ops","salary":90.25,"hired":"2021-07-30"}
{"id":4,"name":"Dee","dept":null,"salary":80.00,"hired":"2022-11-11"}
{"id":5,"name":"Eve","dept":"ops","salary":null,"hired":"2018-05-20"}
`
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
		// Each line is valid JSON with numbers as numbers.
		for i, line := range strings.Split(strings.TrimSpace(got), "\n") {
			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("line %d %q: %v", i+1, line, err)
			}
			if _, ok := obj["id"].(float64); !ok {
				t.Errorf("line %d: id is %T, want a number", i+1, obj["id"])
			}
		}
	})
	t.Run("json types", func(t *testing.T) {
		got := mustRun(t, "sql", "--format", "json", "-e",
			`SELECT true AS b, 1.5e0 AS f, 'x"y' AS s, NULL AS n, CAST(NULL AS INT) AS ni, DATE '2024-02-29' AS d`)
		want := `{"b":true,"f":1.5,"s":"x\"y","n":null,"ni":null,"d":"2024-02-29"}` + "\n"
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("table", func(t *testing.T) {
		got := mustRun(t, "sql", "--table", peopleTable(), "--format", "table", "-e",
			"SELECT id, dept, salary FROM people WHERE id >= 4 ORDER BY id")
		want := `+----+------+--------+
| id | dept | salary |
+----+------+--------+
|  4 | NULL |  80.00 |
|  5 | ops  |   NULL |
+----+------+--------+
(2 rows)
`
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("format names are case-insensitive", func(t *testing.T) {
		if got := mustRun(t, "sql", "--format", "JSON", "-e", "SELECT 1 AS one"); got != "{\"one\":1}\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("empty result keeps the header", func(t *testing.T) {
		got := mustRun(t, "sql", "--table", peopleTable(), "-e", "SELECT id, name FROM people WHERE id > 100")
		if got != "id,name\n" {
			t.Errorf("got %q", got)
		}
	})
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "result.csv")
	t.Run("writes the file", func(t *testing.T) {
		stdout := mustRun(t, "sql", "--table", peopleTable(), "--output", out, "-e",
			"SELECT name FROM people WHERE dept = 'ops' ORDER BY name")
		if stdout != "" {
			t.Errorf("stdout should be empty with --output, got %q", stdout)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "name\nCid\nEve\n" {
			t.Errorf("file holds %q", b)
		}
		assertOnly(t, dir, "result.csv")
	})
	t.Run("-o with json replaces the file", func(t *testing.T) {
		mustRun(t, "sql", "-o", out, "--format", "json", "-e", "SELECT 7 AS seven")
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "{\"seven\":7}\n" {
			t.Errorf("file holds %q", b)
		}
		assertOnly(t, dir, "result.csv")
	})
	t.Run("failing query leaves no file", func(t *testing.T) {
		fresh := filepath.Join(dir, "never.csv")
		for _, q := range []string{
			"SELECT nope FROM people",
			// The first statement succeeds, the second fails: nothing is written.
			"SELECT name FROM people; SELECT CAST(name AS INT) FROM people",
		} {
			r := run(t, "sql", "--table", peopleTable(), "--output", fresh, "-e", q)
			if r.code != 1 {
				t.Errorf("%q: exit %d, want 1; stderr %s", q, r.code, r.stderr)
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("%q: output file exists after a failed query (%v)", q, err)
			}
		}
		assertOnly(t, dir, "result.csv")
	})
	t.Run("failing query keeps the old file", func(t *testing.T) {
		before, _ := os.ReadFile(out)
		r := run(t, "sql", "--output", out, "-e", "SELECT 1 FROM nowhere")
		if r.code != 1 {
			t.Errorf("exit %d, want 1", r.code)
		}
		after, _ := os.ReadFile(out)
		if !bytes.Equal(before, after) {
			t.Errorf("output file changed by a failed query: %q -> %q", before, after)
		}
		assertOnly(t, dir, "result.csv")
	})
	t.Run("output directory missing", func(t *testing.T) {
		r := run(t, "sql", "--output", filepath.Join(dir, "no", "such", "dir", "x.csv"), "-e", "SELECT 1")
		if r.code != 1 || !strings.Contains(r.stderr, "no such") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// assertOnly checks that dir holds exactly the named files (no temp files
// left behind).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestQueryErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // substrings of stderr, in order
	}{
		{"unknown column", []string{"-e", "SELECT nme FROM people"},
			[]string{"line 1, column 8", "nme", "did you mean name", "SELECT nme FROM people\n", "         ^"}},
		{"unknown column on line 3", []string{"-e", "SELECT id,\n  name\nFROM people WHERE salry > 1"},
			[]string{"line 3, column 19", "salry", "did you mean salary", "FROM people WHERE salry > 1\n", "^"}},
		{"unknown table", []string{"-e", "SELECT * FROM peeple"},
			[]string{"line 1, column 15", "unknown table peeple", "did you mean people", "^"}},
		{"type error", []string{"-e", "SELECT name + 1 FROM people"},
			[]string{"line 1, column 13", "VARCHAR", "^"}},
		{"syntax error", []string{"-e", "SELECT FROM WHERE"},
			[]string{"syntax error", "line 1, column 8", "^"}},
		{"misspelled keyword", []string{"-e", "SELEC 1"},
			[]string{"syntax error", "line 1, column 1"}},
		{"error in second statement keeps its position", []string{"-e", "SELECT 1;\nSELECT bogus FROM people"},
			[]string{"line 2, column 8", "bogus", "^"}},
		{"missing --table file", []string{"--table", "x=" + cliData + "nope.csv", "-e", "SELECT 1"},
			[]string{"nope.csv"}},
		{"missing --tables dir", []string{"--tables", cliData + "nope", "-e", "SELECT 1"},
			[]string{"nope"}},
		{"missing -f file", []string{"-f", cliData + "nope.sql"},
			[]string{"nope.sql"}},
		{"runtime cast error", []string{"-e", "SELECT CAST(name AS INT) FROM people"},
			[]string{"Ann"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sql", "--table", peopleTable()}, tc.args...)
			r := run(t, args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on error: %q", r.stdout)
			}
			rest := r.stderr
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stderr lacks %q (in order):\n%s", w, r.stderr)
					break
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestCaretPointsAtTheError(t *testing.T) {
	q := "SELECT id, nme FROM people"
	r := run(t, "sql", "--table", peopleTable(), "-e", q)
	lines := strings.Split(r.stderr, "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, q) && i+1 < len(lines) {
			indent := len(l) - len(q)
			caret := lines[i+1]
			if strings.TrimSpace(caret) != "^" || strings.Index(caret, "^")-indent != strings.Index(q, "nme") {
				t.Errorf("caret line %q does not point at nme in %q", caret, l)
			}
			return
		}
	}
	t.Errorf("no source line in stderr:\n%s", r.stderr)
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no -e or -f", []string{"sql"}, "-e"},
		{"both -e and -f", []string{"sql", "-e", "SELECT 1", "-f", cliData + "report.sql"}, "-e"},
		{"unknown flag", []string{"sql", "--bogus", "-e", "SELECT 1"}, "bogus"},
		{"bad --table syntax", []string{"sql", "--table", "people", "-e", "SELECT 1"}, "NAME=PATH"},
		{"empty --table name", []string{"sql", "--table", "=" + cliData + "people.csv", "-e", "SELECT 1"}, "NAME=PATH"},
		{"bad --format", []string{"sql", "--format", "xml", "-e", "SELECT 1"}, "xml"},
		{"positional argument", []string{"sql", "-e", "SELECT 1", "extra"}, "extra"},
		{"negative --slots", []string{"sql", "--slots", "-1", "-e", "SELECT 1"}, "slots"},
		{"bad --batch-size value", []string{"sql", "--batch-size", "many", "-e", "SELECT 1"}, "many"},
		{"bench run without --tables", []string{"bench", "tpch", "run"}, "--tables"},
		{"bench run bad query list", []string{"bench", "tpch", "run", "--tables", tpchData, "--queries", "0-3"}, "1 to 22"},
		{"bench gen without --out", []string{"bench", "tpch", "gen"}, "--out"},
		{"bench gen bad --sf", []string{"bench", "tpch", "gen", "--sf", "0", "--out", "x"}, "--sf"},
		{"demo bad --sf", []string{"demo", "--sf", "-1"}, "--sf"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"misspelled command", []string{"sq"}, "did you mean sql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
		})
	}
}

func TestScript(t *testing.T) {
	dir := t.TempDir()
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	script := fmt.Sprintf(`-- two tables defined in the script, then queries over them
CREATE EXTERNAL TABLE d (dept VARCHAR, floor INT) STORED AS CSV LOCATION '%s';
CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '%s';
CREATE VIEW paid AS SELECT * FROM p WHERE salary IS NOT NULL;
SELECT p.name, d.floor
FROM paid p JOIN d ON p.dept = d.dept
ORDER BY p.name;
SELECT count(*) AS n FROM d;
`, abs(cliData+"depts.csv"), abs(cliData+"people.csv"))
	path := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	got := mustRun(t, "sql", "-f", path)
	want := "name,floor\nAnn,3\nBob,3\nCid,1\nn\n3\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	t.Run("error in a later statement", func(t *testing.T) {
		bad := strings.Replace(script, "SELECT count(*) AS n FROM d;", "SELECT count(*) AS n FROM dd;", 1)
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, "sql", "-f", path)
		if r.code != 1 || !strings.Contains(r.stderr, "line 8") || !strings.Contains(r.stderr, "dd") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("external table missing file", func(t *testing.T) {
		r := run(t, "sql", "-e", "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '"+filepath.Join(dir, "missing.csv")+"'; SELECT 1")
		if r.code != 1 || !strings.Contains(r.stderr, "missing.csv") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
}

func TestExplain(t *testing.T) {
	for _, format := range []string{"csv", "table"} {
		t.Run(format, func(t *testing.T) {
			got := mustRun(t, "sql", "--table", peopleTable(), "--format", format, "-e",
				"EXPLAIN SELECT dept, count(*) FROM people GROUP BY dept")
			rest := got
			for _, section := range []string{"Logical plan", "Physical plan", "Stages"} {
				i := strings.Index(rest, section)
				if i < 0 {
					t.Fatalf("no %q section (in order) in:\n%s", section, got)
				}
				rest = rest[i:]
			}
			if !strings.Contains(got, "people") || strings.Contains(got, `"`) {
				t.Errorf("EXPLAIN should be plain text naming the table:\n%s", got)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		got := mustRun(t, "sql", "--table", peopleTable(), "--format", "json", "-e", "EXPLAIN SELECT id FROM people")
		if !strings.HasPrefix(got, `{"plan":`) || !strings.Contains(got, "Stages") {
			t.Errorf("got:\n%s", got)
		}
	})
}

// TestTPCH runs Q1 and Q6 through the CLI and compares its CSV output with
// DuckDB's answers.
func TestTPCH(t *testing.T) {
	for _, q := range []int{1, 3, 6} {
		t.Run(fmt.Sprintf("q%02d", q), func(t *testing.T) {
			got := mustRun(t, "sql", "--tables", tpchData, "--format", "csv", "--slots", "2",
				"-f", fmt.Sprintf("%sq%02d.sql", queries, q))
			want, err := os.ReadFile(fmt.Sprintf("%sq%02d.csv", answers, q))
			if err != nil {
				t.Fatal(err)
			}
			if err := compareCSVText(string(want), got); err != nil {
				t.Errorf("Q%d: %v\ngot:\n%s", q, err, got)
			}
		})
	}
	t.Run("q01 tiny batches, one slot, three partitions", func(t *testing.T) {
		got := mustRun(t, "sql", "--tables", tpchData, "--slots", "1", "--partitions", "3", "--batch-size", "7",
			"-f", queries+"q01.sql")
		want, err := os.ReadFile(answers + "q01.csv")
		if err != nil {
			t.Fatal(err)
		}
		if err := compareCSVText(string(want), got); err != nil {
			t.Errorf("Q1: %v\ngot:\n%s", err, got)
		}
	})
	t.Run("q01 exact money columns", func(t *testing.T) {
		got := mustRun(t, "sql", "--tables", tpchData, "-f", queries+"q01.sql")
		// The A/F group of the published SF0.01 answer: decimals at scale.
		if !strings.Contains(got, "\nA,F,380456.00,532348211.65,505822441.4861,526165934.000839,") {
			t.Errorf("Q1 A/F row not printed exactly:\n%s", got)
		}
	})
}

// compareCSVText compares two CSV texts row by row in order: same header,
// same number of rows; a field matches when the texts are equal or, when
// the expected text is not an integer, when both parse as numbers within a
// relative 1e-9.
func compareCSVText(want, got string) error {
	read := func(s string) ([][]string, error) {
		r := csv.NewReader(strings.NewReader(s))
		r.FieldsPerRecord = -1
		return r.ReadAll()
	}
	w, err := read(want)
	if err != nil {
		return fmt.Errorf("expected answer: %v", err)
	}
	g, err := read(got)
	if err != nil {
		return fmt.Errorf("output is not CSV: %v", err)
	}
	if len(w) == 0 || len(g) == 0 {
		return fmt.Errorf("empty CSV")
	}
	if strings.Join(w[0], ",") != strings.Join(g[0], ",") {
		return fmt.Errorf("header: got %v, want %v", g[0], w[0])
	}
	if len(w) != len(g) {
		return fmt.Errorf("got %d rows, want %d", len(g)-1, len(w)-1)
	}
	for i := 1; i < len(w); i++ {
		if len(w[i]) != len(g[i]) {
			return fmt.Errorf("row %d: got %d fields, want %d", i, len(g[i]), len(w[i]))
		}
		for j := range w[i] {
			e, a := w[i][j], g[i][j]
			if e == a {
				continue
			}
			if _, err := strconv.ParseInt(e, 10, 64); err == nil {
				return fmt.Errorf("row %d column %s: got %q, want %q", i, w[0][j], a, e)
			}
			ef, err1 := strconv.ParseFloat(e, 64)
			af, err2 := strconv.ParseFloat(a, 64)
			if err1 != nil || err2 != nil || math.Abs(ef-af) > 1e-9*math.Max(math.Abs(ef), math.Abs(af)) {
				return fmt.Errorf("row %d column %s: got %q, want %q", i, w[0][j], a, e)
			}
		}
	}
	return nil
}

func TestCompareCSVText(t *testing.T) {
	tests := []struct {
		want, got string
		ok        bool
	}{
		{"a,b\n1,x\n", "a,b\n1,x\n", true},
		{"a\n0.30000000000000004\n", "a\n0.3\n", true},
		{"a\n2\n", "a\n2.0\n", false},
		{"a\n1.5\n", "a\n1.6\n", false},
		{"a,b\n1,x\n", "a,c\n1,x\n", false},
		{"a\n1\n", "a\n1\n2\n", false},
		{"a\nx\n", "a\ny\n", false},
	}
	for _, tc := range tests {
		if err := compareCSVText(tc.want, tc.got); (err == nil) != tc.ok {
			t.Errorf("compareCSVText(%q, %q) = %v, want ok=%v", tc.want, tc.got, err, tc.ok)
		}
	}
}

func TestBenchRun(t *testing.T) {
	got := mustRun(t, "bench", "tpch", "run", "--tables", tpchData, "--queries", "6", "--slots", "1")
	if !strings.HasPrefix(got, "Q06 ") || !strings.Contains(got, "1 rows") || !strings.Contains(got, "total") {
		t.Errorf("got:\n%s", got)
	}
}

// TestDemo runs the demo (the late-delivery pipeline) over the committed
// sample (no generation): every step reports its time, the evaluation's
// metrics are printed and the scores are where it says.
func TestDemo(t *testing.T) {
	work := t.TempDir()
	got := mustRun(t, "demo", "--dir", tpchData, "--work", work)
	for _, w := range []string{"etl ", "train ", "evaluate ", "score ", "total ", "roc_auc", "scores (Parquet, by ship year): " + filepath.Join(work, "scores")} {
		if !strings.Contains(got, w) {
			t.Errorf("no %q in:\n%s", w, got)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "scores", "_SUCCESS")); err != nil {
		t.Errorf("scores not committed: %v", err)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{}, {"--help"}, {"sql", "--help"}, {"bench", "tpch", "run", "--help"}} {
		r := run(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("flint %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}

// TestTerminalDefaultsToTable runs flint under script(1), which gives it a
// pseudo-terminal: the default format is then a table, except with
// --output, which defaults to CSV.
func TestTerminalDefaultsToTable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses util-linux script(1)")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed")
	}
	tty := func(args string) string {
		t.Helper()
		out, err := exec.Command(script, "-qec", flintBin+" "+args, "/dev/null").Output()
		if err != nil {
			t.Fatalf("script: %v", err)
		}
		return strings.ReplaceAll(string(out), "\r\n", "\n")
	}
	if got, want := tty(`sql -e "SELECT 1 AS a"`), "+---+\n| a |\n+---+\n| 1 |\n+---+\n(1 rows)\n"; got != want {
		t.Errorf("on a terminal got:\n%q\nwant:\n%q", got, want)
	}
	out := filepath.Join(t.TempDir(), "out.csv")
	tty(`sql -e "SELECT 1 AS a" -o ` + out)
	if b, err := os.ReadFile(out); err != nil || string(b) != "a\n1\n" {
		t.Errorf("--output on a terminal wrote %q, %v; want CSV", b, err)
	}
}

// TestMemoryLimit: --memory-limit is parsed and reported; a query that
// fits spills and answers; one that cannot fit even after spilling (a
// window over one partition bigger than the pool) exits 1 with an error
// naming the operator and the limit, and --stats reports what spilled.
func TestMemoryLimit(t *testing.T) {
	lineitem := "lineitem=../../testdata/tpch/sf-sample/lineitem.parquet"
	r := run(t, "sql", "--table", lineitem, "--memory-limit", "lots", "-e", "SELECT 1")
	if r.code != 2 || !strings.Contains(r.stderr, `--memory-limit: invalid memory size "lots"`) {
		t.Errorf("bad size: exit %d, stderr %s", r.code, r.stderr)
	}
	r = run(t, "sql", "--table", lineitem, "--memory-limit", "16MiB", "--stats", "-e",
		"SELECT count(*) FROM (SELECT l_comment FROM lineitem ORDER BY l_comment) t")
	if r.code != 0 || r.stdout != "count_star()\n60175\n" || !strings.Contains(r.stderr, "flint: 1 queries") {
		t.Errorf("sort under 16MiB: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "sql", "--table", lineitem, "--memory-limit", "2MiB", "-e",
		"SELECT max(s) FROM (SELECT sum(l_quantity) OVER (ORDER BY l_orderkey, l_linenumber) AS s FROM lineitem) t")
	if r.code != 1 || !strings.Contains(r.stderr, "memory limit exceeded: Window needs") || !strings.Contains(r.stderr, "Window") {
		t.Errorf("window over one partition under 2MiB: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}
