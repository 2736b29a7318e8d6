package exec

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
	"github.com/flint-engine/flint/types"
)

// aggBenchCycle replays a few distinct batches until total rows were
// produced, so benchmarks over millions of rows stay small in memory.
type aggBenchCycle struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	total   int64
	emitted int64
	i       int
}

func (c *aggBenchCycle) Schema() *arrow.Schema          { return c.schema }
func (c *aggBenchCycle) Open(ctx context.Context) error { c.emitted, c.i = 0, 0; return nil }
func (c *aggBenchCycle) Close() error                   { return nil }
func (c *aggBenchCycle) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if c.emitted >= c.total {
		return nil, nil
	}
	b := c.batches[c.i%len(c.batches)]
	c.i++
	if rem := c.total - c.emitted; rem < b.NumRows() {
		c.emitted += rem
		return b.NewSlice(0, rem), nil
	}
	c.emitted += b.NumRows()
	b.Retain()
	return b, nil
}

func (c *aggBenchCycle) release() {
	for _, b := range c.batches {
		b.Release()
	}
}

// benchAppendDec appends the unscaled v to a decimal builder of either
// width.
func benchAppendDec(b array.Builder, v int64) {
	switch b := b.(type) {
	case *array.Decimal64Builder:
		b.Append(decimal.Decimal64(v))
	case *array.Decimal128Builder:
		b.Append(decimal128.FromI64(v))
	default:
		panic("benchAppendDec: not a decimal builder")
	}
}

