package sqllogictest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the patterns of error records from Flint's messages (never query results)")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestSLT runs every testdata/slt/*.slt file under every configuration.
// Run one file with -run 'TestSLT/local/select'.
func TestSLT(t *testing.T) {
	files, err := filepath.Glob("../testdata/slt/*.slt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .slt files in ../testdata/slt")
	}
	for i, cfg := range Configs {
		// Rewrite once: error messages do not depend on the configuration.
		cfg.Rewrite = (*rewrite || os.Getenv("SLT_REWRITE") != "") && i == 0
		t.Run(cfg.Name, func(t *testing.T) {
			for _, f := range files {
				name := strings.TrimSuffix(filepath.Base(f), ".slt")
				t.Run(name, func(t *testing.T) { Run(t, f, cfg) })
			}
		})
	}
}
