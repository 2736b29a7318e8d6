package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// hjtLess is a residual "col[l] < col[r]" over two Int32 columns (NULL if
// either is NULL).
type hjtLess struct{ l, r int }

func (e hjtLess) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e hjtLess) String() string           { return fmt.Sprintf("#%d < #%d", e.l, e.r) }
func (e hjtLess) Eval(ctx context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	x, y := b.Column(e.l).(*array.Int32), b.Column(e.r).(*array.Int32)
	bb := array.NewBooleanBuilder(Allocator(ctx))
	defer bb.Release()
	for i := 0; i < int(b.NumRows()); i++ {
		if x.IsNull(i) || y.IsNull(i) {
			bb.AppendNull()
		} else {
			bb.Append(x.Value(i) < y.Value(i))
		}
	}
	return bb.NewArray(), nil
}

func hjtSchema(p string) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: p + "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: p + "k2", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: p + "v", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: p + "d", Type: aggTestDec, Nullable: true},
	}, nil)
}

func hjtRows(seed uint64, n, domain int) [][]any {
	rng := rand.New(rand.NewPCG(seed, 11))
	rows := make([][]any, n)
	for i := range rows {
		var k, k2, v any = rng.Int64N(int64(domain)), string(rune('a' + rng.IntN(2))), int32(rng.IntN(20))
		if rng.IntN(10) == 0 {
			k = nil
		}
		if rng.IntN(10) == 0 {
			k2 = nil
		}
		if rng.IntN(10) == 0 {
			v = nil
		}
		rows[i] = []any{k, k2, v, hatDec(rng.Int64N(1000))}
	}
	return rows
}

// hjtReference is a nested-loop join over rows.
func hjtReference(left, right [][]any, spec HashJoinSpec) [][]any {
	keyNull := func(r []any, keys []int) bool {
		for _, k := range keys {
			if r[k] == nil {
				return true
			}
		}
		return false
	}
	resid := func(l, r []any) bool {
		if spec.Residual == nil {
			return true
		}
		// Residual is hjtLess{2, 4+2}: left v < right v.
		return l[2] != nil && r[2] != nil && l[2].(int32) < r[2].(int32)
	}
	match := func(l, r []any) bool {
		if keyNull(l, spec.LeftKeys) || keyNull(r, spec.RightKeys) {
			return false
		}
		for i := range spec.LeftKeys {
			if l[spec.LeftKeys[i]] != r[spec.RightKeys[i]] {
				return false
			}
		}
		return resid(l, r)
	}
	nullRow := func(n int) []any { return make([]any, n) }
	var out [][]any
	rmatched := make([]bool, len(right))
	for _, l := range left {
		found := false
		for j, r := range right {
			if match(l, r) {
				found = true
				rmatched[j] = true
				if spec.Type <= JoinFull {
					out = append(out, append(append([]any{}, l...), r...))
				}
			}
		}
		switch spec.Type {
		case JoinLeft, JoinFull:
			if !found {
				out = append(out, append(append([]any{}, l...), nullRow(len(hjtSchema("").Fields()))...))
			}
		case JoinSemi:
			if found {
				out = append(out, l)
			}
		case JoinAnti:
			if spec.NullAware {
				// NOT IN: fails if some residual-passing right row compares
				// equal or unknown.
				qual := true
				for _, r := range right {
					if resid(l, r) && (keyNull(l, spec.LeftKeys) || keyNull(r, spec.RightKeys) || match(l, r)) {
						qual = false
					}
				}
				if qual {
					out = append(out, l)
				}
			} else if !found {
				out = append(out, l)
			}
		}
	}
	if spec.Type == JoinRight || spec.Type == JoinFull {
		for j, r := range right {
			if !rmatched[j] {
				out = append(out, append(nullRow(len(left[0:0])+4), r...))
			}
		}
	}
	if spec.Type == JoinRightSemi || spec.Type == JoinRightAnti {
		for j, r := range right {
			if rmatched[j] == (spec.Type == JoinRightSemi) {
				out = append(out, r)
			}
		}
	}
	return out
}

