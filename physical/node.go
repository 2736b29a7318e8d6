package physical

import (
	"fmt"
	"strings"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/plan"
)

// Node is a physical operator description.
type Node interface {
	// Schema lists the output columns (IDs as in the logical plan).
	Schema() plan.Schema
	Children() []Node
	// String describes the node alone, for EXPLAIN.
	String() string
}

// Scan reads Cols of a table. The task that runs it is handed its splits;
// Filter is applied exactly; Prune are the conjuncts usable for skipping
// row groups.
type Scan struct {
	Source *plan.TableSource
	Cols   []int
	Out    plan.Schema
	Filter plan.Expr
	Prune  []connectors.Predicate
}

// Values produces constant rows.
type Values struct {
	Rows [][]plan.Expr
	Out  plan.Schema
}

// Filter keeps rows where Cond is true.
type Filter struct {
	Input Node
	Cond  plan.Expr
}

// Project computes Exprs into Out.
type Project struct {
	Input Node
	Exprs []plan.Expr
	Out   plan.Schema
}

// AggMode says which phase of a two-phase aggregation a HashAgg runs.
type AggMode int

// Aggregation phases.
const (
	AggSingle  AggMode = iota // raw rows -> final values
	AggPartial                // raw rows -> per-group states
	AggFinal                  // states -> final values
)

func (m AggMode) String() string { return [...]string{"single", "partial", "final"}[m] }

// HashAgg groups by the columns Groups (references to input columns) and
// computes Aggs, whose arguments are input column references. In Final mode
// the input is the Partial output: group columns then state columns.
type HashAgg struct {
	Input  Node
	Mode   AggMode
	Groups []*plan.ColRef
	Aggs   []*plan.AggCall
	Out    plan.Schema
}

// HashJoin joins Left (probe) with Right (build) on equal keys; Residual is
// checked on candidate pairs. Broadcast means the right side arrives whole
// to every task through a broadcast exchange and is built once per process.
//
// KeepBuild marks a semi or anti join built on its preserved side: the
// plan's left (preserved) input is Right (the build side) and the plan's
// right input is Left (the probe side); the output is the build rows that
// found (semi) or did not find (anti) a match. Lowering picks it when the
// preserved side is the smaller one, so the hash table holds the small side.
//
// A mark join (plan.JoinMark) outputs the left columns and Mark. Its
// candidates are the build rows with equal keys passing Residual; MarkCond
// (nil: TRUE) is folded over them. NullAware mark joins have one key
// pair, which is the IN comparison itself (NULL keys make it unknown), and
// no MarkCond.
type HashJoin struct {
	Left, Right         Node
	Type                plan.JoinType
	LeftKeys, RightKeys []*plan.ColRef
	Residual            plan.Expr
	NullAware           bool
	Broadcast           bool
	KeepBuild           bool
	MarkCond            plan.Expr
	Mark                plan.Column
	Out                 plan.Schema
}

// NestedLoopJoin joins without equality keys (cross joins and theta joins).
// A mark join outputs the left columns and Mark, folding MarkCond over the
// pairs that pass Cond (see plan.JoinMark).
type NestedLoopJoin struct {
	Left, Right Node
	Type        plan.JoinType
	Cond        plan.Expr
	MarkCond    plan.Expr
	Mark        plan.Column
	Out         plan.Schema
}

// Sort orders its input by key columns; Limit >= 0 keeps only the first
// Limit rows (top-N).
type Sort struct {
	Input Node
	Keys  []SortKey
	Limit int64
}

// SortKey orders by a column reference.
type SortKey struct {
	Col        *plan.ColRef
	Desc       bool
	NullsFirst bool
}

// MergeSorted merges its input's partitions, each sorted by Keys; it sits
// directly above a gather Exchange whose producers sorted their partitions.
type MergeSorted struct {
	Input Node
	Keys  []SortKey
	Limit int64
}

// Limit skips Offset rows and keeps Count (Count < 0: all).
type Limit struct {
	Input         Node
	Offset, Count int64
}

// Union concatenates inputs with identical column types; Out names the
// output columns.
type Union struct {
	Inputs []Node
	Out    plan.Schema
}

