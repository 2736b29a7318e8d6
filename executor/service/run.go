package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/internal/driverclient"
	"github.com/flint-engine/flint/internal/metrics"
	"github.com/flint-engine/flint/mempool"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// Config configures an executor process.
type Config struct {
	// Driver is the driver's address (host:port), or the addresses of a
	// replicated driver group, comma-separated: registration and
	// heartbeats then follow its leader.
	Driver string
	// Listen is where the executor serves Executor and Arrow Flight
	// (host:port; port 0 picks a free one).
	Listen string
	// Advertise is the address the executor gives the driver, which puts
	// it in other tasks' input locations. Default: the bound listen
	// address, with an unspecified host (":7071", "0.0.0.0:7071")
	// replaced by the host name.
	Advertise string
	// Slots is how many tasks run at once (default: all cores).
	Slots int
	// WorkDir holds the shuffle files; it must belong to this executor
	// alone: what earlier runs left there is removed at start.
	WorkDir string
	// Log receives registration, driver loss and task failures (default
	// slog.Default()).
	Log *slog.Logger
	// MemoryLimit is the executor's memory budget in bytes (0: none): its
	// tasks' operators reserve from a pool of mempool.PoolFraction of it
	// and spill beyond, and the Go GC's soft limit follows it.
	MemoryLimit int64
	// OperatorMemory, when positive, sizes the pool directly and leaves
	// the GC alone (tests: a pool of a few MiB makes every operator
	// spill). It overrides MemoryLimit's pool.
	OperatorMemory int64
	// StopTimeout bounds how long Stop lets running tasks finish before
	// cancelling them (default 10s).
	StopTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between attempts to reach
	// the driver (defaults 100ms and 5s).
	RetryMin, RetryMax time.Duration
	// Allocator is where tasks' Arrow buffers come from (default: Go's
	// allocator; the flint command recycles buffers with internal/bufpool).
	Allocator memory.Allocator
	// Metrics, when set, counts the executor's task attempts, shuffle and
	// spill bytes and its memory pool's reservations (flint executor
	// --metrics serves them); nil records nothing.
	Metrics *metrics.Executor
}

// rpcTimeout bounds each call to the driver.
const rpcTimeout = 5 * time.Second

// failoverPace is how long after losing its driver an executor keeps
// heartbeating at the driver's interval before it backs off.
const failoverPace = 15 * time.Second

// defaultHeartbeat is used when the driver does not say.
const defaultHeartbeat = 500 * time.Millisecond

// Executor is a running executor: a gRPC server for the Executor service
// and Arrow Flight, and a loop registering with the driver and sending
// heartbeats.
type Executor struct {
	cfg    Config
	svc    *Service
	gs     *grpc.Server
	lis    net.Listener
	addr   string
	driver io.Closer // the connection to the driver, or to its group
	client pb.DriverClient

	cancel   context.CancelFunc
	loopDone chan struct{}
	served   chan struct{}
	serveErr error // set before served closes

	mu sync.Mutex
	id string

	stopOnce sync.Once
	stopErr  error
}

