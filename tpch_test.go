package flint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/bufpool"
	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/tpch"
)

// configurations every correctness test runs under: several slots with
// more partitions than slots, a single slot, tiny batches, a memory pool
// of 2 MiB (operators and exchanges spill), and a cluster of a driver and
// three executor processes (skipped with -short).
var configs = []tpchConfig{
	{name: "local", opts: []flint.Option{flint.WithSlots(2)}},
	{name: "one-slot", opts: []flint.Option{flint.WithSlots(1), flint.WithPartitions(1)}},
	{name: "partitions-3", opts: []flint.Option{flint.WithSlots(2), flint.WithPartitions(3), flint.WithBroadcastThreshold(0)}},
	{name: "tiny-batches", opts: []flint.Option{flint.WithSlots(2), flint.WithBatchSize(7)}},
	{name: "spill", opts: []flint.Option{flint.WithSlots(2), flint.WithOperatorMemory(2 << 20)}},
	{name: "cluster", executors: 3},
}

type tpchConfig struct {
	name string
	opts []flint.Option
	// executors > 0 runs the queries on a cluster of that many executor
	// processes (package internal/clustertest).
	executors    int
	executorArgs []string
}

// TestTPCH runs the 22 TPC-H queries on the committed sample data and
// compares each result with the answer DuckDB produced for the same files
// (testdata/tpch/answers/sample, written by tools/duckref).
func TestTPCH(t *testing.T) {
	runTPCH(t, "testdata/tpch/sf-sample", "testdata/tpch/answers/sample", configs)
}

// TestTPCHSF1 checks the 22 queries at scale factor 1 against DuckDB's
// committed SF1 answers when FLINT_TPCH_SF1 names a directory holding the
// SF1 Parquet files (flint bench tpch gen --sf 1 --out DIR). CI skips it:
// it needs 300 MB of data and a minute of CPU.
func TestTPCHSF1(t *testing.T) {
	dir := os.Getenv("FLINT_TPCH_SF1")
	if dir == "" {
		t.Skip("set FLINT_TPCH_SF1 to a directory of TPC-H SF1 Parquet files")
	}
	runTPCH(t, dir, "testdata/tpch/answers/sf1", configs[:1])
}

// TestTPCHLarge checks the 22 queries on any scale when FLINT_TPCH_DIR
// names the Parquet files and FLINT_TPCH_ANSWERS DuckDB's answers for them
// (cd tools/duckref && go run . answers --dir DIR --out ANSWERS), under
// the memory limit FLINT_TPCH_MEMORY (e.g. 1GiB; default none), in local
// mode, and with FLINT_TPCH_EXECUTORS=N also on a cluster of N executor
// processes with that limit each. For the SF10 acceptance run; CI skips it.
func TestTPCHLarge(t *testing.T) {
	dir, answers := os.Getenv("FLINT_TPCH_DIR"), os.Getenv("FLINT_TPCH_ANSWERS")
	if dir == "" || answers == "" {
		t.Skip("set FLINT_TPCH_DIR and FLINT_TPCH_ANSWERS")
	}
	cfg := tpchConfig{name: "local"}
	var execArgs []string
	if m := os.Getenv("FLINT_TPCH_MEMORY"); m != "" {
		limit, err := mempool.ParseBytes(m)
		if err != nil {
			t.Fatal(err)
		}
		cfg.opts = append(cfg.opts, flint.WithMemoryLimit(limit))
		execArgs = []string{"--memory-limit", m}
	}
	cfgs := []tpchConfig{cfg}
	if n, _ := strconv.Atoi(os.Getenv("FLINT_TPCH_EXECUTORS")); n > 0 {
		cfgs = append(cfgs, tpchConfig{name: "cluster", executors: n, executorArgs: execArgs})
	}
	runTPCH(t, dir, answers, cfgs)
}

func runTPCH(t *testing.T, dir, answers string, configs []tpchConfig) {
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			if cfg.name == "tiny-batches" && testing.Short() {
				t.Skip("tiny batches are slow")
			}
			opts := append([]flint.Option(nil), cfg.opts...)
			if cfg.executors > 0 {
				if testing.Short() {
					t.Skip("the cluster configuration starts OS processes")
				}
				c := clustertest.Start(t, clustertest.Options{Executors: cfg.executors, ExecutorArgs: cfg.executorArgs})
				opts = append(opts, flint.WithDriver(c.Addr()))
			}
			ctx := context.Background()
			mem := memory.NewCheckedAllocator(bufpool.NewPoisoning())
			s, err := flint.NewSession(ctx, append(opts, flint.WithAllocator(mem))...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, table := range tpch.Tables {
				if err := s.RegisterTable(ctx, table, "parquet", filepath.Join(dir, table+".parquet"), nil); err != nil {
					t.Fatal(err)
				}
			}
			for q := 1; q <= 22; q++ {
				t.Run(fmt.Sprintf("q%02d", q), func(t *testing.T) {
					got, err := s.SQL(ctx, tpch.Query(q)).Collect(ctx)
					if err != nil {
						t.Fatalf("Q%d: %v", q, err)
					}
					defer release(got)
					checkAnswer(t, filepath.Join(answers, fmt.Sprintf("q%02d.csv", q)), got)
				})
			}
			mem.AssertSize(t, 0)
		})
	}
}
