package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flint-engine/flint/internal/metrics"
)

// scrape GETs url and parses the Prometheus text exposition into
// "name{label=value}" -> value (counters and gauges).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	m, err := metrics.Scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func expect(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

// TestNilRecordsNothing: a process without --metrics passes nil.
func TestNilRecordsNothing(t *testing.T) {
	var d *metrics.Driver
	d.JobSubmitted()
	d.JobFinished("failed")
	d.AttemptStarted()
	d.AttemptFailed(true)
	d.ExecutorsLive(3)
	d.ExecutorLost()
	if d.Registry() != nil {
		t.Error("nil Driver has a registry")
	}
	var e *metrics.Executor
	e.TaskDone(metrics.TaskStats{OK: true, ShuffleWriteBytes: 1})
	e.MemoryReserved(func() int64 { return 1 })
	if e.Registry() != nil {
		t.Error("nil Executor has a registry")
	}
}

func TestDriverCounters(t *testing.T) {
	m := metrics.NewDriver()
	srv := httptest.NewServer(metrics.Handler(m.Registry()))
	defer srv.Close()
	// Three jobs: one succeeds, one fails, one still runs. Five attempts,
	// two failed, of which one was retried. Two executors, one lost.
	for range 3 {
		m.JobSubmitted()
	}
	m.JobFinished("succeeded")
	m.JobFinished("failed")
	for range 5 {
		m.AttemptStarted()
	}
	m.AttemptFailed(true)
	m.AttemptFailed(false)
	m.ExecutorsLive(2)
	m.ExecutorLost()
	m.ExecutorsLive(1)
	// A leader change: two running jobs left, one resumed.
	m.Leading(true, 3)
	m.JobsTakenOver(-2)
	m.JobsTakenOver(1)
	got := scrape(t, srv.URL+"/metrics")
	expect(t, got, map[string]float64{
		"flint_driver_jobs_submitted_total":                 3,
		"flint_driver_jobs_finished_total{state=succeeded}": 1,
		"flint_driver_jobs_finished_total{state=failed}":    1,
		"flint_driver_jobs_finished_total{state=cancelled}": 0,
		"flint_driver_jobs_finished_total{state=timed_out}": 0,
		"flint_driver_jobs_running":                         0,
		"flint_driver_raft_leader":                          1,
		"flint_driver_raft_term":                            3,
		"flint_driver_task_attempts_started_total":          5,
		"flint_driver_task_attempts_failed_total":           2,
		"flint_driver_task_attempts_retried_total":          1,
		"flint_driver_executors_live":                       1,
		"flint_driver_executors_lost_total":                 1,
	})
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics (go_goroutines)")
	}
}

func TestExecutorCounters(t *testing.T) {
	m := metrics.NewExecutor()
	var reserved atomic.Int64
	reserved.Store(4096)
	m.MemoryReserved(reserved.Load)
	m.MemoryReserved(func() int64 { return -1 }) // refused: the first stays
	m.TaskDone(metrics.TaskStats{OK: true, ShuffleWriteBytes: 100, ShuffleReadBytes: 7, SpilledBytes: 0})
	m.TaskDone(metrics.TaskStats{OK: false, ShuffleWriteBytes: -5, ShuffleReadBytes: 3, SpilledBytes: 1 << 20})
	addr, stop, err := metrics.Serve("127.0.0.1:0", m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	expect(t, scrape(t, "http://"+addr+"/metrics"), map[string]float64{
		"flint_executor_tasks_total":               2,
		"flint_executor_tasks_failed_total":        1,
		"flint_executor_shuffle_write_bytes_total": 100,
		"flint_executor_shuffle_read_bytes_total":  10,
		"flint_executor_spill_bytes_total":         1 << 20,
		"flint_executor_memory_reserved_bytes":     4096,
	})
	reserved.Store(0)
	expect(t, scrape(t, "http://"+addr+"/metrics"), map[string]float64{"flint_executor_memory_reserved_bytes": 0})

	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("GET /debug/pprof/: %s\n%s", resp.Status, body)
	}
}

func TestServeBadAddress(t *testing.T) {
	_, _, err := metrics.Serve("256.0.0.1:99999", metrics.NewDriver().Registry())
	if err == nil || !strings.Contains(err.Error(), "metrics: listen on 256.0.0.1:99999") {
		t.Fatalf("error %v, want one naming the address", err)
	}
}
