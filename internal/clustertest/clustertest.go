// Package clustertest runs a Flint cluster of real OS processes for tests:
// one `flint driver` and N `flint executor` processes on free 127.0.0.1
// ports, each executor with its own temporary work dir, talking gRPC and
// Arrow Flight to each other exactly as in production.
//
//	c := clustertest.Start(t, clustertest.Options{Executors: 3})
//	s, _ := flint.NewSession(ctx, flint.WithDriver(c.Addr()))
//	c.Executor(1).Kill() // SIGKILL mid-job; also Stop (SIGSTOP) / Cont
//	c.StartExecutor()    // one more, registered before it returns
//
// With Options.Drivers >= 2 the driver is a replicated group of that many
// `flint driver` processes (Drivers; Addr lists them all); a killed
// member can be started again from its raft dir (RestartDriver).
//
// The flint binary is built once per test binary (go build into a temp
// dir); call RemoveBinary from TestMain after m.Run to delete it. Start
// registers Close with t.Cleanup: every process is killed when the test
// ends, failed or not. On Linux the processes also get SIGKILL from the
// kernel if the test binary dies (a -timeout panic skips cleanups), so
// nothing is left running. When the test has failed (or
// FLINT_CLUSTERTEST_LOGS is set) the processes' output goes to the test
// log.
//
// Readiness comes from the processes themselves: the driver is up when its
// port accepts connections; an executor is registered when it logs
// `msg="registered with driver"` (with its executor_id) — the driver has
// no RPC that lists executors.
//
// It is test support: engine packages must not import it.
package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flint-engine/flint/internal/porttest"
)

// Options describe a cluster.
type Options struct {
	// Executors is the number of executor processes started with the
	// driver (more can be added with StartExecutor).
	Executors int
	// Slots is each executor's --slots (default 2).
	Slots int
	// HeartbeatTimeout is the driver's --heartbeat-timeout (0: the
	// driver's default).
	HeartbeatTimeout time.Duration
	// DriverArgs and ExecutorArgs are appended to the processes' command
	// lines.
	DriverArgs, ExecutorArgs []string
	// Binary is a flint binary to run (default: one built once per test
	// binary, see Binary).
	Binary string
	// StartTimeout bounds how long the driver has to listen and each
	// executor to register (default 60s: a loaded machine is slow).
	StartTimeout time.Duration
	// Drivers, when 2 or more, starts a replicated group of that many
	// drivers (flint driver --raft-id/--raft-dir/--peers, each with its
	// own raft dir) instead of one; Addr then lists them all, as clients
	// and executors are given them.
	Drivers int
	// Partitionable puts the raft links between a replicated group's
	// members behind proxies in the test process (see raftLinks), so that
	// IsolateDriver can cut one member off from the others while clients
	// and executors still reach it.
	Partitionable bool
}

// Cluster is a running driver and its executors.
type Cluster struct {
	t      testing.TB
	opts   Options
	bin    string
	dir    string // working directory of every process; work dirs inside
	addr   string
	peers  string
	driver *Process
	// drivers is the group of a replicated cluster (driver is its first).
	drivers []*Process
	// links stand between the drivers with Options.Partitionable.
	links *raftLinks

	mu     sync.Mutex
	execs  []*Process
	closed bool
}

// Start starts the driver and opts.Executors executors and waits until
// every executor has registered. It fails the test if they do not come up.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Slots <= 0 {
		opts.Slots = 2
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	bin := opts.Binary
	if bin == "" {
		bin = Binary(t)
	}
	c := &Cluster{t: t, opts: opts, bin: bin, dir: t.TempDir()}
	t.Cleanup(c.logOnFailure)
	t.Cleanup(c.Close)
	start := c.startDriver
	if opts.Drivers >= 2 {
		start = c.startGroup
	}
	if err := start(); err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	for i := 0; i < opts.Executors; i++ {
		if _, err := c.startExecutor(); err != nil {
			t.Fatalf("clustertest: %v", err)
		}
	}
	return c
}

// Addr is the driver's address (host:port) for flint.WithDriver; for a
// replicated group, every member's, comma-separated.
func (c *Cluster) Addr() string { return c.addr }

// Driver is the driver process (the first member of a group).
func (c *Cluster) Driver() *Process { return c.driver }

// Drivers are the members of a replicated group, in --peers order (their
// Name is driver-<i>, their Addr their client address).
func (c *Cluster) Drivers() []*Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Process(nil), c.drivers...)
}

