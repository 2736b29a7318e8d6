package shuffle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
)

// MapOutputLocation says where a committed map output lives.
type MapOutputLocation struct {
	Address string // Flight address of the executor holding the files
	MapTask int
	Attempt int
}

// FetchFailedError reports a map output that could not be read (executor
// gone, file lost, corrupt data). The scheduler reruns exactly that map
// task, then retries the reducer.
type FetchFailedError struct {
	Address  string
	Exchange int
	MapTask  int
	Attempt  int
	Err      error
}

func (e *FetchFailedError) Error() string {
	return fmt.Sprintf("shuffle: fetch of exchange %d map task %d attempt %d from %s failed: %v", e.Exchange, e.MapTask, e.Attempt, e.Address, e.Err)
}

func (e *FetchFailedError) Unwrap() error { return e.Err }

// FetchFailures returns every FetchFailedError in err's tree (RemoteReader
// joins one per failed map output).
func FetchFailures(err error) []*FetchFailedError {
	var out []*FetchFailedError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if f, ok := err.(*FetchFailedError); ok {
			out = append(out, f)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// fetchParallelism bounds the map outputs one Read fetches at once: enough
// to hide per-stream latency, few enough to keep memory to a handful of
// in-flight batches per reducer.
const fetchParallelism = 4

// RemoteReader reads one partition of an exchange from map outputs spread
// over executors: outputs whose address is the local executor's are read
// from disk directly, others are fetched with Flight DoGet. It keeps one
// gRPC connection per address until Close. Safe for concurrent use.
type RemoteReader struct {
	workDir   string
	job       string
	localAddr string

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// NewRemoteReader returns a reader for job's shuffle data. localAddress is
// this executor's own Flight address; outputs at that address are read
// from workDir.
func NewRemoteReader(workDir, jobID, localAddress string) *RemoteReader {
	return &RemoteReader{workDir: workDir, job: jobID, localAddr: localAddress, conns: map[string]*grpc.ClientConn{}}
}

// Read returns the batches of partition from every location, grouped by
// map task in map task order. Batches are decoded with the allocator of
// ctx; the caller owns them. Up to fetchParallelism outputs are read
// concurrently. If some outputs cannot be read, Read releases
// everything and returns the FetchFailedErrors of all of them joined (see
// FetchFailures); a cancelled ctx returns ctx's error instead.
func (r *RemoteReader) Read(ctx context.Context, exchange, partition int, locs []MapOutputLocation) ([][]arrow.RecordBatch, error) {
	locs = slices.Clone(locs)
	slices.SortStableFunc(locs, func(a, b MapOutputLocation) int { return a.MapTask - b.MapTask })
	out := make([][]arrow.RecordBatch, len(locs))
	errs := make([]error, len(locs))
	sem := make(chan struct{}, fetchParallelism)
	var wg sync.WaitGroup
	for i, loc := range locs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done(): // no more fetches; ctx's error below
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			id := MapOutputID{Job: r.job, Exchange: exchange, MapTask: loc.MapTask, Attempt: loc.Attempt}
			if loc.Address == r.localAddr {
				out[i], errs[i] = readLocal(r.workDir, id, partition, compute.GetAllocator(ctx))
			} else {
				out[i], errs[i] = r.fetch(ctx, loc.Address, Ticket{MapOutputID: id, Partition: partition})
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		releaseParts(out)
		return nil, err
	}
	var failures []error
	for i, err := range errs {
		if err != nil {
			loc := locs[i]
			failures = append(failures, &FetchFailedError{Address: loc.Address, Exchange: exchange, MapTask: loc.MapTask, Attempt: loc.Attempt, Err: err})
		}
	}
	if len(failures) > 0 {
		releaseParts(out)
		return nil, errors.Join(failures...)
	}
	return out, nil
}

func (r *RemoteReader) fetch(ctx context.Context, addr string, t Ticket) ([]arrow.RecordBatch, error) {
	cc, err := r.conn(addr)
	if err != nil {
		return nil, err
	}
	s, err := Fetch(ctx, flight.NewFlightServiceClient(cc), t)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []arrow.RecordBatch
	for {
		b, err := s.Next()
		if err != nil {
			releaseBatches(out)
			return nil, err
		}
		if b == nil {
			return out, nil
		}
		out = append(out, b)
	}
}

func (r *RemoteReader) conn(addr string) (*grpc.ClientConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cc, ok := r.conns[addr]; ok {
		return cc, nil
	}
	cc, err := grpc.NewClient(addr, DialOptions()...)
	if err != nil {
		return nil, err
	}
	r.conns[addr] = cc
	return cc, nil
}

// Close closes the cached connections.
func (r *RemoteReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for addr, cc := range r.conns {
		if err := cc.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(r.conns, addr)
	}
	return errors.Join(errs...)
}

// Open returns one stream per location of partition, in map task order.
// Nothing is fetched before a stream's first Next: outputs at the local
// address are then read from disk, others fetched with Flight DoGet. A map
// output that cannot be read, when opened or midway, fails Next with a
// *FetchFailedError (ctx's error when ctx ended).
func (r *RemoteReader) Open(ctx context.Context, exchange, partition int, locs []MapOutputLocation) []Stream {
	locs = slices.Clone(locs)
	slices.SortStableFunc(locs, func(a, b MapOutputLocation) int { return a.MapTask - b.MapTask })
	out := make([]Stream, len(locs))
	for i, loc := range locs {
		out[i] = &remoteStream{r: r, loc: loc, exchange: exchange, partition: partition}
	}
	return out
}

// remoteStream reads one partition of one map output, wherever it is.
type remoteStream struct {
	r         *RemoteReader
	loc       MapOutputLocation
	exchange  int
	partition int

	local   Stream
	fetched *BatchStream
	started bool
	done    bool
}

func (s *remoteStream) fail(ctx context.Context, err error) error {
	s.Close()
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return &FetchFailedError{Address: s.loc.Address, Exchange: s.exchange, MapTask: s.loc.MapTask, Attempt: s.loc.Attempt, Err: err}
}

func (s *remoteStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.done {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.started {
		s.started = true
		id := MapOutputID{Job: s.r.job, Exchange: s.exchange, MapTask: s.loc.MapTask, Attempt: s.loc.Attempt}
		if s.loc.Address == s.r.localAddr {
			s.local = OpenLocal(s.r.workDir, id, s.partition, compute.GetAllocator(ctx))
		} else {
			cc, err := s.r.conn(s.loc.Address)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			st, err := Fetch(ctx, flight.NewFlightServiceClient(cc), Ticket{MapOutputID: id, Partition: s.partition})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			s.fetched = st
		}
	}
	var b arrow.RecordBatch
	var err error
	if s.local != nil {
		b, err = s.local.Next(ctx)
	} else {
		b, err = s.fetched.Next()
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if b == nil {
		s.Close()
	}
	return b, nil
}

func (s *remoteStream) Close() {
	s.done = true
	if s.local != nil {
		s.local.Close()
		s.local = nil
	}
	if s.fetched != nil {
		s.fetched.Close()
		s.fetched = nil
	}
}
