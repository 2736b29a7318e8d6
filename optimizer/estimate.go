package optimizer

import (
	"math"

	"github.com/flint-engine/flint/plan"
)

// Selectivity guesses (no column statistics yet).
const (
	selEq    = 0.1
	selNotEq = 0.9
	selRange = 0.3
	// selBetween is a range bounded on both sides (x >= a AND x < b): the
	// two bounds are not independent, so it is one guess, not selRange².
	selBetween = 0.25
	selLike    = 0.25
	selIsNull  = 0.1
	selDefault = 0.5
	// unknownRows is assumed for a table without a row-count estimate.
	unknownRows = 1000
)

// EstimateRows estimates how many rows n produces, from Scan row counts
// (Parquet footers) and fixed selectivity guesses.
func EstimateRows(n plan.Node) float64 { return newEstimator(n, nil).rows(n) }

// EstimateRowsWith is EstimateRows that asks stats (when not nil) about
// scans first.
func EstimateRowsWith(n plan.Node, stats ScanStats) float64 {
	return newEstimator(n, stats).rows(n)
}

// estimator memoizes row estimates and knows, per column, an upper bound
// of its distinct values ("domain"): the row count of the table it comes
// from, or of the aggregate that groups by it.
type estimator struct {
	memo   map[plan.Node]float64
	domain map[plan.ColumnID]float64
	stats  ScanStats // may be nil
}

func newEstimator(root plan.Node, stats ScanStats) *estimator {
	e := &estimator{memo: map[plan.Node]float64{}, domain: map[plan.ColumnID]float64{}, stats: stats}
	e.learn(root)
	return e
}

// learn records column domains bottom-up.
func (e *estimator) learn(n plan.Node) {
	for _, c := range n.Children() {
		e.learn(c)
	}
	switch x := n.(type) {
	case *plan.Scan:
		rc := float64(x.Source.RowCount)
		if x.Source.RowCount < 0 {
			rc = unknownRows
		}
		for _, c := range x.Out {
			e.domain[c.ID] = max(rc, 1)
		}
	case *plan.Project:
		for i, p := range x.Projections {
			if r, ok := p.(*plan.ColRef); ok {
				if d, ok := e.domain[r.ID]; ok {
					e.domain[x.Out[i].ID] = d
				}
			}
		}
	case *plan.Aggregate:
		rows := e.rows(x)
		for i := range x.GroupBy {
			d := rows
			if r, ok := x.GroupBy[i].(*plan.ColRef); ok {
				if in, ok := e.domain[r.ID]; ok {
					d = min(d, in)
				}
			}
			e.domain[x.Out[i].ID] = max(d, 1)
		}
	case *plan.Union:
		for j, c := range x.Out {
			sum := 0.0
			for _, in := range x.Inputs {
				sum += e.domain[in.Schema()[j].ID]
			}
			e.domain[c.ID] = sum
		}
	}
}

func (e *estimator) rows(n plan.Node) float64 {
	if v, ok := e.memo[n]; ok {
		return v
	}
	v := max(e.compute(n), 1)
	e.memo[n] = v
	return v
}

func (e *estimator) compute(n plan.Node) float64 {
	switch x := n.(type) {
	case *plan.Scan:
		rc := float64(x.Source.RowCount)
		if x.Source.RowCount < 0 {
			rc = unknownRows
		}
		filters := x.Filters
		if e.stats != nil {
			if n, used, ok := e.stats(x); ok {
				// The rows of the files that survive pruning; the filters
				// that pruned them are accounted for.
				rc, filters = float64(n), nil
				for i, f := range x.Filters {
					if i >= len(used) || !used[i] {
						filters = append(filters, f)
					}
				}
			}
		}
		return rc * selectivityAll(filters)
	case *plan.Values:
		return float64(len(x.Rows))
	case *plan.Filter:
		return e.rows(x.Input) * selectivityAll(splitAnd(x.Cond))
	case *plan.Project:
		return e.rows(x.Input)
	case *plan.Window:
		return e.rows(x.Input)
	case *plan.Predict:
		return e.rows(x.Input)
	case *plan.Sort:
		if x.Limit >= 0 {
			return min(e.rows(x.Input), float64(x.Limit))
		}
		return e.rows(x.Input)
	case *plan.Limit:
		in := max(e.rows(x.Input)-float64(x.Offset), 0)
		if x.Count >= 0 {
			return min(in, float64(x.Count))
		}
		return in
	case *plan.Union:
		s := 0.0
		for _, in := range x.Inputs {
			s += e.rows(in)
		}
		return s
	case *plan.Aggregate:
		in := e.rows(x.Input)
		if len(x.GroupBy) == 0 {
			return 1
		}
		groups := 1.0
		known := true
		for _, g := range x.GroupBy {
			d, ok := e.exprDomain(g)
			if !ok {
				known = false
				break
			}
			groups *= d
		}
		if !known {
			return in / 10
		}
		return min(groups, in/10)
	case *plan.Join:
		l, r := e.rows(x.Left), e.rows(x.Right)
		inner := e.joinRows(l, r, splitAnd(x.Cond))
		switch x.Type {
		case plan.JoinLeft:
			return max(l, inner)
		case plan.JoinRight:
			return max(r, inner)
		case plan.JoinFull:
			return max(l+r, inner)
		case plan.JoinSemi:
			return min(l, inner) * 0.5
		case plan.JoinAnti:
			return l * 0.5
		case plan.JoinMark:
			return l
		}
		return inner
	}
	return unknownRows
}

