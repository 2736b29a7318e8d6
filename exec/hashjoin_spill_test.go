package exec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

// hjsRows makes rows of hjtSchema: k in [0, domain) (10% NULL), k2 a
// string that follows k (10% NULL of its own), v in [0, 20) (10% NULL), d
// in [0, domain).
func hjsRows(seed uint64, n, domain int) [][]any {
	rng := rand.New(rand.NewPCG(seed, 17))
	rows := make([][]any, n)
	for i := range rows {
		kv := rng.Int64N(int64(domain))
		var k, k2, v any = kv, fmt.Sprintf("s%d", kv*7%300), int32(rng.IntN(20))
		if rng.IntN(10) == 0 {
			k = nil
		}
		if rng.IntN(10) == 0 {
			k2 = nil
		}
		if rng.IntN(10) == 0 {
			v = nil
		}
		rows[i] = []any{k, k2, v, hatDec(rng.Int64N(int64(domain)))}
	}
	return rows
}

// hjsResult is one run of a hash join.
type hjsResult struct {
	rows  [][]any
	stats MemoryStats
	trace hjSpillTrace
	err   error
}

// hjsRun runs a hash join with batch size bs under a pool of limit bytes
// (0: no pool in the context) and checks that it leaves nothing behind:
// no reserved bytes, no spill files, no Arrow memory.
func hjsRun(t *testing.T, left, right [][]any, spec HashJoinSpec, bs int, limit int64) hjsResult {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := WithBatchSize(WithAllocator(context.Background(), mem), bs)
	var pool *mempool.Pool
	if limit > 0 {
		pool = mempool.New(limit)
		ctx = mempool.WithPool(ctx, pool)
	}
	mgr := spill.NewManager(t.TempDir())
	defer mgr.Close()
	ctx = spill.WithManager(ctx, mgr)
	var l, r *hatSource
	if bs == 3 {
		l = hatSrcSliced(t, mem, hjtSchema("l"), left, bs)
		r = hatSrcSliced(t, mem, hjtSchema("r"), right, bs)
	} else {
		l = hatSrc(t, mem, hjtSchema("l"), left, bs)
		r = hatSrc(t, mem, hjtSchema("r"), right, bs)
	}
	op, err := NewHashJoin(l, r, spec)
	if err != nil {
		t.Fatal(err)
	}
	var res hjsResult
	res.err = op.Open(ctx)
	for res.err == nil {
		b, err := op.Next(ctx)
		if err != nil {
			res.err = err
			break
		}
		if b == nil {
			break
		}
		if b.NumRows() > int64(bs) {
			t.Errorf("batch of %d rows exceeds batch size %d", b.NumRows(), bs)
		}
		if !b.Schema().Equal(op.Schema()) {
			t.Errorf("batch schema %s differs from operator schema %s", b.Schema(), op.Schema())
		}
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]any, b.NumCols())
			for c := range row {
				row[c] = hatVal(t, b.Column(c), i)
			}
			res.rows = append(res.rows, row)
		}
		b.Release()
	}
	res.trace = op.(*hashJoin).trace
	if err := op.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	res.stats = op.(MemoryReporter).MemoryStats()
	if pool != nil && pool.Used() != 0 {
		t.Errorf("%d bytes still reserved after Close", pool.Used())
	}
	if dir := mgr.Dir(); dir != "" {
		if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
			t.Errorf("spill dir after Close: %d files (%v)", len(ents), err)
		}
	}
	return res
}

// hjsSpecs are the joins every spill test runs: every join type, with and
// without a residual, null-aware anti and mark joins, mark conditions.
func hjsSpecs(keys [2][]int) map[string]HashJoinSpec {
	lessV := hjtLess{2, 4 + 2}
	specs := map[string]HashJoinSpec{}
	for _, jt := range []JoinType{JoinInner, JoinLeft, JoinRight, JoinFull, JoinSemi, JoinAnti, JoinRightSemi, JoinRightAnti, JoinMark} {
		spec := HashJoinSpec{Type: jt, LeftKeys: keys[0], RightKeys: keys[1], MarkName: "m"}
		specs[jt.String()] = spec
		spec.Residual = lessV
		specs[jt.String()+"/resid"] = spec
	}
	mark := HashJoinSpec{Type: JoinMark, LeftKeys: keys[0], RightKeys: keys[1], MarkName: "m", MarkCond: hjtCmp{l: 2, r: 6, op: "=", mod: 3}}
	specs["mark/cond"] = mark
	mark.Residual = lessV
	specs["mark/cond/resid"] = mark
	if len(keys[0]) == 1 {
		for _, jt := range []JoinType{JoinAnti, JoinMark} {
			spec := HashJoinSpec{Type: jt, LeftKeys: keys[0], RightKeys: keys[1], NullAware: true, MarkName: "m"}
			specs[jt.String()+"/naware"] = spec
			spec.Residual = lessV
			specs[jt.String()+"/naware/resid"] = spec
		}
	}
	return specs
}

