package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDriverGroupLaggingFollower: a follower is SIGKILLed and stays down
// while jobs run, long enough for the others to snapshot and compact
// their logs past it; restarted, it catches up from the leader's
// snapshot. Then the leader is SIGKILLed mid-job: the follower that
// lagged is half of the quorum left, and the job finishes with DuckDB's
// answer, with the jobs run while it was down still known to the group.
func TestDriverGroupLaggingFollower(t *testing.T) {
	const trailing = 4
	c := startGroup(t, "--raft-snapshot-interval", "100ms", "--raft-snapshot-threshold", "8",
		"--raft-trailing-logs", strconv.Itoa(trailing))
	lead := leaderOf(t, c.Addr())
	ms, _ := members(t, c.Addr())
	follower, leader := -1, -1
	var lagged memberLine
	for i, p := range c.Drivers() {
		for _, m := range ms {
			if m.Address != p.Addr {
				continue
			}
			if m.Address == lead.Address {
				leader = i
			} else if follower < 0 {
				follower, lagged = i, m
			}
		}
	}
	if follower < 0 || leader < 0 {
		t.Fatalf("no leader and follower among %+v", ms)
	}
	c.Drivers()[follower].Kill()
	<-c.Drivers()[follower].Done()

	// Jobs while it is down, each checked against DuckDB.
	var ran []string
	for _, q := range []string{"q03", "q05", "q10"} {
		out := mustRun(t, "submit", "--driver", c.Addr(), "--wait", "--partitions", "4", "--tables", tpchData, "-f", queries+q+".sql")
		id, result, _ := strings.Cut(out, "\n")
		want, err := os.ReadFile(answers + q + ".csv")
		if err != nil {
			t.Fatal(err)
		}
		if err := compareCSVText(string(want), result); err != nil {
			t.Fatalf("%s with a follower down: %v", q, err)
		}
		ran = append(ran, id)
	}

	// The leader's log no longer holds what the follower lacks.
	snapDir := filepath.Join(c.Dir(), "raft-"+strconv.Itoa(leader+1), "snapshots")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if idx := newestSnapshot(t, snapDir); idx > lagged.LastIndex+trailing {
			t.Logf("the follower stopped at index %d; the leader's snapshot is at %d, its log keeps %d entries before it",
				lagged.LastIndex, idx, trailing)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot past index %d in %s within 30s", lagged.LastIndex+trailing, snapDir)
		}
		time.Sleep(50 * time.Millisecond)
	}

	restarted := time.Now()
	c.RestartDriver(follower)
	for {
		ms, _ := members(t, c.Addr())
		var back memberLine
		for _, m := range ms {
			if m.Address == lagged.Address {
				back = m
			}
		}
		if back.State == "follower" && back.Lag != nil && *back.Lag == 0 && back.Applied >= back.LastIndex {
			t.Logf("the restarted follower caught up in %s: at index %d", time.Since(restarted).Round(time.Millisecond), back.LastIndex)
			break
		}
		if time.Since(restarted) > 30*time.Second {
			t.Fatalf("the restarted follower has not caught up in 30s: %+v", ms)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if entries, err := os.ReadDir(filepath.Join(c.Dir(), "raft-"+strconv.Itoa(follower+1), "snapshots")); err != nil || len(entries) == 0 {
		t.Errorf("the restarted follower holds no snapshot (%v): it cannot have caught up from the compacted log", err)
	}

	// Without the leader, no commit is made without the follower that
	// lagged.
	const query = "q09"
	_, result := submitKillingLeader(t, c, "--tables", tpchData, "-f", queries+query+".sql")
	want, err := os.ReadFile(answers + query + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := compareCSVText(string(want), result); err != nil {
		t.Errorf("%s after the leader change: %v", query, err)
	}
	for _, id := range ran {
		if got := strings.TrimSpace(mustRun(t, "status", "--driver", c.Addr(), id)); !strings.Contains(got, "succeeded") {
			t.Errorf("job %s, run while the follower was down, under the new leader: %s", id, got)
		}
	}
}

// newestSnapshot is the log index of the newest snapshot in dir (raft's
// file snapshot store names them TERM-INDEX-MILLIS), 0 when none.
func newestSnapshot(t *testing.T, dir string) uint64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var newest uint64
	for _, e := range entries {
		parts := strings.Split(e.Name(), "-")
		if len(parts) != 3 || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if idx, err := strconv.ParseUint(parts[1], 10, 64); err == nil {
			newest = max(newest, idx)
		}
	}
	return newest
}
