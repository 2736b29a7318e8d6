package flint_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden lists, per package, the project packages it must not import
// (directly or indirectly): imports flow parse -> plan -> optimize ->
// physical -> execute, and the execution layer knows nothing of SQL.
var forbidden = map[string][]string{
	"plan":        {"sql/", "optimizer", "physical", "exec", "executor", "driver", "connectors"},
	"sql/ast":     {"plan", "types", "optimizer", "physical", "exec", "executor", "driver"},
	"sql/parser":  {"plan", "types", "optimizer", "physical", "exec", "executor", "driver"},
	"sql/binder":  {"optimizer", "physical", "exec", "executor", "driver"},
	"optimizer":   {"sql/", "physical", "exec", "executor", "driver", "connectors"},
	"physical":    {"sql/", "exec", "executor", "driver"},
	"exec":        {"plan", "sql/", "optimizer", "physical", "executor", "driver"},
	"connectors":  {"plan", "sql/", "optimizer", "physical", "exec", "executor", "driver"},
	"executor":    {"sql/", "optimizer", "driver"},
	"planner":     {"sql/", "exec", "executor", "driver"},
	"coordinator": {"plan", "sql/", "optimizer", "physical", "exec", "executor", "driver", "connectors"},
}

func TestLayering(t *testing.T) {
	const mod = "github.com/flint-engine/flint/"
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "./"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ok := strings.CutPrefix(dep, mod)
			if !ok {
				continue
			}
			for _, b := range bad {
				if rel == strings.TrimSuffix(b, "/") || strings.HasPrefix(rel, b) || strings.HasPrefix(rel, b+"/") {
					t.Errorf("%s imports %s, which it must not (layering)", pkg, rel)
				}
			}
		}
	}
}
