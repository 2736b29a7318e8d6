package coordinator

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// log applies events to a state, failing the test on errors, and keeps
// them for replay.
type log struct {
	t      *testing.T
	s      *State
	events []Event
}

func newLog(t *testing.T) *log { return &log{t: t, s: NewState()} }

func (l *log) apply(ev Event) Result {
	l.t.Helper()
	res, err := l.s.Apply(ev)
	if err != nil {
		l.t.Fatalf("apply %#v: %v", ev, err)
	}
	l.events = append(l.events, ev)
	checkInvariants(l.t, l.s)
	return res
}

// schedule applies one round of Plan's proposals.
func (l *log) schedule(tasksPerUnknownStage int) []TaskStarted {
	p := Plan(l.s)
	for _, ref := range p.NeedTasks {
		l.apply(StageTasksSet{Job: ref.Job, Stage: ref.Stage, Tasks: tasksPerUnknownStage})
	}
	if len(p.NeedTasks) > 0 {
		p = Plan(l.s)
	}
	for _, st := range p.Start {
		l.apply(st)
	}
	return p.Start
}

func checkInvariants(t *testing.T, s *State) {
	t.Helper()
	running := map[string]int{}
	for _, j := range s.Jobs {
		for _, st := range j.Stages {
			for _, task := range st.Tasks {
				if task.Status == Running {
					if j.Status.Done() {
						t.Fatalf("job %s is %s but task %d/%d is running", j.ID, j.Status, st.ID, task.Index)
					}
					running[task.Executor]++
					if !s.Executors[task.Executor].Alive {
						t.Fatalf("task %d/%d runs on dead executor %s", st.ID, task.Index, task.Executor)
					}
				}
			}
		}
	}
	for id, e := range s.Executors {
		if e.Running != running[id] {
			t.Fatalf("executor %s counts %d running tasks, state has %d", id, e.Running, running[id])
		}
		if e.Running > e.Slots {
			t.Fatalf("executor %s runs %d tasks on %d slots", id, e.Running, e.Slots)
		}
	}
}

func twoStageJob(id string) JobSubmitted {
	return JobSubmitted{ID: id, MaxAttempts: 4, Stages: []StageSpec{
		{ID: 0, Tasks: -1},
		{ID: 1, Inputs: []int{0}, Tasks: 2},
		{ID: 2, Inputs: []int{1}, Tasks: 1},
	}}
}

func TestHappyPath(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Addr: "a1", Slots: 2})
	l.apply(ExecutorRegistered{ID: "e2", Addr: "a2", Slots: 2})
	l.apply(twoStageJob("j1"))
	var finished []string
	for round := 0; round < 10; round++ {
		started := l.schedule(4)
		for _, st := range started {
			res := l.apply(TaskSucceeded{Job: st.Job, Stage: st.Stage, Task: st.Task, Attempt: st.Attempt})
			finished = append(finished, res.Finished...)
		}
	}
	j, _ := l.s.Job("j1")
	if j.Status != StatusSucceeded || !reflect.DeepEqual(finished, []string{"j1"}) {
		t.Fatalf("job status %s, finished %v", j.Status, finished)
	}
	if n := len(j.Stages[0].Tasks); n != 4 {
		t.Fatalf("stage 0 has %d tasks, want 4", n)
	}
}

func TestStageWaitsForInputs(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 8})
	l.apply(twoStageJob("j1"))
	started := l.schedule(3)
	for _, st := range started {
		if st.Stage != 0 {
			t.Fatalf("stage %d started before its input finished", st.Stage)
		}
	}
	if _, err := l.s.Apply(TaskStarted{Job: "j1", Stage: 1, Task: 0, Attempt: 1, Executor: "e1"}); err == nil {
		t.Fatal("starting a task whose inputs are incomplete must fail")
	}
}

