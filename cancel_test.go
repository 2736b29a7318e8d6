package flint_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/internal/resultcmp"
	"github.com/flint-engine/flint/tpch"
)

// slowJoinSQL joins the sample's lineitem (60,175 rows) with itself on
// l_suppkey: 36 million joined rows, seconds of work in three stages
// (scan and exchange of the build side; scan, join and partial
// aggregation of the probe side; final aggregation and sort).
const slowJoinSQL = `select a.l_returnflag, count(*) as n
from lineitem a join lineitem b on a.l_suppkey = b.l_suppkey
group by a.l_returnflag order by a.l_returnflag`

// slowJoinFrame is slowJoinSQL written with the DataFrame API.
func slowJoinFrame(s *flint.Session) *flint.DataFrame {
	a := s.Table("lineitem").Alias("a")
	b := s.Table("lineitem").Alias("b").Select(flint.Col("l_suppkey").Alias("b_suppkey"))
	return a.Join(b, flint.Col("a.l_suppkey").Eq(flint.Col("b_suppkey")), "inner").
		GroupBy(flint.Col("l_returnflag")).
		Agg(flint.CountAll().Alias("n")).
		OrderBy(flint.Col("l_returnflag").Asc())
}

// slowJoinAnswer is slowJoinSQL's result ("flag|count", in order),
// computed from the Parquet file with arrow-go's reader, not by Flint:
// per return flag r, the sum over suppliers k of (rows with r and k) ×
// (rows with k).
func slowJoinAnswer(t *testing.T) []string {
	t.Helper()
	tbl, err := resultcmp.ReadParquet(filepath.Join(sampleDir, "lineitem.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	col := func(name string) int {
		idx := tbl.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("lineitem has no column %s", name)
		}
		return idx[0]
	}
	flags, supps := tbl.Column(col("l_returnflag")).Data().Chunks(), tbl.Column(col("l_suppkey")).Data().Chunks()
	perSupp := map[int64]int64{}
	perFlagSupp := map[string]map[int64]int64{}
	for i := range flags {
		f, k := flags[i].(*array.String), supps[i].(*array.Int64)
		for r := 0; r < f.Len(); r++ {
			perSupp[k.Value(r)]++
			m := perFlagSupp[f.Value(r)]
			if m == nil {
				m = map[int64]int64{}
				perFlagSupp[f.Value(r)] = m
			}
			m[k.Value(r)]++
		}
	}
	var out []string
	for flag, m := range perFlagSupp {
		var n int64
		for k, c := range m {
			n += c * perSupp[k]
		}
		out = append(out, flag+"|"+strconv.FormatInt(n, 10))
	}
	slices.Sort(out)
	return out
}

