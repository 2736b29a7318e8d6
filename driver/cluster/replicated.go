package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/coordinator"
	"github.com/flint-engine/flint/driver/replica"
	"github.com/flint-engine/flint/internal/driverclient"
	"github.com/flint-engine/flint/physical"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/wire"
)

// A replicated driver (Config.Replica) is one member of a raft group
// (driver/replica). Every event it applies goes through the group first:
// commitLocked proposes it with the records the next leader needs to
// rebuild the job (its submission and compiled stages, its scan splits,
// its exchanges' schemas), and applies it to the driver's own state only
// once it is committed. The leader's state is thus always a copy of the
// group's, and an attempt is sent to an executor only after its
// TaskStarted is committed: attempt numbers never repeat across leaders,
// so they fence a former leader's attempts (a late report is stale, a
// shuffle file of another attempt is never read).
//
// Only the leader serves: the other members refuse every Driver call
// but Member and Info with driverclient.NotLeader, naming the leader's
// client address, which clients and executors (given the whole list)
// follow. A member that becomes leader waits for the log to be applied
// (Barrier), rebuilds its jobs from the replicated records, and resumes
// the running ones:
//   - the executors are detached (coordinator.ExecutorsDetached): their
//     running attempts, the former leader's calls, go back to pending,
//     and nothing starts on them until they register again here. An
//     executor registers under a new ID naming its previous one
//     (RegisterExecutorRequest.previous_id) and gets its map outputs
//     back; one that has not come back after a heartbeat timeout plus
//     rejoinGrace is declared lost, and its outputs still needed are
//     recomputed;
//   - a final task that had succeeded is run again (TaskOutputLost): its
//     result was in the former leader's memory;
//   - a write's final tasks keep their success: their files were
//     replicated with it (written/<task>);
//   - a training's jobs are aborted: the training (its workers, its
//     rounds) lived in the former leader's memory. The session that ran
//     it sees its call fail and the group's term move on, and prepares
//     the training again here (remoteTraining in the flint package):
//     the same rows, so the same model.
//
// Writes are committed exactly once. The entry of the last write task's
// success is the commit decision (the job succeeds in the state, with
// every task's files in the records); the leader then writes the manifest
// and records "committed". A new leader finds every decided write that is
// not recorded committed and carries it out: if the target's manifest is
// already this write's (connectors.WriteJob.Landed: the former leader died
// after writing it) it only records it, else it commits, with what
// BeginWrite had found at the target (the "write" record), not what is
// there now. A failed write is swept again (idempotent).
//
// A finished query keeps its result across a leader change. A small one
// (maxReplicatedResult) is replicated before the job shows as succeeded;
// a larger one stays where the final tasks wrote it, on the executors
// (resultKept: EndJob keeps the final stage's outputs, with
// EndJobRequest.keep_exchange, until the job is evicted), and a new leader
// fetches it again once they have registered with it (refetchResult;
// Results waits meanwhile). Only when one of them is lost too is the
// result lost, and the job shows as failed.

// Names of the side records of a job.
const (
	jobRecordName = "job"
	splitsPrefix  = "splits/"
	schemaPrefix  = "schema/"
	// writeRecordName is a write's connectors.WriteBegun; writtenPrefix
	// a final write task's files (with its TaskSucceeded);
	// committedRecordName says how a decided write ended (committedOK,
	// or why it was given up).
	writeRecordName     = "write"
	writtenPrefix       = "written/"
	committedRecordName = "committed"
)

func writtenRecord(task int) string { return writtenPrefix + strconv.Itoa(task) }

// resultRecordName is a succeeded query's result (Arrow IPC), when it is
// at most maxReplicatedResult bytes: a later leader serves it. Larger
// results stay in the leader's memory only (the raft log and its
// snapshots would carry them).
const (
	resultRecordName    = "result"
	maxReplicatedResult = 256 << 10
)