// Executor returns the i-th executor started (from 0, in start order,
// StartExecutor included).
func (c *Cluster) Executor(i int) *Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.execs) {
		c.t.Fatalf("clustertest: no executor %d (%d started)", i, len(c.execs))
	}
	return c.execs[i]
}

// Executors returns every executor process started, dead ones included.
func (c *Cluster) Executors() []*Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Process(nil), c.execs...)
}

// StartExecutor starts one more executor and returns once it has
// registered with the driver (it fails the test otherwise). It may be
// called while a job runs.
func (c *Cluster) StartExecutor() *Process {
	c.t.Helper()
	p, err := c.startExecutor()
	if err != nil {
		c.t.Fatalf("clustertest: %v", err)
	}
	return p
}

// Close kills every process (SIGKILL, also when stopped) and waits for
// them to exit. It is idempotent and registered with t.Cleanup by Start.
func (c *Cluster) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	procs := append([]*Process(nil), c.execs...)
	if len(c.drivers) > 0 {
		procs = append(procs, c.drivers...)
	} else if c.driver != nil {
		procs = append(procs, c.driver)
	}
	c.mu.Unlock()
	for _, p := range procs {
		p.signal(syscall.SIGKILL)
	}
	for _, p := range procs {
		<-p.done
	}
	if c.links != nil {
		c.links.close()
	}
}

// logLines bounds how much of each process's output goes to the log.
const logLines = 300

func (c *Cluster) logOnFailure() {
	if !c.t.Failed() && os.Getenv("FLINT_CLUSTERTEST_LOGS") == "" {
		return
	}
	procs := []*Process{c.driver}
	if len(c.drivers) > 0 {
		procs = c.Drivers()
	}
	procs = append(procs, c.Executors()...)
	for _, p := range procs {
		if p == nil {
			continue
		}
		out := p.Output()
		lines := strings.SplitAfter(out, "\n")
		skipped := ""
		if len(lines) > logLines {
			skipped = fmt.Sprintf("(%d earlier lines left out)\n", len(lines)-logLines)
			lines = lines[len(lines)-logLines:]
		}
		c.t.Logf("---- %s (pid %d, %s) output:\n%s%s", p.Name, p.Pid(), p.state(), skipped, strings.Join(lines, ""))
	}
}

func (c *Cluster) startDriver() error {
	var lastErr error
	// A port found free can be taken before the driver binds it: retry.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		args := []string{"driver", "--listen", addr}
		if c.opts.HeartbeatTimeout > 0 {
			args = append(args, "--heartbeat-timeout", c.opts.HeartbeatTimeout.String())
		}
		p, err := c.start("driver", append(args, c.opts.DriverArgs...))
		if err != nil {
			return err
		}
		c.driver = p
		if err = waitListening(p, addr, c.opts.StartTimeout); err == nil {
			c.addr = addr
			return nil
		}
		lastErr = err
		p.signal(syscall.SIGKILL)
		<-p.done
		if !strings.Contains(p.Output(), "address already in use") {
			break
		}
	}
	return lastErr
}

// startGroup starts opts.Drivers drivers as one replicated group on free
// ports and waits until each listens (a leader is elected by the time an
// executor has registered).
func (c *Cluster) startGroup() error {
	var err error
	// A port found free can be taken before a driver binds it: start the
	// group again on other ports, from empty raft dirs.
	for attempt := 0; attempt < 3; attempt++ {
		if err = c.startGroupOnce(); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		for _, p := range c.drivers {
			p.signal(syscall.SIGKILL)
			<-p.done
		}
		c.drivers, c.driver = nil, nil
		if c.links != nil {
			c.links.close()
			c.links = nil
		}
		for i := 0; i < c.opts.Drivers; i++ {
			if rerr := os.RemoveAll(filepath.Join(c.dir, fmt.Sprintf("raft-%d", i+1))); rerr != nil {
				return rerr
			}
		}
	}
	return err
}

