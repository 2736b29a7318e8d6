package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/coordinator"
	"github.com/flint-engine/flint/driver/replica"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/wire"
)

// job is what the driver keeps about a job beside the coordinator state.
// Guarded by Driver.mu unless noted.
type job struct {
	id, name  string
	labels    map[string]string
	submitted time.Time
	finished  time.Time
	deadline  time.Time // zero: none
	opts      *pb.JobOptions
	// schema is the result's schema as planned (names from the client);
	// column types are taken from the result batches when there are any.
	schema *arrow.Schema
	stages *physical.StagePlan // nil for an EXPLAIN job
	// inState is true while the coordinator state holds the job.
	inState bool
	// ctx is cancelled when the job ends; attempts derive from it.
	ctx    context.Context
	cancel context.CancelFunc

	// sources opens the job's tables to split scan stages. Per job, so that
	// a table location's files are listed afresh for every job.
	sources   *connectors.SourceCache
	splits    map[int][]connectors.Split
	splitting map[int]bool
	schemas   map[int]*arrow.Schema // exchange (stage) ID -> Arrow schema written
	results   map[int][]arrow.RecordBatch
	// write is set for a dataset write; written holds the files of each
	// final task's committed attempt.
	write   *connectors.WriteJob
	written map[int][]connectors.WrittenFile
	// keep: the final tasks' outputs stay on the executors (a training
	// reads them there); set before the job is scheduled.
	keep bool
	// splitTarget is the split count scans are asked for (0: one per
	// live slot, SplitsPerSlot each).
	splitTarget int
	// notify are the URLs told of the job's end, retries and SLA; sla,
	// when positive, is how long it may run before one alert (slaAlerted).
	notify     []string
	sla        time.Duration
	slaAlerted bool
	// stageActive marks stages that have started and not completed since
	// (StageEvents).
	stageActive map[int]bool

	// stuckSince is when the job last started to have work but no live
	// executor (zero: it is not stuck).
	stuckSince time.Time

	// Visible state: RUNNING until the result is in memory.
	state  pb.JobState
	err    string
	result []byte // Arrow IPC stream of the result, once SUCCEEDED
	// resultKept: the final tasks' outputs stay on the executors once the
	// job has ended (the rest of its files go), until it is evicted, so
	// that a later leader can fetch the result again (a replicated
	// driver's result too large to replicate). resultPending: SUCCEEDED, but the result is being
	// fetched again from them (refetchResult); Results waits.
	resultKept, resultPending bool

	events     []*pb.JobEvent
	taskEvents int
	// changed is closed (and replaced) whenever events or state change.
	changed chan struct{}
	// gone is set when a replicated driver stops leading: the job is the
	// next leader's, and its watchers are sent there.
	gone bool
}

func (j *job) done() bool { return j.state != pb.JobState_JOB_STATE_RUNNING }

func (j *job) notifyLocked() {
	close(j.changed)
	j.changed = make(chan struct{})
}

func (j *job) taskEventLocked(k attemptKey, executor string, st pb.TaskState, errText string, m *pb.TaskMetrics) {
	if j.taskEvents >= maxTaskEvents {
		return
	}
	j.taskEvents++
	j.events = append(j.events, &pb.JobEvent{UnixMs: time.Now().UnixMilli(), Event: &pb.JobEvent_Task{Task: &pb.TaskEvent{
		Id:         &pb.TaskAttemptId{JobId: j.id, Stage: int32(k.stage), Task: int32(k.task), Attempt: int32(k.attempt - 1)},
		ExecutorId: executor, State: st, Error: errText, Metrics: m}}})
	j.notifyLocked()
}

// stageEventLocked records a stage starting or completing.
func (j *job) stageEventLocked(stage, tasks int, completed bool) {
	j.stageActive[stage] = !completed
	j.events = append(j.events, &pb.JobEvent{UnixMs: time.Now().UnixMilli(), Event: &pb.JobEvent_Stage{Stage: &pb.StageEvent{
		Stage: int32(stage), Completed: completed, Tasks: int32(tasks)}}})
	j.notifyLocked()
}

