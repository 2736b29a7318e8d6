package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/internal/metrics"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/physical"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/spill"
	"github.com/flint-engine/flint/wire"
)

// endedJobsKept bounds how many ended job IDs the service remembers in
// order to refuse late tasks of a job it already cleaned up.
const endedJobsKept = 4096

// Service implements flintpb.ExecutorServer: it runs task attempts sent by
// the driver and keeps the per-job state they share. It is safe for
// concurrent use; Close ends every job.
type Service struct {
	pb.UnimplementedExecutorServer

	workDir string
	addr    string // this executor's Flight address, as in input locations
	sources *connectors.SourceCache
	slots   chan struct{}
	log     *slog.Logger

	// Memory is the budget every task of the executor reserves from
	// (nil: no limit). Set it before serving.
	Memory *mempool.Pool
	// Allocator is where tasks' Arrow buffers come from (nil: Go's
	// allocator). Set it before serving.
	Allocator memory.Allocator
	// Metrics, when set, adds up the attempts RunTask answers (nil:
	// none). Set it before serving.
	Metrics *metrics.Executor

	mu         sync.Mutex
	jobs       map[string]*job
	ended      map[string]bool
	endedOrder []string
	closed     bool
	handlers   sync.WaitGroup // RunTask calls in progress

	train trainSets
}

// job is the state the tasks of one job share on this executor.
type job struct {
	id     string
	env    *executor.Env // Store unused: every task runs on a WithStore view
	files  *shuffle.FileStore
	reader *shuffle.RemoteReader
	spills *spill.Manager // spill files of the job's tasks, under its job dir

	active  sync.WaitGroup                         // tasks using env, files, reader
	running map[attemptKey]context.CancelCauseFunc // guarded by Service.mu
}

type attemptKey struct {
	stage, task, attempt int
}

// errJobEnded cancels the tasks of a job that EndJob removes.
var errJobEnded = errors.New("job ended on this executor")

// errShutdown cancels the tasks still running when the executor stops.
var errShutdown = errors.New("executor shutting down")

// NewService returns a service that keeps shuffle files under workDir and
// serves them at addr (the address the driver puts in input locations;
// outputs at addr are read from disk directly). At most slots tasks run at
// once; more wait for a slot. log receives task failures (never data).
func NewService(workDir, addr string, slots int, log *slog.Logger) *Service {
	if slots <= 0 {
		slots = 1
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{workDir: workDir, addr: addr, sources: connectors.NewSourceCache(0),
		slots: make(chan struct{}, slots), log: log, jobs: map[string]*job{}, ended: map[string]bool{}}
}

// Running lists the task attempts in progress (for heartbeats), sorted.
func (s *Service) Running() []*pb.TaskAttemptId {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pb.TaskAttemptId
	for _, j := range s.jobs {
		for k := range j.running {
			out = append(out, &pb.TaskAttemptId{JobId: j.id, Stage: int32(k.stage), Task: int32(k.task), Attempt: int32(k.attempt)})
		}
	}
	slices.SortFunc(out, func(a, b *pb.TaskAttemptId) int {
		if c := strings.Compare(a.JobId, b.JobId); c != 0 {
			return c
		}
		if a.Stage != b.Stage {
			return int(a.Stage - b.Stage)
		}
		if a.Task != b.Task {
			return int(a.Task - b.Task)
		}
		return int(a.Attempt - b.Attempt)
	})
	return out
}

// RunTask implements flintpb.ExecutorServer. It returns when the attempt
// has ended. Failures of the task are in the response; a gRPC error is
// returned only when the call itself was cancelled (the attempt's fate is
// then unknown to the caller).
func (s *Service) RunTask(ctx context.Context, req *pb.RunTaskRequest) (resp *pb.RunTaskResponse, err error) {
	start := time.Now()
	// Runs last of the deferred calls, after a panic became a response.
	defer func() {
		if err == nil && resp != nil {
			m := resp.GetMetrics()
			s.Metrics.TaskDone(metrics.TaskStats{OK: resp.GetOk(), ShuffleWriteBytes: m.GetShuffleWriteBytes(),
				ShuffleReadBytes: m.GetShuffleReadBytes(), SpilledBytes: m.GetSpilledBytes()})
		}
	}()
	spec, err := wire.DecodeTask(req.GetTask())
	if err != nil {
		return failed(err, start), nil
	}
	key := attemptKey{spec.Task.Stage.ID, spec.Task.Index, spec.Attempt}
	what := fmt.Sprintf("job %q stage %d task %d attempt %d", spec.JobID, key.stage, key.task, key.attempt)
	opts := req.GetOptions()
	if opts.GetBatchSize() < 0 {
		return failed(fmt.Errorf("%s: negative batch size %d", what, opts.GetBatchSize()), start), nil
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	j, err := s.begin(spec.JobID, key, cancel)
	if err != nil {
		return failed(fmt.Errorf("%s: %w", what, err), start), nil
	}
	defer s.end(j, key)
	// When the attempt is cancelled, the time it took to stop is logged.
	var ended time.Time
	endedSet := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() { ended = time.Now(); close(endedSet) })
	defer stopWatch()
	cancelled := func() (*pb.RunTaskResponse, error) {
		if stopWatch() {
			// ctx has ended, but its watch had not started yet: the
			// task noticed at once.
			ended = time.Now()
		} else {
			<-endedSet
		}
		s.log.Info("task cancelled", "job", spec.JobID, "stage", key.stage, "task", key.task, "attempt", key.attempt,
			"cause", context.Cause(ctx).Error(), "stopped_in", time.Since(ended).Round(time.Microsecond))
		return s.cancelled(ctx, what, start)
	}

	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return cancelled()
	}
	defer func() { <-s.slots }()

	defer func() {
		if r := recover(); r != nil {
			s.log.Error("task panicked", "job", spec.JobID, "stage", key.stage, "task", key.task, "attempt", key.attempt, "stack", string(debug.Stack()))
			resp, err = failed(fmt.Errorf("%s: internal error: %v", what, r), start), nil
		}
	}()
	if n := opts.GetBatchSize(); n > 0 {
		ctx = exec.WithBatchSize(ctx, int(n))
	}
	if s.Memory != nil {
		ctx = mempool.WithPool(ctx, s.Memory)
	}
	if s.Allocator != nil {
		ctx = exec.WithAllocator(ctx, s.Allocator)
	}
	ctx = spill.WithManager(ctx, j.spills)
	stats := executor.NewStats()
	ctx = executor.WithStats(ctx, stats)
	resp, runErr := s.run(ctx, j, spec)
	resp.Metrics.DurationMs = time.Since(start).Milliseconds()
	resp.Metrics.PeakMemoryBytes, resp.Metrics.SpilledBytes = stats.Totals()
	if runErr == nil {
		return resp, nil
	}
	if ctx.Err() != nil {
		return cancelled()
	}
	resp.Ok, resp.Error = false, fmt.Sprintf("%s: %v", what, runErr)
	for _, f := range shuffle.FetchFailures(runErr) {
		resp.FetchFailures = append(resp.FetchFailures, &pb.FetchFailure{Exchange: int32(f.Exchange),
			MapTask: int32(f.MapTask), Attempt: int32(f.Attempt), Address: f.Address, Error: f.Err.Error()})
	}
	// The error text goes to the driver; it may quote values of the data,
	// so the log only says which attempt failed and how.
	s.log.Warn("task failed", "job", spec.JobID, "stage", key.stage, "task", key.task, "attempt", key.attempt,
		"fetch_failures", len(resp.FetchFailures))
	return resp, nil
}

