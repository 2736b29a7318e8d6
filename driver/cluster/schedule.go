package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/coordinator"
	"github.com/flint-engine/flint/driver/replica"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/physical"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/wire"
)

// scheduleLocked carries out coordinator.Plan: scan stages that became
// runnable get their splits computed (in the background; the task count
// arrives as a StageTasksSet event), proposed attempts are applied and
// sent to their executors, and jobs without any live executor start
// their countdown to failure.
func (d *Driver) scheduleLocked() {
	if d.closed || !d.leading {
		return
	}
	p := coordinator.Plan(d.state)
	stuck := map[string]bool{}
	for _, id := range p.Stuck {
		stuck[id] = true
	}
	now := time.Now()
	for id, j := range d.jobs {
		switch {
		case !stuck[id]:
			j.stuckSince = time.Time{}
		case j.stuckSince.IsZero():
			j.stuckSince = now
			if d.rejoinBy.After(now) {
				j.stuckSince = d.rejoinBy // a new leader: executors are on their way
			}
			d.log.Warn("job waiting for executors", "job", id, "fails_after", d.cfg.NoExecutorTimeout)
		}
	}
	for _, ref := range p.NeedTasks {
		j := d.jobs[ref.Job]
		if j == nil || j.splitting[ref.Stage] {
			continue
		}
		j.splitting[ref.Stage] = true
		target := max(d.liveSlotsLocked(), 1) * d.cfg.SplitsPerSlot
		if j.splitTarget > 0 {
			target = j.splitTarget
		}
		d.wg.Add(1)
		go d.computeSplits(j, ref.Stage, target)
	}
	starts := p.Start[:0]
	for _, ts := range p.Start {
		if d.jobs[ts.Job] == nil || d.execs[ts.Executor] == nil {
			d.log.Error("internal error: plan proposed an attempt of an unknown job or executor", "job", ts.Job, "executor", ts.Executor)
			continue
		}
		starts = append(starts, ts)
	}
	if d.rep != nil && len(starts) > 1 {
		// One round trip through the group for the whole round.
		errs := d.commitStartsLocked(starts)
		for i, ts := range starts {
			if errs[i] != nil {
				if d.leading {
					d.log.Error("internal error: start attempt", "job", ts.Job, "stage", ts.Stage, "task", ts.Task, "err", errs[i])
				}
				continue
			}
			d.launchLocked(d.jobs[ts.Job], d.execs[ts.Executor], ts)
		}
		return
	}
	for _, ts := range starts {
		if !d.leading {
			return // an event could not be committed (replicated.go)
		}
		if _, err := d.applyLocked(ts); err != nil {
			d.log.Error("internal error: start attempt", "job", ts.Job, "stage", ts.Stage, "task", ts.Task, "err", err)
			continue
		}
		d.launchLocked(d.jobs[ts.Job], d.execs[ts.Executor], ts)
	}
}

// computeSplits lists the splits of a scan stage (as local mode does) and
// reports the stage's task count: one per split, or one task without
// splits when the scan has nothing to read (a global aggregate above it
// must still produce its row).
func (d *Driver) computeSplits(j *job, stage, target int) {
	defer d.wg.Done()
	st := j.stages.Stages[stage]
	splits, err := func() ([]connectors.Split, error) {
		src, err := executor.OpenSource(j.ctx, j.sources, st.Scan.Source)
		if err != nil {
			return nil, err
		}
		splits, err := src.Splits(j.ctx, st.Scan.Prune, target)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", st.Scan.Source.Name, err)
		}
		return splits, nil
	}()
	d.mu.Lock()
	defer d.mu.Unlock()
	if cj, ok := d.state.Jobs[j.id]; !ok || cj.Status.Done() {
		return
	}
	if err != nil {
		d.applyLocked(coordinator.JobAborted{Job: j.id, Err: fmt.Sprintf("stage %d: %v", stage, err)})
		d.scheduleLocked()
		return
	}
	var recs []replica.Record
	if d.rep != nil {
		data, err := json.Marshal(splits)
		if err != nil {
			d.log.Error("internal error: encode splits", "job", j.id, "stage", stage, "err", err)
			return
		}
		recs = append(recs, replica.Record{Job: j.id, Name: splitsRecord(stage), Data: data})
	}
	if _, err := d.applyLocked(coordinator.StageTasksSet{Job: j.id, Stage: stage, Tasks: max(len(splits), 1)}, recs...); err != nil {
		d.log.Error("internal error: set stage tasks", "job", j.id, "stage", stage, "err", err)
		return
	}
	j.splits[stage] = splits
	d.scheduleLocked()
}

