package exec_test

import (
	"context"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
	"github.com/flint-engine/flint/types"
)

// filterBenchInput is one 8192-row batch (int64, string, decimal, bool,
// date) and a predicate keeping about half of the rows.
func filterBenchInput(b *testing.B) (arrow.RecordBatch, exec.Expr) {
	r := rand.New(rand.NewSource(1))
	batches := filterBuild(memory.NewGoAllocator(), filterRandRows(r, 8192), 8192)
	five, _ := expr.Lit(int64(5), arrow.PrimitiveTypes.Int64)
	pred, err := expr.Compare(">=", expr.Col(0, arrow.PrimitiveTypes.Int64, "k"), five)
	if err != nil {
		b.Fatal(err)
	}
	return batches[0], pred
}

func BenchmarkFilter(b *testing.B) {
	batch, pred := filterBenchInput(b)
	defer batch.Release()
	ctx := context.Background()
	src := &filterTestSource{schema: filterSchema, batches: []arrow.RecordBatch{batch}}
	op := exec.NewFilter(src, pred)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src.pos = 0
		out, err := op.Next(ctx)
		if err != nil || out == nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*8192), "ns/row")
}

// BenchmarkFilterArrowCompute is the same work through arrow's compute
// Filter, for comparison. Arrow has no Decimal64 kernels: the decimal
// column is widened to a Decimal128 first (as before Flint had Decimal64).
func BenchmarkFilterArrowCompute(b *testing.B) {
	batch, pred := filterBenchInput(b)
	defer batch.Release()
	ctx := context.Background()
	if dt := batch.Column(2).DataType(); dt.ID() == arrow.DECIMAL64 {
		p, s := types.DecimalParams(dt)
		w, err := expr.Cast(expr.Col(2, dt, "d"), types.Decimal128(p, s))
		if err != nil {
			b.Fatal(err)
		}
		wide, err := w.Eval(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		cols := append([]arrow.Array{}, batch.Columns()...)
		cols[2] = wide
		fields := batch.Schema().Fields()
		fields[2].Type = wide.DataType()
		nb := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, batch.NumRows())
		wide.Release()
		batch = nb // the original is released by the defer above
		defer nb.Release()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mask, err := pred.Eval(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		out, err := compute.FilterRecordBatch(ctx, batch, mask, compute.DefaultFilterOptions())
		if err != nil {
			b.Fatal(err)
		}
		mask.Release()
		out.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*8192), "ns/row")
}
