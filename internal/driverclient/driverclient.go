// Package driverclient is the client side of the cluster driver's job
// API shared by sessions made with flint.WithDriver and the flint
// command's submit, status and cancel: the connection, the mapping of
// gRPC errors to Go errors, and following a job to its end.
package driverclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// Conn is a connection to a cluster driver, or to every member of a
// replicated driver group (see Group).
type Conn struct {
	Addr   string
	Client pb.DriverClient
	conn   io.Closer
	// group is set when Addr lists several drivers.
	group *Group
}

// Dial connects to the driver at addr, or to the group of drivers when
// addr is a comma-separated list (calls then go to the leader, see
// Group). gRPC connects lazily: an unreachable driver shows in the first
// call.
func Dial(addr string) (*Conn, error) {
	if addrs := SplitAddrs(addr); len(addrs) > 1 {
		g, err := NewGroup(addrs, shuffle.DialOptions()...)
		if err != nil {
			return nil, err
		}
		return &Conn{Addr: strings.Join(addrs, ","), Client: pb.NewDriverClient(g), conn: g, group: g}, nil
	}
	conn, err := grpc.NewClient(addr, shuffle.DialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("driver %s: %w", addr, err)
	}
	return &Conn{Addr: addr, Client: pb.NewDriverClient(conn), conn: conn}, nil
}

// Replicated reports whether the connection is to a group of drivers
// (Dial was given several addresses): a call that fails because the
// leader went may then be made again.
func (c *Conn) Replicated() bool { return c.group != nil }

// Close closes the connection.
func (c *Conn) Close() error { return c.conn.Close() }

// Error turns a gRPC error from the driver into a Go error carrying the
// driver's message, prefixed with what was asked ("job X", "submit")
// when what is not empty, else naming the driver. Cancellation and
// deadlines come back as (wrapping) context.Canceled and
// context.DeadlineExceeded; an unreachable driver is named.
func (c *Conn) Error(what string, err error) error {
	if err == nil {
		return nil
	}
	prefix := ""
	if what != "" {
		prefix = what + ": "
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return wrap(prefix, err) // the caller's context ended (see Wait)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%sdriver %s: %w", prefix, c.Addr, err)
	}
	switch st.Code() {
	case codes.Canceled:
		return wrap(prefix, context.Canceled)
	case codes.DeadlineExceeded:
		return wrap(prefix, context.DeadlineExceeded)
	case codes.Unavailable:
		return fmt.Errorf("%sdriver %s unavailable: %s", prefix, c.Addr, st.Message())
	}
	if what == "" {
		return fmt.Errorf("driver %s: %s", c.Addr, st.Message())
	}
	return fmt.Errorf("%s%s", prefix, st.Message())
}

func wrap(prefix string, err error) error {
	if prefix == "" {
		return err
	}
	return fmt.Errorf("%s%w", prefix, err)
}

