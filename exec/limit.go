package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// limitOp skips offset rows, then passes at most count rows, and stops
// pulling its input as soon as count rows were produced.
type limitOp struct {
	input   Operator
	offset  int64
	count   int64 // < 0: unlimited
	skipped int64
	emitted int64
	done    bool
}

var _ Operator = (*limitOp)(nil)

// NewLimit returns an operator implementing OFFSET offset LIMIT count;
// count < 0 means no limit. Negative offsets are treated as 0.
func NewLimit(input Operator, offset, count int64) Operator {
	return &limitOp{input: input, offset: max(offset, 0), count: count}
}

func (l *limitOp) Schema() *arrow.Schema { return l.input.Schema() }

func (l *limitOp) Open(ctx context.Context) error {
	l.skipped, l.emitted, l.done = 0, 0, l.count == 0
	return l.input.Open(ctx)
}

func (l *limitOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for !l.done {
		b, err := l.input.Next(ctx)
		if err != nil || b == nil {
			l.done = b == nil && err == nil
			return nil, err
		}
		n := b.NumRows()
		lo := int64(0)
		if l.skipped < l.offset {
			lo = min(n, l.offset-l.skipped)
			l.skipped += lo
		}
		hi := n
		if l.count >= 0 {
			hi = min(n, lo+(l.count-l.emitted))
		}
		if hi <= lo {
			b.Release()
			continue
		}
		l.emitted += hi - lo
		if l.count >= 0 && l.emitted >= l.count {
			l.done = true
		}
		if lo == 0 && hi == n {
			return b, nil
		}
		out := b.NewSlice(lo, hi)
		b.Release()
		return out, nil
	}
	return nil, nil
}

func (l *limitOp) Close() error { return l.input.Close() }