func TestHashJoin(t *testing.T) {
	type side struct {
		name string
		n    int
	}
	sizes := []side{{"empty", 0}, {"one", 1}, {"small", 40}, {"mid", 300}}
	sizePairs := [][2]int{{0, 0}, {0, 2}, {2, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 2}, {2, 3}, {3, 3}}
	// "k" uses the dense index, "kspread" the integer hash table, the
	// others the generic key table.
	keysets := map[string][2][]int{"k": {{0}, {0}}, "kspread": {{0}, {0}}, "k_k2": {{0, 1}, {0, 1}}, "d": {{3}, {3}}}
	for _, jt := range []JoinType{JoinInner, JoinLeft, JoinRight, JoinFull, JoinSemi, JoinAnti, JoinRightSemi, JoinRightAnti} {
		for _, naaj := range []bool{false, true} {
			if naaj && jt != JoinAnti {
				continue
			}
			for kname, keys := range keysets {
				for _, resid := range []bool{false, true} {
					for _, pair := range sizePairs {
						{
							ls, rs := sizes[pair[0]], sizes[pair[1]]
							for _, bs := range []int{1, 3, 16, 1024} {
								if bs < 16 && (ls.n > 40 || rs.n > 40) {
									continue
								}
								// Other key layouts only need to prove the table path.
								if (kname == "d" || kname == "kspread") && (bs != 16 || ls.n == 1 || rs.n == 1) {
									continue
								}
								name := fmt.Sprintf("%s/naaj=%v/%s/resid=%v/L%s/R%s/bs%d", jt, naaj, kname, resid, ls.name, rs.name, bs)
								t.Run(name, func(t *testing.T) {
									domain := 8
									if kname == "d" {
										domain = 1000
									}
									left := hjtRows(uint64(ls.n)*3+1, ls.n, domain)
									right := hjtRows(uint64(rs.n)*5+2, rs.n, domain)
									if kname == "kspread" {
										for _, rows := range [][][]any{left, right} {
											for _, r := range rows {
												if r[0] != nil {
													r[0] = r[0].(int64)<<35 - 7
												}
											}
										}
									}
									spec := HashJoinSpec{Type: jt, LeftKeys: keys[0], RightKeys: keys[1], NullAware: naaj}
									if resid {
										spec.Residual = hjtLess{2, 4 + 2}
									}
									hjtCheck(t, left, right, spec, bs)
								})
							}
						}
					}
				}
			}
		}
	}
}

func hjtCheck(t *testing.T, left, right [][]any, spec HashJoinSpec, bs int) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := hatSrc(t, mem, hjtSchema("l"), left, bs)
	r := hatSrc(t, mem, hjtSchema("r"), right, max(1, bs/2))
	if bs == 3 || bs == 16 {
		l.Close()
		r.Close()
		l = hatSrcSliced(t, mem, hjtSchema("l"), left, bs)
		r = hatSrcSliced(t, mem, hjtSchema("r"), right, bs)
	}
	op, err := NewHashJoin(l, r, spec)
	if err != nil {
		t.Fatal(err)
	}
	got := hatRun(t, op, mem, bs)
	hatEqualSets(t, got, hjtReference(left, right, spec))
}

func TestHashJoinManyMatchesChunked(t *testing.T) {
	// 60 x 70 rows on one key: 4200 output rows from one probe batch.
	var left, right [][]any
	for i := range 60 {
		left = append(left, []any{int64(1), "a", int32(i), hatDec(i)})
	}
	for i := range 70 {
		right = append(right, []any{int64(1), "b", int32(i), hatDec(i)})
	}
	for _, jt := range []JoinType{JoinInner, JoinLeft, JoinFull} {
		for _, bs := range []int{7, 1024} {
			t.Run(fmt.Sprintf("%s/%d", jt, bs), func(t *testing.T) {
				hjtCheck(t, left, right, HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}}, bs)
				hjtCheck(t, left, right, HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}, Residual: hjtLess{2, 6}}, bs)
			})
		}
	}
}

func TestHashJoinOutputColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	left := hjtRows(1, 50, 5)
	right := hjtRows(2, 30, 5)
	l := hatSrc(t, mem, hjtSchema("l"), left, 16)
	r := hatSrc(t, mem, hjtSchema("r"), right, 16)
	op, err := NewHashJoin(l, r, HashJoinSpec{Type: JoinLeft, LeftKeys: []int{0}, RightKeys: []int{0}, LeftOut: []int{2}, RightOut: []int{3, 0}})
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "lv", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "rd", Type: aggTestDec, Nullable: true},
		{Name: "rk", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	if !op.Schema().Equal(want) {
		t.Fatalf("schema %s want %s", op.Schema(), want)
	}
	got := hatRun(t, op, mem, 16)
	full := hjtReference(left, right, HashJoinSpec{Type: JoinLeft, LeftKeys: []int{0}, RightKeys: []int{0}})
	var exp [][]any
	for _, row := range full {
		exp = append(exp, []any{row[2], row[4+3], row[4+0]})
	}
	hatEqualSets(t, got, exp)
}

