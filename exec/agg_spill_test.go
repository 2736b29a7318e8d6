package exec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

// aggSpillRows is aggTestRows with many groups: g1 in [0, groups), g2 one
// of groups strings of varied length, NULL keys 5% of the time each.
func aggSpillRows(seed uint64, n, groups int) [][]any {
	rng := rand.New(rand.NewPCG(seed, 11))
	rows := aggTestRows(seed, n)
	for _, r := range rows {
		r[0] = int64(rng.IntN(groups))
		g := rng.IntN(groups)
		r[1] = fmt.Sprintf("k%d%s", g, strings.Repeat("~", g%13))
		if rng.IntN(20) == 0 {
			r[0] = nil
		}
		if rng.IntN(20) == 0 {
			r[1] = nil
		}
	}
	return rows
}

// aggSpillEnv is a query context with a pool of limit bytes and its own
// spill directory.
type aggSpillEnv struct {
	t    testing.TB
	pool *mempool.Pool
	mgr  *spill.Manager
	ctx  context.Context
}

func newAggSpillEnv(t testing.TB, mem memory.Allocator, limit int64, bs int) *aggSpillEnv {
	e := &aggSpillEnv{t: t, pool: mempool.New(limit), mgr: spill.NewManager(t.TempDir())}
	ctx := WithBatchSize(WithAllocator(context.Background(), mem), bs)
	ctx = mempool.WithPool(ctx, e.pool)
	e.ctx = spill.WithManager(ctx, e.mgr)
	return e
}

// checkClean asserts that no spill file is left and nothing is reserved.
func (e *aggSpillEnv) checkClean() {
	e.t.Helper()
	if dir := e.mgr.Dir(); dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ents) > 0 {
			e.t.Errorf("%d spill files left, e.g. %s", len(ents), ents[0].Name())
		}
	}
	if u := e.pool.Used(); u != 0 {
		e.t.Errorf("pool still has %d bytes reserved", u)
	}
}

// run drains op and returns its rows and memory statistics.
func (e *aggSpillEnv) run(op Operator) ([][]any, MemoryStats) {
	e.t.Helper()
	bs := BatchSize(e.ctx)
	if err := op.Open(e.ctx); err != nil {
		op.Close()
		e.t.Fatalf("open: %v", err)
	}
	var rows [][]any
	for {
		b, err := op.Next(e.ctx)
		if err != nil {
			op.Close()
			e.t.Fatalf("next: %v", err)
		}
		if b == nil {
			break
		}
		if b.NumRows() > int64(bs) {
			e.t.Errorf("batch of %d rows exceeds batch size %d", b.NumRows(), bs)
		}
		if !b.Schema().Equal(op.Schema()) {
			e.t.Errorf("batch schema %s differs from operator schema %s", b.Schema(), op.Schema())
		}
		for r := 0; r < int(b.NumRows()); r++ {
			row := make([]any, b.NumCols())
			for c := range row {
				row[c] = hatVal(e.t, b.Column(c), r)
			}
			rows = append(rows, row)
		}
		b.Release()
	}
	if err := op.Close(); err != nil {
		e.t.Fatalf("close: %v", err)
	}
	return rows, op.(MemoryReporter).MemoryStats()
}

// drain collects op's batches (caller releases).
func (e *aggSpillEnv) drain(op Operator) ([]arrow.RecordBatch, MemoryStats) {
	e.t.Helper()
	if err := op.Open(e.ctx); err != nil {
		op.Close()
		e.t.Fatalf("open: %v", err)
	}
	var out []arrow.RecordBatch
	for {
		b, err := op.Next(e.ctx)
		if err != nil {
			op.Close()
			for _, b := range out {
				b.Release()
			}
			e.t.Fatalf("next: %v", err)
		}
		if b == nil {
			break
		}
		out = append(out, b)
	}
	if err := op.Close(); err != nil {
		e.t.Fatal(err)
	}
	return out, op.(MemoryReporter).MemoryStats()
}