// cancelSession is a session over the sample's lineitem and orders (cut
// into several splits, so scans run as several tasks) allocating from a
// checked allocator that must be empty once the session is closed.
func cancelSession(t *testing.T, mem memory.Allocator, opts ...flint.Option) *flint.Session {
	t.Helper()
	ctx := context.Background()
	s, err := flint.NewSession(ctx, append([]flint.Option{flint.WithAllocator(mem)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range tpch.Tables {
		if err := s.RegisterTable(ctx, tbl, "parquet", filepath.Join(sampleDir, tbl+".parquet"), map[string]string{"min_split_rows": "8000"}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// queryRun is one way a user runs the slow join: it returns the result
// as text, or the error.
type queryRun struct {
	name string
	run  func(ctx context.Context, s *flint.Session) ([]string, error)
	// want is the text of the complete result, from slowJoinAnswer.
	want func(answer []string) []string
}

// readRuns are the read paths a cancellation must fail: Collect of SQL
// and of DataFrame calls, Count, Show and CollectWithSchema.
var readRuns = []queryRun{
	{"SQL.Collect", func(ctx context.Context, s *flint.Session) ([]string, error) {
		bs, err := s.SQL(ctx, slowJoinSQL).Collect(ctx)
		defer release(bs)
		if err != nil {
			return nil, nonEmpty(len(bs), err)
		}
		return batchRows(bs), nil
	}, func(a []string) []string { return a }},
	{"DataFrame.CollectWithSchema", func(ctx context.Context, s *flint.Session) ([]string, error) {
		schema, bs, err := slowJoinFrame(s).CollectWithSchema(ctx)
		defer release(bs)
		if err != nil {
			if schema != nil {
				return nil, fmt.Errorf("a schema next to error %w", err)
			}
			return nil, nonEmpty(len(bs), err)
		}
		return batchRows(bs), nil
	}, func(a []string) []string { return a }},
	{"Count", func(ctx context.Context, s *flint.Session) ([]string, error) {
		n, err := s.SQL(ctx, slowJoinSQL).Count(ctx)
		if err != nil {
			if n != 0 {
				return nil, fmt.Errorf("count %d next to error %w", n, err)
			}
			return nil, err
		}
		return []string{strconv.FormatInt(n, 10)}, nil
	}, func(a []string) []string { return []string{strconv.Itoa(len(a))} }},
	{"Show", func(ctx context.Context, s *flint.Session) ([]string, error) {
		var buf bytes.Buffer
		err := s.SQL(ctx, slowJoinSQL).Show(ctx, &buf, 10)
		if err != nil {
			if buf.Len() > 0 {
				return nil, fmt.Errorf("Show printed %q next to error %w", buf.String(), err)
			}
			return nil, err
		}
		// The counts of the table, in order.
		var counts []string
		for _, line := range strings.Split(buf.String(), "\n") {
			for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == '|' || r == ' ' || r == '│' }) {
				if _, err := strconv.ParseInt(f, 10, 64); err == nil {
					counts = append(counts, f)
				}
			}
		}
		return counts, nil
	}, func(a []string) []string {
		var counts []string
		for _, r := range a {
			counts = append(counts, r[strings.Index(r, "|")+1:])
		}
		return counts
	}},
}

// nonEmpty turns an error returned next to batches into a test failure.
func nonEmpty(batches int, err error) error {
	if batches > 0 {
		return fmt.Errorf("%d batches next to error %w", batches, err)
	}
	return err
}

// endingContext returns a context that ends after delay, cancelled or
// past its deadline, and the error it then gives.
func endingContext(delay time.Duration, deadline bool) (context.Context, context.CancelFunc, error) {
	if deadline {
		ctx, cancel := context.WithTimeout(context.Background(), delay)
		return ctx, cancel, context.DeadlineExceeded
	}
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(delay, cancel)
	return ctx, func() { timer.Stop(); cancel() }, context.Canceled
}

// stopWithin bounds how long a query may run on once its context ended.
const stopWithin = 3 * time.Second

// interruptRun runs run under a context that ends after delay (cancelled,
// or its deadline passes when deadline is set) and checks the outcome:
// the context's error and nothing else, or — when the query won the race
// — the complete result. It reports whether the query was interrupted.
func interruptRun(t *testing.T, s *flint.Session, r queryRun, want []string, delay time.Duration, deadline bool) bool {
	t.Helper()
	ctx, cancel, wantErr := endingContext(delay, deadline)
	defer cancel()
	var ended atomic.Pointer[time.Time]
	context.AfterFunc(ctx, func() { now := time.Now(); ended.Store(&now) })
	got, err := r.run(ctx, s)
	if at := ended.Load(); at != nil && err != nil {
		if el := time.Since(*at); el > stopWithin {
			t.Errorf("%s: returned %s after its context ended", r.name, el)
		}
	}
	if err == nil {
		if !slices.Equal(got, want) {
			t.Errorf("%s, context ended after %s: no error and result %q, want the whole result %q", r.name, delay, got, want)
		}
		return false
	}
	if !errors.Is(err, wantErr) {
		t.Errorf("%s, context ended after %s: error %v, want %v", r.name, delay, err, wantErr)
	}
	return true
}

// TestCancelBeforeStart: a context that has already ended fails every way
// of running a query, reading or writing, and writes nothing.
func TestCancelBeforeStart(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s := cancelSession(t, mem, flint.WithSlots(2))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		for _, r := range readRuns {
			if _, err := r.run(c.ctx, s); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", r.name, err, c.want)
			}
		}
		for _, w := range writeRuns {
			dir := filepath.Join(t.TempDir(), "out")
			if _, err := w.run(c.ctx, s, dir); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", w.name, err, c.want)
			}
			checkNothingWritten(t, dir)
		}
	}
	// The session still works.
	want := pqFileRows(t, filepath.Join(sampleDir, "lineitem.parquet"))
	if n, err := s.Table("lineitem").Count(context.Background()); err != nil || n != want {
		t.Errorf("after the cancelled queries: %d rows, %v; want %d", n, err, want)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	mem.AssertSize(t, 0)
}

// TestCancelReadsMidFlight cancels the slow join, and lets deadlines
// pass, at random moments while it runs (scanning, joining, exchanging,
// sorting), through every read path: each run returns the context's
// error and no rows, or, had it finished first, the whole result; no
// goroutine (TestMain) or Arrow buffer outlives the session.
func TestCancelReadsMidFlight(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s := cancelSession(t, mem, flint.WithSlots(2), flint.WithPartitions(3))
	answer := slowJoinAnswer(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	runs := 16
	if testing.Short() {
		runs = 6
	}
	interrupted := 0
	for i := range runs {
		r := readRuns[i%len(readRuns)]
		delay := time.Duration(rng.Int64N(int64(600 * time.Millisecond)))
		if interruptRun(t, s, r, r.want(answer), delay, i%2 == 1) {
			interrupted++
		}
	}
	if interrupted == 0 {
		t.Errorf("no run was interrupted: the query is too fast to test cancellation")
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	mem.AssertSize(t, 0)
}

// tripAllocator counts allocations and cancels the query's context at
// the trip-th one: spreading trip over a run's allocations cancels it in
// every phase, from the first scan to the last sort, wherever the time
// goes.
type tripAllocator struct {
	memory.Allocator
	count  atomic.Int64
	trip   atomic.Int64 // 0: never
	cancel atomic.Pointer[context.CancelFunc]
}

func (a *tripAllocator) Allocate(n int) []byte {
	if c := a.count.Add(1); c == a.trip.Load() {
		if f := a.cancel.Load(); f != nil {
			(*f)()
		}
	}
	return a.Allocator.Allocate(n)
}

// arm makes the trip-th allocation from now call cancel.
func (a *tripAllocator) arm(trip int64, cancel context.CancelFunc) {
	a.cancel.Store(&cancel)
	a.trip.Store(a.count.Load() + trip)
}

// cancelPoints is how many points of a run the phase tests cancel at.
const cancelPoints = 16

// TestCancelAtEveryPhase cancels TPC-H Q9 (six tables, joins, exchanges,
// an aggregation and a sort) at allocations spread over a whole run, so
// in every stage, with broadcast and with partitioned joins: each run
// fails with context.Canceled and no rows, or returns DuckDB's answer.
func TestCancelAtEveryPhase(t *testing.T) {
	answer, err := os.ReadFile("testdata/tpch/answers/sample/q09.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []struct {
		name string
		opts []flint.Option
	}{
		{"broadcast", []flint.Option{flint.WithSlots(2), flint.WithPartitions(3)}},
		{"partitioned", []flint.Option{flint.WithSlots(2), flint.WithPartitions(3), flint.WithBroadcastThreshold(0)}},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
			mem := &tripAllocator{Allocator: checked}
			s := cancelSession(t, mem, cfg.opts...)
			q := tpch.Query(9)
			check := func(bs []arrow.RecordBatch) error {
				return resultcmp.CompareCSV(bytes.NewReader(answer), bs, resultcmp.Options{Ordered: true, CheckNames: true})
			}
			before := mem.count.Load()
			bs, err := s.SQL(context.Background(), q).Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := check(bs); err != nil {
				t.Fatal(err)
			}
			release(bs)
			total := mem.count.Load() - before
			for i := range int64(cancelPoints) {
				trip := 1 + i*total/cancelPoints
				ctx, cancel := context.WithCancel(context.Background())
				mem.arm(trip, cancel)
				bs, err := s.SQL(ctx, q).Collect(ctx)
				switch {
				case err == nil:
					// Cancelled once the last stage had finished: then it
					// is the whole answer.
					if err := check(bs); err != nil {
						t.Errorf("cancelled at allocation %d of %d: no error and %v", trip, total, err)
					}
				case !errors.Is(err, context.Canceled):
					t.Errorf("cancelled at allocation %d of %d: %v", trip, total, err)
				case len(bs) > 0:
					t.Errorf("cancelled at allocation %d of %d: %d batches next to the error", trip, total, len(bs))
				}
				release(bs)
				cancel()
			}
			mem.trip.Store(0)
			if err := s.Close(); err != nil {
				t.Error(err)
			}
			checked.AssertSize(t, 0)
		})
	}
}

// TestCancelWhileTasksWaitForSlots cancels a scan whose final stage has
// more tasks than slots: the tasks that finished before the cancel hold
// result batches the stage must drop when it stops handing out slots
// (they leaked, found by the random tester's allocator check).
func TestCancelWhileTasksWaitForSlots(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	mem := &tripAllocator{Allocator: checked}
	s := cancelSession(t, mem, flint.WithSlots(1), flint.WithBatchSize(512))
	q := "select l_orderkey, l_comment from lineitem where l_quantity > 10"
	before := mem.count.Load()
	bs, err := s.SQL(context.Background(), q).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, b := range bs {
		want += b.NumRows()
	}
	release(bs)
	total := mem.count.Load() - before
	for i := range int64(cancelPoints) {
		trip := 1 + i*total/cancelPoints
		ctx, cancel := context.WithCancel(context.Background())
		mem.arm(trip, cancel)
		bs, err := s.SQL(ctx, q).Collect(ctx)
		var got int64
		for _, b := range bs {
			got += b.NumRows()
		}
		switch {
		case err == nil && got != want:
			t.Errorf("cancelled at allocation %d of %d: no error and %d rows of %d", trip, total, got, want)
		case err != nil && !errors.Is(err, context.Canceled):
			t.Errorf("cancelled at allocation %d of %d: %v", trip, total, err)
		case err != nil && len(bs) > 0:
			t.Errorf("cancelled at allocation %d of %d: %d batches next to the error", trip, total, len(bs))
		}
		release(bs)
		cancel()
		if n := checked.CurrentAlloc(); n != 0 {
			t.Errorf("cancelled at allocation %d of %d: %d bytes still held", trip, total, n)
		}
	}
	mem.trip.Store(0)
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	checked.AssertSize(t, 0)
}

// writeRun is one way a user writes the slow join's result.
type writeRun struct {
	name string
	run  func(ctx context.Context, s *flint.Session, dir string) (flint.WriteResult, error)
}

var writeRuns = []writeRun{
	{"DataFrame.Save", func(ctx context.Context, s *flint.Session, dir string) (flint.WriteResult, error) {
		return s.SQL(ctx, slowJoinSQL).Write().Format("parquet").Save(ctx, dir)
	}},
	{"COPY", func(ctx context.Context, s *flint.Session, dir string) (flint.WriteResult, error) {
		df := s.SQL(ctx, fmt.Sprintf("copy (%s) to '%s' (format csv, partition_by (l_returnflag))", slowJoinSQL, dir))
		if err := df.Err(); err != nil {
			return flint.WriteResult{}, err
		}
		rows := collectRowsErr(ctx, df)
		if len(rows) != 1 {
			return flint.WriteResult{}, fmt.Errorf("COPY answered %q", rows)
		}
		n, _ := strconv.ParseInt(strings.Split(rows[0], "|")[0], 10, 64)
		return flint.WriteResult{Rows: n}, nil
	}},
}

func collectRowsErr(ctx context.Context, df *flint.DataFrame) []string {
	bs, err := df.Collect(ctx)
	defer release(bs)
	if err != nil {
		return []string{err.Error()}
	}
	return batchRows(bs)
}

// checkNothingWritten fails unless dir is absent or holds no file (a
// cancelled write commits nothing and sweeps what its tasks wrote).
func checkNothingWritten(t *testing.T, dir string) {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		t.Fatal(err)
	}
	if len(files) > 0 {
		t.Errorf("an interrupted write left %v", files)
	}
}

// TestCancelWritesMidFlight interrupts writes of the slow join (Save and
// COPY, cancelled and past a deadline) at random moments: each fails with
// the context's error and leaves no file, or, had it finished first,
// committed every row.
func TestCancelWritesMidFlight(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s := cancelSession(t, mem, flint.WithSlots(2), flint.WithPartitions(3))
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	runs := 8
	if testing.Short() {
		runs = 4
	}
	for i := range runs {
		w := writeRuns[i%len(writeRuns)]
		delay := time.Duration(rng.Int64N(int64(600 * time.Millisecond)))
		ctx, cancel, want := endingContext(delay, i%4 >= 2)
		dir := filepath.Join(t.TempDir(), "out")
		res, err := w.run(ctx, s, dir)
		cancel()
		if err == nil {
			if m := committed(t, dir); m == nil || res.Rows != 3 {
				t.Errorf("%s, context ended after %s: no error, %d rows written", w.name, delay, res.Rows)
			}
			continue
		}
		if !errors.Is(err, want) {
			t.Errorf("%s, context ended after %s: %v, want %v", w.name, delay, err, want)
		}
		checkNothingWritten(t, dir)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	mem.AssertSize(t, 0)
}

// TestCancelWriteAtEveryPhase cancels a partitioned write of lineitem
// joined with orders at allocations spread over a whole run: each
// attempt fails with context.Canceled and leaves no file, or committed
// every lineitem row.
func TestCancelWriteAtEveryPhase(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	mem := &tripAllocator{Allocator: checked}
	s := cancelSession(t, mem, flint.WithSlots(2), flint.WithPartitions(3))
	const q = `select l_orderkey, l_linenumber, o_orderdate, l_extendedprice, o_orderpriority
from lineitem join orders on l_orderkey = o_orderkey`
	df := s.SQL(context.Background(), q)
	write := func(ctx context.Context, dir string) (flint.WriteResult, error) {
		return df.Write().Format("parquet").PartitionBy("o_orderpriority").Save(ctx, dir)
	}
	lineitems := pqFileRows(t, filepath.Join(sampleDir, "lineitem.parquet"))
	before := mem.count.Load()
	dir := filepath.Join(t.TempDir(), "first")
	res, err := write(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := committed(t, dir); res.Rows != lineitems || manifestRows(m) != lineitems {
		t.Fatalf("wrote %d rows (manifest %d), lineitem has %d", res.Rows, manifestRows(m), lineitems)
	}
	total := mem.count.Load() - before
	for i := range int64(cancelPoints) {
		ctx, cancel := context.WithCancel(context.Background())
		mem.arm(1+i*total/cancelPoints, cancel)
		dir := filepath.Join(t.TempDir(), fmt.Sprint("out", i))
		res, err := write(ctx, dir)
		switch {
		case err == nil:
			if m := committed(t, dir); res.Rows != lineitems || manifestRows(m) != lineitems {
				t.Errorf("cancelled at allocation %d of %d: no error, %d rows written", 1+i*total/cancelPoints, total, res.Rows)
			}
		case !errors.Is(err, context.Canceled):
			t.Errorf("cancelled at allocation %d of %d: %v", 1+i*total/cancelPoints, total, err)
		default:
			checkNothingWritten(t, dir)
		}
		cancel()
	}
	mem.trip.Store(0)
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	checked.AssertSize(t, 0)
}

// pqFileRows is the row count in a Parquet file's footer.
func pqFileRows(t *testing.T, path string) int64 {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	return rdr.NumRows()
}

func manifestRows(m *connectors.Manifest) int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Rows
	}
	return n
}
