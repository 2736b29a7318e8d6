package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// TestDriverProcess starts `flint driver` as a process, talks to it over
// gRPC and stops it with an interrupt.
func TestDriverProcess(t *testing.T) {
	cmd := exec.Command(flintBin, "driver", "--listen", "127.0.0.1:0", "--heartbeat-timeout", "1s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	var addr, log string
	for addr == "" && lines.Scan() {
		log += lines.Text() + "\n"
		if m := regexp.MustCompile(`msg="driver listening" addr=(\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("no listening address in the log:\n%s", log)
	}
	if !strings.Contains(log, "heartbeat_timeout=1s no_executor_timeout=2s") {
		t.Errorf("flags not applied:\n%s", log)
	}
	conn, err := grpc.NewClient(addr, shuffle.DialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewDriverClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.RegisterExecutor(ctx, &pb.RegisterExecutorRequest{ExecutorId: "e1", Address: "127.0.0.1:1", Slots: 2}); err != nil {
		t.Fatal(err)
	}
	hb, err := c.Heartbeat(ctx, &pb.HeartbeatRequest{ExecutorId: "e1"})
	if err != nil || hb.Reregister {
		t.Fatalf("heartbeat of a registered executor: %v %v", hb, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		log += lines.Text() + "\n"
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("driver exit: %v\n%s", err, log)
	}
	if !strings.Contains(log, `msg="executor registered" executor=e1 addr=127.0.0.1:1 slots=2`) {
		t.Errorf("no registration log:\n%s", log)
	}
}

func TestDriverUsage(t *testing.T) {
	for _, args := range [][]string{{"driver"}, {"driver", "--listen", "127.0.0.1:0", "extra"}, {"driver", "--listen"}} {
		if r := run(t, args...); r.code != 2 {
			t.Errorf("flint %v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
	if r := run(t, "driver", "--listen", "256.0.0.1:99999"); r.code != 1 || !strings.Contains(r.stderr, "listen on 256.0.0.1:99999") {
		t.Errorf("bad listen address: exit %d\n%s", r.code, r.stderr)
	}
}
