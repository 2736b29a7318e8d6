package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/gctune"
	"github.com/flint-engine/flint/internal/output"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

type sessionFlags struct {
	tables     []string
	tablesDir  string
	slots      int
	partitions int
	batchSize  int
	driver     string
	memLimit   string
	workDir    string
	models     string
	broadcast  float64
}

func (f *sessionFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.tables, "table", nil, "register a table: NAME=PATH (file, directory or glob; repeatable)")
	cmd.Flags().StringVar(&f.tablesDir, "tables", "", "register every NAME.parquet, NAME.csv, NAME.json or NAME/ in DIR as table NAME")
	cmd.Flags().IntVar(&f.slots, "slots", 0, "tasks run at once (default: all cores)")
	cmd.Flags().IntVar(&f.partitions, "partitions", 0, "shuffle partitions (default: 2 × slots)")
	cmd.Flags().IntVar(&f.batchSize, "batch-size", 0, "rows per batch (default 8192)")
	cmd.Flags().StringVar(&f.driver, "driver", os.Getenv(driverEnv), "run queries on the cluster of the driver at HOST:PORT (a replicated group: every member, comma-separated; default $"+driverEnv+")")
	cmd.Flags().StringVar(&f.memLimit, "memory-limit", "", "memory the process may use, e.g. 1GiB or 512MiB; operators spill to --work-dir beyond it (default: 75% of the machine's or container's memory; 0: no limit)")
	cmd.Flags().StringVar(&f.workDir, "work-dir", "", "folder for exchange and spill files (default: the system temp dir)")
	cmd.Flags().StringVar(&f.models, "models", os.Getenv(modelsEnv), "model store for CREATE MODEL and ml.predict: a folder or s3://bucket/prefix (default $"+modelsEnv+", else with --driver the driver's store, else flint/models in $XDG_DATA_HOME or ~/.local/share)")
	cmd.Flags().Float64Var(&f.broadcast, "broadcast-rows", 0, "estimated build rows at or below which a join is broadcast (default: the session's)")
	_ = cmd.Flags().MarkHidden("broadcast-rows")
}

// Local mode's collector: the heap may grow by a quarter of what the
// last collection found alive, and by at least 16 MiB (never more than
// GOGC allows: double by default), before the next collection
// (gctune.FollowLive). Go's default, GOGC=100, let the heap double: measured on TPC-H SF1 (each query a process), the 22 queries'
// peak RSS sums to a quarter less this way, at a little less CPU time
// (fewer fresh pages to fault in pays for the extra collections, which
// mark mostly pointer-free Arrow buffers).
const (
	gcFloor   = 16 << 20
	gcPercent = 25
)

var followLiveOnce sync.Once

func followLiveHeap() {
	followLiveOnce.Do(func() { gctune.FollowLive(gcFloor, gcPercent) })
}

// modelsEnv names the environment variable that gives --models its
// default.
const modelsEnv = "FLINT_MODELS"

