package flint

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

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/ml/train"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// trainResult is a training's outcome: the booster and its report, a
// classifier's classes, and the rows on each side of the split.
type trainResult struct {
	classes       []string
	booster       *gbdt.Booster
	info          *gbdt.TrainInfo
	trials        []store.TrialInfo // a tuned model's trials
	nTrain, nEval int
}

// columnType is the type of the i-th output column of df.
func (df *DataFrame) columnType(i int) (arrow.DataType, error) {
	if df.err != nil {
		return nil, df.err
	}
	sch := df.plan.Schema()
	if i >= len(sch) {
		return nil, fmt.Errorf("no column %d", i)
	}
	return sch[i].Type, nil
}

// trainRows trains on the rows of rows (the features as REAL, the label,
// maybe the split column). In local mode the query's result batches are
// the training's partitions, prepared (ml/train) and trained on here; on
// a cluster, the driver runs the query and the training on the executors
// that computed the rows.
func (s *Session) trainRows(ctx context.Context, rows *DataFrame, spec train.Spec, o *trainOptions) (*trainResult, error) {
	if s.remote != nil {
		return s.trainRemote(ctx, rows, spec, o)
	}
	_, batches, err := rows.CollectWithSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("AS query: %w", err)
	}
	defer func() { releaseAll(batches) }()
	ds := train.NewDataSet(memorySources(batches, train.ShardRows), 0)
	defer ds.Close()
	prep, err := train.Prepare(ctx, spec, []train.Worker{ds}, nil)
	if err != nil {
		return nil, err
	}
	// The shards hold the rows now.
	releaseAll(batches)
	batches = nil
	return o.trainWith(ctx, prep, prep.Train)
}

// trainWith trains with the options' parameters on rows prepared as prep
// says (its classes and counts), through fn.
func (o *trainOptions) trainWith(ctx context.Context, prep *train.Prepared, fn trialFunc) (*trainResult, error) {
	if o.classifier && len(prep.Classes) < 2 {
		return nil, fmt.Errorf("label %s has %d distinct value(s); a classifier needs at least two", o.label, len(prep.Classes))
	}
	if prep.TrainRows == 0 {
		return nil, fmt.Errorf("no training rows (the AS query gave %d rows with a label)", prep.TrainRows+prep.EvalRows)
	}
	params, err := prep.Params(o.params, o.classifier, o.classWeights)
	if err != nil {
		return nil, err
	}
	// The trials (or the one training) start from the completed
	// parameters; they run at once on the same prepared rows.
	o.params = params
	booster, info, trials, err := o.trainTrials(ctx, prep.TrainRows, prep.EvalRows, fn)
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	return &trainResult{classes: prep.Classes, booster: booster, info: info, trials: trials, nTrain: prep.TrainRows, nEval: prep.EvalRows}, nil
}

// memorySources cuts batches, in order, into partitions of at least rows
// rows, each read from memory (the batches stay owned by the caller).
func memorySources(batches []arrow.RecordBatch, rows int) []train.Source {
	var out []train.Source
	start, n := 0, 0
	for i, b := range batches {
		n += int(b.NumRows())
		if n >= rows || i == len(batches)-1 {
			part := batches[start : i+1]
			out = append(out, func(_ context.Context, last bool) (train.Stream, error) {
				return &memoryStream{batches: part, consume: last}, nil
			})
			start, n = i+1, 0
		}
	}
	return out
}

// memoryStream reads batches held in memory; each Next's batch is retained
// for the caller, or, when the stream consumes them (the last pass), handed
// over and dropped from the slice, so the rows go as they are binned.
type memoryStream struct {
	batches []arrow.RecordBatch
	next    int
	consume bool
}

func (m *memoryStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.next >= len(m.batches) {
		return nil, nil
	}
	b := m.batches[m.next]
	if m.consume {
		m.batches[m.next] = nil
	} else {
		b.Retain()
	}
	m.next++
	return b, nil
}

func (m *memoryStream) Close() {}

// trainRemote prepares the rows on the cluster (the driver runs the query
// as a job whose final tasks keep their rows on their executors, which
// bin them) and trains there: only histograms, trees and losses reach the
// driver, and only the model reaches this session.
//
// A training lives in the memory of the driver that prepared it. On a
// replicated driver group whose leader changes, a prepare or a trial
// that fails is started again on the new leader (see remoteTraining): the
// same query, partitioned alike, gives the same rows, so the model is the
// one an undisturbed training gives.
func (s *Session) trainRemote(ctx context.Context, rows *DataFrame, spec train.Spec, o *trainOptions) (*trainResult, error) {
	sub, err := s.submitRequest(rows.plan)
	if err != nil {
		return nil, err
	}
	var sb bytes.Buffer
	if err := gob.NewEncoder(&sb).Encode(spec); err != nil {
		return nil, err
	}
	rt := &remoteTraining{r: s.remote, req: &pb.TrainPrepareRequest{Plan: sub.Plan, OutputNames: sub.OutputNames,
		Options: sub.Options, Name: "CREATE MODEL", Spec: sb.Bytes()}}
	defer rt.close(ctx)
	resp, err := rt.prepare(ctx, 0)
	if err != nil {
		return nil, err
	}
	prep := &train.Prepared{Classes: resp.GetClasses(), TrainRows: int(resp.GetTrainRows()), EvalRows: int(resp.GetEvalRows())}
	return o.trainWith(ctx, prep, rt.run)
}

