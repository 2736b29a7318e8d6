// Package planner turns a bound logical plan into a stage plan: optimize,
// lower to a physical plan, cut at exchanges. It is the one compile
// pipeline shared by local sessions and the cluster driver, which receives
// logical plans over the wire and must plan them exactly as local mode does.
//
// It must not execute anything.
package planner

import (
	"strings"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/optimizer"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
)

// Options are the planning knobs of a session.
type Options struct {
	// Partitions is the number of partitions shuffles produce.
	Partitions int
	// BroadcastRows is the estimated row count at or below which a join's
	// build side is broadcast.
	BroadcastRows float64
	// Stats, when set, improves row estimates of scans (optimizer.ScanStats).
	Stats optimizer.ScanStats
	// Write, when set, makes the query a dataset write: a physical.Write
	// at the root of the final stage, whose tasks write their rows into
	// files.
	Write *connectors.WriteSpec
}

// Compiled is a query ready to run, with every intermediate form kept for
// EXPLAIN.
type Compiled struct {
	Logical   plan.Node
	Optimized plan.Node
	Physical  physical.Node
	Stages    *physical.StagePlan
}

// Compile optimizes n and cuts its physical plan into stages. ids must not
// hand out IDs already used in n (for a plan decoded from the wire, call
// ids.Reserve with its highest ID first).
func Compile(n plan.Node, ids *plan.IDGen, o Options) (*Compiled, error) {
	opt, err := optimizer.OptimizeWithStats(n, ids, o.Stats)
	if err != nil {
		return nil, err
	}
	phys, err := physical.Plan(opt, ids, physical.Options{
		Partitions:    o.Partitions,
		BroadcastRows: o.BroadcastRows,
		Estimate:      func(n plan.Node) float64 { return optimizer.EstimateRowsWith(n, o.Stats) },
	})
	if err != nil {
		return nil, err
	}
	if o.Write != nil {
		phys = &physical.Write{Input: phys, Spec: *o.Write}
	}
	phys = physical.ReuseExchanges(phys)
	stages, err := physical.Cut(phys)
	if err != nil {
		return nil, err
	}
	return &Compiled{Logical: n, Optimized: opt, Physical: phys, Stages: stages}, nil
}

// Explain renders the logical, optimized and physical plans and stages.
func (c *Compiled) Explain() string {
	var b strings.Builder
	b.WriteString("== Logical plan ==\n")
	b.WriteString(plan.Format(c.Logical))
	b.WriteString("\n== Optimized plan ==\n")
	b.WriteString(plan.Format(c.Optimized))
	b.WriteString("\n== Physical plan ==\n")
	b.WriteString(physical.Format(c.Physical))
	b.WriteString("\n== Stages ==\n")
	b.WriteString(c.Stages.Format())
	return b.String()
}
