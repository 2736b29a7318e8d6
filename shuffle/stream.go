package shuffle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// OpenLocal returns a stream over partition of a committed map output in
// workDir. The files are opened on the first Next.
func OpenLocal(workDir string, id MapOutputID, partition int, mem memory.Allocator) Stream {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &fileStream{workDir: workDir, id: id, partition: partition, mem: mem}
}

// fileStream decodes one partition of a map output file batch by batch.
type fileStream struct {
	workDir   string
	id        MapOutputID
	partition int
	mem       memory.Allocator

	f       *MapOutputFile
	rd      *ipc.Reader
	started bool
	done    bool
}

func (s *fileStream) Next(ctx context.Context) (b arrow.RecordBatch, err error) {
	if s.done {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer func() {
		// Corrupt flatbuffers can panic deep inside arrow's decoder.
		if r := recover(); r != nil {
			s.Close()
			b, err = nil, fmt.Errorf("shuffle: %s partition %d: corrupt IPC stream: %v", s.id, s.partition, r)
		}
	}()
	if !s.started {
		s.started = true
		f, err := OpenMapOutput(s.workDir, s.id)
		if err != nil {
			s.done = true
			return nil, err
		}
		s.f = f
		sec, size, err := f.Section(s.partition)
		if err != nil || size == 0 {
			s.Close()
			return nil, err
		}
		rd, err := ipc.NewReader(bufio.NewReaderSize(sec, int(min(size, 256<<10))), ipc.WithAllocator(s.mem))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("shuffle: %s partition %d: %w", s.id, s.partition, err)
		}
		s.rd = rd
	}
	if s.rd.Next() {
		b := s.rd.RecordBatch()
		b.Retain()
		return b, nil
	}
	err = s.rd.Err()
	s.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("shuffle: %s partition %d: %w", s.id, s.partition, err)
	}
	return nil, nil
}

func (s *fileStream) Close() {
	s.done = true
	if s.rd != nil {
		s.rd.Release()
		s.rd = nil
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}
