package wire

import (
	"errors"
	"fmt"

	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

var binaryOps = map[plan.BinaryOp]pb.BinaryOp{
	plan.OpEq: pb.BinaryOp_BINARY_OP_EQ, plan.OpNotEq: pb.BinaryOp_BINARY_OP_NOT_EQ,
	plan.OpLt: pb.BinaryOp_BINARY_OP_LT, plan.OpLtEq: pb.BinaryOp_BINARY_OP_LT_EQ,
	plan.OpGt: pb.BinaryOp_BINARY_OP_GT, plan.OpGtEq: pb.BinaryOp_BINARY_OP_GT_EQ,
	plan.OpIsNotDistinct: pb.BinaryOp_BINARY_OP_IS_NOT_DISTINCT, plan.OpIsDistinct: pb.BinaryOp_BINARY_OP_IS_DISTINCT,
	plan.OpAnd: pb.BinaryOp_BINARY_OP_AND, plan.OpOr: pb.BinaryOp_BINARY_OP_OR,
	plan.OpAdd: pb.BinaryOp_BINARY_OP_ADD, plan.OpSub: pb.BinaryOp_BINARY_OP_SUB,
	plan.OpMul: pb.BinaryOp_BINARY_OP_MUL, plan.OpDiv: pb.BinaryOp_BINARY_OP_DIV,
	plan.OpMod: pb.BinaryOp_BINARY_OP_MOD,
}

var unaryOps = map[plan.UnaryOp]pb.UnaryOp{
	plan.OpNot: pb.UnaryOp_UNARY_OP_NOT, plan.OpNeg: pb.UnaryOp_UNARY_OP_NEG,
	plan.OpIsNull: pb.UnaryOp_UNARY_OP_IS_NULL, plan.OpIsNotNull: pb.UnaryOp_UNARY_OP_IS_NOT_NULL,
}

var binaryOpsDecoded, unaryOpsDecoded = invert(binaryOps), invert(unaryOps)

func invert[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// EncodeExpr encodes a logical expression. Subquery plans are encoded
// inline.
func EncodeExpr(e plan.Expr) (*pb.Expr, error) {
	if e == nil {
		return nil, errors.New("wire: encode expression: missing expression")
	}
	p, err := encodeExpr(e)
	if err != nil {
		return nil, fmt.Errorf("wire: encode expression %s: %w", e, err)
	}
	return p, nil
}

// DecodeExpr decodes a logical expression.
func DecodeExpr(p *pb.Expr) (e plan.Expr, err error) {
	defer recoverTo(&err, "expression")
	e, err = decodeExpr(p)
	if err != nil {
		return nil, fmt.Errorf("wire: decode expression: %w", err)
	}
	return e, nil
}

func encodeExprs(es []plan.Expr) ([]*pb.Expr, error) {
	if len(es) == 0 {
		return nil, nil
	}
	out := make([]*pb.Expr, len(es))
	for i, e := range es {
		p, err := encodeExpr(e)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

func decodeExprs(ps []*pb.Expr) ([]plan.Expr, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]plan.Expr, len(ps))
	for i, p := range ps {
		e, err := decodeExpr(p)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = e
	}
	return out, nil
}

// encodeOptExpr encodes an optional expression (nil stays nil).
func encodeOptExpr(e plan.Expr) (*pb.Expr, error) {
	if e == nil {
		return nil, nil
	}
	return encodeExpr(e)
}

func decodeOptExpr(p *pb.Expr) (plan.Expr, error) {
	if p == nil {
		return nil, nil
	}
	return decodeExpr(p)
}

func encodeColRef(c *plan.ColRef) (*pb.ColRef, error) {
	if c == nil {
		return nil, errors.New("missing column reference")
	}
	t, err := EncodeType(c.Typ)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", c, err)
	}
	return &pb.ColRef{Id: int32(c.ID), Name: c.Name, Type: t, Nullable: c.Null}, nil
}

func decodeColRef(p *pb.ColRef) (*plan.ColRef, error) {
	if p == nil {
		return nil, errors.New("missing column reference")
	}
	t, err := DecodeType(p.Type)
	if err != nil {
		return nil, fmt.Errorf("column %s#%d: %w", p.Name, p.Id, err)
	}
	return &plan.ColRef{ID: plan.ColumnID(p.Id), Name: p.Name, Typ: t, Null: p.Nullable}, nil
}

func encodeColRefs(cs []*plan.ColRef) ([]*pb.ColRef, error) {
	out := make([]*pb.ColRef, len(cs))
	for i, c := range cs {
		p, err := encodeColRef(c)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

func decodeColRefs(ps []*pb.ColRef) ([]*plan.ColRef, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]*plan.ColRef, len(ps))
	for i, p := range ps {
		c, err := decodeColRef(p)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func encodeLiteral(l *plan.Literal) (*pb.Literal, error) {
	if l == nil {
		return nil, errors.New("missing literal")
	}
	v, err := encodeValue(l.Value)
	if err != nil {
		return nil, err
	}
	t, err := EncodeType(l.Typ)
	if err != nil {
		return nil, fmt.Errorf("literal %s: %w", l, err)
	}
	return &pb.Literal{Value: v, Type: t}, nil
}

func decodeLiteral(p *pb.Literal) (*plan.Literal, error) {
	if p == nil {
		return nil, errors.New("missing literal")
	}
	v, err := decodeValue(p.Value)
	if err != nil {
		return nil, fmt.Errorf("literal: %w", err)
	}
	t, err := DecodeType(p.Type)
	if err != nil {
		return nil, fmt.Errorf("literal: %w", err)
	}
	return &plan.Literal{Value: v, Typ: t}, nil
}

func encodeAggCall(a *plan.AggCall) (*pb.AggCall, error) {
	if a == nil {
		return nil, errors.New("missing aggregate call")
	}
	args, err := encodeExprs(a.Args)
	if err != nil {
		return nil, fmt.Errorf("aggregate %s args%w", a.Func, err)
	}
	filter, err := encodeOptExpr(a.Filter)
	if err != nil {
		return nil, fmt.Errorf("aggregate %s filter: %w", a.Func, err)
	}
	t, err := EncodeType(a.Typ)
	if err != nil {
		return nil, fmt.Errorf("aggregate %s: %w", a.Func, err)
	}
	return &pb.AggCall{Func: a.Func, Args: args, Distinct: a.Distinct, Filter: filter, Type: t}, nil
}

func decodeAggCall(p *pb.AggCall) (*plan.AggCall, error) {
	if p == nil {
		return nil, errors.New("missing aggregate call")
	}
	if p.Func == "" {
		return nil, errors.New("aggregate call without a function name")
	}
	args, err := decodeExprs(p.Args)
	if err != nil {
		return nil, fmt.Errorf("aggregate %s args%w", p.Func, err)
	}
	filter, err := decodeOptExpr(p.Filter)
	if err != nil {
		return nil, fmt.Errorf("aggregate %s filter: %w", p.Func, err)
	}
	t, err := DecodeType(p.Type)
	if err != nil {
		return nil, fmt.Errorf("aggregate %s: %w", p.Func, err)
	}
	return &plan.AggCall{Func: p.Func, Args: args, Distinct: p.Distinct, Filter: filter, Typ: t}, nil
}

func encodeExpr(e plan.Expr) (*pb.Expr, error) {
	switch e := e.(type) {
	case nil:
		return nil, errors.New("missing expression")
	case *plan.ColRef:
		c, err := encodeColRef(e)
		if err != nil {
			return nil, err
		}
		return &pb.Expr{Kind: &pb.Expr_ColRef{ColRef: c}}, nil
	case *plan.Literal:
		l, err := encodeLiteral(e)
		if err != nil {
			return nil, err
		}
		return &pb.Expr{Kind: &pb.Expr_Literal{Literal: l}}, nil
	case *plan.Binary:
		op, ok := binaryOps[e.Op]
		if !ok {
			return nil, fmt.Errorf("binary operator %q cannot be encoded", e.Op)
		}
		l, err := encodeExpr(e.L)
		if err != nil {
			return nil, fmt.Errorf("%s left: %w", e.Op, err)
		}
		r, err := encodeExpr(e.R)
		if err != nil {
			return nil, fmt.Errorf("%s right: %w", e.Op, err)
		}
		t, err := EncodeType(e.Typ)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Op, err)
		}
		return &pb.Expr{Kind: &pb.Expr_Binary{Binary: &pb.BinaryExpr{Op: op, Left: l, Right: r, Type: t}}}, nil
	case *plan.Unary:
		op, ok := unaryOps[e.Op]
		if !ok {
			return nil, fmt.Errorf("unary operator %q cannot be encoded", e.Op)
		}
		x, err := encodeExpr(e.E)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Op, err)
		}
		return &pb.Expr{Kind: &pb.Expr_Unary{Unary: &pb.UnaryExpr{Op: op, Expr: x}}}, nil
	case *plan.Cast:
		x, err := encodeExpr(e.E)
		if err != nil {
			return nil, fmt.Errorf("cast: %w", err)
		}
		t, err := EncodeType(e.To)
		if err != nil {
			return nil, fmt.Errorf("cast: %w", err)
		}
		return &pb.Expr{Kind: &pb.Expr_Cast{Cast: &pb.CastExpr{Expr: x, To: t}}}, nil
	case *plan.Case:
		p := &pb.CaseExpr{Whens: make([]*pb.When, len(e.Whens))}
		for i, w := range e.Whens {
			c, err := encodeExpr(w.Cond)
			if err != nil {
				return nil, fmt.Errorf("case when %d: %w", i, err)
			}
			v, err := encodeExpr(w.Value)
			if err != nil {
				return nil, fmt.Errorf("case then %d: %w", i, err)
			}
			p.Whens[i] = &pb.When{Cond: c, Value: v}
		}
		var err error
		if p.Else, err = encodeOptExpr(e.Else); err != nil {
			return nil, fmt.Errorf("case else: %w", err)
		}
		if p.Type, err = EncodeType(e.Typ); err != nil {
			return nil, fmt.Errorf("case: %w", err)
		}
		return &pb.Expr{Kind: &pb.Expr_Case{Case: p}}, nil
	case *plan.InList:
		x, err := encodeExpr(e.E)
		if err != nil {
			return nil, fmt.Errorf("in: %w", err)
		}
		p := &pb.InListExpr{Expr: x, Negated: e.Negated, List: make([]*pb.Literal, len(e.List))}
		for i, l := range e.List {
			if p.List[i], err = encodeLiteral(l); err != nil {
				return nil, fmt.Errorf("in list [%d]: %w", i, err)
			}
		}
		return &pb.Expr{Kind: &pb.Expr_InList{InList: p}}, nil
	case *plan.Like:
		x, err := encodeExpr(e.E)
		if err != nil {
			return nil, fmt.Errorf("like: %w", err)
		}
		return &pb.Expr{Kind: &pb.Expr_Like{Like: &pb.LikeExpr{Expr: x, Pattern: e.Pattern, Escape: e.Escape,
			Negated: e.Negated, CaseInsensitive: e.CaseInsensitive}}}, nil
	case *plan.Func:
		args, err := encodeExprs(e.Args)
		if err != nil {
			return nil, fmt.Errorf("function %s args%w", e.Name, err)
		}
		t, err := EncodeType(e.Typ)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", e.Name, err)
		}
		return &pb.Expr{Kind: &pb.Expr_Func{Func: &pb.FuncExpr{Name: e.Name, Args: args, Type: t}}}, nil
	case *plan.AggCall:
		a, err := encodeAggCall(e)
		if err != nil {
			return nil, err
		}
		return &pb.Expr{Kind: &pb.Expr_AggCall{AggCall: a}}, nil
	case *plan.Subquery:
		if e.Kind < plan.SubScalar || e.Kind > plan.SubAny {
			return nil, fmt.Errorf("unknown subquery kind %d", e.Kind)
		}
		var op pb.BinaryOp
		if e.Kind == plan.SubAny {
			var ok bool
			if op, ok = binaryOps[e.Op]; !ok || !e.Op.IsComparison() {
				return nil, fmt.Errorf("ANY subquery: unknown comparison %q", e.Op)
			}
		}
		sub, err := encodeLogicalNode(e.Plan)
		if err != nil {
			return nil, fmt.Errorf("subquery: %w", err)
		}
		x, err := encodeOptExpr(e.E)
		if err != nil {
			return nil, fmt.Errorf("subquery operand: %w", err)
		}
		t, err := EncodeType(e.Typ)
		if err != nil {
			return nil, fmt.Errorf("subquery: %w", err)
		}
		return &pb.Expr{Kind: &pb.Expr_Subquery{Subquery: &pb.SubqueryExpr{Kind: pb.SubqueryKind(e.Kind), Plan: sub,
			Expr: x, Negated: e.Negated, Type: t, Op: op}}}, nil
	}
	return nil, fmt.Errorf("expression type %T cannot be encoded", e)
}

