package executor

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
)

// buildPredict loads the node's model through the Env's model cache (each
// process reads a model file once, whatever its tasks) and scores the
// input with exec.NewPredict.
func (b *builder) buildPredict(n *physical.Predict) (exec.Operator, error) {
	ref := n.Model
	if ref == nil {
		return nil, fmt.Errorf("internal error: Predict without a model")
	}
	m, err := b.env.models().Load(b.ctx, store.Ref{Name: ref.Name, Type: ref.Type, Location: ref.Location, SHA256: ref.SHA256, Bytes: ref.Bytes})
	if err != nil {
		return nil, err
	}
	if len(m.Features()) != len(n.Features) {
		return nil, fmt.Errorf("model %s reads %d features, the plan gives it %d columns", ref.Name, len(m.Features()), len(n.Features))
	}
	var in exec.Operator
	var feats []exec.Expr
	mapped := false
	if sc, ok := n.Input.(*physical.Scan); ok {
		if in, feats, mapped, err = b.buildMappedScan(sc, n.Features); err != nil {
			return nil, err
		}
	}
	if !mapped {
		if in, err = b.build(n.Input); err != nil {
			return nil, err
		}
		feats = make([]exec.Expr, len(n.Features))
		for i, f := range n.Features {
			if feats[i], err = CompileExpr(f, n.Input.Schema()); err != nil {
				in.Close()
				return nil, err
			}
		}
	}
	outs := n.Out[len(n.Out)-len(n.Kinds):]
	kinds := make([]exec.PredictOutput, len(n.Kinds))
	names := make([]string, len(n.Kinds))
	for i, k := range n.Kinds {
		switch k {
		case plan.PredictValue:
			kinds[i] = exec.PredictValue
		case plan.PredictLabel:
			kinds[i] = exec.PredictLabel
		default:
			in.Close()
			return nil, fmt.Errorf("internal error: prediction kind %d", k)
		}
		names[i] = outs[i].Name
	}
	op, err := exec.NewPredict(in, m, ref.Name, feats, kinds, names)
	if err != nil {
		in.Close()
		return nil, err
	}
	if mapped {
		// The scan's columns and the predictions, without the columns the
		// dictionary decode appended for the features.
		sch := op.Schema()
		ncols := len(n.Input.Schema())
		var keep []exec.Expr
		var keepNames []string
		for i, f := range sch.Fields() {
			if i < ncols || i >= sch.NumFields()-len(kinds) {
				keep = append(keep, expr.Col(i, f.Type, f.Name))
				keepNames = append(keepNames, f.Name)
			}
		}
		op = exec.NewProject(op, keep, keepNames)
	}
	// The plan was typed from the model's manifest; the file it loaded must
	// agree (the content hash makes that a formality).
	sch := op.Schema()
	for i, c := range outs {
		got := sch.Field(sch.NumFields() - len(outs) + i).Type
		if !arrow.TypeEqual(got, c.Type) {
			op.Close()
			return nil, fmt.Errorf("model %s: %s is %s, the plan expects %s", ref.Name, c.Name, got, c.Type)
		}
	}
	return op, nil
}
