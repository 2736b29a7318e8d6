package wire

import (
	"errors"
	"fmt"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// StageInput stands, in a plan decoded from a Task, for the producer
// subtree of an exchange the task reads: that subtree ran in other tasks,
// so only its columns are known. It is the Input of such an Exchange.
type StageInput struct {
	// Stage is the producing stage (the exchange ID).
	Stage int
	Out   plan.Schema
}

func (n *StageInput) Schema() plan.Schema       { return n.Out }
func (n *StageInput) Children() []physical.Node { return nil }
func (n *StageInput) String() string            { return fmt.Sprintf("StageInput %d", n.Stage) }

var _ physical.Node = (*StageInput)(nil)

// nodeEncoder writes physical nodes into a node table, children first,
// each Go node once.
type nodeEncoder struct {
	sources  []*pb.TableSource
	srcIndex map[*plan.TableSource]int32
	nodes    []*pb.PhysicalNode
	index    map[physical.Node]int32
	// leafExchanges encodes every Exchange met below the stage root as a
	// leaf without its input (Task encoding).
	leafExchanges bool
}

func newNodeEncoder() *nodeEncoder {
	return &nodeEncoder{srcIndex: map[*plan.TableSource]int32{}, index: map[physical.Node]int32{}}
}

func (e *nodeEncoder) source(t *plan.TableSource) (int32, error) {
	if i, ok := e.srcIndex[t]; ok {
		return i, nil
	}
	p, err := encodeTableSource(t)
	if err != nil {
		return 0, err
	}
	i := int32(len(e.sources))
	e.sources = append(e.sources, p)
	e.srcIndex[t] = i
	return i, nil
}

func (e *nodeEncoder) add(n physical.Node, p *pb.PhysicalNode) int32 {
	i := int32(len(e.nodes))
	e.nodes = append(e.nodes, p)
	e.index[n] = i
	return i
}

func encodePhysSortKeys(ks []physical.SortKey) ([]*pb.PhysSortKey, error) {
	out := make([]*pb.PhysSortKey, len(ks))
	for i, k := range ks {
		c, err := encodeColRef(k.Col)
		if err != nil {
			return nil, fmt.Errorf("sort key %d: %w", i, err)
		}
		out[i] = &pb.PhysSortKey{Col: c, Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	return out, nil
}

func decodePhysSortKeys(ps []*pb.PhysSortKey) ([]physical.SortKey, error) {
	out := make([]physical.SortKey, len(ps))
	for i, p := range ps {
		c, err := decodeColRef(p.GetCol())
		if err != nil {
			return nil, fmt.Errorf("sort key %d: %w", i, err)
		}
		out[i] = physical.SortKey{Col: c, Desc: p.GetDesc(), NullsFirst: p.GetNullsFirst()}
	}
	return out, nil
}

func encodePredicates(ps []connectors.Predicate) ([]*pb.Predicate, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]*pb.Predicate, len(ps))
	for i, p := range ps {
		v, err := encodeValue(p.Value)
		if err != nil {
			return nil, fmt.Errorf("prune predicate %d: %w", i, err)
		}
		out[i] = &pb.Predicate{Column: int32(p.Column), Op: p.Op, Value: v}
	}
	return out, nil
}

func decodePredicates(ps []*pb.Predicate) ([]connectors.Predicate, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]connectors.Predicate, len(ps))
	for i, p := range ps {
		v, err := decodeValue(p.GetValue())
		if err != nil {
			return nil, fmt.Errorf("prune predicate %d: %w", i, err)
		}
		out[i] = connectors.Predicate{Column: int(p.GetColumn()), Op: p.GetOp(), Value: v}
	}
	return out, nil
}