// taskSpecLocked describes attempt ts for its executor: the stage, its
// split, the schemas of the exchanges it reads and where their map outputs
// are (every producer task has succeeded: the state only starts a stage
// whose inputs are complete).
func (d *Driver) taskSpecLocked(j *job, ts coordinator.TaskStarted) *wire.TaskSpec {
	st := j.stages.Stages[ts.Stage]
	spec := &wire.TaskSpec{Task: physical.Task{Stage: st, Index: ts.Task}, JobID: j.id, Attempt: ts.Attempt - 1}
	if splits := j.splits[ts.Stage]; ts.Task < len(splits) {
		spec.Task.Splits = splits[ts.Task : ts.Task+1]
	}
	if len(st.Inputs) > 0 {
		spec.ExchangeSchemas = map[int]*arrow.Schema{}
		spec.Inputs = map[int][]wire.InputLocation{}
	}
	cj := d.state.Jobs[j.id]
	for _, in := range st.Inputs {
		if s := j.schemas[in]; s != nil {
			spec.ExchangeSchemas[in] = s
		}
		locs := []wire.InputLocation{}
		for _, t := range cj.Stages[in].Tasks {
			addr := ""
			if e := d.state.Executors[t.Executor]; e != nil {
				addr = e.Addr
			}
			locs = append(locs, wire.InputLocation{ExecutorAddress: addr, MapTask: t.Index, Attempt: t.Attempt - 1})
		}
		spec.Inputs[in] = locs
	}
	return spec
}

// launchLocked sends a started attempt to its executor.
func (d *Driver) launchLocked(j *job, e *executorConn, ts coordinator.TaskStarted) {
	k := attemptKey{job: ts.Job, stage: ts.Stage, task: ts.Task, attempt: ts.Attempt}
	spec := d.taskSpecLocked(j, ts)
	ctx, cancel := context.WithCancel(j.ctx)
	d.attempts[k] = &attempt{executor: e.id, cancel: cancel}
	d.m.AttemptStarted()
	if !j.stageActive[ts.Stage] {
		j.stageEventLocked(ts.Stage, len(d.state.Jobs[j.id].Stages[ts.Stage].Tasks), false)
	}
	j.taskEventLocked(k, e.id, pb.TaskState_TASK_STATE_RUNNING, "", nil)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer cancel()
		d.runAttempt(ctx, j, e, k, spec)
	}()
}

// outcome is what one attempt came back with.
type outcome struct {
	resp    *pb.RunTaskResponse
	err     error // the attempt failed: gRPC error, or no answer
	results []arrow.RecordBatch
	// unreachable is set when the executor could not be reached: it is
	// declared lost at once instead of after the heartbeat timeout.
	unreachable bool
}