// aggSpillSomeSpecs is one aggregate of every kernel kind of aggTestSpecs.
func aggSpillSomeSpecs() []AggSpec {
	var out []AggSpec
	for _, name := range []string{"cnt", "cnt_v", "sum_v", "sum_d", "avg_f", "max_d", "min_s", "max_dt", "min_f", "sdp_d", "and_b"} {
		for _, s := range aggTestSpecs {
			if s.Name == name {
				out = append(out, s)
			}
		}
	}
	return out
}

var aggSpillGroupings = []struct {
	name string
	cols []int
}{
	{"g1", []int{0}}, {"g2", []int{1}}, {"g1g2", []int{0, 1}}, {"b_d", []int{6, 3}},
}

type aggSpillSpecs struct {
	name  string
	specs []AggSpec
}

// aggSpillBatchSizesFor picks two of the batch sizes 1, 3, 16 and 1024 for
// the i-th case of a matrix, in turn, so that every size runs with several
// groupings and aggregate sets without running the whole product (a 64 KiB
// pool makes hundreds of spill files per case).
func aggSpillBatchSizesFor(i int) []int {
	sizes := []int{1, 3, 16, 1024}
	return []int{sizes[i%4], sizes[(i+1+i/4)%4]}
}

// TestHashAggregateSpillSingle runs single-phase aggregation (every
// aggregate, DISTINCT and FILTER ones too) in a 64 KiB pool: it must spill
// and give the reference answer.
func TestHashAggregateSpillSingle(t *testing.T) {
	rows := aggSpillRows(1, 2000, 1000)
	specSets := []aggSpillSpecs{
		{"all", aggTestSpecs},
		{"distinct", append(aggTestDistinct, AggSpec{Func: AggMax, Arg: 1, Name: "max_s"}, AggSpec{Func: AggAvg, Arg: 4, Name: "avg_f"})},
		{"masked", append(masked(aggSpillSomeSpecs(), 6), masked(aggTestDistinct[:3], 6)...)},
	}
	for gi, g := range aggSpillGroupings {
		for si, ss := range specSets {
			specs := ss.specs
			want := aggReference(rows, g.cols, specs)
			for _, bs := range aggSpillBatchSizesFor(gi*len(specSets) + si) {
				t.Run(fmt.Sprintf("%s/%s/bs%d", g.name, ss.name, bs), func(t *testing.T) {
					t.Parallel()
					want := slices.Clone(want) // sorted in place
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					env := newAggSpillEnv(t, mem, 64<<10, bs)
					src := hatSrc(t, mem, aggTestSchema(), rows, bs)
					if bs == 3 || bs == 16 {
						src.Close()
						src = hatSrcSliced(t, mem, aggTestSchema(), rows, bs)
					}
					op, err := NewHashAggregate(src, g.cols, specs, AggSingle)
					if err != nil {
						t.Fatal(err)
					}
					got, st := env.run(op)
					env.checkClean()
					hatEqualSets(t, got, want)
					if st.SpilledBytes == 0 || st.SpillFiles == 0 {
						t.Errorf("did not spill: %+v", st)
					}
					if st.PeakBytes > 64<<10 {
						t.Errorf("peak reservation %d exceeds the pool", st.PeakBytes)
					}
				})
			}
		}
	}
}