func (e *nodeEncoder) aggCalls(as []*plan.AggCall) ([]*pb.AggCall, error) {
	out := make([]*pb.AggCall, len(as))
	for i, a := range as {
		p, err := encodeAggCall(a)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// node encodes n (and its subtree) and returns its index in the table.
func (e *nodeEncoder) node(n physical.Node) (int32, error) {
	if n == nil {
		return 0, errors.New("missing physical node")
	}
	if i, ok := e.index[n]; ok {
		return i, nil
	}
	in := func(c physical.Node) (int32, error) { return e.node(c) }
	switch n := n.(type) {
	case *physical.Scan:
		if n.Source == nil {
			return 0, errors.New("Scan: missing table source")
		}
		src, err := e.source(n.Source)
		if err != nil {
			return 0, fmt.Errorf("Scan: %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("Scan %s: %w", n.Source.Name, err)
		}
		filter, err := encodeOptExpr(n.Filter)
		if err != nil {
			return 0, fmt.Errorf("Scan %s filter: %w", n.Source.Name, err)
		}
		prune, err := encodePredicates(n.Prune)
		if err != nil {
			return 0, fmt.Errorf("Scan %s: %w", n.Source.Name, err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Scan{Scan: &pb.PhysScan{Source: src, Cols: intsToPB(n.Cols),
			Out: out, Filter: filter, Prune: prune}}}), nil
	case *physical.Values:
		rows, err := encodeRows(n.Rows)
		if err != nil {
			return 0, fmt.Errorf("Values: %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("Values: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Values{Values: &pb.PhysValues{Rows: rows, Out: out}}}), nil
	case *physical.Filter:
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		cond, err := encodeExpr(n.Cond)
		if err != nil {
			return 0, fmt.Errorf("Filter: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Filter{Filter: &pb.PhysFilter{Input: i, Cond: cond}}}), nil
	case *physical.Project:
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		es, err := encodeExprs(n.Exprs)
		if err != nil {
			return 0, fmt.Errorf("Project%w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("Project: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Project{Project: &pb.PhysProject{Input: i, Exprs: es, Out: out}}}), nil
	case *physical.HashAgg:
		if n.Mode < physical.AggSingle || n.Mode > physical.AggFinal {
			return 0, fmt.Errorf("HashAggregate: unknown mode %d", n.Mode)
		}
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		groups, err := encodeColRefs(n.Groups)
		if err != nil {
			return 0, fmt.Errorf("HashAggregate group: %w", err)
		}
		aggs, err := e.aggCalls(n.Aggs)
		if err != nil {
			return 0, fmt.Errorf("HashAggregate: %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("HashAggregate: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_HashAgg{HashAgg: &pb.PhysHashAgg{Input: i, Mode: pb.AggMode(n.Mode),
			Groups: groups, Aggs: aggs, Out: out}}}), nil
	case *physical.HashJoin:
		if n.Type < plan.JoinInner || n.Type > plan.JoinMark {
			return 0, fmt.Errorf("HashJoin: unknown join type %d", n.Type)
		}
		l, err := in(n.Left)
		if err != nil {
			return 0, err
		}
		r, err := in(n.Right)
		if err != nil {
			return 0, err
		}
		lk, err := encodeColRefs(n.LeftKeys)
		if err != nil {
			return 0, fmt.Errorf("HashJoin left keys: %w", err)
		}
		rk, err := encodeColRefs(n.RightKeys)
		if err != nil {
			return 0, fmt.Errorf("HashJoin right keys: %w", err)
		}
		res, err := encodeOptExpr(n.Residual)
		if err != nil {
			return 0, fmt.Errorf("HashJoin residual: %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("HashJoin: %w", err)
		}
		mc, mark, err := encodeMark(n.Type, n.MarkCond, n.Mark)
		if err != nil {
			return 0, fmt.Errorf("HashJoin: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_HashJoin{HashJoin: &pb.PhysHashJoin{Left: l, Right: r,
			Type: pb.JoinType(n.Type), LeftKeys: lk, RightKeys: rk, Residual: res, NullAware: n.NullAware,
			Broadcast: n.Broadcast, KeepBuild: n.KeepBuild, Out: out, MarkCond: mc, Mark: mark}}}), nil
	case *physical.NestedLoopJoin:
		if n.Type < plan.JoinInner || n.Type > plan.JoinMark {
			return 0, fmt.Errorf("NestedLoopJoin: unknown join type %d", n.Type)
		}
		l, err := in(n.Left)
		if err != nil {
			return 0, err
		}
		r, err := in(n.Right)
		if err != nil {
			return 0, err
		}
		cond, err := encodeOptExpr(n.Cond)
		if err != nil {
			return 0, fmt.Errorf("NestedLoopJoin: %w", err)
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("NestedLoopJoin: %w", err)
		}
		mc, mark, err := encodeMark(n.Type, n.MarkCond, n.Mark)
		if err != nil {
			return 0, fmt.Errorf("NestedLoopJoin: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_NestedLoopJoin{NestedLoopJoin: &pb.PhysNestedLoopJoin{Left: l, Right: r,
			Type: pb.JoinType(n.Type), Cond: cond, Out: out, MarkCond: mc, Mark: mark}}}), nil
	case *physical.Sort:
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		keys, err := encodePhysSortKeys(n.Keys)
		if err != nil {
			return 0, fmt.Errorf("Sort: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Sort{Sort: &pb.PhysSort{Input: i, Keys: keys, Limit: n.Limit}}}), nil
	case *physical.MergeSorted:
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		keys, err := encodePhysSortKeys(n.Keys)
		if err != nil {
			return 0, fmt.Errorf("MergeSorted: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_MergeSorted{MergeSorted: &pb.PhysMergeSorted{Input: i, Keys: keys, Limit: n.Limit}}}), nil
	case *physical.Limit:
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Limit{Limit: &pb.PhysLimit{Input: i, Offset: n.Offset, Count: n.Count}}}), nil
	case *physical.Union:
		ins := make([]int32, len(n.Inputs))
		for k, c := range n.Inputs {
			i, err := in(c)
			if err != nil {
				return 0, err
			}
			ins[k] = i
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("Union: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Union{Union: &pb.PhysUnion{Inputs: ins, Out: out}}}), nil
	case *physical.Window:
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		funcs := make([]*pb.WindowCall, len(n.Funcs))
		for k, f := range n.Funcs {
			if funcs[k], err = encodeWindowCall(f); err != nil {
				return 0, fmt.Errorf("Window: %w", err)
			}
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return 0, fmt.Errorf("Window: %w", err)
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Window{Window: &pb.PhysWindow{Input: i, Funcs: funcs, Out: out}}}), nil
	case *physical.Predict:
		i, err := in(n.Input)
		if err != nil {
			return 0, err
		}
		p, err := encodePredict(n.Model, n.Features, n.Kinds, n.Out)
		if err != nil {
			return 0, err
		}
		return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Predict{Predict: &pb.PhysPredict{Input: i, Model: p.model,
			Features: p.features, Kinds: p.kinds, Out: p.out}}}), nil
	case *physical.Exchange:
		return e.exchange(n, e.leafExchanges)
	case *physical.Write:
		return e.write(n)
	case *StageInput:
		return 0, fmt.Errorf("StageInput %d can only appear below an Exchange", n.Stage)
	case *physical.Reused:
		return 0, errors.New("a reused exchange's input can only appear below an Exchange")
	}
	return 0, fmt.Errorf("physical node type %T cannot be encoded", n)
}

// exchange encodes an Exchange, as a leaf (schema, no input) when leaf is
// set or when its input is a StageInput.
func (e *nodeEncoder) exchange(n *physical.Exchange, leaf bool) (int32, error) {
	if n.Kind < physical.ExchangeHash || n.Kind > physical.ExchangeRoundRobin {
		return 0, fmt.Errorf("Exchange %d: unknown kind %d", n.ID, n.Kind)
	}
	switch n.Input.(type) {
	case *StageInput, *physical.Reused:
		// A reused exchange reads another exchange's stage: only its
		// columns travel; DecodeStagePlan links it back (see relinkReused).
		leaf = true
	}
	keys, err := encodeColRefs(n.Keys)
	if err != nil {
		return 0, fmt.Errorf("Exchange %d keys: %w", n.ID, err)
	}
	p := &pb.PhysExchange{Kind: pb.ExchangeKind(n.Kind), Keys: keys, Partitions: int32(n.Partitions), Id: int32(n.ID)}
	if n.Input == nil {
		return 0, fmt.Errorf("Exchange %d: missing input", n.ID)
	}
	if leaf {
		if p.Schema, err = encodeSchema(n.Input.Schema()); err != nil {
			return 0, fmt.Errorf("Exchange %d: %w", n.ID, err)
		}
	} else {
		i, err := e.node(n.Input)
		if err != nil {
			return 0, err
		}
		p.Input = &i
	}
	return e.add(n, &pb.PhysicalNode{Kind: &pb.PhysicalNode_Exchange{Exchange: p}}), nil
}

// nodeDecoder rebuilds a node table; every child index must point to an
// earlier entry, so the table is acyclic by construction.
type nodeDecoder struct {
	sources []*plan.TableSource
	nodes   []physical.Node
}

func newNodeDecoder(sources []*pb.TableSource, nodes []*pb.PhysicalNode) (*nodeDecoder, error) {
	d := &nodeDecoder{sources: make([]*plan.TableSource, len(sources)), nodes: make([]physical.Node, 0, len(nodes))}
	for i, s := range sources {
		t, err := decodeTableSource(s)
		if err != nil {
			return nil, fmt.Errorf("source %d: %w", i, err)
		}
		d.sources[i] = t
	}
	for i, p := range nodes {
		n, err := d.node(p)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		d.nodes = append(d.nodes, n)
	}
	return d, nil
}

// ref returns the already decoded node at index i.
func (d *nodeDecoder) ref(i int32) (physical.Node, error) {
	if i < 0 || int(i) >= len(d.nodes) {
		return nil, fmt.Errorf("node reference %d out of range (want 0..%d: children come first)", i, len(d.nodes)-1)
	}
	return d.nodes[i], nil
}

func (d *nodeDecoder) exchangeRef(i int32) (*physical.Exchange, error) {
	n, err := d.ref(i)
	if err != nil {
		return nil, err
	}
	ex, ok := n.(*physical.Exchange)
	if !ok {
		return nil, fmt.Errorf("node %d is %T, want an Exchange", i, n)
	}
	return ex, nil
}

func decodeAggCalls(ps []*pb.AggCall) ([]*plan.AggCall, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]*plan.AggCall, len(ps))
	for i, p := range ps {
		a, err := decodeAggCall(p)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

func decodeJoinType(t pb.JoinType) (plan.JoinType, error) {
	if t < pb.JoinType_JOIN_TYPE_INNER || t > pb.JoinType_JOIN_TYPE_MARK {
		return 0, fmt.Errorf("unknown join type %d", t)
	}
	return plan.JoinType(t), nil
}

func (d *nodeDecoder) node(p *pb.PhysicalNode) (physical.Node, error) {
	if p == nil {
		return nil, errors.New("missing physical node")
	}
	switch k := p.Kind.(type) {
	case *pb.PhysicalNode_Scan:
		s := k.Scan
		si := s.GetSource()
		if si < 0 || int(si) >= len(d.sources) {
			return nil, fmt.Errorf("Scan: source %d out of range (%d sources)", si, len(d.sources))
		}
		src := d.sources[si]
		out, err := decodeSchema(s.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Scan %s: %w", src.Name, err)
		}
		if err := checkCols(s.GetCols(), src, len(out)); err != nil {
			return nil, fmt.Errorf("Scan: %w", err)
		}
		filter, err := decodeOptExpr(s.GetFilter())
		if err != nil {
			return nil, fmt.Errorf("Scan %s filter: %w", src.Name, err)
		}
		prune, err := decodePredicates(s.GetPrune())
		if err != nil {
			return nil, fmt.Errorf("Scan %s: %w", src.Name, err)
		}
		return &physical.Scan{Source: src, Cols: intsFromPB(s.GetCols()), Out: out, Filter: filter, Prune: prune}, nil
	case *pb.PhysicalNode_Values:
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
		return &physical.Values{Rows: rows, Out: out}, nil
	case *pb.PhysicalNode_Filter:
		in, err := d.ref(k.Filter.GetInput())
		if err != nil {
			return nil, fmt.Errorf("Filter: %w", err)
		}
		cond, err := decodeExpr(k.Filter.GetCond())
		if err != nil {
			return nil, fmt.Errorf("Filter: %w", err)
		}
		return &physical.Filter{Input: in, Cond: cond}, nil
	case *pb.PhysicalNode_Project:
		pr := k.Project
		in, err := d.ref(pr.GetInput())
		if err != nil {
			return nil, fmt.Errorf("Project: %w", err)
		}
		es, err := decodeExprs(pr.GetExprs())
		if err != nil {
			return nil, fmt.Errorf("Project%w", err)
		}
		out, err := decodeSchema(pr.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Project: %w", err)
		}
		if len(es) != len(out) {
			return nil, fmt.Errorf("Project: %d expressions for %d output columns", len(es), len(out))
		}
		return &physical.Project{Input: in, Exprs: es, Out: out}, nil
	case *pb.PhysicalNode_HashAgg:
		a := k.HashAgg
		if a.GetMode() < pb.AggMode_AGG_MODE_SINGLE || a.GetMode() > pb.AggMode_AGG_MODE_FINAL {
			return nil, fmt.Errorf("HashAggregate: unknown mode %d", a.GetMode())
		}
		in, err := d.ref(a.GetInput())
		if err != nil {
			return nil, fmt.Errorf("HashAggregate: %w", err)
		}
		groups, err := decodeColRefs(a.GetGroups())
		if err != nil {
			return nil, fmt.Errorf("HashAggregate group: %w", err)
		}
		aggs, err := decodeAggCalls(a.GetAggs())
		if err != nil {
			return nil, fmt.Errorf("HashAggregate: %w", err)
		}
		out, err := decodeSchema(a.GetOut())
		if err != nil {
			return nil, fmt.Errorf("HashAggregate: %w", err)
		}
		return &physical.HashAgg{Input: in, Mode: physical.AggMode(a.GetMode()), Groups: groups, Aggs: aggs, Out: out}, nil
	case *pb.PhysicalNode_HashJoin:
		j := k.HashJoin
		typ, err := decodeJoinType(j.GetType())
		if err != nil {
			return nil, fmt.Errorf("HashJoin: %w", err)
		}
		l, err := d.ref(j.GetLeft())
		if err != nil {
			return nil, fmt.Errorf("HashJoin left: %w", err)
		}
		r, err := d.ref(j.GetRight())
		if err != nil {
			return nil, fmt.Errorf("HashJoin right: %w", err)
		}
		lk, err := decodeColRefs(j.GetLeftKeys())
		if err != nil {
			return nil, fmt.Errorf("HashJoin left keys: %w", err)
		}
		rk, err := decodeColRefs(j.GetRightKeys())
		if err != nil {
			return nil, fmt.Errorf("HashJoin right keys: %w", err)
		}
		if len(lk) != len(rk) {
			return nil, fmt.Errorf("HashJoin: %d left keys but %d right keys", len(lk), len(rk))
		}
		res, err := decodeOptExpr(j.GetResidual())
		if err != nil {
			return nil, fmt.Errorf("HashJoin residual: %w", err)
		}
		out, err := decodeSchema(j.GetOut())
		if err != nil {
			return nil, fmt.Errorf("HashJoin: %w", err)
		}
		mc, mark, err := decodeMark(typ, j.GetMarkCond(), j.GetMark())
		if err != nil {
			return nil, fmt.Errorf("HashJoin: %w", err)
		}
		return &physical.HashJoin{Left: l, Right: r, Type: typ, LeftKeys: lk, RightKeys: rk, Residual: res,
			NullAware: j.GetNullAware(), Broadcast: j.GetBroadcast(), KeepBuild: j.GetKeepBuild(), Out: out,
			MarkCond: mc, Mark: mark}, nil
	case *pb.PhysicalNode_NestedLoopJoin:
		j := k.NestedLoopJoin
		typ, err := decodeJoinType(j.GetType())
		if err != nil {
			return nil, fmt.Errorf("NestedLoopJoin: %w", err)
		}
		l, err := d.ref(j.GetLeft())
		if err != nil {
			return nil, fmt.Errorf("NestedLoopJoin left: %w", err)
		}
		r, err := d.ref(j.GetRight())
		if err != nil {
			return nil, fmt.Errorf("NestedLoopJoin right: %w", err)
		}
		cond, err := decodeOptExpr(j.GetCond())
		if err != nil {
			return nil, fmt.Errorf("NestedLoopJoin: %w", err)
		}
		out, err := decodeSchema(j.GetOut())
		if err != nil {
			return nil, fmt.Errorf("NestedLoopJoin: %w", err)
		}
		mc, mark, err := decodeMark(typ, j.GetMarkCond(), j.GetMark())
		if err != nil {
			return nil, fmt.Errorf("NestedLoopJoin: %w", err)
		}
		return &physical.NestedLoopJoin{Left: l, Right: r, Type: typ, Cond: cond, Out: out, MarkCond: mc, Mark: mark}, nil
	case *pb.PhysicalNode_Sort:
		in, err := d.ref(k.Sort.GetInput())
		if err != nil {
			return nil, fmt.Errorf("Sort: %w", err)
		}
		keys, err := decodePhysSortKeys(k.Sort.GetKeys())
		if err != nil {
			return nil, fmt.Errorf("Sort: %w", err)
		}
		return &physical.Sort{Input: in, Keys: keys, Limit: k.Sort.GetLimit()}, nil
	case *pb.PhysicalNode_MergeSorted:
		in, err := d.ref(k.MergeSorted.GetInput())
		if err != nil {
			return nil, fmt.Errorf("MergeSorted: %w", err)
		}
		keys, err := decodePhysSortKeys(k.MergeSorted.GetKeys())
		if err != nil {
			return nil, fmt.Errorf("MergeSorted: %w", err)
		}
		return &physical.MergeSorted{Input: in, Keys: keys, Limit: k.MergeSorted.GetLimit()}, nil
	case *pb.PhysicalNode_Limit:
		in, err := d.ref(k.Limit.GetInput())
		if err != nil {
			return nil, fmt.Errorf("Limit: %w", err)
		}
		return &physical.Limit{Input: in, Offset: k.Limit.GetOffset(), Count: k.Limit.GetCount()}, nil
	case *pb.PhysicalNode_Union:
		u := k.Union
		if len(u.GetInputs()) == 0 {
			return nil, errors.New("Union: no inputs")
		}
		ins := make([]physical.Node, len(u.GetInputs()))
		for i, r := range u.GetInputs() {
			n, err := d.ref(r)
			if err != nil {
				return nil, fmt.Errorf("Union input %d: %w", i, err)
			}
			ins[i] = n
		}
		out, err := decodeSchema(u.GetOut())
		if err != nil {
			return nil, fmt.Errorf("Union: %w", err)
		}
		return &physical.Union{Inputs: ins, Out: out}, nil
	case *pb.PhysicalNode_Window:
		w := k.Window
		in, err := d.ref(w.GetInput())
		if err != nil {
			return nil, fmt.Errorf("Window: %w", err)
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
		return &physical.Window{Input: in, Funcs: funcs, Out: out}, nil
	case *pb.PhysicalNode_Predict:
		p := k.Predict
		in, err := d.ref(p.GetInput())
		if err != nil {
			return nil, fmt.Errorf("Predict: %w", err)
		}
		m, feats, kinds, out, err := decodePredict(predictParts{p.GetModel(), p.GetFeatures(), p.GetKinds(), p.GetOut()}, len(in.Schema()))
		if err != nil {
			return nil, err
		}
		return &physical.Predict{Input: in, Model: m, Features: feats, Kinds: kinds, Out: out}, nil
	case *pb.PhysicalNode_Write:
		return d.write(k.Write)
	case *pb.PhysicalNode_Exchange:
		x := k.Exchange
		if x.GetKind() < pb.ExchangeKind_EXCHANGE_KIND_HASH || x.GetKind() > pb.ExchangeKind_EXCHANGE_KIND_ROUND_ROBIN {
			return nil, fmt.Errorf("Exchange %d: unknown kind %d", x.GetId(), x.GetKind())
		}
		keys, err := decodeColRefs(x.GetKeys())
		if err != nil {
			return nil, fmt.Errorf("Exchange %d keys: %w", x.GetId(), err)
		}
		if x.GetKind() == pb.ExchangeKind_EXCHANGE_KIND_HASH && x.GetPartitions() < 1 {
			return nil, fmt.Errorf("Exchange %d: hash exchange with %d partitions", x.GetId(), x.GetPartitions())
		}
		ex := &physical.Exchange{Kind: physical.ExchangeKind(x.GetKind()), Keys: keys, Partitions: int(x.GetPartitions()), ID: int(x.GetId())}
		if x.Input != nil {
			if ex.Input, err = d.ref(x.GetInput()); err != nil {
				return nil, fmt.Errorf("Exchange %d: %w", x.GetId(), err)
			}
		} else {
			out, err := decodeSchema(x.GetSchema())
			if err != nil {
				return nil, fmt.Errorf("Exchange %d without input: %w", x.GetId(), err)
			}
			ex.Input = &StageInput{Stage: ex.ID, Out: out}
		}
		return ex, nil
	}
	return nil, errors.New("physical node has no kind set")
}

// stage rebuilds a Stage whose node references index d's table, checking
// that Output is an Exchange over Root and Scan a Scan.
func (d *nodeDecoder) stage(p *pb.Stage) (*physical.Stage, error) {
	if p == nil {
		return nil, errors.New("missing stage")
	}
	root, err := d.ref(p.GetRoot())
	if err != nil {
		return nil, fmt.Errorf("stage %d root: %w", p.GetId(), err)
	}
	s := &physical.Stage{ID: int(p.GetId()), Root: root, Inputs: intsFromPB(p.GetInputs()), Tasks: int(p.GetTasks())}
	if p.Output != nil {
		ex, err := d.exchangeRef(p.GetOutput())
		if err != nil {
			return nil, fmt.Errorf("stage %d output: %w", s.ID, err)
		}
		if ex.Input != root {
			return nil, fmt.Errorf("stage %d: output exchange %d does not read the stage root", s.ID, ex.ID)
		}
		if ex.ID != s.ID {
			return nil, fmt.Errorf("stage %d: output exchange has ID %d", s.ID, ex.ID)
		}
		s.Output = ex
	}
	if p.Scan != nil {
		n, err := d.ref(p.GetScan())
		if err != nil {
			return nil, fmt.Errorf("stage %d scan: %w", s.ID, err)
		}
		sc, ok := n.(*physical.Scan)
		if !ok {
			return nil, fmt.Errorf("stage %d scan: node %d is %T, want a Scan", s.ID, p.GetScan(), n)
		}
		s.Scan = sc
	}
	if s.Scan == nil && s.Tasks < 1 {
		return nil, fmt.Errorf("stage %d: %d tasks", s.ID, s.Tasks)
	}
	return s, nil
}

// encodeStage encodes s; its nodes must already be in e's table.
func (e *nodeEncoder) stage(s *physical.Stage) (*pb.Stage, error) {
	if s == nil {
		return nil, errors.New("missing stage")
	}
	root, err := e.node(s.Root)
	if err != nil {
		return nil, fmt.Errorf("stage %d: %w", s.ID, err)
	}
	p := &pb.Stage{Id: int32(s.ID), Root: root, Inputs: intsToPB(s.Inputs), Tasks: int32(s.Tasks)}
	if s.Output != nil {
		if s.Output.Input != s.Root {
			return nil, fmt.Errorf("stage %d: output exchange does not read the stage root", s.ID)
		}
		// The output exchange is usually already in the table as a leaf of
		// a consumer stage encoded earlier (or of the plan root): reuse that
		// entry so both places decode to one Exchange again.
		i, ok := e.index[s.Output]
		if !ok {
			var err error
			if i, err = e.exchange(s.Output, false); err != nil {
				return nil, fmt.Errorf("stage %d output: %w", s.ID, err)
			}
		}
		p.Output = &i
	}
	if s.Scan != nil {
		i, ok := e.index[s.Scan]
		if !ok {
			return nil, fmt.Errorf("stage %d: its scan of %s is not inside its root", s.ID, s.Scan.Source.Name)
		}
		p.Scan = &i
	}
	return p, nil
}

// EncodeStagePlan encodes a physical plan cut into stages, keeping exchange
// IDs and the sharing between stage roots, outputs, scans and the plan's
// Root.
func EncodeStagePlan(sp *physical.StagePlan) (*pb.StagePlan, error) {
	if sp == nil {
		return nil, errors.New("wire: encode stage plan: missing plan")
	}
	e := newNodeEncoder()
	root, err := e.node(sp.Root)
	if err != nil {
		return nil, fmt.Errorf("wire: encode stage plan: %w", err)
	}
	p := &pb.StagePlan{Version: PlanVersion, Root: root}
	for _, s := range sp.Stages {
		ps, err := e.stage(s)
		if err != nil {
			return nil, fmt.Errorf("wire: encode stage plan: %w", err)
		}
		p.Stages = append(p.Stages, ps)
	}
	p.Sources, p.Nodes = e.sources, e.nodes
	return p, nil
}

// DecodeStagePlan decodes a stage plan. It checks that stages are in
// dependency order with IDs equal to their positions (the driver indexes
// stages by ID), that every stage reads only earlier stages, and that each
// output exchange reads its stage's root.
func DecodeStagePlan(p *pb.StagePlan) (sp *physical.StagePlan, err error) {
	defer recoverTo(&err, "stage plan")
	if p == nil {
		return nil, errors.New("wire: decode stage plan: missing message")
	}
	if err := checkVersion("stage plan", p.Version); err != nil {
		return nil, err
	}
	d, err := newNodeDecoder(p.Sources, p.Nodes)
	if err != nil {
		return nil, fmt.Errorf("wire: decode stage plan: %w", err)
	}
	root, err := d.ref(p.Root)
	if err != nil {
		return nil, fmt.Errorf("wire: decode stage plan root: %w", err)
	}
	if len(p.Stages) == 0 {
		return nil, errors.New("wire: decode stage plan: no stages")
	}
	sp = &physical.StagePlan{Root: root}
	for i, ps := range p.Stages {
		s, err := d.stage(ps)
		if err != nil {
			return nil, fmt.Errorf("wire: decode stage plan: %w", err)
		}
		if s.ID != i {
			return nil, fmt.Errorf("wire: decode stage plan: stage at position %d has ID %d", i, s.ID)
		}
		for _, in := range s.Inputs {
			if in < 0 || in >= i {
				return nil, fmt.Errorf("wire: decode stage plan: stage %d reads stage %d, which does not come before it", i, in)
			}
		}
		if (s.Output == nil) != (i == len(p.Stages)-1) {
			return nil, fmt.Errorf("wire: decode stage plan: stage %d: only the last stage has no output exchange", i)
		}
		sp.Stages = append(sp.Stages, s)
	}
	relinkReused(sp)
	if sp.Final().Root != root {
		return nil, errors.New("wire: decode stage plan: the last stage's root is not the plan root")
	}
	return sp, nil
}

// relinkReused turns the leaf exchanges of a decoded stage plan that read a
// stage whose output is another exchange back into physical.Reused of that
// exchange (physical.ReuseExchanges made them so before encoding).
func relinkReused(sp *physical.StagePlan) {
	for _, st := range sp.Stages {
		var walk func(n physical.Node)
		walk = func(n physical.Node) {
			if ex, ok := n.(*physical.Exchange); ok {
				if in, ok := ex.Input.(*StageInput); ok && ex.ID >= 0 && ex.ID < len(sp.Stages) {
					if out := sp.Stages[ex.ID].Output; out != nil && out != ex {
						ex.Input = &physical.Reused{Of: out, Out: in.Out}
					}
				}
				return // an exchange's input belongs to its producer stage
			}
			for _, c := range n.Children() {
				walk(c)
			}
		}
		walk(st.Root)
	}
}
