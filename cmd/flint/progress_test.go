package main

import (
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// progressLine is the counts part of a --progress frame.
var progressLine = regexp.MustCompile(`stages (\d+)/(\d+)  tasks (\d+)/(\d+)  (\d+) rows`)

// finalProgress returns the counts of the last frame on stderr: stages
// done and total, tasks done and total, rows.
func finalProgress(t *testing.T, stderr string) [5]int {
	t.Helper()
	m := progressLine.FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		t.Fatalf("no progress on stderr:\n%s", stderr)
	}
	var n [5]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[len(m)-1][i+1])
	}
	return n
}

// checkDone fails unless the last frame shows every stage and task done;
// rows >= 0 is the rows the tasks must have produced.
func checkDone(t *testing.T, stderr string, rows int) {
	t.Helper()
	n := finalProgress(t, stderr)
	if n[0] == 0 || n[0] != n[1] || n[2] == 0 || n[2] != n[3] {
		t.Errorf("last frame %q: want stages and tasks done = total > 0", progressLine.FindAllString(stderr, -1))
	}
	if rows >= 0 && n[4] != rows {
		t.Errorf("last frame shows %d rows, want %d", n[4], rows)
	}
}

// TestProgressLocal: --progress always draws on stderr (a pipe here) up
// to the final counts and leaves stdout as it is without; never and auto
// on a pipe write nothing.
func TestProgressLocal(t *testing.T) {
	// One scan stage: its tasks produce the table's 5 rows (people.csv).
	args := []string{"sql", "--table", peopleTable(), "-e", "SELECT id FROM people"}
	plain := run(t, args...)
	if plain.code != 0 || plain.stderr != "" {
		t.Fatalf("auto on a pipe: exit %d, stderr %q; want 0 and nothing", plain.code, plain.stderr)
	}
	r := run(t, append(args, "--progress", "always")...)
	if r.code != 0 || r.stdout != plain.stdout {
		t.Fatalf("--progress always: exit %d, stdout %q; want %q (stderr %s)", r.code, r.stdout, plain.stdout, r.stderr)
	}
	checkDone(t, r.stderr, 5)

	// Shuffles: several stages, each with tasks of its own.
	q := []string{"sql", "--tables", tpchData, "--partitions", "3", "-f", queries + "q03.sql"}
	r = run(t, append(q, "--progress", "always")...)
	if r.code != 0 {
		t.Fatalf("q03: exit %d: %s", r.code, r.stderr)
	}
	if n := finalProgress(t, r.stderr); n[1] < 2 {
		t.Errorf("q03 shows %d stages, want several", n[1])
	}
	checkDone(t, r.stderr, -1)

	never := run(t, append(q, "--progress", "never")...)
	if never.code != 0 || never.stderr != "" || never.stdout != r.stdout {
		t.Errorf("--progress never: exit %d, stderr %q, stdout same as always: %v", never.code, never.stderr, never.stdout == r.stdout)
	}

	bad := run(t, "sql", "-e", "SELECT 1", "--progress", "sometimes")
	if bad.code != 2 || !strings.Contains(bad.stderr, "--progress") {
		t.Errorf("--progress sometimes: exit %d, stderr %q; want a usage error naming --progress", bad.code, bad.stderr)
	}
}

// TestProgressCluster: flint sql --driver and flint submit --wait draw
// the job's progress from the driver's events.
func TestProgressCluster(t *testing.T) {
	c := startCluster(t)
	d := c.Addr()
	args := []string{"--driver", d, "--table", peopleTable(), "-e", "SELECT id FROM people"}
	local := mustRun(t, "sql", "--table", peopleTable(), "-e", "SELECT id FROM people")

	r := run(t, append([]string{"sql", "--progress", "always"}, args...)...)
	if r.code != 0 || r.stdout != local {
		t.Fatalf("sql --driver --progress always: exit %d, stdout %q; want %q (stderr %s)", r.code, r.stdout, local, r.stderr)
	}
	checkDone(t, r.stderr, 5)

	r = run(t, "sql", "--progress", "always", "--driver", d, "--table", peopleTable(), "-e",
		"SELECT dept, count(*) FROM people GROUP BY dept ORDER BY dept")
	if r.code != 0 {
		t.Fatalf("group by: exit %d: %s", r.code, r.stderr)
	}
	checkDone(t, r.stderr, -1)

	r = run(t, append([]string{"submit", "--wait", "--progress", "always"}, args...)...)
	if r.code != 0 {
		t.Fatalf("submit --wait: exit %d: %s", r.code, r.stderr)
	}
	if _, res, _ := strings.Cut(r.stdout, "\n"); res != local {
		t.Errorf("submit --wait result %q, want %q", res, local)
	}
	checkDone(t, r.stderr, 5)

	for _, mode := range []string{"never", "auto"} {
		r = run(t, append([]string{"submit", "--wait", "--progress", mode}, args...)...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("submit --wait --progress %s: exit %d, stderr %q; want nothing", mode, r.code, r.stderr)
		}
	}
}

// TestProgressTerminal: on a terminal, auto draws the display and erases
// it before the result is printed: the result follows the last erase.
func TestProgressTerminal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses util-linux script(1)")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed")
	}
	// A nested-loop join long enough (seconds) for several frames.
	sql := `'SELECT count(*) FROM orders a JOIN orders b ON a.o_custkey < b.o_custkey + 100 AND a.o_custkey > b.o_custkey'`
	tty := func(flags string) string {
		t.Helper()
		out, err := exec.Command(script, "-qec", "stty cols 120 rows 40; "+flintBin+" sql --slots 1 --tables "+tpchData+flags+" -e "+sql, "/dev/null").Output()
		if err != nil {
			t.Fatalf("script: %v", err)
		}
		return strings.ReplaceAll(string(out), "\r\n", "\n")
	}
	text, plain := tty(""), tty(" --progress never")
	const erase = "\x1b[1A\x1b[J"
	i := strings.LastIndex(text, erase)
	if !strings.Contains(text, "stages ") || i < 0 {
		t.Fatalf("no progress drawn and erased on the terminal:\n%q", text)
	}
	if got := text[i+len(erase):]; got != plain {
		t.Errorf("after the display:\n%q\nwant what --progress never prints:\n%q", got, plain)
	}
}
