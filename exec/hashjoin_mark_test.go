package exec

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// hjtCmp compares Int32 columns l and r of a pair batch, each taken modulo
// mod when mod > 0: "<" or "=", NULL when either side is NULL.
type hjtCmp struct {
	l, r int
	op   string
	mod  int32
}

func (e hjtCmp) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e hjtCmp) String() string           { return fmt.Sprintf("#%d %s #%d (mod %d)", e.l, e.op, e.r, e.mod) }

func (e hjtCmp) cmp(a, b int32) bool {
	if e.mod > 0 {
		a, b = a%e.mod, b%e.mod
	}
	if e.op == "<" {
		return a < b
	}
	return a == b
}

// ref evaluates the comparison on a test pair row [left..., right...]:
// true, false or nil.
func (e hjtCmp) ref(pair []any) any {
	x, y := pair[e.l], pair[e.r]
	if x == nil || y == nil {
		return nil
	}
	return e.cmp(x.(int32), y.(int32))
}

func (e hjtCmp) Eval(ctx context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	x, y := b.Column(e.l).(*array.Int32), b.Column(e.r).(*array.Int32)
	bb := array.NewBooleanBuilder(Allocator(ctx))
	defer bb.Release()
	for i := 0; i < int(b.NumRows()); i++ {
		if x.IsNull(i) || y.IsNull(i) {
			bb.AppendNull()
			continue
		}
		bb.Append(e.cmp(x.Value(i), y.Value(i)))
	}
	return bb.NewArray(), nil
}

// hjtMarkReference computes a mark join by brute force, straight from the
// SQL definitions: the candidates of a left row are the right rows whose
// keys equal its keys (NULL never equal; under NullAware the key is the
// compared value instead) and that pass the residual.
func hjtMarkReference(left, right [][]any, spec HashJoinSpec, resid, cond *hjtCmp) [][]any {
	var out [][]any
	for _, l := range left {
		mark := any(false)
		for _, r := range right {
			pair := append(append([]any{}, l...), r...)
			if resid != nil && resid.ref(pair) != true {
				continue
			}
			var v any = true
			if spec.NullAware {
				// IN: x = y in three-valued logic.
				lk, rk := l[spec.LeftKeys[0]], r[spec.RightKeys[0]]
				switch {
				case lk == nil || rk == nil:
					v = nil
				case lk != rk:
					continue
				}
			} else {
				eq := true
				for i := range spec.LeftKeys {
					lk, rk := l[spec.LeftKeys[i]], r[spec.RightKeys[i]]
					eq = eq && lk != nil && rk != nil && lk == rk
				}
				if !eq {
					continue
				}
				if cond != nil {
					if v = cond.ref(pair); v == false {
						continue
					}
				}
			}
			if v == true {
				mark = true
				break
			}
			mark = nil
		}
		out = append(out, append(append([]any{}, l...), mark))
	}
	return out
}

// hjtMarkCheck runs a mark join (a private build, or a shared broadcast
// table when broadcast is set) and compares the output, in order, with the
// reference.
func hjtMarkCheck(t *testing.T, left, right [][]any, spec HashJoinSpec, resid, cond *hjtCmp, bs int, broadcast bool) {
	t.Helper()
	if resid != nil {
		spec.Residual = *resid
	}
	if cond != nil {
		spec.MarkCond = *cond
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var l, r *hatSource
	if bs == 3 {
		l = hatSrcSliced(t, mem, hjtSchema("l"), left, bs)
		r = hatSrcSliced(t, mem, hjtSchema("r"), right, bs)
	} else {
		l = hatSrc(t, mem, hjtSchema("l"), left, bs)
		r = hatSrc(t, mem, hjtSchema("r"), right, max(1, bs/2))
	}
	var op Operator
	var table *JoinTable
	var err error
	if broadcast {
		ctx := WithBatchSize(WithAllocator(context.Background(), mem), bs)
		if table, err = BuildJoinTable(ctx, r, spec); err != nil {
			t.Fatal(err)
		}
		defer table.Release()
		op, err = NewHashJoinProbe(l, table, spec)
	} else {
		op, err = NewHashJoin(l, r, spec)
	}
	if err != nil {
		t.Fatal(err)
	}
	if f := op.Schema().Field(op.Schema().NumFields() - 1); f.Name != "m" || f.Type.ID() != arrow.BOOL || !f.Nullable {
		t.Fatalf("mark field %s", f)
	}
	got := hatRun(t, op, mem, bs)
	want := hjtMarkReference(left, right, spec, resid, cond)
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if hatRowKey(got[i]) != hatRowKey(want[i]) {
			t.Fatalf("row %d: got %v want %v", i, got[i], want[i])
		}
	}
}

