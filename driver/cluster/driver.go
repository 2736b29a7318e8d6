package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/flint-engine/flint/coordinator"
	"github.com/flint-engine/flint/driver/replica"
	"github.com/flint-engine/flint/internal/driverclient"
	"github.com/flint-engine/flint/internal/metrics"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// Config configures a driver. Zero fields take the defaults.
type Config struct {
	// Listen is the HOST:PORT the Driver service binds (port 0: any).
	Listen string
	// HeartbeatInterval is how often executors are asked to heartbeat
	// (default 500ms).
	HeartbeatInterval time.Duration
	// HeartbeatTimeout declares an executor lost after that long without a
	// heartbeat (default 5s).
	HeartbeatTimeout time.Duration
	// NoExecutorTimeout fails a job that has had work but no live executor
	// for that long (default 2 x HeartbeatTimeout).
	NoExecutorTimeout time.Duration
	// SplitsPerSlot is the target split count a scan is asked for, per
	// executor slot (default 1; Parquet deals row groups into about four
	// splits per target). Lower than local mode's 4: every cluster task
	// costs a round trip, a map output's two files and, per reducer, one
	// fetch of each map output, so fewer, larger map tasks win (TPC-H
	// SF1: 49 lineitem tasks of about 10 ms spent ~3 ms each on that).
	SplitsPerSlot int
	// ResultTTL and MaxFinishedJobs bound how long, and how many, finished
	// jobs (with their results) are kept for Status and Results (defaults
	// 10 minutes and 100).
	ResultTTL       time.Duration
	MaxFinishedJobs int
	// Logger receives executor and job lifecycle logs (default
	// slog.Default()).
	Logger *slog.Logger
	// Models is the cluster's model store (flint driver --models): the
	// store of client sessions that name none (Info). The driver itself
	// never reads it: executors read the models a job scores from the
	// locations its plan names. A relative local path is made absolute.
	Models string
	// Notify are the URLs told of the jobs that name none of their own
	// (SubmitRequest.notify; flint driver --notify).
	Notify []string
	// NotifyTimeout bounds one notification POST (default 5s).
	NotifyTimeout time.Duration
	// Started, when set, is called by Run with the address the driver
	// serves on once it does (flint driver --http starts its REST
	// endpoint there); an error stops the driver and is Run's.
	Started func(addr string) error
	// Metrics, when set, counts jobs, task attempts and executors (flint
	// driver --metrics serves them); nil records nothing.
	Metrics *metrics.Driver
	// Replica, when set, makes the driver one member of a replicated
	// group (replicated.go): its Peers list every member, this one's
	// client address being Listen. Its OnLeader is the driver's.
	Replica *replica.Config
	// CommitDelay holds a write between its decision (every write task
	// has succeeded) and its commit (the manifest): fault tests kill the
	// leader in that window (flint driver --fault-commit-delay, hidden).
	// Zero in production.
	CommitDelay time.Duration
}

func (c *Config) setDefaults() {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 500 * time.Millisecond
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 5 * time.Second
	}
	if c.NoExecutorTimeout <= 0 {
		c.NoExecutorTimeout = 2 * c.HeartbeatTimeout
	}
	if c.SplitsPerSlot <= 0 {
		c.SplitsPerSlot = 1
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = 10 * time.Minute
	}
	if c.MaxFinishedJobs <= 0 {
		c.MaxFinishedJobs = 100
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NotifyTimeout <= 0 {
		c.NotifyTimeout = 5 * time.Second
	}
}

// Defaults of jobs whose options leave them open (as local mode).
const (
	defaultBroadcastRows = 1_000_000
	defaultMaxAttempts   = 4
	// resultChunkSize is the size of the ResultChunk messages Results sends.
	resultChunkSize = 1 << 20
	// endJobTimeout bounds one EndJob call.
	endJobTimeout = 10 * time.Second
	// maxTaskEvents bounds the task events a job keeps for Watch; status
	// events are always kept.
	maxTaskEvents = 100_000
)

