package exec

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkHashJoinInt64 joins 6M probe rows against 1.5M build rows on a
// unique int64 key (lineitem ⋈ orders shape), emitting one payload column
// from each side. ns/row is per probe row (build time included). "dense"
// keys are 1..N (direct index), "sparse" keys are spread out (hash table).
func BenchmarkHashJoinInt64(b *testing.B) {
	inner := HashJoinSpec{Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}, LeftOut: []int{1}, RightOut: []int{1}}
	b.Run("dense", func(b *testing.B) { hjBenchInt64(b, 1, inner) })
	b.Run("sparse", func(b *testing.B) { hjBenchInt64(b, 0x1E3779B97F4A7C15, inner) })
}

// BenchmarkHashJoinMarkInt64 is the same data as an IN mark join (x IN
// (subquery) in a SELECT list): every probe row out with its mark.
func BenchmarkHashJoinMarkInt64(b *testing.B) {
	in := HashJoinSpec{Type: JoinMark, LeftKeys: []int{0}, RightKeys: []int{0}, NullAware: true, LeftOut: []int{1}}
	b.Run("dense", func(b *testing.B) { hjBenchInt64(b, 1, in) })
	b.Run("sparse", func(b *testing.B) { hjBenchInt64(b, 0x1E3779B97F4A7C15, in) })
}

func hjBenchInt64(b *testing.B, spread int64, spec HashJoinSpec) {
	const buildRows, probeRows = 1_500_000, 6_000_000
	mem := memory.NewGoAllocator()
	bs := arrow.NewSchema([]arrow.Field{{Name: "o_orderkey", Type: arrow.PrimitiveTypes.Int64}, {Name: "o_date", Type: arrow.FixedWidthTypes.Date32}}, nil)
	ps := arrow.NewSchema([]arrow.Field{{Name: "l_orderkey", Type: arrow.PrimitiveTypes.Int64}, {Name: "l_qty", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	build := &aggBenchCycle{schema: bs, total: buildRows}
	perm := rng.Perm(buildRows)
	for start := 0; start < buildRows; start += DefaultBatchSize {
		rb := array.NewRecordBuilder(mem, bs)
		for i := start; i < min(start+DefaultBatchSize, buildRows); i++ {
			rb.Field(0).(*array.Int64Builder).Append(int64(perm[i]+1) * spread)
			rb.Field(1).(*array.Date32Builder).Append(arrow.Date32(8000 + i%2000))
		}
		build.batches = append(build.batches, rb.NewRecordBatch())
		rb.Release()
	}
	defer build.release()
	probe := &aggBenchCycle{schema: ps, total: probeRows}
	for range 32 {
		rb := array.NewRecordBuilder(mem, ps)
		for range DefaultBatchSize {
			rb.Field(0).(*array.Int64Builder).Append((rng.Int64N(buildRows) + 1) * spread)
			rb.Field(1).(*array.Int64Builder).Append(rng.Int64N(50))
		}
		probe.batches = append(probe.batches, rb.NewRecordBatch())
		rb.Release()
	}
	defer probe.release()
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		op, err := NewHashJoin(probe, build, spec)
		if err != nil {
			b.Fatal(err)
		}
		if n := aggBenchDrain(b, ctx, op); n != probeRows {
			b.Fatalf("joined %d rows, want %d", n, probeRows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/probeRows, "ns/row")
}
