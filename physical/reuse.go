package physical

import (
	"fmt"
	"strings"

	"github.com/flint-engine/flint/plan"
)

// Reused stands, as the input of an Exchange, for another Exchange that
// computes the same data (Spark's ReusedExchange): the stage that produces
// Of's data serves both. Out is this exchange's own columns — the same
// types in the same order as Of's, under the IDs its consumers use — so
// consumers bind positions exactly as they would to their own copy.
type Reused struct {
	Of  *Exchange
	Out plan.Schema
}

func (n *Reused) Schema() plan.Schema { return n.Out }
func (n *Reused) Children() []Node    { return nil }
func (n *Reused) String() string      { return "Reused exchange" }

// ReuseExchanges finds hash and single exchanges whose inputs compute the
// same rows — the same operators over the same tables with the same
// expressions, up to column IDs, as a CTE referenced twice gives (TPC-H
// Q15's revenue view) — and makes every later one read the first one's
// stage instead of computing the rows again. Broadcast exchanges are left
// alone: their consumers share hash tables keyed by the exchange.
func ReuseExchanges(root Node) Node {
	seen := map[string]*Exchange{}
	var walk func(n Node)
	walk = func(n Node) {
		for _, c := range n.Children() {
			walk(c)
		}
		ex, ok := n.(*Exchange)
		if !ok || ex.Kind == ExchangeBroadcast {
			return
		}
		if _, done := ex.Input.(*Reused); done {
			return
		}
		fp, ok := fingerprint(ex)
		if !ok {
			return
		}
		if first, ok := seen[fp]; ok && first != ex {
			ex.Input = &Reused{Of: first, Out: ex.Input.Schema()}
			return
		}
		seen[fp] = ex
	}
	walk(root)
	return root
}

// fingerprint renders a subtree with column IDs numbered in order of first
// appearance, so two subtrees that differ only in IDs render the same. ok
// is false when the subtree holds a node kind it does not know.
func fingerprint(n Node) (string, bool) {
	f := &fingerprinter{ids: map[plan.ColumnID]plan.ColumnID{}}
	if !f.node(n) {
		return "", false
	}
	return f.b.String(), true
}

type fingerprinter struct {
	b   strings.Builder
	ids map[plan.ColumnID]plan.ColumnID
}

func (f *fingerprinter) id(id plan.ColumnID) plan.ColumnID {
	c, ok := f.ids[id]
	if !ok {
		c = plan.ColumnID(len(f.ids) + 1)
		f.ids[id] = c
	}
	return c
}

func (f *fingerprinter) expr(e plan.Expr) {
	if e == nil {
		f.b.WriteString("<nil>")
		return
	}
	m := map[plan.ColumnID]plan.Expr{}
	plan.WalkExpr(e, func(x plan.Expr) bool {
		if r, ok := x.(*plan.ColRef); ok {
			c := *r
			c.ID = f.id(r.ID)
			m[r.ID] = &c
		}
		return true
	})
	fmt.Fprintf(&f.b, "%s:%s", plan.ReplaceColumns(e, m), e.Type())
}

func (f *fingerprinter) refs(rs []*plan.ColRef) {
	f.b.WriteString("[")
	for _, r := range rs {
		f.expr(r)
		f.b.WriteString(",")
	}
	f.b.WriteString("]")
}

func (f *fingerprinter) schema(s plan.Schema) {
	f.b.WriteString("{")
	for _, c := range s {
		fmt.Fprintf(&f.b, "%s#%d:%s:%v,", c.Name, f.id(c.ID), c.Type, c.Nullable)
	}
	f.b.WriteString("}")
}

func (f *fingerprinter) node(n Node) bool {
	// Children first, so that IDs are numbered bottom-up the same way in
	// both copies.
	f.b.WriteString("(")
	for _, c := range n.Children() {
		if !f.node(c) {
			return false
		}
	}
	switch x := n.(type) {
	case *Scan:
		fmt.Fprintf(&f.b, "Scan %s %s %q %v", x.Source.Format, x.Source.Name, x.Source.Location, x.Cols)
		f.schema(x.Out)
		f.expr(x.Filter)
	case *Filter:
		f.b.WriteString("Filter ")
		f.expr(x.Cond)
	case *Project:
		f.b.WriteString("Project ")
		for _, e := range x.Exprs {
			f.expr(e)
			f.b.WriteString(",")
		}
		f.schema(x.Out)
	case *HashAgg:
		fmt.Fprintf(&f.b, "HashAgg %d ", x.Mode)
		f.refs(x.Groups)
		for _, a := range x.Aggs {
			f.expr(a)
			f.b.WriteString(",")
		}
		f.schema(x.Out)
	case *HashJoin:
		fmt.Fprintf(&f.b, "HashJoin %d %v %v %v ", x.Type, x.NullAware, x.Broadcast, x.KeepBuild)
		f.refs(x.LeftKeys)
		f.refs(x.RightKeys)
		f.expr(x.Residual)
		f.expr(x.MarkCond)
		f.schema(x.Out)
	case *Predict:
		fmt.Fprintf(&f.b, "Predict %q %q %v ", x.Model.Location, x.Model.SHA256, x.Kinds)
		for _, e := range x.Features {
			f.expr(e)
			f.b.WriteString(",")
		}
		f.schema(x.Out)
	case *Exchange:
		if _, ok := x.Input.(*Reused); ok {
			return false
		}
		fmt.Fprintf(&f.b, "Exchange %d %d ", x.Kind, x.Partitions)
		f.refs(x.Keys)
	default:
		return false
	}
	f.b.WriteString(")")
	return true
}
