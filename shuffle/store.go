package shuffle

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
)

// Store keeps the output of exchanges. Exchanges are identified by the ID
// of the stage that produces them. Producer tasks stream their output into
// a Writer; consumer tasks stream a partition back through Streams. No
// store needs a task's whole output, or a whole partition, in memory.
type Store interface {
	// Create starts the output of one producer task with partitions
	// partitions. Nothing is visible to readers before Commit; a later
	// committed output of the same task replaces an earlier one (a retried
	// attempt).
	Create(ctx context.Context, exchange, task, partitions int) (Writer, error)
	// Open returns one stream per producer task of partition p, in task
	// order. It reads nothing: data is read as the streams are consumed.
	Open(ctx context.Context, exchange, partition int) ([]Stream, error)
	// Drop releases an exchange's data once no stage needs it.
	Drop(exchange int)
}

// Writer receives one producer task's output. Used by one goroutine.
type Writer interface {
	// Write appends b to partition p. The writer takes ownership of b
	// (it releases it), also when Write fails.
	Write(ctx context.Context, p int, b arrow.RecordBatch) error
	// Commit makes the output visible to readers.
	Commit(ctx context.Context) error
	// Abort drops everything written. A no-op after Commit; safe to call
	// more than once.
	Abort()
}

// Stream is one producer task's part of one partition.
type Stream interface {
	// Next returns the next batch, owned by the caller, or (nil, nil) at
	// the end.
	Next(ctx context.Context) (arrow.RecordBatch, error)
	// Close releases what the stream holds. Idempotent.
	Close()
}

// PutAll writes parts (parts[p]: partition p's batches, released) as the
// committed output of task.
func PutAll(ctx context.Context, s Store, exchange, task int, parts [][]arrow.RecordBatch) error {
	w, err := s.Create(ctx, exchange, task, len(parts))
	if err != nil {
		releaseParts(parts)
		return err
	}
	for p, bs := range parts {
		for i, b := range bs {
			if err := w.Write(ctx, p, b); err != nil {
				releaseBatches(bs[i+1:])
				releaseParts(parts[p+1:])
				w.Abort()
				return err
			}
		}
	}
	if err := w.Commit(ctx); err != nil {
		w.Abort()
		return err
	}
	return nil
}

// ReadAll reads partition p of an exchange whole: its batches grouped by
// producer task, in task order. For tests and small results.
func ReadAll(ctx context.Context, s Store, exchange, partition int) ([][]arrow.RecordBatch, error) {
	streams, err := s.Open(ctx, exchange, partition)
	if err != nil {
		return nil, err
	}
	return drainStreams(ctx, streams)
}

// drainStreams reads every stream whole and closes them all.
func drainStreams(ctx context.Context, streams []Stream) ([][]arrow.RecordBatch, error) {
	defer func() {
		for _, st := range streams {
			st.Close()
		}
	}()
	out := make([][]arrow.RecordBatch, len(streams))
	for i, st := range streams {
		for {
			b, err := st.Next(ctx)
			if err != nil {
				releaseParts(out)
				return nil, err
			}
			if b == nil {
				break
			}
			out[i] = append(out[i], b)
		}
	}
	return out, nil
}

// sliceStream serves batches it holds a reference to.
type sliceStream struct {
	batches []arrow.RecordBatch
}

func (s *sliceStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if len(s.batches) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := s.batches[0]
	s.batches[0] = nil
	s.batches = s.batches[1:]
	return b, nil
}

func (s *sliceStream) Close() {
	releaseBatches(s.batches)
	s.batches = nil
}

var errWriterDone = errors.New("shuffle: write after commit or abort")

func releaseParts(parts [][]arrow.RecordBatch) {
	for _, bs := range parts {
		releaseBatches(bs)
	}
}
