package plan

import "github.com/apache/arrow-go/v18/arrow"

// WalkExpr calls fn on e and its descendants in pre-order; fn returning
// false skips the node's children. Subquery plans are not entered.
func WalkExpr(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range e.Children() {
		WalkExpr(c, fn)
	}
}

// TransformExpr rebuilds e bottom-up, replacing each node by fn(node).
// Subquery plans are not entered.
func TransformExpr(e Expr, fn func(Expr) Expr) Expr {
	if e == nil {
		return nil
	}
	children := e.Children()
	if len(children) > 0 {
		changed := false
		nc := make([]Expr, len(children))
		for i, c := range children {
			nc[i] = TransformExpr(c, fn)
			if nc[i] != c {
				changed = true
			}
		}
		if changed {
			e = e.WithChildren(nc)
		}
	}
	return fn(e)
}

// ReferencedColumns returns the IDs of every ColRef in e (including refs
// inside subquery plans, which matters for correlation).
func ReferencedColumns(e Expr) ColumnSet {
	set := ColumnSet{}
	addRefs(e, set)
	return set
}

func addRefs(e Expr, set ColumnSet) {
	WalkExpr(e, func(x Expr) bool {
		switch x := x.(type) {
		case *ColRef:
			set[x.ID] = struct{}{}
		case *Subquery:
			WalkPlan(x.Plan, func(n Node) bool {
				for _, ne := range n.Exprs() {
					addRefs(ne, set)
				}
				return true
			})
		}
		return true
	})
}

// HasSubquery reports whether e contains a Subquery expression.
func HasSubquery(e Expr) bool {
	found := false
	WalkExpr(e, func(x Expr) bool {
		if _, ok := x.(*Subquery); ok {
			found = true
		}
		return !found
	})
	return found
}

// Volatile reports whether e calls a function whose result changes per
// call (random, now, ...): such an expression must not be duplicated,
// moved, or evaluated once for many rows.
func Volatile(e Expr) bool {
	found := false
	WalkExpr(e, func(x Expr) bool {
		if f, ok := x.(*Func); ok {
			switch f.Name {
			case "random", "rand", "uuid", "now", "current_timestamp":
				found = true
			}
		}
		return !found
	})
	return found
}

// SplitConjuncts flattens nested ANDs into a list of predicates.
func SplitConjuncts(e Expr) []Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*Binary); ok && b.Op == OpAnd {
		return append(SplitConjuncts(b.L), SplitConjuncts(b.R)...)
	}
	return []Expr{e}
}

// SplitDisjuncts flattens nested ORs into a list of predicates.
func SplitDisjuncts(e Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == OpOr {
		return append(SplitDisjuncts(b.L), SplitDisjuncts(b.R)...)
	}
	return []Expr{e}
}

// And combines predicates with AND; nil for an empty list.
func And(preds ...Expr) Expr {
	var out Expr
	for _, p := range preds {
		if p == nil {
			continue
		}
		if out == nil {
			out = p
		} else {
			out = &Binary{Op: OpAnd, L: out, R: p, Typ: arrow.FixedWidthTypes.Boolean}
		}
	}
	return out
}

// Or combines predicates with OR; nil for an empty list.
func Or(preds ...Expr) Expr {
	var out Expr
	for _, p := range preds {
		if out == nil {
			out = p
		} else {
			out = &Binary{Op: OpOr, L: out, R: p, Typ: arrow.FixedWidthTypes.Boolean}
		}
	}
	return out
}

// Eq builds l = r (operands must already share a type).
func Eq(l, r Expr) Expr {
	return &Binary{Op: OpEq, L: l, R: r, Typ: arrow.FixedWidthTypes.Boolean}
}

// ReplaceColumns substitutes column references by the mapped expressions.
func ReplaceColumns(e Expr, m map[ColumnID]Expr) Expr {
	return TransformExpr(e, func(x Expr) Expr {
		if r, ok := x.(*ColRef); ok {
			if y, ok := m[r.ID]; ok {
				return y
			}
		}
		return x
	})
}

// IsTrue reports whether e is the literal TRUE.
func IsTrue(e Expr) bool {
	l, ok := e.(*Literal)
	return ok && l.Value == true
}