// Wait follows job id until the driver reports a final state and returns
// that status. A Watch stream that ends without one (the driver dropped
// it) is followed by a Status call and, while the job runs, a new Watch.
// Errors are the gRPC ones (see Error); when ctx ends first, ctx's error.
func (c *Conn) Wait(ctx context.Context, id string) (*pb.JobStatus, error) {
	seen := 0 // events passed to WithEvents' function
	for {
		st, err := c.watch(ctx, id, &seen)
		if err != nil && c.group != nil && retryable(err) && ctx.Err() == nil {
			// The leader went while the job was followed: its successor
			// knows the job (Status below finds it) and has events of its
			// own, which the next Watch sends from the start.
			st, err, seen = nil, nil, 0
		}
		if err != nil {
			if ended(ctx, err) {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if st != nil && st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			return st, nil
		}
		if st, err = c.Client.Status(ctx, &pb.StatusRequest{JobId: id}); err != nil {
			if ended(ctx, err) {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ended reports whether err, from a call made with ctx, means that ctx
// has ended. The deadline of ctx goes with each call, and the driver may
// see it pass a moment before ctx's own timer fires: a DeadlineExceeded
// status then waits for ctx to catch up.
func ended(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	if !ok || status.Code(err) != codes.DeadlineExceeded {
		return false
	}
	t := time.NewTimer(time.Until(dl) + 100*time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return true
	case <-t.C:
		return false
	}
}

// CancelTimeout bounds the Cancel call CancelJob makes, and how long
// Await then waits for the cancelled job to end.
const CancelTimeout = 5 * time.Second

// Await follows job id to its end, as Wait does; when ctx ends first, it
// asks the driver to cancel the job (CancelJob, giving context.Cause(ctx)
// as the reason), waits for the job to end (at most CancelTimeout: a
// cancelled write has then been swept from its target) and returns ctx's
// error. A job whose client gave up never runs on for nobody. A final
// status that arrives when ctx has already ended is returned as it is.
func (c *Conn) Await(ctx context.Context, id string) (*pb.JobStatus, error) {
	st, err := c.Wait(ctx, id)
	if st == nil && ctx.Err() != nil {
		c.Abandon(ctx, id)
		return nil, ctx.Err()
	}
	return st, err
}

// Abandon ends job id for a client whose ctx has ended, giving
// context.Cause(ctx) as the reason: cancelled, or timed out when the
// context's deadline passed. It waits for the job to end, at most
// CancelTimeout.
func (c *Conn) Abandon(ctx context.Context, id string) {
	cause := context.Cause(ctx)
	if c.endJob(id, "client: "+cause.Error(), errors.Is(ctx.Err(), context.DeadlineExceeded)) != nil {
		return // unknown or unreachable: nothing to wait for
	}
	wctx, stop := context.WithTimeout(context.WithoutCancel(ctx), CancelTimeout)
	defer stop()
	c.Wait(wctx, id)
}

// CancelJob asks the driver to cancel job id, on a context of its own
// bounded by CancelTimeout (the caller's has usually ended). Cancelling a
// finished job does nothing; the error is the gRPC one.
func (c *Conn) CancelJob(id, reason string) error { return c.endJob(id, reason, false) }

// endJob cancels job id, or with timedOut ends it TIMED_OUT (the client's
// deadline passed).
func (c *Conn) endJob(id, reason string, timedOut bool) error {
	ctx, stop := context.WithTimeout(context.Background(), CancelTimeout)
	defer stop()
	_, err := c.Client.Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: reason, TimedOut: timedOut})
	return err
}

// eventsKey carries the function WithEvents gives.
type eventsKey struct{}

// WithEvents returns a context whose Wait and Await calls pass every
// event of the job's Watch streams to fn (a progress display), from the
// calling goroutine, each once: the driver replays a job's events from
// its start on every Watch, so those a dropped stream already passed are
// skipped when Wait follows the job again.
func WithEvents(ctx context.Context, fn func(*pb.JobEvent)) context.Context {
	return context.WithValue(ctx, eventsKey{}, fn)
}

// watch reads the job's event stream and returns the last status seen; a
// clean end of the stream returns a nil error. The first *seen events go
// to WithEvents' function no more; *seen counts the stream's events.
func (c *Conn) watch(ctx context.Context, id string, seen *int) (*pb.JobStatus, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := c.Client.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		return nil, err
	}
	var hung atomic.Bool
	if c.group != nil {
		go c.probe(ctx, func() { hung.Store(true); stop() })
	}
	on, _ := ctx.Value(eventsKey{}).(func(*pb.JobEvent))
	n := 0
	var last *pb.JobStatus
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return last, nil
		}
		if err != nil && hung.Load() {
			return last, status.Errorf(codes.Unavailable, "driver %s does not answer within %s", c.group.Leader(), ProbeTimeout)
		}
		if err != nil {
			return last, err
		}
		if n++; on != nil && n > *seen {
			on(ev)
			*seen = n
		}
		if st := ev.GetStatus(); st != nil {
			last = st
			if st.GetState() != pb.JobState_JOB_STATE_RUNNING {
				return last, nil
			}
		}
	}
}

// ProbeInterval is how often a job followed on a driver group asks the
// member it follows whether it still answers; ProbeTimeout how long it
// waits. A member that hangs (a stopped process, a machine gone without
// closing its connections) sends nothing more on the stream, and gRPC's
// keepalive — at least 10s between pings — notices only after 12s; the
// probe notices within about 2s, and the job is followed on another
// member (a probe that times out moves the group's calls on).
const (
	ProbeInterval = time.Second
	ProbeTimeout  = 1500 * time.Millisecond
)

// probe asks the group's current member about itself every ProbeInterval
// until ctx ends, and calls hung when it does not answer in time.
func (c *Conn) probe(ctx context.Context, hung func()) {
	t := time.NewTicker(ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
		_, err := c.Client.Member(pctx, &pb.MemberRequest{})
		cancel()
		if status.Code(err) == codes.DeadlineExceeded && ctx.Err() == nil {
			hung()
			return
		}
	}
}

// StateName is a job state as users read it: running, succeeded, failed,
// cancelled, timed_out.
func StateName(s pb.JobState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "JOB_STATE_"))
}
