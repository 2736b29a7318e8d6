package shuffle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FileStore is a Store backed by Arrow IPC shuffle files under
// <workDir>/<job>, for one process. Put writes one data file and index per
// map task attempt; Read reads committed local files directly.
//
// The store remembers which attempt of each map task it committed; the
// files on disk of other attempts are never read. Safe for concurrent use.
type FileStore struct {
	workDir string
	job     string
	codec   Codec

	mu      sync.Mutex
	outputs map[int]map[int]int // exchange -> map task -> committed attempt
	next    map[[2]int]int      // {exchange, map task} -> next attempt Put assigns
}

// FileStoreOption configures a FileStore.
type FileStoreOption func(*FileStore)

// WithCodec sets the IPC body compression (default CodecLZ4).
func WithCodec(c Codec) FileStoreOption { return func(s *FileStore) { s.codec = c } }

// NewFileStore returns a store writing under <workDir>/<jobID>, creating
// the directory.
func NewFileStore(workDir, jobID string, opts ...FileStoreOption) (*FileStore, error) {
	if err := validateJobID(jobID); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(JobDir(workDir, jobID), 0o755); err != nil {
		return nil, fmt.Errorf("shuffle: work dir: %w", err)
	}
	s := &FileStore{workDir: workDir, job: jobID, outputs: map[int]map[int]int{}, next: map[[2]int]int{}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// WorkDir returns the executor work dir the store writes under.
func (s *FileStore) WorkDir() string { return s.workDir }

// Job returns the job ID.
func (s *FileStore) Job() string { return s.job }

// Put implements Store: it commits the next attempt of the map task, which
// replaces any earlier one. Batches are released. The allocator of ctx
// (compute.WithAllocator) is used for compression buffers.
func (s *FileStore) Put(ctx context.Context, exchange, task int, parts [][]arrow.RecordBatch) error {
	s.mu.Lock()
	key := [2]int{exchange, task}
	attempt := s.next[key]
	s.next[key] = attempt + 1
	s.mu.Unlock()
	return s.PutAttempt(ctx, exchange, task, attempt, parts)
}

// PutAttempt commits the output of a given attempt of a map task. Output of
// an attempt older than the one already committed is stale: it is
// discarded and PutAttempt returns nil. Batches are released.
func (s *FileStore) PutAttempt(ctx context.Context, exchange, task, attempt int, parts [][]arrow.RecordBatch) error {
	defer releaseParts(parts)
	if err := ctx.Err(); err != nil {
		return err
	}
	id := MapOutputID{Job: s.job, Exchange: exchange, MapTask: task, Attempt: attempt}
	s.mu.Lock()
	old, had := s.outputs[exchange][task]
	s.mu.Unlock()
	if had && attempt < old {
		return nil
	}
	if _, err := WriteMapOutput(s.workDir, id, parts, s.codec, compute.GetAllocator(ctx)); err != nil {
		return err
	}
	s.mu.Lock()
	tasks := s.outputs[exchange]
	if tasks == nil {
		tasks = map[int]int{}
		s.outputs[exchange] = tasks
	}
	old, had = tasks[task]
	if had && attempt < old { // a newer attempt committed while we wrote
		s.mu.Unlock()
		removeMapOutput(s.workDir, id)
		return nil
	}
	tasks[task] = attempt
	if key := [2]int{exchange, task}; s.next[key] <= attempt {
		s.next[key] = attempt + 1
	}
	s.mu.Unlock()
	if had && old != attempt {
		removeMapOutput(s.workDir, MapOutputID{Job: s.job, Exchange: exchange, MapTask: task, Attempt: old})
	}
	return nil
}

// Outputs lists the committed map outputs of an exchange in map task
// order, e.g. to publish their locations to reducers on other executors.
func (s *FileStore) Outputs(exchange int) []MapOutputID {
	s.mu.Lock()
	defer s.mu.Unlock()
	tasks := s.outputs[exchange]
	out := make([]MapOutputID, 0, len(tasks))
	for t, a := range tasks {
		out = append(out, MapOutputID{Job: s.job, Exchange: exchange, MapTask: t, Attempt: a})
	}
	slices.SortFunc(out, func(a, b MapOutputID) int { return a.MapTask - b.MapTask })
	return out
}

// Read implements Store: partition's batches grouped by map task, in task
// order, decoded with the allocator of ctx.
func (s *FileStore) Read(ctx context.Context, exchange, partition int) ([][]arrow.RecordBatch, error) {
	mem := compute.GetAllocator(ctx)
	var out [][]arrow.RecordBatch
	for _, id := range s.Outputs(exchange) {
		if err := ctx.Err(); err != nil {
			releaseParts(out)
			return nil, err
		}
		bs, err := readLocal(s.workDir, id, partition, mem)
		if err != nil {
			releaseParts(out)
			return nil, err
		}
		out = append(out, bs)
	}
	return out, nil
}

func readLocal(workDir string, id MapOutputID, partition int, mem memory.Allocator) ([]arrow.RecordBatch, error) {
	f, err := OpenMapOutput(workDir, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadPartition(partition, mem)
}

// Drop implements Store: it forgets the exchange and removes its files.
func (s *FileStore) Drop(exchange int) {
	s.mu.Lock()
	delete(s.outputs, exchange)
	s.mu.Unlock()
	os.RemoveAll(ExchangeDir(s.workDir, s.job, exchange))
}

// RemoveJob removes every shuffle file of jobID under the store's work dir
// (normally the store's own job, when it ends). The store forgets its
// outputs if jobID is its own.
func (s *FileStore) RemoveJob(jobID string) error {
	if err := validateJobID(jobID); err != nil {
		return err
	}
	if jobID == s.job {
		s.mu.Lock()
		s.outputs = map[int]map[int]int{}
		s.mu.Unlock()
	}
	if err := os.RemoveAll(JobDir(s.workDir, jobID)); err != nil {
		return fmt.Errorf("shuffle: remove job %q: %w", jobID, err)
	}
	return nil
}

// CleanStale removes what earlier runs of an executor left in workDir:
// every job directory (committed output of jobs that did not end cleanly)
// and every uncommitted temporary file. Call it when an executor starts,
// before it accepts tasks. The work dir must belong to this executor alone;
// only entries whose names are valid job IDs are removed, anything else in
// workDir is left alone.
func CleanStale(workDir string) error {
	entries, err := os.ReadDir(workDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("shuffle: clean %s: %w", workDir, err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if (e.IsDir() && validateJobID(name) == nil) || strings.HasSuffix(name, tmpSuffix) {
			if err := os.RemoveAll(JobDir(workDir, name)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("shuffle: clean %s: %w", workDir, errors.Join(errs...))
	}
	return nil
}

func removeMapOutput(workDir string, id MapOutputID) {
	os.Remove(IndexPath(workDir, id))
	os.Remove(DataPath(workDir, id))
}

var _ Store = (*FileStore)(nil)
