package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Driver holds the driver's collectors. The zero value is not usable:
// create it with NewDriver. A nil *Driver records nothing.
type Driver struct {
	reg *prometheus.Registry

	jobsSubmitted   prometheus.Counter
	jobsFinished    *prometheus.CounterVec
	jobsRunning     prometheus.Gauge
	attemptsStarted prometheus.Counter
	attemptsFailed  prometheus.Counter
	attemptsRetried prometheus.Counter
	executorsLive   prometheus.Gauge
	executorsLost   prometheus.Counter
	raftLeader      prometheus.Gauge
	raftTerm        prometheus.Gauge
}

// NewDriver creates the driver's collectors in a registry of their own,
// with the Go runtime and process collectors.
func NewDriver() *Driver {
	m := &Driver{
		reg: newRegistry(),
		jobsSubmitted: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_driver_jobs_submitted_total",
			Help: "Jobs accepted by the driver (EXPLAIN jobs included)."}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flint_driver_jobs_finished_total",
			Help: "Jobs that ended, by final state (succeeded, failed, cancelled, timed_out)."}, []string{"state"}),
		jobsRunning: prometheus.NewGauge(prometheus.GaugeOpts{Name: "flint_driver_jobs_running",
			Help: "Jobs submitted and not yet finished."}),
		attemptsStarted: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_driver_task_attempts_started_total",
			Help: "Task attempts sent to executors."}),
		attemptsFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_driver_task_attempts_failed_total",
			Help: "Task attempts that came back failed or unanswered (attempts lost with their executor are not counted)."}),
		attemptsRetried: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_driver_task_attempts_retried_total",
			Help: "Failed task attempts whose task was scheduled again."}),
		executorsLive: prometheus.NewGauge(prometheus.GaugeOpts{Name: "flint_driver_executors_live",
			Help: "Executors registered and not lost."}),
		executorsLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "flint_driver_executors_lost_total",
			Help: "Executors declared lost (missed heartbeats, unreachable, or replaced by a new registration)."}),
		raftLeader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "flint_driver_raft_leader",
			Help: "1 while this driver leads its replicated group (and a driver alone), else 0."}),
		raftTerm: prometheus.NewGauge(prometheus.GaugeOpts{Name: "flint_driver_raft_term",
			Help: "The raft term this member last led in or followed (0: not replicated)."}),
	}
	m.reg.MustRegister(m.jobsSubmitted, m.jobsFinished, m.jobsRunning, m.attemptsStarted, m.attemptsFailed,
		m.attemptsRetried, m.executorsLive, m.executorsLost, m.raftLeader, m.raftTerm)
	for _, s := range []string{"succeeded", "failed", "cancelled", "timed_out"} {
		m.jobsFinished.WithLabelValues(s) // shown at 0 from the start
	}
	return m
}

// Registry is where the driver's collectors are registered (nil for a
// nil Driver).
func (m *Driver) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// JobSubmitted counts a job accepted, now running.
func (m *Driver) JobSubmitted() {
	if m == nil {
		return
	}
	m.jobsSubmitted.Inc()
	m.jobsRunning.Inc()
}

// JobFinished counts a job ended in state (a lower-case state name); call
// it once per job JobSubmitted counted.
func (m *Driver) JobFinished(state string) {
	if m == nil {
		return
	}
	m.jobsFinished.WithLabelValues(state).Inc()
	m.jobsRunning.Dec()
}

// AttemptStarted counts a task attempt sent to an executor.
func (m *Driver) AttemptStarted() {
	if m == nil {
		return
	}
	m.attemptsStarted.Inc()
}

// AttemptFailed counts a task attempt that came back failed; retried says
// whether its task runs again.
func (m *Driver) AttemptFailed(retried bool) {
	if m == nil {
		return
	}
	m.attemptsFailed.Inc()
	if retried {
		m.attemptsRetried.Inc()
	}
}

// ExecutorsLive sets the number of live executors.
func (m *Driver) ExecutorsLive(n int) {
	if m == nil {
		return
	}
	m.executorsLive.Set(float64(n))
}

// ExecutorLost counts an executor declared lost.
func (m *Driver) ExecutorLost() {
	if m == nil {
		return
	}
	m.executorsLost.Inc()
}

// newRegistry is a registry with the Go runtime and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Leading records whether the driver leads (always, alone) and its raft
// term (0 alone).
func (m *Driver) Leading(leader bool, term uint64) {
	if m == nil {
		return
	}
	v := 0.0
	if leader {
		v = 1
	}
	m.raftLeader.Set(v)
	m.raftTerm.Set(float64(term))
}

// JobsTakenOver counts jobs that keep running across a change of leader:
// positive for those a new leader resumes, negative for those a former
// one leaves (flint_driver_jobs_running).
func (m *Driver) JobsTakenOver(n int) {
	if m == nil {
		return
	}
	m.jobsRunning.Add(float64(n))
}
