package main

import (
	"bufio"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestPing checks flint ping against a driver process, a port nothing
// listens on, and a TCP server that is no driver.
func TestPing(t *testing.T) {
	cmd := exec.Command(flintBin, "driver", "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := bufio.NewScanner(stderr)
	var addr string
	for addr == "" && lines.Scan() {
		if m := regexp.MustCompile(`msg="driver listening" addr=(\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatal("the driver logged no listening address")
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if out := mustRun(t, "ping", addr); out != "driver "+addr+" answers\n" {
		t.Errorf("ping %s: %q", addr, out)
	}
	if out := mustRun(t, "ping", "--tcp", addr); out != addr+" accepts connections\n" {
		t.Errorf("ping --tcp %s: %q", addr, out)
	}

	// A port nothing listens on: taken, then freed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, args := range [][]string{{"ping", closed}, {"ping", "--tcp", closed}} {
		if r := run(t, args...); r.code != 1 || !strings.Contains(r.stderr, closed) {
			t.Errorf("flint %v: exit %d, want 1 naming %s\n%s", args, r.code, closed, r.stderr)
		}
	}

	// A TCP server that never speaks gRPC: accepted, but no driver.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	if r := run(t, "ping", "--timeout", "1s", silent.Addr().String()); r.code != 1 || !strings.Contains(r.stderr, silent.Addr().String()) {
		t.Errorf("ping of a server that is no driver: exit %d\n%s", r.code, r.stderr)
	}

	for _, args := range [][]string{{"ping"}, {"ping", "nohostport"}, {"ping", "--timeout", "0s", addr}} {
		if r := run(t, args...); r.code != 2 {
			t.Errorf("flint %v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
}
