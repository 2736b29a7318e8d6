package binder

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/types"
)

// ModelCatalog is implemented by catalogs that hold models (the Session
// and its model store): ml.predict(MODEL name, ...) resolves name through
// it. The error for an unknown model should name it (and the store).
type ModelCatalog interface {
	LookupModel(name string) (*plan.ModelRef, error)
}

// Output column names of ml.predict.
const (
	PredictionColumn = "prediction"
	LabelColumn      = "predicted_label"
)

func isPredict(name []string) bool {
	return len(name) == 2 && strings.EqualFold(name[0], "ml") && strings.EqualFold(name[1], "predict")
}

// bindPredict binds ml.predict(MODEL name, (query) | TABLE t): the
// query's columns followed by prediction (and predicted_label for a
// classifier). The model's features bind by name to the query's columns.
func (b *Binder) bindPredict(x *ast.TableFunction, parent *scope, env *cteEnv) (plan.Node, *scope, error) {
	ma, ref, in, names, err := b.bindModelInput(x, "ml.predict", parent, env)
	if err != nil {
		return nil, nil, err
	}

	p, err := NewPredict(b.ids, in, names, ref, x.Alias)
	if err != nil {
		return nil, nil, b.errf(x.Args[1].Pos(), "%v", err)
	}
	names = append(names, PredictionColumn)
	if len(p.Kinds) > 1 {
		names = append(names, LabelColumn)
	}
	n, err := WithClassLabels(b.ids, p, ref)
	if err != nil {
		return nil, nil, b.errf(ma.At, "%v", err)
	}
	if len(x.ColumnAliases) > len(names) {
		return nil, nil, b.errf(x.At, "ml.predict has %d columns but %d column aliases were given", len(names), len(x.ColumnAliases))
	}
	copy(names, x.ColumnAliases)
	return n, namedScope(n, x.Alias, names), nil
}

// bindModelInput binds the arguments of a table function fn(MODEL name,
// (query) | TABLE t) such as ml.predict and ml.evaluate: the model (looked
// up in the catalog) and the input with its visible column names.
func (b *Binder) bindModelInput(x *ast.TableFunction, fn string, parent *scope, env *cteEnv) (*ast.ModelArg, *plan.ModelRef, plan.Node, []string, error) {
	if len(x.Args) != 2 {
		return nil, nil, nil, nil, b.errf(x.At, "%s takes two arguments, MODEL name and (query) or TABLE name; got %d", fn, len(x.Args))
	}
	ma, ok := x.Args[0].(*ast.ModelArg)
	if !ok {
		return nil, nil, nil, nil, b.errf(x.Args[0].Pos(), "the first argument of %s is MODEL name, got %s", fn, x.Args[0].String())
	}
	var in plan.Node
	var names []string
	switch a := x.Args[1].(type) {
	case *ast.ScalarSubquery:
		n, err := b.bindQuery(a.Query, parent, env)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		in = n
		for _, c := range n.Schema() {
			names = append(names, c.Name)
		}
	case *ast.TableArg:
		n, sc, err := b.bindTableName(&ast.TableName{At: a.At, Name: a.Name}, env)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		in = n
		for _, c := range sc.cols {
			names = append(names, c.name)
		}
	default:
		return nil, nil, nil, nil, b.errf(x.Args[1].Pos(), "the second argument of %s is (query) or TABLE name, got %s", fn, x.Args[1].String())
	}
	mc, ok := b.cat.(ModelCatalog)
	if !ok {
		return nil, nil, nil, nil, b.errf(ma.At, "models are not available here")
	}
	ref, err := mc.LookupModel(strings.Join(ma.Name, "."))
	if err != nil {
		return nil, nil, nil, nil, b.errf(ma.At, "%v", err)
	}
	return ma, ref, in, names, nil
}

