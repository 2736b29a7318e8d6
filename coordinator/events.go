package coordinator

import "fmt"

// Event is one change to the state. Events are plain data so they can be
// logged, replicated and replayed.
type Event interface{ event() }

// ExecutorRegistered announces an executor (or its restart: an executor
// registering again under a known ID has lost everything it held).
// Replaces, when it names a detached executor at the same address (the
// same process, registering with a new leader), hands that one's map
// outputs over to this one instead of losing them.
type ExecutorRegistered struct {
	ID, Addr string
	Slots    int
	Replaces string
}

// ExecutorsDetached is applied by a new leader: the executors of the
// former one stay, with the map outputs they hold, but are detached
// (no task starts on them) until they register again with the leader
// (ExecutorRegistered.Replaces) or are declared lost. Their running
// attempts were the former leader's calls: they go back to pending
// without counting a failure.
type ExecutorsDetached struct{}

// ExecutorLost declares an executor dead (missed heartbeats or gone).
type ExecutorLost struct{ ID string }

// StageSpec describes one stage of a submitted job. Tasks < 0 means the
// count is not known yet (scan stages).
type StageSpec struct {
	ID     int
	Inputs []int
	Tasks  int
}

// JobSubmitted adds a job. A job whose Key was already used is ignored
// (idempotent submission), unless Rerun is set and the job the key names
// has finished, or RerunFailed is set and it has finished without
// succeeding (failed, cancelled, timed out): the key then names the new
// job.
type JobSubmitted struct {
	ID          string
	Key         string
	Stages      []StageSpec
	MaxAttempts int
	Rerun       bool
	RerunFailed bool
}

// reruns reports whether ev starts a new job under the key of old.
func (ev JobSubmitted) reruns(old *Job) bool {
	switch {
	case !old.Status.Done():
		return false
	case ev.Rerun:
		return true
	default:
		return ev.RerunFailed && old.Status != StatusSucceeded
	}
}

// StageTasksSet fixes the task count of a stage whose count was unknown.
type StageTasksSet struct {
	Job   string
	Stage int
	Tasks int
}

// TaskStarted assigns attempt Attempt of a pending task to an executor.
type TaskStarted struct {
	Job         string
	Stage, Task int
	Attempt     int
	Executor    string
}

// TaskSucceeded reports a finished attempt.
type TaskSucceeded struct {
	Job         string
	Stage, Task int
	Attempt     int
}

// FetchFailure names a map output a task could not read. Executor and
// Attempt, when set (non-empty, positive), name the output that failed: a
// report about an output that has since been replaced by another attempt
// or moved to another executor leaves the newer output alone.
type FetchFailure struct {
	Stage, Task int
	Executor    string
	Attempt     int
}

// TaskFailed reports a failed attempt. With Fetch set the failure is not
// the task's fault: the named map outputs are lost and are recomputed, and
// the attempt does not count against the task's MaxAttempts.
type TaskFailed struct {
	Job         string
	Stage, Task int
	Attempt     int
	Err         string
	Fetch       []FetchFailure
}

// TaskOutputLost says the output of a task's successful attempt is gone
// though its executor may not be: a final task's result, held in the
// memory of a driver that is no longer the leader. The task runs again.
// It is stale unless the job runs and the task has succeeded.
type TaskOutputLost struct {
	Job         string
	Stage, Task int
}

// JobCancelled stops a job (user cancel).
type JobCancelled struct {
	Job    string
	Reason string
}

// JobAborted fails a job for a reason outside its tasks (deadline passed,
// no executor left).
type JobAborted struct {
	Job string
	Err string
}

// JobTimedOut ends a job whose deadline has passed (StatusTimedOut). The
// state keeps no clock: the driver applies it when it sees the deadline
// pass.
type JobTimedOut struct {
	Job string
	Err string
}

// JobForgotten removes a finished job, and its idempotency key, from the
// state (the driver keeps finished jobs for a bounded time only).
type JobForgotten struct{ Job string }

func (ExecutorRegistered) event() {}
func (ExecutorLost) event()       {}
func (ExecutorsDetached) event()  {}
func (JobSubmitted) event()       {}
func (StageTasksSet) event()      {}
func (TaskStarted) event()        {}
func (TaskSucceeded) event()      {}
func (TaskFailed) event()         {}
func (TaskOutputLost) event()     {}
func (JobCancelled) event()       {}
func (JobAborted) event()         {}
func (JobTimedOut) event()        {}
func (JobForgotten) event()       {}