// Submit implements flintpb.DriverServer: it plans the job, hands it to the
// coordinator and returns at once; tasks start as executors have room.
func (d *Driver) Submit(ctx context.Context, req *pb.SubmitRequest) (*pb.SubmitResponse, error) {
	return d.submit(ctx, req, false, 0)
}

// submit is Submit; keep makes the final tasks keep their output on their
// executors (a training's rows) instead of sending it to the driver, and
// leaves the job's files there once it succeeded (closeTraining removes
// them). splitTarget, when positive, is the split count asked of every
// scan instead of one per live slot (a training's jobs split alike).
func (d *Driver) submit(ctx context.Context, req *pb.SubmitRequest, keep bool, splitTarget int) (*pb.SubmitResponse, error) {
	if req.GetPlan() == nil {
		return nil, status.Error(codes.InvalidArgument, "submit: missing plan")
	}
	if req.GetDeadlineMs() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "submit: negative deadline %dms", req.GetDeadlineMs())
	}
	if req.GetSlaMs() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "submit: negative SLA %dms", req.GetSlaMs())
	}
	notify, err := notifyURLs(req.GetNotify())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "submit: %v", err)
	}
	if len(notify) == 0 {
		notify = d.cfg.Notify
	}
	key := req.GetIdempotencyKey()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, status.Error(codes.Unavailable, "driver is shutting down")
	}
	if id, ok := d.state.Keys[key]; ok && key != "" && !d.rerunsLocked(req, id) {
		d.mu.Unlock()
		return &pb.SubmitResponse{JobId: id, Existing: true}, nil
	}
	slots := d.liveSlotsLocked()
	d.seq++
	id := fmt.Sprintf("%s-%06d", d.jobPrefix, d.seq)
	d.mu.Unlock()

	n, err := wire.DecodeLogical(req.GetPlan())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "submit: %v", err)
	}
	opts, err := jobOptions(req.GetOptions(), slots)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "submit: %v", err)
	}
	schema, err := resultSchema(n, req.GetOutputNames())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "submit: %v", err)
	}
	var ids plan.IDGen
	ids.Reserve(wire.MaxColumnID(n))
	wspec, err := submittedWrite(req)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "submit: %v", err)
	}
	// The job's tables are opened now, for the row estimates local mode
	// plans with; the same cache splits the scan stages later.
	sources := connectors.NewSourceCache(0)
	sctx, stop := context.WithTimeout(ctx, statsOpenTimeout)
	c, err := planner.Compile(n, &ids, planner.Options{Partitions: int(opts.Partitions), BroadcastRows: opts.BroadcastRows,
		Stats: scanStats(sctx, sources), Write: wspec})
	stop()
	if err != nil {
		// Verbatim: the client shows it as local mode would.
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	var wj *connectors.WriteJob
	if wspec != nil && !req.GetExplain() {
		if wj, err = d.beginWrite(wspec, id); err != nil {
			// Verbatim, as local mode says it (the target holds data, ...).
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		schema = writeResultSchema
	}
	now := time.Now()
	var labels map[string]string
	if len(req.GetLabels()) > 0 {
		labels = maps.Clone(req.GetLabels())
	}
	j := &job{id: id, name: req.GetName(), labels: labels, notify: notify, sla: time.Duration(req.GetSlaMs()) * time.Millisecond,
		stageActive: map[int]bool{}, submitted: now, opts: opts, schema: schema,
		sources: sources, splits: map[int][]connectors.Split{}, splitting: map[int]bool{},
		schemas: map[int]*arrow.Schema{}, results: map[int][]arrow.RecordBatch{},
		write: wj, written: map[int][]connectors.WrittenFile{}, keep: keep, splitTarget: splitTarget,
		state: pb.JobState_JOB_STATE_RUNNING, changed: make(chan struct{})}
	if ms := req.GetDeadlineMs(); ms > 0 {
		j.deadline = now.Add(time.Duration(ms) * time.Millisecond)
	}

	if req.GetExplain() {
		data, err := explainResult(c.Explain())
		if err != nil {
			return nil, status.Errorf(codes.Internal, "submit: explain: %v", err)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.closed {
			return nil, status.Error(codes.Unavailable, "driver is shutting down")
		}
		j.ctx, j.cancel = context.WithCancel(d.ctx)
		d.jobs[id] = j
		d.m.JobSubmitted()
		d.statusEventLocked(j)
		d.log.Info("job submitted", "job", id, "name", j.name, "explain", true)
		j.result = data
		d.finishLocked(j, pb.JobState_JOB_STATE_SUCCEEDED, "")
		return &pb.SubmitResponse{JobId: id}, nil
	}

	j.stages = c.Stages
	specs := make([]coordinator.StageSpec, len(c.Stages.Stages))
	for i, st := range c.Stages.Stages {
		specs[i] = coordinator.StageSpec{ID: st.ID, Inputs: st.Inputs, Tasks: st.Tasks}
		if st.Scan != nil {
			specs[i].Tasks = -1 // from the splits, once the stage can run
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, status.Error(codes.Unavailable, "driver is shutting down")
	}
	var recs []replica.Record
	if d.rep != nil {
		rec, err := submissionRecord(id, req, opts, wspec, c.Stages, j)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "submit: %v", err)
		}
		recs = append(recs, rec)
		if wj != nil {
			data, err := json.Marshal(wj.Begun())
			if err != nil {
				return nil, status.Errorf(codes.Internal, "submit: %v", err)
			}
			recs = append(recs, replica.Record{Job: id, Name: writeRecordName, Data: data})
		}
	}
	res, err := d.applyLocked(coordinator.JobSubmitted{ID: id, Key: key, Stages: specs, MaxAttempts: int(opts.MaxAttempts),
		Rerun: req.GetRerun(), RerunFailed: req.GetRerunFailed()}, recs...)
	if err != nil {
		if d.rep != nil && !d.leading {
			return nil, d.notLeaderLocked()
		}
		return nil, status.Errorf(codes.Internal, "submit: %v", err)
	}
	if res.Stale { // the same key won a race with this submit
		return &pb.SubmitResponse{JobId: d.state.Keys[key], Existing: true}, nil
	}
	j.inState = true
	j.ctx, j.cancel = context.WithCancel(d.ctx)
	d.jobs[id] = j
	d.m.JobSubmitted()
	d.statusEventLocked(j)
	d.log.Info("job submitted", "job", id, "name", j.name, "stages", len(specs), "partitions", opts.Partitions,
		"executors", len(d.execs), "slots", slots)
	d.scheduleLocked()
	return &pb.SubmitResponse{JobId: id}, nil
}

// rerunsLocked reports whether req, whose idempotency key names job id,
// starts a new job (the state machine decides again when it is applied).
func (d *Driver) rerunsLocked(req *pb.SubmitRequest, id string) bool {
	cj, ok := d.state.Jobs[id]
	switch {
	case !ok || !cj.Status.Done():
		return false
	case req.GetRerun():
		return true
	default:
		return req.GetRerunFailed() && cj.Status != coordinator.StatusSucceeded
	}
}

// jobOptions fills in the defaults of a job's options.
func jobOptions(in *pb.JobOptions, slots int) (*pb.JobOptions, error) {
	o := &pb.JobOptions{}
	if in != nil {
		o = proto.Clone(in).(*pb.JobOptions)
	}
	if o.Partitions < 0 || o.BatchSize < 0 || o.BroadcastRows < 0 || o.MaxAttempts < 0 {
		return nil, fmt.Errorf("negative job option in %v", o)
	}
	if o.Partitions == 0 {
		o.Partitions = int32(max(2*slots, 2))
	}
	if o.BroadcastRows == 0 {
		o.BroadcastRows = defaultBroadcastRows
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	return o, nil
}

// resultSchema is the schema of n's result with the client's column names.
func resultSchema(n plan.Node, names []string) (*arrow.Schema, error) {
	cols := n.Schema()
	if len(names) > 0 && len(names) != len(cols) {
		return nil, fmt.Errorf("%d output names for a plan with %d columns", len(names), len(cols))
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
		if len(names) > 0 {
			fields[i].Name = names[i]
		}
	}
	return arrow.NewSchema(fields, nil), nil
}

// explainResult is the result of an EXPLAIN job: one string column "plan"
// with a row per line, as local mode.
func explainResult(text string) ([]byte, error) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "plan", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewStringBuilder(memoryPool)
	defer b.Release()
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.Append(line)
	}
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))
	defer rec.Release()
	return encodeIPC(schema, []arrow.RecordBatch{rec})
}

