package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flint-engine/flint/driver/cluster"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/tpch"
)

// receiver is an HTTP endpoint that keeps the notifications posted to it.
type receiver struct {
	URL  string
	mu   sync.Mutex
	msgs []cluster.Notification
}

func startReceiver(t *testing.T) *receiver {
	r := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var n cluster.Notification
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("notification: %s with content type %q", req.Method, req.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(req.Body).Decode(&n); err != nil {
			t.Errorf("notification body: %v", err)
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, n)
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// events returns the notifications of one event kind received so far.
func (r *receiver) events(event string) []cluster.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cluster.Notification
	for _, n := range r.msgs {
		if n.Event == event {
			out = append(out, n)
		}
	}
	return out
}

// TestIdempotencyAfterFinish: a key names its job after the job has
// finished too (no second run); Rerun runs it again under the key.
func TestIdempotencyAfterFinish(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.IdempotencyKey = "nightly-q6"
	first := submit(ctx, t, c, req)
	if _, final := watch(ctx, t, c, first); final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("first run: %v", final)
	}
	again, err := c.Submit(ctx, req)
	if err != nil || !again.Existing || again.JobId != first {
		t.Fatalf("resubmit of a finished job: %v %v, want existing %s", again, err, first)
	}
	req.Rerun = true
	rerun, err := c.Submit(ctx, req)
	if err != nil || rerun.Existing || rerun.JobId == first {
		t.Fatalf("rerun: %v %v, want a new job", rerun, err)
	}
	// While the rerun runs (or once it ended), the key names it.
	req.Rerun = false
	if resp, err := c.Submit(ctx, req); err != nil || resp.JobId != rerun.JobId || !resp.Existing {
		t.Fatalf("resubmit after rerun: %v %v, want %s", resp, err, rerun.JobId)
	}
	if _, final := watch(ctx, t, c, rerun.JobId); final.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("rerun: %v", final)
	}
	// The first run is still kept and still succeeded.
	if st, err := c.Status(ctx, &pb.StatusRequest{JobId: first}); err != nil || st.State != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("first job after rerun: %v %v", st, err)
	}
}

// TestLabelsAndListJobs: labels travel with the job into its status and
// the job list; ListJobs lists newest first and honours its limit.
func TestLabelsAndListJobs(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.Name = "q6"
	req.Labels = map[string]string{"team": "finance", "dag": "nightly"}
	first := submit(ctx, t, c, req)
	watch(ctx, t, c, first)
	req.Name, req.Labels = "q6-bis", nil
	second := submit(ctx, t, c, req)
	watch(ctx, t, c, second)

	st, err := c.Status(ctx, &pb.StatusRequest{JobId: first})
	if err != nil || st.Labels["team"] != "finance" || st.Labels["dag"] != "nightly" || len(st.Labels) != 2 {
		t.Fatalf("status labels: %v %v", st.GetLabels(), err)
	}
	list, err := c.ListJobs(ctx, &pb.ListJobsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Jobs) != 2 || list.Jobs[0].JobId != second || list.Jobs[1].JobId != first {
		t.Fatalf("list: %v, want %s then %s", list.Jobs, second, first)
	}
	if j := list.Jobs[1]; j.Name != "q6" || j.Labels["team"] != "finance" || j.State != pb.JobState_JOB_STATE_SUCCEEDED ||
		j.FinishedUnixMs < j.SubmittedUnixMs || len(j.Stages) != 0 {
		t.Fatalf("listed job %v", j)
	}
	if list, err := c.ListJobs(ctx, &pb.ListJobsRequest{Limit: 1}); err != nil || len(list.Jobs) != 1 || list.Jobs[0].JobId != second {
		t.Fatalf("list with limit 1: %v %v", list, err)
	}
}

// TestStageEvents: every stage of a job starts before its tasks run and
// completes once, before the job's final status.
func TestStageEvents(t *testing.T) {
	ctx := context.Background()
	d, c := startDriver(t, cluster.Config{})
	startExecutor(t, d.Addr(), "exec-a", 2, nil)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(3))
	id := submit(ctx, t, c, submitRequest(t, n))
	stream, err := c.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	started, completed := map[int32]int{}, map[int32]int{}
	var final *pb.JobStatus
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.UnixMs == 0 {
			t.Fatalf("event without a time: %v", ev)
		}
		if final != nil {
			t.Fatalf("event after the final status: %v", ev)
		}
		switch {
		case ev.GetStage() != nil:
			se := ev.GetStage()
			if se.Completed {
				if started[se.Stage] != 1 || se.Tasks <= 0 {
					t.Fatalf("stage %d completed (%d tasks) after %d starts", se.Stage, se.Tasks, started[se.Stage])
				}
				completed[se.Stage]++
			} else {
				started[se.Stage]++
			}
		case ev.GetTask() != nil:
			if te := ev.GetTask(); started[te.Id.Stage] == 0 {
				t.Fatalf("task event before its stage started: %v", te)
			}
		case ev.GetStatus().GetState() != pb.JobState_JOB_STATE_RUNNING:
			final = ev.GetStatus()
		}
	}
	if final.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("final %v", final)
	}
	if len(completed) < 2 || len(completed) != len(started) {
		t.Fatalf("stages started %v, completed %v", started, completed)
	}
	for s, k := range completed {
		if k != 1 || started[s] != 1 {
			t.Fatalf("stage %d: %d starts, %d completions", s, started[s], k)
		}
	}
}

