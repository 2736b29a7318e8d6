package hashing

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/zeebo/xxh3"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// refMix is an independent copy of the MurmurHash3 finalizer.
func refMix(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

func int64Arr(mem memory.Allocator, vals []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func strArr(mem memory.Allocator, vals []string, valid []bool) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func hashOf(t *testing.T, cols ...arrow.Array) []uint64 {
	t.Helper()
	h := make([]uint64, cols[0].Len())
	if err := HashColumns(cols, h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashContract(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	i64 := int64Arr(mem, []int64{5, -1, 0}, []bool{true, true, false})
	defer i64.Release()
	b32 := array.NewInt32Builder(mem)
	b32.AppendValues([]int32{5, -1, 7}, []bool{true, true, false})
	i32 := b32.NewArray()
	b32.Release()
	defer i32.Release()
	s := strArr(mem, []string{"abc", "", "zz"}, nil)
	defer s.Release()

	const seed = 0x9E3779B97F4A7C15
	const null = 0x6A09E667F3BCC909
	got := hashOf(t, i64)
	want := []uint64{refMix(seed ^ 5), refMix(seed ^ math.MaxUint64), refMix(seed ^ null)}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("int64 row %d: got %x want %x", i, got[i], want[i])
		}
	}
	if g32 := hashOf(t, i32); g32[0] != got[0] || g32[1] != got[1] || g32[2] != got[2] {
		t.Errorf("int32 and int64 keys must hash alike: %x vs %x", g32, got)
	}
	two := hashOf(t, i64, s)
	for i, v := range []string{"abc", "", "zz"} {
		first := want[i]
		if w := refMix(first ^ xxh3.HashString(v)); two[i] != w {
			t.Errorf("two-column row %d: got %x want %x", i, two[i], w)
		}
	}
	// Golden values pin the cross-version contract.
	golden := []uint64{got[0], got[1], two[0]}
	pinned := []uint64{refMix(seed ^ 5), refMix(seed ^ math.MaxUint64), refMix(refMix(seed^5) ^ xxh3.HashString("abc"))}
	for i := range golden {
		if golden[i] != pinned[i] {
			t.Errorf("golden %d changed", i)
		}
	}

	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{0, math.Copysign(0, -1), math.NaN(), math.Float64frombits(0x7FF8000000000123)}, nil)
	f := fb.NewArray()
	fb.Release()
	defer f.Release()
	fh := hashOf(t, f)
	if fh[0] != fh[1] || fh[2] != fh[3] {
		t.Errorf("float canonicalization: %x", fh)
	}

	db := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 20, Scale: 2})
	db.Append(decimal128.FromI64(-3))
	d := db.NewArray()
	db.Release()
	defer d.Release()
	lo, hi := uint64(math.MaxUint64-2), uint64(math.MaxUint64) // -3 as two's complement halves
	mul := uint64(0x9FB21C651E98DF25)
	if w := refMix(seed ^ (lo + hi*mul)); hashOf(t, d)[0] != w {
		t.Errorf("decimal digest mismatch")
	}
}

func TestPartitionOf(t *testing.T) {
	counts := make([]int, 7)
	for i := range 7000 {
		p := PartitionOf(refMix(uint64(i)), 7)
		if p < 0 || p >= 7 {
			t.Fatalf("partition %d out of range", p)
		}
		counts[p]++
	}
	for p, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("partition %d got %d of 7000 rows: badly skewed", p, c)
		}
	}
}

type refKey struct {
	a     int64
	aNull bool
	s     string
	sNull bool
}

func TestTableInsertFind(t *testing.T) {
	for _, single := range []bool{false, true} {
		for _, batch := range []int{1, 2, 3, 16, 1024} {
			t.Run(fmt.Sprint(single, batch), func(t *testing.T) { testTableInsertFind(t, single, batch) })
		}
	}
}