func TestHashJoinErrors(t *testing.T) {
	l := &hatSource{schema: hjtSchema("l")}
	r := &hatSource{schema: hjtSchema("r")}
	for name, spec := range map[string]HashJoinSpec{
		"no keys":       {Type: JoinInner},
		"key mismatch":  {Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{1}},
		"key range":     {Type: JoinInner, LeftKeys: []int{9}, RightKeys: []int{0}},
		"naaj not anti": {Type: JoinSemi, LeftKeys: []int{0}, RightKeys: []int{0}, NullAware: true},
		"out range":     {Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}, RightOut: []int{7}},
		"residual type": {Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}, Residual: hjtInt{}},
		"bad join type": {Type: JoinType(42), LeftKeys: []int{0}, RightKeys: []int{0}},
	} {
		if _, err := NewHashJoin(l, r, spec); err == nil {
			t.Errorf("%s: want error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// Close without Open is fine.
	op, err := NewHashJoin(l, r, HashJoinSpec{Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
}

type hjtInt struct{}

func (hjtInt) DataType() arrow.DataType { return arrow.PrimitiveTypes.Int64 }
func (hjtInt) String() string           { return "int" }
func (hjtInt) Eval(context.Context, arrow.RecordBatch) (arrow.Array, error) {
	return nil, fmt.Errorf("not evaluated")
}

func TestHashJoinBroadcastConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	right := hjtRows(9, 500, 50)
	ctx := WithBatchSize(WithAllocator(context.Background(), mem), 64)
	for _, jt := range []JoinType{JoinInner, JoinLeft, JoinSemi, JoinAnti} {
		spec := HashJoinSpec{Type: jt, LeftKeys: []int{0, 1}, RightKeys: []int{0, 1}, Residual: hjtLess{2, 6}}
		table, err := BuildJoinTable(ctx, hatSrc(t, mem, hjtSchema("r"), right, 64), spec)
		if err != nil {
			t.Fatal(err)
		}
		if table.NumRows() != 500 {
			t.Fatalf("table rows %d", table.NumRows())
		}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				left := hjtRows(uint64(100+w), 400, 50)
				op, err := NewHashJoinProbe(hatSrc(t, mem, hjtSchema("l"), left, 64), table, spec)
				if err != nil {
					t.Error(err)
					return
				}
				got := hatRun(t, op, mem, 64)
				hatEqualSets(t, got, hjtReference(left, right, spec))
			}()
		}
		wg.Wait()
		table.Release()
	}
	if _, err := NewHashJoinProbe(&hatSource{schema: hjtSchema("l")}, &JoinTable{}, HashJoinSpec{Type: JoinRight, LeftKeys: []int{0}, RightKeys: []int{0}}); err == nil {
		t.Error("right join probe on a shared table: want error")
	}
}

func TestHashJoinExtremeIntKeys(t *testing.T) {
	const maxI, minI = int64(1<<63 - 1), int64(-1 << 63)
	var left, right [][]any
	for _, k := range []int64{minI, minI + 2, maxI - 1, maxI, 0} {
		left = append(left, []any{k, "a", int32(1), hatDec(1)})
	}
	for _, k := range []int64{maxI - 3, maxI - 1, maxI - 1} {
		right = append(right, []any{k, "a", int32(2), hatDec(2)})
	}
	for _, jt := range []JoinType{JoinInner, JoinLeft, JoinAnti, JoinSemi} {
		hjtCheck(t, left, right, HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}}, 16)
	}
	// A wide, sparse key range takes the hash table instead.
	right = append(right, []any{minI + 2, "b", int32(3), hatDec(3)})
	for _, jt := range []JoinType{JoinInner, JoinFull} {
		hjtCheck(t, left, right, HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}}, 16)
	}
}

