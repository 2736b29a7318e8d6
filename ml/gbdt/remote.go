package gbdt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
)

// Call sends one encoded request to the process holding a worker and
// returns the encoded reply (ServeWorker's, at the other end). An error
// wrapping ErrWorkerLost says the worker is gone.
type Call func(ctx context.Context, req []byte) ([]byte, error)

// RemoteWorker is a Worker in another process, reached through call: the
// requests and replies travel as bytes (gob for the small messages,
// histograms in their compact binary form), so any RPC can carry them.
func RemoteWorker(call Call) Worker { return &remoteWorker{call: call} }

// ServeWorker answers one request encoded by a RemoteWorker with w.
func ServeWorker(ctx context.Context, w Worker, req []byte) ([]byte, error) {
	if len(req) == 0 {
		return nil, errors.New("gbdt: empty worker request")
	}
	op, body := req[0], req[1:]
	switch op {
	case opBegin:
		var m beginWire
		if err := decode(body, &m); err != nil {
			return nil, err
		}
		r, err := m.request()
		if err != nil {
			return nil, err
		}
		reply, err := w.Begin(ctx, r)
		if err != nil {
			return nil, err
		}
		return encode(reply)
	case opGradients, opLoss, opEnd:
		var m idWire
		if err := decode(body, &m); err != nil {
			return nil, err
		}
		var sums []LossSum
		var err error
		switch op {
		case opGradients:
			sums, err = w.Gradients(ctx, m.Training)
		case opLoss:
			sums, err = w.Loss(ctx, m.Training)
		default:
			err = w.End(ctx, m.Training)
		}
		if err != nil {
			return nil, err
		}
		return encode(sums)
	case opLevel:
		var m levelWire
		if err := decode(body, &m); err != nil {
			return nil, err
		}
		var lt *localTraining
		if lw, ok := w.(*LocalWorker); ok {
			var err error
			if lt, err = lw.training(m.Training); err != nil {
				return nil, err
			}
		} else {
			return nil, errors.New("gbdt: a served worker must be a LocalWorker")
		}
		r := m.request()
		out := make([]*Histogram, len(r.build))
		for k := range out {
			out[k] = newHistogram(lt.layout)
		}
		if err := w.Level(ctx, r, out); err != nil {
			return nil, err
		}
		var b []byte
		var enc []byte
		for _, h := range out {
			enc = h.AppendBinary(enc[:0])
			b = binary.AppendUvarint(b, uint64(len(enc)))
			b = append(b, enc...)
		}
		return b, nil
	case opAddTree:
		var m treeReqWire
		if err := decode(body, &m); err != nil {
			return nil, err
		}
		t := m.Tree.tree()
		if err := t.check(1 << 30); err != nil {
			return nil, err
		}
		sums, err := w.AddTree(ctx, &TreeRequest{Training: m.Training, Seq: m.Seq, Tree: &t, EvalLoss: m.EvalLoss})
		if err != nil {
			return nil, err
		}
		return encode(sums)
	}
	return nil, fmt.Errorf("gbdt: unknown worker request %d", op)
}

const (
	opBegin byte = 1 + iota
	opGradients
	opLevel
	opAddTree
	opLoss
	opEnd
)

type remoteWorker struct{ call Call }

func (r *remoteWorker) send(ctx context.Context, op byte, msg any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(op)
	if err := gob.NewEncoder(&buf).Encode(msg); err != nil {
		return nil, fmt.Errorf("gbdt: encoding a worker request: %w", err)
	}
	return r.call(ctx, buf.Bytes())
}

func (r *remoteWorker) sums(ctx context.Context, op byte, msg any) ([]LossSum, error) {
	b, err := r.send(ctx, op, msg)
	if err != nil {
		return nil, err
	}
	var sums []LossSum
	return sums, decode(b, &sums)
}