func (d *Driver) runAttempt(ctx context.Context, j *job, e *executorConn, k attemptKey, spec *wire.TaskSpec) {
	var o outcome
	defer func() { d.report(j, e, k, o) }()
	task, err := wire.EncodeTask(spec)
	if err != nil {
		o.err = err
		return
	}
	o.resp, err = e.exec.RunTask(ctx, &pb.RunTaskRequest{Task: task, Options: j.opts})
	if err != nil {
		o.err = fmt.Errorf("executor %s (%s): RunTask: %w", e.id, e.addr, err)
		o.unreachable = status.Code(err) == codes.Unavailable && ctx.Err() == nil
		return
	}
	if !o.resp.GetOk() || spec.Task.Stage.Output != nil || physical.WriteOf(spec.Task.Stage) != nil || j.keep {
		return
	}
	// A final-stage task: fetch its result now, so that a result lost
	// with its executor is only a failed attempt.
	o.results, err = fetchResult(ctx, e, shuffle.Ticket{MapOutputID: shuffle.MapOutputID{Job: j.id, Exchange: k.stage,
		MapTask: k.task, Attempt: spec.Attempt}})
	if err != nil {
		o.err = fmt.Errorf("fetching the result of stage %d task %d from executor %s (%s): %w", k.stage, k.task, e.id, e.addr, err)
		o.unreachable = status.Code(err) == codes.Unavailable && ctx.Err() == nil
	}
}

func fetchResult(ctx context.Context, e *executorConn, t shuffle.Ticket) ([]arrow.RecordBatch, error) {
	s, err := shuffle.Fetch(ctx, e.flight, t)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []arrow.RecordBatch
	for {
		b, err := s.Next()
		if err != nil {
			releaseBatches(out)
			return nil, err
		}
		if b == nil {
			return out, nil
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		out = append(out, b)
	}
}

// report turns an attempt's outcome into an event and applies it; the
// state machine drops reports of attempts that are no longer current.
func (d *Driver) report(j *job, e *executorConn, k attemptKey, o outcome) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.attempts[k]; a != nil && a.executor == e.id {
		delete(d.attempts, k)
	}
	ev, errText := d.attemptEventLocked(j, e, k, o)
	succeeded := o.err == nil && o.resp.GetOk()
	// Only the current attempt's report changes anything (the state
	// machine ignores the others as stale). Its effects are recorded
	// before the event is applied, since the event may end the job: the
	// result goes to be encoded and watchers get the final status last.
	if d.currentLocked(k) {
		if !succeeded {
			j.taskEventLocked(k, e.id, pb.TaskState_TASK_STATE_FAILED, errText, o.resp.GetMetrics())
		} else {
			if j.write != nil && physical.WriteOf(j.stages.Stages[k.stage]) != nil {
				j.written[k.task] = writtenFiles(o.resp)
			} else if j.stages.Stages[k.stage].Output == nil {
				releaseBatches(j.results[k.task])
				j.results[k.task], o.results = o.results, nil
			}
			if ps := o.resp.GetOutputSchema(); ps != nil && j.schemas[k.stage] == nil {
				if s, err := wire.DecodeArrowSchema(ps); err == nil {
					j.schemas[k.stage] = s
				} else {
					d.log.Error("executor sent an undecodable output schema", "executor", e.id, "job", k.job, "stage", k.stage, "err", err)
				}
			}
			j.taskEventLocked(k, e.id, pb.TaskState_TASK_STATE_SUCCEEDED, "", o.resp.GetMetrics())
		}
	}
	releaseBatches(o.results)
	if succeeded && !d.currentLocked(k) && len(o.resp.GetWritten()) > 0 {
		d.dropStaleWriteLocked(j, k, o.resp)
	}
	current := d.currentLocked(k)
	var recs []replica.Record
	if d.rep != nil && current && succeeded && o.resp.GetOutputSchema() != nil {
		if data, err := proto.Marshal(o.resp.GetOutputSchema()); err == nil {
			recs = append(recs, replica.Record{Job: j.id, Name: schemaRecord(k.stage), Data: data})
		}
	}
	if d.rep != nil && current && succeeded && j.write != nil && physical.WriteOf(j.stages.Stages[k.stage]) != nil {
		// The files go with the success: the last one is the commit
		// decision (replicated.go).
		if data, err := json.Marshal(j.written[k.task]); err == nil {
			recs = append(recs, replica.Record{Job: j.id, Name: writtenRecord(k.task), Data: data})
		}
	}
	if _, err := d.applyLocked(ev, recs...); err != nil && j.inState && d.leading {
		d.log.Error("internal error: attempt report", "job", k.job, "stage", k.stage, "task", k.task, "err", err)
	}
	// The last stage completing ends the job; its final status follows
	// (the result is encoded first), so the stage event still comes first.
	if cj := d.state.Jobs[k.job]; current && succeeded && cj != nil && j.stageActive[k.stage] {
		if st := cj.Stages[k.stage]; st.Complete() {
			j.stageEventLocked(k.stage, len(st.Tasks), true)
		}
	}
	if current && !succeeded {
		// The state ran the task again unless the failure ended the job.
		d.m.AttemptFailed(d.runningLocked(k.job))
	}
	if current && d.runningLocked(k.job) {
		if !succeeded {
			d.queueNotifyLocked(j, "task_retry", fmt.Sprintf("stage %d task %d attempt %d failed, retrying: %s", k.stage, k.task, k.attempt-1, errText))
		}
	}
	if o.unreachable && d.execs[e.id] == e {
		d.loseExecutorLocked(e.id, errText)
	}
	d.scheduleLocked()
}