// run executes the attempt and commits its output. The response carries
// the metrics and output schema; its Ok is set on success.
func (s *Service) run(ctx context.Context, j *job, spec *wire.TaskSpec) (*pb.RunTaskResponse, error) {
	resp := &pb.RunTaskResponse{Metrics: &pb.TaskMetrics{}}
	for id, sch := range spec.ExchangeSchemas {
		j.env.SetExchangeSchema(id, sch)
	}
	store := &taskStore{files: j.files, reader: j.reader, attempt: spec.Attempt, inputs: map[int][]shuffle.MapOutputLocation{}}
	for id, locs := range spec.Inputs {
		out := make([]shuffle.MapOutputLocation, len(locs))
		for i, l := range locs {
			out[i] = shuffle.MapOutputLocation{Address: l.ExecutorAddress, MapTask: l.MapTask, Attempt: l.Attempt}
		}
		store.inputs[id] = out
	}
	for _, sp := range spec.Task.Splits {
		if sp.Rows > 0 {
			resp.Metrics.InputRows += sp.Rows
		}
	}
	st := spec.Task.Stage
	if physical.WriteOf(st) != nil {
		resp, err := s.runWrite(ctx, j, spec, store, resp)
		return resp, store.withFailures(ctx, err)
	}
	result, err := executor.Run(ctx, j.env.WithStore(store), spec.Task)
	if err == nil && st.Output == nil {
		// The result of a final-stage task is kept like map output, as
		// exchange <stage ID> with one partition, for the driver to fetch.
		err = shuffle.PutAll(ctx, store, st.ID, spec.Task.Index, [][]arrow.RecordBatch{result})
	}
	m := resp.Metrics
	m.ShuffleReadRows, m.ShuffleReadBytes = store.readRows.Load(), store.readBytes.Load()
	m.RowsOut, m.BytesOut = store.writeRows.Load(), store.writeBytes.Load()
	if st.Output != nil {
		m.ShuffleWriteRows, m.ShuffleWriteBytes = m.RowsOut, m.BytesOut
	}
	if err != nil {
		return resp, store.withFailures(ctx, err)
	}
	schema, ok := j.env.ExchangeSchema(st.ID)
	if !ok {
		return resp, fmt.Errorf("internal error: stage %d recorded no output schema", st.ID)
	}
	if resp.OutputSchema, err = wire.EncodeArrowSchema(schema); err != nil {
		return resp, fmt.Errorf("output schema: %w", err)
	}
	resp.Ok = true
	return resp, nil
}