// Start cleans the work dir, listens, serves, and starts registering with
// the driver in the background (retrying while it is unreachable). Stop
// the executor with Stop.
func Start(cfg Config) (*Executor, error) {
	if cfg.Driver == "" {
		return nil, errors.New("executor: missing driver address")
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("executor: missing work dir")
	}
	if cfg.Slots < 0 {
		return nil, fmt.Errorf("executor: slots must be positive, got %d", cfg.Slots)
	}
	if cfg.Slots == 0 {
		cfg.Slots = runtime.GOMAXPROCS(0)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 100 * time.Millisecond
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Second, cfg.RetryMin)
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("executor: work dir: %w", err)
	}
	if err := shuffle.CleanStale(cfg.WorkDir); err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("executor: listen %s: %w", cfg.Listen, err)
	}
	addr := cfg.Advertise
	if addr == "" {
		if addr, err = advertised(lis.Addr().String()); err != nil {
			lis.Close()
			return nil, fmt.Errorf("executor: %w", err)
		}
	}
	// gRPC's own reconnect backoff (up to 2 minutes) would outlast ours
	// after a long driver outage: bound it by the same limits.
	reconnect := grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: rpcTimeout,
		Backoff: backoff.Config{BaseDelay: cfg.RetryMin, Multiplier: 1.6, Jitter: 0.2, MaxDelay: cfg.RetryMax}})
	// A list of drivers is a replicated group: calls follow its leader.
	var conn interface {
		grpc.ClientConnInterface
		Close() error
	}
	if addrs := driverclient.SplitAddrs(cfg.Driver); len(addrs) > 1 {
		conn, err = driverclient.NewGroup(addrs, append(shuffle.DialOptions(), reconnect)...)
	} else {
		conn, err = grpc.NewClient(cfg.Driver, append(shuffle.DialOptions(), reconnect)...)
	}
	if err != nil {
		lis.Close()
		return nil, fmt.Errorf("executor: driver address %s: %w", cfg.Driver, err)
	}

	e := &Executor{cfg: cfg, lis: lis, addr: addr, driver: conn, client: pb.NewDriverClient(conn),
		svc: NewService(cfg.WorkDir, addr, cfg.Slots, cfg.Log), gs: grpc.NewServer(shuffle.ServerOptions()...),
		loopDone: make(chan struct{}), served: make(chan struct{})}
	if cfg.MemoryLimit > 0 {
		e.svc.Memory = mempool.ForProcess(cfg.MemoryLimit)
	}
	if cfg.OperatorMemory > 0 {
		e.svc.Memory = mempool.New(cfg.OperatorMemory)
	}
	e.svc.Allocator = cfg.Allocator
	e.svc.Metrics = cfg.Metrics
	if e.svc.Memory != nil {
		cfg.Metrics.MemoryReserved(e.svc.Memory.Used)
	}
	pb.RegisterExecutorServer(e.gs, e.svc)
	shuffle.NewFlightServer(cfg.WorkDir).Register(e.gs)
	go func() {
		defer close(e.served)
		e.serveErr = e.gs.Serve(lis)
	}()
	cfg.Log.Info("executor serving", "address", addr, "listen", lis.Addr().String(), "work_dir", cfg.WorkDir, "slots", cfg.Slots)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.loopDone)
		e.driverLoop(ctx)
	}()
	return e, nil
}

// Run starts an executor and runs it until ctx is cancelled (a clean stop,
// returning nil) or its server fails.
func Run(ctx context.Context, cfg Config) error {
	e, err := Start(cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-e.served:
	}
	return e.Stop()
}

// Addr is the executor's advertised address.
func (e *Executor) Addr() string { return e.addr }

// ID is the executor's current ID ("" before it first registered).
func (e *Executor) ID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.id
}

// Stop stops registering, lets running tasks finish for up to
// StopTimeout, then cancels them, stops the server and removes every job's
// shuffle files. It returns the server's error if serving failed.
// Idempotent.
func (e *Executor) Stop() error {
	e.stopOnce.Do(func() {
		e.cancel()
		<-e.loopDone
		graceful := make(chan struct{})
		go func() {
			defer close(graceful)
			e.gs.GracefulStop()
		}()
		t := time.NewTimer(e.cfg.StopTimeout)
		select {
		case <-graceful:
		case <-t.C:
			e.cfg.Log.Warn("stop: cancelling tasks still running", "after", e.cfg.StopTimeout)
		}
		t.Stop()
		closeErr := e.svc.Close() // cancels what is left, removes shuffle files
		e.gs.Stop()
		<-graceful
		<-e.served
		var errs []error
		if e.serveErr != nil && !errors.Is(e.serveErr, grpc.ErrServerStopped) {
			errs = append(errs, fmt.Errorf("executor: serve: %w", e.serveErr))
		}
		errs = append(errs, closeErr, e.driver.Close())
		e.stopErr = errors.Join(errs...)
		e.cfg.Log.Info("executor stopped", "executor_id", e.ID())
	})
	return e.stopErr
}

