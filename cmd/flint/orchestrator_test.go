package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/internal/clustertest"
)

// TestOrchestrator plays an orchestrator against a cluster of real
// processes, the way Airflow runs a step with BashOperator: flint submit
// --wait with one idempotency key per run and step and --rerun-failed, the
// same command line again on every retry, a timeout, a webhook for alerts.
// It checks what such a DAG relies on:
//
//   - the client killed mid-job (a worker lost) and the step retried: one
//     job, one committed output, nothing duplicated; a retry after success
//     runs nothing;
//   - a step past its timeout exits 4 with its job TIMED_OUT, and its retry
//     runs the job again and commits once;
//   - a failing step posts one failure notification per job, a slow one an
//     SLA alert while it keeps running.
//
// The expected rows and sums are computed here from the input it writes.
func TestOrchestrator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	hook := newWebhook(t)
	// A heartbeat timeout well past the freezes below: frozen executors
	// hold up their jobs without being declared lost.
	c := clustertest.Start(t, clustertest.Options{Executors: 2, Binary: flintBin, HeartbeatTimeout: 30 * time.Second})
	d := c.Addr()
	freeze := func() (thaw func()) {
		for _, e := range c.Executors() {
			e.Stop()
		}
		return func() {
			for _, e := range c.Executors() {
				e.Cont()
			}
		}
	}

	dir := t.TempDir()
	const n = 20000
	var csv strings.Builder
	csv.WriteString("id,grp,val\n")
	var wantN, wantSum int64
	for id := 1; id <= n; id++ {
		val := (id*53)%1000 - 300
		fmt.Fprintf(&csv, "%d,%d,%d\n", id, id%5, val)
		if val > 0 {
			wantN++
			wantSum += int64(id) * int64(val)
		}
	}
	input := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(input, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// step is the task's command line: the same on every try.
	step := func(name, target string, extra ...string) []string {
		script := filepath.Join(dir, name+".sql")
		sql := fmt.Sprintf(`CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '%s' OPTIONS ('min_split_bytes' '16384');
COPY (SELECT id, val, grp FROM t WHERE val > 0) TO '%s' (FORMAT parquet, PARTITION_BY (grp), MODE overwrite);
`, input, target)
		if err := os.WriteFile(script, []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
		return append([]string{"submit", "--driver", d, "-f", script, "--wait", "--name", name,
			"--idempotency-key", "nightly-2026-12-06-" + name, "--rerun-failed", "--notify", hook.url()}, extra...)
	}
	// committed checks target holds exactly one committed dataset, by job,
	// with the expected rows, and no data file beside the manifest's.
	committed := func(t *testing.T, target, job string) []string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(target, connectors.ManifestName))
		if err != nil {
			t.Fatalf("no committed dataset: %v", err)
		}
		var m connectors.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("manifest: %v", err)
		}
		if m.Job != job || m.Rows != wantN {
			t.Errorf("manifest of job %s with %d rows; want job %s, %d rows", m.Job, m.Rows, job, wantN)
		}
		var listed, onDisk []string
		for _, f := range m.Files {
			listed = append(listed, f.Path)
		}
		filepath.WalkDir(target, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && e.Name() != connectors.ManifestName {
				rel, _ := filepath.Rel(target, p)
				onDisk = append(onDisk, filepath.ToSlash(rel))
			}
			return err
		})
		slices.Sort(listed)
		slices.Sort(onDisk)
		if !slices.Equal(listed, onDisk) {
			t.Errorf("files on disk %q; the manifest lists %q", onDisk, listed)
		}
		got := mustRun(t, "sql", "-e", fmt.Sprintf(`CREATE EXTERNAL TABLE o STORED AS PARQUET LOCATION '%s';
SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(CAST(id AS BIGINT) * val) AS w FROM o`, target))
		if want := fmt.Sprintf("n,ids,w\n%d,%d,%d\n", wantN, wantN, wantSum); got != want {
			t.Errorf("read back:\n%s\nwant:\n%s", got, want)
		}
		return onDisk
	}
	jobsNamed := func(t *testing.T, name string) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(mustRun(t, "jobs", "--driver", d, "--format", "json")), "\n") {
			var j map[string]any
			if err := json.Unmarshal([]byte(line), &j); err != nil {
				t.Fatalf("flint jobs line %q: %v", line, err)
			}
			if j["name"] == name {
				out = append(out, j)
			}
		}
		return out
	}

	t.Run("client killed, step retried", func(t *testing.T) {
		target := filepath.Join(dir, "features")
		args := step("features", target)
		thaw := freeze()
		first := exec.Command(flintBin, args...)
		stdout, err := first.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			thaw()
			t.Fatalf("reading the job ID: %v", err)
		}
		id := strings.TrimSpace(line)
		// The worker running the step dies: SIGKILL, no cleanup.
		first.Process.Kill()
		first.Wait()
		// The orchestrator retries while the job still runs.
		retry := exec.Command(flintBin, args...)
		var out, errb strings.Builder
		retry.Stdout, retry.Stderr = &out, &errb
		if err := retry.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if st := mustRun(t, "status", "--driver", d, id); !strings.Contains(st, "state:      running") {
			t.Errorf("job %s not running while the executors are frozen:\n%s", id, st)
		}
		thaw()
		if err := retry.Wait(); err != nil || out.String() != id+"\n" || !strings.Contains(errb.String(), "already submitted") ||
			!strings.Contains(errb.String(), fmt.Sprintf("wrote %d rows", wantN)) {
			t.Fatalf("retry: %v, stdout %q, stderr %q; want exit 0 waiting for job %s", err, out.String(), errb.String(), id)
		}
		files := committed(t, target, id)

		// Cleared and run again by hand: the step succeeded, nothing runs.
		r := run(t, args...)
		if r.code != 0 || r.stdout != id+"\n" || !strings.Contains(r.stderr, "already submitted") {
			t.Errorf("retry after success: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if again := committed(t, target, id); !slices.Equal(again, files) {
			t.Errorf("files after the last retry %q, before %q", again, files)
		}
		if js := jobsNamed(t, "features"); len(js) != 1 || js[0]["job_id"] != id || js[0]["state"] != "succeeded" {
			t.Errorf("jobs of the step: %v; want job %s alone, succeeded", js, id)
		}
		hook.waitFor(t, id, "succeeded")
		if got := hook.events(id); !slices.Equal(got, []string{"succeeded"}) {
			t.Errorf("notifications of %s: %q; want one success", id, got)
		}
	})

	t.Run("timed out, step retried", func(t *testing.T) {
		target := filepath.Join(dir, "scores")
		thaw := freeze()
		r := run(t, step("scores", target, "--timeout", "1s")...)
		thaw()
		late := strings.TrimSpace(r.stdout)
		if r.code != exitTimedOut || !jobID.MatchString(r.stdout) || !strings.Contains(r.stderr, "timed out after 1s (--timeout)") {
			t.Fatalf("past its timeout: exit %d, stdout %q, stderr %q; want %d", r.code, r.stdout, r.stderr, exitTimedOut)
		}
		waitState(t, d, late, "timed_out")
		if _, err := os.Stat(filepath.Join(target, connectors.ManifestName)); err == nil {
			t.Fatal("the timed-out job committed")
		}
		r = run(t, step("scores", target, "--timeout", "2m")...)
		id := strings.TrimSpace(r.stdout)
		if r.code != 0 || !jobID.MatchString(r.stdout) || id == late || strings.Contains(r.stderr, "already submitted") {
			t.Fatalf("retry: exit %d, stdout %q, stderr %q; want a new job run to success", r.code, r.stdout, r.stderr)
		}
		committed(t, target, id)
		js := jobsNamed(t, "scores")
		states := map[string]any{}
		for _, j := range js {
			states[j["job_id"].(string)] = j["state"]
		}
		if len(js) != 2 || states[late] != "timed_out" || states[id] != "succeeded" {
			t.Errorf("jobs of the step: %v; want %s timed out and %s succeeded", states, late, id)
		}
		hook.waitFor(t, late, "timed_out")
		if got := hook.events(late); !slices.Equal(got, []string{"timed_out"}) {
			t.Errorf("notifications of %s: %q; want one timed_out", late, got)
		}
	})

	t.Run("failure and SLA alerts", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.sql")
		os.WriteFile(bad, []byte(fmt.Sprintf(`CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '%s';
COPY (SELECT CAST('x' || id AS INT) AS v FROM t) TO '%s' (MODE overwrite);
`, input, filepath.Join(dir, "bad"))), 0o644)
		args := []string{"submit", "--driver", d, "-f", bad, "--wait", "--name", "broken",
			"--idempotency-key", "nightly-2026-12-06-broken", "--rerun-failed", "--notify", hook.url()}
		var ids []string
		for try := 1; try <= 2; try++ {
			r := run(t, args...)
			if r.code != 1 || !jobID.MatchString(r.stdout) || !strings.Contains(r.stderr, "could not convert") {
				t.Fatalf("try %d: exit %d, stdout %q, stderr %q; want 1 and the error", try, r.code, r.stdout, r.stderr)
			}
			ids = append(ids, strings.TrimSpace(r.stdout))
		}
		if ids[0] == ids[1] {
			t.Errorf("the retry of a failed step did not run it again: %q", ids)
		}
		for _, id := range ids {
			hook.waitFor(t, id, "failed")
			if got := hook.events(id); !slices.Equal(got, []string{"task_retry", "task_retry", "task_retry", "failed"}) {
				t.Errorf("notifications of %s: %q; want 3 task retries and one failure", id, got)
			}
		}

		// A slow step: its SLA passes while its executors are frozen.
		target := filepath.Join(dir, "slow")
		thaw := freeze()
		slow := exec.Command(flintBin, step("slow", target, "--sla", "300ms")...)
		stdout, err := slow.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := slow.Start(); err != nil {
			thaw()
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			thaw()
			t.Fatalf("the slow step printed no job ID: %v", err)
		}
		id := strings.TrimSpace(line)
		go io.Copy(io.Discard, stdout)
		hook.waitFor(t, id, "sla")
		thaw()
		if err := slow.Wait(); err != nil {
			t.Fatalf("slow step: %v", err)
		}
		committed(t, target, id)
		hook.waitFor(t, id, "succeeded")
		if got := hook.events(id); !slices.Equal(got, []string{"sla", "succeeded"}) {
			t.Errorf("notifications of %s: %q; want one SLA alert, then success", id, got)
		}
		if m := hook.message(id, "sla"); m["state"] != "running" || !strings.Contains(fmt.Sprint(m["text"]), "not finished after 300ms") {
			t.Errorf("SLA alert %v", m)
		}
	})
}

// webhook records the JSON messages POSTed to it, by job.
type webhook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []map[string]any
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("notification: %v", err)
			return
		}
		if _, ok := m["text"].(string); !ok {
			t.Errorf("notification without a text (Slack's shape): %v", m)
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *webhook) url() string { return h.srv.URL }

// events lists the events posted for job, in order.
func (h *webhook) events(job string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var evs []string
	for _, m := range h.msgs {
		if m["job_id"] == job {
			evs = append(evs, fmt.Sprint(m["event"]))
		}
	}
	return evs
}

// message returns the first message of event for job.
func (h *webhook) message(job, event string) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.msgs {
		if m["job_id"] == job && m["event"] == event {
			return m
		}
	}
	return nil
}

// waitFor waits until event was posted for job, then a little longer for
// any message that should not come.
func (h *webhook) waitFor(t *testing.T, job, event string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); h.message(job, event) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s notification for job %s; got %q", event, job, h.events(job))
		}
	}
	time.Sleep(200 * time.Millisecond)
}