func (c *Cluster) startGroupOnce() error {
	n := c.opts.Drivers
	if c.opts.Partitionable {
		links, err := newRaftLinks(n)
		if err != nil {
			return err
		}
		c.links = links
	}
	var peers, clients []string
	for i := 0; i < n; i++ {
		var raftAddr string
		if c.links != nil {
			raftAddr = c.links.addr(i)
		} else {
			rp, err := freePort()
			if err != nil {
				return err
			}
			raftAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(rp))
		}
		cp, err := freePort()
		if err != nil {
			return err
		}
		client := net.JoinHostPort("127.0.0.1", strconv.Itoa(cp))
		clients = append(clients, client)
		peers = append(peers, fmt.Sprintf("d%d=%s@%s", i+1, raftAddr, client))
	}
	for i := 0; i < n; i++ {
		args := []string{"driver", "--listen", clients[i], "--raft-id", fmt.Sprintf("d%d", i+1),
			"--raft-dir", filepath.Join(c.dir, fmt.Sprintf("raft-%d", i+1)), "--peers", strings.Join(peers, ",")}
		if c.links != nil {
			args = append(args, "--raft-listen", c.links.binds[i])
		}
		if c.opts.HeartbeatTimeout > 0 {
			args = append(args, "--heartbeat-timeout", c.opts.HeartbeatTimeout.String())
		}
		p, err := c.start(fmt.Sprintf("driver-%d", i), append(args, c.opts.DriverArgs...))
		if err != nil {
			return err
		}
		p.Addr = clients[i]
		c.drivers = append(c.drivers, p)
	}
	c.driver = c.drivers[0]
	for _, p := range c.drivers {
		if err := waitListening(p, p.Addr, c.opts.StartTimeout); err != nil {
			return err
		}
	}
	c.addr = strings.Join(clients, ",")
	c.peers = strings.Join(peers, ",")
	return nil
}

// Peers is a replicated group's --peers (ID=RAFTHOST:PORT@HOST:PORT,...);
// empty for a lone driver.
func (c *Cluster) Peers() string { return c.peers }

// IsolateDriver cuts member i of a Partitionable group (in Drivers'
// order) off from the other members: the raft connections between them
// are closed and new ones refused, both ways, until Heal. Clients and
// executors still reach it.
func (c *Cluster) IsolateDriver(i int) {
	c.t.Helper()
	if c.links == nil || i < 0 || i >= c.links.n {
		c.t.Fatalf("clustertest: cannot isolate driver %d: the group is not Partitionable or has no such member", i)
	}
	c.links.isolate(i)
}

// Heal restores every raft link of a Partitionable group.
func (c *Cluster) Heal() {
	if c.links != nil {
		c.links.heal()
	}
}

// Dir is the working directory of the cluster's processes.
func (c *Cluster) Dir() string { return c.dir }

// RestartDriver starts member i of a replicated group (in Drivers'
// order) again with the command line it was first started with — its
// raft dir, and so its log, kept — once it has ended (Kill it first),
// and waits until it listens. The new process replaces the old one in
// Drivers.
func (c *Cluster) RestartDriver(i int) *Process {
	c.t.Helper()
	if i < 0 || i >= len(c.drivers) {
		c.t.Fatalf("clustertest: no driver %d (%d in the group)", i, len(c.drivers))
	}
	old := c.drivers[i]
	if !old.Exited() {
		c.t.Fatalf("clustertest: %s is still running", old.Name)
	}
	p, err := c.start(old.Name, old.cmd.Args[1:])
	if err != nil {
		c.t.Fatalf("clustertest: %v", err)
	}
	p.Addr = old.Addr
	c.mu.Lock()
	c.drivers[i] = p
	if i == 0 {
		c.driver = p
	}
	c.mu.Unlock()
	if err := waitListening(p, p.Addr, c.opts.StartTimeout); err != nil {
		c.t.Fatalf("clustertest: %v", err)
	}
	return p
}

func (c *Cluster) startExecutor() (*Process, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("cluster is closed")
	}
	i := len(c.execs)
	c.mu.Unlock()
	name := fmt.Sprintf("executor-%d", i)
	workDir := filepath.Join(c.dir, name)
	args := []string{"executor", "--driver", c.addr, "--listen", "127.0.0.1:0",
		"--slots", strconv.Itoa(c.opts.Slots), "--work-dir", workDir}
	p, err := c.start(name, append(args, c.opts.ExecutorArgs...))
	if err != nil {
		return nil, err
	}
	p.WorkDir = workDir
	c.mu.Lock()
	c.execs = append(c.execs, p)
	c.mu.Unlock()
	if _, err := p.WaitRegistered(c.opts.StartTimeout); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *Cluster) start(name string, args []string) (*Process, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir // relative table paths must not work by accident
	p := &Process{Name: name, cmd: cmd, out: newOutput(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// freePort is a port free on 127.0.0.1 and not handed out before: the
// members of a group must not be told the same address.
func freePort() (int, error) { return porttest.Free("127.0.0.1") }

// waitListening waits until addr accepts TCP connections, p exits or the
// timeout passes.
func waitListening(p *Process, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s (%s):\n%s", p.Name, addr, p.state(), p.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %s:\n%s", p.Name, addr, timeout, p.Output())
		}
	}
}

