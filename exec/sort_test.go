package exec

import (
	"context"
	"math/big"
	"math/rand"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var sortTestKeySets = []struct {
	name string
	keys []SortKey
}{
	{"int asc nulls last", []SortKey{{Col: 0}}},
	{"int desc nulls first", []SortKey{{Col: 0, Desc: true, NullsFirst: true}}},
	{"string desc nulls first", []SortKey{{Col: 1, Desc: true, NullsFirst: true}}},
	{"string asc, int desc", []SortKey{{Col: 1}, {Col: 0, Desc: true}}},
	{"decimal desc, date asc", []SortKey{{Col: 2, Desc: true, NullsFirst: true}, {Col: 3}}},
	{"float asc nulls first, int desc", []SortKey{{Col: 4, NullsFirst: true}, {Col: 0, Desc: true}}},
	{"bool, string, decimal nulls first", []SortKey{{Col: 5}, {Col: 1}, {Col: 2, NullsFirst: true}}},
	{"date desc nulls last, float desc", []SortKey{{Col: 3, Desc: true}, {Col: 4, Desc: true}}},
	{"no keys", nil},
}

func sortTestRef(rows [][]any, keys []SortKey) [][]any {
	want := slices.Clone(rows)
	sort.SliceStable(want, func(i, j int) bool { return sotCmpRows(want[i], want[j], keys) < 0 })
	return want
}

func TestSort(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 5, 300} {
		rows := sortTestRows(r, n)
		for _, ks := range sortTestKeySets {
			want := sortTestRef(rows, ks.keys)
			for _, bs := range sortTestBatchSizes {
				t.Run(ks.name, func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					op := NewSort(sotSource(t, mem, schema, rows, bs), ks.keys)
					got := sotRun(t, op, mem, bs, true)
					sotEqualRows(t, got, want)
				})
			}
		}
	}
}

func TestTopN(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(2))
	rows := sortTestRows(r, 200)
	for _, ks := range sortTestKeySets {
		for _, n := range []int64{0, 1, 3, 17, 199, 200, 1000} {
			want := sortTestRef(rows, ks.keys)
			if int64(len(want)) > n {
				want = want[:n]
			}
			for _, bs := range sortTestBatchSizes {
				t.Run(ks.name, func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					op := NewTopN(sotSource(t, mem, schema, rows, bs), ks.keys, n)
					got := sotRun(t, op, mem, bs, true)
					sotEqualRows(t, got, want)
				})
			}
		}
	}
}

func TestMergeSorted(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(3))
	for _, ks := range sortTestKeySets {
		for _, sizes := range [][]int{{0}, {5}, {0, 7, 0}, {40, 3, 0, 25, 1}, {100, 100}} {
			var parts [][][]any
			var all [][]any
			for _, sz := range sizes {
				p := sortTestRef(sortTestRows(r, sz), ks.keys)
				parts = append(parts, p)
				all = append(all, p...)
			}
			want := sortTestRef(all, ks.keys)
			for _, bs := range sortTestBatchSizes {
				t.Run(ks.name, func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					var inputs []Operator
					for i, p := range parts {
						// Vary input batch sizes independently of the output size.
						inputs = append(inputs, sotSource(t, mem, schema, p, sortTestBatchSizes[(i+bs)%len(sortTestBatchSizes)]))
					}
					got := sotRun(t, NewMergeSorted(inputs, ks.keys), mem, bs, true)
					sotEqualRows(t, got, want)
				})
			}
		}
	}
}

func TestSortBigDecimal(t *testing.T) {
	dt := &arrow.Decimal128Type{Precision: 38, Scale: 0}
	schema := arrow.NewSchema([]arrow.Field{{Name: "d", Type: dt, Nullable: true}}, nil)
	r := rand.New(rand.NewSource(4))
	var vals []*big.Int
	for range 200 {
		v := new(big.Int).Lsh(big.NewInt(r.Int63n(5)-2), uint(r.Intn(100)))
		v.Add(v, big.NewInt(r.Int63n(7)-3))
		vals = append(vals, v)
	}
	for _, desc := range []bool{false, true} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		b := array.NewDecimal128Builder(mem, dt)
		for i, v := range vals {
			if i%17 == 0 {
				b.AppendNull()
				continue
			}
			b.Append(decimal128.FromBigInt(v))
		}
		arr := b.NewArray()
		b.Release()
		batch := array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len()))
		arr.Release()
		src := NewBatchSource(schema, []arrow.RecordBatch{batch})
		batch.Release()
		ctx := WithAllocator(context.Background(), mem)
		out, err := CollectAll(ctx, NewSort(src, []SortKey{{Col: 0, Desc: desc, NullsFirst: desc}}))
		if err != nil {
			t.Fatal(err)
		}
		var got []*big.Int
		nulls := 0
		for _, o := range out {
			col := o.Column(0).(*array.Decimal128)
			for i := range col.Len() {
				if col.IsNull(i) {
					if (desc && len(got) > 0) || (!desc && i < col.Len()-1 && col.IsValid(i+1)) {
						t.Fatalf("null at wrong place (desc=%v)", desc)
					}
					nulls++
					continue
				}
				got = append(got, col.Value(i).BigInt())
			}
		}
		batchReleaseAll(out)
		want := []*big.Int{}
		for i, v := range vals {
			if i%17 != 0 {
				want = append(want, v)
			}
		}
		sort.SliceStable(want, func(i, j int) bool {
			c := want[i].Cmp(want[j])
			if desc {
				c = -c
			}
			return c < 0
		})
		if nulls != 12 || len(got) != len(want) {
			t.Fatalf("got %d values %d nulls, want %d values 12 nulls", len(got), nulls, len(want))
		}
		for i := range got {
			if got[i].Cmp(want[i]) != 0 {
				t.Fatalf("desc=%v row %d: got %s want %s", desc, i, got[i], want[i])
			}
		}
		mem.AssertSize(t, 0)
	}
}

func TestSortBadKey(t *testing.T) {
	schema := sortTestSchema()
	ctx := context.Background()
	for _, op := range []Operator{
		NewSort(NewBatchSource(schema, nil), []SortKey{{Col: 9}}),
		NewTopN(NewBatchSource(schema, nil), []SortKey{{Col: -1}}, 3),
		NewMergeSorted(nil, nil),
	} {
		if err := op.Open(ctx); err == nil {
			t.Errorf("%T: Open succeeded with invalid keys", op)
		}
		if err := op.Close(); err != nil {
			t.Errorf("Close after failed Open: %v", err)
		}
	}
}

// TestSortWideKeys covers keys too wide to pack: full-range int64 with nulls
// as first key, then as a second key after a packed one.
func TestSortWideKeys(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(13))
	rows := sortTestRows(r, 500)
	for _, row := range rows {
		if row[0] != nil {
			row[0] = int64(r.Uint64()) >> uint(r.Intn(3)*30)
		}
	}
	for _, keys := range [][]SortKey{
		{{Col: 0}},
		{{Col: 0, Desc: true, NullsFirst: true}, {Col: 1}},
		{{Col: 3, NullsFirst: true}, {Col: 0, Desc: true}},
		{{Col: 5}, {Col: 3}, {Col: 0}, {Col: 1, Desc: true}},
	} {
		want := sortTestRef(rows, keys)
		for _, bs := range []int{3, 1024} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			got := sotRun(t, NewSort(sotSource(t, mem, schema, rows, bs), keys), mem, bs, true)
			sotEqualRows(t, got, want)
			mem.AssertSize(t, 0)
		}
	}
}