func decodeExpr(p *pb.Expr) (plan.Expr, error) {
	if p == nil {
		return nil, errors.New("missing expression")
	}
	switch k := p.Kind.(type) {
	case *pb.Expr_ColRef:
		return decodeColRef(k.ColRef)
	case *pb.Expr_Literal:
		return decodeLiteral(k.Literal)
	case *pb.Expr_Binary:
		b := k.Binary
		if b == nil {
			return nil, errors.New("binary: missing")
		}
		op, ok := binaryOpsDecoded[b.Op]
		if !ok {
			return nil, fmt.Errorf("binary: unknown operator %d", b.Op)
		}
		l, err := decodeExpr(b.Left)
		if err != nil {
			return nil, fmt.Errorf("%s left: %w", op, err)
		}
		r, err := decodeExpr(b.Right)
		if err != nil {
			return nil, fmt.Errorf("%s right: %w", op, err)
		}
		t, err := DecodeType(b.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return &plan.Binary{Op: op, L: l, R: r, Typ: t}, nil
	case *pb.Expr_Unary:
		u := k.Unary
		if u == nil {
			return nil, errors.New("unary: missing")
		}
		op, ok := unaryOpsDecoded[u.Op]
		if !ok {
			return nil, fmt.Errorf("unary: unknown operator %d", u.Op)
		}
		x, err := decodeExpr(u.Expr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return &plan.Unary{Op: op, E: x}, nil
	case *pb.Expr_Cast:
		c := k.Cast
		if c == nil {
			return nil, errors.New("cast: missing")
		}
		x, err := decodeExpr(c.Expr)
		if err != nil {
			return nil, fmt.Errorf("cast: %w", err)
		}
		t, err := DecodeType(c.To)
		if err != nil {
			return nil, fmt.Errorf("cast: %w", err)
		}
		return &plan.Cast{E: x, To: t}, nil
	case *pb.Expr_Case:
		c := k.Case
		if c == nil || len(c.Whens) == 0 {
			return nil, errors.New("case: no WHEN arms")
		}
		e := &plan.Case{Whens: make([]plan.When, len(c.Whens))}
		for i, w := range c.Whens {
			if w == nil {
				return nil, fmt.Errorf("case when %d: missing", i)
			}
			cond, err := decodeExpr(w.Cond)
			if err != nil {
				return nil, fmt.Errorf("case when %d: %w", i, err)
			}
			v, err := decodeExpr(w.Value)
			if err != nil {
				return nil, fmt.Errorf("case then %d: %w", i, err)
			}
			e.Whens[i] = plan.When{Cond: cond, Value: v}
		}
		var err error
		if e.Else, err = decodeOptExpr(c.Else); err != nil {
			return nil, fmt.Errorf("case else: %w", err)
		}
		if e.Typ, err = DecodeType(c.Type); err != nil {
			return nil, fmt.Errorf("case: %w", err)
		}
		return e, nil
	case *pb.Expr_InList:
		in := k.InList
		if in == nil {
			return nil, errors.New("in: missing")
		}
		x, err := decodeExpr(in.Expr)
		if err != nil {
			return nil, fmt.Errorf("in: %w", err)
		}
		e := &plan.InList{E: x, Negated: in.Negated, List: make([]*plan.Literal, len(in.List))}
		for i, l := range in.List {
			if e.List[i], err = decodeLiteral(l); err != nil {
				return nil, fmt.Errorf("in list [%d]: %w", i, err)
			}
		}
		return e, nil
	case *pb.Expr_Like:
		l := k.Like
		if l == nil {
			return nil, errors.New("like: missing")
		}
		x, err := decodeExpr(l.Expr)
		if err != nil {
			return nil, fmt.Errorf("like: %w", err)
		}
		return &plan.Like{E: x, Pattern: l.Pattern, Escape: l.Escape, Negated: l.Negated, CaseInsensitive: l.CaseInsensitive}, nil
	case *pb.Expr_Func:
		f := k.Func
		if f == nil || f.Name == "" {
			return nil, errors.New("function call without a name")
		}
		args, err := decodeExprs(f.Args)
		if err != nil {
			return nil, fmt.Errorf("function %s args%w", f.Name, err)
		}
		t, err := DecodeType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		return &plan.Func{Name: f.Name, Args: args, Typ: t}, nil
	case *pb.Expr_AggCall:
		return decodeAggCall(k.AggCall)
	case *pb.Expr_Subquery:
		s := k.Subquery
		if s == nil {
			return nil, errors.New("subquery: missing")
		}
		if s.Kind < pb.SubqueryKind_SUBQUERY_KIND_SCALAR || s.Kind > pb.SubqueryKind_SUBQUERY_KIND_ANY {
			return nil, fmt.Errorf("subquery: unknown kind %d", s.Kind)
		}
		sub, err := decodeLogicalNode(s.Plan)
		if err != nil {
			return nil, fmt.Errorf("subquery: %w", err)
		}
		x, err := decodeOptExpr(s.Expr)
		if err != nil {
			return nil, fmt.Errorf("subquery operand: %w", err)
		}
		if (s.Kind == pb.SubqueryKind_SUBQUERY_KIND_IN || s.Kind == pb.SubqueryKind_SUBQUERY_KIND_ANY) && x == nil {
			return nil, errors.New("IN/ANY subquery without its left operand")
		}
		var op plan.BinaryOp
		if s.Kind == pb.SubqueryKind_SUBQUERY_KIND_ANY {
			var ok bool
			if op, ok = binaryOpsDecoded[s.Op]; !ok || !op.IsComparison() {
				return nil, fmt.Errorf("ANY subquery: unknown comparison %d", s.Op)
			}
		}
		t, err := DecodeType(s.Type)
		if err != nil {
			return nil, fmt.Errorf("subquery: %w", err)
		}
		return &plan.Subquery{Kind: plan.SubqueryKind(s.Kind), Plan: sub, E: x, Op: op, Negated: s.Negated, Typ: t}, nil
	}
	return nil, errors.New("expression has no kind set")
}

func encodeSortKeys(ks []plan.SortKey) ([]*pb.SortKey, error) {
	out := make([]*pb.SortKey, len(ks))
	for i, k := range ks {
		e, err := encodeExpr(k.E)
		if err != nil {
			return nil, fmt.Errorf("sort key %d: %w", i, err)
		}
		out[i] = &pb.SortKey{Expr: e, Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	return out, nil
}

func decodeSortKeys(ps []*pb.SortKey) ([]plan.SortKey, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]plan.SortKey, len(ps))
	for i, p := range ps {
		if p == nil {
			return nil, fmt.Errorf("sort key %d: missing", i)
		}
		e, err := decodeExpr(p.Expr)
		if err != nil {
			return nil, fmt.Errorf("sort key %d: %w", i, err)
		}
		out[i] = plan.SortKey{E: e, Desc: p.Desc, NullsFirst: p.NullsFirst}
	}
	return out, nil
}

func encodeWindowCall(w *plan.WindowCall) (*pb.WindowCall, error) {
	if w == nil {
		return nil, errors.New("missing window call")
	}
	p := &pb.WindowCall{Func: w.Func}
	var err error
	if p.Args, err = encodeExprs(w.Args); err != nil {
		return nil, fmt.Errorf("window %s args%w", w.Func, err)
	}
	if p.PartitionBy, err = encodeExprs(w.PartitionBy); err != nil {
		return nil, fmt.Errorf("window %s partition%w", w.Func, err)
	}
	if p.OrderBy, err = encodeSortKeys(w.OrderBy); err != nil {
		return nil, fmt.Errorf("window %s: %w", w.Func, err)
	}
	if w.Frame != nil {
		p.Frame = &pb.WindowFrame{Rows: w.Frame.Rows,
			Start: encodeFrameBound(w.Frame.Start),
			End:   encodeFrameBound(w.Frame.End)}
	}
	if p.Type, err = EncodeType(w.Typ); err != nil {
		return nil, fmt.Errorf("window %s: %w", w.Func, err)
	}
	if p.Filter, err = encodeOptExpr(w.Filter); err != nil {
		return nil, fmt.Errorf("window %s filter: %w", w.Func, err)
	}
	return p, nil
}

func encodeFrameBound(b plan.FrameBound) *pb.FrameBound {
	return &pb.FrameBound{Kind: pb.FrameBoundKind(b.Kind), Offset: b.Offset, OffsetScale: b.Scale,
		Interval: b.Interval, Months: b.Months, Days: b.Days}
}

func decodeFrameBound(p *pb.FrameBound) (plan.FrameBound, error) {
	if p == nil {
		return plan.FrameBound{}, errors.New("missing frame bound")
	}
	if p.Kind < pb.FrameBoundKind_FRAME_BOUND_KIND_UNBOUNDED_PRECEDING || p.Kind > pb.FrameBoundKind_FRAME_BOUND_KIND_UNBOUNDED_FOLLOWING {
		return plan.FrameBound{}, fmt.Errorf("unknown frame bound kind %d", p.Kind)
	}
	if p.OffsetScale < 0 || p.OffsetScale > 38 {
		return plan.FrameBound{}, fmt.Errorf("frame bound offset scale %d out of range", p.OffsetScale)
	}
	return plan.FrameBound{Kind: plan.FrameBoundKind(p.Kind), Offset: p.Offset, Scale: p.OffsetScale,
		Interval: p.Interval, Months: p.Months, Days: p.Days}, nil
}

func decodeWindowCall(p *pb.WindowCall) (*plan.WindowCall, error) {
	if p == nil || p.Func == "" {
		return nil, errors.New("window call without a function name")
	}
	w := &plan.WindowCall{Func: p.Func}
	var err error
	if w.Args, err = decodeExprs(p.Args); err != nil {
		return nil, fmt.Errorf("window %s args%w", p.Func, err)
	}
	if w.PartitionBy, err = decodeExprs(p.PartitionBy); err != nil {
		return nil, fmt.Errorf("window %s partition%w", p.Func, err)
	}
	if w.OrderBy, err = decodeSortKeys(p.OrderBy); err != nil {
		return nil, fmt.Errorf("window %s: %w", p.Func, err)
	}
	if p.Frame != nil {
		f := &plan.WindowFrame{Rows: p.Frame.Rows}
		if f.Start, err = decodeFrameBound(p.Frame.Start); err != nil {
			return nil, fmt.Errorf("window %s frame start: %w", p.Func, err)
		}
		if f.End, err = decodeFrameBound(p.Frame.End); err != nil {
			return nil, fmt.Errorf("window %s frame end: %w", p.Func, err)
		}
		w.Frame = f
	}
	if w.Typ, err = DecodeType(p.Type); err != nil {
		return nil, fmt.Errorf("window %s: %w", p.Func, err)
	}
	if w.Filter, err = decodeOptExpr(p.Filter); err != nil {
		return nil, fmt.Errorf("window %s filter: %w", p.Func, err)
	}
	return w, nil
}
