package service_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps the executor process independent of the driver side
// and of SQL planning: it gets plans only through the wire.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/flint-engine/flint/"
	for _, dep := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(dep, mod)
		if !ok {
			continue
		}
		for _, bad := range []string{"driver", "coordinator", "planner", "optimizer", "sql"} {
			if rel == bad || strings.HasPrefix(rel, bad+"/") {
				t.Errorf("executor/service imports %s (layering)", rel)
			}
		}
	}
}
