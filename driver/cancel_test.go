package driver_test

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/driver"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
)

// catalog resolves lineitem and orders of the TPC-H sample, cut into
// several splits so that scans run as several tasks.
type catalog map[string]*plan.TableSource

func (c catalog) LookupTable(name string) (*plan.TableSource, plan.Node, bool) {
	t, ok := c[strings.ToLower(name)]
	return t, nil, ok
}

func (c catalog) TableNames() []string { return []string{"lineitem", "orders"} }

func sampleCatalog(t *testing.T) catalog {
	t.Helper()
	c := catalog{}
	opts := map[string]string{"min_split_rows": "8000"}
	for _, name := range c.TableNames() {
		loc := filepath.Join(filepath.Dir(lineitem), name+".parquet")
		src, err := connectors.Open(context.Background(), connectors.Parquet, loc, opts)
		if err != nil {
			t.Fatal(err)
		}
		c[name] = &plan.TableSource{Name: name, Format: "parquet", Location: loc, Options: opts, Schema: src.Schema(), RowCount: src.Stats().RowCount}
	}
	return c
}

// priorityCounts joins every lineitem to its order and counts them per
// order priority: a scan stage per table, a hash exchange of each into
// the join, partial and final aggregation around another exchange, and a
// sort.
const priorityCounts = `select o_orderpriority, count(*) as n from lineitem join orders on l_orderkey = o_orderkey
group by o_orderpriority order by o_orderpriority`

