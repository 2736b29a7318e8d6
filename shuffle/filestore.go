package shuffle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// Create implements Store: it starts the next attempt of the map task,
// which replaces any earlier one when it commits.
func (s *FileStore) Create(ctx context.Context, exchange, task, partitions int) (Writer, error) {
	s.mu.Lock()
	key := [2]int{exchange, task}
	attempt := s.next[key]
	s.next[key] = attempt + 1
	s.mu.Unlock()
	return s.CreateAttempt(ctx, exchange, task, attempt, partitions)
}

// CreateAttempt starts the output of a given attempt of a map task. When
// it commits, output of an attempt older than the one already committed
// is stale: it is discarded and Commit returns nil. The allocator of ctx
// (compute.WithAllocator) is used for compression buffers.
func (s *FileStore) CreateAttempt(ctx context.Context, exchange, task, attempt, partitions int) (*FileStoreWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := MapOutputID{Job: s.job, Exchange: exchange, MapTask: task, Attempt: attempt}
	fw, err := CreateMapOutput(s.workDir, id, partitions, s.codec, compute.GetAllocator(ctx))
	if err != nil {
		return nil, err
	}
	return &FileStoreWriter{s: s, id: id, w: fw}, nil
}

// FileStoreWriter streams one map task attempt's output into its files.
type FileStoreWriter struct {
	s     *FileStore
	id    MapOutputID
	w     *FileWriter
	rows  int64
	bytes int64 // data file size after commit
}

// Write implements Writer.
func (w *FileStoreWriter) Write(_ context.Context, p int, b arrow.RecordBatch) error {
	defer b.Release()
	w.rows += b.NumRows()
	return w.w.Write(p, b)
}

// Rows is the number of rows written.
func (w *FileStoreWriter) Rows() int64 { return w.rows }

// Bytes is the size of the committed data file (0 before Commit, or when
// the attempt was stale).
func (w *FileStoreWriter) Bytes() int64 { return w.bytes }

// Commit implements Writer.
func (w *FileStoreWriter) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		w.w.Abort()
		return err
	}
	s, id := w.s, w.id
	exchange, task, attempt := id.Exchange, id.MapTask, id.Attempt
	s.mu.Lock()
	old, had := s.outputs[exchange][task]
	s.mu.Unlock()
	if had && attempt < old {
		w.w.Abort()
		return nil
	}
	x, err := w.w.Commit()
	if err != nil {
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
	for _, p := range x.Partitions {
		w.bytes += p.Length()
	}
	return nil
}

// Abort implements Writer.
func (w *FileStoreWriter) Abort() { w.w.Abort() }

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

// Open implements Store: partition's streams, one per committed map
// task in task order, decoded with the allocator of ctx.
func (s *FileStore) Open(ctx context.Context, exchange, partition int) ([]Stream, error) {
	mem := compute.GetAllocator(ctx)
	ids := s.Outputs(exchange)
	out := make([]Stream, len(ids))
	for i, id := range ids {
		out[i] = OpenLocal(s.workDir, id, partition, mem)
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

// RemoveJobExcept removes a job's shuffle files but exchange keep's
// (served as before: a later driver may fetch them); RemoveJob removes
// them later. Spill files and other exchanges go at once.
func (s *FileStore) RemoveJobExcept(jobID string, keep int) error {
	if err := validateJobID(jobID); err != nil {
		return err
	}
	if jobID == s.job {
		s.mu.Lock()
		for x := range s.outputs {
			if x != keep {
				delete(s.outputs, x)
			}
		}
		s.mu.Unlock()
	}
	dir := JobDir(s.workDir, jobID)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("shuffle: remove job %q: %w", jobID, err)
	}
	kept := filepath.Base(ExchangeDir(s.workDir, jobID, keep))
	var errs []error
	for _, e := range entries {
		if e.Name() != kept {
			errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shuffle: remove job %q: %w", jobID, err)
	}
	return nil
}

// RemoveJobDir removes what is left of an ended job's files in workDir
// (an exchange RemoveJobExcept kept).
func RemoveJobDir(workDir, jobID string) error {
	if err := validateJobID(jobID); err != nil {
		return err
	}
	if err := os.RemoveAll(JobDir(workDir, jobID)); err != nil {
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