// Window computes window functions over the input. Arguments, partition and
// order keys are input column references.
type Window struct {
	Input Node
	Funcs []*plan.WindowCall
	Out   plan.Schema
}

// Predict scores every input row with a model and appends its outputs
// (Kinds) to the input's columns; Features are computed from input
// columns. It runs in the stage of its input, one batch at a time.
type Predict struct {
	Input    Node
	Model    *plan.ModelRef
	Features []plan.Expr
	Kinds    []plan.PredictKind
	Out      plan.Schema
}

// ExchangeKind says how an Exchange redistributes rows.
type ExchangeKind int

// Exchange kinds.
const (
	// ExchangeHash sends each row to partition hash(Keys) mod Partitions.
	ExchangeHash ExchangeKind = iota
	// ExchangeSingle gathers every row into one partition.
	ExchangeSingle
	// ExchangeBroadcast gives every consumer task all rows.
	ExchangeBroadcast
	// ExchangeRoundRobin spreads batches evenly (no key).
	ExchangeRoundRobin
)

func (k ExchangeKind) String() string {
	return [...]string{"hash", "single", "broadcast", "round-robin"}[k]
}

// Exchange redistributes its input; the plan is cut into stages here.
type Exchange struct {
	Input      Node
	Kind       ExchangeKind
	Keys       []*plan.ColRef
	Partitions int
	// ID is set when the plan is cut into stages: the ID of the stage that
	// produces this exchange's data.
	ID int
}

func (n *Scan) Schema() plan.Schema           { return n.Out }
func (n *Values) Schema() plan.Schema         { return n.Out }
func (n *Filter) Schema() plan.Schema         { return n.Input.Schema() }
func (n *Project) Schema() plan.Schema        { return n.Out }
func (n *HashAgg) Schema() plan.Schema        { return n.Out }
func (n *HashJoin) Schema() plan.Schema       { return n.Out }
func (n *NestedLoopJoin) Schema() plan.Schema { return n.Out }
func (n *Sort) Schema() plan.Schema           { return n.Input.Schema() }
func (n *MergeSorted) Schema() plan.Schema    { return n.Input.Schema() }
func (n *Limit) Schema() plan.Schema          { return n.Input.Schema() }
func (n *Union) Schema() plan.Schema          { return n.Out }
func (n *Window) Schema() plan.Schema         { return n.Out }
func (n *Predict) Schema() plan.Schema        { return n.Out }
func (n *Exchange) Schema() plan.Schema       { return n.Input.Schema() }

func (n *Scan) Children() []Node           { return nil }
func (n *Values) Children() []Node         { return nil }
func (n *Filter) Children() []Node         { return []Node{n.Input} }
func (n *Project) Children() []Node        { return []Node{n.Input} }
func (n *HashAgg) Children() []Node        { return []Node{n.Input} }
func (n *HashJoin) Children() []Node       { return []Node{n.Left, n.Right} }
func (n *NestedLoopJoin) Children() []Node { return []Node{n.Left, n.Right} }
func (n *Sort) Children() []Node           { return []Node{n.Input} }
func (n *MergeSorted) Children() []Node    { return []Node{n.Input} }
func (n *Limit) Children() []Node          { return []Node{n.Input} }
func (n *Union) Children() []Node          { return n.Inputs }
func (n *Window) Children() []Node         { return []Node{n.Input} }
func (n *Predict) Children() []Node        { return []Node{n.Input} }
func (n *Exchange) Children() []Node       { return []Node{n.Input} }