func TestRetryThenFail(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 1})
	l.apply(JobSubmitted{ID: "j", MaxAttempts: 3, Stages: []StageSpec{{ID: 0, Tasks: 1}}})
	for attempt := 1; attempt <= 3; attempt++ {
		started := l.schedule(1)
		if len(started) != 1 || started[0].Attempt != attempt {
			t.Fatalf("attempt %d: started %v", attempt, started)
		}
		res := l.apply(TaskFailed{Job: "j", Stage: 0, Task: 0, Attempt: attempt, Err: "boom"})
		if attempt < 3 && len(res.Finished) > 0 {
			t.Fatalf("job finished after %d failures", attempt)
		}
	}
	j, _ := l.s.Job("j")
	if j.Status != StatusFailed || !strings.Contains(j.Error, "after 3 attempts: boom") {
		t.Fatalf("status %s, error %q", j.Status, j.Error)
	}
	if p := Plan(l.s); len(p.Start) != 0 {
		t.Fatalf("a failed job must not be scheduled: %v", p.Start)
	}
}

func TestExecutorLostRecomputesMapOutput(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 1})
	l.apply(ExecutorRegistered{ID: "e2", Slots: 1})
	l.apply(JobSubmitted{ID: "j", MaxAttempts: 2, Stages: []StageSpec{{ID: 0, Tasks: 2}, {ID: 1, Inputs: []int{0}, Tasks: 2}}})
	maps := l.schedule(1)
	for _, st := range maps {
		l.apply(TaskSucceeded{Job: "j", Stage: 0, Task: st.Task, Attempt: st.Attempt})
	}
	reduces := l.schedule(1)
	if len(reduces) != 2 {
		t.Fatalf("want both reducers started, got %v", reduces)
	}
	// e1 dies: its reducer and its map output (still needed) are redone.
	l.apply(ExecutorLost{ID: "e1"})
	j, _ := l.s.Job("j")
	var lostMap int
	for _, m := range maps {
		if m.Executor == "e1" {
			lostMap = m.Task
		}
	}
	if got := j.Stages[0].Tasks[lostMap].Status; got != Pending {
		t.Fatalf("map task on the lost executor is %s, want pending", got)
	}
	// A late report from the dead executor's reducer is ignored.
	for _, r := range reduces {
		if r.Executor == "e1" {
			res := l.apply(TaskSucceeded{Job: "j", Stage: 1, Task: r.Task, Attempt: r.Attempt})
			if !res.Stale {
				t.Fatal("late success from a lost attempt must be stale")
			}
		}
	}
	// The reducer on e2 reads the lost output too: it went back to
	// pending (a hung e1 would make it wait forever), so its report is
	// stale as well. The map is recomputed on e2, then both reducers rerun
	// with a new attempt number.
	for _, r := range reduces {
		if r.Executor == "e2" {
			if got := j.Stages[1].Tasks[r.Task].Status; got != Pending {
				t.Fatalf("reducer on e2 reading the lost output is %s, want pending", got)
			}
			if res := l.apply(TaskSucceeded{Job: "j", Stage: 1, Task: r.Task, Attempt: r.Attempt}); !res.Stale {
				t.Fatal("the report of a reducer sent back to pending must be stale")
			}
		}
	}
	if n := l.s.Executors["e2"].Running; n != 0 {
		t.Fatalf("e2 counts %d running tasks, want 0", n)
	}
	for round := 0; round < 5 && !j.Status.Done(); round++ {
		for _, st := range l.schedule(1) {
			if st.Executor != "e2" {
				t.Fatalf("scheduled on %s, only e2 is alive", st.Executor)
			}
			if st.Stage == 1 && st.Attempt != 2 {
				t.Fatalf("rerun reducer has attempt %d, want 2", st.Attempt)
			}
			l.apply(TaskSucceeded{Job: "j", Stage: st.Stage, Task: st.Task, Attempt: st.Attempt})
		}
	}
	if j.Status != StatusSucceeded {
		t.Fatalf("job %s: %s", j.Status, j.Error)
	}
	if j.Stages[1].Tasks[0].Failures+j.Stages[1].Tasks[1].Failures != 0 {
		t.Fatal("losing an executor must not count as a task failure")
	}
}

