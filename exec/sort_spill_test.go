package exec

import (
	"context"
	"errors"
	"io/fs"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

// Spill tests run the sort, top-n and window operators in a tiny memory
// pool and check the result against an independent reference, that they
// spilled, that their spill files are gone after Close and that every
// Arrow buffer was released.

// sstSchema is sortTestSchema plus a unique row id (column 6), so a stable
// order and the row each result belongs to are checked exactly.
func sstSchema() *arrow.Schema {
	return arrow.NewSchema(append(sortTestSchema().Fields(),
		arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64}), nil)
}

const sstID = 6

func sstRows(r *rand.Rand, n int) [][]any {
	rows := sortTestRows(r, n)
	for i := range rows {
		rows[i] = append(rows[i], int64(i))
	}
	return rows
}

// sstSource serves rows in separately built batches of size rows (not
// slices of one buffer, which every slice would be charged for in full).
func sstSource(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any, size int) Operator {
	bs := sotBuild(t, mem, schema, rows, size)
	src := NewBatchSource(schema, bs)
	batchReleaseAll(bs)
	return src
}

// sstEnv is a context with a pool of limit bytes, a spill manager over a
// test directory, a checked allocator and batch size bs.
type sstEnv struct {
	ctx  context.Context
	mem  *memory.CheckedAllocator
	pool *mempool.Pool
	dir  string
}

func newSstEnv(t testing.TB, limit int64, bs int) *sstEnv {
	e := &sstEnv{mem: memory.NewCheckedAllocator(memory.NewGoAllocator()), pool: mempool.New(limit), dir: t.TempDir()}
	ctx := mempool.WithPool(context.Background(), e.pool)
	ctx = spill.WithManager(ctx, spill.NewManager(e.dir))
	e.ctx = WithBatchSize(WithAllocator(ctx, e.mem), bs)
	return e
}

// run drains op and returns its rows and memory statistics.
func (e *sstEnv) run(t testing.TB, op Operator, bs int) ([][]any, MemoryStats) {
	t.Helper()
	out, err := CollectAll(e.ctx, op)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	for _, b := range out {
		if b.NumRows() > int64(bs) {
			t.Fatalf("batch of %d rows exceeds batch size %d", b.NumRows(), bs)
		}
		if !b.Schema().Equal(op.Schema()) {
			t.Fatalf("batch schema %s differs from operator schema %s", b.Schema(), op.Schema())
		}
	}
	rows := sotRows(out)
	batchReleaseAll(out)
	return rows, op.(MemoryReporter).MemoryStats()
}

// check asserts the operator left nothing behind.
func (e *sstEnv) check(t testing.TB) {
	t.Helper()
	if n := e.pool.Used(); n != 0 {
		t.Errorf("pool still holds %d bytes after Close", n)
	}
	var files []string
	filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) > 0 {
		t.Errorf("spill files left after Close: %v", files)
	}
	e.mem.AssertSize(t, 0)
}

// sstSpillLimit is a pool that holds a few of the input's batches but not
// the test rows (at most 3000; sstRowsFor).
func sstSpillLimit(bs int) int64 {
	switch {
	case bs == 1:
		return 80 << 10 // every one-row batch carries padded buffers
	case bs >= 1024:
		return 384 << 10
	}
	return 64 << 10
}

// sstRowsFor keeps one-row batches few: each costs a spill file message.
func sstRowsFor(rows [][]any, bs int) [][]any {
	if bs == 1 {
		return rows[:600]
	}
	return rows
}

func TestSortSpill(t *testing.T) {
	schema := sstSchema()
	all := sstRows(rand.New(rand.NewSource(21)), 3000)
	for _, ks := range sortTestKeySets {
		for _, bs := range []int{1, 3, 16, 1024} {
			rows := sstRowsFor(all, bs)
			want := sortTestRef(rows, ks.keys)
			t.Run(ks.name, func(t *testing.T) {
				e := newSstEnv(t, sstSpillLimit(bs), bs)
				got, st := e.run(t, NewSort(sstSource(t, e.mem, schema, rows, bs), ks.keys), bs)
				sotEqualRows(t, got, want)
				if st.SpilledBytes == 0 || st.SpillFiles < 2 {
					t.Errorf("bs %d: did not spill: %+v", bs, st)
				}
				if st.PeakBytes > e.pool.Limit() {
					t.Errorf("peak %d over the limit %d", st.PeakBytes, e.pool.Limit())
				}
				e.check(t)
			})
		}
	}
}

