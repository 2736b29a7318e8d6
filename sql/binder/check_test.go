package binder

import (
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/plan"
)

// checkPlan asserts the plan invariants the optimizer relies on: every
// column produced anywhere in the plan (subquery plans included) has a
// distinct ID, and every ColRef refers to a column of the node's inputs or
// of an enclosing query.
func checkPlan(t *testing.T, root plan.Node) {
	t.Helper()
	produced := map[plan.ColumnID]string{}
	var visit func(n plan.Node, outer plan.ColumnSet)
	visit = func(n plan.Node, outer plan.ColumnSet) {
		var fresh plan.Schema
		switch x := n.(type) {
		case *plan.Scan, *plan.Values, *plan.Project, *plan.Aggregate, *plan.Union:
			fresh = n.Schema()
		case *plan.Window:
			fresh = x.Out[len(x.Out)-len(x.Funcs):]
		}
		for _, c := range fresh {
			if prev, dup := produced[c.ID]; dup {
				t.Errorf("column ID %d produced twice: by %q and by %q", c.ID, prev, n.String())
			}
			produced[c.ID] = n.String()
		}
		avail := plan.ColumnSet{}
		for id := range outer {
			avail[id] = struct{}{}
		}
		for _, ch := range n.Children() {
			for _, c := range ch.Schema() {
				avail[c.ID] = struct{}{}
			}
		}
		if a, ok := n.(*plan.Aggregate); ok && len(a.Out) != len(a.GroupBy)+len(a.Aggs) {
			t.Errorf("aggregate output has %d columns for %d groups + %d aggs", len(a.Out), len(a.GroupBy), len(a.Aggs))
		}
		if p, ok := n.(*plan.Project); ok && len(p.Out) != len(p.Projections) {
			t.Errorf("project output has %d columns for %d projections", len(p.Out), len(p.Projections))
		}
		if s, ok := n.(*plan.Sort); ok && s.Limit != -1 {
			t.Errorf("binder must build plain sorts (Limit -1), got %d", s.Limit)
		}
		for _, e := range n.Exprs() {
			plan.WalkExpr(e, func(x plan.Expr) bool {
				switch x := x.(type) {
				case *plan.ColRef:
					if !avail.Has(x.ID) {
						t.Errorf("%s refers to %s, not produced by its inputs or an outer query", n.String(), x)
					}
				case *plan.Subquery:
					visit(x.Plan, avail)
				}
				return true
			})
		}
		for _, ch := range n.Children() {
			visit(ch, outer)
		}
	}
	visit(root, plan.ColumnSet{})
}

var idRE = regexp.MustCompile(`#\d+`)

// shape renders the plan without column IDs.
func shape(n plan.Node) string { return idRE.ReplaceAllString(plan.Format(n), "") }

func names(n plan.Node) []string {
	var out []string
	for _, c := range n.Schema() {
		out = append(out, c.Name)
	}
	return out
}

func typeNames(n plan.Node) []string {
	var out []string
	for _, c := range n.Schema() {
		out = append(out, c.Type.String())
	}
	return out
}

// find returns the first node of type T in pre-order.
func find[T plan.Node](n plan.Node) T {
	var out T
	found := false
	plan.WalkPlan(n, func(x plan.Node) bool {
		if found {
			return false
		}
		if v, ok := x.(T); ok {
			out, found = v, true
			return false
		}
		return true
	})
	return out
}

func findAll[T plan.Node](n plan.Node) []T {
	var out []T
	plan.WalkPlan(n, func(x plan.Node) bool {
		if v, ok := x.(T); ok {
			out = append(out, v)
		}
		return true
	})
	return out
}

// whereCond returns the condition of the first Filter.
func whereCond(t *testing.T, n plan.Node) plan.Expr {
	t.Helper()
	f := find[*plan.Filter](n)
	if f == nil {
		t.Fatalf("no Filter in\n%s", plan.Format(n))
	}
	return f.Cond
}

func typeIs(got, want arrow.DataType) bool { return arrow.TypeEqual(got, want) }

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("missing %q in:\n%s", sub, s)
		}
	}
}