// cancelled answers an attempt stopped by its context: a gRPC error when
// the call itself was cancelled, else a task failure naming why (the job
// ended or the executor is stopping).
func (s *Service) cancelled(ctx context.Context, what string, start time.Time) (*pb.RunTaskResponse, error) {
	cause := context.Cause(ctx)
	if errors.Is(cause, errJobEnded) || errors.Is(cause, errShutdown) {
		return failed(fmt.Errorf("%s: %w", what, cause), start), nil
	}
	return nil, status.FromContextError(ctx.Err()).Err()
}

func failed(err error, start time.Time) *pb.RunTaskResponse {
	return &pb.RunTaskResponse{Error: err.Error(), Metrics: &pb.TaskMetrics{DurationMs: time.Since(start).Milliseconds()}}
}

// begin registers a running attempt of jobID, creating the job's state on
// its first task.
func (s *Service) begin(jobID string, key attemptKey, cancel context.CancelCauseFunc) (*job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errShutdown
	}
	if s.ended[jobID] {
		return nil, errJobEnded
	}
	j := s.jobs[jobID]
	if j == nil {
		files, err := shuffle.NewFileStore(s.workDir, jobID)
		if err != nil {
			return nil, err
		}
		j = &job{id: jobID, env: executor.NewEnv(nil, s.sources), files: files,
			spills: spill.NewManager(shuffle.JobDir(s.workDir, jobID)),
			reader: shuffle.NewRemoteReader(s.workDir, jobID, s.addr), running: map[attemptKey]context.CancelCauseFunc{}}
		s.jobs[jobID] = j
	}
	if _, dup := j.running[key]; dup {
		return nil, errors.New("this attempt is already running")
	}
	j.running[key] = cancel
	j.active.Add(1)
	s.handlers.Add(1)
	return j, nil
}

func (s *Service) end(j *job, key attemptKey) {
	s.mu.Lock()
	delete(j.running, key)
	s.mu.Unlock()
	j.active.Done()
	s.handlers.Done()
}

// EndJob implements flintpb.ExecutorServer: it cancels the job's running
// attempts, waits for them, drops its in-memory state and removes its
// shuffle files. Ending an unknown or already ended job succeeds.
func (s *Service) EndJob(_ context.Context, req *pb.EndJobRequest) (*pb.EndJobResponse, error) {
	id := req.GetJobId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "end job: missing job id")
	}
	s.mu.Lock()
	j := s.jobs[id]
	delete(s.jobs, id)
	if !s.ended[id] {
		s.ended[id] = true
		s.endedOrder = append(s.endedOrder, id)
		if len(s.endedOrder) > endedJobsKept {
			delete(s.ended, s.endedOrder[0])
			s.endedOrder = s.endedOrder[1:]
		}
	}
	s.mu.Unlock()
	if j == nil {
		// Ended before: what an earlier EndJob kept goes now.
		if req.KeepExchange == nil {
			if err := shuffle.RemoveJobDir(s.workDir, id); err != nil {
				return nil, status.Errorf(codes.Internal, "end job %q: %v", id, err)
			}
		}
		return &pb.EndJobResponse{}, nil
	}
	keep := -1
	if req.KeepExchange != nil {
		keep = int(req.GetKeepExchange())
	}
	if err := s.dropJob(j, errJobEnded, keep); err != nil {
		return nil, status.Errorf(codes.Internal, "end job %q: %v", id, err)
	}
	return &pb.EndJobResponse{}, nil
}

// dropJob cancels j's running attempts (j is no longer in s.jobs), waits
// for them and releases everything the job holds.
func (s *Service) dropJob(j *job, cause error, keep int) error {
	s.mu.Lock()
	for _, c := range j.running {
		c(cause)
	}
	s.mu.Unlock()
	j.active.Wait()
	j.env.Close()
	var remove error
	if keep >= 0 {
		remove = j.files.RemoveJobExcept(j.id, keep)
	} else {
		remove = j.files.RemoveJob(j.id)
	}
	return errors.Join(j.reader.Close(), j.spills.Close(), remove)
}

// Close refuses new tasks, cancels the running ones, waits for them and
// ends every job (removing its shuffle files). Idempotent.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	jobs := make([]*job, 0, len(s.jobs))
	for id, j := range s.jobs {
		jobs = append(jobs, j)
		delete(s.jobs, id)
	}
	s.mu.Unlock()
	var errs []error
	for _, j := range jobs {
		errs = append(errs, s.dropJob(j, errShutdown, -1))
	}
	s.handlers.Wait()
	s.dropTrainSets()
	return errors.Join(errs...)
}