// hjsCompare runs spec without a pool and under limit, and checks that
// the spilled run returns the same rows.
func hjsCompare(t *testing.T, left, right [][]any, spec HashJoinSpec, bs int, limit int64) hjsResult {
	t.Helper()
	want := hjsRun(t, left, right, spec, bs, 0)
	if want.err != nil {
		t.Fatalf("in memory: %v", want.err)
	}
	if want.stats.SpilledBytes != 0 || want.stats.PeakBytes == 0 {
		t.Errorf("in memory: stats %+v", want.stats)
	}
	got := hjsRun(t, left, right, spec, bs, limit)
	if got.err != nil {
		t.Fatalf("limit %d: %v", limit, got.err)
	}
	if got.stats.SpilledBytes == 0 || got.stats.SpillFiles == 0 {
		t.Fatalf("limit %d: did not spill (stats %+v)", limit, got.stats)
	}
	if got.stats.PeakBytes > limit {
		t.Errorf("peak %d over the limit %d", got.stats.PeakBytes, limit)
	}
	hatEqualSets(t, got.rows, want.rows)
	return got
}

func TestHashJoinSpill(t *testing.T) {
	keysets := map[string][2][]int{"k": {{0}, {0}}, "k_k2": {{0, 1}, {0, 1}}, "k2": {{1}, {1}}, "d": {{3}, {3}}}
	for kname, keys := range keysets {
		for sname, spec := range hjsSpecs(keys) {
			for _, bs := range []int{1, 3, 16, 1024} {
				// Other key layouts only need to prove the partitioning.
				if kname != "k" && bs != 16 {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/bs%d", kname, sname, bs), func(t *testing.T) {
					nl, nr, limit := 1500, 2500, int64(64<<10)
					if spec.NullAware && spec.Residual != nil {
						// A NULL key pairs with every row of the other side.
						nl, nr = 600, 1200
					}
					if bs < 16 {
						nl, nr, limit = 300, 600, 24<<10
					}
					left := hjsRows(uint64(bs)*7+1, nl, nr/4)
					right := hjsRows(uint64(bs)*7+2, nr, nr/5)
					hjsCompare(t, left, right, spec, bs, limit)
				})
			}
		}
	}
}

// TestHashJoinSpillReference checks spilled joins against the brute-force
// references of the in-memory tests too.
func TestHashJoinSpillReference(t *testing.T) {
	left := hjsRows(3, 400, 300)
	right := hjsRows(4, 900, 250)
	for sname, spec := range hjsSpecs([2][]int{{0}, {0}}) {
		t.Run(sname, func(t *testing.T) {
			got := hjsRun(t, left, right, spec, 16, 16<<10)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if got.stats.SpilledBytes == 0 {
				t.Fatal("did not spill")
			}
			var want [][]any
			if spec.Type == JoinMark {
				var resid, cond *hjtCmp
				if spec.Residual != nil {
					resid = &hjtCmp{l: 2, r: 6, op: "<"}
				}
				if c, ok := spec.MarkCond.(hjtCmp); ok {
					cond = &c
				}
				want = hjtMarkReference(left, right, spec, resid, cond)
			} else {
				want = hjtReference(left, right, spec)
			}
			hatEqualSets(t, got.rows, want)
		})
	}
}

// TestHashJoinSpillRecursive has a build side whose partitions do not fit
// either: they are partitioned again with the next level's hash.
func TestHashJoinSpillRecursive(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	var left, right [][]any
	// Keys spread far apart: a hashed table holds them (unique keys over
	// a short span take the much smaller rank index, and would fit).
	const spread = 1<<20 + 7
	for i := range 12000 {
		right = append(right, []any{int64(i * 3 * spread), fmt.Sprintf("s%d", i%97), int32(i % 20), hatDec(i)})
	}
	for i := range 3000 {
		var k any = rng.Int64N(40000) * spread
		if i%50 == 0 {
			k = nil
		}
		left = append(left, []any{k, "a", int32(i % 20), hatDec(i)})
	}
	for _, jt := range []JoinType{JoinInner, JoinLeft, JoinFull, JoinAnti, JoinRightAnti, JoinMark} {
		t.Run(jt.String(), func(t *testing.T) {
			got := hjsCompare(t, left, right, HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}, MarkName: "m"}, 256, 64<<10)
			if got.trace.maxLevel < 1 {
				t.Errorf("did not partition recursively: %+v", got.trace)
			}
			if got.trace.loops != 0 {
				t.Errorf("distinct keys took a nested loop: %+v", got.trace)
			}
		})
	}
}