// TestNotifyFailure: a job that fails posts exactly one failure
// notification, after one per retried attempt; the driver's default URL
// hears of a job that names none.
func TestNotifyFailure(t *testing.T) {
	ctx := context.Background()
	own, dflt := startReceiver(t), startReceiver(t)
	d, c := startDriver(t, cluster.Config{Notify: []string{dflt.URL}})
	startExecutorFailing(t, d.Addr(), "exec-a", 2, func(r *pb.RunTaskRequest) string {
		if r.GetTask().GetStage().GetId() == 0 && r.GetTask().GetIndex() == 0 {
			return "corrupt row group"
		}
		return ""
	})
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.Name = "q6"
	req.Options = &pb.JobOptions{MaxAttempts: 2}
	req.Notify = []string{own.URL}
	id := submit(ctx, t, c, req)
	if _, final := watch(ctx, t, c, id); final.State != pb.JobState_JOB_STATE_FAILED {
		t.Fatalf("final %v", final)
	}
	req.Notify, req.Options = nil, &pb.JobOptions{MaxAttempts: 1}
	other := submit(ctx, t, c, req)
	watch(ctx, t, c, other)
	d.Stop() // posts what was queued, then returns

	failed := own.events("failed")
	if len(failed) != 1 {
		t.Fatalf("failure notifications %v, want 1", own.msgs)
	}
	want := "stage 0 task 0 failed after 2 attempts: corrupt row group"
	if f := failed[0]; f.JobID != id || f.Name != "q6" || f.State != "failed" || f.Error != want ||
		f.Text != "Flint job "+id+" (q6) failed after "+f.Text[len("Flint job "+id+" (q6) failed after "):] {
		t.Fatalf("failure notification %+v", f)
	}
	if r := own.events("task_retry"); len(r) != 1 || r[0].State != "running" || r[0].JobID != id {
		t.Fatalf("retry notifications %+v, want 1", r)
	}
	if len(own.msgs) != 2 {
		t.Fatalf("notifications %+v", own.msgs)
	}
	if f := dflt.events("failed"); len(f) != 1 || f[0].JobID != other || len(dflt.msgs) != 1 {
		t.Fatalf("default URL got %+v, want one failure of %s", dflt.msgs, other)
	}
}

// TestNotifySLA: a job still running after its SLA posts one alert and
// keeps running; its cancellation is posted too.
func TestNotifySLA(t *testing.T) {
	ctx := context.Background()
	r := startReceiver(t)
	d, c := startDriver(t, cluster.Config{})
	e := startExecutor(t, d.Addr(), "exec-a", 2, readsExchange)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(1))
	req := submitRequest(t, n)
	req.Notify, req.SlaMs = []string{r.URL}, 100
	id := submit(ctx, t, c, req)
	e.waitHeld(t, 1)
	waitFor(t, "the SLA alert", func() bool { return len(r.events("sla")) > 0 })
	time.Sleep(300 * time.Millisecond) // no second alert
	if st, err := c.Status(ctx, &pb.StatusRequest{JobId: id}); err != nil || st.State != pb.JobState_JOB_STATE_RUNNING {
		t.Fatalf("job after its SLA: %v %v", st, err)
	}
	if _, err := c.Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	watch(ctx, t, c, id)
	d.Stop()
	sla := r.events("sla")
	if len(sla) != 1 || sla[0].Text != "Flint job "+id+" not finished after 100ms" || sla[0].State != "running" {
		t.Fatalf("SLA alerts %+v", sla)
	}
	if cn := r.events("cancelled"); len(cn) != 1 || cn[0].Error != "cancelled: test" {
		t.Fatalf("cancel notifications %+v", cn)
	}
}

func TestNotifyURLChecked(t *testing.T) {
	ctx := context.Background()
	if _, err := cluster.Start(cluster.Config{Listen: "127.0.0.1:0", Notify: []string{"hooks.slack.com/x"}}); err == nil {
		t.Fatal("a driver with a notify URL without scheme must not start")
	}
	d, c := startDriver(t, cluster.Config{})
	_ = d
	n, _ := bind(t, tpchCatalog(t), tpch.Query(6))
	req := submitRequest(t, n)
	req.Notify = []string{"ftp://x"}
	if _, err := c.Submit(ctx, req); err == nil {
		t.Fatal("submit with an ftp notify URL must fail")
	}
}

// TestNotifyTimedOutAndSlowHook: a job past its deadline posts one
// timed_out notification; a webhook that never answers neither delays the
// job's end nor the driver's stop beyond NotifyTimeout.
func TestNotifyTimedOutAndSlowHook(t *testing.T) {
	ctx := context.Background()
	r := startReceiver(t)
	stuck := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-stuck:
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(stuck) })
	d, c := startDriver(t, cluster.Config{NotifyTimeout: 200 * time.Millisecond})
	startExecutor(t, d.Addr(), "exec-a", 2, readsExchange)
	n, _ := bind(t, tpchCatalog(t), tpch.Query(1))
	req := submitRequest(t, n)
	req.DeadlineMs, req.Notify = 300, []string{slow.URL, r.URL}
	start := time.Now()
	id := submit(ctx, t, c, req)
	if _, final := watch(ctx, t, c, id); final.State != pb.JobState_JOB_STATE_TIMED_OUT {
		t.Fatalf("final %v", final)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the job ended after %s (deadline 300ms)", took)
	}
	waitFor(t, "the timed_out notification", func() bool { return len(r.events("timed_out")) > 0 })
	stop := time.Now()
	d.Stop()
	if took := time.Since(stop); took > 3*time.Second {
		t.Errorf("stop took %s", took)
	}
	to := r.events("timed_out")
	if len(to) != 1 || to[0].JobID != id || to[0].State != "timed_out" || to[0].Error != "deadline exceeded after 300ms" ||
		!strings.Contains(to[0].Text, " timed out after ") {
		t.Fatalf("timed_out notifications %+v", to)
	}
}