// driverLoop registers with the driver and sends heartbeats until ctx
// ends, registering again (under a new ID) when the driver asks.
func (e *Executor) driverLoop(ctx context.Context) {
	for ctx.Err() == nil {
		interval, ok := e.register(ctx)
		if !ok {
			return
		}
		if !e.heartbeat(ctx, interval) {
			return
		}
	}
}

// register tries until the driver accepts a registration under a fresh ID.
// It returns the heartbeat interval, or false when ctx ended.
func (e *Executor) register(ctx context.Context) (time.Duration, bool) {
	id := newExecutorID()
	e.mu.Lock()
	previous := e.id
	e.id = id
	e.mu.Unlock()
	wait := e.cfg.RetryMin
	for failures := 0; ; failures++ {
		cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		resp, err := e.client.RegisterExecutor(cctx, &pb.RegisterExecutorRequest{ExecutorId: id, Address: e.addr, Slots: int32(e.cfg.Slots),
			PreviousId: previous})
		cancel()
		if err == nil {
			interval := time.Duration(resp.GetHeartbeatIntervalMs()) * time.Millisecond
			if interval <= 0 {
				interval = defaultHeartbeat
			}
			e.cfg.Log.Info("registered with driver", "driver", e.cfg.Driver, "executor_id", id, "address", e.addr,
				"slots", e.cfg.Slots, "heartbeat", interval)
			return interval, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		if failures == 0 {
			e.cfg.Log.Warn("cannot reach driver, retrying", "driver", e.cfg.Driver, "error", err)
		}
		if !sleep(ctx, wait) {
			return 0, false
		}
		wait = min(2*wait, e.cfg.RetryMax)
	}
}

// heartbeat sends heartbeats every interval. It returns true when the
// executor must register again, false when ctx ended.
func (e *Executor) heartbeat(ctx context.Context, interval time.Duration) bool {
	id := e.ID()
	lost := false
	var lostAt time.Time
	wait := interval
	// A heartbeat is small and answered at once: one that takes several
	// intervals is a driver that hangs (a stopped process keeps its
	// connections), and a replicated group's next call goes to another
	// member, which names the leader it knows.
	timeout := min(max(4*interval, time.Second), rpcTimeout)
	for {
		if !sleep(ctx, wait) {
			return false
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		resp, err := e.client.Heartbeat(cctx, &pb.HeartbeatRequest{ExecutorId: id, Running: e.svc.Running()})
		cancel()
		if ctx.Err() != nil {
			return false
		}
		if err != nil {
			if !lost {
				e.cfg.Log.Warn("lost driver", "driver", e.cfg.Driver, "executor_id", id, "error", err)
				lost, lostAt = true, time.Now()
			}
			// A driver group elects a new leader within seconds: keep
			// the pace meanwhile, so that the executor is back with the
			// new leader as soon as it leads; then back off.
			if time.Since(lostAt) > failoverPace {
				wait = min(max(2*wait, e.cfg.RetryMin), max(e.cfg.RetryMax, interval))
			}
			continue
		}
		if lost {
			e.cfg.Log.Info("driver reachable again", "driver", e.cfg.Driver, "executor_id", id)
			lost = false
		}
		wait = interval
		if resp.GetReregister() {
			e.cfg.Log.Warn("driver does not know this executor, registering again under a new ID", "executor_id", id)
			return true
		}
	}
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// newExecutorID is host-pid-random, unique per registration.
func newExecutorID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "executor"
	}
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// advertised turns a bound listen address into one other hosts can dial:
// an unspecified IP becomes the host name.
func advertised(bound string) (string, error) {
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return "", fmt.Errorf("listen address %s: %w", bound, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if host, err = os.Hostname(); err != nil {
			return "", fmt.Errorf("host name for the advertised address (set it explicitly): %w", err)
		}
	}
	return net.JoinHostPort(host, port), nil
}
