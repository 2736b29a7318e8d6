package optimizer

import (
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

// maxJoinLeaves bounds the relations one join graph may hold (bit masks).
const maxJoinLeaves = 64

// ReorderJoins rebuilds every maximal tree of inner and cross joins from
// its join graph (relations + the conjuncts of all join conditions):
// greedy, left-deep, starting from the relation with the most estimated
// rows (the fact table, probed) and repeatedly adding the relation
// connected by a predicate that gives the smallest estimated intermediate
// result. Relations joined by an equality come first; one joined only by
// other predicates waits until no equality joins anything, and one without
// any join predicate to the current set is only added when nothing else is
// possible. Each predicate becomes part of the
// condition of the lowest join that sees all its columns, so comma joins
// never stay cross products when a WHERE equality connects them. The
// smaller input of each join is put on the right, the hash build side; a
// Project restores the original column order on top. LEFT and RIGHT
// joins with a bigger right input are flipped (LEFT ↔ RIGHT) for the same
// reason; semi and anti joins keep the subquery side on the right.
type ReorderJoins struct{}

func (ReorderJoins) Name() string { return "reorder_joins" }

func (ReorderJoins) Apply(n plan.Node, ctx *Context) (plan.Node, bool, error) {
	est := newEstimator(n, ctx.Stats)
	out := reorder(n, est)
	return out, changedPlan(n, out), nil
}

func isInnerJoin(n plan.Node) bool {
	j, ok := n.(*plan.Join)
	return ok && (j.Type == plan.JoinInner || j.Type == plan.JoinCross)
}

func reorder(n plan.Node, est *estimator) plan.Node {
	if !isInnerJoin(n) {
		children := n.Children()
		if len(children) == 0 {
			return n
		}
		nc := make([]plan.Node, len(children))
		for i, c := range children {
			nc[i] = reorder(c, est)
		}
		return flipOuterJoin(n.WithChildren(nc), est)
	}
	var leaves []plan.Node
	var preds []plan.Expr
	var flatten func(x plan.Node)
	flatten = func(x plan.Node) {
		if isInnerJoin(x) {
			j := x.(*plan.Join)
			flatten(j.Left)
			flatten(j.Right)
			preds = append(preds, splitAnd(j.Cond)...)
			return
		}
		leaves = append(leaves, reorder(x, est))
	}
	flatten(n)
	if len(leaves) > maxJoinLeaves {
		return n
	}
	out := buildJoinTree(leaves, preds, est)
	return projectTo(out, n.Schema())
}

type joinPred struct {
	e    plan.Expr
	mask uint64
	used bool
	// colEq marks a column = column equality: it joins an equivalence
	// class and is applied through candidateConds.
	colEq bool
}

// eqMember is one column of an equivalence class and its relation.
type eqMember struct {
	ref  *plan.ColRef
	leaf int
}

func buildJoinTree(leaves []plan.Node, preds []plan.Expr, est *estimator) plan.Node {
	cols := make([]plan.ColumnSet, len(leaves))
	for i, l := range leaves {
		cols[i] = l.Schema().IDs()
	}
	leafOf := func(id plan.ColumnID) int {
		for i := range cols {
			if cols[i].Has(id) {
				return i
			}
		}
		return -1
	}
	var jp []*joinPred
	var constPreds []plan.Expr
	uf := newUnionFind()
	for _, p := range dedupe(preds) {
		var mask uint64
		for id := range refs(p) {
			if i := leafOf(id); i >= 0 {
				mask |= 1 << uint(i)
			}
		}
		switch {
		case mask == 0:
			constPreds = append(constPreds, p)
		case mask&(mask-1) == 0: // one relation: filter it directly
			i := trailingZeros(mask)
			leaves[i] = &plan.Filter{Input: leaves[i], Cond: p}
		default:
			jpred := &joinPred{e: p, mask: mask}
			if a, b, ok := columnEquality(p); ok {
				jpred.colEq = true
				uf.union(a, b)
			}
			jp = append(jp, jpred)
		}
	}
	// Equivalence classes (deterministic order: by smallest member ID).
	classOf := map[plan.ColumnID][]eqMember{}
	var roots []plan.ColumnID
	for _, p := range jp {
		if !p.colEq {
			continue
		}
		b := p.e.(*plan.Binary)
		for _, side := range []*plan.ColRef{b.L.(*plan.ColRef), b.R.(*plan.ColRef)} {
			root := uf.find(side.ID)
			members := classOf[root]
			dup := false
			for _, m := range members {
				dup = dup || m.ref.ID == side.ID
			}
			if !dup {
				if len(members) == 0 {
					roots = append(roots, root)
				}
				classOf[root] = append(members, eqMember{ref: side, leaf: leafOf(side.ID)})
			}
		}
	}
	// Members of one class in the same relation must be equal too (s.k =
	// ps.a AND s.k = ps.b implies ps.a = ps.b): a join adds only one
	// equality per member of the joining relation, so filter that here.
	for _, root := range roots {
		first := map[int]*plan.ColRef{}
		for _, m := range classOf[root] {
			f, ok := first[m.leaf]
			if !ok {
				first[m.leaf] = m.ref
				continue
			}
			leaves[m.leaf] = &plan.Filter{Input: leaves[m.leaf], Cond: plan.Eq(f, m.ref)}
		}
	}
	// candidateConds returns the predicates that become applicable when
	// leaf i joins the relations in set: the non-equivalence predicates
	// whose relations are all present, plus, per equivalence class with
	// members on both sides, one equality per member of i (an original
	// predicate when one links it to set, else a derived one — so
	// a = b AND b = c also joins a's and c's relations directly).
	candidateConds := func(set uint64, i int) []plan.Expr {
		bit := uint64(1) << uint(i)
		var out []plan.Expr
		for _, p := range jp {
			if !p.used && !p.colEq && p.mask&bit != 0 && p.mask&^(set|bit) == 0 {
				out = append(out, p.e)
			}
		}
		for _, root := range roots {
			var inSet []eqMember
			var inLeaf []eqMember
			for _, m := range classOf[root] {
				if m.leaf == i {
					inLeaf = append(inLeaf, m)
				} else if set&(1<<uint(m.leaf)) != 0 {
					inSet = append(inSet, m)
				}
			}
			if len(inSet) == 0 || len(inLeaf) == 0 {
				continue
			}
			for _, x := range inLeaf {
				var eqp plan.Expr
				for _, p := range jp {
					if p.colEq && !p.used && p.mask&^(set|bit) == 0 && p.mask&bit != 0 && touches(p.e, plan.ColumnSet{x.ref.ID: {}}) {
						eqp = p.e
						break
					}
				}
				if eqp == nil {
					eqp = plan.Eq(inSet[0].ref, x.ref)
				}
				out = append(out, eqp)
			}
		}
		return out
	}
	rows := make([]float64, len(leaves))
	start := 0
	for i, l := range leaves {
		rows[i] = est.rows(l)
		if rows[i] > rows[start] {
			start = i
		}
	}
	var cur plan.Node = leaves[start]
	curRows := rows[start]
	set := uint64(1) << uint(start)
	for added := 1; added < len(leaves); added++ {
		best, bestRows := -1, 0.0
		var bestConds []plan.Expr
		// Tiers: relations joined by an equality (a hash join), then by
		// any predicate (a nested-loop join, whose selectivity guesses are
		// the least reliable), then anything (a cross product).
		for tier := 0; best < 0 && tier < 3; tier++ {
			for i := range leaves {
				bit := uint64(1) << uint(i)
				if set&bit != 0 {
					continue
				}
				es := candidateConds(set, i)
				if (tier == 0 && !hasEquality(es)) || (tier == 1 && len(es) == 0) {
					continue
				}
				r := est.joinRows(curRows, rows[i], es)
				if best < 0 || r < bestRows || (r == bestRows && rows[i] < rows[best]) {
					best, bestRows, bestConds = i, r, es
				}
			}
		}
		bit := uint64(1) << uint(best)
		for _, p := range jp {
			if p.mask&^(set|bit) == 0 {
				p.used = true // applied now, or implied by the class equalities
			}
		}
		j := &plan.Join{Left: cur, Right: leaves[best], Type: plan.JoinInner, Cond: plan.And(equalitiesFirst(sortByText(bestConds))...)}
		if rows[best] > curRows {
			j.Left, j.Right = j.Right, j.Left
		}
		if j.Cond == nil {
			j.Type = plan.JoinCross
		}
		est.memo[j] = bestRows
		cur, curRows = j, bestRows
		set |= bit
	}
	// Constant predicates go on the top join.
	if len(constPreds) > 0 {
		if j, ok := cur.(*plan.Join); ok {
			j.Cond = plan.And(append(splitAnd(j.Cond), constPreds...)...)
			j.Type = plan.JoinInner
		} else {
			cur = &plan.Filter{Input: cur, Cond: plan.And(constPreds...)}
		}
	}
	return cur
}

// hasEquality reports whether some predicate is a column equality.
func hasEquality(es []plan.Expr) bool {
	for _, e := range es {
		if _, _, ok := columnEquality(e); ok {
			return true
		}
	}
	return false
}

// columnEquality recognises col = col of the same type.
func columnEquality(p plan.Expr) (plan.ColumnID, plan.ColumnID, bool) {
	b, ok := p.(*plan.Binary)
	if !ok || b.Op != plan.OpEq {
		return 0, 0, false
	}
	l, ok1 := b.L.(*plan.ColRef)
	r, ok2 := b.R.(*plan.ColRef)
	if !ok1 || !ok2 || !arrow.TypeEqual(l.Typ, r.Typ) {
		return 0, 0, false
	}
	return l.ID, r.ID, true
}

type unionFind map[plan.ColumnID]plan.ColumnID

func newUnionFind() unionFind { return unionFind{} }

func (u unionFind) find(x plan.ColumnID) plan.ColumnID {
	for {
		p, ok := u[x]
		if !ok || p == x {
			return x
		}
		x = p
	}
}

func (u unionFind) union(a, b plan.ColumnID) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u[ra] = rb
	}
}

func trailingZeros(m uint64) int {
	i := 0
	for m&1 == 0 {
		m >>= 1
		i++
	}
	return i
}

// sortByText orders predicates by their text, so that re-optimizing a
// plan reproduces it exactly.
func sortByText(es []plan.Expr) []plan.Expr {
	out := append([]plan.Expr(nil), es...)
	slices.SortStableFunc(out, func(a, b plan.Expr) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// flipOuterJoin puts the smaller input of a hash-joinable LEFT or RIGHT
// join on the right (the build side), turning LEFT into RIGHT and back
// (TPC-H Q13: customer LEFT JOIN orders builds on customer). A Project
// restores the column order.
func flipOuterJoin(n plan.Node, est *estimator) plan.Node {
	j, ok := n.(*plan.Join)
	if !ok || j.Cond == nil || (j.Type != plan.JoinLeft && j.Type != plan.JoinRight) {
		return n
	}
	if est.rows(j.Right) <= est.rows(j.Left) {
		return n
	}
	flipped := &plan.Join{Left: j.Right, Right: j.Left, Type: plan.JoinRight, Cond: j.Cond}
	if j.Type == plan.JoinRight {
		flipped.Type = plan.JoinLeft
	}
	return projectTo(flipped, j.Schema())
}
