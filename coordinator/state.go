package coordinator

import (
	"fmt"
	"sort"
)

// JobStatus is the lifecycle state of a job.
type JobStatus int

// Job states.
const (
	StatusRunning JobStatus = iota
	StatusSucceeded
	StatusFailed
	StatusCancelled
	// StatusTimedOut: the job's deadline passed before it finished
	// (JobTimedOut; the driver, which owns the clock, decides when).
	StatusTimedOut
)

func (s JobStatus) String() string {
	return [...]string{"running", "succeeded", "failed", "cancelled", "timed out"}[s]
}

// Done reports whether the job has finished, one way or another.
func (s JobStatus) Done() bool { return s != StatusRunning }

// TaskStatus is the lifecycle state of one task.
type TaskStatus int

// Task states.
const (
	Pending TaskStatus = iota
	Running
	Succeeded
	Failed // failed for good: out of attempts
)

func (s TaskStatus) String() string {
	return [...]string{"pending", "running", "succeeded", "failed"}[s]
}

// State is the whole coordinator state. Its fields are exported for
// inspection and snapshots; change it only through Apply.
type State struct {
	Executors map[string]*Executor
	Jobs      map[string]*Job
	// Keys maps idempotency keys to job IDs.
	Keys map[string]string
}

// Executor is a registered executor process.
type Executor struct {
	ID    string
	Addr  string
	Slots int
	Alive bool
	// Detached: alive, holding its map outputs, but registered with a
	// former leader only; no task starts on it (ExecutorsDetached).
	Detached bool `json:",omitempty"`
	// Running counts the task attempts currently assigned to it.
	Running int
}

// Free is the number of idle slots.
func (e *Executor) Free() int {
	if !e.Alive || e.Detached {
		return 0
	}
	return e.Slots - e.Running
}

// Job is one submitted query.
type Job struct {
	ID          string
	Status      JobStatus
	Error       string
	MaxAttempts int
	Stages      []*Stage
}

// Stage is one stage of a job.
type Stage struct {
	ID     int
	Inputs []int
	// Tasks is nil until the task count is known (scan stages learn it
	// from their splits when they become runnable).
	Tasks []*Task
	// Known is true once Tasks has been set.
	Known bool
}

// Complete reports whether every task of the stage has succeeded.
func (s *Stage) Complete() bool {
	if !s.Known {
		return false
	}
	for _, t := range s.Tasks {
		if t.Status != Succeeded {
			return false
		}
	}
	return true
}

// Task is one partition of a stage.
type Task struct {
	Index  int
	Status TaskStatus
	// Attempt is the number of the current (or last) attempt; attempts are
	// numbered from 1. Failures counts failed attempts (an attempt lost with
	// its executor does not count).
	Attempt  int
	Failures int
	// Executor runs the current attempt, or holds the output of the
	// successful one.
	Executor string
	LastErr  string
	// FailedOn is the executor of the last attempt that failed by its own
	// fault; Plan places the retry elsewhere when it can.
	FailedOn string
}

// NewState returns an empty state.
func NewState() *State {
	return &State{Executors: map[string]*Executor{}, Jobs: map[string]*Job{}, Keys: map[string]string{}}
}

// Job returns the job with the given ID.
func (s *State) Job(id string) (*Job, bool) {
	j, ok := s.Jobs[id]
	return j, ok
}

func (s *State) task(job string, stage, task int) (*Job, *Stage, *Task, error) {
	j, ok := s.Jobs[job]
	if !ok {
		return nil, nil, nil, fmt.Errorf("unknown job %s", job)
	}
	if stage < 0 || stage >= len(j.Stages) {
		return nil, nil, nil, fmt.Errorf("job %s has no stage %d", job, stage)
	}
	st := j.Stages[stage]
	if task < 0 || task >= len(st.Tasks) {
		return nil, nil, nil, fmt.Errorf("job %s stage %d has no task %d", job, stage, task)
	}
	return j, st, st.Tasks[task], nil
}

// ExecutorIDs lists executors in a stable order.
func (s *State) ExecutorIDs() []string {
	ids := make([]string, 0, len(s.Executors))
	for id := range s.Executors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// JobIDs lists jobs in a stable order.
func (s *State) JobIDs() []string {
	ids := make([]string, 0, len(s.Jobs))
	for id := range s.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
