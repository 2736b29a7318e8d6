package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// registrar is a stand-in for the driver's executor-facing half: a real
// gRPC server that records registrations.
type registrar struct {
	pb.UnimplementedDriverServer
	mu   sync.Mutex
	regs []*pb.RegisterExecutorRequest
}

func (r *registrar) RegisterExecutor(_ context.Context, req *pb.RegisterExecutorRequest) (*pb.RegisterExecutorResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.regs = append(r.regs, req)
	return &pb.RegisterExecutorResponse{HeartbeatIntervalMs: 50}, nil
}

func (r *registrar) Heartbeat(context.Context, *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	return &pb.HeartbeatResponse{}, nil
}

func (r *registrar) first() *pb.RegisterExecutorRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.regs) == 0 {
		return nil
	}
	return r.regs[0]
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestExecutorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"executor"},
		{"executor", "--driver", "127.0.0.1:1"},
		{"executor", "--driver", "127.0.0.1:1", "--listen", "127.0.0.1:0", "--slots", "-1"},
		{"executor", "--driver", "127.0.0.1:1", "--listen", "127.0.0.1:0", "extra"},
	} {
		if r := run(t, args...); r.code != 2 {
			t.Errorf("flint %v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
}

// TestExecutorProcess runs `flint executor` as an OS process against a
// registrar: it registers with its listen address and slots, serves the
// Executor service there, and on SIGTERM stops cleanly and removes its
// default work dir.
func TestExecutorProcess(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := &registrar{}
	gs := grpc.NewServer()
	pb.RegisterDriverServer(gs, reg)
	served := make(chan struct{})
	go func() { defer close(served); gs.Serve(lis) }()
	defer func() { gs.Stop(); <-served }()

	cmd := exec.Command(flintBin, "executor", "--driver", lis.Addr().String(), "--listen", "127.0.0.1:0", "--slots", "3")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	}()

	deadline := time.Now().Add(10 * time.Second)
	for reg.first() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("executor never registered; stderr:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := reg.first()
	if r.Slots != 3 || r.ExecutorId == "" || !strings.HasPrefix(r.Address, "127.0.0.1:") {
		t.Fatalf("registration %v", r)
	}
	// The executor re-executed itself (same PID) with MADV_FREE for freed
	// memory (madvise.go).
	if runtime.GOOS == "linux" {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains("\x00"+string(env)+"\x00", "\x00GODEBUG="+madvFreeEnv+"\x00") {
			t.Errorf("executor environment lacks GODEBUG=%s", madvFreeEnv)
		}
	}

	cc, err := grpc.NewClient(r.Address, shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := pb.NewExecutorClient(cc).EndJob(ctx, &pb.EndJobRequest{JobId: "no-such-job"}); err != nil {
		t.Fatalf("EndJob at the registered address: %v", err)
	}
	resp, err := pb.NewExecutorClient(cc).RunTask(ctx, &pb.RunTaskRequest{Task: &pb.Task{}})
	if err != nil || resp.Ok || resp.Error == "" {
		t.Fatalf("RunTask of an empty task: %v, %v", resp, err)
	}

	m := regexp.MustCompile(`work_dir=(\S+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no work dir in the log:\n%s", stderr.String())
	}
	workDir := m[1]
	if _, err := os.Stat(workDir); err != nil {
		t.Fatalf("work dir: %v", err)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("executor exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("executor did not stop on SIGTERM\n%s", stderr.String())
	}
	if _, err := os.Stat(workDir); !os.IsNotExist(err) {
		t.Errorf("default work dir left behind: %v", err)
	}
	for _, want := range []string{"registered with driver", "executor stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
}
