package binder

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

// modelCatalog is the test catalog with models: m (a classifier of 4
// classes over t's a, c and e), r (a regressor over c and g) and s (a
// regressor over t's string column b).
type modelCatalog struct{ *testCatalog }

func (c modelCatalog) LookupModel(name string) (*plan.ModelRef, error) {
	switch strings.ToLower(name) {
	case "m":
		return &plan.ModelRef{Name: "m", Type: "xgboost", Objective: "multi:softprob", NumClasses: 4, NumOutputs: 4, Features: []string{"A", "c", "e"}}, nil
	case "r":
		return &plan.ModelRef{Name: "r", Type: "lightgbm", Objective: "regression", NumOutputs: 1, Features: []string{"c", "g"}}, nil
	case "s":
		return &plan.ModelRef{Name: "s", Type: "lightgbm", Objective: "regression", NumOutputs: 1, Features: []string{"b"}}, nil
	}
	return nil, fmt.Errorf("model %s does not exist", name)
}

func TestPredict(t *testing.T) {
	cat := modelCatalog{newTestCatalog()}
	n, err := tryBind(cat, &plan.IDGen{}, "select prediction[2], p.predicted_label, b from ml.predict(model m, (select * from t)) p")
	if err != nil {
		t.Fatal(err)
	}
	var pr *plan.Predict
	plan.WalkPlan(n, func(x plan.Node) bool {
		if p, ok := x.(*plan.Predict); ok {
			pr = p
		}
		return true
	})
	if pr == nil {
		t.Fatalf("no Predict in\n%s", plan.Format(n))
	}
	in := pr.Input.Schema()
	if len(pr.Features) != 3 || pr.Features[0].(*plan.ColRef).ID != in[0].ID || pr.Features[1].(*plan.ColRef).ID != in[2].ID || pr.Features[2].(*plan.ColRef).ID != in[4].ID {
		t.Errorf("features %v over %v", pr.Features, in)
	}
	outs := pr.Outputs()
	if len(outs) != 2 || outs[0].Name != "prediction" || !arrow.TypeEqual(outs[0].Type, arrow.ListOf(types.Float64)) || outs[1].Name != "predicted_label" || outs[1].Type.ID() != arrow.INT64 {
		t.Errorf("outputs %v", outs)
	}
	sch := n.Schema()
	if sch[0].Name != "prediction[2]" || sch[0].Type.ID() != arrow.FLOAT64 {
		t.Errorf("schema %v", sch)
	}

	// A regressor has no label; TABLE t is SELECT * FROM t.
	n, err = tryBind(cat, &plan.IDGen{}, "select * from ml.predict(MODEL r, TABLE t)")
	if err != nil {
		t.Fatal(err)
	}
	sch = n.Schema()
	if len(sch) != 8 || sch[7].Name != "prediction" || sch[7].Type.ID() != arrow.FLOAT64 {
		t.Errorf("schema %v", sch)
	}
}

func TestPredictErrors(t *testing.T) {
	cat := modelCatalog{newTestCatalog()}
	for _, tc := range []struct{ sql, want string }{
		{"select * from ml.predict(model x, (select * from t))", "model x does not exist"},
		{"select * from ml.predict(model m, (select a, c from t))", "model m: feature column e is missing from the input of ml.predict (its columns: a, c)"},
		{"select * from ml.predict(model m, (select a, c, b as e from t))", "model m: feature column e is VARCHAR; model features must be numbers"},
		{"select * from ml.predict(model m, (select a, c, e, e from t))", "model m: feature column e is ambiguous"},
		{"select * from ml.predict(model s, table t)", "model s: feature column b is VARCHAR"},
		{"select * from ml.predict((select * from t), model m)", "the first argument of ml.predict is MODEL name"},
		{"select * from ml.predict(model m, t)", "the second argument of ml.predict is (query) or TABLE name"},
		{"select * from ml.predict(model m)", "ml.predict takes two arguments"},
		{"select * from ml.predict(model m, table nope)", "unknown table nope"},
		{"select c[1] from t", "c[1]: list_extract: DOUBLE is not a LIST"},
		{"select prediction[1] from ml.predict(model r, table t)", "prediction[1]: list_extract: DOUBLE is not a LIST"},
	} {
		_, err := tryBind(cat, &plan.IDGen{}, tc.sql)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.sql, err, tc.want)
		}
	}
	if _, err := tryBind(newTestCatalog(), &plan.IDGen{}, "select * from ml.predict(model m, table t)"); err == nil || !strings.Contains(err.Error(), "models are not available here") {
		t.Errorf("without a model catalog: %v", err)
	}
}
