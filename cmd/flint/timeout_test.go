package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// slowJoin joins the TPC-H sample's lineitem with itself on l_suppkey:
// 36 million joined rows, seconds of work.
const slowJoin = "SELECT a.l_returnflag, count(*) FROM lineitem a JOIN lineitem b ON a.l_suppkey = b.l_suppkey GROUP BY 1 ORDER BY 1"

// endlessJoin joins on l_linestatus (two values): minutes of work.
const endlessJoin = "SELECT a.l_returnflag, count(*) FROM lineitem a JOIN lineitem b ON a.l_linestatus = b.l_linestatus GROUP BY 1 ORDER BY 1"

// checkTimedOut checks a command that hit its --timeout: exit 1 (flint
// sql; flint submit --wait exits exitTimedOut, see checkJobTimedOut), the
// message naming the flag, and an end soon after the timeout.
func checkTimedOut(t *testing.T, r result, took time.Duration, msg string) {
	t.Helper()
	checkExit(t, r, took, 1, msg)
}

func checkJobTimedOut(t *testing.T, r result, took time.Duration, msg string) {
	t.Helper()
	checkExit(t, r, took, exitTimedOut, msg)
}

func checkExit(t *testing.T, r result, took time.Duration, code int, msg string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, msg) {
		t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, code, msg)
	}
	if took > 5*time.Second {
		t.Errorf("the command took %s", took)
	}
}

// TestSQLTimeout: flint sql --timeout cancels a query that runs longer,
// prints nothing (no partial result, no output file) and exits 1 naming
// the flag; a query that fits runs as usual.
func TestSQLTimeout(t *testing.T) {
	start := time.Now()
	r := run(t, "sql", "--tables", tpchData, "--timeout", "300ms", "-e", slowJoin)
	checkTimedOut(t, r, time.Since(start), "error: query timed out after 300ms (--timeout)")
	if r.stdout != "" {
		t.Errorf("a timed-out query printed %q", r.stdout)
	}

	out := filepath.Join(t.TempDir(), "result.csv")
	start = time.Now()
	r = run(t, "sql", "--tables", tpchData, "--timeout", "300ms", "-e", slowJoin, "--output", out)
	checkTimedOut(t, r, time.Since(start), "query timed out after 300ms (--timeout)")
	assertOnly(t, filepath.Dir(out))

	// A COPY that times out writes nothing.
	target := filepath.Join(t.TempDir(), "copy")
	start = time.Now()
	r = run(t, "sql", "--tables", tpchData, "--timeout", "300ms", "-e", "COPY ("+slowJoin+") TO '"+target+"' (FORMAT csv)")
	checkTimedOut(t, r, time.Since(start), "query timed out after 300ms (--timeout)")
	if entries, err := os.ReadDir(target); err == nil && len(entries) > 0 {
		t.Errorf("the timed-out COPY left %v", entries)
	}

	if got := mustRun(t, "sql", "--table", peopleTable(), "--timeout", "1m", "-e", "SELECT count(*) AS n FROM people"); got != "n\n5\n" {
		t.Errorf("query within its timeout: %q", got)
	}
	if r := run(t, "sql", "--table", peopleTable(), "--timeout", "-1s", "-e", "SELECT 1"); r.code != 2 || !strings.Contains(r.stderr, "--timeout") {
		t.Errorf("negative timeout: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
}

// TestTimeoutOnCluster: flint sql --driver and flint submit --wait with a
// --timeout shorter than their job exit 1 and 4 naming the flag, and the job
// ends timed out on the driver, saying why; without --wait the timeout is
// the job's deadline on the driver.
func TestTimeoutOnCluster(t *testing.T) {
	c := startCluster(t)
	d := c.Addr()
	timedOutJob := func(t *testing.T, reason string) {
		t.Helper()
		re := regexp.MustCompile(`msg="job finished".*state=timed_out.*` + regexp.QuoteMeta(reason))
		if _, err := c.Driver().WaitOutput(re, 10*time.Second); err != nil {
			t.Error(err)
		}
	}
	t.Run("sql", func(t *testing.T) {
		start := time.Now()
		r := run(t, "sql", "--driver", d, "--tables", tpchData, "--timeout", "700ms", "-e", endlessJoin)
		checkTimedOut(t, r, time.Since(start), "error: query timed out after 700ms (--timeout)")
		if r.stdout != "" {
			t.Errorf("a timed-out query printed %q", r.stdout)
		}
		timedOutJob(t, "client: query timed out after 700ms (--timeout)")
	})
	t.Run("submit --wait", func(t *testing.T) {
		start := time.Now()
		r := run(t, "submit", "--driver", d, "--tables", tpchData, "--wait", "--timeout", "800ms", "-e", endlessJoin)
		id := strings.TrimSpace(r.stdout)
		if !jobID.MatchString(r.stdout) {
			t.Fatalf("stdout %q, stderr %q: want the job ID", r.stdout, r.stderr)
		}
		checkJobTimedOut(t, r, time.Since(start), "error: job "+id+" timed out after 800ms (--timeout)")
		timedOutJob(t, "client: job timed out after 800ms (--timeout)")
		st := mustRun(t, "status", "--driver", d, id)
		if !strings.Contains(st, "state:      timed_out") {
			t.Errorf("status of the timed-out job:\n%s", st)
		}
	})
	t.Run("submit without --wait", func(t *testing.T) {
		out := mustRun(t, "submit", "--driver", d, "--tables", tpchData, "--timeout", "800ms", "-e", endlessJoin)
		id := strings.TrimSpace(out)
		waitState(t, d, id, "timed_out")
		if st := mustRun(t, "status", "--driver", d, id); !regexp.MustCompile(`error: +deadline exceeded after [0-9.]+ms`).MatchString(st) {
			t.Errorf("status of the job past its deadline:\n%s", st)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"submit", "--driver", d, "-e", "SELECT 1", "--timeout", "-1s"},
			{"submit", "--driver", d, "-e", "SELECT 1", "--timeout", "1m", "--deadline", "2m"},
		} {
			if r := run(t, args...); r.code != 2 || !strings.Contains(r.stderr, "--timeout") {
				t.Errorf("flint %q: exit %d, stderr %q; want a usage error about --timeout", args, r.code, r.stderr)
			}
		}
	})
}
