package connectors

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// checkedCtx returns a context whose allocator is checked at test end.
func checkedCtx(t *testing.T) context.Context {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return compute.WithAllocator(context.Background(), mem)
}

// readAll reads every split of src and returns the batches (caller
// releases) and the total rows.
func readSplit(t *testing.T, ctx context.Context, src Source, sp Split, cols []int, batch int) ([]arrow.RecordBatch, error) {
	t.Helper()
	rr, err := src.Open(ctx, sp, cols, batch)
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	var out []arrow.RecordBatch
	for {
		rec, err := rr.Next(ctx)
		if err != nil {
			for _, r := range out {
				r.Release()
			}
			return nil, err
		}
		if rec == nil {
			return out, nil
		}
		if rec.NumRows() > int64(batch) {
			t.Errorf("batch of %d rows exceeds batch size %d", rec.NumRows(), batch)
		}
		out = append(out, rec)
	}
}

func readAll(t *testing.T, ctx context.Context, src Source, cols []int, batch, target int) []arrow.RecordBatch {
	t.Helper()
	splits, err := src.Splits(ctx, nil, target)
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for _, sp := range splits {
		recs, err := readSplit(t, ctx, src, sp, cols, batch)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
	}
	return out
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