// Driver implements flintpb.DriverServer. Create it with Start.
type Driver struct {
	pb.UnimplementedDriverServer

	cfg Config
	log *slog.Logger
	// m is cfg.Metrics (nil: none).
	m    *metrics.Driver
	grpc *grpc.Server
	lis  net.Listener

	// ctx is cancelled by Stop; jobs' contexts derive from it.
	ctx    context.Context
	cancel context.CancelFunc
	// endCtx bounds EndJob calls; Stop cancels it after a grace period so
	// that the jobs it aborts are still cleaned up on live executors.
	endCtx    context.Context
	endCancel context.CancelFunc
	// wg counts every goroutine the driver starts (attempts, split
	// computation, result encoding, EndJob calls, the monitor).
	wg sync.WaitGroup
	// serveDone is closed when grpc.Serve has returned serveErr.
	serveDone chan struct{}
	serveErr  error
	stopOnce  sync.Once

	mu       sync.Mutex
	state    *coordinator.State
	execs    map[string]*executorConn // live executors
	jobs     map[string]*job          // running and retained finished jobs
	attempts map[attemptKey]*attempt  // attempts whose RunTask is in flight
	// trainings are the prepared trainings (TrainPrepare) by ID.
	trainings map[string]*training
	// jobPrefix starts every job ID: the driver's start time and a random
	// part, so that IDs (which name shuffle directories on executors) do
	// not repeat across driver restarts; a sequence number follows.
	jobPrefix string
	seq       int
	closed    bool
	// notes queues notifications for the poster.
	notes chan notification

	// rep is the driver's raft member (nil: not replicated); leading is
	// true while this driver schedules (always without rep), term the
	// raft term it leads in (replicated.go).
	rep     *replica.Node
	leading bool
	term    uint64
	// rejoinBy is when the executors of a former leader have had time to
	// find this one: no job counts as without executors before.
	rejoinBy time.Time
	// repReady is closed once rep is set.
	repReady chan struct{}
}

// attemptKey names one attempt, with the coordinator's attempt number.
type attemptKey struct {
	job                  string
	stage, task, attempt int
}

type attempt struct {
	executor string
	cancel   context.CancelFunc
}

// Start binds cfg.Listen and serves the Driver service until Stop.
func Start(cfg Config) (*Driver, error) {
	cfg.setDefaults()
	if cfg.Listen == "" {
		return nil, errors.New("driver: no listen address")
	}
	if _, err := notifyURLs(cfg.Notify); err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	if m := cfg.Models; m != "" && !strings.Contains(m, "://") {
		abs, err := filepath.Abs(m)
		if err != nil {
			return nil, fmt.Errorf("driver: model store %s: %w", m, err)
		}
		cfg.Models = filepath.ToSlash(abs)
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("driver: listen on %s: %w", cfg.Listen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	endCtx, endCancel := context.WithCancel(context.Background())
	d := &Driver{cfg: cfg, log: cfg.Logger, m: cfg.Metrics, lis: lis, ctx: ctx, cancel: cancel, endCtx: endCtx, endCancel: endCancel,
		serveDone: make(chan struct{}),
		state:     coordinator.NewState(), execs: map[string]*executorConn{}, jobs: map[string]*job{},
		attempts: map[attemptKey]*attempt{}, notes: make(chan notification, notifyQueue),
		jobPrefix: fmt.Sprintf("job-%s-%04x", time.Now().UTC().Format("20060102T150405"), rand.Uint32()&0xffff)}
	opts := shuffle.ServerOptions()
	if cfg.Replica != nil {
		opts = append(opts, grpc.ChainUnaryInterceptor(d.leaderOnlyUnary), grpc.ChainStreamInterceptor(d.leaderOnlyStream),
			driverclient.ServerKeepalive())
		d.repReady = make(chan struct{})
		rc := *cfg.Replica
		rc.OnLeader = d.onLeader
		if d.rep, err = replica.Open(rc); err != nil {
			cancel()
			endCancel()
			lis.Close()
			return nil, fmt.Errorf("driver: %w", err)
		}
		close(d.repReady)
	} else {
		d.leading = true
	}
	d.m.Leading(d.leading, 0)
	d.grpc = grpc.NewServer(opts...)
	pb.RegisterDriverServer(d.grpc, d)
	go func() {
		d.serveErr = d.grpc.Serve(lis)
		close(d.serveDone)
	}()
	d.wg.Add(2)
	go d.monitor()
	go d.poster()
	return d, nil
}

// Addr is the address the driver serves on.
func (d *Driver) Addr() string { return d.lis.Addr().String() }

// Run starts a driver and serves until ctx is cancelled or serving fails,
// then stops it.
func Run(ctx context.Context, cfg Config) error {
	d, err := Start(cfg)
	if err != nil {
		return err
	}
	d.log.Info("driver listening", "addr", d.Addr(), "heartbeat_timeout", d.cfg.HeartbeatTimeout,
		"no_executor_timeout", d.cfg.NoExecutorTimeout)
	if cfg.Started != nil {
		if err := cfg.Started(d.Addr()); err != nil {
			d.Stop()
			return err
		}
	}
	select {
	case <-ctx.Done():
	case <-d.serveDone:
	}
	d.Stop()
	if d.serveErr != nil && !errors.Is(d.serveErr, grpc.ErrServerStopped) {
		return fmt.Errorf("driver: serve: %w", d.serveErr)
	}
	return nil
}

// Stop fails the running jobs ("driver shutting down"), tells executors to
// drop them, stops serving and waits for every goroutine the driver
// started. Idempotent.
func (d *Driver) Stop() {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.idleTrainingsLocked(time.Now(), true)
		if d.rep == nil {
			for _, id := range d.state.JobIDs() {
				if j := d.state.Jobs[id]; !j.Status.Done() {
					d.applyLocked(coordinator.JobAborted{Job: id, Err: "driver shutting down"})
				}
			}
		}
		d.mu.Unlock()
		if d.rep != nil {
			// A member that stops leaves its jobs to the group: nothing is
			// aborted, the next leader resumes them. A leader hands the
			// lead over first, sparing the group an election timeout.
			if d.rep.IsLeader() {
				if err := d.rep.Handover(handoverTimeout); err != nil {
					d.log.Warn("handing the lead over", "err", err)
				}
			}
			if err := d.rep.Close(); err != nil {
				d.log.Warn("closing the raft member", "err", err)
			}
			d.mu.Lock()
			d.stepDownLocked()
			d.mu.Unlock()
		}
		// Watchers of the aborted jobs have their final status now; give
		// streams a moment to drain, then cut them.
		stopped := make(chan struct{})
		go func() { d.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(2 * time.Second):
			d.grpc.Stop()
			<-stopped
		}
		d.cancel()
		grace := time.AfterFunc(2*time.Second, d.endCancel)
		d.wg.Wait()
		grace.Stop()
		d.endCancel()
		d.mu.Lock()
		for id, e := range d.execs {
			e.close()
			delete(d.execs, id)
		}
		d.m.ExecutorsLive(0)
		d.mu.Unlock()
		<-d.serveDone
	})
}