// TestHashAggregateSpillTwoPhase runs partial aggregation (which emits and
// starts over when full) over three map tasks and a final aggregation that
// spills, each in its own 64 KiB pool.
func TestHashAggregateSpillTwoPhase(t *testing.T) {
	rows := aggSpillRows(2, 2000, 1000)
	specSets := []aggSpillSpecs{
		{"all", aggTestSpecs},
		{"masked", append(masked(aggSpillSomeSpecs(), 6), aggTestSpecs[0], aggTestSpecs[11])},
	}
	for gi, g := range aggSpillGroupings {
		for si, ss := range specSets {
			specs := ss.specs
			want := aggReference(rows, g.cols, specs)
			for _, bs := range aggSpillBatchSizesFor(gi*len(specSets) + si) {
				t.Run(fmt.Sprintf("%s/%s/bs%d", g.name, ss.name, bs), func(t *testing.T) {
					t.Parallel()
					want := slices.Clone(want) // sorted in place
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					var partials []arrow.RecordBatch
					var partialSchema *arrow.Schema
					partialRows := 0
					for p := range 3 {
						env := newAggSpillEnv(t, mem, 64<<10, bs)
						part := rows[p*len(rows)/3 : (p+1)*len(rows)/3]
						op, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), part, bs), g.cols, specs, AggPartial)
						if err != nil {
							t.Fatal(err)
						}
						partialSchema = op.Schema()
						out, st := env.drain(op)
						env.checkClean()
						if st.SpilledBytes != 0 || st.PeakBytes == 0 || st.PeakBytes > 64<<10 {
							t.Errorf("partial: stats %+v", st)
						}
						for _, b := range out {
							partialRows += int(b.NumRows())
						}
						partials = append(partials, out...)
					}
					if partialRows <= len(want) {
						t.Errorf("partial phases emitted %d rows for %d groups: they never emitted early", partialRows, len(want))
					}
					fg := make([]int, len(g.cols))
					for i := range fg {
						fg[i] = i
					}
					env := newAggSpillEnv(t, mem, 64<<10, bs)
					final, err := NewHashAggregate(&hatSource{schema: partialSchema, batches: partials}, fg, specs, AggFinal)
					if err != nil {
						t.Fatal(err)
					}
					got, st := env.run(final)
					env.checkClean()
					hatEqualSets(t, got, want)
					if st.SpilledBytes == 0 {
						t.Errorf("final did not spill: %+v", st)
					}
				})
			}
		}
	}
}

// TestHashAggregateSpillRecursive has so many groups per partition that
// merging a partition spills again, on the next hash bits.
func TestHashAggregateSpillRecursive(t *testing.T) {
	rows := aggSpillRows(3, 40000, 30000)
	specs := []AggSpec{
		{Func: AggCountStar, Arg: -1, Name: "cnt"},
		{Func: AggSum, Arg: 3, Name: "sum_d"},
		{Func: AggMax, Arg: 1, Name: "max_s"},
		{Func: AggCount, Arg: 2, Distinct: true, Name: "cd_v"},
	}
	want := aggReference(rows, []int{0, 5}, specs)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	env := newAggSpillEnv(t, mem, 64<<10, 1024)
	op, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), rows, 1024), []int{0, 5}, specs, AggSingle)
	if err != nil {
		t.Fatal(err)
	}
	got, st := env.run(op)
	levels := op.(*hashAggregate).deepest
	env.checkClean()
	hatEqualSets(t, got, want)
	if levels < 2 {
		t.Errorf("deepest merge level %d, want recursive repartitioning (>= 2); stats %+v", levels, st)
	}
	t.Logf("levels %d, %+v", levels, st)
}