// TestHashJoinUniqueDenseIndex: unique integer build keys (with NULLs,
// gaps and a span wider than the rows) take the direct key -> row index
// and join like the reference for every join type; a repeated key falls
// back to the per-key lists.
func TestHashJoinUniqueDenseIndex(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := WithBatchSize(WithAllocator(context.Background(), mem), 16)
	rng := rand.New(rand.NewPCG(3, 5))
	perm := rng.Perm(300)
	var right [][]any
	for i, k := range perm[:120] { // 120 distinct keys of 0..299, in random order
		var key any = int64(3 * k) // gaps: every third value
		if i%17 == 0 {
			key = nil
		}
		right = append(right, []any{key, "a", int32(rng.IntN(20)), hatDec(int64(i))})
	}
	left := hjtRows(7, 400, 900)
	for _, tc := range []struct {
		right  [][]any
		unique bool
	}{{right, true}, {append(right, []any{int64(3 * perm[1]), "b", int32(1), hatDec(1)}), false}} {
		for _, jt := range []JoinType{JoinInner, JoinLeft, JoinRight, JoinFull, JoinSemi, JoinAnti, JoinRightSemi, JoinRightAnti} {
			for _, resid := range []Expr{nil, hjtLess{2, 6}} {
				spec := HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}, Residual: resid}
				if jt != JoinRight && jt != JoinFull && jt != JoinRightSemi && jt != JoinRightAnti {
					table, err := BuildJoinTable(ctx, hatSrc(t, mem, hjtSchema("r"), tc.right, 16), spec)
					if err != nil {
						t.Fatal(err)
					}
					if got := table.denseRows != nil; got != tc.unique {
						t.Fatalf("unique keys %v: direct row index %v", tc.unique, got)
					}
					op, err := NewHashJoinProbe(hatSrc(t, mem, hjtSchema("l"), left, 16), table, spec)
					if err != nil {
						t.Fatal(err)
					}
					hatEqualSets(t, hatRun(t, op, mem, 16), hjtReference(left, tc.right, spec))
					table.Release()
				}
				op, err := NewHashJoin(hatSrc(t, mem, hjtSchema("l"), left, 16), hatSrc(t, mem, hjtSchema("r"), tc.right, 16), spec)
				if err != nil {
					t.Fatal(err)
				}
				hatEqualSets(t, hatRun(t, op, mem, 16), hjtReference(left, tc.right, spec))
			}
		}
	}
}

// TestHashJoinForeignKeySlicesProbe: when every row of a probe batch
// finds exactly one match (a foreign-key join), the output's probe
// columns are slices of the probe batch, not copies; a batch with a row
// that finds none is gathered. Both give the reference join's rows.
func TestHashJoinForeignKeySlicesProbe(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var right [][]any
	for k := range 50 {
		right = append(right, []any{int64(k), "r", int32(k), hatDec(int64(k))})
	}
	for _, tc := range []struct {
		name    string
		missing bool // one probe row finds no match
	}{{"all match", false}, {"one misses", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var left [][]any
			for i := range 40 {
				left = append(left, []any{int64((i * 7) % 50), "l", int32(i), hatDec(int64(i))})
			}
			if tc.missing {
				left[5][0] = int64(1000)
			}
			for _, jt := range []JoinType{JoinInner, JoinLeft} {
				spec := HashJoinSpec{Type: jt, LeftKeys: []int{0}, RightKeys: []int{0}}
				src := hatSrc(t, mem, hjtSchema("l"), left, 16)
				probe := map[*memory.Buffer]bool{}
				for _, b := range src.batches {
					probe[b.Column(2).Data().Buffers()[1]] = true
				}
				op, err := NewHashJoin(src, hatSrc(t, mem, hjtSchema("r"), right, 16), spec)
				if err != nil {
					t.Fatal(err)
				}
				ctx := WithBatchSize(WithAllocator(context.Background(), mem), 16)
				var rows [][]any
				shared := 0
				for _, b := range aggDrain(t, ctx, op) {
					if probe[b.Column(2).Data().Buffers()[1]] {
						shared++
					}
					rows = append(rows, hatRows(t, b)...)
					b.Release()
				}
				hatEqualSets(t, rows, hjtReference(left, right, spec))
				// Three probe batches; the one holding the missing row is
				// gathered by an inner join, sliced by a left join.
				want := 3
				if tc.missing && jt == JoinInner {
					want = 2
				}
				if shared != want {
					t.Errorf("%s: %d output batches share the probe's columns, want %d", jt, shared, want)
				}
			}
		})
	}
}
