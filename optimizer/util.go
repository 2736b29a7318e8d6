package optimizer

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

var boolType = arrow.FixedWidthTypes.Boolean

func trueLit() *plan.Literal  { return &plan.Literal{Value: true, Typ: boolType} }
func falseLit() *plan.Literal { return &plan.Literal{Value: false, Typ: boolType} }

func isFalse(e plan.Expr) bool {
	l, ok := e.(*plan.Literal)
	return ok && l.Value == false
}

// planString is the canonical text of a plan, used to detect changes.
func planString(n plan.Node) string { return plan.Format(n) }

// changedPlan reports whether two plans differ in shape or content.
func changedPlan(a, b plan.Node) bool {
	if a == b {
		return false
	}
	return planString(a) != planString(b)
}

// refs returns the columns e references (including inside subqueries).
func refs(e plan.Expr) plan.ColumnSet { return plan.ReferencedColumns(e) }

// refsAll returns the union of refs over es.
func refsAll(es []plan.Expr) plan.ColumnSet {
	out := plan.ColumnSet{}
	for _, e := range es {
		for id := range refs(e) {
			out[id] = struct{}{}
		}
	}
	return out
}

func union(a, b plan.ColumnSet) plan.ColumnSet {
	out := make(plan.ColumnSet, len(a)+len(b))
	for id := range a {
		out[id] = struct{}{}
	}
	for id := range b {
		out[id] = struct{}{}
	}
	return out
}

// produced returns every column ID defined anywhere in n's subtree.
func produced(n plan.Node) plan.ColumnSet {
	set := plan.ColumnSet{}
	plan.WalkPlan(n, func(x plan.Node) bool {
		for _, c := range x.Schema() {
			set[c.ID] = struct{}{}
		}
		return true
	})
	return set
}

// outerRefs returns the columns n's expressions reference that n's subtree
// does not produce: the correlation of a subquery plan.
func outerRefs(n plan.Node) plan.ColumnSet {
	prod := produced(n)
	out := plan.ColumnSet{}
	plan.WalkPlan(n, func(x plan.Node) bool {
		for _, e := range x.Exprs() {
			for id := range refs(e) {
				if !prod.Has(id) {
					out[id] = struct{}{}
				}
			}
		}
		return true
	})
	return out
}

// hasSubquery reports whether any of es contains a Subquery.
func hasSubquery(es ...plan.Expr) bool {
	for _, e := range es {
		if e != nil && plan.HasSubquery(e) {
			return true
		}
	}
	return false
}

// volatile reports whether e calls a function whose result changes per
// call, which must not be duplicated or moved.
func volatile(e plan.Expr) bool { return plan.Volatile(e) }

// splitAnd returns the conjuncts of e, dropping literal TRUE ones.
func splitAnd(e plan.Expr) []plan.Expr {
	var out []plan.Expr
	for _, c := range plan.SplitConjuncts(e) {
		if !plan.IsTrue(c) {
			out = append(out, c)
		}
	}
	return out
}

// colRefsOf returns ColRefs for every column of s, in order.
func colRefsOf(s plan.Schema) []plan.Expr {
	out := make([]plan.Expr, len(s))
	for i, c := range s {
		out[i] = c.Ref()
	}
	return out
}

// projectTo returns a Project producing exactly want (a subset, by ID, of
// n's columns) on top of n, or n itself if it already produces want.
func projectTo(n plan.Node, want plan.Schema) plan.Node {
	have := n.Schema()
	if sameSchemaExact(have, want) {
		return n
	}
	exprs := make([]plan.Expr, len(want))
	for i, c := range want {
		if j := have.Index(c.ID); j >= 0 {
			exprs[i] = have[j].Ref()
		} else {
			exprs[i] = c.Ref()
		}
	}
	return &plan.Project{Input: n, Projections: exprs, Out: append(plan.Schema(nil), want...)}
}

func sameSchemaExact(a, b plan.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name || a[i].Table != b[i].Table || a[i].Nullable != b[i].Nullable {
			return false
		}
	}
	return true
}

// equalitiesFirst orders conjuncts so that equalities (hash join keys)
// come first, otherwise keeping their order.
func equalitiesFirst(preds []plan.Expr) []plan.Expr {
	out := make([]plan.Expr, 0, len(preds))
	for _, p := range preds {
		if b, ok := p.(*plan.Binary); ok && b.Op == plan.OpEq {
			out = append(out, p)
		}
	}
	for _, p := range preds {
		if b, ok := p.(*plan.Binary); !ok || b.Op != plan.OpEq {
			out = append(out, p)
		}
	}
	return out
}

// sortedIDs lists a set's IDs in increasing order (deterministic plans).
func sortedIDs(set plan.ColumnSet) []plan.ColumnID {
	out := make([]plan.ColumnID, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
