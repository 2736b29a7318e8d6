package physical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/flint-engine/flint/plan"
)

// lowerJoin picks a hash join when the condition has equalities between the
// two sides (the rest becomes a residual) and a nested-loop join otherwise.
// The right child is the build side; it is broadcast when small enough and
// the join type allows, otherwise both sides are shuffled on the keys.
func (l *lowerer) lowerJoin(n *plan.Join) (Node, distribution, error) {
	left, ld, err := l.lower(n.Left)
	if err != nil {
		return nil, ld, err
	}
	right, rd, err := l.lower(n.Right)
	if err != nil {
		return nil, rd, err
	}
	out := n.Schema()
	lIDs, rIDs := n.Left.Schema().IDs(), n.Right.Schema().IDs()
	var lkeys, rkeys, residual []plan.Expr
	for _, c := range plan.SplitConjuncts(n.Cond) {
		if b, ok := c.(*plan.Binary); ok && (b.Op == plan.OpEq || (b.Op == plan.OpIsNotDistinct && !n.NullAware)) {
			lr, rr := plan.ReferencedColumns(b.L), plan.ReferencedColumns(b.R)
			if len(lr) > 0 && len(rr) > 0 {
				l, r, ok := b.L, b.R, true
				switch {
				case lr.SubsetOf(lIDs) && rr.SubsetOf(rIDs):
				case lr.SubsetOf(rIDs) && rr.SubsetOf(lIDs):
					l, r = b.R, b.L
				default:
					ok = false
				}
				if ok && b.Op == plan.OpEq {
					lkeys, rkeys = append(lkeys, l), append(rkeys, r)
					continue
				}
				if ok {
					if lk, rk, ok := nullSafeKeys(l, r); ok {
						lkeys, rkeys = append(lkeys, lk...), append(rkeys, rk...)
						continue
					}
				}
			}
		}
		residual = append(residual, c)
	}
	if n.Type == plan.JoinMark {
		return l.lowerMarkJoin(n, left, ld, right, rd, lkeys, rkeys, residual)
	}
	if len(lkeys) == 0 {
		return l.lowerNestedLoop(n, left, ld, right, rd, out)
	}
	left, lrefs := l.materialize(left, lkeys)
	right, rrefs := l.materialize(right, rkeys)
	if n.Type == plan.JoinSemi || n.Type == plan.JoinAnti {
		right, rd = narrowBuild(right, rd, rrefs, residual...)
	}
	j := &HashJoin{Type: n.Type, LeftKeys: lrefs, RightKeys: rrefs, Residual: plan.And(residual...),
		NullAware: n.NullAware, Out: out}
	broadcastable := n.Type == plan.JoinInner || n.Type == plan.JoinLeft || n.Type == plan.JoinSemi || n.Type == plan.JoinAnti
	switch {
	case ld.kind == distSingle && rd.kind == distSingle:
		j.Left, j.Right = left, right
		return j, ld, nil
	case broadcastable && (n.NullAware || l.small(n.Right) && !l.keepBuildOverBroadcast(n)):
		j.Left, j.Right, j.Broadcast = left, &Exchange{Input: right, Kind: ExchangeBroadcast}, true
		return j, ld, nil
	}
	d := distribution{kind: distHash, n: l.opts.Partitions}
	for _, k := range lrefs {
		d.keys = append(d.keys, k.ID)
	}
	if l.keepBuild(n) {
		// Build on the smaller, preserved side; the output rows are build
		// rows, still placed by the preserved side's keys (d).
		// The preserved side gets a stage of its own when it reads
		// shuffled inputs itself, though it is placed right already:
		// otherwise the large subquery side's exchange and the exchanges
		// the preserved side reads must all be held at once, as one
		// stage reads them all; cut, the preserved side's stage (its
		// output small, by keepBuild's estimate) runs and drops its
		// inputs before the subquery side's exchange needs to be full.
		if !sameKeys(ld, lrefs, l.opts.Partitions) || readsShuffle(left) {
			left = &Exchange{Input: left, Kind: ExchangeHash, Keys: lrefs, Partitions: l.opts.Partitions}
		}
		if !sameKeys(rd, rrefs, l.opts.Partitions) {
			right = &Exchange{Input: right, Kind: ExchangeHash, Keys: rrefs, Partitions: l.opts.Partitions}
		}
		j.Left, j.Right, j.LeftKeys, j.RightKeys, j.KeepBuild = right, left, rrefs, lrefs, true
		return j, d, nil
	}
	if !sameKeys(ld, lrefs, l.opts.Partitions) {
		left = &Exchange{Input: left, Kind: ExchangeHash, Keys: lrefs, Partitions: l.opts.Partitions}
	}
	if !sameKeys(rd, rrefs, l.opts.Partitions) {
		right = &Exchange{Input: right, Kind: ExchangeHash, Keys: rrefs, Partitions: l.opts.Partitions}
	}
	j.Left, j.Right = left, right
	if n.Type == plan.JoinRight || n.Type == plan.JoinFull {
		// Unmatched right rows carry NULL left keys: the output is no longer
		// placed by the left key.
		d = distribution{kind: distAny}
	}
	return j, d, nil
}