// TestExecutorLostKeepsUnrelatedReaders: only attempts that read an output
// of the lost executor go back to pending.
func TestExecutorLostKeepsUnrelatedReaders(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 1})
	l.apply(ExecutorRegistered{ID: "e2", Slots: 1})
	l.apply(JobSubmitted{ID: "j", MaxAttempts: 2, Stages: []StageSpec{
		{ID: 0, Tasks: 1}, {ID: 1, Tasks: 1},
		{ID: 2, Inputs: []int{0}, Tasks: 1}, {ID: 3, Inputs: []int{1}, Tasks: 1},
		{ID: 4, Inputs: []int{2, 3}, Tasks: 1}}})
	for _, st := range l.schedule(1) {
		l.apply(TaskSucceeded{Job: "j", Stage: st.Stage, Task: st.Task, Attempt: st.Attempt})
	}
	j, _ := l.s.Job("j")
	holder := j.Stages[0].Tasks[0].Executor
	other := j.Stages[1].Tasks[0].Executor
	if holder == other {
		t.Fatalf("both scans ran on %s", holder)
	}
	started := l.schedule(1)
	if len(started) != 2 {
		t.Fatalf("want stages 2 and 3 started, got %v", started)
	}
	l.apply(ExecutorLost{ID: holder})
	if got := j.Stages[0].Tasks[0].Status; got != Pending {
		t.Fatalf("lost map output is %s, want pending", got)
	}
	if got := j.Stages[2].Tasks[0].Status; got != Pending {
		t.Fatalf("reader of the lost output is %s, want pending", got)
	}
	if got, ex := j.Stages[3].Tasks[0].Status, j.Stages[3].Tasks[0].Executor; got != Running || ex != other {
		t.Fatalf("unrelated reader is %s on %q, want running on %s", got, ex, other)
	}
}

func TestFetchFailureRerunsOnlyThatMapTask(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 4})
	l.apply(JobSubmitted{ID: "j", MaxAttempts: 1, Stages: []StageSpec{{ID: 0, Tasks: 3}, {ID: 1, Inputs: []int{0}, Tasks: 1}}})
	for _, st := range l.schedule(1) {
		l.apply(TaskSucceeded{Job: "j", Stage: 0, Task: st.Task, Attempt: st.Attempt})
	}
	r := l.schedule(1)[0]
	l.apply(TaskFailed{Job: "j", Stage: 1, Task: 0, Attempt: r.Attempt, Err: "fetch", Fetch: []FetchFailure{{Stage: 0, Task: 1, Executor: "e1"}}})
	j, _ := l.s.Job("j")
	if j.Status.Done() {
		t.Fatalf("a fetch failure must not fail the job (MaxAttempts 1): %s", j.Error)
	}
	next := l.schedule(1)
	if len(next) != 1 || next[0].Stage != 0 || next[0].Task != 1 || next[0].Attempt != 2 {
		t.Fatalf("want only map task 1 rerun, got %v", next)
	}
}

func TestFetchFailureOfSeveralOutputs(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 4})
	l.apply(JobSubmitted{ID: "j", MaxAttempts: 1, Stages: []StageSpec{{ID: 0, Tasks: 3}, {ID: 1, Inputs: []int{0}, Tasks: 1}}})
	for _, st := range l.schedule(1) {
		l.apply(TaskSucceeded{Job: "j", Stage: 0, Task: st.Task, Attempt: st.Attempt})
	}
	r := l.schedule(1)[0]
	l.apply(TaskFailed{Job: "j", Stage: 1, Task: 0, Attempt: r.Attempt, Err: "fetch", Fetch: []FetchFailure{
		{Stage: 0, Task: 0, Executor: "e1", Attempt: 1},
		{Stage: 0, Task: 2, Executor: "e1", Attempt: 1},
		{Stage: 0, Task: 1, Executor: "e1", Attempt: 7}, // names an attempt that is not the current output
	}})
	var rerun []int
	for _, st := range l.schedule(1) {
		if st.Stage != 0 {
			t.Fatalf("reducer started before its lost inputs were recomputed: %v", st)
		}
		rerun = append(rerun, st.Task)
	}
	if !reflect.DeepEqual(rerun, []int{0, 2}) {
		t.Fatalf("rerun map tasks %v, want [0 2]", rerun)
	}
}

