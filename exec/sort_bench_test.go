package exec

import (
	"context"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
	"github.com/flint-engine/flint/types"
)

// sortBenchSource replays a small set of distinct batches cyclically until
// total rows were produced, so large inputs cost little memory.
type sortBenchSource struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	total   int64
	sent    int64
	i       int
}

func (s *sortBenchSource) Schema() *arrow.Schema          { return s.schema }
func (s *sortBenchSource) Open(ctx context.Context) error { s.sent, s.i = 0, 0; return nil }
func (s *sortBenchSource) Close() error                   { return nil }
func (s *sortBenchSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.sent >= s.total {
		return nil, nil
	}
	b := s.batches[s.i%len(s.batches)]
	s.i++
	n := min(b.NumRows(), s.total-s.sent)
	s.sent += n
	return b.NewSlice(0, n), nil
}

// sortBenchBatches makes nb batches of 8192 rows: l_extendedprice-like
// decimal(15,2), a date, an int64 key and a short string.
func sortBenchBatches(nb int) (*arrow.Schema, []arrow.RecordBatch) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "price", Type: types.Decimal(15, 2)},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "key", Type: arrow.PrimitiveTypes.Int64},
		{Name: "flag", Type: arrow.BinaryTypes.String},
	}, nil)
	r := rand.New(rand.NewSource(42))
	mem := memory.NewGoAllocator()
	var out []arrow.RecordBatch
	for range nb {
		b := array.NewRecordBuilder(mem, schema)
		for range 8192 {
			benchAppendDec(b.Field(0), r.Int63n(10_000_000))
			b.Field(1).(*array.Date32Builder).Append(arrow.Date32(8000 + r.Intn(2500)))
			b.Field(2).(*array.Int64Builder).Append(r.Int63n(6_000_000))
			b.Field(3).(*array.StringBuilder).Append([]string{"A", "N", "R"}[r.Intn(3)])
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return schema, out
}

func sortBenchRun(b *testing.B, op Operator, rows int64) {
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		out, err := CollectAll(ctx, op)
		if err != nil {
			b.Fatal(err)
		}
		batchReleaseAll(out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows)/float64(b.N), "ns/row")
}

// BenchmarkSort1_5M sorts 1.5M rows by price DESC, date ASC (Q18/Q3-like).
func BenchmarkSort1_5M(b *testing.B) {
	schema, batches := sortBenchBatches(183)
	const rows = 1_500_000
	src := &sortBenchSource{schema: schema, batches: batches, total: rows}
	sortBenchRun(b, NewSort(src, []SortKey{{Col: 0, Desc: true, NullsFirst: true}, {Col: 1}}), rows)
}

// BenchmarkTopN10_6M keeps the top 10 of 6M rows by price DESC, date ASC.
func BenchmarkTopN10_6M(b *testing.B) {
	schema, batches := sortBenchBatches(64)
	const rows = 6_000_000
	src := &sortBenchSource{schema: schema, batches: batches, total: rows}
	sortBenchRun(b, NewTopN(src, []SortKey{{Col: 0, Desc: true, NullsFirst: true}, {Col: 1}}, 10), rows)
}

// sortBenchSpillRun is sortBenchRun in a pool of limit bytes, spilling
// under a temporary directory.
func sortBenchSpillRun(b *testing.B, op Operator, rows, limit int64) {
	ctx := mempool.WithPool(context.Background(), mempool.New(limit))
	ctx = spill.WithManager(ctx, spill.NewManager(b.TempDir()))
	b.ResetTimer()
	var st MemoryStats
	for range b.N {
		out, err := CollectAll(ctx, op)
		if err != nil {
			b.Fatal(err)
		}
		batchReleaseAll(out)
		st = op.(MemoryReporter).MemoryStats()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows)/float64(b.N), "ns/row")
	b.ReportMetric(float64(st.SpilledBytes)/(1<<20), "MiB-spilled")
}

// BenchmarkSortSpill1_5M is BenchmarkSort1_5M in a 32 MiB pool.
func BenchmarkSortSpill1_5M(b *testing.B) {
	schema, batches := sortBenchBatches(183)
	const rows = 1_500_000
	src := &sortBenchSource{schema: schema, batches: batches, total: rows}
	sortBenchSpillRun(b, NewSort(src, []SortKey{{Col: 0, Desc: true, NullsFirst: true}, {Col: 1}}), rows, 32<<20)
}
