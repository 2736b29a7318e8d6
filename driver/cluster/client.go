package cluster

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/coordinator"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// memoryPool allocates the little Arrow memory the driver builds itself
// (EXPLAIN results); results from executors are decoded with the default
// allocator too.
var memoryPool = memory.DefaultAllocator

func (d *Driver) job(id string) (*job, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j := d.jobs[id]
	if j == nil {
		return nil, status.Errorf(codes.NotFound, "unknown job %q (finished jobs are kept for %s, at most %d)", id, d.cfg.ResultTTL, d.cfg.MaxFinishedJobs)
	}
	return j, nil
}

// Info implements flintpb.DriverServer.
func (d *Driver) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	return &pb.InfoResponse{Models: d.cfg.Models}, nil
}

// Status implements flintpb.DriverServer.
func (d *Driver) Status(_ context.Context, req *pb.StatusRequest) (*pb.JobStatus, error) {
	j, err := d.job(req.GetJobId())
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statusLocked(j), nil
}

// ListJobs implements flintpb.DriverServer: the jobs the driver keeps,
// most recently submitted first (ties: by ID, newest first), without
// their stage progress.
func (d *Driver) ListJobs(_ context.Context, req *pb.ListJobsRequest) (*pb.ListJobsResponse, error) {
	if req.GetLimit() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "list jobs: negative limit %d", req.GetLimit())
	}
	d.mu.Lock()
	jobs := make([]*job, 0, len(d.jobs))
	for _, j := range d.jobs {
		jobs = append(jobs, j)
	}
	sort.Slice(jobs, func(a, b int) bool {
		if !jobs[a].submitted.Equal(jobs[b].submitted) {
			return jobs[a].submitted.After(jobs[b].submitted)
		}
		return jobs[a].id > jobs[b].id
	})
	if n := int(req.GetLimit()); n > 0 && len(jobs) > n {
		jobs = jobs[:n]
	}
	resp := &pb.ListJobsResponse{Jobs: make([]*pb.JobStatus, len(jobs))}
	for i, j := range jobs {
		st := d.statusLocked(j)
		st.Stages = nil
		resp.Jobs[i] = st
	}
	d.mu.Unlock()
	return resp, nil
}

// Cancel implements flintpb.DriverServer. Cancelling a finished job does
// nothing.
func (d *Driver) Cancel(_ context.Context, req *pb.CancelRequest) (*pb.CancelResponse, error) {
	j, err := d.job(req.GetJobId())
	if err != nil {
		return nil, err
	}
	reason := req.GetReason()
	if reason == "" {
		reason = "by the client"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cj, ok := d.state.Jobs[j.id]; ok && j.inState && !cj.Status.Done() {
		var ev coordinator.Event = coordinator.JobCancelled{Job: j.id, Reason: reason}
		if req.GetTimedOut() {
			ev = coordinator.JobTimedOut{Job: j.id, Err: reason}
		}
		if _, err := d.applyLocked(ev); err != nil {
			return nil, status.Errorf(codes.Internal, "cancel job %s: %v", j.id, err)
		}
		d.scheduleLocked()
	}
	return &pb.CancelResponse{}, nil
}

// Watch implements flintpb.DriverServer: it sends the job's events from
// the start (the first is its status at submission) and follows them until
// the final status (with snapshot set, only those recorded so far).
func (d *Driver) Watch(req *pb.WatchRequest, stream grpc.ServerStreamingServer[pb.JobEvent]) error {
	j, err := d.job(req.GetJobId())
	if err != nil {
		return err
	}
	next := 0
	for {
		d.mu.Lock()
		if j.gone {
			err := d.notLeaderLocked()
			d.mu.Unlock()
			return err
		}
		evs := j.events[next:]
		next = len(j.events)
		done, changed := j.done(), j.changed
		d.mu.Unlock()
		for _, ev := range evs {
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
		if done || req.GetSnapshot() {
			return nil
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case <-d.ctx.Done():
			return status.Error(codes.Unavailable, "driver is shutting down")
		}
	}
}

// Results implements flintpb.DriverServer. It waits for the job to end;
// a job that did not succeed has no result and its error is returned.
func (d *Driver) Results(req *pb.ResultsRequest, stream grpc.ServerStreamingServer[pb.ResultChunk]) error {
	j, err := d.job(req.GetJobId())
	if err != nil {
		return err
	}
	for {
		d.mu.Lock()
		if j.gone {
			err := d.notLeaderLocked()
			d.mu.Unlock()
			return err
		}
		done, changed := j.done() && !j.resultPending, j.changed
		state, errText, data := j.state, j.err, j.result
		d.mu.Unlock()
		if done {
			if state != pb.JobState_JOB_STATE_SUCCEEDED {
				return status.Errorf(codes.FailedPrecondition, "job %s %s: %s", j.id, stateName(state), errText)
			}
			for off := 0; off < len(data); off += resultChunkSize {
				if err := stream.Send(&pb.ResultChunk{Data: data[off:min(off+resultChunkSize, len(data))]}); err != nil {
					return err
				}
			}
			return nil
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case <-d.ctx.Done():
			return status.Error(codes.Unavailable, "driver is shutting down")
		}
	}
}

// encodeIPC writes batches as one Arrow IPC stream.
func encodeIPC(schema *arrow.Schema, batches []arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(memoryPool))
	for i, b := range batches {
		if err := w.Write(b); err != nil {
			w.Close()
			return nil, fmt.Errorf("arrow ipc: batch %d: %w", i, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("arrow ipc: %w", err)
	}
	return buf.Bytes(), nil
}
