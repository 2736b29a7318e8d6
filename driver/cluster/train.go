package cluster

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/train"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// trainingIdle drops a training no client has used for that long.
const trainingIdle = 30 * time.Minute

// training is a training's rows prepared on executors (ml/train): the
// query ran as a job whose final tasks kept their output where they ran;
// each executor holding some opened a data set over them, which the
// trainer talks to through TrainCall. Guarded by its own mu.
type training struct {
	id   string
	req  *pb.TrainPrepareRequest
	spec train.Spec
	prep *train.Prepared

	// partitions and splitTarget plan every job of the training alike,
	// so that a rebuild's task i holds the rows the first job's did.
	partitions  int32
	splitTarget int

	mu       sync.Mutex
	tasks    [][]int // per worker: the final tasks its partitions are
	jobs     []string
	sets     []dataSetRef
	lastUsed time.Time
	active   int
	closed   bool
	rebuilt  int
}

type dataSetRef struct {
	e  *executorConn
	id string
}

// TrainPrepare implements flintpb.DriverServer.
func (d *Driver) TrainPrepare(ctx context.Context, req *pb.TrainPrepareRequest) (*pb.TrainPrepareResponse, error) {
	var spec train.Spec
	if err := gob.NewDecoder(bytes.NewReader(req.GetSpec())).Decode(&spec); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "train: bad spec: %v", err)
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, status.Error(codes.Unavailable, "driver is shutting down")
	}
	d.seq++
	id := fmt.Sprintf("%s-train-%06d", d.jobPrefix, d.seq)
	d.mu.Unlock()
	tr := &training{id: id, req: req, spec: spec, lastUsed: time.Now()}
	workers, err := d.openTrainingData(ctx, tr, nil)
	if err != nil {
		d.closeTraining(tr)
		return nil, err
	}
	start := time.Now()
	prep, err := train.Prepare(ctx, spec, workers, func(ctx context.Context, i int, cause error) (train.Worker, error) {
		return d.rebuildWorker(ctx, tr, i, cause)
	})
	if err != nil {
		d.closeTraining(tr)
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	tr.prep = prep
	d.log.Info("training prepared", "training", id, "workers", len(workers), "train_rows", prep.TrainRows,
		"eval_rows", prep.EvalRows, "took", time.Since(start).Round(time.Millisecond))
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.closeTraining(tr)
		return nil, status.Error(codes.Unavailable, "driver is shutting down")
	}
	if d.trainings == nil {
		d.trainings = map[string]*training{}
	}
	d.trainings[id] = tr
	d.mu.Unlock()
	return &pb.TrainPrepareResponse{TrainingId: id, Classes: prep.Classes, TrainRows: int64(prep.TrainRows),
		EvalRows: int64(prep.EvalRows), Workers: int32(len(workers))}, nil
}

// TrainRun implements flintpb.DriverServer.
func (d *Driver) TrainRun(ctx context.Context, req *pb.TrainRunRequest) (*pb.TrainRunResponse, error) {
	var params gbdt.Params
	if err := gob.NewDecoder(bytes.NewReader(req.GetParams())).Decode(&params); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "train: bad parameters: %v", err)
	}
	d.mu.Lock()
	tr := d.trainings[req.GetTrainingId()]
	d.mu.Unlock()
	if tr == nil {
		return nil, status.Errorf(codes.NotFound, "no training %q (closed, or idle for %s)", req.GetTrainingId(), trainingIdle)
	}
	tr.mu.Lock()
	if tr.closed {
		tr.mu.Unlock()
		return nil, status.Errorf(codes.NotFound, "training %q is closed", req.GetTrainingId())
	}
	tr.active++
	rebuilt := tr.rebuilt
	tr.mu.Unlock()
	defer func() {
		tr.mu.Lock()
		tr.active--
		tr.lastUsed = time.Now()
		tr.mu.Unlock()
	}()
	b, info, err := tr.prep.Train(ctx, params)
	if err != nil {
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	bb, err := b.MarshalBinary()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "train: %v", err)
	}
	var ib bytes.Buffer
	if err := gob.NewEncoder(&ib).Encode(info); err != nil {
		return nil, status.Errorf(codes.Internal, "train: %v", err)
	}
	tr.mu.Lock()
	rebuilt = tr.rebuilt - rebuilt
	tr.mu.Unlock()
	return &pb.TrainRunResponse{Booster: bb, Info: ib.Bytes(), Rebuilt: int32(rebuilt)}, nil
}

