package service

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/shuffle"
)

// taskStore is the shuffle.Store one task attempt sees: Put commits the
// attempt's own files (FileStore.PutAttempt, so a retry never overwrites
// what an older attempt committed), Read fetches a partition from the map
// output locations the driver put in the task. It counts what it moves
// for the task's metrics.
type taskStore struct {
	files   *shuffle.FileStore
	reader  *shuffle.RemoteReader
	attempt int
	inputs  map[int][]shuffle.MapOutputLocation

	readRows, readBytes   atomic.Int64
	writeRows, writeBytes atomic.Int64
}

// Put implements shuffle.Store for the task's own exchange output.
func (s *taskStore) Put(ctx context.Context, exchange, task int, parts [][]arrow.RecordBatch) error {
	rows, _ := countParts(parts)
	if err := s.files.PutAttempt(ctx, exchange, task, s.attempt, parts); err != nil {
		return err
	}
	s.writeRows.Add(rows)
	s.writeBytes.Add(s.committedBytes(exchange, task))
	return nil
}

// committedBytes is the size of the attempt's data file (compressed IPC),
// 0 if PutAttempt discarded it as stale.
func (s *taskStore) committedBytes(exchange, task int) int64 {
	id := shuffle.MapOutputID{Job: s.files.Job(), Exchange: exchange, MapTask: task, Attempt: s.attempt}
	fi, err := os.Stat(shuffle.DataPath(s.files.WorkDir(), id))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Read implements shuffle.Store over the task's input locations. A map
// output that cannot be read comes back as shuffle.FetchFailedError.
func (s *taskStore) Read(ctx context.Context, exchange, partition int) ([][]arrow.RecordBatch, error) {
	locs, ok := s.inputs[exchange]
	if !ok {
		return nil, fmt.Errorf("task has no input locations for exchange %d", exchange)
	}
	out, err := s.reader.Read(ctx, exchange, partition, locs)
	if err != nil {
		return nil, err
	}
	rows, bytes := countParts(out)
	s.readRows.Add(rows)
	s.readBytes.Add(bytes)
	return out, nil
}

// Drop implements shuffle.Store. Map outputs belong to the job, not to one
// task: they go when the job ends (EndJob).
func (s *taskStore) Drop(int) {}

// countParts returns the rows and the Arrow buffer bytes of parts.
func countParts(parts [][]arrow.RecordBatch) (rows, bytes int64) {
	for _, bs := range parts {
		for _, b := range bs {
			rows += b.NumRows()
			for _, c := range b.Columns() {
				bytes += dataSize(c.Data())
			}
		}
	}
	return rows, bytes
}

// dataSize sums the lengths of the buffers of d, its children and its
// dictionary (buffers shared by slices are counted whole).
func dataSize(d arrow.ArrayData) int64 {
	if d == nil {
		return 0
	}
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY { // else Dictionary may be a typed nil
		n += dataSize(d.Dictionary())
	}
	return n
}

var _ shuffle.Store = (*taskStore)(nil)