func testTableInsertFind(t *testing.T, single bool, batch int) {
	{
		{
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(1, uint64(batch)))
			types := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String}
			if single {
				types = types[:1]
			}
			tab, err := NewTable(types)
			if err != nil {
				t.Fatal(err)
			}
			ref := map[refKey]uint32{}
			var order []refKey
			const total = 3000
			for done := 0; done < total; done += batch {
				n := min(batch, total-done)
				av, sv := make([]int64, n), make([]string, n)
				aok, sok := make([]bool, n), make([]bool, n)
				keys := make([]refKey, n)
				for i := range n {
					av[i] = rng.Int64N(40) - 20
					sv[i] = fmt.Sprintf("k%d", rng.IntN(30))
					aok[i] = rng.IntN(10) != 0
					sok[i] = rng.IntN(10) != 0
					keys[i] = refKey{a: av[i], aNull: !aok[i], s: sv[i], sNull: !sok[i]}
					if !aok[i] {
						keys[i].a = 0
					}
					if !sok[i] {
						keys[i].s = ""
					}
					if single {
						keys[i].s, keys[i].sNull = "", false
					}
				}
				a := int64Arr(mem, av, aok)
				s := strArr(mem, sv, sok)
				cols := []arrow.Array{a, s}
				if single {
					cols = cols[:1]
				}
				h := hashOf(t, cols...)
				ids := make([]uint32, n)
				tab.Insert(cols, h, nil, ids)
				for i, k := range keys {
					g, ok := ref[k]
					if !ok {
						g = uint32(len(order))
						ref[k] = g
						order = append(order, k)
					}
					if ids[i] != g {
						t.Fatalf("row %d key %+v: id %d, want %d", done+i, k, ids[i], g)
					}
				}
				found := make([]int32, n)
				var sc Scratch
				tab.Find(cols, h, found, &sc)
				for i, k := range keys {
					want := int32(ref[k])
					if k.aNull || k.sNull {
						want = -1
					}
					if found[i] != want {
						t.Fatalf("find row %d key %+v: %d want %d", done+i, k, found[i], want)
					}
				}
				a.Release()
				s.Release()
			}
			if tab.Len() != len(order) {
				t.Fatalf("Len %d want %d", tab.Len(), len(order))
			}
			out, err := tab.Keys(mem, 0, tab.Len())
			if err != nil {
				t.Fatal(err)
			}
			ka := out[0].(*array.Int64)
			for g, k := range order {
				if ka.IsNull(g) != k.aNull || (!k.aNull && ka.Value(g) != k.a) {
					t.Fatalf("stored key %d mismatch: %+v", g, k)
				}
				if !single {
					ks := out[1].(*array.String)
					if ks.IsNull(g) != k.sNull || (!k.sNull && ks.Value(g) != k.s) {
						t.Fatalf("stored key %d mismatch: %+v", g, k)
					}
				}
			}
			for _, o := range out {
				o.Release()
			}
		}
	}
}

func TestTableGrowAndMiss(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tab, err := NewTable([]arrow.DataType{arrow.PrimitiveTypes.Int64})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50000
	vals := make([]int64, n)
	for i := range vals {
		vals[i] = int64(i) * 7919
	}
	a := int64Arr(mem, vals, nil)
	defer a.Release()
	h := hashOf(t, a)
	ids := make([]uint32, n)
	tab.Insert([]arrow.Array{a}, h, nil, ids)
	for i, id := range ids {
		if id != uint32(i) {
			t.Fatalf("row %d id %d", i, id)
		}
	}
	miss := int64Arr(mem, []int64{1, 7919, -5}, nil)
	defer miss.Release()
	found := make([]int32, 3)
	var sc Scratch
	tab.Find([]arrow.Array{miss}, hashOf(t, miss), found, &sc)
	if found[0] != -1 || found[1] != 1 || found[2] != -1 {
		t.Fatalf("find: %v", found)
	}
}

