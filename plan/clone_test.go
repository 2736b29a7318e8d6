package plan

import (
	"regexp"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.uber.org/goleak"
)

var cloneIDRE = regexp.MustCompile(`#\d+`)

// producedIDs lists the IDs of columns created by n and its descendants
// (including subquery plans).
func producedIDs(n Node) []ColumnID {
	var out []ColumnID
	var visit func(n Node)
	visit = func(n Node) {
		WalkPlan(n, func(x Node) bool {
			switch x := x.(type) {
			case *Scan, *Values, *Project, *Aggregate, *Union:
				for _, c := range x.Schema() {
					out = append(out, c.ID)
				}
			case *Window:
				for _, c := range x.Out[len(x.Out)-len(x.Funcs):] {
					out = append(out, c.ID)
				}
			}
			for _, e := range x.Exprs() {
				WalkExpr(e, func(y Expr) bool {
					if s, ok := y.(*Subquery); ok {
						visit(s.Plan)
					}
					return true
				})
			}
			return true
		})
	}
	visit(n)
	return out
}

func refIDs(n Node) ColumnSet {
	set := ColumnSet{}
	WalkPlan(n, func(x Node) bool {
		for _, e := range x.Exprs() {
			for id := range ReferencedColumns(e) {
				set[id] = struct{}{}
			}
		}
		return true
	})
	return set
}

func TestClone(t *testing.T) {
	defer goleak.VerifyNone(t)
	ids := &IDGen{}
	i64 := arrow.PrimitiveTypes.Int64
	src := &TableSource{Name: "t", Schema: arrow.NewSchema([]arrow.Field{{Name: "a", Type: i64}, {Name: "b", Type: i64}}, nil)}
	scan := &Scan{Source: src, Cols: []int{0, 1}, Out: Schema{ids.NewColumn("a", "t", i64, false), ids.NewColumn("b", "t", i64, false)}}
	a, b := scan.Out[0].Ref(), scan.Out[1].Ref()
	// A column of an enclosing query: must be left alone.
	outer := ids.NewColumn("o", "outer", i64, false)

	sub := &Values{Rows: [][]Expr{{&Literal{Value: int64(1), Typ: i64}}}, Out: Schema{ids.NewColumn("col0", "", i64, false)}}
	subFilter := &Filter{Input: sub, Cond: Eq(sub.Out[0].Ref(), a)} // correlated on a
	filter := &Filter{Input: scan, Cond: And(Eq(a, outer.Ref()), &Subquery{Kind: SubExists, Plan: subFilter, Typ: arrow.FixedWidthTypes.Boolean})}
	proj := &Project{Input: filter, Projections: []Expr{a, &Binary{Op: OpAdd, L: a, R: b, Typ: i64}}, Out: Schema{ids.NewColumn("a", "", i64, false), ids.NewColumn("s", "", i64, false)}}
	agg := &Aggregate{Input: proj, GroupBy: []Expr{proj.Out[0].Ref()},
		Aggs: []*AggCall{{Func: "sum", Args: []Expr{proj.Out[1].Ref()}, Typ: i64}},
		Out:  Schema{ids.NewColumn("a", "", i64, false), ids.NewColumn("sum", "", i64, true)}}
	win := &Window{Input: agg, Funcs: []*WindowCall{{Func: "rank", OrderBy: []SortKey{{E: agg.Out[1].Ref(), Desc: true}}, Typ: i64,
		Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: CurrentRow}}}}}
	win.Out = append(append(Schema{}, agg.Out...), ids.NewColumn("rank", "", i64, false))
	join := &Join{Left: win, Right: &Values{Rows: [][]Expr{{&Literal{Value: int64(2), Typ: i64}}}, Out: Schema{ids.NewColumn("v", "", i64, false)}}, Type: JoinCross}
	union := &Union{Inputs: []Node{&Project{Input: join, Projections: []Expr{win.Out[2].Ref()}, Out: Schema{ids.NewColumn("r", "", i64, false)}},
		&Values{Rows: [][]Expr{{&Literal{Value: int64(3), Typ: i64}}}, Out: Schema{ids.NewColumn("col0", "", i64, false)}}}, Out: Schema{ids.NewColumn("r", "", i64, false)}}
	root := &Limit{Input: &Sort{Input: union, Keys: []SortKey{{E: union.Out[0].Ref()}}, Limit: -1}, Count: 3}

	before := Format(root)
	clone, m := Clone(root, ids)
	if Format(root) != before {
		t.Fatal("Clone modified its input")
	}
	if got, want := cloneIDRE.ReplaceAllString(Format(clone), ""), cloneIDRE.ReplaceAllString(before, ""); got != want {
		t.Fatalf("clone shape differs:\n%s\nwant\n%s", got, want)
	}
	oldIDs := producedIDs(root)
	newIDs := producedIDs(clone)
	if len(oldIDs) != len(newIDs) {
		t.Fatalf("produced %d columns, want %d", len(newIDs), len(oldIDs))
	}
	oldSet := ColumnSet{}
	for _, id := range oldIDs {
		oldSet[id] = struct{}{}
	}
	newSet := ColumnSet{}
	for i, id := range newIDs {
		if oldSet.Has(id) {
			t.Errorf("clone reuses column ID %d", id)
		}
		if newSet.Has(id) {
			t.Errorf("clone produces ID %d twice", id)
		}
		newSet[id] = struct{}{}
		if m[oldIDs[i]] != id {
			t.Errorf("map[%d] = %d, want %d", oldIDs[i], m[oldIDs[i]], id)
		}
	}
	// References point to cloned columns, except the outer one.
	var refs ColumnSet
	var collect func(n Node)
	refs = ColumnSet{}
	collect = func(n Node) {
		for id := range refIDs(n) {
			refs[id] = struct{}{}
		}
	}
	collect(clone)
	if !refs.Has(outer.ID) {
		t.Error("outer reference was lost or remapped")
	}
	for id := range refs {
		if id != outer.ID && !newSet.Has(id) {
			t.Errorf("clone refers to column %d, not one of its own", id)
		}
	}
	// The window keeps its input's (cloned) columns in front.
	cw := clone.(*Limit).Input.(*Sort).Input.(*Union).Inputs[0].(*Project).Input.(*Join).Left.(*Window)
	ca := cw.Input.Schema()
	for i := range ca {
		if cw.Out[i].ID != ca[i].ID {
			t.Errorf("window column %d: %d, want input's %d", i, cw.Out[i].ID, ca[i].ID)
		}
	}
	if cw.Funcs[0].Frame == win.Funcs[0].Frame {
		t.Error("window frame shared with the original")
	}
	// Cloning twice gives two disjoint copies.
	clone2, _ := Clone(root, ids)
	for _, id := range producedIDs(clone2) {
		if newSet.Has(id) || oldSet.Has(id) {
			t.Errorf("second clone reuses ID %d", id)
		}
	}
}
