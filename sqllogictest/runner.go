package sqllogictest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/bufpool"
	"github.com/flint-engine/flint/internal/output"
	"github.com/flint-engine/flint/sqllogictest/slt"
)

// Config is one engine configuration a file runs under.
type Config struct {
	// Name is matched against a file's "# configs:" list.
	Name string
	// Options configure the session (an allocator is added by Run).
	Options []flint.Option
	// Rewrite replaces the pattern of every error record whose error does
	// not match it with Flint's actual message (quoted), and writes the
	// file back. Query results are never rewritten.
	Rewrite bool
	// Timeout bounds each record (default 60s).
	Timeout time.Duration
	// Executors > 0 makes it a cluster configuration: its files run on a
	// driver and that many executor processes, whose driver Options must
	// name (WithDriver; TestSLT starts the cluster).
	Executors int
	// ExecutorArgs are added to the executors' command lines.
	ExecutorArgs []string
}

// SpillMemory is the operator memory of the spill configuration: small
// enough that sorts, aggregations, joins, windows and exchanges of the
// TPC-H sample spill.
const SpillMemory = 4 << 20

// Configs are the standard configurations: several slots, one slot and
// one partition, more partitions than slots with shuffled (never
// broadcast) joins, tiny batches, a memory pool of a few MiB that makes
// operators and exchanges spill, and a cluster of three executor
// processes with tiny batches and small pools too.
var Configs = []Config{
	{Name: "local", Options: []flint.Option{flint.WithSlots(2)}},
	{Name: "one-slot", Options: []flint.Option{flint.WithSlots(1), flint.WithPartitions(1)}},
	{Name: "partitions-3", Options: []flint.Option{flint.WithSlots(2), flint.WithPartitions(3), flint.WithBroadcastThreshold(0)}},
	{Name: "tiny-batches", Options: []flint.Option{flint.WithSlots(2), flint.WithBatchSize(3)}},
	{Name: "spill", Options: []flint.Option{flint.WithSlots(2), flint.WithOperatorMemory(SpillMemory)}},
	{Name: "cluster", Options: []flint.Option{flint.WithBatchSize(5)}, Executors: 3,
		ExecutorArgs: []string{"--operator-memory", "8MiB"}},
}

// Run executes the .slt file at path against a fresh session configured
// by cfg, reporting each failing record as an error naming path:line. It
// skips the test if the file's "# configs:" list excludes cfg.Name. At the
// end it checks that the session's allocator holds no memory.
func Run(t *testing.T, path string, cfg Config) {
	t.Helper()
	run(t, path, cfg)
}

// reporter is the part of testing.T the runner uses (tests of the runner
// itself pass a recorder).
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
}

func run(t reporter, path string, cfg Config) {
	t.Helper()
	f, err := slt.ParseFile(path)
	if err != nil {
		t.Fatalf("%v", err)
		return
	}
	if len(f.Configs) > 0 && !contains(f.Configs, cfg.Name) {
		t.Skipf("%s runs only under configs %v", path, f.Configs)
		return
	}
	dataDir, err := slt.DataDir(path)
	if err != nil {
		t.Fatalf("%v", err)
		return
	}
	mem := memory.NewCheckedAllocator(bufpool.NewPoisoning())
	ctx := context.Background()
	workDir, err := os.MkdirTemp("", "flint-slt-")
	if err != nil {
		t.Fatalf("%v", err)
		return
	}
	defer os.RemoveAll(workDir)
	// Each file gets a model store of its own (CREATE MODEL writes there);
	// a cluster's executors, on this machine, read it at the same path.
	models, err := os.MkdirTemp("", "flint-slt-models-")
	if err != nil {
		t.Fatalf("%v", err)
		return
	}
	defer os.RemoveAll(models)
	s, err := flint.NewSession(ctx, append(append([]flint.Option(nil), cfg.Options...), flint.WithAllocator(mem),
		flint.WithWorkDir(workDir), flint.WithModels(models))...)
	if err != nil {
		t.Fatalf("%v", err)
		return
	}
	defer func() {
		// Every query removes its exchange and spill files, whatever
		// happened to it.
		if left, _ := os.ReadDir(workDir); len(left) > 0 {
			t.Errorf("%s: files left in the work dir: %v", path, left)
		}
	}()
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	rw := slt.NewRewriter(f)
	ran, skipped := 0, 0
	for _, r := range f.Records {
		if r.Skip != "" {
			skipped++
			t.Logf("%s:%d: skipped: %s", path, r.Line, r.Skip)
			continue
		}
		ran++
		rctx, cancel := context.WithTimeout(ctx, timeout)
		sql := slt.ExpandSQL(r.SQL, dataDir)
		res, err := execute(rctx, s, sql)
		cancel()
		where := fmt.Sprintf("%s:%d", path, r.Line)
		switch {
		case r.ExpectError:
			if err == nil {
				t.Errorf("%s: expected an error matching %q, but the statement succeeded\nSQL: %s", where, r.ErrPattern, r.SQL)
				continue
			}
			msg := err.Error()
			pattern := strings.ReplaceAll(r.ErrPattern, "__DATA__", regexp.QuoteMeta(filepath.ToSlash(dataDir)))
			if r.ErrPattern == "" || !regexp.MustCompile(pattern).MatchString(msg) {
				if cfg.Rewrite {
					rw.SetErrPattern(r, ErrorPattern(msg, dataDir))
					continue
				}
				if r.ErrPattern != "" {
					t.Errorf("%s: error does not match %q\nSQL: %s\ngot error: %s", where, r.ErrPattern, r.SQL, msg)
				}
			}
		case err != nil:
			t.Errorf("%s: unexpected error\nSQL: %s\nerror: %v", where, r.SQL, err)
		case r.Kind == slt.Query:
			if msg := compare(r, res); msg != "" {
				t.Errorf("%s: wrong result\nSQL: %s\n%s", where, r.SQL, msg)
			}
		}
	}
	t.Logf("%s: %d records run, %d skipped", path, ran, skipped)
	if err := s.Close(); err != nil {
		t.Errorf("%s: closing session: %v", path, err)
	}
	if cfg.Rewrite && rw.Changed() {
		if err := rw.WriteFile(); err != nil {
			t.Errorf("%v", err)
		}
		t.Logf("%s: rewrote error patterns", path)
	}
	mem.AssertSize(t, 0)
}

