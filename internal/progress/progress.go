// Package progress follows a running query (its stages, their tasks, the
// rows and bytes they produced) and draws that on a terminal while the
// flint command waits. It owns the counting and the drawing; it knows
// nothing of how stages run: the local driver reports through Tracker's
// methods (driver.Progress), a cluster job through Tracker.JobEvent.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	pb "github.com/flint-engine/flint/proto/flintpb"
)

// Tracker counts the progress of the queries of one command, one query
// at a time; its methods are safe for concurrent use and cheap (one
// mutex, no allocation once a stage is known).
type Tracker struct {
	mu        sync.Mutex
	stages    map[int]*stage // of the current query
	total     int            // stages of all queries so far
	done      int            // stages finished, all queries
	rows      int64
	bytes     int64
	job       string // the cluster job followed
	jobStages int    // stages its status listed
}

type stage struct {
	tasks, done int
	finished    bool
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{stages: map[int]*stage{}} }

// Snapshot is what a Tracker has counted.
type Snapshot struct {
	Stages, StagesDone int   // of every query so far
	Tasks, TasksDone   int   // of the current query's stages started so far
	Rows, Bytes        int64 // produced by finished tasks
}

// String is the snapshot as the display shows it.
func (s Snapshot) String() string {
	return fmt.Sprintf("stages %d/%d  tasks %d/%d  %d rows  %s", s.StagesDone, s.Stages, s.TasksDone, s.Tasks, s.Rows, bytesText(s.Bytes))
}

// QueryStarted begins a query of stages stages.
func (t *Tracker) QueryStarted(stages int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.stages)
	t.total += stages
}

// StageStarted records that stage has tasks tasks (0: not known yet).
func (t *Tracker) StageStarted(id, tasks int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stage(id)
	if tasks > s.tasks {
		s.tasks = tasks
	}
}

// TaskDone records a finished task of stage and what it produced.
func (t *Tracker) TaskDone(id int, rows, bytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stage(id).done++
	t.rows += rows
	t.bytes += bytes
}

// StageDone records that every task of stage has finished.
func (t *Tracker) StageDone(id int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stage(id)
	if !s.finished {
		s.finished = true
		t.done++
	}
}

func (t *Tracker) stage(id int) *stage {
	s := t.stages[id]
	if s == nil {
		s = &stage{}
		t.stages[id] = s
	}
	return s
}

// JobEvent records an event of a cluster job's Watch stream. The job's
// stages are counted from its status (the plan's stages), stage and task
// events fill in the tasks; a task's rows and bytes are its output's.
func (t *Tracker) JobEvent(ev *pb.JobEvent) {
	switch {
	case ev.GetStatus() != nil:
		st := ev.GetStatus()
		t.mu.Lock()
		if st.GetJobId() != t.job {
			clear(t.stages) // a new job: its stage IDs start again
			t.job, t.jobStages = st.GetJobId(), 0
		}
		if n := len(st.GetStages()); n > t.jobStages {
			t.total += n - t.jobStages
			t.jobStages = n
		}
		t.mu.Unlock()
		for _, sp := range st.GetStages() {
			t.StageStarted(int(sp.GetStage()), int(sp.GetTasks()))
		}
	case ev.GetStage() != nil:
		se := ev.GetStage()
		t.StageStarted(int(se.GetStage()), int(se.GetTasks()))
		if se.GetCompleted() {
			t.StageDone(int(se.GetStage()))
		}
	case ev.GetTask() != nil:
		te := ev.GetTask()
		if te.GetState() == pb.TaskState_TASK_STATE_SUCCEEDED {
			m := te.GetMetrics()
			t.TaskDone(int(te.GetId().GetStage()), m.GetRowsOut(), m.GetBytesOut())
		}
	}
}

// Snapshot returns the counts so far.
func (t *Tracker) Snapshot() Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Snapshot{Stages: t.total, StagesDone: t.done, Rows: t.rows, Bytes: t.bytes}
	if s.Stages < len(t.stages) {
		s.Stages = len(t.stages)
	}
	for _, st := range t.stages {
		s.Tasks += max(st.tasks, st.done)
		s.TasksDone += st.done
	}
	return s
}

func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// RefreshRate is how often the display is redrawn.
const RefreshRate = 100 * time.Millisecond

// Display draws a Tracker on a writer (a terminal's stderr) until Stop.
type Display struct {
	p     *mpb.Progress
	bar   *mpb.Bar
	t     *Tracker
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	erase bool
}

// Start draws t on w, RefreshRate at most, as wide as the terminal
// (160 columns on other writers). With erase (w is a terminal)
// the display is erased at Stop; without, its frames stay in w and the
// last one has the final counts.
func Start(w io.Writer, t *Tracker, erase bool) *Display {
	start := time.Now()
	d := &Display{t: t, stop: make(chan struct{}), done: make(chan struct{}), erase: erase}
	d.p = mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh(), mpb.WithRefreshRate(RefreshRate), mpb.WithWidth(160))
	text := func(decor.Statistics) string {
		return fmt.Sprintf("%s  %s", t.Snapshot(), time.Since(start).Round(100*time.Millisecond))
	}
	opts := []mpb.BarOption{mpb.BarWidth(20), mpb.PrependDecorators(decor.Any(text, decor.WCSyncSpaceR))}
	if erase {
		opts = append(opts, mpb.BarRemoveOnComplete())
	}
	d.bar = d.p.New(0, mpb.BarStyle(), opts...)
	go d.follow()
	return d
}

// follow moves the bar with the finished stages.
func (d *Display) follow() {
	defer close(d.done)
	tick := time.NewTicker(RefreshRate)
	defer tick.Stop()
	for {
		s := d.t.Snapshot()
		d.bar.SetTotal(int64(max(s.Stages, 1)), false)
		d.bar.SetCurrent(int64(s.StagesDone))
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
	}
}

// Stop draws the final counts (kept unless the display erases) and
// returns once the display is done with its writer. Safe to call twice.
func (d *Display) Stop() {
	d.once.Do(func() {
		close(d.stop)
		<-d.done
		s := d.t.Snapshot()
		d.bar.SetCurrent(int64(s.StagesDone))
		d.bar.SetTotal(-1, true) // complete: the last frame, then removed if erase
		d.p.Wait()
	})
}