func TestNewTableErrors(t *testing.T) {
	if _, err := NewTable(nil); err == nil {
		t.Error("want error for no key columns")
	}
	if _, err := NewTable([]arrow.DataType{arrow.ListOf(arrow.PrimitiveTypes.Int64)}); err == nil {
		t.Error("want error for list key")
	}
}

func TestTake(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	idx := []int32{2, -1, 0, 0, 1}
	i64 := int64Arr(mem, []int64{10, 20, 30}, []bool{true, false, true})
	s := strArr(mem, []string{"a", "bb", "ccc"}, []bool{true, true, false})
	bb := array.NewBooleanBuilder(mem)
	bb.AppendValues([]bool{true, false, true}, nil)
	bo := bb.NewArray()
	bb.Release()
	db := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 0})
	db.AppendValues([]decimal128.Num{decimal128.FromI64(-1), decimal128.FromI64(2), decimal128.FromI64(3)}, nil)
	de := db.NewArray()
	db.Release()
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int64)
	for range 3 {
		lb.Append(true)
		lb.ValueBuilder().(*array.Int64Builder).Append(1)
	}
	li := lb.NewArray()
	lb.Release()
	sliced := array.NewSlice(i64, 1, 3)
	for _, tc := range []struct {
		name string
		arr  arrow.Array
		idx  []int32
		want string
	}{
		{"int64", i64, idx, "[30 (null) 10 10 (null)]"},
		{"string", s, idx, `[(null) (null) "a" "a" "bb"]`},
		{"bool", bo, idx, "[true (null) true true false]"},
		{"decimal", de, idx, "[3 (null) -1 -1 2]"},
		{"list-fallback", li, idx, "[[1] (null) [1] [1] [1]]"},
		{"sliced", sliced, []int32{1, 0, -1}, "[30 (null) (null)]"},
		{"empty", i64, []int32{}, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Take(mem, tc.arr, tc.idx)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if got := out.String(); got != tc.want {
				t.Errorf("got %s want %s", got, tc.want)
			}
		})
	}
	for _, a := range []arrow.Array{i64, s, bo, de, li, sliced} {
		a.Release()
	}
}

func TestAllNullColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, dt := range []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.FixedWidthTypes.Boolean, &arrow.Decimal128Type{Precision: 5, Scale: 1}} {
		for _, withInt := range []bool{false, true} {
			a := array.MakeArrayOfNull(mem, dt, 5)
			cols := []arrow.Array{a}
			types := []arrow.DataType{dt}
			if withInt {
				b := int64Arr(mem, []int64{1, 1, 2, 2, 1}, nil)
				cols = append(cols, b)
				types = append(types, arrow.PrimitiveTypes.Int64)
			}
			tab, err := NewTable(types)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]uint32, 5)
			tab.Insert(cols, hashOf(t, cols...), nil, ids)
			want := "[0 0 0 0 0]"
			if withInt {
				want = "[0 0 1 1 0]"
			}
			if fmt.Sprint(ids) != want {
				t.Errorf("%s: ids %v want %s", dt, ids, want)
			}
			found := make([]int32, 5)
			var sc Scratch
			tab.Find(cols, hashOf(t, cols...), found, &sc)
			if fmt.Sprint(found) != "[-1 -1 -1 -1 -1]" {
				t.Errorf("%s: find %v", dt, found)
			}
			keys, err := tab.Keys(mem, 0, tab.Len())
			if err != nil {
				t.Fatal(err)
			}
			if keys[0].NullN() != tab.Len() {
				t.Errorf("%s: keys %v", dt, keys[0])
			}
			tk, err := Take(mem, a, []int32{4, -1, 0})
			if err != nil {
				t.Fatal(err)
			}
			if tk.NullN() != 3 {
				t.Errorf("%s: take %v", dt, tk)
			}
			tk.Release()
			for _, k := range keys {
				k.Release()
			}
			for _, c := range cols {
				c.Release()
			}
		}
	}
}

