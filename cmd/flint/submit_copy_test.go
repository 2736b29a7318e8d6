package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSubmitCopy: flint submit takes a COPY as a job's last statement.
// The job is a cluster job like a query's (ID on stdout, status, cancel,
// idempotency key, deadline), and the driver commits the dataset as for
// flint sql --driver COPY. The expected rows and checksums are computed
// here, from the input this test writes.
func TestSubmitCopy(t *testing.T) {
	c := startCluster(t)
	d := c.Addr()
	dir := t.TempDir()

	// n rows: id, grp = id % 7, val = (id*37) % 1000 - 500.
	const n = 5000
	var csv strings.Builder
	csv.WriteString("id,grp,val\n")
	wantRows := map[int]int64{} // grp -> rows with val > -400
	var wantSum, wantWeighted int64
	for id := 1; id <= n; id++ {
		grp, val := id%7, (id*37)%1000-500
		fmt.Fprintf(&csv, "%d,%d,%d\n", id, grp, val)
		if val > -400 {
			wantRows[grp]++
			wantSum += int64(val)
			wantWeighted += int64(id) * int64(val)
		}
	}
	var wantN int64
	for _, r := range wantRows {
		wantN += r
	}
	input := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(input, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "out")
	job := filepath.Join(dir, "job.sql")
	// Small splits: several scan tasks, so several write tasks.
	script := fmt.Sprintf(`CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '%s' OPTIONS ('min_split_bytes' '4096');
COPY (SELECT id, val, grp FROM t WHERE val > -400) TO '%s' (FORMAT parquet, PARTITION_BY (grp));
`, input, target)
	if err := os.WriteFile(job, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	readBack := func(t *testing.T, loc string) string {
		t.Helper()
		return mustRun(t, "sql", "-e", fmt.Sprintf(`CREATE EXTERNAL TABLE o STORED AS PARQUET LOCATION '%s';
SELECT count(*) AS n, sum(val) AS s, sum(CAST(id AS BIGINT) * val) AS w, count(DISTINCT grp) AS g FROM o`, loc))
	}

	t.Run("submit --wait", func(t *testing.T) {
		r := run(t, "submit", "--driver", d, "-f", job, "--wait", "--name", "export")
		if r.code != 0 || !jobID.MatchString(r.stdout) {
			t.Fatalf("exit %d, stdout %q, stderr %q: want 0 and only the job ID on stdout", r.code, r.stdout, r.stderr)
		}
		id := strings.TrimSpace(r.stdout)
		if want := fmt.Sprintf("job %s succeeded: wrote %d rows in ", id, wantN); !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
		if _, err := os.Stat(filepath.Join(target, "_SUCCESS")); err != nil {
			t.Fatalf("no manifest: %v", err)
		}
		if got, want := readBack(t, target), fmt.Sprintf("n,s,w,g\n%d,%d,%d,%d\n", wantN, wantSum, wantWeighted, len(wantRows)); got != want {
			t.Errorf("read back:\n%s\nwant:\n%s", got, want)
		}
		for grp, rows := range wantRows {
			got := mustRun(t, "sql", "-e", fmt.Sprintf("CREATE EXTERNAL TABLE o STORED AS PARQUET LOCATION '%s'; SELECT count(*) AS n FROM o WHERE grp = %d", target, grp))
			if want := fmt.Sprintf("n\n%d\n", rows); got != want {
				t.Errorf("grp=%d: %q, want %q", grp, got, want)
			}
		}
		st := mustRun(t, "status", "--driver", d, id)
		if !strings.Contains(st, "state:      succeeded") || !strings.Contains(st, "name:       export") {
			t.Errorf("status:\n%s", st)
		}
	})
	t.Run("target exists", func(t *testing.T) {
		r := run(t, "submit", "--driver", d, "-f", job, "--wait")
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "already holds data") || !strings.Contains(r.stderr, target) {
			t.Errorf("exit %d, stdout %q, stderr %q: want 1, no job, and the target named", r.code, r.stdout, r.stderr)
		}
		// The refused job changed nothing.
		if got := readBack(t, target); !strings.HasPrefix(got, fmt.Sprintf("n,s,w,g\n%d,", wantN)) {
			t.Errorf("after the refused COPY: %q", got)
		}
	})
	t.Run("overwrite with -e and an idempotency key", func(t *testing.T) {
		sql := fmt.Sprintf("COPY (SELECT id FROM t WHERE id <= 10) TO '%s' (FORMAT csv, MODE overwrite)", target)
		args := []string{"submit", "--driver", d, "--table", "t=" + input, "-e", sql, "--idempotency-key", "copy-" + t.Name()}
		a := run(t, append(args, "--wait")...)
		b := run(t, args...)
		if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !jobID.MatchString(a.stdout) || !strings.Contains(b.stderr, "already submitted") {
			t.Fatalf("first %+v, second %+v: want the same job ID, the second saying so", a, b)
		}
		got := mustRun(t, "sql", "-e", fmt.Sprintf("CREATE EXTERNAL TABLE o STORED AS CSV LOCATION '%s'; SELECT count(*) AS n, sum(id) AS s FROM o", target))
		if got != "n,s\n10,55\n" {
			t.Errorf("read back %q", got)
		}
	})
	t.Run("cancel and deadline", func(t *testing.T) {
		// With every executor frozen the jobs cannot finish first.
		for _, e := range c.Executors() {
			e.Stop()
		}
		defer func() {
			for _, e := range c.Executors() {
				e.Cont()
			}
		}()
		cancelled := filepath.Join(dir, "cancelled")
		sql := fmt.Sprintf("COPY t TO '%s'", cancelled)
		id := strings.TrimSpace(mustRun(t, "submit", "--driver", d, "--table", "t="+input, "-e", sql))
		if out := mustRun(t, "cancel", "--driver", d, id); !strings.Contains(out, id) {
			t.Errorf("cancel printed %q", out)
		}
		waitState(t, d, id, "cancelled")

		r := run(t, "submit", "--driver", d, "--table", "t="+input, "--deadline", "300ms", "--wait",
			"-e", fmt.Sprintf("COPY t TO '%s'", filepath.Join(dir, "late")))
		if r.code != exitTimedOut || !jobID.MatchString(r.stdout) || !strings.Contains(r.stderr, "timed_out: deadline exceeded") {
			t.Errorf("deadline: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		for _, p := range []string{cancelled, filepath.Join(dir, "late")} {
			if _, err := os.Stat(filepath.Join(p, "_SUCCESS")); err == nil {
				t.Errorf("%s was committed", p)
			}
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, tc := range []struct {
			sql  string
			code int
			want string
		}{
			{"COPY t TO '" + filepath.Join(dir, "x") + "'; SELECT 1", 2, "only the last statement"},
			{"EXPLAIN COPY t TO '" + filepath.Join(dir, "x") + "'", 2, "EXPLAIN"},
			{"COPY t TO '" + filepath.Join(dir, "x") + "' (PARTITION_BY (nope))", 1, "PARTITION_BY column nope"},
		} {
			r := run(t, "submit", "--driver", d, "--table", "t="+input, "-e", tc.sql)
			if r.code != tc.code || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.sql, r.code, r.stdout, r.stderr, tc.code, tc.want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
			t.Error("a refused COPY job created its target")
		}
	})
}

// waitState polls flint status until the job is in state.
func waitState(t *testing.T, driver, id, state string) {
	t.Helper()
	re := regexp.MustCompile(`state: +` + state + `\n`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := mustRun(t, "status", "--driver", driver, id)
		if re.MatchString(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not %s:\n%s", id, state, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