// lowerMarkJoin picks the algorithm and data movement of a mark join.
//
//   - Equalities in Cond (correlation keys) become hash keys. The rows a
//     probe row's mark depends on all have its key values, so both sides
//     may be hash-partitioned on the keys (or the build side broadcast
//     when small); MarkCond is checked on each candidate.
//   - Otherwise a MarkCond that is an equality between the sides (x IN
//     (subquery) without correlation keys) is the key of a null-aware
//     hash join. Its mark depends on the whole build side — whether it
//     has a NULL key, whether it is empty — so the build side is always
//     broadcast, never partitioned.
//   - Anything else is a nested-loop mark join over a broadcast build side.
func (l *lowerer) lowerMarkJoin(n *plan.Join, left Node, ld distribution, right Node, rd distribution, lkeys, rkeys, residual []plan.Expr) (Node, distribution, error) {
	out := n.Schema()
	j := &HashJoin{Type: plan.JoinMark, MarkCond: n.MarkCond, Mark: n.Mark, Out: out}
	if len(lkeys) == 0 {
		lr, rr, ok := sideEquality(n.MarkCond, n.Left.Schema().IDs(), n.Right.Schema().IDs())
		if !ok {
			nl := &NestedLoopJoin{Type: plan.JoinMark, Cond: n.Cond, MarkCond: n.MarkCond, Mark: n.Mark, Out: out}
			nl.Left, nl.Right = left, right
			if !(ld.kind == distSingle && rd.kind == distSingle) {
				nl.Right = &Exchange{Input: right, Kind: ExchangeBroadcast}
			}
			return nl, ld, nil
		}
		lkeys, rkeys = []plan.Expr{lr}, []plan.Expr{rr}
		j.NullAware, j.MarkCond = true, nil
	}
	j.Residual = plan.And(residual...)
	left, lrefs := l.materialize(left, lkeys)
	right, rrefs := l.materialize(right, rkeys)
	right, rd = narrowBuild(right, rd, rrefs, j.Residual, j.MarkCond)
	j.LeftKeys, j.RightKeys = lrefs, rrefs
	switch {
	case ld.kind == distSingle && rd.kind == distSingle:
		j.Left, j.Right = left, right
		return j, ld, nil
	case j.NullAware || l.small(n.Right):
		j.Left, j.Right, j.Broadcast = left, &Exchange{Input: right, Kind: ExchangeBroadcast}, true
		return j, ld, nil
	}
	d := distribution{kind: distHash, n: l.opts.Partitions}
	for _, k := range lrefs {
		d.keys = append(d.keys, k.ID)
	}
	if !sameKeys(ld, lrefs, l.opts.Partitions) {
		left = &Exchange{Input: left, Kind: ExchangeHash, Keys: lrefs, Partitions: l.opts.Partitions}
	}
	if !sameKeys(rd, rrefs, l.opts.Partitions) {
		right = &Exchange{Input: right, Kind: ExchangeHash, Keys: rrefs, Partitions: l.opts.Partitions}
	}
	j.Left, j.Right = left, right
	return j, d, nil
}

// readsShuffle reports whether n, in its own stage (not looking past
// exchanges), reads a hash-partitioned exchange.
func readsShuffle(n Node) bool {
	if ex, ok := n.(*Exchange); ok {
		return ex.Kind == ExchangeHash || ex.Kind == ExchangeRoundRobin
	}
	for _, c := range n.Children() {
		if readsShuffle(c) {
			return true
		}
	}
	return false
}

// narrowBuild projects the right input of a semi, anti or mark join,
// none of whose columns is in the join's output, down to the columns its
// keys and conditions read. Without it, columns the input carries for its
// own sake (a scan's filter columns) would travel through the exchange and
// sit in the build table for nothing.
func narrowBuild(right Node, rd distribution, keys []*plan.ColRef, conds ...plan.Expr) (Node, distribution) {
	need := plan.ColumnSet{}
	for _, k := range keys {
		need[k.ID] = struct{}{}
	}
	for _, c := range conds {
		if c != nil {
			for id := range plan.ReferencedColumns(c) {
				need[id] = struct{}{}
			}
		}
	}
	var keep plan.Schema
	var exprs []plan.Expr
	for _, c := range right.Schema() {
		if need.Has(c.ID) {
			keep = append(keep, c)
			exprs = append(exprs, c.Ref())
		}
	}
	if len(keep) == len(right.Schema()) {
		return right, rd
	}
	return &Project{Input: right, Exprs: exprs, Out: keep}, projectDist(rd, exprs, keep)
}