// statusLocked is the job's current JobStatus.
func (d *Driver) statusLocked(j *job) *pb.JobStatus {
	st := &pb.JobStatus{JobId: j.id, Name: j.name, State: j.state, Error: j.err, SubmittedUnixMs: j.submitted.UnixMilli(),
		Labels: j.labels}
	if !j.finished.IsZero() {
		st.FinishedUnixMs = j.finished.UnixMilli()
	}
	if cj, ok := d.state.Jobs[j.id]; ok && j.inState {
		for _, s := range cj.Stages {
			p := &pb.StageProgress{Stage: int32(s.ID), Tasks: int32(len(s.Tasks))}
			for _, t := range s.Tasks {
				switch t.Status {
				case coordinator.Succeeded:
					p.Succeeded++
				case coordinator.Running:
					p.Running++
				}
			}
			st.Stages = append(st.Stages, p)
		}
	}
	return st
}

func (d *Driver) statusEventLocked(j *job) {
	j.events = append(j.events, &pb.JobEvent{UnixMs: time.Now().UnixMilli(), Event: &pb.JobEvent_Status{Status: d.statusLocked(j)}})
	j.notifyLocked()
}

// jobEndedLocked reacts to the coordinator ending a job: running attempts
// are cancelled; a successful job's result is encoded before the job is
// shown as succeeded, a failed or cancelled one ends at once.
func (d *Driver) jobEndedLocked(j *job) {
	j.cancel()
	cj := d.state.Jobs[j.id]
	if j.write != nil {
		d.endWriteLocked(j, cj)
		return
	}
	if cj.Status != coordinator.StatusSucceeded {
		releaseResults(j.results)
		j.results = nil
		d.finishLocked(j, endState(cj.Status), cj.Error)
		return
	}
	results := j.results
	j.results = nil
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		data, err := d.encodeResult(j, results)
		d.mu.Lock()
		defer d.mu.Unlock()
		if err != nil {
			d.finishLocked(j, pb.JobState_JOB_STATE_FAILED, fmt.Sprintf("encoding the result: %v", err))
			return
		}
		if d.rep != nil && len(data) > maxReplicatedResult {
			j.resultKept = true
		}
		d.replicateResultLocked(j, data)
		j.result = data
		d.finishLocked(j, pb.JobState_JOB_STATE_SUCCEEDED, "")
	}()
}