// BenchmarkHashAggQ1 is shaped like TPC-H Q1: ~6M rows grouped by two
// low-cardinality string columns (4 groups) with four decimal sums, an
// average and a count.
func BenchmarkHashAggQ1(b *testing.B) {
	const rows = 6_000_000
	mem := memory.NewGoAllocator()
	// The engine's types of Q1's sum arguments.
	dec := types.Decimal(15, 2)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "l_returnflag", Type: arrow.BinaryTypes.String},
		{Name: "l_linestatus", Type: arrow.BinaryTypes.String},
		{Name: "l_quantity", Type: dec},
		{Name: "l_extendedprice", Type: dec},
		{Name: "disc_price", Type: types.Decimal(31, 4)},
		{Name: "charge", Type: types.Decimal(38, 6)},
	}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	src := &aggBenchCycle{schema: schema, total: rows}
	defer src.release()
	flags := []string{"A", "N", "R"}
	for range 32 {
		rb := array.NewRecordBuilder(mem, schema)
		for range DefaultBatchSize {
			f := flags[rng.IntN(3)]
			rb.Field(0).(*array.StringBuilder).Append(f)
			st := "F"
			if f == "N" && rng.IntN(2) == 0 {
				st = "O"
			}
			rb.Field(1).(*array.StringBuilder).Append(st)
			for c := 2; c < 6; c++ {
				benchAppendDec(rb.Field(c), rng.Int64N(10_000_000))
			}
		}
		src.batches = append(src.batches, rb.NewRecordBatch())
		rb.Release()
	}
	aggs := []AggSpec{
		{Func: AggSum, Arg: 2, Name: "sum_qty"},
		{Func: AggSum, Arg: 3, Name: "sum_base_price"},
		{Func: AggSum, Arg: 4, Name: "sum_disc_price"},
		{Func: AggSum, Arg: 5, Name: "sum_charge"},
		{Func: AggAvg, Arg: 2, Name: "avg_qty"},
		{Func: AggCountStar, Arg: -1, Name: "count_order"},
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		op, err := NewHashAggregate(src, []int{0, 1}, aggs, AggSingle)
		if err != nil {
			b.Fatal(err)
		}
		out := aggBenchDrain(b, ctx, op)
		if out != 4 {
			b.Fatalf("got %d groups, want 4", out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

// BenchmarkHashAggInt64Key groups 6M rows by an int64 key with 100k
// distinct values and one decimal sum.
func BenchmarkHashAggInt64Key(b *testing.B) {
	const rows = 6_000_000
	mem := memory.NewGoAllocator()
	dec := types.Decimal(15, 2)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: dec}}, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	src := &aggBenchCycle{schema: schema, total: rows}
	defer src.release()
	for range 32 {
		rb := array.NewRecordBuilder(mem, schema)
		for range DefaultBatchSize {
			rb.Field(0).(*array.Int64Builder).Append(rng.Int64N(100_000))
			benchAppendDec(rb.Field(1), rng.Int64N(1_000_000))
		}
		src.batches = append(src.batches, rb.NewRecordBatch())
		rb.Release()
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		op, err := NewHashAggregate(src, []int{0}, []AggSpec{{Func: AggSum, Arg: 1, Name: "s"}}, AggSingle)
		if err != nil {
			b.Fatal(err)
		}
		aggBenchDrain(b, ctx, op)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

// aggBenchKeyed is a source of rows rows of an int64 key drawn from keys
// values and a decimal.
func aggBenchKeyed(rows int64, keys int64) *aggBenchCycle {
	mem := memory.NewGoAllocator()
	dec := types.Decimal(15, 2)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: dec}}, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	src := &aggBenchCycle{schema: schema, total: rows}
	for range 32 {
		rb := array.NewRecordBuilder(mem, schema)
		for range DefaultBatchSize {
			rb.Field(0).(*array.Int64Builder).Append(rng.Int64N(keys))
			benchAppendDec(rb.Field(1), rng.Int64N(1_000_000))
		}
		src.batches = append(src.batches, rb.NewRecordBatch())
		rb.Release()
	}
	return src
}

// BenchmarkHashAggSpill groups 2M rows by an int64 key (about 230k
// groups, sum and avg of a decimal) without a limit and in pools that make
// the table spill and merge its partitions.
func BenchmarkHashAggSpill(b *testing.B) {
	const rows = 2_000_000
	src := aggBenchKeyed(rows, 1_000_000)
	defer src.release()
	aggs := []AggSpec{{Func: AggSum, Arg: 1, Name: "s"}, {Func: AggAvg, Arg: 1, Name: "a"}}
	for _, limit := range []int64{0, 16 << 20, 4 << 20} {
		name := "unlimited"
		if limit > 0 {
			name = "limit=" + mempool.FormatBytes(limit)
		}
		b.Run(name, func(b *testing.B) {
			var st MemoryStats
			for range b.N {
				ctx := mempool.WithPool(context.Background(), mempool.New(limit))
				mgr := spill.NewManager(b.TempDir())
				ctx = spill.WithManager(ctx, mgr)
				op, err := NewHashAggregate(src, []int{0}, aggs, AggSingle)
				if err != nil {
					b.Fatal(err)
				}
				aggBenchDrain(b, ctx, op)
				st = op.(MemoryReporter).MemoryStats()
				mgr.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			b.ReportMetric(float64(st.SpilledBytes)/(1<<20), "MiB-spilled")
			b.ReportMetric(float64(st.PeakBytes)/(1<<20), "MiB-peak")
		})
	}
}

// BenchmarkHashAggPartialUnique runs a partial aggregation over 2M rows
// whose keys barely repeat (as TPC-H Q18's subquery would if lineitem were
// not clustered by order): with skip-partial it passes rows through as
// states after the probe, without it it builds a table of every key.
func BenchmarkHashAggPartialUnique(b *testing.B) {
	const rows = 2_000_000
	src := aggBenchKeyed(rows, 1<<40)
	defer src.release()
	aggs := []AggSpec{{Func: AggSum, Arg: 1, Name: "s"}, {Func: AggCountStar, Arg: -1, Name: "c"}}
	for _, skip := range []bool{true, false} {
		b.Run(map[bool]string{true: "skip", false: "noskip"}[skip], func(b *testing.B) {
			for range b.N {
				op, err := NewHashAggregate(src, []int{0}, aggs, AggPartial)
				if err != nil {
					b.Fatal(err)
				}
				if !skip {
					op.(*hashAggregate).skipRows = math.MaxInt64
				}
				aggBenchDrain(b, context.Background(), op)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
		})
	}
}

func aggBenchDrain(b *testing.B, ctx context.Context, op Operator) int64 {
	if err := op.Open(ctx); err != nil {
		b.Fatal(err)
	}
	var n int64
	for {
		rb, err := op.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if rb == nil {
			break
		}
		n += rb.NumRows()
		rb.Release()
	}
	if err := op.Close(); err != nil {
		b.Fatal(err)
	}
	return n
}
