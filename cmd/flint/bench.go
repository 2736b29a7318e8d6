package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"github.com/flint-engine/flint"
	latedelivery "github.com/flint-engine/flint/examples/late-delivery"
	"github.com/flint-engine/flint/internal/output"
	"github.com/flint-engine/flint/tpch"
)

func newBenchCmd() *cobra.Command {
	bench := &cobra.Command{Use: "bench", Short: "Benchmarks"}
	tp := &cobra.Command{Use: "tpch", Short: "TPC-H data generation and queries"}
	bench.AddCommand(tp)

	var sf float64
	var out string
	gen := &cobra.Command{
		Use:   "gen",
		Short: "Write TPC-H tables as Parquet (DECIMAL(15,2) money, DATE dates)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sf <= 0 {
				return usagef("--sf must be positive (a whole number, or a fraction such as 0.1)")
			}
			if out == "" {
				return usagef("--out DIR is required")
			}
			start := time.Now()
			if err := tpch.GenerateScale(cmd.Context(), sf, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "generated TPC-H SF%g in %s (%.1fs)\n", sf, out, time.Since(start).Seconds())
			return nil
		},
	}
	gen.Flags().Float64Var(&sf, "sf", 1, "scale factor (a whole number, or a fraction such as 0.1)")
	gen.Flags().StringVar(&out, "out", "", "output directory")

	var sfl sessionFlags
	var queries string
	var repeat int
	run := &cobra.Command{
		Use:   "run",
		Short: "Time the 22 TPC-H queries in local mode",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sfl.tablesDir == "" {
				return usagef("--tables DIR (with the TPC-H Parquet files) is required")
			}
			qs, err := parseQueryList(queries)
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			s, err := sfl.open(ctx)
			if err != nil {
				return err
			}
			return runTPCH(ctx, s, qs, repeat, cmd.OutOrStdout(), false)
		},
	}
	sfl.register(run)
	run.Flags().StringVar(&queries, "queries", "1-22", "queries to run, e.g. 1,3,5-7")
	run.Flags().IntVar(&repeat, "repeat", 1, "runs per query (the fastest is reported)")
	tp.AddCommand(gen, run)
	return bench
}

func parseQueryList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad query list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("bad query list %q", s)
			}
		}
		for q := a; q <= b; q++ {
			if q < 1 || q > 22 {
				return nil, fmt.Errorf("TPC-H has queries 1 to 22, got %d", q)
			}
			out = append(out, q)
		}
	}
	return out, nil
}

// runTPCH runs the queries and prints a line per query with its time and
// row count; with show it also prints each result.
func runTPCH(ctx context.Context, s *flint.Session, qs []int, repeat int, w io.Writer, show bool) error {
	var logSum float64
	total := time.Duration(0)
	for _, q := range qs {
		best := time.Duration(math.MaxInt64)
		var rows int64
		for r := 0; r < max(repeat, 1); r++ {
			start := time.Now()
			df := s.SQL(ctx, tpch.Query(q))
			if show && r == 0 {
				// Run the query once: time it, then print its first rows.
				schema, batches, err := df.CollectWithSchema(ctx)
				if err != nil {
					return fmt.Errorf("Q%d: %w", q, err)
				}
				best = min(best, time.Since(start))
				rows = 0
				var head []arrow.RecordBatch
				for _, b := range batches {
					if left := 10 - rows; left > 0 {
						head = append(head, b.NewSlice(0, min(left, b.NumRows())))
					}
					rows += b.NumRows()
				}
				fmt.Fprintf(w, "-- Q%d\n", q)
				err = output.Write(w, output.Table, schema, head)
				for _, b := range append(head, batches...) {
					b.Release()
				}
				if err != nil {
					return err
				}
				continue
			}
			n, err := df.Count(ctx)
			if err != nil {
				return fmt.Errorf("Q%d: %w", q, err)
			}
			rows = n
			best = min(best, time.Since(start))
		}
		total += best
		logSum += math.Log(best.Seconds())
		fmt.Fprintf(w, "Q%02d  %8.3fs  %6d rows\n", q, best.Seconds(), rows)
	}
	fmt.Fprintf(w, "total %.3fs, geometric mean %.3fs over %d queries\n", total.Seconds(), math.Exp(logSum/float64(len(qs))), len(qs))
	return nil
}

func newDemoCmd() *cobra.Command {
	var sf float64
	var dir, work string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the late-delivery ML pipeline on generated TPC-H data, in local mode",
		Long: `Demo runs examples/late-delivery in local mode: it generates TPC-H data
(once, into the user cache dir), then ETL (a feature table of every line
item), training (gradient-boosted trees predicting late deliveries, with a
TRANSFORM), evaluation on held-out orders and scoring of every line item,
and prints each step's time, the evaluation's metrics and where the scores
went. The 22 TPC-H queries are under "flint bench tpch run".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !(sf > 0) {
				return usagef("--sf must be positive (a whole number, or a fraction such as 0.1)")
			}
			cache, err := os.UserCacheDir()
			if err != nil {
				cache = os.TempDir()
			}
			if dir == "" {
				dir = filepath.Join(cache, "flint", fmt.Sprintf("tpch-sf%g", sf))
			}
			if _, err := os.Stat(filepath.Join(dir, "lineitem.parquet")); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "generating TPC-H SF%g into %s ...\n", sf, dir)
				start := time.Now()
				if err := tpch.GenerateScale(ctx, sf, dir); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "generated in %.1fs\n", time.Since(start).Seconds())
			}
			if work == "" {
				work = filepath.Join(cache, "flint", fmt.Sprintf("demo-sf%g", sf))
			}
			s, err := flint.NewSession(ctx, flint.WithModels(filepath.Join(work, "models")))
			if err != nil {
				return err
			}
			defer s.Close()
			if err := registerDir(ctx, s, dir); err != nil {
				return err
			}
			steps, err := latedelivery.Steps(work)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "late deliveries: will a TPC-H SF%g line item arrive after its commit date?\nlocal mode, %d slots, work folder %s\n\n", sf, runtime.GOMAXPROCS(0), work)
			total := time.Now()
			for _, st := range steps {
				start := time.Now()
				df := s.SQL(ctx, st.SQL)
				if _, err := df.Collect(ctx); err != nil {
					return fmt.Errorf("step %s (examples/late-delivery/sql/%s): %w", st.Name, st.File, err)
				}
				fmt.Fprintf(w, "%-9s %7.2fs  %s\n", st.Name, time.Since(start).Seconds(), st.File)
				if st.Name == "etl" {
					if err := s.RegisterTable(ctx, "features", "parquet", filepath.Join(work, "features"), nil); err != nil {
						return err
					}
				}
			}
			fmt.Fprintf(w, "total     %7.2fs\n\n", time.Since(total).Seconds())
			if err := s.RegisterTable(ctx, "evaluation", "csv", filepath.Join(work, "evaluation"), nil); err != nil {
				return err
			}
			if err := s.SQL(ctx, "SELECT * FROM evaluation").Show(ctx, w, 1); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nscores (Parquet, by ship year): %s\nmodel: late_delivery in %s\n", filepath.Join(work, "scores"), filepath.Join(work, "models"))
			return nil
		},
	}
	cmd.Flags().Float64Var(&sf, "sf", 1, "TPC-H scale factor")
	cmd.Flags().StringVar(&dir, "dir", "", "TPC-H data directory (default: the user cache dir)")
	cmd.Flags().StringVar(&work, "work", "", "folder for the features, model, evaluation and scores (default: the user cache dir)")
	return cmd
}
