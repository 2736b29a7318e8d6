package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flint-engine/flint/internal/clustertest"
)

// The cluster CLI (flint sql --driver, submit, status, cancel) against a
// real driver and executors: OS processes of the binary under test.

func startCluster(t *testing.T) *clustertest.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	return clustertest.Start(t, clustertest.Options{Executors: 2, Binary: flintBin})
}

// runEnv is run with extra environment variables.
func runEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(flintBin, args...)
	cmd.Env = append(os.Environ(), env...)
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

// TestSQLOnCluster checks flint sql --driver prints exactly what local
// mode prints, for every output flag.
func TestSQLOnCluster(t *testing.T) {
	c := startCluster(t)
	outDir := t.TempDir()
	for _, args := range [][]string{
		{"--table", peopleTable(), "-f", cliData + "report.sql"},
		{"--table", peopleTable(), "--format", "json", "-e", "SELECT id, name, salary, hired FROM people ORDER BY id"},
		{"--table", peopleTable(), "--format", "table", "-e", "SELECT dept, avg(salary) FROM people GROUP BY dept ORDER BY dept"},
		{"--tables", cliData, "-e", "SELECT p.name, d.floor FROM people p JOIN depts d ON p.dept = d.dept ORDER BY p.name"},
		{"--table", "ev=" + cliData + "events", "-e", "SELECT count(*) FROM ev"},
		{"--tables", tpchData, "--partitions", "3", "--batch-size", "7", "-f", queries + "q01.sql"},
		{"--tables", tpchData, "-f", queries + "q18.sql"},
		{"--table", peopleTable(), "-e",
			"CREATE VIEW eng AS SELECT * FROM people WHERE dept = 'eng'; SELECT count(*) FROM eng; SELECT name FROM eng ORDER BY name"},
		{"--table", peopleTable(), "-e", "EXPLAIN SELECT dept, count(*) FROM people GROUP BY dept"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			local := mustRun(t, append([]string{"sql"}, args...)...)
			remote := mustRun(t, append([]string{"sql", "--driver", c.Addr()}, args...)...)
			if remote != local {
				t.Errorf("cluster output differs from local:\n%s\nlocal:\n%s", remote, local)
			}
		})
	}
	t.Run("--output", func(t *testing.T) {
		out := filepath.Join(outDir, "r.csv")
		mustRun(t, "sql", "--driver", c.Addr(), "--table", peopleTable(), "-f", cliData+"report.sql", "-o", out)
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if want := "dept,n,payroll\neng,2,220.50\nops,2,90.25\n"; string(got) != want {
			t.Errorf("got:\n%s", got)
		}
	})
	t.Run("FLINT_DRIVER", func(t *testing.T) {
		r := runEnv(t, []string{driverEnv + "=" + c.Addr()}, "sql", "--tables", tpchData, "-f", queries+"q06.sql")
		want, err := os.ReadFile(answers + "q06.csv")
		if err != nil {
			t.Fatal(err)
		}
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if err := compareCSVText(string(want), r.stdout); err != nil {
			t.Error(err)
		}
	})
	t.Run("runtime error", func(t *testing.T) {
		r := run(t, "sql", "--driver", c.Addr(), "--table", peopleTable(), "-e", "SELECT CAST(name AS INT) FROM people")
		if r.code != 1 || !strings.Contains(r.stderr, `could not convert string "Ann" to INTEGER`) {
			t.Errorf("exit %d, stderr %q: want 1 and the executor's error", r.code, r.stderr)
		}
	})
	t.Run("bind error stays local", func(t *testing.T) {
		local := run(t, "sql", "--table", peopleTable(), "-e", "SELECT nmae FROM people")
		remote := run(t, "sql", "--driver", c.Addr(), "--table", peopleTable(), "-e", "SELECT nmae FROM people")
		if remote.code != 1 || remote.stderr != local.stderr {
			t.Errorf("exit %d, stderr %q; local stderr %q", remote.code, remote.stderr, local.stderr)
		}
	})
}

func TestSQLDriverUnreachable(t *testing.T) {
	r := run(t, "sql", "--driver", "127.0.0.1:1", "--table", peopleTable(), "-e", "SELECT 1")
	if r.code != 1 || !strings.Contains(r.stderr, "driver 127.0.0.1:1") {
		t.Errorf("exit %d, stderr %q: want 1 and an error naming the driver", r.code, r.stderr)
	}
}

var jobID = regexp.MustCompile(`^\S+\n$`)