// TestHashAggregateSkipPartial: a partial aggregation whose groups do not
// reduce its input passes rows through as states after the probe; one that
// reduces keeps grouping. Both give the right answer after the final phase.
func TestHashAggregateSkipPartial(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups int
		cols   []int
		limit  int64 // a small pool makes tables emit early: the probe counts across them
		skip   bool
	}{
		{"unique", 100000, []int{0, 1}, 0, true},
		{"unique-flushing", 100000, []int{0, 1}, 64 << 10, true},
		{"reducing", 50, []int{0}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := aggSpillRows(4, 2000, tc.groups)
			specs := append(masked(aggTestSpecs, 6), aggTestSpecs...)
			want := aggReference(rows, tc.cols, specs)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			env := newAggSpillEnv(t, mem, tc.limit, 100)
			op, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), rows, 100), tc.cols, specs, AggPartial)
			if err != nil {
				t.Fatal(err)
			}
			op.(*hashAggregate).skipRows = 500
			partials, _ := env.drain(op)
			n := 0
			for _, b := range partials {
				n += int(b.NumRows())
			}
			if tc.limit > 0 && op.(*hashAggregate).groupsOut == 0 {
				t.Error("the table never emitted early")
			}
			if skipped := op.(*hashAggregate).passThrough; skipped != tc.skip {
				t.Errorf("partial emitted %d rows for %d groups: skip %v, want %v", n, len(want), skipped, tc.skip)
			}
			fg := []int{0, 1}[:len(tc.cols)]
			final, err := NewHashAggregate(&hatSource{schema: op.Schema(), batches: partials}, fg, specs, AggFinal)
			if err != nil {
				t.Fatal(err)
			}
			env = newAggSpillEnv(t, mem, 0, 100)
			got, _ := env.run(final)
			env.checkClean()
			hatEqualSets(t, got, want)
		})
	}
}

// TestHashAggregateSpillLimitError: in a pool too small for an empty
// table, single and final aggregations fail with a LimitError naming the
// operator and leave nothing behind.
func TestHashAggregateSpillLimitError(t *testing.T) {
	rows := aggSpillRows(5, 3000, 1500)
	for _, mode := range []AggMode{AggSingle, AggFinal} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		var src Operator = hatSrc(t, mem, aggTestSchema(), rows, 64)
		groups := []int{1}
		if mode == AggFinal {
			partial, err := NewHashAggregate(src, groups, aggTestSpecs, AggPartial)
			if err != nil {
				t.Fatal(err)
			}
			ctx := WithBatchSize(WithAllocator(context.Background(), mem), 64)
			src = &hatSource{schema: partial.Schema(), batches: aggDrain(t, ctx, partial)}
			groups = []int{0}
		}
		env := newAggSpillEnv(t, mem, 2<<10, 64)
		op, err := NewHashAggregate(src, groups, aggTestSpecs, mode)
		if err != nil {
			t.Fatal(err)
		}
		if err := op.Open(env.ctx); err != nil {
			t.Fatal(err)
		}
		for err == nil {
			var b arrow.RecordBatch
			b, err = op.Next(env.ctx)
			if b == nil && err == nil {
				t.Fatal("want a LimitError, got the whole result")
			}
			if b != nil {
				b.Release()
			}
		}
		op.Close()
		env.checkClean()
		var le *mempool.LimitError
		if want := op.(*hashAggregate).resName(); !errors.As(err, &le) || le.Operator != want {
			t.Fatalf("error %v, want a LimitError of %q", err, want)
		}
		t.Log(err)
		mem.AssertSize(t, 0)
	}
}

// TestHashAggregatePartialStarved: a partial aggregation that cannot hold
// even an empty table passes its rows through as states instead of
// failing; the final phase still gets the right answer.
func TestHashAggregatePartialStarved(t *testing.T) {
	rows := aggSpillRows(8, 500, 100)
	specs := append(masked(aggSpillSomeSpecs(), 6), aggTestSpecs...)
	want := aggReference(rows, []int{1, 0}, specs)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	env := newAggSpillEnv(t, mem, 2<<10, 16)
	op, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), rows, 16), []int{1, 0}, specs, AggPartial)
	if err != nil {
		t.Fatal(err)
	}
	partials, st := env.drain(op)
	env.checkClean()
	n := 0
	for _, b := range partials {
		n += int(b.NumRows())
	}
	if n != len(rows) {
		t.Errorf("starved partial emitted %d rows for %d input rows (%+v)", n, len(rows), st)
	}
	final, err := NewHashAggregate(&hatSource{schema: op.Schema(), batches: partials}, []int{0, 1}, specs, AggFinal)
	if err != nil {
		t.Fatal(err)
	}
	hatEqualSets(t, hatRun(t, final, mem, 16), want)
}