// Process is one driver or executor process.
type Process struct {
	// Name is "driver" or "executor-<i>".
	Name string
	// WorkDir is an executor's --work-dir.
	WorkDir string
	// Addr is a group member's client address.
	Addr string

	cmd  *exec.Cmd
	out  *output
	done chan struct{}

	mu      sync.Mutex
	waitErr error
	stopped bool
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output is everything the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Kill sends SIGKILL and waits for the process to end.
func (p *Process) Kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// Interrupt sends SIGINT (a graceful stop) and waits up to timeout for
// the process to end; it reports whether it did.
func (p *Process) Interrupt(timeout time.Duration) bool {
	p.signal(syscall.SIGINT)
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Stop freezes the process (SIGSTOP): it keeps its sockets but answers
// nothing, as a hung machine would.
func (p *Process) Stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.signal(syscall.SIGSTOP)
}

// Cont resumes a stopped process (SIGCONT).
func (p *Process) Cont() {
	p.mu.Lock()
	p.stopped = false
	p.mu.Unlock()
	p.signal(syscall.SIGCONT)
}

func (p *Process) signal(sig syscall.Signal) {
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(sig) // an error means it has just exited
}

func (p *Process) state() string {
	if !p.Exited() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.stopped {
			return "stopped"
		}
		return "running"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waitErr == nil {
		return "exited 0"
	}
	return p.waitErr.Error()
}

var registeredID = regexp.MustCompile(`msg="registered with driver".*?\bexecutor_id=("(?:[^"\\]|\\.)*"|\S+)`)

// ExecutorID is the ID under which the executor last registered ("" if it
// has not).
func (p *Process) ExecutorID() string {
	ms := registeredID.FindAllStringSubmatch(p.Output(), -1)
	if len(ms) == 0 {
		return ""
	}
	id := ms[len(ms)-1][1]
	if s, err := strconv.Unquote(id); err == nil {
		return s
	}
	return id
}

// WaitRegistered waits until the executor has registered with the driver
// (since it started) and returns its executor ID.
func (p *Process) WaitRegistered(timeout time.Duration) (string, error) {
	return p.waitRegistrations(1, timeout)
}

// WaitReregistered waits until the executor has registered n times in
// all (a re-registration after the driver declared it lost is the second)
// and returns its latest executor ID.
func (p *Process) WaitReregistered(n int, timeout time.Duration) (string, error) {
	return p.waitRegistrations(n, timeout)
}

func (p *Process) waitRegistrations(n int, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		changed := p.out.changed()
		if len(registeredID.FindAllStringIndex(p.Output(), -1)) >= n {
			return p.ExecutorID(), nil
		}
		select {
		case <-changed:
		case <-p.done:
			if len(registeredID.FindAllStringIndex(p.Output(), -1)) >= n {
				return p.ExecutorID(), nil
			}
			return "", fmt.Errorf("%s exited (%s) before registering with the driver:\n%s", p.Name, p.state(), p.Output())
		case <-ctx.Done():
			return "", fmt.Errorf("%s did not register with the driver within %s:\n%s", p.Name, timeout, p.Output())
		}
	}
}

// WaitOutput waits until the process has written a line matching re and
// returns that line.
func (p *Process) WaitOutput(re *regexp.Regexp, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		changed := p.out.changed()
		if m := re.FindString(p.Output()); m != "" {
			return m, nil
		}
		select {
		case <-changed:
		case <-p.done:
			if m := re.FindString(p.Output()); m != "" {
				return m, nil
			}
			return "", fmt.Errorf("%s exited (%s) without writing %q", p.Name, p.state(), re)
		case <-ctx.Done():
			return "", fmt.Errorf("%s did not write %q within %s", p.Name, re, timeout)
		}
	}
}

// output collects a process's output and wakes waiters on every write.
type output struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{}
}

func newOutput() *output { return &output{notify: make(chan struct{})} }

func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(b)
	close(o.notify)
	o.notify = make(chan struct{})
	return len(b), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// changed returns a channel closed at the next write.
func (o *output) changed() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.notify
}

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// Binary returns the path of a flint binary built from this module once
// per test binary (the test fails if it does not build).
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "flint-clustertest-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "flint")
		cmd := exec.Command("go", "build", "-o", buildBin, "github.com/flint-engine/flint/cmd/flint")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/flint: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("clustertest: %v", buildErr)
	}
	return buildBin
}

// RemoveBinary deletes the binary Binary built, if any. Call it from
// TestMain once the tests have run.
func RemoveBinary() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}
