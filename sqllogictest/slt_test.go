package sqllogictest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the patterns of error records from Flint's messages (never query results)")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		clustertest.RemoveBinary()
		os.Exit(code)
	}))
}

// TestSLT runs every testdata/slt/*.slt file under every configuration;
// the cluster configuration (one cluster for all files) is skipped with
// -short. Run one file with -run 'TestSLT/local/select'.
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
			if cfg.Executors > 0 {
				if testing.Short() {
					t.Skip("the cluster configuration starts OS processes")
				}
				c := clustertest.Start(t, clustertest.Options{Executors: cfg.Executors, ExecutorArgs: cfg.ExecutorArgs})
				cfg.Options = append(cfg.Options[:len(cfg.Options):len(cfg.Options)], flint.WithDriver(c.Addr()))
			}
			for _, f := range files {
				name := strings.TrimSuffix(filepath.Base(f), ".slt")
				t.Run(name, func(t *testing.T) { Run(t, f, cfg) })
			}
		})
	}
}