func compileSQL(t *testing.T, sql string, write *connectors.WriteSpec) *planner.Compiled {
	t.Helper()
	stmt, err := parser.ParseOne(sql)
	if err != nil {
		t.Fatal(err)
	}
	var ids plan.IDGen
	n, err := binder.New(sampleCatalog(t), &ids).BindQuery(sql, stmt.(*ast.Query))
	if err != nil {
		t.Fatal(err)
	}
	c, err := planner.Compile(n, &ids, planner.Options{Partitions: 3, BroadcastRows: 0, Write: write})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tripAllocator cancels the query's context at its trip-th allocation:
// spreading trip over a whole run's allocations cancels it in every
// stage, whatever each stage's share of the time.
type tripAllocator struct {
	memory.Allocator
	count  atomic.Int64
	trip   atomic.Int64
	cancel atomic.Pointer[context.CancelFunc]
}

func (a *tripAllocator) Allocate(n int) []byte {
	if a.count.Add(1) == a.trip.Load() {
		if f := a.cancel.Load(); f != nil {
			(*f)()
		}
	}
	return a.Allocator.Allocate(n)
}

func (a *tripAllocator) arm(trip int64, cancel context.CancelFunc) {
	a.cancel.Store(&cancel)
	a.trip.Store(a.count.Load() + trip)
}

// lineitemRows is the sample's lineitem row count, from its footer.
func lineitemRows(t *testing.T) int64 {
	t.Helper()
	return sampleCatalog(t)["lineitem"].RowCount
}

// countSum adds up the n column of priorityCounts' result; a complete
// result counts every lineitem once.
func countSum(bs []*array.Int64) int64 {
	var n int64
	for _, c := range bs {
		for i := 0; i < c.Len(); i++ {
			n += c.Value(i)
		}
	}
	return n
}

// TestExecuteCancelled cancels Execute before it starts and at
// allocations spread over a whole run, so in every stage, and lets
// deadlines pass at random moments: each run returns the context's error
// and no batch, or (cancelled after the last stage finished) every row.
// Nothing stays allocated and no goroutine is left (TestMain).
func TestExecuteCancelled(t *testing.T) {
	c := compileSQL(t, priorityCounts, nil)
	if len(c.Stages.Stages) < 4 {
		t.Fatalf("the plan has %d stages, want scans, join, aggregation:\n%s", len(c.Stages.Stages), c.Explain())
	}
	want := lineitemRows(t)
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	mem := &tripAllocator{Allocator: checked}
	d := driver.NewLocal(2)
	run := func(ctx context.Context) (int64, int, error) {
		bs, err := d.Execute(exec.WithAllocator(ctx, mem), c.Stages)
		defer func() {
			for _, b := range bs {
				b.Release()
			}
		}()
		var cols []*array.Int64
		for _, b := range bs {
			cols = append(cols, b.Column(1).(*array.Int64))
		}
		return countSum(cols), len(bs), err
	}
	n, _, err := run(context.Background())
	if err != nil || n != want {
		t.Fatalf("uncancelled run: %d rows counted, %v; want %d", n, err, want)
	}
	total := mem.count.Load()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, batches, err := run(ctx); !errors.Is(err, context.Canceled) || batches != 0 {
		t.Errorf("cancelled before the start: %d batches, %v", batches, err)
	}
	const points = 16
	for i := range int64(points) {
		trip := 1 + i*total/points
		ctx, cancel := context.WithCancel(context.Background())
		mem.arm(trip, cancel)
		n, batches, err := run(ctx)
		cancel()
		switch {
		case err == nil && n != want:
			t.Errorf("cancelled at allocation %d of %d: no error, %d of %d rows counted", trip, total, n, want)
		case err != nil && (!errors.Is(err, context.Canceled) || batches != 0):
			t.Errorf("cancelled at allocation %d of %d: %d batches, %v", trip, total, batches, err)
		}
	}
	mem.trip.Store(0)

	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	for range 8 {
		delay := time.Duration(rng.Int64N(int64(150 * time.Millisecond)))
		ctx, cancel := context.WithTimeout(context.Background(), delay)
		n, batches, err := run(ctx)
		cancel()
		switch {
		case err == nil && n != want:
			t.Errorf("deadline after %s: no error, %d of %d rows counted", delay, n, want)
		case err != nil && (!errors.Is(err, context.DeadlineExceeded) || batches != 0):
			t.Errorf("deadline after %s: %d batches, %v", delay, batches, err)
		}
	}
}

// TestExecuteWriteCancelled cancels a partitioned write of the join at
// allocations spread over a whole run: each write fails with
// context.Canceled and leaves no file, or committed every row.
func TestExecuteWriteCancelled(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	mem := &tripAllocator{Allocator: checked}
	d := driver.NewLocal(2)
	const q = `select l_orderkey, l_linenumber, o_orderpriority, l_extendedprice from lineitem join orders on l_orderkey = o_orderkey`
	write := func(ctx context.Context, dir string) (*connectors.Manifest, error) {
		spec := &connectors.WriteSpec{Format: connectors.Parquet, Location: dir, Mode: connectors.ModeError,
			PartitionBy: []connectors.PartitionColumn{{Name: "o_orderpriority", Type: "VARCHAR"}}, WriteID: connectors.NewWriteID()}
		return d.ExecuteWrite(exec.WithAllocator(ctx, mem), compileSQL(t, q, spec).Stages)
	}
	rows := func(m *connectors.Manifest) int64 {
		var n int64
		for _, f := range m.Files {
			n += f.Rows
		}
		return n
	}
	want := lineitemRows(t)
	before := mem.count.Load()
	m, err := write(context.Background(), filepath.Join(t.TempDir(), "first"))
	if err != nil || rows(m) != want {
		t.Fatalf("uncancelled write: %v; want %d rows", err, want)
	}
	total := mem.count.Load() - before
	const points = 16
	for i := range int64(points) {
		trip := 1 + i*total/points
		ctx, cancel := context.WithCancel(context.Background())
		mem.arm(trip, cancel)
		dir := filepath.Join(t.TempDir(), fmt.Sprint("out", i))
		m, err := write(ctx, dir)
		cancel()
		switch {
		case err == nil:
			if rows(m) != want {
				t.Errorf("cancelled at allocation %d of %d: no error, %d of %d rows written", trip, total, rows(m), want)
			}
		case !errors.Is(err, context.Canceled):
			t.Errorf("cancelled at allocation %d of %d: %v", trip, total, err)
		default:
			if left := listAllMissingOK(t, dir); len(left) > 0 {
				t.Errorf("cancelled at allocation %d of %d: left %v", trip, total, left)
			}
		}
	}
	mem.trip.Store(0)
}

// listAllMissingOK is listAll of a directory that may not exist.
func listAllMissingOK(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := os.Stat(dir); errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	return listAll(t, dir)
}