func (r *remoteWorker) Begin(ctx context.Context, req *BeginRequest) (*BeginReply, error) {
	cuts, err := req.Cuts.MarshalBinary()
	if err != nil {
		return nil, err
	}
	m := beginWire{Training: req.Training, Params: req.Params, Cuts: cuts, FirstShard: req.FirstShard, CatchUp: req.CatchUp, RoundStart: req.RoundStart}
	for _, t := range req.Trees {
		m.Trees = append(m.Trees, wireTree(&t))
	}
	b, err := r.send(ctx, opBegin, m)
	if err != nil {
		return nil, err
	}
	var reply BeginReply
	return &reply, decode(b, &reply)
}

func (r *remoteWorker) Gradients(ctx context.Context, training uint64) ([]LossSum, error) {
	return r.sums(ctx, opGradients, idWire{training})
}

func (r *remoteWorker) Loss(ctx context.Context, training uint64) ([]LossSum, error) {
	return r.sums(ctx, opLoss, idWire{training})
}

func (r *remoteWorker) End(ctx context.Context, training uint64) error {
	_, err := r.send(ctx, opEnd, idWire{training})
	return err
}

func (r *remoteWorker) AddTree(ctx context.Context, req *TreeRequest) ([]LossSum, error) {
	return r.sums(ctx, opAddTree, treeReqWire{Training: req.Training, Seq: req.Seq, Tree: wireTree(req.Tree), EvalLoss: req.EvalLoss})
}

func (r *remoteWorker) Level(ctx context.Context, req *LevelRequest, out []*Histogram) error {
	m := levelWire{Training: req.Training, Start: req.Start, Build: req.build}
	for _, s := range req.splits {
		m.Splits = append(m.Splits, splitWire{s.node, s.left, s.right, s.feature, s.bin, s.defaultLeft})
	}
	b, err := r.send(ctx, opLevel, m)
	if err != nil {
		return err
	}
	for k := range out {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return errors.New("gbdt: corrupt level reply")
		}
		if err := out[k].decodeInto(b[w : w+int(n)]); err != nil {
			return err
		}
		b = b[w+int(n):]
	}
	if len(b) != 0 {
		return errors.New("gbdt: corrupt level reply")
	}
	return nil
}

// decodeInto sets h to the histogram encoded in b, which must have h's
// layout.
func (h *Histogram) decodeInto(b []byte) error {
	var d Histogram
	if err := d.UnmarshalBinary(b); err != nil {
		return err
	}
	if len(d.layout) != len(h.layout) || len(d.sums) != len(h.sums) {
		return errors.New("gbdt: a worker's histogram has another layout than the training's")
	}
	for i := range d.layout {
		if d.layout[i] != h.layout[i] {
			return errors.New("gbdt: a worker's histogram has another layout than the training's")
		}
	}
	copy(h.sums, d.sums)
	return nil
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("gbdt: encoding a worker reply: %w", err)
	}
	return buf.Bytes(), nil
}

func decode(b []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return fmt.Errorf("gbdt: corrupt worker message: %w", err)
	}
	return nil
}

// The messages on the wire.
type (
	idWire    struct{ Training uint64 }
	beginWire struct {
		Training   uint64
		Params     Params
		Cuts       []byte
		FirstShard int
		CatchUp    bool
		Trees      []treeWire
		RoundStart int
	}
	levelWire struct {
		Training uint64
		Start    *TreeStart
		Splits   []splitWire
		Build    []int32
	}
	splitWire struct {
		Node, Left, Right, Feature, Bin int32
		DefaultLeft                     bool
	}
	treeReqWire struct {
		Training uint64
		Seq      int
		Tree     treeWire
		EvalLoss bool
	}
	treeWire struct {
		Group int
		Nodes []nodeWire
	}
	nodeWire struct {
		Left, Right, Parent, Feature, Bin int32
		Cond, Value, Gain, Cover, Base    float32
		DefaultLeft                       bool
	}
)

