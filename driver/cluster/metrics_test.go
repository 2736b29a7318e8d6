package cluster_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/internal/metrics"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/tpch"
)

// gathered reads reg's counters and gauges as "name{label=value}" -> value.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// waitMetrics waits until every metric of want has its value (counters
// move under the driver's lock, after the events a watcher sees).
func waitMetrics(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := gathered(t, reg)
		var wrong []string
		for k, v := range want {
			if got[k] != v {
				wrong = append(wrong, fmt.Sprintf("%s = %v, want %v", k, got[k], v))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			sort.Strings(wrong)
			t.Fatalf("metrics:\n%s", strings.Join(wrong, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDriverMetrics: the driver's counters follow a job that fails after
// its retries, one that succeeds and an executor lost.
func TestDriverMetrics(t *testing.T) {
	ctx := context.Background()
	m := metrics.NewDriver()
	d, c := startDriver(t, cluster.Config{Metrics: m, HeartbeatTimeout: 500 * time.Millisecond})
	var failing atomic.Bool
	failing.Store(true)
	startExecutorFailing(t, d.Addr(), "exec-a", 2, func(r *pb.RunTaskRequest) string {
		if failing.Load() && r.GetTask().GetStage().GetId() == 0 && r.GetTask().GetIndex() == 0 {
			return "corrupt row group"
		}
		return ""
	})
	waitMetrics(t, m.Registry(), map[string]float64{"flint_driver_executors_live": 1})

	// Stage 0 task 0 fails on each of its 3 attempts: 2 retries, then
	// the job fails.
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.Options = &pb.JobOptions{MaxAttempts: 3}
	if _, final := watch(ctx, t, c, submit(ctx, t, c, req)); final.State != pb.JobState_JOB_STATE_FAILED {
		t.Fatalf("final status %v, want failed", final)
	}
	waitMetrics(t, m.Registry(), map[string]float64{
		"flint_driver_jobs_submitted_total":                 1,
		"flint_driver_jobs_finished_total{state=failed}":    1,
		"flint_driver_jobs_finished_total{state=succeeded}": 0,
		"flint_driver_jobs_running":                         0,
		"flint_driver_task_attempts_failed_total":           3,
		"flint_driver_task_attempts_retried_total":          2,
	})
	startedBefore := gathered(t, m.Registry())["flint_driver_task_attempts_started_total"]
	if startedBefore < 3 {
		t.Errorf("%v attempts started, want at least the 3 that failed", startedBefore)
	}

	failing.Store(false)
	if _, final := watch(ctx, t, c, submit(ctx, t, c, submitRequest(t, n))); final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("final status %v, want succeeded", final)
	}
	waitMetrics(t, m.Registry(), map[string]float64{
		"flint_driver_jobs_submitted_total":                 2,
		"flint_driver_jobs_finished_total{state=succeeded}": 1,
		"flint_driver_jobs_running":                         0,
		"flint_driver_task_attempts_failed_total":           3,
		"flint_driver_executors_lost_total":                 0,
	})
	if got := gathered(t, m.Registry())["flint_driver_task_attempts_started_total"]; got <= startedBefore {
		t.Errorf("attempts started %v after a second job, was %v", got, startedBefore)
	}

	// A second executor that stops heartbeating is lost.
	b := startExecutor(t, d.Addr(), "exec-b", 1, nil)
	waitMetrics(t, m.Registry(), map[string]float64{"flint_driver_executors_live": 2})
	b.freeze()
	waitMetrics(t, m.Registry(), map[string]float64{"flint_driver_executors_live": 1, "flint_driver_executors_lost_total": 1})
}