func TestSubmitStatusCancel(t *testing.T) {
	c := startCluster(t)
	d := c.Addr()
	job := filepath.Join(t.TempDir(), "job.sql")
	script := fmt.Sprintf(`-- a job: tables and views first, the query last
CREATE EXTERNAL TABLE people STORED AS CSV LOCATION '%s';
CREATE VIEW staff AS SELECT * FROM people WHERE dept IS NOT NULL;
SELECT dept, count(*) AS n FROM staff GROUP BY dept ORDER BY dept;
`, cliData+"people.csv")
	if err := os.WriteFile(job, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("submit --wait succeeds", func(t *testing.T) {
		out := mustRun(t, "submit", "--driver", d, "-f", job, "--wait", "--name", "headcount", "--label", "team=hr")
		id, result, _ := strings.Cut(out, "\n")
		if !jobID.MatchString(id + "\n") {
			t.Fatalf("stdout %q: want the job ID line first", out)
		}
		// The result follows, as flint sql prints it as CSV.
		if local := mustRun(t, "sql", "--format", "csv", "-f", job); result != local {
			t.Errorf("result after the job ID:\n%s\nflint sql prints:\n%s", result, local)
		}
		st := mustRun(t, "status", "--driver", d, id)
		for _, want := range []string{"state:      succeeded", "name:       headcount", "labels:     team=hr", "stage", "succeeded"} {
			if !strings.Contains(st, want) {
				t.Errorf("status lacks %q:\n%s", want, st)
			}
		}
	})
	t.Run("submit then status", func(t *testing.T) {
		out := mustRun(t, "submit", "--driver", d, "--tables", tpchData, "-f", queries+"q09.sql")
		id := strings.TrimSpace(out)
		st := mustRun(t, "status", "--driver", d, id)
		if !strings.Contains(st, "job:        "+id) || !regexp.MustCompile(`state: +(running|succeeded)`).MatchString(st) {
			t.Errorf("status:\n%s", st)
		}
	})
	t.Run("idempotency key", func(t *testing.T) {
		a := run(t, "submit", "--driver", d, "-f", job, "--idempotency-key", "k-"+t.Name())
		b := run(t, "submit", "--driver", d, "-f", job, "--idempotency-key", "k-"+t.Name())
		if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !strings.Contains(b.stderr, "already submitted") {
			t.Errorf("first %+v, second %+v: want the same job ID, the second saying so", a, b)
		}
	})
	t.Run("failed job", func(t *testing.T) {
		r := run(t, "submit", "--driver", d, "--table", peopleTable(), "-e", "SELECT CAST(name AS INT) FROM people", "--wait")
		if r.code != 1 || !jobID.MatchString(r.stdout) || !strings.Contains(r.stderr, "failed") ||
			!strings.Contains(r.stderr, "could not convert") {
			t.Errorf("exit %d, stdout %q, stderr %q: want 1, the job ID, and the failure", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("FLINT_DRIVER", func(t *testing.T) {
		r := runEnv(t, []string{driverEnv + "=" + d}, "submit", "-f", job)
		if r.code != 0 || !jobID.MatchString(r.stdout) {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		// With every executor frozen the job cannot finish before the
		// cancel arrives.
		for _, e := range c.Executors() {
			e.Stop()
		}
		defer func() {
			for _, e := range c.Executors() {
				e.Cont()
			}
		}()
		id := strings.TrimSpace(mustRun(t, "submit", "--driver", d, "-f", job))
		if out := mustRun(t, "cancel", "--driver", d, id); !strings.Contains(out, id) || !regexp.MustCompile(`cancel`).MatchString(out) {
			t.Errorf("cancel printed %q", out)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			st := mustRun(t, "status", "--driver", d, id)
			if strings.Contains(st, "state:      cancelled") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job not cancelled:\n%s", st)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("usage and errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"submit", "-f", job}, 2, "--driver"},
			{[]string{"submit", "--driver", d}, 2, "-f FILE"},
			{[]string{"submit", "--driver", d, "--table", peopleTable(), "-e", "SELECT 1; SELECT 2"}, 2, "only the last statement"},
			{[]string{"submit", "--driver", d, "--table", peopleTable(), "-e", "CREATE VIEW v AS SELECT 1"}, 2, "must be a query"},
			{[]string{"submit", "--driver", d, "-e", "EXPLAIN SELECT 1"}, 2, "EXPLAIN"},
			{[]string{"submit", "--driver", d, "-e", "SELECT 1", "--deadline", "-1s"}, 2, "--deadline"},
			{[]string{"submit", "--driver", d, "-e", "SELECT nope FROM nowhere"}, 1, "unknown table nowhere"},
			{[]string{"status", "--driver", d, "no-such-job"}, 1, `unknown job "no-such-job"`},
			{[]string{"status", "--driver", d}, 2, "arg"},
			{[]string{"cancel", "--driver", d, "no-such-job"}, 1, `unknown job "no-such-job"`},
			{[]string{"status", "--driver", "127.0.0.1:1", "x"}, 1, "driver 127.0.0.1:1"},
		} {
			r := runEnv(t, []string{driverEnv + "="}, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("flint %q: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
			}
		}
	})
}

// TestSQLInterruptCancelsJob checks that interrupting flint sql --driver
// cancels its job on the driver.
func TestSQLInterruptCancelsJob(t *testing.T) {
	c := startCluster(t)
	for _, e := range c.Executors() {
		e.Stop() // the job cannot finish
	}
	defer func() {
		for _, e := range c.Executors() {
			e.Cont()
		}
	}()
	cmd := exec.Command(flintBin, "sql", "--driver", c.Addr(), "--table", peopleTable(), "-e", "SELECT count(*) FROM people")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Driver().WaitOutput(regexp.MustCompile(`msg="job submitted".*`), 20*time.Second); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("flint sql exited with %v (stderr %q), want exit 1", err, errb.String())
	}
	if _, err := c.Driver().WaitOutput(regexp.MustCompile(`msg="job finished".*state=cancelled.*`), 10*time.Second); err != nil {
		t.Error(err)
	}
}
