package flint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/internal/driverclient"
	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/wire"
)

// WithDriver runs the session's queries on a cluster: the bound plan of
// every query is sent to the driver at addr (host:port), which plans and
// runs it on its executors. The catalog stays in the session (tables are
// opened here to learn their schemas; executors read the same paths, so
// relative paths are sent absolute and must name files the executors can
// reach). EXPLAIN is planned locally, by the same planner the driver uses.
func WithDriver(addr string) Option { return func(c *config) { c.driver = addr } }

// remote is a session's connection to a cluster driver.
type remote struct{ *driverclient.Conn }

func dialDriver(addr string) (*remote, error) {
	if addr == "" {
		return nil, errors.New("flint: empty driver address")
	}
	c, err := driverclient.Dial(addr)
	if err != nil {
		return nil, fmt.Errorf("flint: %w", err)
	}
	return &remote{c}, nil
}

func (r *remote) close() error { return r.Close() }

// rpcError turns a gRPC error into a Go error carrying the driver's
// message (and naming the driver when it could not be reached).
func (r *remote) rpcError(what string, err error) error {
	if st, ok := status.FromError(err); ok && what == "submit" {
		switch st.Code() {
		case codes.Canceled, codes.DeadlineExceeded, codes.Unavailable, codes.OK:
		default:
			// The driver's message already says what was refused (and may
			// be a planning error the user expects as in local mode).
			return errors.New(st.Message())
		}
	}
	return r.Error(what, err)
}

// JobError is a cluster job that did not succeed: it failed (the message
// is the driver's) or was cancelled.
type JobError struct {
	JobID   string
	State   string // "failed", "cancelled" or "timed_out"
	Message string
}

func (e *JobError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("job %s %s", e.JobID, e.State)
	}
	return e.Message
}

// SubmitOptions are the job-level settings of Session.Submit.
type SubmitOptions struct {
	// Name labels the job for humans (status, driver logs).
	Name string
	// IdempotencyKey: a second Submit with the same key returns the first
	// job's ID instead of starting another job.
	IdempotencyKey string
	// Deadline, when positive, ends the job (state timed_out) that long
	// after submission.
	Deadline time.Duration
	// Rerun: when IdempotencyKey names a job that has finished, run the
	// job again (the key then names the new job) instead of returning it.
	Rerun bool
	// RerunFailed: when IdempotencyKey names a job that has ended without
	// succeeding (failed, cancelled, timed out), run the job again; a
	// running or succeeded job is returned. What an orchestrator's retry
	// of a step wants: never two runs at once, never a second success.
	RerunFailed bool
	// Labels are key=value pairs kept with the job (status, job list,
	// notifications).
	Labels map[string]string
	// Notify lists http(s) URLs the driver POSTs a JSON message to when
	// the job ends, a task is retried or SLA passes (Slack incoming-webhook
	// shape); none: the driver's own (flint driver --notify).
	Notify []string
	// SLA, when positive, posts one alert to the Notify URLs if the job
	// still runs that long after submission; the job keeps running.
	SLA time.Duration

	// write makes the job a dataset write (DataFrameWriter.Save).
	write *connectors.WriteSpec
}

// Submit sends the DataFrame's query to the session's driver (WithDriver)
// and returns the job ID at once, without waiting for the job. existing is
// true when opts.IdempotencyKey matched an earlier job.
func (df *DataFrame) Submit(ctx context.Context, opts SubmitOptions) (jobID string, existing bool, err error) {
	if df.err != nil {
		return "", false, df.err
	}
	if df.s.remote == nil {
		return "", false, errors.New("flint: Submit needs a session with a driver (WithDriver)")
	}
	return df.s.submit(ctx, df.plan, opts)
}

// SubmitSQL submits the last statement of sql, a query or a COPY, to the
// session's driver (WithDriver) as a job and returns its ID at once, as
// DataFrame.Submit does. Earlier statements (CREATE, DROP) take effect
// first, here, as in Session.SQL. A COPY job writes its dataset on the
// executors and the driver commits it (manifest last) when the job
// succeeds, as a COPY run by Session.SQL on a cluster; a target that the
// write's mode refuses (mode error and data already there) fails the
// submit itself. JobWriteResult reads what a finished COPY job wrote.
func (s *Session) SubmitSQL(ctx context.Context, sql string, opts SubmitOptions) (jobID string, existing bool, err error) {
	if s.remote == nil {
		return "", false, errors.New("flint: SubmitSQL needs a session with a driver (WithDriver)")
	}
	stmts, err := parser.Parse(sql)
	if err != nil {
		return "", false, err
	}
	if len(stmts) == 0 {
		return "", false, errors.New("no SQL statement given")
	}
	for _, st := range stmts[:len(stmts)-1] {
		if df := s.statement(ctx, sql, st); df.err != nil {
			return "", false, df.err
		}
	}
	switch st := stmts[len(stmts)-1].(type) {
	case *ast.Query:
		n, err := binder.New(s, &s.ids).BindQuery(sql, st)
		if err != nil {
			return "", false, err
		}
		return s.submit(ctx, n, opts)
	case *ast.Copy:
		c, err := binder.New(s, &s.ids).BindCopy(sql, st)
		if err != nil {
			return "", false, err
		}
		spec, err := writeSpec(c.Query, c.To, c.Format, c.Mode, c.PartitionBy, c.Options)
		if err != nil {
			return "", false, err
		}
		opts.write = spec
		return s.submit(ctx, c.Query, opts)
	default:
		return "", false, fmt.Errorf("line %d: the last statement of a job must be a query or a COPY", st.Pos().Line)
	}
}

