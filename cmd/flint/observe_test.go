package main

import (
	"bufio"
	"encoding/json"
	"github.com/flint-engine/flint/internal/metrics"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flint-engine/flint/internal/clustertest"
)

// scrapeMetrics GETs http://addr/metrics and parses the text exposition
// format into "name{label=value}" -> value (counters and gauges).
func scrapeMetrics(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	m, err := metrics.Scrape("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var metricsAddr = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)

// metricsAddrOf waits for a process's "metrics listening" log line.
func metricsAddrOf(t *testing.T, p *clustertest.Process) string {
	t.Helper()
	line, err := p.WaitOutput(metricsAddr, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return metricsAddr.FindStringSubmatch(line)[1]
}

func getOK(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
}

// TestMetricsOnCluster: with --metrics, the driver and executor processes
// serve /metrics whose job and task counters follow a query, and pprof.
func TestMetricsOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	c := clustertest.Start(t, clustertest.Options{Executors: 1, Binary: flintBin,
		DriverArgs: []string{"--metrics", "127.0.0.1:0"}, ExecutorArgs: []string{"--metrics", "127.0.0.1:0"}})
	driverAt, execAt := metricsAddrOf(t, c.Driver()), metricsAddrOf(t, c.Executor(0))

	before := scrapeMetrics(t, driverAt)
	if before["flint_driver_jobs_submitted_total"] != 0 || before["flint_driver_executors_live"] != 1 {
		t.Errorf("before any job: submitted %v, executors live %v; want 0 and 1",
			before["flint_driver_jobs_submitted_total"], before["flint_driver_executors_live"])
	}
	if out := mustRun(t, "sql", "--driver", c.Addr(), "--table", peopleTable(), "-e", "SELECT count(*) FROM people"); !strings.Contains(out, "count") {
		t.Fatalf("query output:\n%s", out)
	}
	// The client has the result, so the job has finished on the driver.
	d := scrapeMetrics(t, driverAt)
	if d["flint_driver_jobs_submitted_total"] < 1 || d["flint_driver_jobs_finished_total{state=succeeded}"] != d["flint_driver_jobs_submitted_total"] ||
		d["flint_driver_jobs_running"] != 0 || d["flint_driver_task_attempts_started_total"] < 1 || d["flint_driver_task_attempts_failed_total"] != 0 {
		t.Errorf("driver metrics after one query: submitted %v, succeeded %v, running %v, attempts started %v, failed %v",
			d["flint_driver_jobs_submitted_total"], d["flint_driver_jobs_finished_total{state=succeeded}"], d["flint_driver_jobs_running"],
			d["flint_driver_task_attempts_started_total"], d["flint_driver_task_attempts_failed_total"])
	}
	if _, ok := d["go_goroutines"]; !ok {
		t.Error("driver: no Go runtime metrics")
	}
	e := scrapeMetrics(t, execAt)
	// Every attempt ran on the one executor.
	if e["flint_executor_tasks_total"] != d["flint_driver_task_attempts_started_total"] || e["flint_executor_tasks_failed_total"] != 0 {
		t.Errorf("executor ran %v tasks (%v failed); the driver started %v attempts",
			e["flint_executor_tasks_total"], e["flint_executor_tasks_failed_total"], d["flint_driver_task_attempts_started_total"])
	}
	// count(*) is a partial aggregate, an exchange, then the final one:
	// the map side writes what the reduce side reads, on this executor
	// (written counts the files' bytes, read the Arrow data's: they differ).
	if w, r := e["flint_executor_shuffle_write_bytes_total"], e["flint_executor_shuffle_read_bytes_total"]; w <= 0 || r <= 0 {
		t.Errorf("executor shuffle bytes written %v, read %v; want both positive", w, r)
	}
	if _, ok := e["flint_executor_memory_reserved_bytes"]; !ok {
		t.Error("executor: no memory pool gauge")
	}
	getOK(t, "http://"+driverAt+"/debug/pprof/")
	getOK(t, "http://"+execAt+"/debug/pprof/goroutine?debug=1")
}

// TestLogFormatJSON: --log-format json makes every log line one JSON
// object; an unknown format is a usage error.
func TestLogFormatJSON(t *testing.T) {
	cmd := exec.Command(flintBin, "driver", "--listen", "127.0.0.1:0", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	if !lines.Scan() {
		t.Fatalf("no log line: %v", lines.Err())
	}
	var first map[string]any
	if err := json.Unmarshal(lines.Bytes(), &first); err != nil {
		t.Fatalf("first log line is not JSON: %v\n%s", err, lines.Text())
	}
	if first["msg"] != "driver listening" || first["level"] != "INFO" || first["addr"] == nil || first["time"] == nil {
		t.Errorf("first log line %s", lines.Text())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		if !json.Valid(lines.Bytes()) {
			t.Errorf("log line is not JSON: %s", lines.Text())
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("driver exit: %v", err)
	}

	for _, args := range [][]string{
		{"driver", "--listen", "127.0.0.1:0", "--log-format", "xml"},
		{"executor", "--driver", "127.0.0.1:1", "--listen", "127.0.0.1:0", "--log-format", "xml"},
	} {
		if r := run(t, args...); r.code != 2 || !strings.Contains(r.stderr, `--log-format must be text or json, got "xml"`) {
			t.Errorf("flint %v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
	if r := run(t, "driver", "--listen", "127.0.0.1:0", "--metrics", "256.0.0.1:99999"); r.code != 1 || !strings.Contains(r.stderr, "metrics: listen on 256.0.0.1:99999") {
		t.Errorf("bad --metrics address: exit %d\n%s", r.code, r.stderr)
	}
}