// sideEquality splits e = (a = b) with a over the left columns and b over
// the right ones (or the reverse) into the left and right operands.
func sideEquality(e plan.Expr, lIDs, rIDs plan.ColumnSet) (plan.Expr, plan.Expr, bool) {
	b, ok := e.(*plan.Binary)
	if !ok || b.Op != plan.OpEq {
		return nil, nil, false
	}
	lr, rr := plan.ReferencedColumns(b.L), plan.ReferencedColumns(b.R)
	if len(lr) == 0 || len(rr) == 0 {
		return nil, nil, false
	}
	switch {
	case lr.SubsetOf(lIDs) && rr.SubsetOf(rIDs):
		return b.L, b.R, true
	case lr.SubsetOf(rIDs) && rr.SubsetOf(lIDs):
		return b.R, b.L, true
	}
	return nil, nil, false
}

// keepBuild reports whether a partitioned semi or anti join should build
// on its preserved (left) side: when that side is estimated at less than
// half the other. NOT IN (null-aware) keeps the usual shape.
func (l *lowerer) keepBuild(n *plan.Join) bool {
	if (n.Type != plan.JoinSemi && n.Type != plan.JoinAnti) || n.NullAware || l.opts.Estimate == nil {
		return false
	}
	return 2*l.opts.Estimate(n.Left) < l.opts.Estimate(n.Right)
}

// keepBuildRows is the estimated subquery side above which a semi or anti
// join that could build on its smaller preserved side (keepBuild) does so,
// partitioned, instead of broadcasting the subquery side: a large
// broadcast table costs memory and a build on one thread, where the
// partitioned join builds the small side in parallel. Under it, the
// broadcast saves shuffling the preserved side.
const keepBuildRows = 1_000_000

func (l *lowerer) keepBuildOverBroadcast(n *plan.Join) bool {
	return l.keepBuild(n) && l.opts.Estimate(n.Right) > keepBuildRows
}

func (l *lowerer) small(n plan.Node) bool {
	return l.opts.Estimate != nil && l.opts.Estimate(n) <= l.opts.BroadcastRows
}

func (l *lowerer) lowerNestedLoop(n *plan.Join, left Node, ld distribution, right Node, rd distribution, out plan.Schema) (Node, distribution, error) {
	typ := n.Type
	if typ == plan.JoinCross {
		typ = plan.JoinInner
	}
	j := &NestedLoopJoin{Type: typ, Cond: n.Cond, Out: out}
	switch {
	case ld.kind == distSingle && rd.kind == distSingle:
		j.Left, j.Right = left, right
		return j, ld, nil
	case typ == plan.JoinInner || typ == plan.JoinLeft || typ == plan.JoinSemi || typ == plan.JoinAnti:
		j.Left, j.Right = left, &Exchange{Input: right, Kind: ExchangeBroadcast}
		return j, ld, nil
	}
	if ld.kind != distSingle {
		left = &Exchange{Input: left, Kind: ExchangeSingle, Partitions: 1}
	}
	if rd.kind != distSingle {
		right = &Exchange{Input: right, Kind: ExchangeSingle, Partitions: 1}
	}
	j.Left, j.Right = left, right
	return j, distribution{kind: distSingle}, nil
}