// replicateResultLocked records a small result before the job shows as
// succeeded, so that no client sees it succeed and then lose its result
// with the leader.
func (d *Driver) replicateResultLocked(j *job, data []byte) {
	if d.rep == nil || !d.leading || j.gone || len(data) > maxReplicatedResult {
		return
	}
	_, err := d.rep.Apply(replica.Entry{UnixMs: time.Now().UnixMilli(),
		Records: []replica.Record{{Job: j.id, Name: resultRecordName, Data: data}}}, applyTimeout)
	if err != nil {
		d.log.Warn("replicating a job's result", "job", j.id, "err", err)
	}
}

// refetchTimeout bounds the fetch of one final task's output.
const refetchTimeout = time.Minute

// refetchResult fetches again the result of succeeded query j, too large
// to replicate, from the executors holding its final tasks' outputs
// (resultKept): once they have registered again with this leader. When
// one of them is declared lost instead, the result is lost and the job
// shows as failed.
func (d *Driver) refetchResult(j *job) {
	defer d.wg.Done()
	type output struct {
		e       *executorConn
		task    int
		attempt int
	}
	var outs []output
	stage := j.stages.Final().ID
	for {
		d.mu.Lock()
		if !d.leading || j.gone || d.closed {
			d.mu.Unlock()
			return
		}
		cj := d.state.Jobs[j.id]
		if cj == nil {
			d.mu.Unlock()
			return
		}
		outs = outs[:0]
		lost, waiting := "", false
		for _, t := range cj.Stages[stage].Tasks {
			if e := d.execs[t.Executor]; e != nil {
				outs = append(outs, output{e: e, task: t.Index, attempt: t.Attempt - 1})
			} else if ex := d.state.Executors[t.Executor]; ex != nil && ex.Alive {
				waiting = true // detached: not registered again yet
			} else {
				lost = t.Executor
			}
		}
		if lost != "" {
			d.resultLostLocked(j, fmt.Sprintf("executor %s, which held it, was lost", lost))
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if !waiting {
			break
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-d.ctx.Done():
			return
		}
	}
	start := time.Now()
	results := map[int][]arrow.RecordBatch{}
	var err error
	for _, o := range outs {
		ctx, cancel := context.WithTimeout(d.ctx, refetchTimeout)
		results[o.task], err = fetchResult(ctx, o.e, shuffle.Ticket{MapOutputID: shuffle.MapOutputID{Job: j.id, Exchange: stage,
			MapTask: o.task, Attempt: o.attempt}})
		cancel()
		if err != nil {
			err = fmt.Errorf("fetching task %d's output from executor %s (%s): %w", o.task, o.e.id, o.e.addr, err)
			break
		}
	}
	var data []byte
	if err == nil {
		data, err = d.encodeResult(j, results)
	} else {
		releaseResults(results)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.leading || j.gone {
		return
	}
	if err != nil {
		d.resultLostLocked(j, err.Error())
		return
	}
	j.result, j.resultPending = data, false
	// The executors drop the rest of the job's files (a former leader
	// that died before the job's end had left them).
	final := int32(stage)
	d.endJobKeepingLocked(j.id, &final)
	d.log.Info("result fetched again from the executors", "job", j.id, "result_bytes", len(data),
		"took", time.Since(start).Round(time.Millisecond))
	j.notifyLocked()
}

// resultLostLocked fails succeeded job j whose result could not be
// fetched again.
func (d *Driver) resultLostLocked(j *job, why string) {
	j.state, j.resultPending = pb.JobState_JOB_STATE_FAILED, false
	j.err = "the job succeeded, but its result (larger than the group keeps) is lost: " + why + "; run it again"
	d.log.Warn("result lost", "job", j.id, "err", j.err)
	d.statusEventLocked(j)
}

// slaAlertedRecordName marks a job whose SLA alert was posted.
const slaAlertedRecordName = "sla-alerted"

// recordLocked replicates a side record of job j; it reports whether the
// group has it (not replicated: true).
func (d *Driver) recordLocked(j *job, name string, data []byte) bool {
	if d.rep == nil {
		return true
	}
	if !d.leading || j.gone {
		return false
	}
	_, err := d.rep.Apply(replica.Entry{UnixMs: time.Now().UnixMilli(),
		Records: []replica.Record{{Job: j.id, Name: name, Data: data}}}, applyTimeout)
	if err != nil {
		d.log.Warn("replicating a job's record", "job", j.id, "record", name, "err", err)
		return false
	}
	return true
}

// committedOK is the "committed" record of a write whose manifest is in
// place; "failed: ..." is that of a write given up (and swept).
const committedOK = "ok"

// writeEndedLocked records how a decided write ended, so that no later
// leader carries it out again; it reports whether the group has it (not
// replicated: true). A leader that finds no record of a committed write
// asks the target (connectors.WriteJob.Landed).
func (d *Driver) writeEndedLocked(j *job, outcome string) bool {
	return d.recordLocked(j, committedRecordName, []byte(outcome))
}

func splitsRecord(stage int) string { return splitsPrefix + strconv.Itoa(stage) }
func schemaRecord(stage int) string { return schemaPrefix + strconv.Itoa(stage) }

// applyTimeout bounds one proposal; barrierTimeout the wait of a new
// leader for the log to be applied.
const (
	applyTimeout   = 10 * time.Second
	barrierTimeout = 30 * time.Second
	// rejoinGrace is how long, beyond a heartbeat timeout, a new leader
	// waits for the executors of the old one before it counts a job as
	// without executors: one of a leader that hangs notices when its
	// call times out (5s) and only then asks another member.
	rejoinGrace = 10 * time.Second
	// handoverTimeout bounds how long a stopping leader tries to hand
	// the lead over (a healthy group takes milliseconds; the last member
	// standing finds no one).
	handoverTimeout = time.Second
	// quorumLostAfter is how long a member goes without a leader before
	// it says that its group has lost its quorum (driverclient.NoQuorum):
	// an election in a group with a majority up takes one or two
	// election timeouts (500ms each), a loaded machine a few more.
	quorumLostAfter = 5 * time.Second
)

// jobRecord is the "job" record: what Submit knew of the job.
type jobRecord struct {
	// Request is the SubmitRequest (protobuf) with the options as
	// completed and the write spec with its ID.
	Request []byte
	// Stages is the compiled physical.StagePlan (protobuf).
	Stages      []byte
	SubmittedMs int64
	DeadlineMs  int64 `json:",omitempty"`
	Keep        bool  `json:",omitempty"`
	SplitTarget int   `json:",omitempty"`
}

// submissionRecord is the "job" record of a job about to be submitted.
func submissionRecord(id string, req *pb.SubmitRequest, opts *pb.JobOptions, wspec *connectors.WriteSpec,
	stages *physical.StagePlan, j *job) (replica.Record, error) {
	r := proto.Clone(req).(*pb.SubmitRequest)
	r.Options = opts
	if wspec != nil {
		r.Write = wire.EncodeWriteSpec(wspec)
	}
	reqData, err := proto.Marshal(r)
	if err != nil {
		return replica.Record{}, err
	}
	sp, err := wire.EncodeStagePlan(stages)
	if err != nil {
		return replica.Record{}, err
	}
	spData, err := proto.Marshal(sp)
	if err != nil {
		return replica.Record{}, err
	}
	jr := jobRecord{Request: reqData, Stages: spData, SubmittedMs: j.submitted.UnixMilli(), Keep: j.keep, SplitTarget: j.splitTarget}
	if !j.deadline.IsZero() {
		jr.DeadlineMs = j.deadline.UnixMilli()
	}
	data, err := json.Marshal(jr)
	return replica.Record{Job: id, Name: jobRecordName, Data: data}, err
}

// commitLocked applies ev to the state; when replicated, through the
// group first (a follower refuses). d.mu must be held.
func (d *Driver) commitLocked(ev coordinator.Event, recs ...replica.Record) (coordinator.Result, error) {
	if d.rep == nil {
		return d.state.Apply(ev)
	}
	if !d.leading {
		return coordinator.Result{}, replica.ErrNotLeader
	}
	res, err := d.rep.Apply(replica.Entry{UnixMs: time.Now().UnixMilli(), Event: ev, Records: recs}, applyTimeout)
	if d.lostLocked(err, fmt.Sprintf("%T", ev)) {
		return res, err
	}
	if err != nil {
		return res, err // rejected by the state machine: changed nothing
	}
	local, err := d.state.Apply(ev)
	if err != nil || local.Stale != res.Stale {
		d.log.Error("internal error: the leader's state and the group's disagree", "event", fmt.Sprintf("%T", ev), "err", err)
	}
	return local, err
}

// lostLocked handles a raft failure of a proposal: leadership was lost,
// or whether the group has the entry is unknown, so this copy of the
// state can no longer be trusted. Scheduling stops now; resync drops the
// jobs (the callers up the stack still hold them) and rebuilds them from
// the group's state if this member still leads. It reports whether err
// was such a failure.
func (d *Driver) lostLocked(err error, what string) bool {
	if !errors.Is(err, replica.ErrNotLeader) && !errors.Is(err, replica.ErrNotCommitted) {
		return false
	}
	d.log.Warn("an event could not be committed; resynchronising with the group", "event", what, "err", err)
	d.leading = false
	if !d.closed {
		d.wg.Add(1)
		go d.resync()
	}
	return true
}

// commitStartsLocked commits the attempts of a scheduling round as one
// entry and applies those the group accepted to the driver's state; it
// returns an error per attempt (nil: started).
func (d *Driver) commitStartsLocked(starts []coordinator.TaskStarted) []error {
	errs := make([]error, len(starts))
	if !d.leading {
		for i := range errs {
			errs[i] = replica.ErrNotLeader
		}
		return errs
	}
	evs := make([]coordinator.Event, len(starts))
	for i, ts := range starts {
		evs[i] = ts
	}
	got, err := d.rep.ApplyBatch(time.Now().UnixMilli(), evs, applyTimeout)
	if err == nil && len(got) != len(evs) {
		err = fmt.Errorf("internal error: %d answers to %d events", len(got), len(evs))
	}
	if err != nil {
		d.lostLocked(err, "TaskStarted batch")
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for i, ev := range evs {
		if errs[i] = got[i].Err; errs[i] != nil {
			continue
		}
		if _, err := d.state.Apply(ev); err != nil {
			d.log.Error("internal error: the leader's state and the group's disagree", "event", "TaskStarted", "err", err)
			errs[i] = err
		}
	}
	return errs
}

// onLeader is the replica's leadership callback.
func (d *Driver) onLeader(lead bool, term uint64) {
	<-d.repReady
	if lead {
		d.becomeLeader(term)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stepDownLocked()
}

// resync drops what this member held as leader and, if it still leads,
// rebuilds it from the group's state.
func (d *Driver) resync() {
	defer d.wg.Done()
	d.mu.Lock()
	d.stepDownLocked()
	d.mu.Unlock()
	if d.rep.IsLeader() {
		d.becomeLeader(d.rep.Status().Term)
	}
}

// stepDownLocked stops serving as leader: attempts are cancelled,
// executors and jobs forgotten (the group has them; the next leader
// resumes them).
func (d *Driver) stepDownLocked() {
	was := d.leading || len(d.jobs) > 0 || len(d.execs) > 0
	d.leading = false
	running := 0
	for _, j := range d.jobs {
		if !j.done() {
			running++
		}
	}
	d.m.JobsTakenOver(-running)
	d.m.Leading(false, d.rep.Status().Term)
	for _, j := range d.jobs {
		j.inState, j.gone = false, true
		j.cancel()
		j.notifyLocked()
	}
	for id, e := range d.execs {
		e.close()
		delete(d.execs, id)
	}
	d.m.ExecutorsLive(0)
	d.jobs = map[string]*job{}
	d.attempts = map[attemptKey]*attempt{}
	d.state = coordinator.NewState()
	if was {
		d.log.Warn("no longer leading", "member", d.rep.ID(), "term", d.term)
	}
}

// becomeLeader rebuilds the driver's jobs from the group's state and
// resumes the running ones (see the top of this file).
func (d *Driver) becomeLeader(term uint64) {
	start := time.Now()
	for {
		err := d.rep.Barrier(barrierTimeout)
		if err == nil {
			break
		}
		d.mu.Lock()
		closed := d.closed
		d.mu.Unlock()
		if closed || !d.rep.IsLeader() {
			d.log.Info("elected, but leadership was lost before the log was applied", "term", term, "err", err)
			return
		}
		d.log.Warn("elected, but the log could not be applied yet; trying again", "term", term, "err", err)
	}
	im, err := d.rep.Image()
	if err != nil {
		d.log.Error("internal error: reading the replicated state", "err", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.leading || !d.rep.IsLeader() {
		return
	}
	d.state, d.term, d.leading = im.State, term, true
	d.rejoinBy = time.Now().Add(d.cfg.HeartbeatTimeout + rejoinGrace)
	d.jobs, d.attempts = map[string]*job{}, map[attemptKey]*attempt{}
	now := time.Now()
	resumed := 0
	var abort []coordinator.Event
	var endWrites, refetch []*job
	for _, id := range d.state.JobIDs() {
		cj := d.state.Jobs[id]
		j, committed, err := d.rebuildJob(id, im.Records[id])
		if err != nil {
			d.log.Error("cannot rebuild a replicated job", "job", id, "err", err)
			if !cj.Status.Done() {
				abort = append(abort, coordinator.JobAborted{Job: id, Err: fmt.Sprintf("the driver leader changed and the job could not be rebuilt: %v", err)})
			}
			continue
		}
		d.jobs[id] = j
		switch {
		case cj.Status.Done() && j.write != nil && !committed:
			// Decided (the last write task's success, or the failure)
			// but not known to be carried out: commit or abort now.
			endWrites = append(endWrites, j)
		case cj.Status.Done():
			j.state, j.finished = endState(cj.Status), time.UnixMilli(im.UnixMs)
			if j.err == "" {
				j.err = cj.Error
			}
			if cj.Status == coordinator.StatusSucceeded {
				if j.write != nil && j.err != "" {
					j.state = pb.JobState_JOB_STATE_FAILED // given up (its record says why)
				} else if j.write != nil {
					j.state = pb.JobState_JOB_STATE_SUCCEEDED
					if j.result, err = writeResult(writtenInOrder(j)); err != nil {
						j.state, j.err = pb.JobState_JOB_STATE_FAILED, fmt.Sprintf("encoding the result: %v", err)
					}
				} else if res, ok := im.Records[id][resultRecordName]; ok {
					j.state, j.result = pb.JobState_JOB_STATE_SUCCEEDED, res
				} else if j.keep || j.stages == nil {
					// A training's rows (no result; the executors drop
					// them when the job is evicted), or an EXPLAIN whose
					// leader died before replicating its text.
					j.state, j.resultKept = pb.JobState_JOB_STATE_SUCCEEDED, j.keep
					if j.stages == nil {
						j.state = pb.JobState_JOB_STATE_FAILED
						j.err = "the job succeeded, but its result was held by the previous driver leader and is lost; run it again"
					}
				} else {
					// Too large to replicate: the final tasks' outputs
					// are still on the executors.
					j.state, j.resultKept, j.resultPending = pb.JobState_JOB_STATE_SUCCEEDED, true, true
					refetch = append(refetch, j)
				}
			}
			j.cancel()
		case j.keep:
			abort = append(abort, coordinator.JobAborted{Job: id, Err: "the driver leader changed during a training; run it again"})
		default:
			resumed++
		}
		d.statusEventLocked(j)
	}
	// The executors of the former leader register again here, naming
	// their old IDs: they keep their map outputs. Until then, and for
	// good if they do not come by rejoinBy, nothing runs on them.
	if _, err := d.applyLocked(coordinator.ExecutorsDetached{}); err != nil {
		d.log.Warn("resuming: detach executors", "err", err)
		return
	}
	for _, ev := range abort {
		if _, err := d.applyLocked(ev); err != nil {
			d.log.Warn("resuming: abort", "err", err)
			return
		}
	}
	for _, j := range endWrites {
		d.endWriteLocked(j, d.state.Jobs[j.id])
	}
	for _, j := range refetch {
		d.wg.Add(1)
		go d.refetchResult(j)
	}
	// Final results were in the former leader's memory (a write's files
	// are not: they were replicated with each task's success).
	for _, id := range d.state.JobIDs() {
		cj, j := d.state.Jobs[id], d.jobs[id]
		if cj.Status.Done() || j == nil {
			continue
		}
		for _, st := range cj.Stages {
			if ps := j.stages.Stages[st.ID]; ps.Output != nil || physical.WriteOf(ps) != nil {
				continue
			}
			for _, t := range st.Tasks {
				if t.Status == coordinator.Succeeded {
					if _, err := d.applyLocked(coordinator.TaskOutputLost{Job: id, Stage: st.ID, Task: t.Index}); err != nil {
						d.log.Warn("resuming: output lost", "job", id, "err", err)
						return
					}
				}
			}
		}
	}
	running := 0
	for _, j := range d.jobs {
		if !j.done() {
			running++
		}
	}
	d.m.JobsTakenOver(running)
	d.m.Leading(true, term)
	d.log.Info("leading the driver group", "member", d.rep.ID(), "term", term, "jobs", len(d.jobs), "resumed", resumed,
		"barrier", now.Sub(start).Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	d.scheduleLocked()
}

// rebuildJob makes a job's driver-side state from its records; committed
// reports whether a write's manifest is known to be in place.
func (d *Driver) rebuildJob(id string, recs map[string][]byte) (*job, bool, error) {
	var jr jobRecord
	if err := json.Unmarshal(recs[jobRecordName], &jr); err != nil {
		return nil, false, fmt.Errorf("job record: %w", err)
	}
	req := &pb.SubmitRequest{}
	if err := proto.Unmarshal(jr.Request, req); err != nil {
		return nil, false, fmt.Errorf("submission: %w", err)
	}
	n, err := wire.DecodeLogical(req.GetPlan())
	if err != nil {
		return nil, false, err
	}
	schema, err := resultSchema(n, req.GetOutputNames())
	if err != nil {
		return nil, false, err
	}
	sp := &pb.StagePlan{}
	if err := proto.Unmarshal(jr.Stages, sp); err != nil {
		return nil, false, fmt.Errorf("stages: %w", err)
	}
	stages, err := wire.DecodeStagePlan(sp)
	if err != nil {
		return nil, false, err
	}
	notify, _ := notifyURLs(req.GetNotify())
	if len(notify) == 0 {
		notify = d.cfg.Notify
	}
	j := &job{id: id, name: req.GetName(), labels: req.GetLabels(), notify: notify, sla: time.Duration(req.GetSlaMs()) * time.Millisecond,
		stageActive: map[int]bool{}, submitted: time.UnixMilli(jr.SubmittedMs), opts: req.GetOptions(), schema: schema, stages: stages,
		inState: true, sources: connectors.NewSourceCache(0), splits: map[int][]connectors.Split{}, splitting: map[int]bool{},
		schemas: map[int]*arrow.Schema{}, results: map[int][]arrow.RecordBatch{}, written: map[int][]connectors.WrittenFile{},
		keep: jr.Keep, splitTarget: jr.SplitTarget, state: pb.JobState_JOB_STATE_RUNNING, changed: make(chan struct{})}
	if req.GetWrite() != nil {
		j.schema = writeResultSchema
		spec, err := wire.DecodeWriteSpec(req.GetWrite())
		if err != nil {
			return nil, false, err
		}
		var begun connectors.WriteBegun
		if err := json.Unmarshal(recs[writeRecordName], &begun); err != nil {
			return nil, false, fmt.Errorf("write record: %w", err)
		}
		if j.write, err = connectors.ResumeWrite(*spec, id, begun); err != nil {
			return nil, false, err
		}
	}
	if jr.DeadlineMs > 0 {
		j.deadline = time.UnixMilli(jr.DeadlineMs)
	}
	_, j.slaAlerted = recs[slaAlertedRecordName]
	j.ctx, j.cancel = context.WithCancel(d.ctx)
	for name, data := range recs {
		switch {
		case strings.HasPrefix(name, splitsPrefix):
			stage, err := strconv.Atoi(strings.TrimPrefix(name, splitsPrefix))
			if err != nil {
				return nil, false, fmt.Errorf("record %s: %w", name, err)
			}
			var splits []connectors.Split
			if err := json.Unmarshal(data, &splits); err != nil {
				return nil, false, fmt.Errorf("record %s: %w", name, err)
			}
			j.splits[stage] = splits
			j.splitting[stage] = true
		case strings.HasPrefix(name, writtenPrefix):
			task, err := strconv.Atoi(strings.TrimPrefix(name, writtenPrefix))
			if err != nil {
				return nil, false, fmt.Errorf("record %s: %w", name, err)
			}
			var files []connectors.WrittenFile
			if err := json.Unmarshal(data, &files); err != nil {
				return nil, false, fmt.Errorf("record %s: %w", name, err)
			}
			j.written[task] = files
		case strings.HasPrefix(name, schemaPrefix):
			stage, err := strconv.Atoi(strings.TrimPrefix(name, schemaPrefix))
			if err != nil {
				return nil, false, fmt.Errorf("record %s: %w", name, err)
			}
			ps := &pb.ArrowSchema{}
			if err := proto.Unmarshal(data, ps); err != nil {
				return nil, false, fmt.Errorf("record %s: %w", name, err)
			}
			if j.schemas[stage], err = wire.DecodeArrowSchema(ps); err != nil {
				return nil, false, fmt.Errorf("record %s: %w", name, err)
			}
		}
	}
	outcome, committed := recs[committedRecordName]
	if committed && string(outcome) != committedOK {
		j.err = strings.TrimPrefix(string(outcome), "failed: ")
	}
	return j, committed, nil
}

// notLeaderLocked is the refusal of a member that does not lead (or not
// yet: elected, still rebuilding).
func (d *Driver) notLeaderLocked() error {
	id, addr := d.rep.Leader()
	if id == "" {
		if gone := d.rep.Leaderless(); gone >= quorumLostAfter {
			return driverclient.NoQuorum(d.rep.ID(), gone, len(d.rep.Peers()))
		}
	}
	if id == d.rep.ID() {
		addr = "" // this member, not ready yet: ask again
	}
	return driverclient.NotLeader(d.rep.ID(), addr)
}

// servesAnyway are the calls every member answers.
func servesAnyway(method string) bool {
	return method == pb.Driver_Member_FullMethodName || method == pb.Driver_Info_FullMethodName
}

func (d *Driver) leaderOnly(method string) error {
	if servesAnyway(method) {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.leading {
		return nil
	}
	return d.notLeaderLocked()
}

func (d *Driver) leaderOnlyUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := d.leaderOnly(info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (d *Driver) leaderOnlyStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := d.leaderOnly(info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

// Member implements flintpb.DriverServer.
func (d *Driver) Member(context.Context, *pb.MemberRequest) (*pb.MemberResponse, error) {
	if d.rep == nil {
		return &pb.MemberResponse{Address: d.Addr(), State: "leader", LeaderAddress: d.Addr()}, nil
	}
	st := d.rep.Status()
	_, leader := d.rep.Leader()
	return &pb.MemberResponse{Id: st.ID, Address: st.ClientAddr, State: st.State, Term: st.Term, LastIndex: st.LastIndex,
		Applied: st.Applied, LeaderAddress: leader}, nil
}