// Result tells the caller what an applied event did.
type Result struct {
	// Stale is true when the event referred to an attempt that is no longer
	// current (a late report from a lost or superseded attempt); the state
	// did not change.
	Stale bool
	// Finished lists jobs that ended because of this event.
	Finished []string
}

// Apply changes the state by one event. It returns an error, and leaves the
// state unchanged, for events that make no sense (unknown job, a task
// started twice); late reports of superseded attempts are not errors but
// come back as Stale.
func (s *State) Apply(ev Event) (Result, error) {
	switch ev := ev.(type) {
	case ExecutorRegistered:
		if ev.Slots <= 0 {
			return Result{}, fmt.Errorf("executor %s: slots must be positive", ev.ID)
		}
		var res Result
		if e, ok := s.Executors[ev.ID]; ok && e.Alive {
			res = s.loseExecutor(ev.ID)
		}
		s.Executors[ev.ID] = &Executor{ID: ev.ID, Addr: ev.Addr, Slots: ev.Slots, Alive: true}
		if old, ok := s.Executors[ev.Replaces]; ok && ev.Replaces != ev.ID && old.Alive && old.Detached && old.Addr == ev.Addr {
			s.handOver(ev.Replaces, ev.ID)
		}
		return res, nil
	case ExecutorsDetached:
		for _, id := range s.ExecutorIDs() {
			if e := s.Executors[id]; e.Alive {
				e.Detached, e.Running = true, 0
			}
		}
		for _, j := range s.Jobs {
			if j.Status.Done() {
				continue
			}
			for _, st := range j.Stages {
				for _, t := range st.Tasks {
					if t.Status == Running {
						t.Status, t.Executor = Pending, ""
					}
				}
			}
		}
		return Result{}, nil
	case ExecutorLost:
		e, ok := s.Executors[ev.ID]
		if !ok {
			return Result{}, fmt.Errorf("unknown executor %s", ev.ID)
		}
		if !e.Alive {
			return Result{Stale: true}, nil
		}
		return s.loseExecutor(ev.ID), nil
	case JobSubmitted:
		return s.submit(ev)
	case StageTasksSet:
		j, ok := s.Jobs[ev.Job]
		if !ok || ev.Stage < 0 || ev.Stage >= len(j.Stages) {
			return Result{}, fmt.Errorf("job %s has no stage %d", ev.Job, ev.Stage)
		}
		st := j.Stages[ev.Stage]
		if st.Known {
			return Result{}, fmt.Errorf("job %s stage %d already has %d tasks", ev.Job, ev.Stage, len(st.Tasks))
		}
		if ev.Tasks <= 0 {
			return Result{}, fmt.Errorf("job %s stage %d: task count must be positive", ev.Job, ev.Stage)
		}
		st.Tasks, st.Known = newTasks(ev.Tasks), true
		return Result{}, nil
	case TaskStarted:
		return s.start(ev)
	case TaskSucceeded:
		return s.succeed(ev)
	case TaskFailed:
		return s.fail(ev)
	case TaskOutputLost:
		j, _, t, err := s.task(ev.Job, ev.Stage, ev.Task)
		if err != nil {
			return Result{}, err
		}
		if j.Status.Done() || t.Status != Succeeded {
			return Result{Stale: true}, nil
		}
		t.Status, t.Executor = Pending, ""
		return Result{}, nil
	case JobCancelled:
		return s.finish(ev.Job, StatusCancelled, "cancelled: "+ev.Reason)
	case JobAborted:
		return s.finish(ev.Job, StatusFailed, ev.Err)
	case JobTimedOut:
		return s.finish(ev.Job, StatusTimedOut, ev.Err)
	case JobForgotten:
		j, ok := s.Jobs[ev.Job]
		if !ok {
			return Result{}, fmt.Errorf("unknown job %s", ev.Job)
		}
		if !j.Status.Done() {
			return Result{}, fmt.Errorf("job %s is still running", ev.Job)
		}
		delete(s.Jobs, ev.Job)
		for k, id := range s.Keys {
			if id == ev.Job {
				delete(s.Keys, k)
			}
		}
		return Result{}, nil
	}
	return Result{}, fmt.Errorf("unknown event %T", ev)
}

