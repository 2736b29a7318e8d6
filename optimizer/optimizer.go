package optimizer

import (
	"fmt"

	"github.com/flint-engine/flint/plan"
)

// Rule is one logical rewrite. Apply returns the rewritten plan and whether
// anything changed; it must keep n.Schema() (IDs, names, order) unchanged.
type Rule interface {
	Name() string
	Apply(n plan.Node, ctx *Context) (plan.Node, bool, error)
}

// Context carries what rules share while optimizing one plan.
type Context struct {
	// IDs allocates fresh column IDs for columns a rule introduces.
	IDs *plan.IDGen
	// Stats, when not nil, is asked about scans before row estimates fall
	// back to RowCount and selectivity guesses.
	Stats ScanStats
}

// ScanStats estimates the rows a scan reads from what only its storage
// knows — the row counts of the files its Filters leave once they prune
// Hive partitions — and reports which Filters that estimate accounts for
// (used[i] for s.Filters[i]). ok is false when it knows nothing better.
type ScanStats func(s *plan.Scan) (rows int64, used []bool, ok bool)

// maxIterations bounds each fixed-point batch of rules.
const maxIterations = 8

// Optimize runs every rule of the standard pipeline over n.
func Optimize(n plan.Node, ids *plan.IDGen) (plan.Node, error) {
	out, _, err := OptimizeTrace(n, ids)
	return out, err
}

// OptimizeTrace is Optimize that also returns, in order, the names of the
// rules that changed the plan (a rule firing in several iterations appears
// once per firing).
func OptimizeTrace(n plan.Node, ids *plan.IDGen) (plan.Node, []string, error) {
	return optimize(n, ids, nil)
}

// OptimizeWithStats is Optimize with row estimates that ask stats about
// scans first.
func OptimizeWithStats(n plan.Node, ids *plan.IDGen, stats ScanStats) (plan.Node, error) {
	out, _, err := optimize(n, ids, stats)
	return out, err
}

func optimize(n plan.Node, ids *plan.IDGen, stats ScanStats) (plan.Node, []string, error) {
	if ids == nil {
		ids = &plan.IDGen{}
	}
	ctx := &Context{IDs: ids, Stats: stats}
	want := n.Schema()
	var fired []string
	for _, b := range pipeline() {
		iters := 1
		if b.fixedPoint {
			iters = maxIterations
		}
		for i := 0; i < iters; i++ {
			changedAny := false
			for _, r := range b.rules {
				out, changed, err := r.Apply(n, ctx)
				if err != nil {
					return nil, fired, fmt.Errorf("optimizer rule %s: %w", r.Name(), err)
				}
				if changed {
					if !sameSchema(out.Schema(), want) {
						return nil, fired, fmt.Errorf("optimizer rule %s changed the output schema from %s to %s (bug)", r.Name(), want, out.Schema())
					}
					fired = append(fired, r.Name())
					changedAny = true
					n = out
				}
			}
			if !changedAny {
				break
			}
		}
	}
	return n, fired, nil
}

// Apply runs the given rules once each, in order; for tests and tools that
// want one rule in isolation.
func Apply(n plan.Node, ids *plan.IDGen, rules ...Rule) (plan.Node, []string, error) {
	if ids == nil {
		ids = &plan.IDGen{}
	}
	ctx := &Context{IDs: ids}
	var fired []string
	for _, r := range rules {
		out, changed, err := r.Apply(n, ctx)
		if err != nil {
			return nil, fired, fmt.Errorf("optimizer rule %s: %w", r.Name(), err)
		}
		if changed {
			fired = append(fired, r.Name())
			n = out
		}
	}
	return n, fired, nil
}

func sameSchema(a, b plan.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}