func (f *sessionFlags) open(ctx context.Context) (*flint.Session, error) {
	var opts []flint.Option
	if f.slots < 0 || f.partitions < 0 || f.batchSize < 0 {
		return nil, usagef("--slots, --partitions and --batch-size must be positive")
	}
	if f.slots > 0 {
		opts = append(opts, flint.WithSlots(f.slots))
	}
	if f.partitions > 0 {
		opts = append(opts, flint.WithPartitions(f.partitions))
	}
	if f.batchSize > 0 {
		opts = append(opts, flint.WithBatchSize(f.batchSize))
	}
	if f.driver != "" {
		opts = append(opts, flint.WithDriver(f.driver))
	}
	if f.broadcast > 0 {
		opts = append(opts, flint.WithBroadcastThreshold(f.broadcast))
	}
	limit := mempool.DefaultLimit()
	if f.memLimit != "" {
		var err error
		if limit, err = mempool.ParseBytes(f.memLimit); err != nil {
			return nil, usagef("--memory-limit: %v", err)
		}
	}
	opts = append(opts, flint.WithMemoryLimit(limit))
	if f.driver == "" {
		followLiveHeap()
	}
	if f.workDir != "" {
		opts = append(opts, flint.WithWorkDir(f.workDir))
	}
	if f.models != "" {
		opts = append(opts, flint.WithModels(f.models))
	}
	s, err := flint.NewSession(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if f.tablesDir != "" {
		if err := registerDir(ctx, s, f.tablesDir); err != nil {
			return nil, err
		}
	}
	type table struct{ name, path string }
	var tables []table
	for _, t := range f.tables {
		name, path, ok := strings.Cut(t, "=")
		if !ok || name == "" || path == "" {
			return nil, usagef("--table wants NAME=PATH, got %q", t)
		}
		tables = append(tables, table{name, path})
	}
	// Registering reads each table's metadata (a footer, a listing): on
	// object stores that is a few round trips per table, so do them at once.
	errs := make([]error, len(tables))
	var wg sync.WaitGroup
	for i, t := range tables {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.RegisterTable(ctx, t.name, "", t.path, nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first --table that failed, in flag order
		}
	}
	return s, nil
}

// registerDir registers NAME.parquet / NAME.csv / NAME.json files and NAME/
// directories of dir.
func registerDir(ctx context.Context, s *flint.Session, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("--tables: %w", err)
	}
	n := 0
	seen := map[string]string{} // table name -> entry it came from
	claim := func(table, entry string) error {
		key := strings.ToLower(table)
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("--tables %s: both %s and %s would be table %s; use --table NAME=PATH for one of them", dir, prev, entry, table)
		}
		seen[key] = entry
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		path := filepath.Join(dir, name)
		if !e.IsDir() {
			format, err := flint.InferFormat(name)
			if err != nil {
				continue
			}
			base := name[:strings.Index(name, ".")]
			if err := claim(base, name); err != nil {
				return err
			}
			if err := s.RegisterTable(ctx, base, format, path, nil); err != nil {
				return err
			}
			n++
			continue
		}
		if _, err := flint.InferFormat(path); err != nil {
			continue
		}
		if err := claim(name, name+"/"); err != nil {
			return err
		}
		if err := s.RegisterTable(ctx, name, "", path, nil); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("--tables %s: no .parquet, .csv or .json tables found", dir)
	}
	return nil
}