// joinRows estimates |L ⋈ R| for predicates preds. For an equi-join on
// a = b the smaller of the two columns' domains is taken as the key
// ("primary key") side: |L||R| / min(dom(a), dom(b)). With TPC-H's FK-PK
// joins this gives |FK side| × (selectivity of the filters on the PK side),
// e.g. lineitem ⋈ σ(orders) = 6M × |σ(orders)| / 1.5M. Several equalities
// use the most selective one; other predicates multiply their selectivity.
func (e *estimator) joinRows(l, r float64, preds []plan.Expr) float64 {
	div := 1.0
	other := 1.0
	for _, p := range preds {
		if b, ok := p.(*plan.Binary); ok && b.Op == plan.OpEq {
			da, oka := e.exprDomain(b.L)
			db, okb := e.exprDomain(b.R)
			var d float64
			switch {
			case oka && okb:
				d = min(da, db)
			case oka:
				d = da
			case okb:
				d = db
			default:
				d = max(l, r)
			}
			div = max(div, d)
			continue
		}
		other *= selectivity(p)
	}
	return l * r / div * other
}

func (e *estimator) exprDomain(x plan.Expr) (float64, bool) {
	if c, ok := x.(*plan.Cast); ok {
		x = c.E
	}
	if r, ok := x.(*plan.ColRef); ok {
		d, ok := e.domain[r.ID]
		return d, ok
	}
	return 0, false
}

func selectivityAll(preds []plan.Expr) float64 {
	s := 1.0
	// Lower and upper bounds of the same column pair up into one
	// two-sided range.
	lower, upper := map[plan.ColumnID]int{}, map[plan.ColumnID]int{}
	for _, p := range preds {
		if id, dir, ok := boundOf(p); ok {
			if dir > 0 {
				lower[id]++
			} else {
				upper[id]++
			}
		}
	}
	usedL, usedU := map[plan.ColumnID]int{}, map[plan.ColumnID]int{}
	for _, p := range preds {
		if id, dir, ok := boundOf(p); ok {
			pairs := min(lower[id], upper[id])
			// The lower bound of a pair carries its selectivity, the
			// upper one none.
			if dir > 0 && usedL[id] < pairs {
				usedL[id]++
				s *= selBetween
				continue
			}
			if dir < 0 && usedU[id] < pairs {
				usedU[id]++
				continue
			}
		}
		s *= selectivity(p)
	}
	return s
}

// boundOf recognises col >= / > literal (dir 1) and col <= / < literal
// (dir -1), either way round.
func boundOf(p plan.Expr) (plan.ColumnID, int, bool) {
	b, ok := p.(*plan.Binary)
	if !ok {
		return 0, 0, false
	}
	dir := 0
	switch b.Op {
	case plan.OpGt, plan.OpGtEq:
		dir = 1
	case plan.OpLt, plan.OpLtEq:
		dir = -1
	default:
		return 0, 0, false
	}
	l, lok := b.L.(*plan.ColRef)
	_, rlit := b.R.(*plan.Literal)
	if lok && rlit {
		return l.ID, dir, true
	}
	r, rok := b.R.(*plan.ColRef)
	_, llit := b.L.(*plan.Literal)
	if rok && llit {
		return r.ID, -dir, true
	}
	return 0, 0, false
}

// selectivity guesses the fraction of rows a predicate keeps.
func selectivity(p plan.Expr) float64 {
	switch x := p.(type) {
	case *plan.Literal:
		if x.Value == true {
			return 1
		}
		return 0
	case *plan.Binary:
		switch x.Op {
		case plan.OpAnd:
			return selectivity(x.L) * selectivity(x.R)
		case plan.OpOr:
			return math.Min(1, selectivity(x.L)+selectivity(x.R))
		case plan.OpEq, plan.OpIsNotDistinct:
			return selEq
		case plan.OpNotEq, plan.OpIsDistinct:
			return selNotEq
		case plan.OpLt, plan.OpLtEq, plan.OpGt, plan.OpGtEq:
			return selRange
		}
	case *plan.Unary:
		switch x.Op {
		case plan.OpNot:
			return 1 - selectivity(x.E)
		case plan.OpIsNull:
			return selIsNull
		case plan.OpIsNotNull:
			return 1 - selIsNull
		}
	case *plan.Like:
		if x.Negated {
			return 1 - selLike
		}
		return selLike
	case *plan.InList:
		s := math.Min(selDefault, selEq*float64(len(x.List)))
		if x.Negated {
			return 1 - s
		}
		return s
	}
	return selDefault
}