func TestHashJoinMark(t *testing.T) {
	sizes := []int{0, 1, 40, 300}
	sizePairs := [][2]int{{0, 0}, {0, 2}, {2, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 2}, {2, 3}, {3, 3}}
	// "k" takes the dense index, "kspread" the integer hash table, the
	// others the generic key table.
	keysets := map[string][2][]int{"k": {{0}, {0}}, "kspread": {{0}, {0}}, "k_k2": {{0, 1}, {0, 1}}, "d": {{3}, {3}}}
	lessV := &hjtCmp{l: 2, r: 4 + 2, op: "<"}
	sameMod3 := &hjtCmp{l: 2, r: 4 + 2, op: "=", mod: 3}
	for _, naware := range []bool{false, true} {
		for kname, keys := range keysets {
			if naware && len(keys[0]) > 1 {
				continue
			}
			for _, resid := range []*hjtCmp{nil, lessV} {
				for _, cond := range []*hjtCmp{nil, sameMod3} {
					if naware && cond != nil {
						continue
					}
					for _, pair := range sizePairs {
						nl, nr := sizes[pair[0]], sizes[pair[1]]
						for _, bs := range []int{1, 2, 3, 1024} {
							if bs < 3 && (nl > 40 || nr > 40) {
								continue
							}
							if (kname == "d" || kname == "kspread") && bs != 3 {
								continue
							}
							name := fmt.Sprintf("naware=%v/%s/resid=%v/cond=%v/L%d/R%d/bs%d", naware, kname, resid != nil, cond != nil, nl, nr, bs)
							t.Run(name, func(t *testing.T) {
								domain := 8
								if kname == "d" {
									domain = 1000
								}
								left := hjtRows(uint64(nl)*3+1, nl, domain)
								right := hjtRows(uint64(nr)*5+2, nr, domain)
								if kname == "kspread" {
									for _, rows := range [][][]any{left, right} {
										for _, r := range rows {
											if r[0] != nil {
												r[0] = r[0].(int64)<<35 - 7
											}
										}
									}
								}
								spec := HashJoinSpec{Type: JoinMark, LeftKeys: keys[0], RightKeys: keys[1], NullAware: naware, MarkName: "m"}
								hjtMarkCheck(t, left, right, spec, resid, cond, bs, false)
								if bs == 1024 {
									hjtMarkCheck(t, left, right, spec, resid, cond, bs, true)
								}
							})
						}
					}
				}
			}
		}
	}
}

