package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCopy: COPY writes a dataset, prints rows, files and bytes, and exits
// 1 with the reason (nothing on stdout) when it cannot.
func TestCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "people")
	sql := func(s string) result { return run(t, "sql", "--table", peopleTable(), "-e", s) }

	r := sql("COPY people TO '" + dir + "' (FORMAT csv, PARTITION_BY (dept))")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || lines[0] != "rows,files,bytes" || !strings.HasPrefix(lines[1], "5,3,") {
		t.Fatalf("stdout %q", r.stdout)
	}
	var m struct {
		Format string `json:"format"`
		Rows   int64  `json:"rows"`
		Files  []struct {
			Path string `json:"path"`
			Rows int64  `json:"rows"`
		} `json:"files"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "_SUCCESS"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest %s: %v", data, err)
	}
	var folders []string
	for _, f := range m.Files {
		folders = append(folders, filepath.Dir(f.Path))
	}
	sort.Strings(folders)
	want := []string{"dept=__HIVE_DEFAULT_PARTITION__", "dept=eng", "dept=ops"}
	if m.Format != "csv" || m.Rows != 5 || strings.Join(folders, " ") != strings.Join(want, " ") {
		t.Errorf("manifest %s", data)
	}
	text, err := os.ReadFile(filepath.Join(dir, m.Files[1].Path))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(text); got != "id,name,salary,hired\n1,Ann,120.50,2020-01-15\n2,Bob,100.00,2019-03-01\n" {
		t.Errorf("dept=eng holds %q", got)
	}

	// The target holds data now: mode error refuses.
	r = sql("COPY people TO '" + dir + "'")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "already holds data") {
		t.Errorf("second COPY: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	r = sql("COPY (SELECT name FROM people WHERE id < 3) TO '" + dir + "' (FORMAT csv, OVERWRITE)")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "rows,files,bytes\n2,1,") {
		t.Errorf("overwrite: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	out := mustRun(t, "sql", "-e", "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '"+dir+"'; SELECT count(*) AS n FROM p")
	if out != "n\n2\n" {
		t.Errorf("reading the overwritten dataset: %q", out)
	}
	r = sql("COPY people TO '" + dir + "2' (PARTITION_BY (nope))")
	if r.code != 1 || !strings.Contains(r.stderr, "PARTITION_BY column nope") || !strings.Contains(r.stderr, "^") {
		t.Errorf("bad partition column: exit %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(dir + "2"); err == nil {
		t.Error("a refused COPY created its target")
	}
}
