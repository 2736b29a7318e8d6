package connectors

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the scan layer below the engine: connectors must
// not import any other flint package except its own subpackages.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/flint-engine/flint/") && !strings.HasPrefix(dep, "github.com/flint-engine/flint/connectors") {
			t.Errorf("connectors imports %s", dep)
		}
	}
}