// TrainClose implements flintpb.DriverServer.
func (d *Driver) TrainClose(_ context.Context, req *pb.TrainCloseRequest) (*pb.TrainCloseResponse, error) {
	d.mu.Lock()
	tr := d.trainings[req.GetTrainingId()]
	delete(d.trainings, req.GetTrainingId())
	d.mu.Unlock()
	if tr != nil {
		d.closeTraining(tr)
	}
	return &pb.TrainCloseResponse{}, nil
}

// closeTraining drops the training's data sets and ends its jobs on the
// executors (their kept outputs are removed).
func (d *Driver) closeTraining(tr *training) {
	tr.mu.Lock()
	tr.closed = true
	sets, jobs := tr.sets, tr.jobs
	tr.sets, tr.jobs = nil, nil
	tr.mu.Unlock()
	for _, s := range sets {
		d.mu.Lock()
		live := d.execs[s.e.id] == s.e
		d.mu.Unlock()
		if !live {
			continue
		}
		ctx, cancel := context.WithTimeout(d.endCtx, endJobTimeout)
		if _, err := s.e.exec.TrainDrop(ctx, &pb.TrainDropRequest{DataSet: s.id}); err != nil {
			d.log.Warn("dropping a training data set failed", "training", tr.id, "executor", s.e.id, "err", err)
		}
		cancel()
	}
	d.mu.Lock()
	for _, j := range jobs {
		d.endJobOnExecutorsLocked(j)
	}
	d.mu.Unlock()
}

// idleTrainingsLocked closes the trainings idle past trainingIdle (every
// one when all is set: the driver stops).
func (d *Driver) idleTrainingsLocked(now time.Time, all bool) {
	for id, tr := range d.trainings {
		tr.mu.Lock()
		idle := tr.active == 0 && now.Sub(tr.lastUsed) > trainingIdle
		tr.mu.Unlock()
		if idle || all {
			delete(d.trainings, id)
			d.wg.Add(1)
			go func() {
				defer d.wg.Done()
				d.closeTraining(tr)
			}()
		}
	}
}

