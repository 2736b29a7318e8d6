package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/compute"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/ml/train"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// trainSets are the training data sets an executor holds (ml/train): each
// reads final-stage task outputs of a job (its own files, or others'
// over Flight) for its passes, then keeps the binned shards.
type trainSets struct {
	mu   sync.Mutex
	sets map[string]*trainSet
}

type trainSet struct {
	ds       *train.DataSet
	reader   *shuffle.RemoteReader
	lastUsed time.Time // guarded by trainSets.mu
}

// trainSetIdle drops a data set no driver has used for that long (its
// driver is gone: a live one drops its trainings itself).
const trainSetIdle = time.Hour

func (s *Service) trainSet(id string) (*trainSet, error) {
	s.train.mu.Lock()
	now := time.Now()
	var idle []*trainSet
	for k, ts := range s.train.sets {
		if now.Sub(ts.lastUsed) > trainSetIdle {
			idle = append(idle, ts)
			delete(s.train.sets, k)
		}
	}
	ts := s.train.sets[id]
	if ts != nil {
		ts.lastUsed = now
	}
	s.train.mu.Unlock()
	for _, d := range idle {
		s.log.Warn("dropping an idle training data set", "idle", trainSetIdle)
		d.ds.Close()
		d.reader.Close()
	}
	if ts == nil {
		return nil, status.Errorf(codes.NotFound, "no training data set %q on this executor", id)
	}
	return ts, nil
}

// TrainOpen implements flintpb.ExecutorServer.
func (s *Service) TrainOpen(_ context.Context, req *pb.TrainOpenRequest) (*pb.TrainOpenResponse, error) {
	id, jobID, stage := req.GetDataSet(), req.GetJobId(), int(req.GetStage())
	if id == "" || jobID == "" {
		return nil, status.Error(codes.InvalidArgument, "train open: missing data set or job")
	}
	reader := shuffle.NewRemoteReader(s.workDir, jobID, s.addr)
	alloc := s.Allocator
	parts := make([]train.Source, len(req.GetPartitions()))
	for i, p := range req.GetPartitions() {
		loc := shuffle.MapOutputLocation{Address: p.GetAddress(), MapTask: int(p.GetTask()), Attempt: int(p.GetAttempt())}
		parts[i] = func(ctx context.Context, _ bool) (train.Stream, error) {
			if alloc != nil {
				ctx = compute.WithAllocator(ctx, alloc)
			}
			st := reader.Open(ctx, stage, 0, []shuffle.MapOutputLocation{loc})
			return &ctxStream{Stream: st[0]}, nil
		}
	}
	s.train.mu.Lock()
	defer s.train.mu.Unlock()
	if s.train.sets == nil {
		s.train.sets = map[string]*trainSet{}
	}
	if s.train.sets[id] != nil {
		reader.Close()
		return nil, status.Errorf(codes.AlreadyExists, "training data set %q is already open", id)
	}
	s.train.sets[id] = &trainSet{ds: train.NewDataSet(parts, cap(s.slots)), reader: reader, lastUsed: time.Now()}
	s.log.Info("training data set opened", "data_set", id, "job", jobID, "stage", stage, "partitions", len(parts))
	return &pb.TrainOpenResponse{}, nil
}

// ctxStream is a shuffle.Stream as a train.Stream.
type ctxStream struct{ shuffle.Stream }

// TrainCall implements flintpb.ExecutorServer.
func (s *Service) TrainCall(ctx context.Context, req *pb.TrainCallRequest) (*pb.TrainCallResponse, error) {
	ts, err := s.trainSet(req.GetDataSet())
	if err != nil {
		return nil, err
	}
	reply, err := train.Serve(ctx, ts.ds, req.GetRequest())
	if err != nil {
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, status.Error(codes.FailedPrecondition, fmt.Sprintf("training data set %s: %v", req.GetDataSet(), err))
	}
	return &pb.TrainCallResponse{Reply: reply}, nil
}

// TrainDrop implements flintpb.ExecutorServer.
func (s *Service) TrainDrop(_ context.Context, req *pb.TrainDropRequest) (*pb.TrainDropResponse, error) {
	s.train.mu.Lock()
	ts := s.train.sets[req.GetDataSet()]
	delete(s.train.sets, req.GetDataSet())
	s.train.mu.Unlock()
	if ts != nil {
		ts.ds.Close()
		ts.reader.Close()
	}
	return &pb.TrainDropResponse{}, nil
}

// dropTrainSets drops every data set (the executor stops).
func (s *Service) dropTrainSets() {
	s.train.mu.Lock()
	sets := s.train.sets
	s.train.sets = nil
	s.train.mu.Unlock()
	for _, ts := range sets {
		ts.ds.Close()
		ts.reader.Close()
	}
}
