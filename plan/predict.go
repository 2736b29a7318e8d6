package plan

import (
	"fmt"
	"strings"
)

// ModelRef names a stored model the way executors load it: the model
// file's location and content hash (they check the hash and cache the
// parsed model by it), plus what binding and planning need to know about
// the model. Plain data.
type ModelRef struct {
	Name     string // the model's name in the store
	Type     string // the library: "lightgbm" or "xgboost"
	Location string // the model file, absolute (local path or URI)
	SHA256   string // hex content hash of the file
	Bytes    int64  // the file's size
	// Objective, NumClasses and NumOutputs describe the predictions
	// (model.Model's).
	Objective  string
	NumClasses int
	NumOutputs int
	// Features names the input column of each model feature, in order.
	Features []string
	// LabelColumns are the model's input_label_cols: the columns holding
	// the true values ml.evaluate compares the predictions with (one for
	// a classifier, one per output for a regressor). Scoring ignores them.
	LabelColumns []string
	// Transform is the model's fitted TRANSFORM: named SQL expressions
	// over ml.predict's input that compute the columns the features name.
	// The binder expands it into Features; executors never see it.
	Transform []TransformColumn
	// ClassLabels (with LabelType, a SQL type name) are a trained
	// classifier's labels in class order, as text: predicted_label maps
	// the class index to them. Binding only, like Transform.
	ClassLabels []string
	LabelType   string
}

// TransformColumn is one column of a model's fitted TRANSFORM.
type TransformColumn struct {
	Name, SQL string
}

func (m *ModelRef) String() string {
	h := m.SHA256
	if len(h) > 12 {
		h = h[:12]
	}
	return fmt.Sprintf("%s (%s %s, sha256 %s)", m.Name, m.Type, m.Objective, h)
}

// PredictKind is what a column of Predict holds.
type PredictKind int

const (
	// PredictValue is what the model's library returns: DOUBLE, or
	// LIST<DOUBLE> of NumOutputs values.
	PredictValue PredictKind = iota
	// PredictLabel is a classifier's predicted class, BIGINT.
	PredictLabel
)

func (k PredictKind) String() string {
	if k == PredictLabel {
		return "label"
	}
	return "value"
}

// Predict scores every row of Input with a model: Out is Input's columns
// followed by one column per Kinds entry. Features[j] computes the model's
// feature j from Input's columns (column references, as the binder makes
// them). Prediction is row by row: it neither adds nor removes rows, so
// predicates on Input's columns commute with it.
type Predict struct {
	Input    Node
	Model    *ModelRef
	Features []Expr
	Kinds    []PredictKind
	Out      Schema
}

func (n *Predict) Schema() Schema             { return n.Out }
func (n *Predict) Children() []Node           { return []Node{n.Input} }
func (n *Predict) WithChildren(c []Node) Node { m := *n; m.Input = c[0]; return &m }
func (n *Predict) Exprs() []Expr              { return n.Features }

// Outputs are the columns Predict appends to its input's.
func (n *Predict) Outputs() Schema { return n.Out[len(n.Out)-len(n.Kinds):] }

func (n *Predict) String() string {
	outs := n.Outputs()
	parts := make([]string, len(outs))
	for i, c := range outs {
		parts[i] = n.Kinds[i].String() + " AS " + c.String()
	}
	return fmt.Sprintf("Predict model=%s features=%s -> %s", n.Model, exprList(n.Features), strings.Join(parts, ", "))
}

var _ Node = (*Predict)(nil)