// openTrainingData runs the training's query as a job that keeps its
// final outputs, then opens a data set over each final task's output, on
// the executor holding it: every task (only is nil), or the tasks of only
// (a rebuild: the rows of a lost worker, recomputed).
func (d *Driver) openTrainingData(ctx context.Context, tr *training, only []int) ([]train.Worker, error) {
	name := tr.req.GetName()
	if name == "" {
		name = "training"
	}
	opts := &pb.JobOptions{}
	if o := tr.req.GetOptions(); o != nil {
		opts = proto.Clone(o).(*pb.JobOptions)
	}
	if only == nil {
		d.mu.Lock()
		tr.splitTarget = max(d.liveSlotsLocked(), 1) * d.cfg.SplitsPerSlot
		d.mu.Unlock()
	} else if opts.Partitions == 0 {
		opts.Partitions = tr.partitions
	}
	sub, err := d.submit(ctx, &pb.SubmitRequest{Plan: tr.req.GetPlan(), OutputNames: tr.req.GetOutputNames(),
		Options: opts, Name: name + " rows"}, true, tr.splitTarget)
	if err != nil {
		return nil, err
	}
	jobID := sub.GetJobId()
	if only == nil {
		d.mu.Lock()
		if j := d.jobs[jobID]; j != nil {
			tr.partitions = j.opts.GetPartitions()
		}
		d.mu.Unlock()
	}
	tr.mu.Lock()
	tr.jobs = append(tr.jobs, jobID)
	tr.mu.Unlock()
	type output struct {
		task, attempt int
		e             *executorConn
	}
	var outs []output
	stage := 0
	for {
		d.mu.Lock()
		j := d.jobs[jobID]
		if j == nil {
			d.mu.Unlock()
			return nil, status.Errorf(codes.Internal, "training job %s vanished", jobID)
		}
		if j.done() {
			if j.state != pb.JobState_JOB_STATE_SUCCEEDED {
				d.mu.Unlock()
				return nil, status.Error(codes.FailedPrecondition, j.err)
			}
			final := j.stages.Final()
			stage = final.ID
			cj := d.state.Jobs[jobID]
			for _, t := range cj.Stages[stage].Tasks {
				e := d.execs[t.Executor]
				if e == nil {
					d.mu.Unlock()
					return nil, fmt.Errorf("executor %s, holding training rows of task %d, was lost: %w", t.Executor, t.Index, gbdt.ErrWorkerLost)
				}
				outs = append(outs, output{task: t.Index, attempt: t.Attempt - 1, e: e})
			}
			d.mu.Unlock()
			break
		}
		ch := j.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			_, _ = d.Cancel(context.Background(), &pb.CancelRequest{JobId: jobID, Reason: "training cancelled"})
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	// One data set per final task, in task order: the shards, their
	// order and the sums over them are the same wherever the tasks ran
	// (and a rebuild replaces exactly one task's rows).
	type group struct {
		e     *executorConn
		parts []*pb.TrainPartition
		tasks []int
	}
	var groups []*group
	slices.SortFunc(outs, func(a, b output) int { return a.task - b.task })
	for _, o := range outs {
		if only != nil && !slices.Contains(only, o.task) {
			continue
		}
		groups = append(groups, &group{e: o.e, tasks: []int{o.task},
			parts: []*pb.TrainPartition{{Task: int32(o.task), Attempt: int32(o.attempt), Address: o.e.addr}}})
	}
	if len(groups) == 0 {
		return nil, errors.New("the training query has no final task")
	}
	workers := make([]train.Worker, len(groups))
	for i, g := range groups {
		tr.mu.Lock()
		dsID := fmt.Sprintf("%s-%d", tr.id, len(tr.sets))
		tr.sets = append(tr.sets, dataSetRef{e: g.e, id: dsID})
		if only == nil {
			tr.tasks = append(tr.tasks, g.tasks)
		}
		tr.mu.Unlock()
		if _, err := g.e.exec.TrainOpen(ctx, &pb.TrainOpenRequest{DataSet: dsID, JobId: jobID, Stage: int32(stage), Partitions: g.parts}); err != nil {
			return nil, d.trainCallError(g.e, err)
		}
		workers[i] = train.Remote(d.trainCall(g.e, dsID))
	}
	return workers, nil
}

// rebuildWorker replaces worker i of tr, lost: the query runs again and
// the worker's partitions are read from the new job's outputs.
func (d *Driver) rebuildWorker(ctx context.Context, tr *training, i int, cause error) (train.Worker, error) {
	tr.mu.Lock()
	if tr.closed || i >= len(tr.tasks) {
		tr.mu.Unlock()
		return nil, errors.New("the training is closed")
	}
	tasks := slices.Clone(tr.tasks[i])
	tr.rebuilt++
	tr.mu.Unlock()
	d.log.Warn("training worker lost; recomputing its rows", "training", tr.id, "worker", i, "tasks", len(tasks), "cause", cause)
	for attempt := 0; ; attempt++ {
		ws, err := d.openTrainingData(ctx, tr, tasks)
		if err == nil {
			return ws[0], nil
		}
		// An executor lost while the rows were recomputed: again.
		if !errors.Is(err, gbdt.ErrWorkerLost) || attempt >= 2 || ctx.Err() != nil {
			return nil, err
		}
	}
}

// trainCall is the transport of a remote training worker: TrainCall on
// executor e's data set ds. An executor gone (unreachable, declared lost,
// or restarted without the data set) is a lost worker.
func (d *Driver) trainCall(e *executorConn, ds string) gbdt.Call {
	return func(ctx context.Context, req []byte) ([]byte, error) {
		resp, err := e.exec.TrainCall(ctx, &pb.TrainCallRequest{DataSet: ds, Request: req})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, d.trainCallError(e, err)
		}
		return resp.GetReply(), nil
	}
}

func (d *Driver) trainCallError(e *executorConn, err error) error {
	d.mu.Lock()
	live := d.execs[e.id] == e
	d.mu.Unlock()
	code := status.Code(err)
	if !live || code == codes.Unavailable || code == codes.NotFound || code == codes.Canceled {
		return fmt.Errorf("executor %s (%s): %v: %w", e.id, e.addr, err, gbdt.ErrWorkerLost)
	}
	if st, ok := status.FromError(err); ok {
		return errors.New(st.Message())
	}
	return err
}