func newTasks(n int) []*Task {
	ts := make([]*Task, n)
	for i := range ts {
		ts[i] = &Task{Index: i}
	}
	return ts
}

func (s *State) submit(ev JobSubmitted) (Result, error) {
	if ev.Key != "" {
		if id, ok := s.Keys[ev.Key]; ok {
			old, known := s.Jobs[id]
			if !known || !ev.reruns(old) {
				return Result{Stale: true}, nil
			}
		}
	}
	if _, ok := s.Jobs[ev.ID]; ok {
		return Result{}, fmt.Errorf("job %s already exists", ev.ID)
	}
	if len(ev.Stages) == 0 {
		return Result{}, fmt.Errorf("job %s has no stages", ev.ID)
	}
	j := &Job{ID: ev.ID, MaxAttempts: max(ev.MaxAttempts, 1)}
	for i, sp := range ev.Stages {
		if sp.ID != i {
			return Result{}, fmt.Errorf("job %s: stage %d listed at position %d", ev.ID, sp.ID, i)
		}
		for _, in := range sp.Inputs {
			if in < 0 || in >= i {
				return Result{}, fmt.Errorf("job %s: stage %d reads stage %d, which does not come before it", ev.ID, i, in)
			}
		}
		st := &Stage{ID: i, Inputs: append([]int(nil), sp.Inputs...)}
		if sp.Tasks > 0 {
			st.Tasks, st.Known = newTasks(sp.Tasks), true
		}
		j.Stages = append(j.Stages, st)
	}
	s.Jobs[ev.ID] = j
	if ev.Key != "" {
		s.Keys[ev.Key] = ev.ID
	}
	return Result{}, nil
}

func (s *State) start(ev TaskStarted) (Result, error) {
	j, st, t, err := s.task(ev.Job, ev.Stage, ev.Task)
	if err != nil {
		return Result{}, err
	}
	if j.Status.Done() {
		return Result{}, fmt.Errorf("job %s is %s", j.ID, j.Status)
	}
	if t.Status != Pending || ev.Attempt != t.Attempt+1 {
		return Result{}, fmt.Errorf("job %s stage %d task %d: cannot start attempt %d (task %s, attempt %d)", j.ID, ev.Stage, ev.Task, ev.Attempt, t.Status, t.Attempt)
	}
	if !s.inputsComplete(j, st) {
		return Result{}, fmt.Errorf("job %s stage %d: inputs are not complete", j.ID, ev.Stage)
	}
	e, ok := s.Executors[ev.Executor]
	if !ok || e.Free() <= 0 {
		return Result{}, fmt.Errorf("executor %s has no free slot", ev.Executor)
	}
	e.Running++
	t.Status, t.Attempt, t.Executor = Running, ev.Attempt, ev.Executor
	return Result{}, nil
}

func (s *State) inputsComplete(j *Job, st *Stage) bool {
	for _, in := range st.Inputs {
		if !j.Stages[in].Complete() {
			return false
		}
	}
	return true
}

// current finds the task an attempt report is about, or reports it stale.
func (s *State) current(job string, stage, task, attempt int) (*Job, *Task, bool, error) {
	j, _, t, err := s.task(job, stage, task)
	if err != nil {
		return nil, nil, false, err
	}
	if j.Status.Done() || t.Status != Running || t.Attempt != attempt {
		return j, t, false, nil
	}
	return j, t, true, nil
}

func (s *State) release(exec string) {
	if e, ok := s.Executors[exec]; ok && e.Running > 0 {
		e.Running--
	}
}

func (s *State) succeed(ev TaskSucceeded) (Result, error) {
	j, t, ok, err := s.current(ev.Job, ev.Stage, ev.Task, ev.Attempt)
	if err != nil || !ok {
		return Result{Stale: err == nil}, err
	}
	s.release(t.Executor)
	t.Status = Succeeded
	for _, st := range j.Stages {
		if !st.Complete() {
			return Result{}, nil
		}
	}
	j.Status = StatusSucceeded
	return Result{Finished: []string{j.ID}}, nil
}

