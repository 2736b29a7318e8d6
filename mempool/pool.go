package mempool

import (
	"context"
	"fmt"
	"math"
	"sync"
)

// Pool is a memory budget shared by reservations. Safe for concurrent use.
type Pool struct {
	mu          sync.Mutex
	limit       int64 // math.MaxInt64: unlimited
	used        int64
	unspillable int64 // bytes held by reservations that cannot spill
	spillers    int   // registered reservations that can spill
	peak        int64
}

// New returns a pool of limit bytes; limit <= 0 means unlimited.
func New(limit int64) *Pool {
	if limit <= 0 {
		limit = math.MaxInt64
	}
	return &Pool{limit: limit}
}

// Limit is the pool's size in bytes (math.MaxInt64 when unlimited).
func (p *Pool) Limit() int64 { return p.limit }

// Unlimited reports whether the pool has no limit.
func (p *Pool) Unlimited() bool { return p.limit == math.MaxInt64 }

// Used is the bytes currently reserved.
func (p *Pool) Used() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used
}

// Peak is the most bytes ever reserved at once.
func (p *Pool) Peak() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// Register starts a reservation of zero bytes for the operator named name
// (it appears in errors and statistics, e.g. "HashJoin build"). A
// reservation that can spill gets at most an equal share of what the
// unspillable ones leave. Free it when the operator closes.
func (p *Pool) Register(name string, canSpill bool) *Reservation {
	if canSpill {
		p.mu.Lock()
		p.spillers++
		p.mu.Unlock()
	}
	return &Reservation{pool: p, name: name, canSpill: canSpill}
}

// Reservation is one operator's share of a pool. It is used by one
// goroutine at a time (the operator's); the pool it draws from is shared.
type Reservation struct {
	pool     *Pool
	name     string
	canSpill bool
	size     int64
	peak     int64
	freed    bool
}

// Name is the operator name given to Register.
func (r *Reservation) Name() string { return r.name }

// Size is the bytes the reservation holds.
func (r *Reservation) Size() int64 { return r.size }

// Peak is the most bytes the reservation ever held.
func (r *Reservation) Peak() int64 { return r.peak }

// TryGrow adds n bytes to the reservation if the pool has room, else it
// returns a *LimitError and changes nothing. A spillable reservation also
// fails when it would exceed its fair share: (limit − unspillable bytes) /
// number of spillable reservations.
func (r *Reservation) TryGrow(n int64) error {
	if n <= 0 {
		return nil
	}
	p := r.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used+n > p.limit || p.used+n < p.used {
		return r.limitError(n)
	}
	if r.canSpill && p.spillers > 0 {
		share := (p.limit - p.unspillable) / int64(p.spillers)
		if r.size+n > share {
			return r.limitError(n)
		}
	}
	r.grow(n)
	return nil
}

// Grow adds n bytes to the reservation even past the limit. Use it for
// memory that is already allocated and cannot be given back (a batch that
// arrived); the next TryGrow of any reservation sees the pool as fuller.
func (r *Reservation) Grow(n int64) {
	if n <= 0 {
		return
	}
	r.pool.mu.Lock()
	r.grow(n)
	r.pool.mu.Unlock()
}

// grow needs r.pool.mu.
func (r *Reservation) grow(n int64) {
	p := r.pool
	r.size += n
	r.peak = max(r.peak, r.size)
	p.used += n
	p.peak = max(p.peak, p.used)
	if !r.canSpill {
		p.unspillable += n
	}
}

// Shrink gives n bytes back (at most what the reservation holds).
func (r *Reservation) Shrink(n int64) {
	n = min(n, r.size)
	if n <= 0 {
		return
	}
	p := r.pool
	p.mu.Lock()
	r.size -= n
	p.used -= n
	if !r.canSpill {
		p.unspillable -= n
	}
	p.mu.Unlock()
}

// Resize grows or shrinks the reservation to n bytes, with TryGrow's rules
// when it grows.
func (r *Reservation) Resize(n int64) error {
	if n > r.size {
		return r.TryGrow(n - r.size)
	}
	r.Shrink(r.size - n)
	return nil
}

// Free gives back everything and unregisters the reservation. Idempotent.
func (r *Reservation) Free() {
	if r == nil || r.freed {
		return
	}
	r.Shrink(r.size)
	r.freed = true
	if r.canSpill {
		r.pool.mu.Lock()
		r.pool.spillers--
		r.pool.mu.Unlock()
	}
}

func (r *Reservation) limitError(n int64) *LimitError {
	p := r.pool
	return &LimitError{Operator: r.name, Requested: n, Held: r.size, Limit: p.limit, Used: p.used}
}

// LimitError says an operator could not get the memory it needed.
type LimitError struct {
	Operator  string // the reservation's name
	Requested int64  // bytes asked for
	Held      int64  // bytes the reservation held
	Limit     int64  // the pool's limit
	Used      int64  // bytes reserved in the pool at the time
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("memory limit exceeded: %s needs %s more (it holds %s; %s of the operators' pool of %s in use); raise --memory-limit",
		e.Operator, FormatBytes(e.Requested), FormatBytes(e.Held), FormatBytes(e.Used), FormatBytes(e.Limit))
}

// FormatBytes renders n as B, KiB, MiB or GiB with one decimal.
func FormatBytes(n int64) string {
	switch {
	case n == math.MaxInt64:
		return "unlimited"
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

type poolKey struct{}

// WithPool returns a context whose operators reserve from p.
func WithPool(ctx context.Context, p *Pool) context.Context {
	return context.WithValue(ctx, poolKey{}, p)
}

// unlimited is the pool of contexts that carry none.
var unlimited = New(0)

// FromContext returns the pool of ctx, or an unlimited pool.
func FromContext(ctx context.Context) *Pool {
	if p, ok := ctx.Value(poolKey{}).(*Pool); ok && p != nil {
		return p
	}
	return unlimited
}
