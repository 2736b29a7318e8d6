package physical

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/plan"
)

// Options steer physical planning.
type Options struct {
	// Partitions is the number of partitions hash exchanges produce (the
	// parallelism of stages after a shuffle).
	Partitions int
	// BroadcastRows: a join build side estimated at or below this many rows
	// is broadcast instead of shuffling both sides.
	BroadcastRows float64
	// Estimate returns a row-count estimate for a logical node (the
	// optimizer's cardinality model). Nil disables broadcast joins except
	// where semantics require them.
	Estimate func(plan.Node) float64
}

// distribution describes how a node's output rows are spread over tasks.
type distribution struct {
	kind distKind
	keys []plan.ColumnID // for distHash
	n    int             // partition count for distHash
}

type distKind int

const (
	distAny    distKind = iota // many partitions, no known key placement
	distSingle                 // one partition
	distHash                   // hash-partitioned on keys into n partitions
)

type lowerer struct {
	opts Options
	ids  *plan.IDGen
}

// Plan lowers an optimized logical plan to a physical plan.
func Plan(n plan.Node, ids *plan.IDGen, opts Options) (Node, error) {
	if opts.Partitions <= 0 {
		opts.Partitions = 1
	}
	l := &lowerer{opts: opts, ids: ids}
	out, _, err := l.lower(n)
	return out, err
}

func (l *lowerer) lower(n plan.Node) (Node, distribution, error) {
	for _, e := range n.Exprs() {
		if plan.HasSubquery(e) {
			return nil, distribution{}, fmt.Errorf("subquery could not be decorrelated: %s", e)
		}
	}
	switch n := n.(type) {
	case *plan.Scan:
		return l.lowerScan(n)
	case *plan.Values:
		return &Values{Rows: n.Rows, Out: n.Out}, distribution{kind: distSingle}, nil
	case *plan.Filter:
		in, d, err := l.lower(n.Input)
		if err != nil {
			return nil, d, err
		}
		return &Filter{Input: in, Cond: n.Cond}, d, nil
	case *plan.Project:
		in, d, err := l.lower(n.Input)
		if err != nil {
			return nil, d, err
		}
		return &Project{Input: in, Exprs: n.Projections, Out: n.Out}, projectDist(d, n.Projections, n.Out), nil
	case *plan.Aggregate:
		return l.lowerAggregate(n)
	case *plan.Join:
		return l.lowerJoin(n)
	case *plan.Sort:
		return l.lowerSort(n)
	case *plan.Limit:
		in, d, err := l.lower(n.Input)
		if err != nil {
			return nil, d, err
		}
		if d.kind == distSingle {
			return &Limit{Input: in, Offset: n.Offset, Count: n.Count}, d, nil
		}
		if n.Count >= 0 {
			in = &Limit{Input: in, Count: n.Offset + n.Count}
		}
		ex := &Exchange{Input: in, Kind: ExchangeSingle, Partitions: 1}
		return &Limit{Input: ex, Offset: n.Offset, Count: n.Count}, distribution{kind: distSingle}, nil
	case *plan.Union:
		inputs := make([]Node, len(n.Inputs))
		for i, c := range n.Inputs {
			in, _, err := l.lower(c)
			if err != nil {
				return nil, distribution{}, err
			}
			inputs[i] = &Exchange{Input: in, Kind: ExchangeRoundRobin, Partitions: l.opts.Partitions}
		}
		return &Union{Inputs: inputs, Out: n.Out}, distribution{kind: distAny}, nil
	case *plan.Window:
		return l.lowerWindow(n)
	case *plan.Predict:
		// Scoring needs no data movement: it runs in its input's stage,
		// whose distribution it keeps (input columns pass through by ID).
		in, d, err := l.lower(n.Input)
		if err != nil {
			return nil, d, err
		}
		return &Predict{Input: in, Model: n.Model, Features: n.Features, Kinds: n.Kinds, Out: n.Out}, d, nil
	}
	return nil, distribution{}, fmt.Errorf("physical planning: unsupported logical node %T", n)
}

// projectDist keeps a hash distribution when every key passes through the
// projection unchanged (same ID).
func projectDist(d distribution, exprs []plan.Expr, out plan.Schema) distribution {
	if d.kind != distHash {
		return d
	}
	for _, k := range d.keys {
		found := false
		for i, e := range exprs {
			if r, ok := e.(*plan.ColRef); ok && r.ID == k && out[i].ID == k {
				found = true
				break
			}
		}
		if !found {
			return distribution{kind: distAny}
		}
	}
	return d
}

func (l *lowerer) lowerScan(n *plan.Scan) (Node, distribution, error) {
	s := &Scan{Source: n.Source, Cols: n.Cols, Out: n.Out, Filter: plan.And(n.Filters...)}
	s.Prune, _ = ScanPredicates(n)
	return s, distribution{kind: distAny}, nil
}