// JobWriteResult waits for a cluster write job (a COPY submitted with
// SubmitSQL, or DataFrameWriter.Submit) to end and returns what it wrote.
// A job that failed or was cancelled returns its error; Location is left
// empty (the driver does not report it).
func (s *Session) JobWriteResult(ctx context.Context, jobID string) (WriteResult, error) {
	if s.remote == nil {
		return WriteResult{}, errors.New("flint: JobWriteResult needs a session with a driver (WithDriver)")
	}
	_, batches, err := s.fetchResults(ctx, jobID)
	if err != nil {
		return WriteResult{}, err
	}
	defer releaseBatches(batches)
	return writeResultOf(WriteResult{}, "job "+jobID, batches)
}

func (s *Session) submit(ctx context.Context, n plan.Node, o SubmitOptions) (string, bool, error) {
	if o.Deadline < 0 {
		return "", false, fmt.Errorf("flint: negative job deadline %s", o.Deadline)
	}
	req, err := s.submitRequest(n)
	if err != nil {
		return "", false, err
	}
	if o.SLA < 0 {
		return "", false, fmt.Errorf("flint: negative job SLA %s", o.SLA)
	}
	req.Name, req.IdempotencyKey, req.DeadlineMs = o.Name, o.IdempotencyKey, o.Deadline.Milliseconds()
	req.Rerun, req.Labels, req.Notify, req.SlaMs = o.Rerun, o.Labels, o.Notify, o.SLA.Milliseconds()
	req.RerunFailed = o.RerunFailed
	if o.SLA > 0 && req.SlaMs == 0 {
		req.SlaMs = 1
	}
	if o.write != nil {
		req.Write = wire.EncodeWriteSpec(o.write)
	}
	if o.Deadline > 0 && req.DeadlineMs == 0 {
		req.DeadlineMs = 1
	}
	resp, err := s.remote.Client.Submit(ctx, req)
	if err != nil {
		return "", false, s.remote.rpcError("submit", err)
	}
	return resp.GetJobId(), resp.GetExisting(), nil
}

// submitRequest encodes a bound plan, with table locations made absolute,
// and the session's planning options.
func (s *Session) submitRequest(n plan.Node) (*pb.SubmitRequest, error) {
	p, err := wire.EncodeLogical(n)
	if err != nil {
		return nil, err
	}
	if err := absoluteLocations(p.ProtoReflect()); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(n.Schema()))
	for _, c := range n.Schema() {
		names = append(names, c.Name)
	}
	opts := &pb.JobOptions{BatchSize: int32(s.cfg.batchSize), BroadcastRows: s.cfg.broadcastRows}
	if s.cfg.partitionsSet {
		opts.Partitions = int32(s.cfg.partitions)
	}
	if s.cfg.broadcastSet && opts.BroadcastRows == 0 {
		// 0 means "the driver's default" on the wire; the smallest positive
		// threshold broadcasts exactly what 0 does (estimates of no rows).
		opts.BroadcastRows = math.SmallestNonzeroFloat64
	}
	return &pb.SubmitRequest{Plan: p, OutputNames: names, Options: opts}, nil
}

// absoluteLocations rewrites the location of every TableSource in m (scans
// anywhere in the plan, subqueries included) that is a relative local path
// into an absolute one, so executors with other working directories read
// the same files.
func absoluteLocations(m protoreflect.Message) error {
	if ts, ok := m.Interface().(*pb.TableSource); ok {
		loc := ts.GetLocation()
		if loc != "" && !strings.Contains(loc, "://") && !filepath.IsAbs(loc) {
			abs, err := filepath.Abs(loc)
			if err != nil {
				return fmt.Errorf("table %s: %w", ts.GetName(), err)
			}
			ts.Location = abs
		}
		return nil
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = absoluteLocations(l.Get(i).Message())
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				err = absoluteLocations(mv.Message())
				return err == nil
			})
		default:
			err = absoluteLocations(v.Message())
		}
		return err == nil
	})
	return err
}

// submitTimeout bounds a query's Submit call, which its context does not
// cancel.
const submitTimeout = 30 * time.Second

// runRemote runs a plan on the cluster and returns the result batches as
// run does: named after the plan's columns, empty batches dropped.
func (s *Session) runRemote(ctx context.Context, n plan.Node) ([]arrow.RecordBatch, error) {
	return s.runRemoteJob(ctx, n, SubmitOptions{})
}

