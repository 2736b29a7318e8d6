package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	pb "github.com/flint-engine/flint/proto/flintpb"
)

// TestTrackerLocal: stages and tasks reported at once from many
// goroutines add up, and a second query adds its stages to the total.
func TestTrackerLocal(t *testing.T) {
	tr := NewTracker()
	var out bytes.Buffer
	d := Start(&out, tr, false)
	tr.QueryStarted(2)
	tr.StageStarted(0, 50)
	tr.StageStarted(1, 50)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { tr.TaskDone(i%2, 2, 10) })
	}
	wg.Wait()
	tr.StageDone(0)
	tr.StageDone(1)
	tr.StageDone(1) // once only
	want := Snapshot{Stages: 2, StagesDone: 2, Tasks: 100, TasksDone: 100, Rows: 200, Bytes: 1000}
	if got := tr.Snapshot(); got != want {
		t.Errorf("after the first query: %+v, want %+v", got, want)
	}
	tr.QueryStarted(1)
	tr.StageStarted(0, 1)
	want = Snapshot{Stages: 3, StagesDone: 2, Tasks: 1, Rows: 200, Bytes: 1000}
	if got := tr.Snapshot(); got != want {
		t.Errorf("second query started: %+v, want %+v", got, want)
	}
	d.Stop()
	d.Stop()
	if !strings.Contains(out.String(), "stages 2/3  tasks 0/1  200 rows  1000 B") {
		t.Errorf("the last frame is not drawn:\n%s", out.String())
	}
}

// TestTrackerJob: a cluster job's status lists its stages; stage and task
// events fill in the counts; a second job's stage IDs start again.
func TestTrackerJob(t *testing.T) {
	tr := NewTracker()
	status := func(job string, stages ...int32) *pb.JobEvent {
		st := &pb.JobStatus{JobId: job}
		for _, s := range stages {
			st.Stages = append(st.Stages, &pb.StageProgress{Stage: s, Tasks: 2})
		}
		return &pb.JobEvent{Event: &pb.JobEvent_Status{Status: st}}
	}
	task := func(stage int32, state pb.TaskState) *pb.JobEvent {
		return &pb.JobEvent{Event: &pb.JobEvent_Task{Task: &pb.TaskEvent{Id: &pb.TaskAttemptId{Stage: stage}, State: state,
			Metrics: &pb.TaskMetrics{RowsOut: 3, BytesOut: 7}}}}
	}
	done := func(stage int32) *pb.JobEvent {
		return &pb.JobEvent{Event: &pb.JobEvent_Stage{Stage: &pb.StageEvent{Stage: stage, Completed: true, Tasks: 2}}}
	}
	for _, ev := range []*pb.JobEvent{
		status("a"), status("a", 0, 1),
		task(0, pb.TaskState_TASK_STATE_SUCCEEDED), task(0, pb.TaskState_TASK_STATE_FAILED),
		task(0, pb.TaskState_TASK_STATE_SUCCEEDED), done(0),
		task(1, pb.TaskState_TASK_STATE_SUCCEEDED), task(1, pb.TaskState_TASK_STATE_SUCCEEDED), done(1),
		status("a", 0, 1),
	} {
		tr.JobEvent(ev)
	}
	want := Snapshot{Stages: 2, StagesDone: 2, Tasks: 4, TasksDone: 4, Rows: 12, Bytes: 28}
	if got := tr.Snapshot(); got != want {
		t.Errorf("job a: %+v, want %+v", got, want)
	}
	tr.JobEvent(status("b", 0))
	tr.JobEvent(task(0, pb.TaskState_TASK_STATE_SUCCEEDED))
	want = Snapshot{Stages: 3, StagesDone: 2, Tasks: 2, TasksDone: 1, Rows: 15, Bytes: 35}
	if got := tr.Snapshot(); got != want {
		t.Errorf("job b: %+v, want %+v", got, want)
	}
}
