package wire

import (
	"errors"
	"fmt"

	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// Predict nodes carry their model by reference (file location and content
// hash): the executor reads the model itself, so no model bytes cross.

func encodeModelRef(m *plan.ModelRef) (*pb.ModelRef, error) {
	if m == nil {
		return nil, errors.New("no model")
	}
	return &pb.ModelRef{Name: m.Name, Type: m.Type, Location: m.Location, Sha256: m.SHA256, Bytes: m.Bytes,
		Objective: m.Objective, NumClasses: int32(m.NumClasses), NumOutputs: int32(m.NumOutputs),
		Features: append([]string(nil), m.Features...), LabelColumns: append([]string(nil), m.LabelColumns...)}, nil
}

func decodeModelRef(p *pb.ModelRef) (*plan.ModelRef, error) {
	switch {
	case p == nil:
		return nil, errors.New("no model")
	case p.GetName() == "" || p.GetLocation() == "" || len(p.GetSha256()) != 64:
		return nil, fmt.Errorf("model %q: name, location or sha256 missing", p.GetName())
	case p.GetType() != "lightgbm" && p.GetType() != "xgboost":
		return nil, fmt.Errorf("model %s: unknown type %q", p.GetName(), p.GetType())
	case p.GetNumOutputs() < 1 || p.GetNumClasses() < 0 || p.GetBytes() < 0:
		return nil, fmt.Errorf("model %s: bad outputs %d, classes %d or size %d", p.GetName(), p.GetNumOutputs(), p.GetNumClasses(), p.GetBytes())
	}
	return &plan.ModelRef{Name: p.GetName(), Type: p.GetType(), Location: p.GetLocation(), SHA256: p.GetSha256(),
		Bytes: p.GetBytes(), Objective: p.GetObjective(), NumClasses: int(p.GetNumClasses()),
		NumOutputs: int(p.GetNumOutputs()), Features: append([]string(nil), p.GetFeatures()...),
		LabelColumns: append([]string(nil), p.GetLabelColumns()...)}, nil
}

// predictParts is what the logical and the physical Predict share.
type predictParts struct {
	model    *pb.ModelRef
	features []*pb.Expr
	kinds    []pb.PredictKind
	out      *pb.Schema
}

func encodePredict(m *plan.ModelRef, features []plan.Expr, kinds []plan.PredictKind, out plan.Schema) (predictParts, error) {
	var p predictParts
	var err error
	if p.model, err = encodeModelRef(m); err != nil {
		return p, fmt.Errorf("Predict: %w", err)
	}
	if p.features, err = encodeExprs(features); err != nil {
		return p, fmt.Errorf("Predict features%w", err)
	}
	for _, k := range kinds {
		switch k {
		case plan.PredictValue:
			p.kinds = append(p.kinds, pb.PredictKind_PREDICT_KIND_VALUE)
		case plan.PredictLabel:
			p.kinds = append(p.kinds, pb.PredictKind_PREDICT_KIND_LABEL)
		default:
			return p, fmt.Errorf("Predict: unknown kind %d", k)
		}
	}
	if p.out, err = encodeSchema(out); err != nil {
		return p, fmt.Errorf("Predict: %w", err)
	}
	return p, nil
}

func decodePredict(p predictParts, inputCols int) (*plan.ModelRef, []plan.Expr, []plan.PredictKind, plan.Schema, error) {
	m, err := decodeModelRef(p.model)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("Predict: %w", err)
	}
	feats, err := decodeExprs(p.features)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("Predict features%w", err)
	}
	if len(feats) != len(m.Features) {
		return nil, nil, nil, nil, fmt.Errorf("Predict: model %s has %d features, the node computes %d", m.Name, len(m.Features), len(feats))
	}
	var kinds []plan.PredictKind
	for _, k := range p.kinds {
		switch k {
		case pb.PredictKind_PREDICT_KIND_VALUE:
			kinds = append(kinds, plan.PredictValue)
		case pb.PredictKind_PREDICT_KIND_LABEL:
			kinds = append(kinds, plan.PredictLabel)
		default:
			return nil, nil, nil, nil, fmt.Errorf("Predict: unknown kind %d", k)
		}
	}
	out, err := decodeSchema(p.out)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("Predict: %w", err)
	}
	if len(kinds) == 0 || len(out) != inputCols+len(kinds) {
		return nil, nil, nil, nil, fmt.Errorf("Predict: %d output columns for %d input columns and %d predictions", len(out), inputCols, len(kinds))
	}
	return m, feats, kinds, out, nil
}
