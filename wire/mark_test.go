package wire_test

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/wire"
)

// markPlan is a small optimized-plan shape: a mark join with a condition
// and a mark condition, under a filter on the mark, with an ANY subquery
// left in the filter.
func markPlan() plan.Node {
	var ids plan.IDGen
	i64 := arrow.PrimitiveTypes.Int64
	l := &plan.Values{Rows: [][]plan.Expr{{&plan.Literal{Value: int64(1), Typ: i64}, &plan.Literal{Value: int64(2), Typ: i64}}},
		Out: plan.Schema{ids.NewColumn("a", "", i64, false), ids.NewColumn("b", "", i64, false)}}
	r := &plan.Values{Rows: [][]plan.Expr{{&plan.Literal{Value: int64(1), Typ: i64}, &plan.Literal{Value: nil, Typ: i64}}},
		Out: plan.Schema{ids.NewColumn("c", "", i64, false), ids.NewColumn("d", "", i64, true)}}
	mark := ids.NewColumn("mark", "", arrow.FixedWidthTypes.Boolean, true)
	j := &plan.Join{Left: l, Right: r, Type: plan.JoinMark, Cond: plan.Eq(l.Out[0].Ref(), r.Out[0].Ref()),
		MarkCond: plan.Eq(l.Out[1].Ref(), r.Out[1].Ref()), Mark: mark}
	sub := &plan.Values{Rows: [][]plan.Expr{{&plan.Literal{Value: int64(3), Typ: i64}}}, Out: plan.Schema{ids.NewColumn("e", "", i64, false)}}
	any := &plan.Subquery{Kind: plan.SubAny, Op: plan.OpGt, E: l.Out[1].Ref(), Negated: true, Typ: arrow.FixedWidthTypes.Boolean, Plan: sub}
	return &plan.Filter{Input: j, Cond: plan.Or(&plan.Unary{Op: plan.OpNot, E: mark.Ref()}, any)}
}

func TestRoundTripMarkJoin(t *testing.T) {
	n := markPlan()
	p, err := wire.EncodeLogical(n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := wire.DecodeLogical(viaBytes(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if d := structEqual(n, got); d != "" {
		t.Fatalf("differs after the wire: %s\n%s", d, plan.Format(n))
	}
	if !strings.Contains(plan.Format(got), "(b#2 <= ALL (<subquery>))") {
		t.Errorf("ALL subquery lost:\n%s", plan.Format(got))
	}
}

func TestDecodeMarkJoinRejects(t *testing.T) {
	good, err := wire.EncodeLogical(markPlan())
	if err != nil {
		t.Fatal(err)
	}
	join := func(p *pb.LogicalPlan) *pb.JoinNode { return p.Root.GetFilter().GetInput().GetJoin() }
	sub := func(p *pb.LogicalPlan) *pb.SubqueryExpr {
		return p.Root.GetFilter().GetCond().GetBinary().GetRight().GetSubquery()
	}
	for _, tc := range []struct {
		name string
		edit func(p *pb.LogicalPlan)
		want string
	}{
		{"mark without column", func(p *pb.LogicalPlan) { join(p).Mark = nil }, "without its mark column"},
		{"mark not boolean", func(p *pb.LogicalPlan) { join(p).Mark.Type = join(p).Cond.GetBinary().GetLeft().GetColRef().GetType() }, "not BOOLEAN"},
		{"inner with a mark", func(p *pb.LogicalPlan) { join(p).Type = pb.JoinType_JOIN_TYPE_INNER }, "Inner join with a mark"},
		{"unknown join type", func(p *pb.LogicalPlan) { join(p).Type = 99 }, "unknown join type"},
		{"any without comparison", func(p *pb.LogicalPlan) { sub(p).Op = pb.BinaryOp_BINARY_OP_ADD }, "ANY subquery: unknown comparison"},
		{"any without operand", func(p *pb.LogicalPlan) { sub(p).Expr = nil }, "without its left operand"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := proto.Clone(good).(*pb.LogicalPlan)
			tc.edit(p)
			_, err := wire.DecodeLogical(viaBytes(t, p))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