// endState is the visible state of a job the coordinator ended other than
// by success.
func endState(s coordinator.JobStatus) pb.JobState {
	switch s {
	case coordinator.StatusCancelled:
		return pb.JobState_JOB_STATE_CANCELLED
	case coordinator.StatusTimedOut:
		return pb.JobState_JOB_STATE_TIMED_OUT
	}
	return pb.JobState_JOB_STATE_FAILED
}

// encodeResult turns the final tasks' outputs, in task order, into one
// Arrow IPC stream with the job's result schema. It releases results.
func (d *Driver) encodeResult(j *job, results map[int][]arrow.RecordBatch) ([]byte, error) {
	defer releaseResults(results)
	tasks := make([]int, 0, len(results))
	for t := range results {
		tasks = append(tasks, t)
	}
	sort.Ints(tasks)
	var batches []arrow.RecordBatch
	for _, t := range tasks {
		batches = append(batches, results[t]...)
	}
	schema := j.schema
	if len(batches) > 0 {
		if got, want := int(batches[0].NumCols()), schema.NumFields(); got != want {
			return nil, fmt.Errorf("internal error: result has %d columns, plan has %d", got, want)
		}
		fields := schema.Fields()
		for i := range fields {
			fields[i].Type = batches[0].Column(i).DataType()
		}
		schema = arrow.NewSchema(fields, nil)
	}
	renamed := make([]arrow.RecordBatch, 0, len(batches))
	defer releaseBatches(renamed)
	for _, b := range batches {
		if int(b.NumCols()) != schema.NumFields() {
			return nil, fmt.Errorf("internal error: result batch has %d columns, plan has %d", b.NumCols(), schema.NumFields())
		}
		renamed = append(renamed, array.NewRecordBatch(schema, b.Columns(), b.NumRows()))
	}
	return encodeIPC(schema, renamed)
}