// TestHashJoinMarkNullCases spells out the three-valued cases of IN and
// of a mark condition on tiny inputs.
func TestHashJoinMarkNullCases(t *testing.T) {
	row := func(k any, v any) []any { return []any{k, "a", v, hatDec(1)} }
	in := HashJoinSpec{Type: JoinMark, LeftKeys: []int{0}, RightKeys: []int{0}, NullAware: true, MarkName: "m"}
	lessV := &hjtCmp{l: 2, r: 4 + 2, op: "<"}
	probe := [][]any{row(int64(1), int32(5)), row(int64(2), int32(5)), row(nil, int32(5))}
	for _, tc := range []struct {
		name  string
		right [][]any
		resid *hjtCmp
		want  []any // marks of the probe rows 1, 2, NULL
	}{
		{"empty build", nil, nil, []any{false, false, false}},
		{"no null", [][]any{row(int64(1), int32(0))}, nil, []any{true, false, nil}},
		{"null key in build", [][]any{row(int64(1), int32(0)), row(nil, int32(0))}, nil, []any{true, nil, nil}},
		{"only null keys", [][]any{row(nil, int32(0))}, nil, []any{nil, nil, nil}},
		// The residual (probe v < build v) removes rows from "the build
		// side" of each probe row.
		{"residual hides match", [][]any{row(int64(1), int32(0))}, lessV, []any{false, false, false}},
		{"residual keeps match", [][]any{row(int64(1), int32(9))}, lessV, []any{true, false, nil}},
		{"residual hides null key", [][]any{row(int64(1), int32(9)), row(nil, int32(0))}, lessV, []any{true, false, nil}},
		{"residual keeps null key", [][]any{row(nil, int32(9))}, lessV, []any{nil, nil, nil}},
	} {
		for _, bs := range []int{1, 2, 1024} {
			t.Run(fmt.Sprintf("%s/bs%d", tc.name, bs), func(t *testing.T) {
				hjtMarkCheck(t, probe, tc.right, in, tc.resid, nil, bs, false)
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				spec := in
				if tc.resid != nil {
					spec.Residual = *tc.resid
				}
				op, err := NewHashJoin(hatSrc(t, mem, hjtSchema("l"), probe, bs), hatSrc(t, mem, hjtSchema("r"), tc.right, bs), spec)
				if err != nil {
					t.Fatal(err)
				}
				got := hatRun(t, op, mem, bs)
				for i, r := range got {
					if r[len(r)-1] != tc.want[i] {
						t.Errorf("probe row %d: mark %v, want %v", i, r[len(r)-1], tc.want[i])
					}
				}
			})
		}
	}
}

// TestHashJoinMarkManyCandidates has one probe row with many candidates
// spread over several pair chunks; the mark must fold all of them.
func TestHashJoinMarkManyCandidates(t *testing.T) {
	var left, right [][]any
	for i := range 5 {
		left = append(left, []any{int64(1), "a", int32(i * 10), hatDec(i)})
	}
	left = append(left, []any{int64(1), "a", nil, hatDec(9)})
	for i := range 70 {
		var v any = int32(i)
		if i == 33 {
			v = nil
		}
		right = append(right, []any{int64(1), "b", v, hatDec(i)})
	}
	spec := HashJoinSpec{Type: JoinMark, LeftKeys: []int{0}, RightKeys: []int{0}, MarkName: "m"}
	for _, bs := range []int{1, 7, 1024} {
		hjtMarkCheck(t, left, right, spec, nil, &hjtCmp{l: 2, r: 6, op: "="}, bs, false)
		hjtMarkCheck(t, left, right, spec, &hjtCmp{l: 2, r: 6, op: "<"}, &hjtCmp{l: 2, r: 6, op: "=", mod: 7}, bs, false)
	}
}

func TestHashJoinMarkBroadcastConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	right := hjtRows(9, 500, 50)
	ctx := WithBatchSize(WithAllocator(context.Background(), mem), 64)
	resid := &hjtCmp{l: 2, r: 6, op: "<"}
	spec := HashJoinSpec{Type: JoinMark, LeftKeys: []int{0}, RightKeys: []int{0}, NullAware: true, Residual: *resid, MarkName: "m"}
	table, err := BuildJoinTable(ctx, hatSrc(t, mem, hjtSchema("r"), right, 64), spec)
	if err != nil {
		t.Fatal(err)
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
			hatEqualSets(t, got, hjtMarkReference(left, right, spec, resid, nil))
		}()
	}
	wg.Wait()
	table.Release()
}

func TestHashJoinMarkErrors(t *testing.T) {
	l := &hatSource{schema: hjtSchema("l")}
	r := &hatSource{schema: hjtSchema("r")}
	for name, spec := range map[string]HashJoinSpec{
		"null-aware two keys":    {Type: JoinMark, LeftKeys: []int{0, 1}, RightKeys: []int{0, 1}, NullAware: true},
		"null-aware with cond":   {Type: JoinMark, LeftKeys: []int{0}, RightKeys: []int{0}, NullAware: true, MarkCond: hjtCmp{l: 2, r: 6}},
		"cond not boolean":       {Type: JoinMark, LeftKeys: []int{0}, RightKeys: []int{0}, MarkCond: hjtInt{}},
		"cond without mark join": {Type: JoinSemi, LeftKeys: []int{0}, RightKeys: []int{0}, MarkCond: hjtCmp{l: 2, r: 6}},
	} {
		if _, err := NewHashJoin(l, r, spec); err == nil {
			t.Errorf("%s: want error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
