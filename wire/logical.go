package wire

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// EncodeLogical encodes a logical plan (optimized or not; subqueries travel
// inline) with the current PlanVersion.
func EncodeLogical(n plan.Node) (*pb.LogicalPlan, error) {
	root, err := encodeLogicalNode(n)
	if err != nil {
		return nil, fmt.Errorf("wire: encode logical plan: %w", err)
	}
	return &pb.LogicalPlan{Version: PlanVersion, Root: root}, nil
}

// DecodeLogical decodes a logical plan, rejecting other versions.
func DecodeLogical(p *pb.LogicalPlan) (n plan.Node, err error) {
	defer recoverTo(&err, "logical plan")
	if p == nil {
		return nil, errors.New("wire: decode logical plan: missing message")
	}
	if err := checkVersion("logical plan", p.Version); err != nil {
		return nil, err
	}
	n, err = decodeLogicalNode(p.Root)
	if err != nil {
		return nil, fmt.Errorf("wire: decode logical plan: %w", err)
	}
	shareSources(n, map[string]*plan.TableSource{})
	shareSubqueries(n, map[string]plan.Node{})
	return n, nil
}

// shareSubqueries makes subquery plans that were one plan before encoding
// (the binder reuses the operand of x BETWEEN a AND b for both
// comparisons) one plan again. Column IDs are unique per session and every
// binding of a subquery gets fresh ones, so two subquery plans with the
// same text, IDs included, are copies of one.
func shareSubqueries(n plan.Node, seen map[string]plan.Node) {
	plan.WalkPlan(n, func(n plan.Node) bool {
		for _, e := range n.Exprs() {
			plan.WalkExpr(e, func(e plan.Expr) bool {
				sq, ok := e.(*plan.Subquery)
				if !ok {
					return true
				}
				k := plan.Format(sq.Plan)
				if p, ok := seen[k]; ok {
					sq.Plan = p
					return true
				}
				seen[k] = sq.Plan
				shareSubqueries(sq.Plan, seen)
				return true
			})
		}
		return true
	})
}

// shareSources makes scans of equal table sources (scans travel with their
// source inline) share one *plan.TableSource again, as they do in the
// catalog that built the plan. Subquery plans are included.
func shareSources(n plan.Node, seen map[string]*plan.TableSource) {
	plan.WalkPlan(n, func(n plan.Node) bool {
		if s, ok := n.(*plan.Scan); ok {
			k := sourceKey(s.Source)
			if t, ok := seen[k]; ok {
				s.Source = t
			} else {
				seen[k] = s.Source
			}
		}
		for _, e := range n.Exprs() {
			plan.WalkExpr(e, func(e plan.Expr) bool {
				if sq, ok := e.(*plan.Subquery); ok {
					shareSources(sq.Plan, seen)
				}
				return true
			})
		}
		return true
	})
}

func sourceKey(t *plan.TableSource) string {
	keys := make([]string, 0, len(t.Options))
	for k := range t.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %q %d %s", t.Name, t.Format, t.Location, t.RowCount, t.Schema)
	for _, k := range keys {
		fmt.Fprintf(&b, " %q=%q", k, t.Options[k])
	}
	return b.String()
}