// ScanPredicates converts the filters of n that can skip data into
// connector predicates; from[i] is the index in n.Filters of preds[i].
func ScanPredicates(n *plan.Scan) (preds []connectors.Predicate, from []int) {
	for i, f := range n.Filters {
		if in, ok := f.(*plan.InList); ok {
			for _, p := range inPredicates(in, n) {
				preds = append(preds, p)
				from = append(from, i)
			}
			continue
		}
		if p, ok := prunePredicate(f, n); ok {
			preds = append(preds, p)
			from = append(from, i)
		}
	}
	return preds, from
}

// inPredicates converts "column IN (literals)" into one "in" predicate per
// member (connectors.Predicate), or none when a member is NULL or of
// another type.
func inPredicates(e *plan.InList, n *plan.Scan) []connectors.Predicate {
	r, ok := e.E.(*plan.ColRef)
	if !ok || e.Negated || len(e.List) == 0 {
		return nil
	}
	i := n.Out.Index(r.ID)
	if i < 0 {
		return nil
	}
	c := n.Cols[i]
	out := make([]connectors.Predicate, len(e.List))
	for j, l := range e.List {
		if l.Value == nil || !arrow.TypeEqual(l.Typ, n.Source.Schema.Field(c).Type) {
			return nil
		}
		out[j] = connectors.Predicate{Column: c, Op: "in", Value: l.Value}
	}
	return out
}

// prunePredicate converts "column op literal" into a connector predicate.
func prunePredicate(e plan.Expr, n *plan.Scan) (connectors.Predicate, bool) {
	colIndex := func(x plan.Expr) int {
		if r, ok := x.(*plan.ColRef); ok {
			if i := n.Out.Index(r.ID); i >= 0 {
				return n.Cols[i]
			}
		}
		return -1
	}
	switch e := e.(type) {
	case *plan.Unary:
		if c := colIndex(e.E); c >= 0 {
			switch e.Op {
			case plan.OpIsNull:
				return connectors.Predicate{Column: c, Op: "isnull"}, true
			case plan.OpIsNotNull:
				return connectors.Predicate{Column: c, Op: "isnotnull"}, true
			}
		}
	case *plan.Binary:
		if !e.Op.IsComparison() || e.Op == plan.OpIsDistinct || e.Op == plan.OpIsNotDistinct {
			return connectors.Predicate{}, false
		}
		op, col, lit := e.Op, colIndex(e.L), e.R
		if col < 0 {
			op, col, lit = e.Op.Flip(), colIndex(e.R), e.L
		}
		lv, ok := lit.(*plan.Literal)
		if col < 0 || !ok || lv.Value == nil {
			return connectors.Predicate{}, false
		}
		if !arrow.TypeEqual(lv.Typ, n.Source.Schema.Field(col).Type) {
			return connectors.Predicate{}, false
		}
		v := lv.Value
		return connectors.Predicate{Column: col, Op: string(op), Value: v}, true
	}
	return connectors.Predicate{}, false
}

// materialize makes every expression in exprs a column reference by
// projecting non-column expressions into fresh columns on top of in. It
// returns the new input, the references, and whether a projection was added.
func (l *lowerer) materialize(in Node, exprs []plan.Expr) (Node, []*plan.ColRef) {
	refs := make([]*plan.ColRef, len(exprs))
	schema := in.Schema()
	var extra []plan.Expr
	var extraCols plan.Schema
	for i, e := range exprs {
		if r, ok := e.(*plan.ColRef); ok && schema.Index(r.ID) >= 0 {
			refs[i] = r
			continue
		}
		c := l.ids.NewColumn(fmt.Sprintf("_k%d", i), "", e.Type(), e.Nullable())
		extra = append(extra, e)
		extraCols = append(extraCols, c)
		refs[i] = c.Ref()
	}
	if len(extra) == 0 {
		return in, refs
	}
	exprsAll := make([]plan.Expr, 0, len(schema)+len(extra))
	for _, c := range schema {
		exprsAll = append(exprsAll, c.Ref())
	}
	exprsAll = append(exprsAll, extra...)
	out := append(append(plan.Schema{}, schema...), extraCols...)
	return &Project{Input: in, Exprs: exprsAll, Out: out}, refs
}

// restrict projects in down to exactly the columns of want (by ID).
func restrict(in Node, want plan.Schema) Node {
	have := in.Schema()
	if len(have) == len(want) {
		same := true
		for i := range have {
			if have[i].ID != want[i].ID {
				same = false
				break
			}
		}
		if same {
			return in
		}
	}
	exprs := make([]plan.Expr, len(want))
	for i, c := range want {
		exprs[i] = c.Ref()
	}
	return &Project{Input: in, Exprs: exprs, Out: want}
}

