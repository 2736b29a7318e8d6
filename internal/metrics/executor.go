package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Executor holds an executor's collectors. Create it with NewExecutor. A
// nil *Executor records nothing.
type Executor struct {
	reg *prometheus.Registry

	tasksRun          prometheus.Counter
	tasksFailed       prometheus.Counter
	shuffleWriteBytes prometheus.Counter
	shuffleReadBytes  prometheus.Counter
	spillBytes        prometheus.Counter
}

// TaskStats are the numbers of one finished task attempt that the
// executor's counters add up (the task metrics it sends the driver).
type TaskStats struct {
	OK                bool
	ShuffleWriteBytes int64
	ShuffleReadBytes  int64
	SpilledBytes      int64
}

// NewExecutor creates an executor's collectors in a registry of their
// own, with the Go runtime and process collectors.
func NewExecutor() *Executor {
	m := &Executor{
		reg: newRegistry(),
		tasksRun: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_executor_tasks_total",
			Help: "Task attempts answered, succeeded or failed (those refused before running included; not those whose call was cancelled)."}),
		tasksFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_executor_tasks_failed_total",
			Help: "Task attempts that ended failed."}),
		shuffleWriteBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_executor_shuffle_write_bytes_total",
			Help: "Bytes of map output files written by task attempts (TaskMetrics.shuffle_write_bytes)."}),
		shuffleReadBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_executor_shuffle_read_bytes_total",
			Help: "Bytes of Arrow data task attempts read from map outputs (TaskMetrics.shuffle_read_bytes; buffer sizes, not file bytes)."}),
		spillBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_executor_spill_bytes_total",
			Help: "Bytes operators spilled to the work dir."}),
	}
	m.reg.MustRegister(m.tasksRun, m.tasksFailed, m.shuffleWriteBytes, m.shuffleReadBytes, m.spillBytes)
	return m
}

// Registry is where the executor's collectors are registered (nil for a
// nil Executor).
func (m *Executor) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// TaskDone adds up one task attempt that ended. Negative byte counts are
// taken as 0 (a counter never goes down).
func (m *Executor) TaskDone(s TaskStats) {
	if m == nil {
		return
	}
	m.tasksRun.Inc()
	if !s.OK {
		m.tasksFailed.Inc()
	}
	m.shuffleWriteBytes.Add(float64(max(s.ShuffleWriteBytes, 0)))
	m.shuffleReadBytes.Add(float64(max(s.ShuffleReadBytes, 0)))
	m.spillBytes.Add(float64(max(s.SpilledBytes, 0)))
}

// MemoryReserved reports, at each scrape, the bytes read reports (the
// operators' memory pool's reservations). Only the first call counts.
func (m *Executor) MemoryReserved(read func() int64) {
	if m == nil || read == nil {
		return
	}
	// A second gauge of the same name is refused; the first one stays.
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flint_executor_memory_reserved_bytes",
		Help: "Bytes the operators hold reserved in the executor's memory pool."}, func() float64 { return float64(read()) }))
}