func encodeLogicalNodes(ns []plan.Node) ([]*pb.LogicalNode, error) {
	out := make([]*pb.LogicalNode, len(ns))
	for i, n := range ns {
		p, err := encodeLogicalNode(n)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

func encodeRows(rows [][]plan.Expr) ([]*pb.Row, error) {
	out := make([]*pb.Row, len(rows))
	for i, r := range rows {
		vs, err := encodeExprs(r)
		if err != nil {
			return nil, fmt.Errorf("row %d%w", i, err)
		}
		out[i] = &pb.Row{Values: vs}
	}
	return out, nil
}

func decodeRows(ps []*pb.Row) ([][]plan.Expr, error) {
	out := make([][]plan.Expr, len(ps))
	for i, r := range ps {
		vs, err := decodeExprs(r.GetValues())
		if err != nil {
			return nil, fmt.Errorf("row %d%w", i, err)
		}
		out[i] = vs
	}
	return out, nil
}

func intsToPB(xs []int) []int32 {
	if xs == nil {
		return nil
	}
	out := make([]int32, len(xs))
	for i, x := range xs {
		out[i] = int32(x)
	}
	return out
}

func intsFromPB(xs []int32) []int {
	if len(xs) == 0 {
		return nil
	}
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

// checkCols verifies scan column indexes against the table schema.
func checkCols(cols []int32, t *plan.TableSource, out int) error {
	n := t.Schema.NumFields()
	for _, c := range cols {
		if c < 0 || int(c) >= n {
			return fmt.Errorf("table %s: column index %d out of range (table has %d columns)", t.Name, c, n)
		}
	}
	if len(cols) != out {
		return fmt.Errorf("table %s: %d column indexes for %d output columns", t.Name, len(cols), out)
	}
	return nil
}

func encodeLogicalNode(n plan.Node) (*pb.LogicalNode, error) {
	switch n := n.(type) {
	case nil:
		return nil, errors.New("missing plan node")
	case *plan.Scan:
		src, err := encodeTableSource(n.Source)
		if err != nil {
			return nil, fmt.Errorf("Scan: %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, fmt.Errorf("Scan %s: %w", n.Source.Name, err)
		}
		filters, err := encodeExprs(n.Filters)
		if err != nil {
			return nil, fmt.Errorf("Scan %s filters%w", n.Source.Name, err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Scan{Scan: &pb.ScanNode{Source: src, Cols: intsToPB(n.Cols), Out: out, Filters: filters}}}, nil
	case *plan.Values:
		rows, err := encodeRows(n.Rows)
		if err != nil {
			return nil, fmt.Errorf("Values: %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, fmt.Errorf("Values: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Values{Values: &pb.ValuesNode{Rows: rows, Out: out}}}, nil
	case *plan.Filter:
		in, err := encodeLogicalNode(n.Input)
		if err != nil {
			return nil, err
		}
		cond, err := encodeExpr(n.Cond)
		if err != nil {
			return nil, fmt.Errorf("Filter: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Filter{Filter: &pb.FilterNode{Input: in, Cond: cond}}}, nil
	case *plan.Project:
		in, err := encodeLogicalNode(n.Input)
		if err != nil {
			return nil, err
		}
		es, err := encodeExprs(n.Projections)
		if err != nil {
			return nil, fmt.Errorf("Project%w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, fmt.Errorf("Project: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Project{Project: &pb.ProjectNode{Input: in, Projections: es, Out: out}}}, nil
	case *plan.Aggregate:
		in, err := encodeLogicalNode(n.Input)
		if err != nil {
			return nil, err
		}
		groups, err := encodeExprs(n.GroupBy)
		if err != nil {
			return nil, fmt.Errorf("Aggregate group%w", err)
		}
		aggs := make([]*pb.AggCall, len(n.Aggs))
		for i, a := range n.Aggs {
			if aggs[i], err = encodeAggCall(a); err != nil {
				return nil, fmt.Errorf("Aggregate: %w", err)
			}
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, fmt.Errorf("Aggregate: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Aggregate{Aggregate: &pb.AggregateNode{Input: in, GroupBy: groups, Aggs: aggs, Out: out}}}, nil
	case *plan.Join:
		if n.Type < plan.JoinInner || n.Type > plan.JoinMark {
			return nil, fmt.Errorf("Join: unknown join type %d", n.Type)
		}
		l, err := encodeLogicalNode(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := encodeLogicalNode(n.Right)
		if err != nil {
			return nil, err
		}
		cond, err := encodeOptExpr(n.Cond)
		if err != nil {
			return nil, fmt.Errorf("Join %s: %w", n.Type, err)
		}
		mc, mark, err := encodeMark(n.Type, n.MarkCond, n.Mark)
		if err != nil {
			return nil, fmt.Errorf("Join: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Join{Join: &pb.JoinNode{Left: l, Right: r, Type: pb.JoinType(n.Type), Cond: cond,
			NullAware: n.NullAware, MarkCond: mc, Mark: mark}}}, nil
	case *plan.Sort:
		in, err := encodeLogicalNode(n.Input)
		if err != nil {
			return nil, err
		}
		keys, err := encodeSortKeys(n.Keys)
		if err != nil {
			return nil, fmt.Errorf("Sort: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Sort{Sort: &pb.SortNode{Input: in, Keys: keys, Limit: n.Limit}}}, nil
	case *plan.Limit:
		in, err := encodeLogicalNode(n.Input)
		if err != nil {
			return nil, err
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Limit{Limit: &pb.LimitNode{Input: in, Offset: n.Offset, Count: n.Count}}}, nil
	case *plan.Union:
		ins, err := encodeLogicalNodes(n.Inputs)
		if err != nil {
			return nil, fmt.Errorf("Union %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, fmt.Errorf("Union: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Union{Union: &pb.UnionNode{Inputs: ins, Out: out}}}, nil
	case *plan.Window:
		in, err := encodeLogicalNode(n.Input)
		if err != nil {
			return nil, err
		}
		funcs := make([]*pb.WindowCall, len(n.Funcs))
		for i, f := range n.Funcs {
			if funcs[i], err = encodeWindowCall(f); err != nil {
				return nil, fmt.Errorf("Window: %w", err)
			}
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, fmt.Errorf("Window: %w", err)
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Window{Window: &pb.WindowNode{Input: in, Funcs: funcs, Out: out}}}, nil
	case *plan.Predict:
		in, err := encodeLogicalNode(n.Input)
		if err != nil {
			return nil, err
		}
		p, err := encodePredict(n.Model, n.Features, n.Kinds, n.Out)
		if err != nil {
			return nil, err
		}
		return &pb.LogicalNode{Kind: &pb.LogicalNode_Predict{Predict: &pb.PredictNode{Input: in, Model: p.model,
			Features: p.features, Kinds: p.kinds, Out: p.out}}}, nil
	}
	return nil, fmt.Errorf("logical node type %T cannot be encoded", n)
}

func decodeLogicalNode(p *pb.LogicalNode) (plan.Node, error) {
	if p == nil {
		return nil, errors.New("missing plan node")
	}
	switch k := p.Kind.(type) {
	case *pb.LogicalNode_Scan:
		s := k.Scan
		src, err := decodeTableSource(s.GetSource())
		if err != nil {
			return nil, fmt.Errorf("Scan: %w", err)
		}
		out, err := decodeSchema(s.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Scan %s: %w", src.Name, err)
		}
		if err := checkCols(s.GetCols(), src, len(out)); err != nil {
			return nil, fmt.Errorf("Scan: %w", err)
		}
		filters, err := decodeExprs(s.GetFilters())
		if err != nil {
			return nil, fmt.Errorf("Scan %s filters%w", src.Name, err)
		}
		return &plan.Scan{Source: src, Cols: intsFromPB(s.GetCols()), Out: out, Filters: filters}, nil
	case *pb.LogicalNode_Values:
		rows, err := decodeRows(k.Values.GetRows())
		if err != nil {
			return nil, fmt.Errorf("Values: %w", err)
		}
		out, err := decodeSchema(k.Values.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Values: %w", err)
		}
		for i, r := range rows {
			if len(r) != len(out) {
				return nil, fmt.Errorf("Values: row %d has %d values for %d columns", i, len(r), len(out))
			}
		}
		return &plan.Values{Rows: rows, Out: out}, nil
	case *pb.LogicalNode_Filter:
		in, err := decodeLogicalNode(k.Filter.GetInput())
		if err != nil {
			return nil, err
		}
		cond, err := decodeExpr(k.Filter.GetCond())
		if err != nil {
			return nil, fmt.Errorf("Filter: %w", err)
		}
		return &plan.Filter{Input: in, Cond: cond}, nil
	case *pb.LogicalNode_Project:
		in, err := decodeLogicalNode(k.Project.GetInput())
		if err != nil {
			return nil, err
		}
		es, err := decodeExprs(k.Project.GetProjections())
		if err != nil {
			return nil, fmt.Errorf("Project%w", err)
		}
		out, err := decodeSchema(k.Project.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Project: %w", err)
		}
		if len(es) != len(out) {
			return nil, fmt.Errorf("Project: %d expressions for %d output columns", len(es), len(out))
		}
		return &plan.Project{Input: in, Projections: es, Out: out}, nil
	case *pb.LogicalNode_Aggregate:
		a := k.Aggregate
		in, err := decodeLogicalNode(a.GetInput())
		if err != nil {
			return nil, err
		}
		groups, err := decodeExprs(a.GetGroupBy())
		if err != nil {
			return nil, fmt.Errorf("Aggregate group%w", err)
		}
		var aggs []*plan.AggCall
		for _, pa := range a.GetAggs() {
			c, err := decodeAggCall(pa)
			if err != nil {
				return nil, fmt.Errorf("Aggregate: %w", err)
			}
			aggs = append(aggs, c)
		}
		out, err := decodeSchema(a.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Aggregate: %w", err)
		}
		if len(out) != len(groups)+len(aggs) {
			return nil, fmt.Errorf("Aggregate: %d output columns for %d groups and %d aggregates", len(out), len(groups), len(aggs))
		}
		return &plan.Aggregate{Input: in, GroupBy: groups, Aggs: aggs, Out: out}, nil
	case *pb.LogicalNode_Join:
		j := k.Join
		if j.GetType() < pb.JoinType_JOIN_TYPE_INNER || j.GetType() > pb.JoinType_JOIN_TYPE_MARK {
			return nil, fmt.Errorf("Join: unknown join type %d", j.GetType())
		}
		l, err := decodeLogicalNode(j.GetLeft())
		if err != nil {
			return nil, fmt.Errorf("Join left: %w", err)
		}
		r, err := decodeLogicalNode(j.GetRight())
		if err != nil {
			return nil, fmt.Errorf("Join right: %w", err)
		}
		cond, err := decodeOptExpr(j.GetCond())
		if err != nil {
			return nil, fmt.Errorf("Join: %w", err)
		}
		typ := plan.JoinType(j.GetType())
		mc, mark, err := decodeMark(typ, j.GetMarkCond(), j.GetMark())
		if err != nil {
			return nil, fmt.Errorf("Join: %w", err)
		}
		return &plan.Join{Left: l, Right: r, Type: typ, Cond: cond, NullAware: j.GetNullAware(), MarkCond: mc, Mark: mark}, nil
	case *pb.LogicalNode_Sort:
		in, err := decodeLogicalNode(k.Sort.GetInput())
		if err != nil {
			return nil, err
		}
		keys, err := decodeSortKeys(k.Sort.GetKeys())
		if err != nil {
			return nil, fmt.Errorf("Sort: %w", err)
		}
		return &plan.Sort{Input: in, Keys: keys, Limit: k.Sort.GetLimit()}, nil
	case *pb.LogicalNode_Limit:
		in, err := decodeLogicalNode(k.Limit.GetInput())
		if err != nil {
			return nil, err
		}
		return &plan.Limit{Input: in, Offset: k.Limit.GetOffset(), Count: k.Limit.GetCount()}, nil
	case *pb.LogicalNode_Union:
		u := k.Union
		if len(u.GetInputs()) == 0 {
			return nil, errors.New("Union: no inputs")
		}
		ins := make([]plan.Node, len(u.Inputs))
		for i, pi := range u.Inputs {
			n, err := decodeLogicalNode(pi)
			if err != nil {
				return nil, fmt.Errorf("Union input %d: %w", i, err)
			}
			ins[i] = n
		}
		out, err := decodeSchema(u.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Union: %w", err)
		}
		return &plan.Union{Inputs: ins, Out: out}, nil
	case *pb.LogicalNode_Window:
		w := k.Window
		in, err := decodeLogicalNode(w.GetInput())
		if err != nil {
			return nil, err
		}
		var funcs []*plan.WindowCall
		for _, pf := range w.GetFuncs() {
			f, err := decodeWindowCall(pf)
			if err != nil {
				return nil, fmt.Errorf("Window: %w", err)
			}
			funcs = append(funcs, f)
		}
		out, err := decodeSchema(w.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Window: %w", err)
		}
		return &plan.Window{Input: in, Funcs: funcs, Out: out}, nil
	case *pb.LogicalNode_Predict:
		p := k.Predict
		in, err := decodeLogicalNode(p.GetInput())
		if err != nil {
			return nil, err
		}
		m, feats, kinds, out, err := decodePredict(predictParts{p.GetModel(), p.GetFeatures(), p.GetKinds(), p.GetOut()}, len(in.Schema()))
		if err != nil {
			return nil, err
		}
		return &plan.Predict{Input: in, Model: m, Features: feats, Kinds: kinds, Out: out}, nil
	}
	return nil, errors.New("plan node has no kind set")
}

// MaxColumnID returns the highest column ID n produces or refers to,
// subquery plans included. A process that decodes a plan calls
// IDGen.Reserve with it before planning, so that the IDs the optimizer and
// the physical planner hand out never collide with the client's.
func MaxColumnID(n plan.Node) plan.ColumnID {
	var top plan.ColumnID
	var walk func(plan.Node)
	walk = func(n plan.Node) {
		plan.WalkPlan(n, func(n plan.Node) bool {
			for _, c := range n.Schema() {
				top = max(top, c.ID)
			}
			for _, e := range n.Exprs() {
				plan.WalkExpr(e, func(e plan.Expr) bool {
					switch e := e.(type) {
					case *plan.ColRef:
						top = max(top, e.ID)
					case *plan.Subquery:
						walk(e.Plan)
					}
					return true
				})
			}
			return true
		})
	}
	if n != nil {
		walk(n)
	}
	return top
}
