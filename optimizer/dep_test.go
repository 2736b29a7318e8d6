package optimizer

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps the optimizer a pure plan → plan stage: it must not
// depend on execution, physical planning, SQL parsing or connectors.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"/exec", "/physical", "/sql/", "/connectors", "/executor", "/driver", "/shuffle"} {
			if strings.HasPrefix(dep, "github.com/flint-engine/flint") && strings.Contains(dep, banned) {
				t.Errorf("optimizer depends on %s", dep)
			}
		}
	}
}