// NewPredict scores the rows of in with the model ref (the SQL binder's
// ml.predict and DataFrame.Predict): names are in's visible column names,
// which the model's features bind to by name (case-insensitively); the
// output columns (prediction, and predicted_label for a classifier) are
// qualified by table. A missing, ambiguous or non-numeric feature column
// is an error naming the model and the column.
func NewPredict(ids *plan.IDGen, in plan.Node, names []string, ref *plan.ModelRef, table string) (*plan.Predict, error) {
	sch := in.Schema()
	feats := make([]plan.Expr, len(ref.Features))
	transformed, err := bindTransform(ids, in, ref)
	if err != nil {
		return nil, err
	}
	for j, f := range ref.Features {
		if e, ok := transformed[strings.ToLower(f)]; ok {
			if !types.IsNumeric(e.Type()) && !types.IsNull(e.Type()) {
				return nil, fmt.Errorf("model %s: feature %s of its TRANSFORM is %s; model features must be numbers", ref.Name, f, types.TypeName(e.Type()))
			}
			feats[j] = e
			continue
		}
		at := -1
		for i, n := range names {
			if !nameEq(n, f) {
				continue
			}
			if at >= 0 {
				return nil, fmt.Errorf("model %s: feature column %s is ambiguous: the input has two columns of that name", ref.Name, f)
			}
			at = i
		}
		if at < 0 {
			return nil, fmt.Errorf("model %s: feature column %s is missing from the input of ml.predict (its columns: %s)%s",
				ref.Name, f, strings.Join(names, ", "), suggest(f, names))
		}
		c := sch[at]
		if !types.IsNumeric(c.Type) && !types.IsNull(c.Type) {
			return nil, fmt.Errorf("model %s: feature column %s is %s; model features must be numbers (integer, floating-point or decimal)",
				ref.Name, f, types.TypeName(c.Type))
		}
		feats[j] = c.Ref()
	}
	out := append(plan.Schema(nil), sch...)
	kinds := []plan.PredictKind{plan.PredictValue}
	out = append(out, ids.NewColumn(PredictionColumn, table, PredictValueType(ref.NumOutputs), false))
	if ref.NumClasses >= 2 {
		kinds = append(kinds, plan.PredictLabel)
		out = append(out, ids.NewColumn(LabelColumn, table, types.Int64, false))
	}
	if len(ref.Transform) > 0 || len(ref.ClassLabels) > 0 {
		// Binding only (features, WithClassLabels): the plan (and the
		// wire) carries the model without them.
		r := *ref
		r.Transform, r.ClassLabels, r.LabelType = nil, nil, ""
		ref = &r
	}
	return &plan.Predict{Input: in, Model: ref, Features: feats, Kinds: kinds, Out: out}, nil
}

// PredictValueType is the type of the prediction column of a model with
// numOutputs outputs per row: DOUBLE, or LIST<DOUBLE> (the executor's
// exec.PredictValueType).
func PredictValueType(numOutputs int) arrow.DataType {
	if numOutputs > 1 {
		return arrow.ListOf(types.Float64)
	}
	return types.Float64
}

// bindTransform binds the columns of a model's fitted TRANSFORM over in
// (by lower-cased name): the features that name them are computed from
// the input by these expressions.
func bindTransform(ids *plan.IDGen, in plan.Node, ref *plan.ModelRef) (map[string]plan.Expr, error) {
	if len(ref.Transform) == 0 {
		return nil, nil
	}
	out := make(map[string]plan.Expr, len(ref.Transform))
	for _, t := range ref.Transform {
		e, err := parser.ParseExpr(t.SQL)
		if err != nil {
			return nil, fmt.Errorf("model %s: TRANSFORM column %s: %w", ref.Name, t.Name, err)
		}
		b := New(nil, ids)
		pe, err := b.BindExpr(t.SQL, e, in)
		if err != nil {
			return nil, fmt.Errorf("model %s: TRANSFORM column %s (%s) does not apply to the input of ml.predict: %w", ref.Name, t.Name, t.SQL, err)
		}
		out[strings.ToLower(t.Name)] = pe
	}
	return out, nil
}

// WithClassLabels returns p with its predicted_label giving the model's
// class labels (ref.ClassLabels, of type ref.LabelType) instead of class
// indices, for a model trained on labels of any type; p itself when the
// model has none (imported models). The mapping is a CASE over the index
// in a projection above p.
func WithClassLabels(ids *plan.IDGen, p *plan.Predict, ref *plan.ModelRef) (plan.Node, error) {
	if len(ref.ClassLabels) == 0 || len(p.Kinds) < 2 {
		return p, nil
	}
	typ, err := types.ParseTypeName(ref.LabelType, nil)
	if err != nil {
		return nil, fmt.Errorf("model %s: label type %s: %w", ref.Name, ref.LabelType, err)
	}
	b := New(nil, ids)
	idxCol := p.Out[len(p.Out)-1]
	idx := idxCol.Ref()
	c := &plan.Case{Typ: typ}
	for i, l := range ref.ClassLabels {
		v, err := b.castTo(lit(l, types.String), typ, ast.Pos{})
		if err != nil {
			return nil, fmt.Errorf("model %s: class label %q: %w", ref.Name, l, err)
		}
		c.Whens = append(c.Whens, plan.When{Cond: &plan.Binary{Op: plan.OpEq, L: idx, R: lit(int64(i), types.Int64), Typ: types.Boolean}, Value: v})
	}
	c.Else = lit(nil, typ)
	out := append(plan.Schema(nil), p.Out...)
	proj := make([]plan.Expr, len(out))
	for i, col := range out {
		proj[i] = col.Ref()
	}
	label := ids.NewColumn(idxCol.Name, idxCol.Table, typ, true)
	out[len(out)-1] = label
	proj[len(proj)-1] = c
	return &plan.Project{Input: p, Projections: proj, Out: out}, nil
}

