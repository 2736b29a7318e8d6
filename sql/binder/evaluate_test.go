package binder

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

// labelledCatalog has models with input_label_cols over t: bin (binary,
// label f), hinge (binary, class only, label g), mc (4 classes, label g),
// reg (label c), two (two outputs, labels c and g), and the models of
// modelCatalog, which have none.
type labelledCatalog struct{ modelCatalog }

func (c labelledCatalog) LookupModel(name string) (*plan.ModelRef, error) {
	feats := []string{"c", "e"}
	switch strings.ToLower(name) {
	case "bin":
		return &plan.ModelRef{Name: "bin", Type: "xgboost", Objective: "binary:logistic", NumClasses: 2, NumOutputs: 1, Features: feats, LabelColumns: []string{"F"}}, nil
	case "hinge":
		return &plan.ModelRef{Name: "hinge", Type: "xgboost", Objective: "binary:hinge", NumClasses: 2, NumOutputs: 1, Features: feats, LabelColumns: []string{"g"}}, nil
	case "mc":
		return &plan.ModelRef{Name: "mc", Type: "lightgbm", Objective: "multiclass", NumClasses: 4, NumOutputs: 4, Features: feats, LabelColumns: []string{"g"}}, nil
	case "mc2":
		return &plan.ModelRef{Name: "mc2", Type: "lightgbm", Objective: "multiclass", NumClasses: 4, NumOutputs: 4, Features: feats, LabelColumns: []string{"g", "a"}}, nil
	case "reg":
		return &plan.ModelRef{Name: "reg", Type: "lightgbm", Objective: "regression", NumOutputs: 1, Features: feats, LabelColumns: []string{"c"}}, nil
	case "two":
		return &plan.ModelRef{Name: "two", Type: "xgboost", Objective: "reg:squarederror", NumOutputs: 2, Features: feats, LabelColumns: []string{"c", "g"}}, nil
	case "two1":
		return &plan.ModelRef{Name: "two1", Type: "xgboost", Objective: "reg:squarederror", NumOutputs: 2, Features: feats, LabelColumns: []string{"c"}}, nil
	}
	return c.modelCatalog.LookupModel(name)
}

func TestEvaluate(t *testing.T) {
	cat := labelledCatalog{modelCatalog{newTestCatalog()}}
	for _, tc := range []struct {
		model   string
		cols    []string
		windows int // the AUC sweep
	}{
		{"bin", ClassifierMetrics, 1},
		{"hinge", ClassifierMetrics, 0},
		{"mc", ClassifierMetrics, 1},
		{"reg", RegressorMetrics, 0},
		{"two", RegressorMetrics, 0},
	} {
		sql := fmt.Sprintf("select * from ml.evaluate(model %s, table t)", tc.model)
		n, err := tryBind(cat, &plan.IDGen{}, sql)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		var names []string
		for _, c := range n.Schema() {
			names = append(names, c.Name)
			if c.Type.ID() != arrow.FLOAT64 {
				t.Errorf("%s: column %s is %s", sql, c.Name, c.Type)
			}
		}
		if strings.Join(names, ",") != strings.Join(tc.cols, ",") {
			t.Errorf("%s: columns %v, want %v", sql, names, tc.cols)
		}
		// The rows are scored once.
		predicts, windows := 0, 0
		plan.WalkPlan(n, func(x plan.Node) bool {
			switch x.(type) {
			case *plan.Predict:
				predicts++
			case *plan.Window:
				windows++
			}
			return true
		})
		if predicts != 1 || windows != tc.windows {
			t.Errorf("%s: %d Predict and %d Window nodes, want 1 and %d:\n%s", sql, predicts, windows, tc.windows, plan.Format(n))
		}
	}

	// Aliases, and a query as input.
	n, err := tryBind(cat, &plan.IDGen{}, "select e.acc from ml.evaluate(model bin, (select c, e, a = 1 as f from t)) as e(p, r, acc)")
	if err != nil {
		t.Fatal(err)
	}
	if sch := n.Schema(); len(sch) != 1 || sch[0].Name != "acc" {
		t.Errorf("schema %v", sch)
	}
}

func TestEvaluateErrors(t *testing.T) {
	cat := labelledCatalog{modelCatalog{newTestCatalog()}}
	for _, tc := range []struct{ sql, want string }{
		{"select * from ml.evaluate(model r, table t)", "model r has no input_label_cols"},
		{"select * from ml.evaluate(model bin, (select c, e from t))", "model bin: label column F (input_label_cols) is missing from the input of ml.evaluate (its columns: c, e)"},
		{"select * from ml.evaluate(model bin, (select c, e, b as f from t))", "model bin: label column F is VARCHAR; the labels of a classifier are its class indices 0 to 1, as numbers or booleans"},
		{"select * from ml.evaluate(model bin, (select c, e, f, f from t))", "model bin: label column F is ambiguous"},
		{"select * from ml.evaluate(model reg, (select d as c, e from t))", "model reg: label column c is DATE; the labels of a regressor must be numbers"},
		{"select * from ml.evaluate(model two, (select c, e, f as g from t))", "model two: label column g is BOOLEAN; the labels of a regressor must be numbers"},
		{"select * from ml.evaluate(model two1, table t)", "model two1: input_label_cols names 1 columns (c) for the model's 2 outputs"},
		{"select * from ml.evaluate(model mc2, table t)", "model mc2: input_label_cols names 2 columns (g, a); a classifier has one label column"},
		{"select * from ml.evaluate(model mc, (select c, g from t))", "model mc: feature column e is missing"},
		{"select * from ml.evaluate(model x, table t)", "model x does not exist"},
		{"select * from ml.evaluate((select * from t), model m)", "the first argument of ml.evaluate is MODEL name"},
		{"select * from ml.evaluate(model m, t)", "the second argument of ml.evaluate is (query) or TABLE name"},
		{"select * from ml.evaluate(model m)", "ml.evaluate takes two arguments"},
		{"select * from ml.evaluate(model bin, table t) as e(a, b, c, d, e, f, g)", "ml.evaluate has 6 columns but 7 column aliases were given"},
	} {
		_, err := tryBind(cat, &plan.IDGen{}, tc.sql)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.sql, err, tc.want)
		}
	}
	if _, err := tryBind(newTestCatalog(), &plan.IDGen{}, "select * from ml.evaluate(model bin, table t)"); err == nil || !strings.Contains(err.Error(), "models are not available here") {
		t.Errorf("without a model catalog: %v", err)
	}
}
