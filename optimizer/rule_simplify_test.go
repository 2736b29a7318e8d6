package optimizer

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

func TestSimplify(t *testing.T) {
	b := newBuilder(t)
	n := b.scan("nation", "")
	key, name := b.col(n, "n_nationkey"), b.col(n, "n_name")

	// Identity Project over Filter(TRUE) disappears entirely.
	ident := &plan.Project{Input: filter(n, boolLit(true)), Projections: colRefsOf(n.Schema()), Out: n.Schema()}
	out, changed := simplify(t, b, ident)
	if !changed || out != plan.Node(n) {
		t.Errorf("identity project / Filter(TRUE) not removed:\n%s", plan.Format(out))
	}

	// A renaming Project is not an identity.
	renamed := b.ids.NewColumn("k", "", key.Typ, false)
	ren := &plan.Project{Input: n, Projections: []plan.Expr{key}, Out: plan.Schema{renamed}}
	if out, changed := simplify(t, b, ren); changed || out != plan.Node(ren) {
		t.Errorf("renaming project rewritten (changed=%v):\n%s", changed, plan.Format(out))
	}

	// Project(Project) merges; Limit moves below Project.
	plus := b.ids.NewColumn("k1", "", arrow.PrimitiveTypes.Int64, false)
	inner := &plan.Project{Input: n, Projections: []plan.Expr{bin(plan.OpAdd, key, i64(1)), name}, Out: plan.Schema{plus, n.Schema()[1]}}
	twice := b.ids.NewColumn("k2", "", arrow.PrimitiveTypes.Int64, false)
	outer := &plan.Project{Input: inner, Projections: []plan.Expr{bin(plan.OpMul, plus.Ref(), i64(2))}, Out: plan.Schema{twice}}
	out, changed = simplify(t, b, &plan.Limit{Input: outer, Count: 3})
	if !changed {
		t.Errorf("Project(Project) under Limit: did not fire")
	}
	want := "Project ((n_nationkey#1 + 1) * 2) AS k2#7\n  Limit offset=0 count=3\n    Scan nation [n_nationkey, n_name, n_regionkey, n_comment]\n"
	if got := plan.Format(out); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// Not merged when the inner computed column is used twice (it would
	// be computed twice).
	sq := &plan.Project{Input: inner, Projections: []plan.Expr{bin(plan.OpMul, plus.Ref(), plus.Ref())}, Out: plan.Schema{twice}}
	if out, _ := simplify(t, b, sq); len(out.Children()) != 1 || out.Children()[0] != plan.Node(inner) {
		t.Errorf("projects merged although a computed column is used twice:\n%s", plan.Format(out))
	}
}

// simplify runs the rule itself, not through Apply, which would hide a
// plan changed without being reported.
func simplify(t *testing.T, b *builder, n plan.Node) (plan.Node, bool) {
	t.Helper()
	out, changed, err := Simplify{}.Apply(n, &Context{IDs: b.ids})
	if err != nil {
		t.Fatal(err)
	}
	return out, changed
}