// leaderChanges bounds how many times a training starts again because
// the driver group's leader changed.
const leaderChanges = 3

// remoteTraining is a training prepared on the cluster, prepared again
// when the driver that held it is no longer the group's leader. Its
// trials may run at once.
type remoteTraining struct {
	r   *remote
	req *pb.TrainPrepareRequest

	mu   sync.Mutex
	id   string   // the training now
	gen  int      // how many times it has been prepared
	term uint64   // the group's term when it was
	ids  []string // every training prepared, closed at the end
	resp *pb.TrainPrepareResponse
}

// groupTerm is the driver group's raft term as the member asked knows it (0
// for a lone driver, or when no member answers).
func (rt *remoteTraining) groupTerm(ctx context.Context) uint64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := rt.r.Client.Member(ctx, &pb.MemberRequest{})
	if err != nil {
		return 0
	}
	return m.GetTerm()
}

// prepare prepares the training unless another caller already prepared
// it again since generation gen, and returns the training's figures. A
// prepare that fails while the leader changes is tried again.
func (rt *remoteTraining) prepare(ctx context.Context, gen int) (*pb.TrainPrepareResponse, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.gen > gen {
		return rt.resp, nil
	}
	for changes := 0; ; changes++ {
		term := rt.groupTerm(ctx)
		resp, err := rt.r.Client.TrainPrepare(ctx, rt.req)
		if err == nil {
			if rt.resp != nil && !slices.Equal(resp.GetClasses(), rt.resp.GetClasses()) {
				return nil, fmt.Errorf("training prepared again after a driver leader change: labels %v, before %v", resp.GetClasses(), rt.resp.GetClasses())
			}
			rt.id, rt.term, rt.resp = resp.GetTrainingId(), term, resp
			rt.gen++
			rt.ids = append(rt.ids, rt.id)
			return resp, nil
		}
		if ctx.Err() != nil || changes >= leaderChanges || rt.groupTerm(ctx) <= term {
			return nil, rt.r.trainError("prepare", err)
		}
	}
}

// run is one trial: TrainRun on the training now, or on the training
// prepared again when it fails because the leader changed.
func (rt *remoteTraining) run(ctx context.Context, p gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error) {
	var pb2 bytes.Buffer
	if err := gob.NewEncoder(&pb2).Encode(p); err != nil {
		return nil, nil, err
	}
	for changes := 0; ; changes++ {
		rt.mu.Lock()
		id, gen, term := rt.id, rt.gen, rt.term
		rt.mu.Unlock()
		r, err := rt.r.Client.TrainRun(ctx, &pb.TrainRunRequest{TrainingId: id, Params: pb2.Bytes()})
		if err != nil {
			if ctx.Err() != nil || changes >= leaderChanges || rt.groupTerm(ctx) <= term {
				return nil, nil, rt.r.trainError("run", err)
			}
			if _, err := rt.prepare(ctx, gen); err != nil {
				return nil, nil, err
			}
			continue
		}
		var b gbdt.Booster
		if err := b.UnmarshalBinary(r.GetBooster()); err != nil {
			return nil, nil, err
		}
		var info gbdt.TrainInfo
		if err := gob.NewDecoder(bytes.NewReader(r.GetInfo())).Decode(&info); err != nil {
			return nil, nil, err
		}
		return &b, &info, nil
	}
}

// close drops every training prepared (those on a former leader are
// gone with it: closing them does nothing).
func (rt *remoteTraining) close(ctx context.Context) {
	rt.mu.Lock()
	ids := rt.ids
	rt.mu.Unlock()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, id := range ids {
		_, _ = rt.r.Client.TrainClose(cctx, &pb.TrainCloseRequest{TrainingId: id})
	}
}

// trainError is the driver's message for a refused training call.
func (r *remote) trainError(what string, err error) error {
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Canceled, codes.DeadlineExceeded, codes.Unavailable:
		default:
			return errors.New(st.Message())
		}
	}
	return r.Error("training "+what, err)
}