func (m *beginWire) request() (*BeginRequest, error) {
	var c Cuts
	if err := c.UnmarshalBinary(m.Cuts); err != nil {
		return nil, err
	}
	r := &BeginRequest{Training: m.Training, Params: m.Params, Cuts: &c, FirstShard: m.FirstShard, CatchUp: m.CatchUp, RoundStart: m.RoundStart}
	for _, t := range m.Trees {
		r.Trees = append(r.Trees, t.tree())
	}
	for k := range r.Trees {
		if err := r.Trees[k].check(c.NumFeatures()); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (m *levelWire) request() *LevelRequest {
	r := &LevelRequest{Training: m.Training, Start: m.Start, build: m.Build}
	for _, s := range m.Splits {
		r.splits = append(r.splits, split{node: s.Node, left: s.Left, right: s.Right, feature: s.Feature, bin: s.Bin, defaultLeft: s.DefaultLeft})
	}
	return r
}

func wireTree(t *Tree) treeWire {
	w := treeWire{Group: t.Group, Nodes: make([]nodeWire, len(t.Nodes))}
	for i, n := range t.Nodes {
		w.Nodes[i] = nodeWire{n.Left, n.Right, n.Parent, n.Feature, n.bin, n.Cond, n.Value, n.Gain, n.Cover, n.BaseWeight, n.DefaultLeft}
	}
	return w
}

func (w treeWire) tree() Tree {
	t := Tree{Group: w.Group, Nodes: make([]Node, len(w.Nodes))}
	for i, n := range w.Nodes {
		t.Nodes[i] = Node{Left: n.Left, Right: n.Right, Parent: n.Parent, Feature: n.Feature, bin: n.Bin,
			Cond: n.Cond, Value: n.Value, Gain: n.Gain, Cover: n.Cover, BaseWeight: n.Base, DefaultLeft: n.DefaultLeft}
	}
	return t
}

// check validates a tree from the wire: children after their parent,
// features in range.
func (t *Tree) check(nf int) error {
	for i, n := range t.Nodes {
		if n.Left < 0 {
			continue
		}
		if int(n.Left) <= i || int(n.Right) <= i || int(n.Left) >= len(t.Nodes) || int(n.Right) >= len(t.Nodes) || n.Feature < 0 || int(n.Feature) >= nf {
			return fmt.Errorf("gbdt: corrupt tree node %d", i)
		}
	}
	if len(t.Nodes) == 0 {
		return errors.New("gbdt: empty tree")
	}
	return nil
}

// boosterWire is a Booster on the wire.
type boosterWire struct {
	Objective             string
	Classes, Groups       int
	NumFeature            int
	BaseScore, BaseMargin float32
	Features              []string
	Trees                 []treeWire
	BestIteration         int
}

// MarshalBinary encodes the booster exactly (a trained booster travels
// from the driver to the client that stores it).
func (b *Booster) MarshalBinary() ([]byte, error) {
	w := boosterWire{Objective: b.obj.name, Classes: b.obj.classes, Groups: b.obj.groups, NumFeature: b.numFeature,
		BaseScore: b.baseScore, BaseMargin: b.baseMargin, Features: b.features, BestIteration: b.bestIteration}
	for k := range b.trees {
		w.Trees = append(w.Trees, wireTree(&b.trees[k]))
	}
	return encode(w)
}

// UnmarshalBinary replaces b with the booster encoded in data.
func (b *Booster) UnmarshalBinary(data []byte) error {
	var w boosterWire
	if err := decode(data, &w); err != nil {
		return err
	}
	if w.Groups < 1 || w.NumFeature < 1 {
		return errors.New("gbdt: corrupt booster encoding")
	}
	out := Booster{obj: objective{name: w.Objective, classes: w.Classes, groups: w.Groups}, numFeature: w.NumFeature,
		baseScore: w.BaseScore, baseMargin: w.BaseMargin, features: w.Features, bestIteration: w.BestIteration}
	for _, tw := range w.Trees {
		t := tw.tree()
		if err := t.check(w.NumFeature); err != nil {
			return err
		}
		if t.Group < 0 || t.Group >= w.Groups {
			return errors.New("gbdt: corrupt booster encoding")
		}
		out.trees = append(out.trees, t)
	}
	*b = out
	return nil
}