func (s *State) fail(ev TaskFailed) (Result, error) {
	j, t, ok, err := s.current(ev.Job, ev.Stage, ev.Task, ev.Attempt)
	if err != nil || !ok {
		return Result{Stale: err == nil}, err
	}
	s.release(t.Executor)
	t.LastErr = ev.Err
	if len(ev.Fetch) > 0 {
		// Not this task's fault: rerun it once the lost map outputs have
		// been recomputed.
		t.Status, t.Executor = Pending, ""
		for _, f := range ev.Fetch {
			if f.Stage < 0 || f.Stage >= len(j.Stages) || f.Task < 0 || f.Task >= len(j.Stages[f.Stage].Tasks) {
				continue
			}
			m := j.Stages[f.Stage].Tasks[f.Task]
			if m.Status == Succeeded && (f.Executor == "" || m.Executor == f.Executor) && (f.Attempt <= 0 || m.Attempt == f.Attempt) {
				m.Status, m.Executor = Pending, ""
			}
		}
		return Result{}, nil
	}
	t.Failures++
	t.FailedOn = t.Executor
	if t.Failures >= j.MaxAttempts {
		t.Status = Failed
		return s.finish(j.ID, StatusFailed, fmt.Sprintf("stage %d task %d failed after %d attempts: %s", ev.Stage, ev.Task, t.Failures, ev.Err))
	}
	t.Status, t.Executor = Pending, ""
	return Result{}, nil
}

// finish ends a job and frees the slots of its running tasks.
func (s *State) finish(job string, status JobStatus, msg string) (Result, error) {
	j, ok := s.Jobs[job]
	if !ok {
		return Result{}, fmt.Errorf("unknown job %s", job)
	}
	if j.Status.Done() {
		return Result{Stale: true}, nil
	}
	j.Status, j.Error = status, msg
	for _, st := range j.Stages {
		for _, t := range st.Tasks {
			if t.Status == Running {
				s.release(t.Executor)
				t.Status = Pending
			}
		}
	}
	return Result{Finished: []string{j.ID}}, nil
}

// handOver moves what a detached executor holds to the ID it registered
// again under; the old ID is gone.
func (s *State) handOver(from, to string) {
	old := s.Executors[from]
	old.Alive, old.Detached, old.Running = false, false, 0
	for _, j := range s.Jobs {
		for _, st := range j.Stages {
			for _, t := range st.Tasks {
				if t.Executor == from {
					t.Executor = to
				}
				if t.FailedOn == from {
					t.FailedOn = to
				}
			}
		}
	}
}

// loseExecutor marks an executor dead: its running attempts go back to
// pending, and finished map outputs it held are recomputed if a stage that
// is not complete yet still needs them. Attempts running elsewhere that
// read one of those outputs go back to pending too, without counting a
// failure: they could only fail to fetch it, or, when the executor hangs
// rather than dies, wait for it forever. (One that had already read
// everything is redone needlessly; nothing tells the state which did.)
func (s *State) loseExecutor(id string) Result {
	e := s.Executors[id]
	e.Alive, e.Detached, e.Running = false, false, 0
	var res Result
	for _, jid := range s.JobIDs() {
		j := s.Jobs[jid]
		if j.Status.Done() {
			continue
		}
		needed := make([]bool, len(j.Stages))
		for _, st := range j.Stages {
			if !st.Complete() {
				for _, in := range st.Inputs {
					needed[in] = true
				}
			}
		}
		lostOutput := make([]bool, len(j.Stages))
		for _, st := range j.Stages {
			for _, t := range st.Tasks {
				if t.Executor != id {
					continue
				}
				switch {
				case t.Status == Running:
					t.Status, t.Executor = Pending, ""
				case t.Status == Succeeded && needed[st.ID]:
					t.Status, t.Executor = Pending, ""
					lostOutput[st.ID] = true
				}
			}
		}
		for _, st := range j.Stages {
			reads := false
			for _, in := range st.Inputs {
				reads = reads || lostOutput[in]
			}
			if !reads {
				continue
			}
			for _, t := range st.Tasks {
				if t.Status == Running {
					s.release(t.Executor)
					t.Status, t.Executor = Pending, ""
				}
			}
		}
	}
	return res
}