func TestRetryAvoidsFailedExecutor(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 2})
	l.apply(ExecutorRegistered{ID: "e2", Slots: 1})
	l.apply(JobSubmitted{ID: "j", MaxAttempts: 4, Stages: []StageSpec{{ID: 0, Tasks: 2}}})
	first := l.schedule(1)
	if len(first) != 2 || first[0].Executor != "e1" || first[1].Executor != "e1" {
		t.Fatalf("first attempts %v, want both on e1 (most free slots)", first)
	}
	l.apply(TaskFailed{Job: "j", Stage: 0, Task: 0, Attempt: 1, Err: "disk full"})
	if got := l.schedule(1); len(got) != 1 || got[0].Task != 0 || got[0].Executor != "e2" {
		t.Fatalf("retry %v, want task 0 on e2 (not the executor that failed)", got)
	}
	// e2 is busy now: task 1's retry waits for it although e1 has room.
	l.apply(TaskFailed{Job: "j", Stage: 0, Task: 1, Attempt: 1, Err: "disk full"})
	if got := l.schedule(1); len(got) != 0 {
		t.Fatalf("retry %v went back to the executor that failed while another is alive", got)
	}
	l.apply(TaskSucceeded{Job: "j", Stage: 0, Task: 0, Attempt: 2})
	second := l.schedule(1)
	if len(second) != 1 || second[0].Task != 1 || second[0].Executor != "e2" || second[0].Attempt != 2 {
		t.Fatalf("retry %v, want attempt 2 of task 1 on e2", second)
	}
	// Task 1 fails on e2 too, and e2 goes away: the only executor left is
	// used rather than waiting forever.
	l.apply(TaskFailed{Job: "j", Stage: 0, Task: 1, Attempt: 2, Err: "flaky"})
	l.apply(ExecutorLost{ID: "e2"})
	third := l.schedule(1)
	if len(third) != 1 || third[0].Executor != "e1" || third[0].Attempt != 3 {
		t.Fatalf("retry after losing e2: %v, want attempt 3 on e1", third)
	}
	if j, _ := l.s.Job("j"); j.Stages[0].Tasks[1].Failures != 2 {
		t.Fatalf("failures = %d, want 2", j.Stages[0].Tasks[1].Failures)
	}
}

func TestJobForgotten(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 1})
	l.apply(JobSubmitted{ID: "j1", Key: "k", MaxAttempts: 1, Stages: []StageSpec{{ID: 0, Tasks: 1}}})
	if _, err := l.s.Apply(JobForgotten{Job: "j1"}); err == nil {
		t.Fatal("forgetting a running job must fail")
	}
	l.apply(JobCancelled{Job: "j1", Reason: "user"})
	l.apply(JobForgotten{Job: "j1"})
	if _, ok := l.s.Job("j1"); ok || len(l.s.Keys) != 0 {
		t.Fatalf("job or key still present: keys %v", l.s.Keys)
	}
	// The key can be used again.
	if res := l.apply(JobSubmitted{ID: "j2", Key: "k", MaxAttempts: 1, Stages: []StageSpec{{ID: 0, Tasks: 1}}}); res.Stale {
		t.Fatal("a forgotten job's key must be free again")
	}
	if _, err := l.s.Apply(JobForgotten{Job: "nope"}); err == nil {
		t.Fatal("forgetting an unknown job must fail")
	}
}

func TestIdempotentSubmitAndCancel(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 2})
	sub := JobSubmitted{ID: "j1", Key: "nightly-2026-11-26", MaxAttempts: 1, Stages: []StageSpec{{ID: 0, Tasks: 4}}}
	l.apply(sub)
	sub.ID = "j2"
	if res := l.apply(sub); !res.Stale {
		t.Fatal("a second submit with the same key must be ignored")
	}
	if _, ok := l.s.Job("j2"); ok {
		t.Fatal("duplicate job was created")
	}
	l.schedule(1)
	if e := l.s.Executors["e1"]; e.Running != 2 {
		t.Fatalf("running %d, want 2", e.Running)
	}
	res := l.apply(JobCancelled{Job: "j1", Reason: "user"})
	if len(res.Finished) != 1 || l.s.Executors["e1"].Running != 0 {
		t.Fatalf("cancel must finish the job and free its slots: %+v running=%d", res, l.s.Executors["e1"].Running)
	}
}

