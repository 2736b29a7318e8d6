package optimizer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/plan"
)

// predict scores orders with a classifier reading o_totalprice and
// o_shippriority: Out is orders' columns, prediction and predicted_label.
func (b *builder) predict(in plan.Node) *plan.Predict {
	ref := &plan.ModelRef{Name: "m", Type: "xgboost", Objective: "binary:logistic", NumClasses: 2, NumOutputs: 1,
		Features: []string{"o_totalprice", "o_shippriority"}}
	out := append(plan.Schema(nil), in.Schema()...)
	out = append(out, b.ids.NewColumn("prediction", "", arrow.PrimitiveTypes.Float64, false),
		b.ids.NewColumn("predicted_label", "", arrow.PrimitiveTypes.Int64, false))
	return &plan.Predict{Input: in, Model: ref, Features: []plan.Expr{b.col(in, "o_totalprice"), b.col(in, "o_shippriority")},
		Kinds: []plan.PredictKind{plan.PredictValue, plan.PredictLabel}, Out: out}
}

func TestPruneColumnsPredict(t *testing.T) {
	b := newBuilder(t)
	p := b.predict(b.scan("orders", ""))
	root := project(p, b.col(p, "o_orderkey"), b.col(p, "prediction"))
	out, trace, err := Apply(root, b.ids, PruneColumns{})
	if err != nil || !fired(trace, "prune_columns") {
		t.Fatalf("did not fire: %v", err)
	}
	s := plan.Format(out)
	for _, want := range []string{
		"Scan orders [o_orderkey, o_totalprice, o_shippriority]",
		"-> value AS prediction#",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("want %q in\n%s", want, s)
		}
	}
	if strings.Contains(s, "predicted_label") {
		t.Errorf("the unused label is still computed:\n%s", s)
	}
	if !sameSchemaExact(out.Schema(), root.Schema()) {
		t.Errorf("root schema changed")
	}

	// No prediction used: no Predict.
	root = project(p, b.col(p, "o_orderkey"))
	out, _, _ = Apply(root, b.ids, PruneColumns{})
	if s := plan.Format(out); strings.Contains(s, "Predict") || !strings.Contains(s, "Scan orders [o_orderkey]") {
		t.Errorf("a Predict nobody reads stays:\n%s", s)
	}
}

func TestPushFiltersPredict(t *testing.T) {
	b := newBuilder(t)
	p := b.predict(b.scan("orders", ""))
	onInput := bin(plan.OpEq, b.col(p, "o_orderstatus"), str("F"))
	onPrediction := bin(plan.OpGt, b.col(p, "prediction"), &plan.Literal{Value: 0.5, Typ: arrow.PrimitiveTypes.Float64})
	root := filter(p, onInput, onPrediction)
	out, trace, err := Apply(root, b.ids, PushDownFilters{})
	if err != nil || !fired(trace, "push_down_filters") {
		t.Fatalf("did not fire: %v", err)
	}
	f, ok := out.(*plan.Filter)
	if !ok || f.Cond.String() != onPrediction.String() {
		t.Fatalf("the prediction's filter must stay above:\n%s", plan.Format(out))
	}
	sc, ok := f.Input.(*plan.Predict).Input.(*plan.Scan)
	if !ok || len(sc.Filters) != 1 || sc.Filters[0].String() != onInput.String() {
		t.Errorf("the input's filter did not reach the scan:\n%s", plan.Format(out))
	}
	// Only a filter on the prediction: nothing moves.
	root = filter(p, onPrediction)
	if _, trace, _ := Apply(root, b.ids, PushDownFilters{}); len(trace) != 0 {
		t.Errorf("fired with nothing to push: %v", trace)
	}
}

func TestLimitThroughPredict(t *testing.T) {
	b := newBuilder(t)
	p := b.predict(b.scan("orders", ""))
	root := &plan.Limit{Input: p, Count: 10}
	out, trace, err := Apply(root, b.ids, Simplify{})
	if err != nil || !fired(trace, "simplify") {
		t.Fatalf("did not fire: %v", err)
	}
	pr, ok := out.(*plan.Predict)
	if !ok {
		t.Fatalf("Limit stays above Predict:\n%s", plan.Format(out))
	}
	if l, ok := pr.Input.(*plan.Limit); !ok || l.Count != 10 {
		t.Errorf("no Limit below Predict:\n%s", plan.Format(out))
	}
	// The whole pipeline keeps ORDER BY prediction LIMIT 10 a top-N above
	// the scoring.
	sorted := &plan.Limit{Input: &plan.Sort{Input: p, Keys: []plan.SortKey{{E: b.col(p, "prediction"), Desc: true}}, Limit: -1}, Count: 10}
	opt, _ := mustOptimize(t, sorted, b.ids)
	s := plan.Format(opt)
	if strings.Index(s, "TopN") > strings.Index(s, "Predict") {
		t.Errorf("the top-N must stay above Predict:\n%s", s)
	}
}
