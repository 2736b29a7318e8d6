package exec

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// partRefMix is an independent copy of the MurmurHash3 finalizer, to pin
// the documented cross-version partition contract.
func partRefMix(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

func partRefPartition(v int64, n int) int {
	h := partRefMix(0x9E3779B97F4A7C15 ^ uint64(v))
	return int(partRefMix(h^0xD6E8FEB86659FD93) % uint64(n))
}

func TestHashPartition(t *testing.T) {
	for _, n := range []int{1, 2, 5, 16} {
		for _, bs := range []int{1, 3, 16, 1024} {
			for _, keys := range [][]int{{0}, {0, 1}, {3}} {
				t.Run(fmt.Sprintf("n%d/bs%d/keys%v", n, bs, keys), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					ctx := WithAllocator(context.Background(), mem)
					rows := hjtRows(uint64(n*bs), 200, 30)
					batches := hatBuild(t, mem, hjtSchema("x"), rows, bs)
					keyPart := map[string]int{}
					var got [][]any
					for _, b := range batches {
						parts, err := HashPartition(ctx, b, keys, n)
						if err != nil {
							t.Fatal(err)
						}
						if len(parts) != n {
							t.Fatalf("%d partitions, want %d", len(parts), n)
						}
						for p, pb := range parts {
							if pb == nil {
								continue
							}
							if !pb.Schema().Equal(b.Schema()) {
								t.Fatalf("schema changed")
							}
							for r := 0; r < int(pb.NumRows()); r++ {
								row := make([]any, pb.NumCols())
								for c := range row {
									row[c] = hatVal(t, pb.Column(c), r)
								}
								got = append(got, row)
								var kv []any
								for _, k := range keys {
									kv = append(kv, row[k])
								}
								ks := fmt.Sprintf("%#v", kv)
								if prev, ok := keyPart[ks]; ok && prev != p {
									t.Fatalf("key %s in partitions %d and %d", ks, prev, p)
								}
								keyPart[ks] = p
								if len(keys) == 1 && keys[0] == 0 && row[0] != nil {
									if want := partRefPartition(row[0].(int64), n); p != want {
										t.Fatalf("key %v went to partition %d, contract says %d", row[0], p, want)
									}
								}
							}
							pb.Release()
						}
						b.Release()
					}
					hatEqualSets(t, got, rows)
				})
			}
		}
	}
}

func TestHashPartitionEdges(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := WithAllocator(context.Background(), mem)
	empty := hatBuild(t, mem, hjtSchema("x"), [][]any{{int64(1), "a", int32(1), hatDec(1)}}, 1)[0]
	defer empty.Release()
	zero := empty.NewSlice(0, 0)
	defer zero.Release()
	parts, err := HashPartition(ctx, zero, []int{0}, 3)
	if err != nil || len(parts) != 3 || parts[0] != nil || parts[1] != nil || parts[2] != nil {
		t.Fatalf("empty batch: %v %v", parts, err)
	}
	for name, c := range map[string]struct {
		keys []int
		n    int
	}{"n=0": {[]int{0}, 0}, "no keys": {nil, 2}, "key range": {[]int{8}, 2}} {
		if _, err := HashPartition(ctx, empty, c.keys, c.n); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	// Int32 and Int64 keys with equal values land in the same partition.
	b64 := array.NewInt64Builder(mem)
	b32 := array.NewInt32Builder(mem)
	for i := range 100 {
		b64.Append(int64(i - 50))
		b32.Append(int32(i - 50))
	}
	a64, a32 := b64.NewArray(), b32.NewArray()
	b64.Release()
	b32.Release()
	r64 := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{a64}, 100)
	r32 := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int32}}, nil), []arrow.Array{a32}, 100)
	a64.Release()
	a32.Release()
	defer r64.Release()
	defer r32.Release()
	p64, err := HashPartition(ctx, r64, []int{0}, 4)
	if err != nil {
		t.Fatal(err)
	}
	p32, err := HashPartition(ctx, r32, []int{0}, 4)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 4 {
		var x, y []int64
		if p64[p] != nil {
			for _, v := range p64[p].Column(0).(*array.Int64).Int64Values() {
				x = append(x, v)
			}
			p64[p].Release()
		}
		if p32[p] != nil {
			for _, v := range p32[p].Column(0).(*array.Int32).Int32Values() {
				y = append(y, int64(v))
			}
			p32[p].Release()
		}
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Errorf("partition %d: int64 keys %v, int32 keys %v", p, x, y)
		}
	}
}
