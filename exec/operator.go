package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Operator is a pull-based, vectorized physical operator.
//
// Lifecycle: Open once, then Next until it returns a nil batch, then Close.
// Close must be idempotent and safe to call when Open never ran or failed.
// An Operator is used by one goroutine at a time; operators that fan out
// internally own their goroutines and stop them in Close.
type Operator interface {
	// Schema describes every batch Next returns. Valid before Open.
	Schema() *arrow.Schema
	// Open prepares the operator and opens its children.
	Open(ctx context.Context) error
	// Next returns the next batch, or (nil, nil) at end of stream. Batches
	// may have zero rows only if that is unavoidable; callers must tolerate
	// them. The caller owns the returned batch and must Release it.
	Next(ctx context.Context) (arrow.RecordBatch, error)
	// Close releases all resources and closes children.
	Close() error
}

// Expr is a physical (bound, typed) expression evaluated over a batch.
// Implementations live in package exec/expr; operators only need this
// interface (join residual filters, window arguments, projections).
type Expr interface {
	// DataType of the array Eval returns.
	DataType() arrow.DataType
	// Eval computes the expression for every row of batch. The result has
	// batch.NumRows() rows; the caller owns it and must Release it.
	Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error)
	String() string
}

// DefaultBatchSize is the number of rows operators aim for per batch.
const DefaultBatchSize = 8192

type batchSizeKey struct{}

// WithBatchSize returns a context that asks operators for batches of n rows.
// Tests use tiny sizes (1, 2, 3, 16) to exercise batch boundaries.
func WithBatchSize(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, batchSizeKey{}, n)
}

// BatchSize reports the batch size requested by ctx.
func BatchSize(ctx context.Context) int {
	if n, ok := ctx.Value(batchSizeKey{}).(int); ok && n > 0 {
		return n
	}
	return DefaultBatchSize
}

// WithAllocator returns a context carrying mem; every operator allocates
// Arrow buffers from Allocator(ctx), so tests can use a checked allocator.
func WithAllocator(ctx context.Context, mem memory.Allocator) context.Context {
	return compute.WithAllocator(ctx, mem)
}

// Allocator returns the allocator carried by ctx (default: Go allocator).
func Allocator(ctx context.Context) memory.Allocator {
	return compute.GetAllocator(ctx)
}

// MemoryStats is what an operator that holds data reports for EXPLAIN
// ANALYZE and task metrics.
type MemoryStats struct {
	PeakBytes    int64 // most bytes its memory reservation held at once
	SpilledBytes int64 // bytes it wrote to spill files
	SpillFiles   int64 // spill files it created
}

// MemoryReporter is implemented by operators that reserve memory (sort,
// aggregation, hash join, window). Valid after Close too.
type MemoryReporter interface {
	MemoryStats() MemoryStats
}
