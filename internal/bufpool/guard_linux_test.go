package bufpool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestGuardAllocates(t *testing.T) {
	var g Guard
	b := g.Allocate(10_000)
	for i := range b {
		if b[i] != 0 {
			t.Fatal("not zeroed")
		}
		b[i] = byte(i)
	}
	c := g.Reallocate(20_000, b)
	if len(c) != 20_000 || c[9_999] != byte(9_999%256) || c[10_000] != 0 {
		t.Fatal("Reallocate lost or invented bytes")
	}
	g.Free(c)
}

// TestGuardFaultsOnUseAfterFree runs itself in a child process that reads
// a freed buffer: the child must die of the fault.
func TestGuardFaultsOnUseAfterFree(t *testing.T) {
	if os.Getenv("BUFPOOL_USE_AFTER_FREE") == "1" {
		var g Guard
		b := g.Allocate(100)
		g.Free(b)
		println(b[0]) // faults
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=TestGuardFaultsOnUseAfterFree$")
	cmd.Env = append(os.Environ(), "BUFPOOL_USE_AFTER_FREE=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "fault") {
		t.Fatalf("reading a freed buffer did not fault: err %v, output:\n%s", err, out)
	}
}
