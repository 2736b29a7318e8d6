package exec

import "testing"

// BenchmarkWindow1M computes row_number and a running sum over 1M rows
// partitioned by date (2,500 partitions) ordered by price DESC.
func BenchmarkWindow1M(b *testing.B) {
	schema, batches := sortBenchBatches(123)
	const rows = 1_000_000
	src := &sortBenchSource{schema: schema, batches: batches, total: rows}
	byPrice := []SortKey{{Col: 0, Desc: true, NullsFirst: true}}
	op, err := NewWindow(src, []WindowSpec{
		{Func: WinRowNumber, Arg: -1, PartitionBy: []int{1}, OrderBy: byPrice},
		{Func: WinSum, Arg: 0, PartitionBy: []int{1}, OrderBy: byPrice},
	})
	if err != nil {
		b.Fatal(err)
	}
	sortBenchRun(b, op, rows)
}

// BenchmarkWindowFewPartitions1M ranks 1M rows within 3 partitions.
func BenchmarkWindowFewPartitions1M(b *testing.B) {
	schema, batches := sortBenchBatches(123)
	const rows = 1_000_000
	src := &sortBenchSource{schema: schema, batches: batches, total: rows}
	op, err := NewWindow(src, []WindowSpec{
		{Func: WinRank, Arg: -1, PartitionBy: []int{3}, OrderBy: []SortKey{{Col: 1}, {Col: 2}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	sortBenchRun(b, op, rows)
}

// BenchmarkWindowSpill1M is BenchmarkWindow1M in a 32 MiB pool.
func BenchmarkWindowSpill1M(b *testing.B) {
	schema, batches := sortBenchBatches(123)
	const rows = 1_000_000
	src := &sortBenchSource{schema: schema, batches: batches, total: rows}
	byPrice := []SortKey{{Col: 0, Desc: true, NullsFirst: true}}
	op, err := NewWindow(src, []WindowSpec{
		{Func: WinRowNumber, Arg: -1, PartitionBy: []int{1}, OrderBy: byPrice},
		{Func: WinSum, Arg: 0, PartitionBy: []int{1}, OrderBy: byPrice},
	})
	if err != nil {
		b.Fatal(err)
	}
	sortBenchSpillRun(b, op, rows, 32<<20)
}
