package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDriverGroupMembership: a fourth driver started with --join is added
// with flint drivers add and catches up; the leader is then SIGKILLed and
// the three left (the new one among them) elect one and answer a TPC-H
// job right; flint drivers remove takes the dead member out.
func TestDriverGroupMembership(t *testing.T) {
	c := startGroup(t)
	raft4, client4 := freeLocalAddr(t), freeLocalAddr(t)
	d4 := fmt.Sprintf("d4=%s@%s", raft4, client4)
	joiner := exec.Command(flintBin, "driver", "--listen", client4, "--raft-id", "d4", "--raft-dir", filepath.Join(t.TempDir(), "raft-4"),
		"--peers", c.Peers()+","+d4, "--join", "--heartbeat-timeout", "2s")
	var out strings.Builder
	joiner.Stdout, joiner.Stderr = &out, &out
	if err := joiner.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { joiner.Wait(); close(exited) }()
	t.Cleanup(func() {
		joiner.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("---- driver d4 output:\n%s", out.String())
		}
	})
	all := c.Addr() + "," + client4

	if r := run(t, "drivers", "add", "--driver", c.Addr(), "not-a-peer"); r.code != 2 || !strings.Contains(r.stderr, "ID=RAFTHOST:PORT@HOST:PORT") {
		t.Errorf("flint drivers add with a bad member: exit %d, stderr %q", r.code, r.stderr)
	}
	added := mustRun(t, "drivers", "add", "--driver", c.Addr(), d4)
	if lines := strings.Split(strings.TrimSpace(added), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[4], "d4 ") || !strings.Contains(lines[4], client4) {
		t.Fatalf("flint drivers add printed:\n%s", added)
	}
	// d4 follows, caught up with the leader's log.
	lead := leaderOf(t, all)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ms, _ := members(t, all)
		var m4 memberLine
		for _, m := range ms {
			if m.ID == "d4" {
				m4 = m
			}
		}
		if m4.State == "follower" && m4.LastIndex >= lead.LastIndex && m4.Term == lead.Term {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("d4 did not catch up as a follower: %+v (leader %+v)", ms, lead)
		}
	}

	// The leader dies; quorum is 3 of 4, so the three left go on.
	var dead string
	for _, p := range c.Drivers() {
		if p.Addr == lead.Address {
			p.Kill()
			dead = lead.ID
		}
	}
	if dead == "" {
		t.Fatalf("no process for leader %+v", lead)
	}
	killed := time.Now()
	next := leaderOf(t, all)
	t.Logf("%s led %v after %s was killed", next.ID, time.Since(killed).Round(time.Millisecond), dead)
	result := mustRun(t, "submit", "--driver", all, "--wait", "--tables", tpchData, "-f", queries+"q03.sql")
	_, got, _ := strings.Cut(result, "\n")
	want, err := os.ReadFile(answers + "q03.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(want), got); err != nil {
		t.Errorf("q03 with %s led by %s: %v", d4, next.ID, err)
	}

	removed := mustRun(t, "drivers", "remove", "--driver", all, dead)
	if strings.Contains(removed, dead+" ") || strings.Count(strings.TrimSpace(removed), "\n") != 3 {
		t.Errorf("flint drivers remove %s printed:\n%s", dead, removed)
	}
	if r := run(t, "drivers", "remove", "--driver", all, "nobody"); r.code != 1 || !strings.Contains(r.stderr, `no member "nobody"`) {
		t.Errorf("removing an unknown member: exit %d, stderr %q", r.code, r.stderr)
	}
}

// freeLocalAddr is a free 127.0.0.1 port.
func freeLocalAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