// currentLocked reports whether attempt k is the one the state has running.
func (d *Driver) currentLocked(k attemptKey) bool {
	cj, ok := d.state.Jobs[k.job]
	if !ok || cj.Status.Done() || k.stage >= len(cj.Stages) || k.task >= len(cj.Stages[k.stage].Tasks) {
		return false
	}
	t := cj.Stages[k.stage].Tasks[k.task]
	return t.Status == coordinator.Running && t.Attempt == k.attempt
}

// attemptEventLocked maps an outcome to its coordinator event.
func (d *Driver) attemptEventLocked(j *job, e *executorConn, k attemptKey, o outcome) (coordinator.Event, string) {
	failed := func(msg string, fetch []coordinator.FetchFailure) (coordinator.Event, string) {
		return coordinator.TaskFailed{Job: k.job, Stage: k.stage, Task: k.task, Attempt: k.attempt, Err: msg, Fetch: fetch}, msg
	}
	switch {
	case o.err != nil:
		return failed(o.err.Error(), nil)
	case !o.resp.GetOk():
		msg := o.resp.GetError()
		if msg == "" {
			msg = fmt.Sprintf("executor %s reported a failure without an error", e.id)
		}
		if ffs := o.resp.GetFetchFailures(); len(ffs) > 0 {
			return failed(msg, d.fetchFailuresLocked(k.job, ffs))
		}
		return failed(msg, nil)
	}
	return coordinator.TaskSucceeded{Job: k.job, Stage: k.stage, Task: k.task, Attempt: k.attempt}, ""
}

// fetchFailuresLocked names the lost map outputs by the executor the state
// has them on (when its address matches the failed one) and their
// coordinator attempt, so that a late report about an output that has
// been recomputed since leaves the new one alone.
func (d *Driver) fetchFailuresLocked(jobID string, ffs []*pb.FetchFailure) []coordinator.FetchFailure {
	cj := d.state.Jobs[jobID]
	out := make([]coordinator.FetchFailure, 0, len(ffs))
	for _, f := range ffs {
		stage, task := int(f.GetExchange()), int(f.GetMapTask())
		ff := coordinator.FetchFailure{Stage: stage, Task: task, Attempt: int(f.GetAttempt()) + 1, Executor: "?" + f.GetAddress()}
		if cj != nil && stage >= 0 && stage < len(cj.Stages) && task >= 0 && task < len(cj.Stages[stage].Tasks) {
			holder := cj.Stages[stage].Tasks[task].Executor
			if e := d.state.Executors[holder]; e != nil && e.Addr == f.GetAddress() {
				ff.Executor = holder
			}
		}
		out = append(out, ff)
	}
	return out
}