func (n *Scan) String() string {
	names := make([]string, len(n.Out))
	for i, c := range n.Out {
		names[i] = c.Name
	}
	s := fmt.Sprintf("Scan %s %s [%s]", n.Source.Format, n.Source.Name, strings.Join(names, ", "))
	if n.Filter != nil {
		s += " filter=" + n.Filter.String()
	}
	if len(n.Prune) > 0 {
		s += fmt.Sprintf(" prune=%d", len(n.Prune))
	}
	return s
}
func (n *Values) String() string { return fmt.Sprintf("Values rows=%d", len(n.Rows)) }
func (n *Filter) String() string { return "Filter " + n.Cond.String() }
func (n *Project) String() string {
	parts := make([]string, len(n.Exprs))
	for i, e := range n.Exprs {
		parts[i] = e.String() + " AS " + n.Out[i].String()
	}
	return "Project " + strings.Join(parts, ", ")
}
func (n *HashAgg) String() string {
	g := make([]string, len(n.Groups))
	for i, c := range n.Groups {
		g[i] = c.String()
	}
	a := make([]string, len(n.Aggs))
	for i, c := range n.Aggs {
		a[i] = c.String()
	}
	return fmt.Sprintf("HashAggregate(%s) group=[%s] aggs=[%s]", n.Mode, strings.Join(g, ", "), strings.Join(a, ", "))
}
func (n *HashJoin) String() string {
	keys := make([]string, len(n.LeftKeys))
	for i := range n.LeftKeys {
		keys[i] = n.LeftKeys[i].String() + " = " + n.RightKeys[i].String()
	}
	s := fmt.Sprintf("HashJoin %s", n.Type)
	if n.KeepBuild {
		s += " (build preserved)"
	}
	if n.Broadcast {
		s += " broadcast"
	} else {
		s += " partitioned"
	}
	if n.NullAware {
		s += " null-aware"
	}
	s += " on " + strings.Join(keys, " AND ")
	if n.Residual != nil {
		s += " residual " + n.Residual.String()
	}
	return s + markString(n.Type, n.MarkCond, n.Mark, n.NullAware)
}

// markString describes what a mark join computes: " mark <cond> -> col".
func markString(t plan.JoinType, cond plan.Expr, mark plan.Column, nullAware bool) string {
	if t != plan.JoinMark {
		return ""
	}
	c := "TRUE"
	switch {
	case nullAware:
		c = "key IN"
	case cond != nil:
		c = cond.String()
	}
	return " mark " + c + " -> " + mark.String()
}
func (n *NestedLoopJoin) String() string {
	s := "NestedLoopJoin " + n.Type.String()
	if n.Cond != nil {
		s += " on " + n.Cond.String()
	}
	return s + markString(n.Type, n.MarkCond, n.Mark, false)
}
func sortKeys(keys []SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.Col.String()
		if k.Desc {
			parts[i] += " DESC"
		}
		if k.NullsFirst {
			parts[i] += " NULLS FIRST"
		}
	}
	return strings.Join(parts, ", ")
}
func (n *Sort) String() string {
	if n.Limit >= 0 {
		return fmt.Sprintf("TopN %d by %s", n.Limit, sortKeys(n.Keys))
	}
	return "Sort " + sortKeys(n.Keys)
}
func (n *MergeSorted) String() string {
	s := "MergeSorted " + sortKeys(n.Keys)
	if n.Limit >= 0 {
		s += fmt.Sprintf(" limit %d", n.Limit)
	}
	return s
}
func (n *Limit) String() string { return fmt.Sprintf("Limit offset=%d count=%d", n.Offset, n.Count) }
func (n *Union) String() string { return "Union all" }
func (n *Window) String() string {
	parts := make([]string, len(n.Funcs))
	for i, f := range n.Funcs {
		parts[i] = f.String()
	}
	return "Window " + strings.Join(parts, "; ")
}
func (n *Predict) String() string {
	outs := n.Out[len(n.Out)-len(n.Kinds):]
	parts := make([]string, len(outs))
	for i, c := range outs {
		parts[i] = n.Kinds[i].String() + " AS " + c.String()
	}
	fs := make([]string, len(n.Features))
	for i, f := range n.Features {
		fs[i] = f.String()
	}
	return fmt.Sprintf("Predict %s features=[%s] -> %s", n.Model, strings.Join(fs, ", "), strings.Join(parts, ", "))
}
func (n *Exchange) String() string {
	s := fmt.Sprintf("Exchange %s", n.Kind)
	if n.Kind == ExchangeHash {
		keys := make([]string, len(n.Keys))
		for i, k := range n.Keys {
			keys[i] = k.String()
		}
		s += fmt.Sprintf(" [%s] partitions=%d", strings.Join(keys, ", "), n.Partitions)
	}
	return s
}