func TestStuckWithoutExecutors(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 1})
	l.apply(JobSubmitted{ID: "j", Stages: []StageSpec{{ID: 0, Tasks: 1}}})
	l.schedule(1)
	l.apply(ExecutorLost{ID: "e1"})
	if p := Plan(l.s); !reflect.DeepEqual(p.Stuck, []string{"j"}) {
		t.Fatalf("stuck = %v", p.Stuck)
	}
	l.apply(JobAborted{Job: "j", Err: "no executors left"})
	if j, _ := l.s.Job("j"); j.Status != StatusFailed {
		t.Fatal("abort must fail the job")
	}
}

// TestSimulation drives random jobs through random successes, failures,
// fetch failures, executor losses and re-registrations, checking the
// invariants after every event, that every job ends, and that replaying
// the event log reproduces the state exactly (determinism).
func TestSimulation(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			l := newLog(t)
			for i := 0; i < 3; i++ {
				l.apply(ExecutorRegistered{ID: fmt.Sprintf("e%d", i), Slots: 1 + rng.Intn(3)})
			}
			for i := 0; i < 3; i++ {
				l.apply(twoStageJob(fmt.Sprintf("j%d", i)))
			}
			var running []TaskStarted
			for step := 0; step < 2000; step++ {
				running = append(running, l.schedule(1+rng.Intn(4))...)
				if len(running) == 0 {
					break
				}
				i := rng.Intn(len(running))
				st := running[i]
				running = append(running[:i], running[i+1:]...)
				switch r := rng.Intn(20); {
				case r < 14:
					l.apply(TaskSucceeded{Job: st.Job, Stage: st.Stage, Task: st.Task, Attempt: st.Attempt})
				case r < 16:
					l.apply(TaskFailed{Job: st.Job, Stage: st.Stage, Task: st.Task, Attempt: st.Attempt, Err: "flaky"})
				case r < 17 && st.Stage > 0:
					l.apply(TaskFailed{Job: st.Job, Stage: st.Stage, Task: st.Task, Attempt: st.Attempt, Err: "fetch",
						Fetch: []FetchFailure{{Stage: st.Stage - 1, Task: 0}}})
				case r < 18:
					l.apply(ExecutorLost{ID: st.Executor})
					l.apply(ExecutorRegistered{ID: st.Executor, Slots: 2})
				default:
					// the report is lost; the attempt is retried after the
					// executor is declared lost
					l.apply(ExecutorLost{ID: st.Executor})
					l.apply(ExecutorRegistered{ID: st.Executor, Slots: 1})
				}
			}
			for _, id := range l.s.JobIDs() {
				if j := l.s.Jobs[id]; !j.Status.Done() {
					t.Fatalf("job %s never finished", id)
				}
			}
			replay := NewState()
			for _, ev := range l.events {
				if _, err := replay.Apply(ev); err != nil {
					t.Fatalf("replay: %v", err)
				}
			}
			if !reflect.DeepEqual(replay, l.s) {
				t.Fatal("replaying the event log gave a different state")
			}
		})
	}
}

func TestJobTimedOut(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 2})
	l.apply(JobSubmitted{ID: "j", MaxAttempts: 1, Stages: []StageSpec{{ID: 0, Tasks: 2}}})
	l.schedule(1)
	res := l.apply(JobTimedOut{Job: "j", Err: "deadline exceeded after 1s"})
	j, _ := l.s.Job("j")
	if j.Status != StatusTimedOut || !j.Status.Done() || j.Error != "deadline exceeded after 1s" {
		t.Fatalf("job %s (%q), want timed out", j.Status, j.Error)
	}
	if len(res.Finished) != 1 || l.s.Executors["e1"].Running != 0 {
		t.Fatalf("timing out must finish the job and free its slots: %+v running=%d", res, l.s.Executors["e1"].Running)
	}
	if res := l.apply(JobTimedOut{Job: "j"}); !res.Stale {
		t.Fatal("timing out a finished job must be stale")
	}
}