// TestSortSpillMultiPass makes the runs too many for one merge's readers.
func TestSortSpillMultiPass(t *testing.T) {
	schema := sstSchema()
	rows := sstRows(rand.New(rand.NewSource(22)), 4000)
	keys := []SortKey{{Col: 1, Desc: true, NullsFirst: true}, {Col: 2, NullsFirst: true}}
	want := sortTestRef(rows, keys)
	for _, tc := range []struct {
		bs    int
		limit int64
	}{{16, 12 << 10}, {64, 40 << 10}} {
		e := newSstEnv(t, tc.limit, tc.bs)
		op := NewSort(sstSource(t, e.mem, schema, rows, tc.bs), keys).(*sortOp)
		got, st := e.run(t, op, tc.bs)
		sotEqualRows(t, got, want)
		if op.passes == 0 {
			t.Errorf("bs %d: one merge pass over %d files; want several passes", tc.bs, st.SpillFiles)
		}
		e.check(t)
	}
}

func TestSortSpillLimitError(t *testing.T) {
	schema := sstSchema()
	rows := sstRows(rand.New(rand.NewSource(23)), 500)
	window := func(specs ...WindowSpec) func(Operator) Operator {
		return func(in Operator) Operator {
			op, err := NewWindow(in, specs)
			if err != nil {
				t.Fatal(err)
			}
			return op
		}
	}
	for _, tc := range []struct {
		name, operator string
		limit          int64
		op             func(Operator) Operator
	}{
		{"sort", "Sort", 1 << 10, func(in Operator) Operator { return NewSort(in, []SortKey{{Col: 0}}) }},
		{"top-n", "TopN", 1 << 10, func(in Operator) Operator { return NewTopN(in, []SortKey{{Col: 0}}, 400) }},
		{"window partitioned", "Window", 1 << 10, window(WindowSpec{Func: WinRowNumber, Arg: -1, PartitionBy: []int{5}, OrderBy: []SortKey{{Col: 0}}})},
		// No common partition column: the window cannot spill.
		{"window unpartitioned", "Window", 64 << 10, window(WindowSpec{Func: WinRowNumber, Arg: -1, OrderBy: []SortKey{{Col: 0}}})},
		{"window no common partition", "Window", 64 << 10, window(
			WindowSpec{Func: WinRowNumber, Arg: -1, PartitionBy: []int{5}},
			WindowSpec{Func: WinRank, Arg: -1, PartitionBy: []int{1}, OrderBy: []SortKey{{Col: 0}}})},
	} {
		e := newSstEnv(t, tc.limit, 64)
		_, err := CollectAll(e.ctx, tc.op(sstSource(t, e.mem, schema, rows, 64)))
		var le *mempool.LimitError
		if !errors.As(err, &le) || le.Operator != tc.operator {
			t.Errorf("%s: got %v, want a LimitError of %s", tc.name, err, tc.operator)
		}
		e.check(t)
	}
}

// sstCancelSource cancels its context after a number of batches.
type sstCancelSource struct {
	Operator
	cancel func()
	after  int
}

func (s *sstCancelSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.after--; s.after == 0 {
		s.cancel()
	}
	return s.Operator.Next(ctx)
}

func TestSortSpillCancel(t *testing.T) {
	schema := sstSchema()
	rows := sstRows(rand.New(rand.NewSource(24)), 2000)
	e := newSstEnv(t, 16<<10, 16)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	e.ctx = ctx
	src := &sstCancelSource{Operator: sstSource(t, e.mem, schema, rows, 16), cancel: cancel, after: 100}
	op := NewSort(src, []SortKey{{Col: 1}})
	if _, err := CollectAll(e.ctx, op); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if st := op.(MemoryReporter).MemoryStats(); st.SpillFiles == 0 {
		t.Errorf("cancelled before spilling: %+v", st)
	}
	e.check(t)
}

func TestTopNSpill(t *testing.T) {
	schema := sstSchema()
	all := sstRows(rand.New(rand.NewSource(25)), 3000)
	for _, ks := range sortTestKeySets[:4] {
		for _, bs := range []int{1, 3, 16, 1024} {
			rows := sstRowsFor(all, bs)
			for _, n := range []int64{5, int64(len(rows)) * 5 / 6} {
				want := sortTestRef(rows, ks.keys)[:n]
				t.Run(ks.name, func(t *testing.T) {
					e := newSstEnv(t, sstSpillLimit(bs), bs)
					got, st := e.run(t, NewTopN(sstSource(t, e.mem, schema, rows, bs), ks.keys, n), bs)
					sotEqualRows(t, got, want)
					// One-row batches compact into a kept batch far smaller
					// than they were: those may fit.
					if spilled := st.SpilledBytes > 0; spilled != (n > 100) && bs > 1 {
						t.Errorf("n %d bs %d: spilled %v: %+v", n, bs, spilled, st)
					}
					e.check(t)
				})
			}
		}
	}
}