// finishLocked makes a job's end visible: final status event, EndJob on
// the executors, log.
func (d *Driver) finishLocked(j *job, state pb.JobState, errText string) {
	if j.done() {
		return
	}
	j.cancel()
	j.state, j.err, j.finished = state, errText, time.Now()
	d.m.JobFinished(stateName(state))
	d.statusEventLocked(j)
	switch {
	case !j.inState:
	case (j.keep || j.resultKept) && state == pb.JobState_JOB_STATE_SUCCEEDED:
		// The executors keep only the final stage's outputs: a training
		// reads them (closeTraining ends the job), or a later leader
		// fetches the result again (eviction ends the job).
		final := int32(j.stages.Final().ID)
		d.endJobKeepingLocked(j.id, &final)
	default:
		d.endJobOnExecutorsLocked(j.id)
	}
	attrs := []any{"job", j.id, "name", j.name, "state", stateName(state), "duration", j.finished.Sub(j.submitted).Round(time.Millisecond)}
	if errText != "" {
		attrs = append(attrs, "err", errText)
	}
	if state == pb.JobState_JOB_STATE_SUCCEEDED {
		attrs = append(attrs, "result_bytes", len(j.result))
		d.log.Info("job finished", attrs...)
	} else {
		d.log.Warn("job finished", attrs...)
	}
	d.notifyEndLocked(j)
	d.evictLocked(j.finished)
}

func stateName(s pb.JobState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "JOB_STATE_"))
}

// evictLocked drops finished jobs older than the result TTL, and the
// oldest beyond MaxFinishedJobs.
func (d *Driver) evictLocked(now time.Time) {
	var finished []*job
	for _, j := range d.jobs {
		if j.done() {
			finished = append(finished, j)
		}
	}
	sort.Slice(finished, func(a, b int) bool { return finished[a].finished.Before(finished[b].finished) })
	for i, j := range finished {
		if len(finished)-i <= d.cfg.MaxFinishedJobs && now.Sub(j.finished) <= d.cfg.ResultTTL {
			continue
		}
		delete(d.jobs, j.id)
		if j.resultKept && d.leading {
			d.endJobOnExecutorsLocked(j.id)
		}
		if j.inState {
			if _, err := d.commitLocked(coordinator.JobForgotten{Job: j.id}); err != nil && d.leading {
				d.log.Error("internal error: forget job", "job", j.id, "err", err)
			}
			j.inState = false
		}
	}
}

func releaseBatches(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

func releaseResults(m map[int][]arrow.RecordBatch) {
	for _, bs := range m {
		releaseBatches(bs)
	}
}
