package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/coordinator"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// executorConn is a live executor and the one gRPC connection the driver
// keeps to it (Executor service and Arrow Flight share it).
type executorConn struct {
	id, addr string
	slots    int
	lastSeen time.Time
	conn     *grpc.ClientConn
	exec     pb.ExecutorClient
	flight   flight.FlightServiceClient
}

// close closes the connection; its error (an already broken connection)
// changes nothing for a lost executor.
func (e *executorConn) close() { _ = e.conn.Close() }

// RegisterExecutor implements flintpb.DriverServer.
func (d *Driver) RegisterExecutor(_ context.Context, req *pb.RegisterExecutorRequest) (*pb.RegisterExecutorResponse, error) {
	id, addr, slots := req.GetExecutorId(), req.GetAddress(), int(req.GetSlots())
	switch {
	case id == "":
		return nil, status.Error(codes.InvalidArgument, "register executor: missing executor id")
	case addr == "":
		return nil, status.Errorf(codes.InvalidArgument, "register executor %s: missing address", id)
	case slots <= 0:
		return nil, status.Errorf(codes.InvalidArgument, "register executor %s: slots must be positive, got %d", id, slots)
	}
	conn, err := grpc.NewClient(addr, shuffle.DialOptions()...)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "register executor %s: address %q: %v", id, addr, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		conn.Close()
		return nil, status.Error(codes.Unavailable, "driver is shutting down")
	}
	// A process that registers again under its ID, or a new process at
	// the address of one not yet declared lost, replaces it: whatever the
	// old one held is gone.
	for _, other := range d.state.ExecutorIDs() {
		if e := d.execs[other]; e != nil && (other == id || e.addr == addr) {
			d.loseExecutorLocked(other, fmt.Sprintf("replaced by executor %s at %s", id, addr))
		}
	}
	// previous_id only matters to a new leader of a replicated group,
	// whose state has the executors of the former one detached.
	if _, err := d.applyLocked(coordinator.ExecutorRegistered{ID: id, Addr: addr, Slots: slots, Replaces: req.GetPreviousId()}); err != nil {
		conn.Close()
		if d.rep != nil && !d.leading {
			return nil, d.notLeaderLocked()
		}
		return nil, status.Errorf(codes.InvalidArgument, "register executor %s: %v", id, err)
	}
	d.execs[id] = &executorConn{id: id, addr: addr, slots: slots, lastSeen: time.Now(), conn: conn,
		exec: pb.NewExecutorClient(conn), flight: flight.NewFlightServiceClient(conn)}
	d.m.ExecutorsLive(len(d.execs))
	d.log.Info("executor registered", "executor", id, "addr", addr, "slots", slots, "executors", len(d.execs))
	d.scheduleLocked()
	return &pb.RegisterExecutorResponse{HeartbeatIntervalMs: d.cfg.HeartbeatInterval.Milliseconds()}, nil
}

// Heartbeat implements flintpb.DriverServer. An executor the driver does
// not know as live is told to register again.
func (d *Driver) Heartbeat(_ context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.execs[req.GetExecutorId()]
	if e == nil || d.closed {
		return &pb.HeartbeatResponse{Reregister: true}, nil
	}
	e.lastSeen = time.Now()
	return &pb.HeartbeatResponse{}, nil
}

// loseExecutorLocked declares an executor lost: the state reschedules its
// attempts and the map outputs it held that are still needed, its RunTask
// calls are cancelled and its connection closed.
func (d *Driver) loseExecutorLocked(id, reason string) {
	e := d.execs[id]
	if e == nil {
		return
	}
	delete(d.execs, id)
	d.m.ExecutorLost()
	d.m.ExecutorsLive(len(d.execs))
	if _, err := d.applyLocked(coordinator.ExecutorLost{ID: id}); err != nil && d.leading {
		d.log.Error("internal error: executor lost", "executor", id, "err", err)
	}
	// Its attempts are lost, and so are attempts elsewhere that the state
	// sent back to pending because they read map outputs it held.
	lost := 0
	for k, a := range d.attempts {
		msg := "executor " + id + " lost: " + reason
		switch {
		case a.executor == id:
			lost++
		case !d.currentLocked(k) && d.runningLocked(k.job):
			msg = "input map outputs lost with executor " + id + ": " + reason
		default:
			continue
		}
		a.cancel()
		delete(d.attempts, k)
		if j := d.jobs[k.job]; j != nil {
			j.taskEventLocked(k, a.executor, pb.TaskState_TASK_STATE_LOST, msg, nil)
		}
	}
	e.close()
	d.log.Warn("executor lost", "executor", id, "addr", e.addr, "reason", reason, "running_attempts", lost, "executors", len(d.execs))
}

// runningLocked reports whether the state has the job running.
func (d *Driver) runningLocked(jobID string) bool {
	cj, ok := d.state.Jobs[jobID]
	return ok && !cj.Status.Done()
}

// liveSlotsLocked is the total slot count of the live executors.
func (d *Driver) liveSlotsLocked() int {
	n := 0
	for _, e := range d.execs {
		n += e.slots
	}
	return n
}

// endJobOnExecutorsLocked asks every live executor to drop a job's state
// and shuffle files. The returned group is done when every call has
// returned (the executors' attempts of the job have then ended).
func (d *Driver) endJobOnExecutorsLocked(jobID string) *sync.WaitGroup {
	return d.endJobKeepingLocked(jobID, nil)
}

// endJobKeepingLocked is endJobOnExecutorsLocked; with keep set, the
// executors keep that exchange's outputs (EndJobRequest.keep_exchange)
// until a later EndJob without it.
func (d *Driver) endJobKeepingLocked(jobID string, keep *int32) *sync.WaitGroup {
	calls := &sync.WaitGroup{}
	for _, e := range d.execs {
		d.wg.Add(1)
		calls.Add(1)
		go func() {
			defer d.wg.Done()
			defer calls.Done()
			ctx, cancel := context.WithTimeout(d.endCtx, endJobTimeout)
			defer cancel()
			if _, err := e.exec.EndJob(ctx, &pb.EndJobRequest{JobId: jobID, KeepExchange: keep}); err != nil {
				d.log.Warn("end job on executor failed", "job", jobID, "executor", e.id, "addr", e.addr, "err", err)
			}
		}()
	}
	return calls
}