// applyLocked applies ev to the state (through the group first when
// replicated, with recs) and reacts to what it did: jobs that ended are
// finished. It does not schedule. d.mu must be held.
func (d *Driver) applyLocked(ev coordinator.Event, recs ...replica.Record) (coordinator.Result, error) {
	res, err := d.commitLocked(ev, recs...)
	if err != nil {
		return res, err
	}
	for _, id := range res.Finished {
		if j := d.jobs[id]; j != nil {
			d.jobEndedLocked(j)
		}
	}
	return res, nil
}

// monitor declares executors lost after the heartbeat timeout, fails jobs
// past their deadline or without executors for too long, and drops old
// finished jobs.
func (d *Driver) monitor() {
	defer d.wg.Done()
	tick := min(max(d.cfg.HeartbeatTimeout/10, 10*time.Millisecond), 250*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case now := <-t.C:
			d.mu.Lock()
			d.checkLocked(now)
			d.mu.Unlock()
		}
	}
}

func (d *Driver) checkLocked(now time.Time) {
	if d.closed || !d.leading {
		return
	}
	changed := false
	for _, id := range d.state.ExecutorIDs() {
		e := d.execs[id]
		if e != nil && now.Sub(e.lastSeen) > d.cfg.HeartbeatTimeout {
			d.loseExecutorLocked(id, fmt.Sprintf("no heartbeat for %s", now.Sub(e.lastSeen).Round(time.Millisecond)))
			changed = true
		}
		if ce := d.state.Executors[id]; e == nil && ce.Alive && ce.Detached && now.After(d.rejoinBy) {
			// An executor of a former leader that did not register here.
			d.log.Warn("executor lost", "executor", id, "addr", ce.Addr, "reason", "did not register with the new leader")
			if _, err := d.applyLocked(coordinator.ExecutorLost{ID: id}); err != nil && d.leading {
				d.log.Error("internal error: executor lost", "executor", id, "err", err)
			}
			changed = true
		}
	}
	for _, id := range d.state.JobIDs() {
		j, cj := d.jobs[id], d.state.Jobs[id]
		if j == nil || cj.Status.Done() {
			continue
		}
		switch {
		case !j.deadline.IsZero() && now.After(j.deadline):
			d.applyLocked(coordinator.JobTimedOut{Job: id, Err: fmt.Sprintf("deadline exceeded after %s", j.deadline.Sub(j.submitted))})
			changed = true
		case !j.stuckSince.IsZero() && now.Sub(j.stuckSince) > d.cfg.NoExecutorTimeout:
			d.applyLocked(coordinator.JobAborted{Job: id, Err: fmt.Sprintf(
				"no executors available: no live executor for %s (start executors with flint executor --driver %s)",
				now.Sub(j.stuckSince).Round(time.Millisecond), d.Addr())})
			changed = true
		}
	}
	d.slaLocked(now)
	d.evictLocked(now)
	d.idleTrainingsLocked(now, false)
	if changed {
		d.scheduleLocked()
	}
}