// labelsToClasses replaces the label column of in (ref.LabelColumns[0])
// by its class index under ref.ClassLabels, for evaluating a classifier
// trained on labels of any type: a label that is no class becomes -1,
// which evaluation rejects as no class index.
func labelsToClasses(ids *plan.IDGen, in plan.Node, names []string, ref *plan.ModelRef) (plan.Node, error) {
	typ, err := types.ParseTypeName(ref.LabelType, nil)
	if err != nil {
		return nil, fmt.Errorf("model %s: label type %s: %w", ref.Name, ref.LabelType, err)
	}
	at := -1
	for i, n := range names {
		if nameEq(n, ref.LabelColumns[0]) {
			at = i
			break
		}
	}
	if at < 0 {
		return in, nil // NewEvaluate reports the missing column
	}
	b := New(nil, ids)
	sch := in.Schema()
	col, err := b.castTo(sch[at].Ref(), typ, ast.Pos{})
	if err != nil {
		return nil, fmt.Errorf("model %s: label column %s is %s; the model's labels are %s: %w", ref.Name, names[at], types.TypeName(sch[at].Type), ref.LabelType, err)
	}
	c := &plan.Case{Typ: types.Int64, Else: lit(int64(-1), types.Int64)}
	for i, l := range ref.ClassLabels {
		v, err := b.castTo(lit(l, types.String), typ, ast.Pos{})
		if err != nil {
			return nil, fmt.Errorf("model %s: class label %q: %w", ref.Name, l, err)
		}
		c.Whens = append(c.Whens, plan.When{Cond: &plan.Binary{Op: plan.OpEq, L: col, R: v, Typ: types.Boolean}, Value: lit(int64(i), types.Int64)})
	}
	e := &plan.Case{Whens: []plan.When{{Cond: &plan.Unary{Op: plan.OpIsNull, E: sch[at].Ref()}, Value: lit(nil, types.Int64)}}, Else: c, Typ: types.Int64}
	proj := make([]plan.Expr, len(sch))
	out := append(plan.Schema(nil), sch...)
	for i, c := range sch {
		proj[i] = c.Ref()
	}
	proj[at] = e
	out[at] = ids.NewColumn(sch[at].Name, sch[at].Table, types.Int64, true)
	return &plan.Project{Input: in, Projections: proj, Out: out}, nil
}

// ModelInfoCatalog is a ModelCatalog that also describes how its models
// were trained: ml.training_info(MODEL m), ml.feature_importance(MODEL m)
// and ml.trial_info(MODEL m) bind to the plan it returns (what is
// "training_info", "feature_importance" or "trial_info").
type ModelInfoCatalog interface {
	ModelInfo(name, what string) (plan.Node, error)
}

func modelInfoFunction(name []string) (string, bool) {
	if len(name) != 2 || !strings.EqualFold(name[0], "ml") {
		return "", false
	}
	switch w := strings.ToLower(name[1]); w {
	case "training_info", "feature_importance", "trial_info":
		return w, true
	}
	return "", false
}

// bindModelInfo binds ml.training_info(MODEL m),
// ml.feature_importance(MODEL m) and ml.trial_info(MODEL m).
func (b *Binder) bindModelInfo(x *ast.TableFunction, what string) (plan.Node, *scope, error) {
	var ma *ast.ModelArg
	if len(x.Args) == 1 {
		ma, _ = x.Args[0].(*ast.ModelArg)
	}
	if ma == nil {
		return nil, nil, b.errf(x.At, "ml.%s takes one argument, MODEL name", what)
	}
	mc, ok := b.cat.(ModelInfoCatalog)
	if !ok {
		return nil, nil, b.errf(ma.At, "models are not available here")
	}
	n, err := mc.ModelInfo(strings.Join(ma.Name, "."), what)
	if err != nil {
		return nil, nil, b.errf(ma.At, "%v", err)
	}
	var names []string
	for _, c := range n.Schema() {
		names = append(names, c.Name)
	}
	copy(names, x.ColumnAliases)
	return n, namedScope(n, x.Alias, names), nil
}