func TestDensify(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt32Builder(mem)
	b.AppendValues([]int32{-3, 7, 0, -3, 5, 0}, []bool{true, true, true, true, true, false})
	build := b.NewArray()
	b.AppendValues([]int32{7, 8, -4, -3, 0, 5, 1 << 30, -1 << 30, 0}, []bool{true, true, true, true, true, true, true, true, false})
	probe := b.NewArray()
	b.Release()
	defer build.Release()
	defer probe.Release()
	for _, dense := range []bool{false, true} {
		tab, err := NewTable([]arrow.DataType{arrow.PrimitiveTypes.Int32})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]uint32, 6)
		tab.Insert([]arrow.Array{build}, hashOf(t, build), []int32{0, 1, 2, 3, 4}, ids)
		// ids: -3→0, 7→1, 0→2, 5→3
		if dense {
			if tab.Densify(5) {
				t.Fatal("span 11 must not fit 5")
			}
			if !tab.Densify(11) || !tab.Dense() {
				t.Fatal("span 11 should densify")
			}
		}
		found := make([]int32, 9)
		var sc Scratch
		tab.Find([]arrow.Array{probe}, hashOf(t, probe), found, &sc)
		if got, want := fmt.Sprint(found), "[1 -1 -1 0 2 3 -1 -1 -1]"; got != want {
			t.Errorf("dense=%v: find %s want %s", dense, got, want)
		}
	}
}

// A Decimal64 key hashes like the same value as a Decimal128, is stored and
// compared as an int64, and gathers as 8-byte values.
func TestDecimal64Keys(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vals := []int64{-3, 0, 5, math.MaxInt64 / 2, math.MinInt64 / 2, 5, -3}
	valid := []bool{true, true, true, true, true, true, false}
	b64 := array.NewDecimal64Builder(mem, &arrow.Decimal64Type{Precision: 18, Scale: 2})
	b128 := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 20, Scale: 2})
	for i, v := range vals {
		if !valid[i] {
			b64.AppendNull()
			b128.AppendNull()
			continue
		}
		b64.Append(decimal.Decimal64(v))
		b128.Append(decimal128.FromI64(v))
	}
	d64, d128 := b64.NewArray(), b128.NewArray()
	b64.Release()
	b128.Release()
	defer d64.Release()
	defer d128.Release()
	h64, h128 := hashOf(t, d64), hashOf(t, d128)
	for i := range h64 {
		if h64[i] != h128[i] {
			t.Errorf("row %d: Decimal64 hash %x, Decimal128 hash %x", i, h64[i], h128[i])
		}
	}
	if !IsIntKey(d64.DataType()) {
		t.Error("Decimal64 is not an integer-like key")
	}
	tab, err := NewTable([]arrow.DataType{d64.DataType()})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]uint32, len(vals))
	tab.Insert([]arrow.Array{d64}, h64, nil, ids)
	if tab.Len() != 6 || ids[5] != ids[2] || ids[0] == ids[6] {
		t.Errorf("groups %v, %d keys", ids, tab.Len())
	}
	keys, err := tab.Keys(mem, 0, tab.Len())
	if err != nil {
		t.Fatal(err)
	}
	if kt := keys[0].DataType(); !arrow.TypeEqual(kt, d64.DataType()) {
		t.Errorf("key type %s", kt)
	}
	if got := fmt.Sprint(keys[0].(*array.Decimal64).Values()[:5], keys[0].IsNull(5)); got != fmt.Sprint(vals[:5], true) {
		t.Errorf("keys %s", got)
	}
	for _, k := range keys {
		k.Release()
	}
	out, err := Take(mem, d64, []int32{2, -1, 0})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if v := out.(*array.Decimal64).Values(); out.DataType().ID() != arrow.DECIMAL64 || v[0] != 5 || !out.IsNull(1) || v[2] != -3 {
		got := out.String()
		t.Errorf("take %s", got)
	}
}