// ErrorPattern turns an error message into a pattern that matches it: its
// first line, regexp-quoted, with dataDir spelled __DATA__ (patterns may
// use that placeholder like SQL does, so they do not depend on where the
// repository lives).
func ErrorPattern(msg, dataDir string) string {
	msg = strings.ReplaceAll(msg, filepath.ToSlash(dataDir), "__DATA__")
	first, _, _ := strings.Cut(msg, "\n")
	return regexp.QuoteMeta(strings.TrimSpace(first))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// result is a query's rendered rows plus which columns are floating point.
type result struct {
	rows      [][]string
	floatCols []bool
}

// execute runs sql and renders its result. A panic in the engine becomes
// an error so one bad record does not end the whole run.
func execute(ctx context.Context, s *flint.Session, sql string) (res result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	df := s.SQL(ctx, sql)
	if err := df.Err(); err != nil {
		return res, err
	}
	schema, batches, err := df.CollectWithSchema(ctx)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	if schema != nil {
		for _, f := range schema.Fields() {
			id := f.Type.ID()
			res.floatCols = append(res.floatCols, id == arrow.FLOAT32 || id == arrow.FLOAT64 || id == arrow.FLOAT16)
		}
	}
	for _, b := range batches {
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]string, b.NumCols())
			for c := range row {
				row[c] = render(b.Column(c), i)
			}
			res.rows = append(res.rows, row)
		}
	}
	return res, nil
}

// render formats one value the way the corpus spells it (see package slt).
func render(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return slt.Null
	}
	switch a := a.(type) {
	case interface{ Value(int) float64 }:
		return slt.FormatFloat(a.Value(i))
	case interface{ Value(int) float32 }:
		return slt.FormatFloat(float64(a.Value(i)))
	}
	s, ok := output.Value(a, i)
	if !ok {
		return slt.Null
	}
	s = strings.Clone(s) // s may alias a's buffers, recycled once the batch is released
	if a.DataType().ID() == arrow.STRING || a.DataType().ID() == arrow.LARGE_STRING {
		return slt.FormatText(s)
	}
	return s
}

// compare checks a query's result against the record and describes the
// difference ("" when they match).
func compare(r *slt.Record, res result) string {
	if len(res.floatCols) != len(r.Types) {
		return fmt.Sprintf("query declares %d columns (%s) but returned %d", len(r.Types), r.Types, len(res.floatCols))
	}
	got := slt.Rows(res.rows, r.Sort)
	floatCols := res.floatCols
	if r.Sort == slt.ValueSort {
		floatCols = []bool{anyTrue(res.floatCols)}
	}
	ok := len(got) == len(r.Expected)
	for i := 0; ok && i < len(got); i++ {
		ok = slt.LinesMatch(r.Expected[i], got[i], floatCols)
	}
	if ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "expected %d lines:\n", len(r.Expected))
	for _, l := range r.Expected {
		b.WriteString("    " + l + "\n")
	}
	fmt.Fprintf(&b, "got %d lines:\n", len(got))
	for i, l := range got {
		mark := "    "
		if i >= len(r.Expected) || !slt.LinesMatch(r.Expected[i], l, floatCols) {
			mark = "  ! "
		}
		b.WriteString(mark + l + "\n")
	}
	return b.String()
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}