// TestIdempotentRerun: a key names its job after the job finished too; a
// submit with Rerun starts a new job under the key only once the old one
// has finished.
func TestIdempotentRerun(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 1})
	sub := JobSubmitted{ID: "j1", Key: "k", MaxAttempts: 1, Stages: []StageSpec{{ID: 0, Tasks: 1}}}
	l.apply(sub)
	rerun := sub
	rerun.ID, rerun.Rerun = "j2", true
	if res := l.apply(rerun); !res.Stale {
		t.Fatal("rerun of a running job must be ignored")
	}
	st := l.schedule(1)
	l.apply(TaskSucceeded{Job: "j1", Stage: 0, Task: 0, Attempt: st[0].Attempt})
	again := sub
	again.ID = "j3"
	if res := l.apply(again); !res.Stale {
		t.Fatal("a finished job's key must still be taken without Rerun")
	}
	if res := l.apply(rerun); res.Stale || l.s.Keys["k"] != "j2" {
		t.Fatalf("rerun of a finished job must start j2 under the key: stale=%v keys=%v", res.Stale, l.s.Keys)
	}
	// Forgetting the old job leaves the key with the new one.
	l.apply(JobForgotten{Job: "j1"})
	if l.s.Keys["k"] != "j2" {
		t.Fatalf("keys %v after forgetting j1", l.s.Keys)
	}
}

// TestIdempotentRerunFailed: RerunFailed, an orchestrator's retry, waits
// for a running job, keeps a succeeded one and reruns one that ended any
// other way.
func TestIdempotentRerunFailed(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Slots: 1})
	sub := JobSubmitted{ID: "j1", Key: "k", MaxAttempts: 1, RerunFailed: true, Stages: []StageSpec{{ID: 0, Tasks: 1}}}
	l.apply(sub)
	retry := func(id string) Result {
		r := sub
		r.ID = id
		return l.apply(r)
	}
	if res := retry("j2"); !res.Stale {
		t.Fatal("a retry must not rerun a running job")
	}
	l.apply(JobCancelled{Job: "j1"})
	if res := retry("j3"); res.Stale || l.s.Keys["k"] != "j3" {
		t.Fatalf("a retry must rerun a cancelled job: stale=%v keys=%v", res.Stale, l.s.Keys)
	}
	st := l.schedule(1)
	l.apply(TaskFailed{Job: "j3", Stage: 0, Task: 0, Attempt: st[0].Attempt, Err: "boom"})
	if j, _ := l.s.Job("j3"); j.Status != StatusFailed {
		t.Fatalf("j3 is %v, want failed", j.Status)
	}
	if res := retry("j4"); res.Stale || l.s.Keys["k"] != "j4" {
		t.Fatalf("a retry must rerun a failed job: stale=%v keys=%v", res.Stale, l.s.Keys)
	}
	st = l.schedule(1)
	l.apply(TaskSucceeded{Job: "j4", Stage: 0, Task: 0, Attempt: st[0].Attempt})
	if res := retry("j5"); !res.Stale || l.s.Keys["k"] != "j4" {
		t.Fatalf("a retry must keep a succeeded job: stale=%v keys=%v", res.Stale, l.s.Keys)
	}
}

// TestTaskOutputLost: a final task whose result is gone runs again with a
// new attempt; on a finished job, or a task not succeeded, it is stale.
func TestTaskOutputLost(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Addr: "a1", Slots: 1})
	l.apply(JobSubmitted{ID: "j1", MaxAttempts: 2, Stages: []StageSpec{{ID: 0, Tasks: 2}}})
	started := l.schedule(1)
	if len(started) != 1 || started[0].Task != 0 {
		t.Fatalf("started %v", started)
	}
	if res := l.apply(TaskOutputLost{Job: "j1", Stage: 0, Task: 0}); !res.Stale {
		t.Fatal("losing the output of a running task must be stale")
	}
	l.apply(TaskSucceeded{Job: "j1", Stage: 0, Task: 0, Attempt: 1})
	if res := l.apply(TaskOutputLost{Job: "j1", Stage: 0, Task: 0}); res.Stale {
		t.Fatal("losing a succeeded task's output must put it back")
	}
	j, _ := l.s.Job("j1")
	if task := j.Stages[0].Tasks[0]; task.Status != Pending || task.Attempt != 1 || task.Failures != 0 {
		t.Fatalf("task after losing its output: %+v", task)
	}
	for round := 0; round < 4 && !j.Status.Done(); round++ {
		for _, st := range l.schedule(1) {
			if st.Task == 0 && st.Attempt != 2 {
				t.Fatalf("rerun of task 0 is attempt %d, want 2", st.Attempt)
			}
			l.apply(TaskSucceeded{Job: st.Job, Stage: st.Stage, Task: st.Task, Attempt: st.Attempt})
		}
	}
	if j.Status != StatusSucceeded {
		t.Fatalf("job %s", j.Status)
	}
	if res := l.apply(TaskOutputLost{Job: "j1", Stage: 0, Task: 1}); !res.Stale {
		t.Fatal("losing an output of a finished job must be stale")
	}
	if _, err := l.s.Apply(TaskOutputLost{Job: "j1", Stage: 3, Task: 0}); err == nil {
		t.Fatal("an unknown stage must be an error")
	}
}