func TestWindowSpill(t *testing.T) {
	schema := sstSchema()
	const (
		cI, cS, cD, cDT, cF, cB = 0, 1, 2, 3, 4, 5
	)
	all := sstRows(rand.New(rand.NewSource(26)), 3000)
	byI := []SortKey{{Col: cI}}
	byDTdesc := []SortKey{{Col: cDT, Desc: true, NullsFirst: true}}
	rows1 := &WindowFrame{Rows: true, Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: Following, Offset: 1}}
	sets := []struct {
		name  string
		specs []WindowSpec
	}{
		{"same partition, one sort", []WindowSpec{
			{Func: WinRowNumber, Arg: -1, PartitionBy: []int{cS, cDT, cD}, OrderBy: byI},
			{Func: WinLag, Arg: cS, Offset: 1, PartitionBy: []int{cD, cS, cDT}, OrderBy: byI},
			{Func: WinSum, Arg: cI, PartitionBy: []int{cDT, cD, cS}, OrderBy: byDTdesc},
			{Func: WinCumeDist, Arg: -1, PartitionBy: []int{cS, cDT, cD}, OrderBy: byI},
		}},
		{"common subset", []WindowSpec{
			{Func: WinRank, Arg: -1, PartitionBy: []int{cI, cS}, OrderBy: []SortKey{{Col: cF, Desc: true, NullsFirst: true}}},
			{Func: WinCountStar, Arg: -1, PartitionBy: []int{cS, cI, cB}},
			{Func: WinMax, Arg: cS, PartitionBy: []int{cI, cS, cDT}, OrderBy: byI, Frame: rows1},
			{Func: WinSum, Arg: cD, PartitionBy: []int{cS, cI}, OrderBy: []SortKey{{Col: cDT}},
				Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: Following, Offset: 1}}},
		}},
		{"float and bool partitions", []WindowSpec{
			{Func: WinFirstValue, Arg: cS, PartitionBy: []int{cF, cB, cDT}, OrderBy: []SortKey{{Col: cS, Desc: true}}},
			{Func: WinNtile, Arg: -1, Offset: 3, PartitionBy: []int{cB, cF, cDT}, OrderBy: byI},
			{Func: WinAvg, Arg: cF, PartitionBy: []int{cF, cB, cDT}, OrderBy: []SortKey{{Col: cS, Desc: true}}, Masked: true, Mask: cB},
		}},
	}
	for _, set := range sets {
		for _, bs := range []int{1, 3, 16, 1024} {
			rows := sstRowsFor(all, bs)
			want := make([][]any, len(set.specs))
			for si, s := range set.specs {
				want[si] = winRef(rows, s)
			}
			t.Run(set.name, func(t *testing.T) {
				e := newSstEnv(t, sstSpillLimit(bs), bs)
				op, err := NewWindow(sstSource(t, e.mem, schema, rows, bs), set.specs)
				if err != nil {
					t.Fatal(err)
				}
				got, st := e.run(t, op, bs)
				if len(got) != len(rows) {
					t.Fatalf("got %d rows, want %d", len(got), len(rows))
				}
				seen := make([]bool, len(rows))
				for _, g := range got {
					id := g[sstID].(int64)
					if seen[id] {
						t.Fatalf("row %d twice", id)
					}
					seen[id] = true
					exp := append(append([]any(nil), rows[id]...), make([]any, len(set.specs))...)
					for si := range set.specs {
						exp[len(rows[id])+si] = want[si][id]
					}
					sotEqualRows(t, [][]any{g}, [][]any{exp})
				}
				if st.SpilledBytes == 0 {
					t.Errorf("bs %d: did not spill: %+v", bs, st)
				}
				e.check(t)
			})
		}
	}
}

// TestWindowSpillPartitionTooBig: one partition larger than the pool.
func TestWindowSpillPartitionTooBig(t *testing.T) {
	schema := sstSchema()
	rows := sstRows(rand.New(rand.NewSource(27)), 3000)
	e := newSstEnv(t, 64<<10, 16)
	op, err := NewWindow(sstSource(t, e.mem, schema, rows, 16), []WindowSpec{{Func: WinRowNumber, Arg: -1, PartitionBy: []int{5}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = CollectAll(e.ctx, op)
	var le *mempool.LimitError
	if !errors.As(err, &le) || le.Operator != "Window" {
		t.Fatalf("got %v, want a LimitError of Window", err)
	}
	e.check(t)
}

// TestSpillUnlimited: with the default pool nothing spills and the
// reservation is given back.
func TestSpillUnlimited(t *testing.T) {
	schema := sstSchema()
	rows := sstRows(rand.New(rand.NewSource(28)), 2000)
	e := newSstEnv(t, 0, 64)
	ops := []Operator{
		NewSort(sstSource(t, e.mem, schema, rows, 64), []SortKey{{Col: 1}}),
		NewTopN(sstSource(t, e.mem, schema, rows, 64), []SortKey{{Col: 1}}, 1500),
	}
	w, err := NewWindow(sstSource(t, e.mem, schema, rows, 64), []WindowSpec{{Func: WinRowNumber, Arg: -1, PartitionBy: []int{1}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range append(ops, w) {
		_, st := e.run(t, op, 64)
		if st.SpilledBytes != 0 || st.SpillFiles != 0 || st.PeakBytes == 0 {
			t.Errorf("%T: %+v", op, st)
		}
	}
	e.check(t)
}
