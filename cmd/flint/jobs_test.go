package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestJobContract checks what an orchestrator relies on: flint submit
// --wait's exit status per final state, idempotent retries (--rerun to run
// again), labels, flint jobs, flint logs and --notify.
func TestJobContract(t *testing.T) {
	var mu sync.Mutex
	var notes []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("notification: %v", err)
		}
		mu.Lock()
		notes = append(notes, m)
		mu.Unlock()
	}))
	defer hook.Close()
	c := startCluster(t)
	d := c.Addr()
	people := peopleTable()
	const bad = "SELECT CAST(name AS INT) FROM people"
	const good = "SELECT dept, count(*) AS n FROM people GROUP BY dept ORDER BY dept"

	t.Run("exit statuses", func(t *testing.T) {
		if r := run(t, "submit", "--driver", d, "--table", people, "-e", good, "--wait"); r.code != 0 {
			t.Errorf("succeeded: exit %d, stderr %q", r.code, r.stderr)
		}
		r := run(t, "submit", "--driver", d, "--table", people, "-e", bad, "--wait", "--notify", hook.URL, "--name", "bad")
		if r.code != 1 || !jobID.MatchString(r.stdout) || !strings.Contains(r.stderr, "failed") {
			t.Errorf("failed: exit %d, stdout %q, stderr %q; want 1", r.code, r.stdout, r.stderr)
		}
		failedID := strings.TrimSpace(r.stdout)
		r = run(t, "submit", "--driver", d, "--tables", tpchData, "-e", endlessJoin, "--wait", "--deadline", "500ms")
		if r.code != exitTimedOut || !strings.Contains(r.stderr, "timed_out: deadline exceeded after 500ms") {
			t.Errorf("timed out: exit %d, stderr %q; want %d", r.code, r.stderr, exitTimedOut)
		}
		// Cancelled: the waiting submit learns of a cancel from elsewhere.
		cmd := exec.Command(flintBin, "submit", "--driver", d, "--tables", tpchData, "-e", endlessJoin, "--wait")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("reading the job ID: %v", err)
		}
		id := strings.TrimSpace(line)
		mustRun(t, "cancel", "--driver", d, "--reason", "operator", id)
		io.Copy(io.Discard, stdout) // until the process exits
		err = cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitCancelled || !strings.Contains(errb.String(), "cancelled: operator") {
			t.Errorf("cancelled: %v, stderr %q; want exit %d", err, errb.String(), exitCancelled)
		}

		// The failed job posted one notification per retry (4 attempts:
		// 3 retries) and exactly one failure; the other jobs named no URL.
		byEvent := func() map[string][]map[string]any {
			mu.Lock()
			defer mu.Unlock()
			m := map[string][]map[string]any{}
			for _, n := range notes {
				ev, _ := n["event"].(string)
				m[ev] = append(m[ev], n)
			}
			return m
		}
		waitUntil := time.Now().Add(10 * time.Second)
		for len(byEvent()["failed"]) == 0 && time.Now().Before(waitUntil) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		got := byEvent()
		f := got["failed"]
		if len(f) != 1 || f[0]["job_id"] != failedID || f[0]["state"] != "failed" || f[0]["name"] != "bad" ||
			!strings.Contains(f[0]["text"].(string), "failed") || !strings.Contains(f[0]["error"].(string), "could not convert") {
			t.Errorf("failure notifications %v: want one failure of %s", f, failedID)
		}
		if r := got["task_retry"]; len(r) != 3 || len(got) != 2 || r[0]["job_id"] != failedID {
			t.Errorf("notifications %v: want 3 retries and 1 failure", got)
		}
	})

	t.Run("idempotent retries", func(t *testing.T) {
		args := []string{"submit", "--driver", d, "--table", people, "-e", good, "--wait", "--idempotency-key", "k-" + t.Name()}
		first := mustRun(t, args...)
		again := run(t, args...)
		if again.code != 0 || again.stdout != first || !strings.Contains(again.stderr, "already submitted") {
			t.Errorf("retry: exit %d, stdout %q (first %q), stderr %q", again.code, again.stdout, first, again.stderr)
		}
		rerun := mustRun(t, append(args, "--rerun")...)
		firstID, _, _ := strings.Cut(first, "\n")
		rerunID, rerunResult, _ := strings.Cut(rerun, "\n")
		_, firstResult, _ := strings.Cut(first, "\n")
		if rerunID == firstID || rerunResult != firstResult {
			t.Errorf("rerun printed %q; first run %q", rerun, first)
		}
		if r := run(t, "submit", "--driver", d, "--table", people, "-e", good, "--rerun"); r.code != 2 || !strings.Contains(r.stderr, "--idempotency-key") {
			t.Errorf("--rerun without a key: exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("jobs and logs", func(t *testing.T) {
		id := strings.TrimSpace(mustRun(t, "submit", "--driver", d, "--table", people, "-e", bad, "--name", "cast",
			"--label", "team=hr", "--label", "dag=nightly"))
		waitState(t, d, id, "failed")
		list := mustRun(t, "jobs", "--driver", d)
		lines := strings.Split(strings.TrimSpace(list), "\n")
		if !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "LABELS") || len(lines) < 2 ||
			!strings.HasPrefix(lines[1], id+" ") || !strings.Contains(lines[1], "cast") || !strings.Contains(lines[1], "failed") ||
			!strings.HasSuffix(lines[1], "dag=nightly,team=hr") {
			t.Errorf("flint jobs, newest first:\n%s", list)
		}
		var j struct {
			JobID, Name, State, Submitted, Finished string
			DurationMs                              int64 `json:"duration_ms"`
			Labels                                  map[string]string
		}
		js := mustRun(t, "jobs", "--driver", d, "--format", "json", "--limit", "1")
		if err := json.Unmarshal([]byte(js), &j); err != nil || strings.Count(js, "\n") != 1 {
			t.Fatalf("flint jobs --format json --limit 1: %q: %v", js, err)
		}
		if j.Name != "cast" || j.State != "failed" || j.Labels["team"] != "hr" || j.Submitted == "" || j.Finished == "" || j.DurationMs < 0 {
			t.Errorf("json job %+v", j)
		}

		logs := mustRun(t, "logs", "--driver", d, id)
		for _, want := range []string{"job submitted (cast) labels dag=nightly,team=hr", "stage 0 started", "attempt 0 failed on ",
			"attempt 1: retrying on ", "job failed: ", "could not convert"} {
			if !strings.Contains(logs, want) {
				t.Errorf("flint logs lacks %q:\n%s", want, logs)
			}
		}
		var events []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(mustRun(t, "logs", "--driver", d, "--format", "json", "--follow", id)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("logs --format json line %q: %v", line, err)
			}
			events = append(events, m)
		}
		if first, last := events[0], events[len(events)-1]; first["event"] != "job" || first["state"] != "running" ||
			last["event"] != "job" || last["state"] != "failed" || last["time"] == "" {
			t.Errorf("json events from %v to %v", first, last)
		}
		if r := run(t, "logs", "--driver", d, "no-such-job"); r.code != 1 || !strings.Contains(r.stderr, `unknown job "no-such-job"`) {
			t.Errorf("logs of an unknown job: exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"submit", "--driver", d, "-e", "SELECT 1", "--label", "nokey"}, "KEY=VALUE"},
			{[]string{"submit", "--driver", d, "-e", "SELECT 1", "--sla", "-1s"}, "--sla"},
			{[]string{"submit", "--driver", d, "-e", "SELECT 1", "--wait", "--format", "xml"}, "xml"},
			{[]string{"jobs", "--driver", d, "--format", "xml"}, "--format"},
			{[]string{"logs", "--driver", d}, "arg"},
			{[]string{"submit", "--driver", d, "-e", "SELECT 1", "--rerun-failed"}, "--idempotency-key"},
			{[]string{"submit", "--driver", d, "-e", "SELECT 1", "--idempotency-key", "k", "--rerun", "--rerun-failed"}, "not both"},
		} {
			if r := run(t, tc.args...); r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("flint %q: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
			}
		}
		if r := run(t, "submit", "--driver", d, "-e", "SELECT 1", "--notify", "ftp://x"); r.code != 1 || !strings.Contains(r.stderr, "http") {
			t.Errorf("ftp notify URL: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