// TestHashAggregateSpillGlobalDistinct: an aggregate without group
// columns spills its DISTINCT values partitioned by value (recursively
// when a partition does not fit) and folds the partitions' states; the
// other aggregates stay in memory. One group whose values do not fit
// (group columns, so its values cannot be split) fails clearly.
func TestHashAggregateSpillGlobalDistinct(t *testing.T) {
	rows := aggSpillRows(7, 20000, 20000)
	specs := []AggSpec{
		{Func: AggCount, Arg: 0, Distinct: true, Name: "cd_g1"},
		{Func: AggSum, Arg: 3, Distinct: true, Name: "sd_d"},
		{Func: AggAvg, Arg: 0, Distinct: true, Name: "ad_g1", Masked: true, Mask: 6},
		{Func: AggMax, Arg: 1, Distinct: true, Name: "md_g2"},
		{Func: AggStddevPop, Arg: 0, Distinct: true, Name: "sdd_g1"},
		{Func: AggCountStar, Arg: -1, Name: "cnt"},
		{Func: AggSum, Arg: 4, Name: "sum_f"},
		{Func: AggMin, Arg: 1, Name: "min_s"},
	}
	want := aggReference(rows, nil, specs)
	for _, bs := range []int{1, 3, 16, 1024} {
		t.Run(fmt.Sprintf("bs%d", bs), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			env := newAggSpillEnv(t, mem, 128<<10, bs)
			op, err := NewHashAggregate(hatSrcSliced(t, mem, aggTestSchema(), rows, bs), nil, specs, AggSingle)
			if err != nil {
				t.Fatal(err)
			}
			got, st := env.run(op)
			env.checkClean()
			hatEqualSets(t, got, want)
			t.Logf("%+v level %d", st, op.(*hashAggregate).deepest)
			if st.SpilledBytes == 0 || op.(*hashAggregate).deepest < 2 {
				t.Errorf("want recursive spilling, got %+v, level %d", st, op.(*hashAggregate).deepest)
			}
		})
	}

	// One group holding all the distinct values cannot fit in 64 KiB.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	env := newAggSpillEnv(t, mem, 64<<10, 1024)
	for _, r := range rows {
		r[5] = arrow.Date32(1)
	}
	op, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), rows, 1024), []int{5}, specs[:1], AggSingle)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Open(env.ctx); err != nil {
		t.Fatal(err)
	}
	b, err := op.Next(env.ctx)
	if b != nil {
		b.Release()
	}
	op.Close()
	env.checkClean()
	var le *mempool.LimitError
	if !errors.As(err, &le) || le.Operator != "HashAggregate (single)" {
		t.Fatalf("error %v, want a LimitError of HashAggregate (single)", err)
	}
	t.Log(err)
}

// TestHashAggregateSpillCancel cancels between merged partitions: the
// error is the context's and no spill file survives Close.
func TestHashAggregateSpillCancel(t *testing.T) {
	rows := aggSpillRows(6, 3000, 1500)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	env := newAggSpillEnv(t, mem, 64<<10, 16)
	ctx, cancel := context.WithCancel(env.ctx)
	defer cancel()
	op, err := NewHashAggregate(hatSrc(t, mem, aggTestSchema(), rows, 16), []int{0}, aggTestSpecs, AggSingle)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := op.Next(ctx)
	if err != nil || b == nil {
		t.Fatalf("first batch: %v %v", b, err)
	}
	b.Release()
	if st := op.(MemoryReporter).MemoryStats(); st.SpillFiles == 0 {
		t.Fatalf("did not spill: %+v", st)
	}
	cancel()
	for {
		b, err = op.Next(ctx)
		if b == nil {
			break
		}
		b.Release()
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	op.Close()
	env.checkClean()
}