func newSQLCmd() *cobra.Command {
	var sf sessionFlags
	var exprSQL, file, format, out string
	var vars []string
	var timeout time.Duration
	var stats bool
	var pf progressFlag
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Run SQL statements, in-process or on a cluster (--driver)",
		Long: `Sql runs the statements of -e or -f one after the other and prints the
result of each query (a COPY prints the rows, files and bytes it wrote).

--timeout bounds the whole command (opening the tables included): when it
expires, the running statement is cancelled (on a cluster, its job, whose
deadline it also is; a cancelled COPY leaves its target as it was), no
result is printed, and flint exits 1 with "query timed out after DURATION
(--timeout)".`,
		Example: `  flint sql --tables ./tpch -e "select count(*) from lineitem"
  flint sql --table t=data/*.parquet -f query.sql --format csv --output result.csv
  flint sql --tables ./tpch -f q21.sql --timeout 2m
  flint sql --models s3://lake/models -e "CREATE MODEL churn OPTIONS (model_type = 'xgboost', model_path = 'churn.json')"
  flint sql --table people=people.csv -e "SELECT id, prediction FROM ml.predict(MODEL churn, TABLE people)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (exprSQL == "") == (file == "") {
				return usagef("give exactly one of -e SQL or -f FILE")
			}
			if err := pf.check(); err != nil {
				return err
			}
			text := exprSQL
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				text = string(b)
			}
			text, err := expandVars(text, vars)
			if err != nil {
				return err
			}
			f := output.Table
			if format != "" {
				var err error
				if f, err = output.ParseFormat(format); err != nil {
					return usageError{err}
				}
			} else if out != "" || !isTerminal(os.Stdout) {
				f = output.CSV
			}
			ctx, cancel, err := withTimeout(cmd.Context(), timeout, "query")
			if err != nil {
				return err
			}
			defer cancel()
			tracker, stopProgress, err := pf.start(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer stopProgress()
			if tracker != nil {
				ctx = flint.WithProgress(ctx, tracker)
			}
			s, err := sf.open(ctx)
			if err != nil {
				return timedOut(ctx, err)
			}
			defer s.Close()
			var qs flint.QueryStats
			if stats {
				ctx = flint.WithQueryStats(ctx, &qs)
			}
			err = timedOut(ctx, runSQL(ctx, s, text, f, out, cmd.OutOrStdout(), stopProgress))
			if stats && err == nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "flint: %s\n", &qs)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&exprSQL, "execute", "e", "", "SQL to run")
	cmd.Flags().StringArrayVar(&vars, "var", nil, varsHelp())
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after DURATION (e.g. 30s, 2m): cancel the query and exit 1")
	cmd.Flags().StringVarP(&file, "file", "f", "", "file with SQL to run")
	cmd.Flags().StringVar(&format, "format", "", "output format: table, csv or json (default: table on a terminal, else csv)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write results to PATH instead of stdout")
	cmd.Flags().BoolVar(&stats, "stats", false, "print the queries' time, memory pool peak and bytes spilled to stderr (local mode)")
	sf.register(cmd)
	pf.register(cmd)
	return cmd
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runSQL runs each statement; query results are printed (or written to
// out, replacing it atomically once everything succeeded). collected runs
// once every statement has run, before anything is printed.
func runSQL(ctx context.Context, s *flint.Session, text string, f output.Format, out string, stdout io.Writer, collected func()) error {
	stmts, err := parser.Parse(text)
	if err != nil {
		return err
	}
	type result struct {
		schema  *arrow.Schema
		batches []arrow.RecordBatch
		explain bool // EXPLAIN text: printed as plain lines unless f is JSON
	}
	var results []result
	defer func() {
		for _, r := range results {
			for _, b := range r.batches {
				b.Release()
			}
		}
	}()
	// Each statement is run through the session one at a time, so DDL takes
	// effect before later queries are bound.
	for _, st := range stmts {
		df := s.SQL(ctx, statementText(text, st, stmts))
		if err := df.Err(); err != nil {
			return err
		}
		switch st.(type) {
		case *ast.Query, *ast.Explain, *ast.Copy, *ast.Show: // COPY: rows, files, bytes written
			schema, batches, err := df.CollectWithSchema(ctx)
			if err != nil {
				return err
			}
			_, isExplain := st.(*ast.Explain)
			results = append(results, result{schema, batches, isExplain})
		}
	}
	collected()
	w := stdout
	var tmp *os.File
	if out != "" {
		tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		w = tmp
	}
	for _, r := range results {
		if r.explain && f != output.JSON {
			if err := writeLines(w, r.batches); err != nil {
				return err
			}
			continue
		}
		if err := output.Write(w, f, r.schema, r.batches); err != nil {
			return err
		}
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), out)
	}
	return nil
}

// writeLines prints the first column of batches one value per line: EXPLAIN
// output stays readable instead of being CSV-quoted or boxed in a table.
func writeLines(w io.Writer, batches []arrow.RecordBatch) error {
	var sb strings.Builder
	for _, b := range batches {
		if b.NumCols() == 0 {
			continue
		}
		col := b.Column(0)
		for i := 0; i < col.Len(); i++ {
			v, _ := output.Value(col, i)
			sb.WriteString(v)
			sb.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// statementText returns the source of one statement of a script, so that
// error carets point into the text the user wrote.
func statementText(text string, st ast.Statement, all []ast.Statement) string {
	if len(all) == 1 {
		return text
	}
	start := st.Pos().Offset
	end := len(text)
	for i, s := range all {
		if s == st && i+1 < len(all) {
			end = all[i+1].Pos().Offset
		}
	}
	if start < 0 || start > end || end > len(text) {
		return text
	}
	// Keep the statement at its original line/column by padding with the
	// preceding text's newlines.
	prefix := strings.Repeat("\n", strings.Count(text[:start], "\n"))
	lineStart := strings.LastIndex(text[:start], "\n") + 1
	return prefix + strings.Repeat(" ", start-lineStart) + strings.TrimRight(strings.TrimSpace(text[start:end]), ";")
}
