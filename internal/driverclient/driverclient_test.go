package driverclient

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/flint-engine/flint/proto/flintpb"
)

func TestError(t *testing.T) {
	c := &Conn{Addr: "h:1"}
	for _, tc := range []struct {
		what string
		err  error
		want string
		is   error
	}{
		{"", status.Error(codes.NotFound, "no job x"), "driver h:1: no job x", nil},
		{"job x", status.Error(codes.NotFound, "no job x"), "job x: no job x", nil},
		{"", status.Error(codes.Unavailable, "refused"), "driver h:1 unavailable: refused", nil},
		{"job x", status.Error(codes.Unavailable, "refused"), "job x: driver h:1 unavailable: refused", nil},
		{"", status.Error(codes.Canceled, "x"), "context canceled", context.Canceled},
		{"job x", status.Error(codes.DeadlineExceeded, "x"), "job x: context deadline exceeded", context.DeadlineExceeded},
		{"job x", context.Canceled, "job x: context canceled", context.Canceled},
		{"", errors.New("boom"), "driver h:1: boom", nil},
	} {
		got := c.Error(tc.what, tc.err)
		if got.Error() != tc.want {
			t.Errorf("Error(%q, %v) = %q, want %q", tc.what, tc.err, got, tc.want)
		}
		if tc.is != nil && !errors.Is(got, tc.is) {
			t.Errorf("Error(%q, %v) = %v, not %v", tc.what, tc.err, got, tc.is)
		}
	}
	if c.Error("x", nil) != nil {
		t.Error("Error of nil is not nil")
	}
}

// blockingDriver runs one job that runs until it is cancelled; it records
// Cancel calls and Watch streams.
type blockingDriver struct {
	pb.UnimplementedDriverServer
	mu        sync.Mutex
	cancelled []*pb.CancelRequest
	watches   int
	ended     chan struct{} // closed by the first Cancel
	watching  chan struct{}
}

func (d *blockingDriver) Watch(req *pb.WatchRequest, stream grpc.ServerStreamingServer[pb.JobEvent]) error {
	d.mu.Lock()
	d.watches++
	d.mu.Unlock()
	status := func(s pb.JobState) error {
		return stream.Send(&pb.JobEvent{Event: &pb.JobEvent_Status{Status: &pb.JobStatus{JobId: req.JobId, State: s}}})
	}
	if err := status(pb.JobState_JOB_STATE_RUNNING); err != nil {
		return err
	}
	d.watching <- struct{}{}
	select {
	case <-d.ended:
		return status(pb.JobState_JOB_STATE_CANCELLED)
	case <-stream.Context().Done():
		return stream.Context().Err()
	}
}

func (d *blockingDriver) Cancel(_ context.Context, req *pb.CancelRequest) (*pb.CancelResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cancelled) == 0 {
		close(d.ended)
	}
	d.cancelled = append(d.cancelled, req)
	return &pb.CancelResponse{}, nil
}

func startBlockingDriver(t *testing.T) (*blockingDriver, *Conn) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &blockingDriver{watching: make(chan struct{}, 10), ended: make(chan struct{})}
	gs := grpc.NewServer()
	pb.RegisterDriverServer(gs, d)
	done := make(chan struct{})
	go func() { defer close(done); gs.Serve(lis) }()
	c, err := Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		gs.Stop()
		<-done
	})
	return d, c
}

// TestAwaitCancelsTheJob: when the caller's context ends while a job
// runs, Await asks the driver to cancel it, giving the context's cause,
// follows it to its end and returns the context's error.
func TestAwaitCancelsTheJob(t *testing.T) {
	timedOut := errors.New("query timed out after 50ms (--timeout)")
	for _, tc := range []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		want     error
		reason   string
		timedOut bool
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled, "client: context canceled", false},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, context.DeadlineExceeded, "client: context deadline exceeded", true},
		{"deadline with a cause", func() (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(context.Background(), 50*time.Millisecond, timedOut)
		}, context.DeadlineExceeded, "client: " + timedOut.Error(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, c := startBlockingDriver(t)
			ctx, cancel := tc.ctx()
			defer cancel()
			st, err := c.Await(ctx, "job-1")
			if st != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Await = %v, %v; want %v", st, err, tc.want)
			}
			select {
			case <-d.watching:
			default:
				t.Fatal("Await never watched the job")
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			if len(d.cancelled) != 1 || d.cancelled[0].JobId != "job-1" || d.cancelled[0].Reason != tc.reason || d.cancelled[0].TimedOut != tc.timedOut {
				t.Fatalf("cancel requests %v, want one for job-1 saying %q (timed out: %v)", d.cancelled, tc.reason, tc.timedOut)
			}
			if d.watches != 2 {
				t.Fatalf("%d Watch calls, want 2: one until the cancel, one to the job's end", d.watches)
			}
		})
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// replayingDriver serves a job's event log as the cluster driver does:
// every Watch replays it from the start. The first stream drops after
// part of it; the second sends it all, up to the final status.
type replayingDriver struct {
	pb.UnimplementedDriverServer
	log     []*pb.JobEvent
	mu      sync.Mutex
	watches int
}

func (d *replayingDriver) Watch(req *pb.WatchRequest, stream grpc.ServerStreamingServer[pb.JobEvent]) error {
	d.mu.Lock()
	d.watches++
	n := len(d.log)
	if d.watches == 1 {
		n = 3 // then the stream ends without a final status
	}
	d.mu.Unlock()
	for _, ev := range d.log[:n] {
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	return nil
}

func (d *replayingDriver) Status(_ context.Context, req *pb.StatusRequest) (*pb.JobStatus, error) {
	return &pb.JobStatus{JobId: req.JobId, State: pb.JobState_JOB_STATE_RUNNING}, nil
}

// TestWithEventsOnce: a Watch stream that drops is followed again, and
// the events it replays reach the WithEvents function once, in order.
func TestWithEventsOnce(t *testing.T) {
	status := func(s pb.JobState) *pb.JobEvent {
		return &pb.JobEvent{Event: &pb.JobEvent_Status{Status: &pb.JobStatus{JobId: "job-1", State: s}}}
	}
	task := func(i int32) *pb.JobEvent {
		return &pb.JobEvent{Event: &pb.JobEvent_Task{Task: &pb.TaskEvent{Id: &pb.TaskAttemptId{Task: i}, State: pb.TaskState_TASK_STATE_SUCCEEDED}}}
	}
	d := &replayingDriver{log: []*pb.JobEvent{
		status(pb.JobState_JOB_STATE_RUNNING), task(0), task(1), task(2),
		{Event: &pb.JobEvent_Stage{Stage: &pb.StageEvent{Completed: true, Tasks: 3}}},
		status(pb.JobState_JOB_STATE_SUCCEEDED),
	}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterDriverServer(gs, d)
	done := make(chan struct{})
	go func() { defer close(done); gs.Serve(lis) }()
	defer func() { gs.Stop(); <-done }()
	c, err := Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var got []*pb.JobEvent
	ctx := WithEvents(context.Background(), func(ev *pb.JobEvent) { got = append(got, ev) })
	st, err := c.Wait(ctx, "job-1")
	if err != nil || st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("Wait = %v, %v; want succeeded", st, err)
	}
	if d.watches != 2 {
		t.Fatalf("%d Watch calls, want 2", d.watches)
	}
	if len(got) != len(d.log) {
		t.Fatalf("%d events passed on, want the log's %d, each once", len(got), len(d.log))
	}
	for i := range got {
		if !proto.Equal(got[i], d.log[i]) {
			t.Errorf("event %d = %v, want %v", i, got[i], d.log[i])
		}
	}
}