func (l *lowerer) lowerSort(n *plan.Sort) (Node, distribution, error) {
	in, d, err := l.lower(n.Input)
	if err != nil {
		return nil, d, err
	}
	want := in.Schema()
	exprs := make([]plan.Expr, len(n.Keys))
	for i, k := range n.Keys {
		exprs[i] = k.E
	}
	in, refs := l.materialize(in, exprs)
	keys := make([]SortKey, len(n.Keys))
	for i, k := range n.Keys {
		keys[i] = SortKey{Col: refs[i], Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	var out Node
	if d.kind == distSingle {
		out = &Sort{Input: in, Keys: keys, Limit: n.Limit}
	} else {
		sorted := &Sort{Input: in, Keys: keys, Limit: n.Limit}
		ex := &Exchange{Input: sorted, Kind: ExchangeSingle, Partitions: 1}
		out = &MergeSorted{Input: ex, Keys: keys, Limit: n.Limit}
	}
	return restrict(out, want), distribution{kind: distSingle}, nil
}

// constWindowArg reports whether argument j of f stays a constant (an
// offset or a default): the value argument (the first, except for ntile)
// is a column even when it is constant, as in max(DATE '1998-08-02')
// OVER (...) or lag(1 + 2).
func constWindowArg(f *plan.WindowCall, j int, a plan.Expr) bool {
	if j == 0 && f.Func != "ntile" {
		return false
	}
	_, ok := a.(*plan.Literal)
	return ok
}

func (l *lowerer) lowerWindow(n *plan.Window) (Node, distribution, error) {
	in, d, err := l.lower(n.Input)
	if err != nil {
		return nil, d, err
	}
	// All functions share one distribution: partition by the keys common to
	// every function's PARTITION BY, or gather when there are none.
	var exprs []plan.Expr
	for _, f := range n.Funcs {
		for j, a := range f.Args {
			if !constWindowArg(f, j, a) {
				exprs = append(exprs, a)
			}
		}
		exprs = append(exprs, f.PartitionBy...)
		for _, k := range f.OrderBy {
			exprs = append(exprs, k.E)
		}
		if f.Filter != nil {
			exprs = append(exprs, f.Filter)
		}
	}
	in, refs := l.materialize(in, exprs)
	funcs := make([]*plan.WindowCall, len(n.Funcs))
	i := 0
	next := func() plan.Expr { r := refs[i]; i++; return r }
	for fi, f := range n.Funcs {
		nf := *f
		nf.Args = make([]plan.Expr, len(f.Args))
		for j, a := range f.Args {
			if constWindowArg(f, j, a) {
				nf.Args[j] = a // offsets and defaults stay constants
			} else {
				nf.Args[j] = next()
			}
		}
		nf.PartitionBy = make([]plan.Expr, len(f.PartitionBy))
		for j := range f.PartitionBy {
			nf.PartitionBy[j] = next()
		}
		nf.OrderBy = make([]plan.SortKey, len(f.OrderBy))
		for j, k := range f.OrderBy {
			nf.OrderBy[j] = plan.SortKey{E: next(), Desc: k.Desc, NullsFirst: k.NullsFirst}
		}
		if f.Filter != nil {
			nf.Filter = next()
		}
		funcs[fi] = &nf
	}
	var common []*plan.ColRef
	if len(funcs) > 0 {
		for _, p := range funcs[0].PartitionBy {
			r := p.(*plan.ColRef)
			inAll := true
			for _, f := range funcs[1:] {
				found := false
				for _, q := range f.PartitionBy {
					if q.(*plan.ColRef).ID == r.ID {
						found = true
					}
				}
				inAll = inAll && found
			}
			if inAll {
				common = append(common, r)
			}
		}
	}
	nd := d
	ids := make([]plan.ColumnID, len(common))
	for j, c := range common {
		ids[j] = c.ID
	}
	if d.kind != distSingle && !(d.kind == distHash && keysCovered(d.keys, ids)) {
		in, nd = l.exchangeOn(in, common)
	}
	winOut := append(plan.Schema{}, in.Schema()...)
	winOut = append(winOut, n.Out[len(n.Input.Schema()):]...)
	w := &Window{Input: in, Funcs: funcs, Out: winOut}
	return restrict(w, n.Out), nd, nil
}

// nullSafeKeys turns l IS NOT DISTINCT FROM r into hash keys: l = r when
// neither can be NULL, otherwise (l IS NULL, l with NULL replaced by a
// zero of its type) = (r IS NULL, likewise): equal exactly when l and r
// are both NULL or both the same value. ok is false for types without a
// zero literal (the predicate then stays a residual).
func nullSafeKeys(l, r plan.Expr) (lk, rk []plan.Expr, ok bool) {
	if !l.Nullable() && !r.Nullable() {
		return []plan.Expr{l}, []plan.Expr{r}, true
	}
	if !arrow.TypeEqual(l.Type(), r.Type()) {
		return nil, nil, false
	}
	zero := zeroLiteral(l.Type())
	if zero == nil {
		return nil, nil, false
	}
	keys := func(e plan.Expr) []plan.Expr {
		isNull := &plan.Unary{Op: plan.OpIsNull, E: e}
		return []plan.Expr{isNull, &plan.Case{Whens: []plan.When{{Cond: isNull, Value: zero}}, Else: e, Typ: e.Type()}}
	}
	return keys(l), keys(r), true
}

// zeroLiteral is a non-NULL literal of type t, or nil.
func zeroLiteral(t arrow.DataType) *plan.Literal {
	var v any
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		v = int64(0)
	case arrow.FLOAT32, arrow.FLOAT64:
		v = float64(0)
	case arrow.BOOL:
		v = false
	case arrow.STRING:
		v = ""
	case arrow.DECIMAL64, arrow.DECIMAL128:
		v = decimal128.Num{}
	case arrow.DATE32:
		v = arrow.Date32(0)
	case arrow.TIMESTAMP:
		v = arrow.Timestamp(0)
	default:
		return nil
	}
	return &plan.Literal{Value: v, Typ: t}
}