// runRemoteJob is runRemote with job options (a write). When ctx has a
// deadline, it is the job's deadline too (SubmitOptions.Deadline): a job
// whose client went away still ends when nobody waits for it any more.
func (s *Session) runRemoteJob(ctx context.Context, n plan.Node, o SubmitOptions) ([]arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok && o.Deadline == 0 {
		o.Deadline = max(time.Until(dl), time.Millisecond)
	}
	// Submit is not cut short by ctx: a job the driver created while the
	// call was being cancelled would run on with nobody to cancel it.
	// Once the job ID is known, a cancelled ctx cancels the job.
	sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), submitTimeout)
	id, _, err := s.submit(sctx, n, o)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if ctx.Err() != nil {
		s.remote.Abandon(ctx, id)
		return nil, ctx.Err()
	}
	st, err := s.waitJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		if err := ctx.Err(); err != nil {
			// The job failed on the deadline ctx gave it, or ended while
			// ctx did: the caller's reason comes first.
			return nil, err
		}
		return nil, jobError(st)
	}
	_, batches, err := s.fetchResults(ctx, id)
	return batches, err
}

// JobResult waits for a cluster job (DataFrame.Submit, SubmitSQL) to end
// and returns its result: the schema, and the batches (the caller
// releases them). A job that did not succeed returns its error.
func (s *Session) JobResult(ctx context.Context, jobID string) (*arrow.Schema, []arrow.RecordBatch, error) {
	if s.remote == nil {
		return nil, nil, errors.New("flint: JobResult needs a session with a driver (WithDriver)")
	}
	return s.fetchResults(ctx, jobID)
}

func jobError(st *pb.JobStatus) error {
	return &JobError{JobID: st.GetJobId(), State: driverclient.StateName(st.GetState()), Message: st.GetError()}
}

// waitJob follows the job until a final status; when ctx ends first it
// asks the driver to cancel the job and returns ctx's error.
func (s *Session) waitJob(ctx context.Context, id string) (*pb.JobStatus, error) {
	st, err := s.remote.Await(ctx, id)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, s.remote.rpcError("job "+id, err)
	}
	return st, nil
}

// fetchResults reads a finished job's result stream (one Arrow IPC
// stream cut into chunks) into batches from the session's allocator. On
// a driver group, a stream cut because the leader went is read again
// from the start, from the next leader (which has the result too).
func (s *Session) fetchResults(ctx context.Context, id string) (schema *arrow.Schema, batches []arrow.RecordBatch, err error) {
	for tries := 0; ; tries++ {
		var cut bool
		schema, batches, cut, err = s.fetchResultsOnce(ctx, id)
		if !cut || !s.remote.Replicated() || tries >= 3 || ctx.Err() != nil {
			return schema, batches, err
		}
	}
}

// fetchResultsOnce is one reading of fetchResults; cut reports a stream
// that failed as one does when its driver goes.
func (s *Session) fetchResultsOnce(ctx context.Context, id string) (schema *arrow.Schema, batches []arrow.RecordBatch, cut bool, err error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := s.remote.Client.Results(ctx, &pb.ResultsRequest{JobId: id})
	if err != nil {
		return nil, nil, status.Code(err) == codes.Unavailable, s.remote.rpcError("results of job "+id, err)
	}
	cr := &chunkReader{recv: stream.Recv}
	rd, err := ipc.NewReader(cr, ipc.WithAllocator(s.cfg.mem))
	if err != nil {
		if cr.err != nil {
			return nil, nil, status.Code(cr.err) == codes.Unavailable, s.remote.rpcError("results of job "+id, cr.err)
		}
		return nil, nil, false, fmt.Errorf("results of job %s: %w", id, err)
	}
	defer rd.Release()
	defer func() {
		if err != nil {
			releaseBatches(batches)
			batches = nil
		}
	}()
	for rd.Next() {
		b := rd.RecordBatch()
		if b.NumRows() == 0 {
			continue
		}
		b.Retain()
		batches = append(batches, b)
	}
	if cr.err != nil {
		return nil, nil, status.Code(cr.err) == codes.Unavailable, s.remote.rpcError("results of job "+id, cr.err)
	}
	if err := rd.Err(); err != nil {
		return nil, nil, false, fmt.Errorf("results of job %s: %w", id, err)
	}
	return rd.Schema(), batches, false, nil
}

// chunkReader is an io.Reader over a stream of ResultChunks. A stream
// error other than the end is kept in err (and ends the reading).
type chunkReader struct {
	recv func() (*pb.ResultChunk, error)
	buf  []byte
	err  error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.err != nil {
			return 0, io.EOF
		}
		ch, err := c.recv()
		if err != nil {
			if err != io.EOF {
				c.err = err
			}
			return 0, io.EOF
		}
		c.buf = ch.GetData()
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func releaseBatches(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}