func (l *lowerer) lowerAggregate(n *plan.Aggregate) (Node, distribution, error) {
	in, d, err := l.lower(n.Input)
	if err != nil {
		return nil, d, err
	}
	// Group expressions become columns carrying the Aggregate's output IDs,
	// aggregate arguments become columns with fresh IDs.
	groupCols := n.Out[:len(n.GroupBy)]
	var exprs []plan.Expr
	var out plan.Schema
	for _, c := range in.Schema() {
		exprs = append(exprs, c.Ref())
		out = append(out, c)
	}
	groups := make([]*plan.ColRef, len(n.GroupBy))
	for i, g := range n.GroupBy {
		c := groupCols[i]
		c.Type, c.Nullable = g.Type(), g.Nullable()
		exprs = append(exprs, g)
		out = append(out, c)
		groups[i] = c.Ref()
	}
	aggs := make([]*plan.AggCall, len(n.Aggs))
	distinct := false
	for i, a := range n.Aggs {
		na := *a
		na.Args = make([]plan.Expr, len(a.Args))
		for j, arg := range a.Args {
			if r, ok := arg.(*plan.ColRef); ok {
				na.Args[j] = r
				continue
			}
			c := l.ids.NewColumn(fmt.Sprintf("_a%d_%d", i, j), "", arg.Type(), arg.Nullable())
			exprs = append(exprs, arg)
			out = append(out, c)
			na.Args[j] = c.Ref()
		}
		if a.Filter != nil {
			// The mask column: the aggregate skips rows where it is not
			// TRUE (in the partial phase when there are two).
			if r, ok := a.Filter.(*plan.ColRef); ok {
				na.Filter = r
			} else {
				c := l.ids.NewColumn(fmt.Sprintf("_f%d", i), "", a.Filter.Type(), a.Filter.Nullable())
				exprs = append(exprs, a.Filter)
				out = append(out, c)
				na.Filter = c.Ref()
			}
		}
		distinct = distinct || a.Distinct
		aggs[i] = &na
	}
	in = &Project{Input: in, Exprs: exprs, Out: out}
	// Keep only the columns the aggregate reads, so exchanges move less.
	need := plan.Schema{}
	seen := plan.ColumnSet{}
	add := func(r *plan.ColRef) {
		if !seen.Has(r.ID) {
			seen[r.ID] = struct{}{}
			need = append(need, out[out.Index(r.ID)])
		}
	}
	for _, g := range groups {
		add(g)
	}
	for _, a := range aggs {
		for _, arg := range a.Args {
			add(arg.(*plan.ColRef))
		}
		if a.Filter != nil {
			add(a.Filter.(*plan.ColRef))
		}
	}
	in = restrict(in, need)

	// The input is already placed by the group key when its hash keys are
	// among the columns the group expressions read unchanged.
	var sourceIDs []plan.ColumnID
	for _, g := range n.GroupBy {
		if r, ok := g.(*plan.ColRef); ok {
			sourceIDs = append(sourceIDs, r.ID)
		}
	}
	single := d.kind == distSingle || (d.kind == distHash && len(groups) > 0 && keysCovered(d.keys, sourceIDs))
	if single {
		return &HashAgg{Input: in, Mode: AggSingle, Groups: groups, Aggs: aggs, Out: n.Out}, d, nil
	}
	if distinct {
		ex, nd := l.exchangeOn(in, groups)
		return &HashAgg{Input: ex, Mode: AggSingle, Groups: groups, Aggs: aggs, Out: n.Out}, nd, nil
	}
	// Two phases: partial per input partition, exchange on the group key,
	// final per output partition. The partial output is the group columns
	// then state columns; state column IDs are never referenced, so they
	// carry placeholder types (the executor knows the real state types).
	partialOut := append(plan.Schema{}, n.Out[:len(groups)]...)
	for i := range aggs {
		partialOut = append(partialOut, l.ids.NewColumn(fmt.Sprintf("_state%d", i), "", arrow.Null, true))
	}
	partial := &HashAgg{Input: in, Mode: AggPartial, Groups: groups, Aggs: aggs, Out: partialOut}
	ex, nd := l.exchangeOn(partial, groups)
	return &HashAgg{Input: ex, Mode: AggFinal, Groups: groups, Aggs: aggs, Out: n.Out}, nd, nil
}

// exchangeOn hash-partitions in on keys, or gathers it when there are none.
func (l *lowerer) exchangeOn(in Node, keys []*plan.ColRef) (Node, distribution) {
	if len(keys) == 0 {
		return &Exchange{Input: in, Kind: ExchangeSingle, Partitions: 1}, distribution{kind: distSingle}
	}
	ids := make([]plan.ColumnID, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return &Exchange{Input: in, Kind: ExchangeHash, Keys: keys, Partitions: l.opts.Partitions},
		distribution{kind: distHash, keys: ids, n: l.opts.Partitions}
}

// keysCovered reports whether a hash distribution on dist keys co-locates
// every group of groupIDs (dist keys are a subset of the group keys).
func keysCovered(dist, groupIDs []plan.ColumnID) bool {
	if len(dist) == 0 {
		return false
	}
	for _, k := range dist {
		found := false
		for _, g := range groupIDs {
			if g == k {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func sameKeys(d distribution, keys []*plan.ColRef, n int) bool {
	if d.kind != distHash || len(d.keys) != len(keys) || d.n != n {
		return false
	}
	for i, k := range keys {
		if d.keys[i] != k.ID {
			return false
		}
	}
	return true
}