// TestExecutorsDetached: a new leader detaches the executors: their
// running attempts go back to pending, nothing starts on them, their map
// outputs stay. One that registers again replacing its old ID gets its
// outputs back under the new ID; one that does not is lost in the end,
// and its outputs are recomputed; a replacement at another address hands
// nothing over.
func TestExecutorsDetached(t *testing.T) {
	l := newLog(t)
	l.apply(ExecutorRegistered{ID: "e1", Addr: "a1", Slots: 1})
	l.apply(ExecutorRegistered{ID: "e2", Addr: "a2", Slots: 1})
	l.apply(JobSubmitted{ID: "j1", MaxAttempts: 2, Stages: []StageSpec{{ID: 0, Tasks: 2}, {ID: 1, Inputs: []int{0}, Tasks: 2}}})
	for _, st := range l.schedule(1) {
		l.apply(TaskSucceeded{Job: st.Job, Stage: st.Stage, Task: st.Task, Attempt: st.Attempt})
	}
	if started := l.schedule(1); len(started) != 2 || started[0].Stage != 1 {
		t.Fatalf("started %v", started)
	}
	j, _ := l.s.Job("j1")
	held := map[int]string{0: j.Stages[0].Tasks[0].Executor, 1: j.Stages[0].Tasks[1].Executor}
	l.apply(ExecutorsDetached{})
	for _, task := range j.Stages[1].Tasks {
		if task.Status != Pending || task.Failures != 0 {
			t.Fatalf("a running attempt after detaching: %+v", task)
		}
	}
	if p := Plan(l.s); len(p.Start) != 0 || len(p.Stuck) != 1 {
		t.Fatalf("plan with detached executors only: %+v", p)
	}
	// e1 comes back as e1b; e2's replacement is at another address.
	l.apply(ExecutorRegistered{ID: "e1b", Addr: "a1", Slots: 1, Replaces: "e1"})
	l.apply(ExecutorRegistered{ID: "e2b", Addr: "elsewhere", Slots: 1, Replaces: "e2"})
	for task, was := range held {
		got := j.Stages[0].Tasks[task].Executor
		switch was {
		case "e1":
			if got != "e1b" || j.Stages[0].Tasks[task].Status != Succeeded {
				t.Errorf("e1's output of task %d: %+v", task, j.Stages[0].Tasks[task])
			}
		case "e2":
			if got != "e2" {
				t.Errorf("e2's output of task %d moved to %s", task, got)
			}
		}
	}
	if e := l.s.Executors["e1"]; e.Alive {
		t.Error("the replaced ID is still alive")
	}
	if e := l.s.Executors["e2"]; !e.Alive || !e.Detached {
		t.Errorf("e2 before it is declared lost: %+v", e)
	}
	l.apply(ExecutorLost{ID: "e2"})
	for task, was := range held {
		if st := j.Stages[0].Tasks[task].Status; was == "e2" && st != Pending {
			t.Errorf("e2's lost output of task %d is %s, want pending", task, st)
		}
	}
	for round := 0; round < 6 && !j.Status.Done(); round++ {
		for _, st := range l.schedule(1) {
			if st.Executor != "e1b" && st.Executor != "e2b" {
				t.Fatalf("started on %s", st.Executor)
			}
			l.apply(TaskSucceeded{Job: st.Job, Stage: st.Stage, Task: st.Task, Attempt: st.Attempt})
		}
	}
	if j.Status != StatusSucceeded {
		t.Fatalf("job %s", j.Status)
	}
}
