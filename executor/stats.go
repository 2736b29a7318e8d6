package executor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/physical"
)

// Stats collects what the operators of a query did (EXPLAIN ANALYZE):
// per physical plan node, summed over the tasks that ran it. Safe for
// concurrent use by the tasks of a query.
type Stats struct {
	mu    sync.Mutex
	nodes map[physical.Node]*OpStats

	// Set by the driver when the query ends.
	Wall            time.Duration
	PoolPeak        int64 // the memory pool's peak while the query ran
	SpilledBytes    int64 // operators' spill files
	ExchangeSpilled int64 // exchange data written to files
}

// OpStats is one plan node's figures.
type OpStats struct {
	Tasks   int
	Rows    int64         // rows it returned
	Batches int64         // batches it returned
	Time    time.Duration // time in its Next calls, its inputs' included
	exec.MemoryStats
}

// NewStats returns an empty collector.
func NewStats() *Stats { return &Stats{nodes: map[physical.Node]*OpStats{}} }

type statsKey struct{}

// WithStats returns a context whose tasks record into st.
func WithStats(ctx context.Context, st *Stats) context.Context {
	return context.WithValue(ctx, statsKey{}, st)
}

// StatsOf returns the collector of ctx, nil if the query is not analyzed.
func StatsOf(ctx context.Context) *Stats {
	st, _ := ctx.Value(statsKey{}).(*Stats)
	return st
}

// Node returns n's figures (zero if it never ran).
func (s *Stats) Node(n physical.Node) OpStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.nodes[n]; o != nil {
		return *o
	}
	return OpStats{}
}

func (s *Stats) add(n physical.Node, o *OpStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.nodes[n]
	if t == nil {
		t = &OpStats{}
		s.nodes[n] = t
	}
	t.Tasks++
	t.Rows += o.Rows
	t.Batches += o.Batches
	t.Time += o.Time
	t.PeakBytes = max(t.PeakBytes, o.PeakBytes)
	t.SpilledBytes += o.SpilledBytes
	t.SpillFiles += o.SpillFiles
}

// Totals sums the peak reservations (an upper bound of the peak memory
// of a task that ran every node at once) and the bytes spilled of every
// node.
func (s *Stats) Totals() (peak, spilled int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.nodes {
		peak += o.PeakBytes
		spilled += o.SpilledBytes
	}
	return peak, spilled
}

// Annotate renders n's figures for a plan line; the time shown is the
// node's own, its inputs' (children's) time taken out.
func (s *Stats) Annotate(n physical.Node) string {
	o := s.Node(n)
	if o.Tasks == 0 {
		return ""
	}
	own := o.Time
	for _, ch := range n.Children() {
		own -= s.Node(ch).Time
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rows=%d batches=%d time=%s tasks=%d", o.Rows, o.Batches, max(own, 0).Round(time.Microsecond), o.Tasks)
	if o.PeakBytes > 0 {
		fmt.Fprintf(&b, " peak=%s", mempool.FormatBytes(o.PeakBytes))
	}
	if o.SpilledBytes > 0 {
		fmt.Fprintf(&b, " spilled=%s in %d files", mempool.FormatBytes(o.SpilledBytes), o.SpillFiles)
	}
	return b.String()
}

// statsOp measures the operator built for one plan node in one task.
type statsOp struct {
	exec.Operator
	node  physical.Node
	st    *Stats
	o     OpStats
	saved bool
}

func (s *statsOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	start := time.Now()
	b, err := s.Operator.Next(ctx)
	s.o.Time += time.Since(start)
	if b != nil {
		s.o.Rows += b.NumRows()
		s.o.Batches++
	}
	return b, err
}

func (s *statsOp) Open(ctx context.Context) error {
	start := time.Now()
	err := s.Operator.Open(ctx)
	s.o.Time += time.Since(start)
	return err
}

func (s *statsOp) Close() error {
	err := s.Operator.Close()
	if !s.saved {
		s.saved = true
		if r, ok := s.Operator.(exec.MemoryReporter); ok {
			s.o.MemoryStats = r.MemoryStats()
		}
		s.st.add(s.node, &s.o)
	}
	return err
}
