package shuffle

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) != "" {
		os.Exit(runBenchServer())
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { stopBenchServer() }))
}