// TestHashJoinSpillHotKey has a key so frequent on the build side that no
// partitioning can split it: that partition is joined by a block nested
// loop over build chunks that fit, next to ordinary partitions.
func TestHashJoinSpillHotKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	var left, right [][]any
	for i := range 3000 {
		var k any = int64(7)
		if i%2 == 0 {
			k = rng.Int64N(3000)
		}
		if i%97 == 0 {
			k = nil
		}
		right = append(right, []any{k, fmt.Sprintf("s%d", i%5), int32(i % 20), hatDec(i)})
	}
	for i := range 1200 {
		var k any = rng.Int64N(3500)
		switch {
		case i%100 == 0:
			k = int64(7)
		case i%61 == 0:
			k = nil
		}
		var v any = int32(i % 20)
		if i%13 == 0 {
			v = nil
		}
		left = append(left, []any{k, "a", v, hatDec(i)})
	}
	specs := hjsSpecs([2][]int{{0}, {0}})
	for sname, spec := range specs {
		for _, bs := range []int{16, 1024} {
			t.Run(fmt.Sprintf("%s/bs%d", sname, bs), func(t *testing.T) {
				got := hjsCompare(t, left, right, spec, bs, 64<<10)
				if got.trace.loops == 0 || got.trace.chunks < 2 {
					t.Errorf("hot key not joined by a nested loop over chunks: %+v", got.trace)
				}
			})
		}
	}
	// Only the hot key: the first partition is already all one key.
	var hot [][]any
	for i := range 3000 {
		hot = append(hot, []any{int64(7), "b", int32(i % 20), hatDec(i)})
	}
	for _, jt := range []JoinType{JoinInner, JoinFull, JoinSemi, JoinRightAnti, JoinMark} {
		t.Run("only/"+jt.String(), func(t *testing.T) {
			spec := HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}, Residual: hjtLess{2, 6}, MarkName: "m"}
			got := hjsCompare(t, left[:300], hot, spec, 64, 64<<10)
			if got.trace.maxLevel != 0 || got.trace.loops != 1 {
				t.Errorf("one key: %+v", got.trace)
			}
		})
	}
}

// TestHashJoinSpillNullAware covers the global facts of NOT IN and IN
// across partitions: a NULL key somewhere in the build side, and NULL
// probe keys against a build side that is not empty.
func TestHashJoinSpillNullAware(t *testing.T) {
	var right [][]any
	for i := range 3000 {
		right = append(right, []any{int64(i), "b", int32(i % 20), hatDec(i)})
	}
	withNull := append(append([][]any{}, right...), []any{nil, "b", int32(19), hatDec(1)})
	var left [][]any
	for i := range 800 {
		var k any = int64(i * 5)
		if i%9 == 0 {
			k = nil
		}
		left = append(left, []any{k, "a", int32(i % 20), hatDec(i)})
	}
	for _, build := range []struct {
		name string
		rows [][]any
	}{{"nonull", right}, {"null", withNull}} {
		for _, jt := range []JoinType{JoinAnti, JoinMark} {
			for _, resid := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/resid=%v", build.name, jt, resid), func(t *testing.T) {
					spec := HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}, NullAware: true, MarkName: "m"}
					if resid {
						spec.Residual = hjtLess{2, 6}
					}
					hjsCompare(t, left, build.rows, spec, 64, 32<<10)
				})
			}
		}
	}
}

// TestHashJoinSpillTooSmall: when not one build batch fits with its
// table, the join fails with the pool's LimitError naming the operator,
// and leaves nothing behind (hjsRun checks).
func TestHashJoinSpillTooSmall(t *testing.T) {
	left := hjsRows(1, 200, 50)
	right := hjsRows(2, 2000, 50)
	for _, jt := range []JoinType{JoinInner, JoinLeft, JoinMark} {
		got := hjsRun(t, left, right, HashJoinSpec{Type: jt, LeftKeys: []int{1}, RightKeys: []int{1}, MarkName: "m"}, 256, 4<<10)
		var le *mempool.LimitError
		if !errors.As(got.err, &le) || le.Operator != "HashJoin build" {
			t.Fatalf("%s: got %v, want a LimitError of HashJoin build", jt, got.err)
		}
		t.Logf("%s: %v", jt, got.err)
	}
}

func TestHashJoinSpillCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	mgr := spill.NewManager(t.TempDir())
	defer mgr.Close()
	pool := mempool.New(64 << 10)
	ctx, cancel := context.WithCancel(spill.WithManager(mempool.WithPool(WithAllocator(context.Background(), mem), pool), mgr))
	defer cancel()
	ctx = WithBatchSize(ctx, 16)
	left, right := hjsRows(1, 2000, 500), hjsRows(2, 3000, 500)
	op, err := NewHashJoin(hatSrc(t, mem, hjtSchema("l"), left, 16), hatSrc(t, mem, hjtSchema("r"), right, 16), HashJoinSpec{Type: JoinLeft, LeftKeys: []int{0}, RightKeys: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := op.Next(ctx)
	if err != nil || b == nil {
		t.Fatalf("first batch: %v", err)
	}
	b.Release()
	cancel()
	if _, err := op.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	op.Close()
	if ents, _ := os.ReadDir(mgr.Dir()); len(ents) != 0 || pool.Used() != 0 {
		t.Fatalf("after Close: %d files, %d bytes reserved", len(ents), pool.Used())
	}
}

// TestHashJoinBroadcastMemory: a broadcast table holds an unspillable
// reservation until Release, and one that does not fit fails clearly.
func TestHashJoinBroadcastMemory(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	right := hjsRows(2, 2000, 500)
	spec := HashJoinSpec{Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}}
	pool := mempool.New(1 << 20)
	ctx := mempool.WithPool(WithBatchSize(WithAllocator(context.Background(), mem), 64), pool)
	table, err := BuildJoinTable(ctx, hatSrc(t, mem, hjtSchema("r"), right, 64), spec)
	if err != nil {
		t.Fatal(err)
	}
	if pool.Used() == 0 {
		t.Error("broadcast table reserves nothing")
	}
	table.Release()
	if pool.Used() != 0 {
		t.Errorf("%d bytes reserved after Release", pool.Used())
	}
	small := mempool.WithPool(ctx, mempool.New(16<<10))
	_, err = BuildJoinTable(small, hatSrc(t, mem, hjtSchema("r"), right, 64), spec)
	var le *mempool.LimitError
	if !errors.As(err, &le) || le.Operator != "HashJoin broadcast build" {
		t.Fatalf("got %v, want a LimitError of HashJoin broadcast build", err)
	}
	t.Log(err)
}

// hjsFailing serves its source's batches, then fails.
type hjsFailing struct {
	*hatSource
	after int
}

func (s *hjsFailing) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.after == 0 {
		return nil, errors.New("input broke")
	}
	s.after--
	return s.hatSource.Next(ctx)
}

// TestHashJoinSpillInputError: an input failing while the join spills
// leaves no file, reservation or batch behind.
func TestHashJoinSpillInputError(t *testing.T) {
	for _, side := range []string{"build", "probe"} {
		t.Run(side, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			mgr := spill.NewManager(t.TempDir())
			defer mgr.Close()
			pool := mempool.New(32 << 10)
			ctx := WithBatchSize(spill.WithManager(mempool.WithPool(WithAllocator(context.Background(), mem), pool), mgr), 16)
			var l, r Operator = hatSrc(t, mem, hjtSchema("l"), hjsRows(1, 2000, 400), 16), hatSrc(t, mem, hjtSchema("r"), hjsRows(2, 3000, 400), 16)
			if side == "build" {
				r = &hjsFailing{r.(*hatSource), 100}
			} else {
				l = &hjsFailing{l.(*hatSource), 100}
			}
			op, err := NewHashJoin(l, r, HashJoinSpec{Type: JoinFull, LeftKeys: []int{0}, RightKeys: []int{0}})
			if err != nil {
				t.Fatal(err)
			}
			if err := op.Open(ctx); err == nil || err.Error() != "input broke" {
				t.Fatalf("open: %v", err)
			}
			if op.(*hashJoin).stats.SpillFiles == 0 && op.(*hashJoin).grace == nil {
				t.Fatal("did not spill before the error")
			}
			op.Close()
			if ents, _ := os.ReadDir(mgr.Dir()); len(ents) != 0 || pool.Used() != 0 {
				t.Fatalf("after Close: %d files, %d bytes reserved", len(ents), pool.Used())
			}
		})
	}
}
