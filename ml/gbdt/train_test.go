package gbdt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flint-engine/flint/ml/xgboost"
)

func mustParams(t *testing.T, kv map[string]string) Params {
	t.Helper()
	p, err := ParseParams(kv)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func trainOn(t *testing.T, p Params, parts []Data, eval []Data) (*Booster, *TrainInfo) {
	t.Helper()
	shards, _, err := Prepare(p.MaxBin, parts)
	if err != nil {
		t.Fatal(err)
	}
	var es []*EvalShard
	for _, d := range eval {
		e, err := NewEvalShard(d)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	b, info, err := Train(context.Background(), p, shards, es)
	if err != nil {
		t.Fatal(err)
	}
	return b, info
}

// TestDeterministic: the same parameters, seed and shards give the same
// model byte for byte, whatever the number of threads; another seed
// gives another model when sampling is on.
func TestDeterministic(t *testing.T) {
	d := syntheticData(6000, 6, 11)
	kv := map[string]string{"objective": Logistic, "num_boost_round": "15", "subsample": "0.7",
		"colsample_bytree": "0.5", "seed": "7", "max_bin": "64"}
	var first []byte
	for _, threads := range []string{"1", "2", "5"} {
		kv["nthread"] = threads
		b, _ := trainOn(t, mustParams(t, kv), d.split(3), nil)
		if first == nil {
			first = b.JSON()
		} else if !bytes.Equal(first, b.JSON()) {
			t.Fatalf("nthread %s: another model than with nthread 1", threads)
		}
	}
	kv["seed"] = "8"
	if b, _ := trainOn(t, mustParams(t, kv), d.split(3), nil); bytes.Equal(first, b.JSON()) {
		t.Error("seed 8 grew the same model as seed 7")
	}
}

// TestShardingEquivalent: without sampling, partitioning the rows
// differently changes only the order of floating-point sums, not the
// model's predictions beyond rounding.
func TestShardingEquivalent(t *testing.T) {
	d := syntheticData(4000, 5, 3)
	p := mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "10"})
	b1, _ := trainOn(t, p, d.split(1), nil)
	b4, _ := trainOn(t, p, d.split(4), nil)
	p1, p4 := make([]float64, 4000), make([]float64, 4000)
	b1.Predict(d.Features, p1)
	b4.Predict(d.Features, p4)
	for i := range p1 {
		if math.Abs(p1[i]-p4[i]) > 1e-4 {
			t.Fatalf("row %d: %v with 1 shard, %v with 4", i, p1[i], p4[i])
		}
	}
}

func TestTrainErrors(t *testing.T) {
	d := syntheticData(200, 3, 1)
	shards, _, err := Prepare(16, d.split(2))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := Prepare(8, d.split(1))
	if err != nil {
		t.Fatal(err)
	}
	multi := d
	multi.Label = append([]float64(nil), d.Label...)
	multi.Label[150] = 3
	mshards, _, _ := Prepare(16, multi.split(2))
	frac := d
	frac.Label = append([]float64(nil), d.Label...)
	frac.Label[7] = 0.5
	fshards, _, _ := Prepare(16, frac.split(1))
	eval4 := syntheticData(10, 4, 2)
	e4, _ := NewEvalShard(eval4)
	e3, _ := NewEvalShard(syntheticData(10, 3, 2))
	ctx := context.Background()
	for _, tc := range []struct {
		kv     map[string]string
		shards []*Shard
		eval   []*EvalShard
		want   string
	}{
		{map[string]string{"objective": Logistic}, nil, nil, "no training rows"},
		{map[string]string{"objective": Logistic}, []*Shard{shards[0], other[0]}, nil, "training shard 1 is binned with other cuts than shard 0"},
		{map[string]string{"objective": Softprob, "num_class": "3"}, mshards, nil, "training shard 1, row 50: label 3: multi:softprob labels must be integers in [0, num_class = 3)"},
		{map[string]string{"objective": Logistic, "class_weights": "1,2"}, fshards, nil, "training shard 0, row 7: label 0.5: with class_weights, binary:logistic labels must be 0 or 1"},
		{map[string]string{"objective": Logistic, "early_stopping_rounds": "3"}, shards, nil, "early_stopping_rounds = 3 needs an eval set with rows"},
		{map[string]string{"objective": Logistic}, shards, []*EvalShard{e4}, "eval shard 0 has 4 features, the training data 3"},
		{map[string]string{"objective": Logistic}, []*Shard{nil}, nil, "training shard 0 is nil"},
		{map[string]string{"objective": Logistic}, []*Shard{shards[0], shards[1], shards[0]}, nil, "training shards 0 and 2 are the same shard"},
		{map[string]string{"objective": Logistic}, shards, []*EvalShard{e3, e3}, "eval shards 0 and 1 are the same shard"},
	} {
		p := mustParams(t, tc.kv)
		_, _, err := Train(ctx, p, tc.shards, tc.eval)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.kv, err, tc.want)
		}
	}
	if _, _, err := Train(ctx, Params{}, shards, nil); err == nil || !strings.Contains(err.Error(), "objective") {
		t.Errorf("zero Params: error %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := Train(cancelled, mustParams(t, nil), shards, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v", err)
	}
	// A failed training leaves the shards free for the next.
	if _, _, err := Train(ctx, mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "2"}), shards, nil); err != nil {
		t.Errorf("training after a cancelled one: %v", err)
	}
}

// TestEarlyStopping trains on labels that are pure noise: the eval loss
// soon rises, training stops early_stopping_rounds rounds after the best
// round and the booster keeps the rounds up to it.
func TestEarlyStopping(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	noise := func(n int) Data {
		d := syntheticData(n, 4, r.Uint64())
		for i := range d.Label {
			d.Label[i] = float64(r.IntN(2))
		}
		return d
	}
	p := mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "100", "early_stopping_rounds": "4", "max_depth": "6"})
	b, info := trainOn(t, p, []Data{noise(2000)}, []Data{noise(300), noise(200)})
	if !info.EarlyStopped || len(info.Rounds) != info.BestIteration+5 {
		t.Fatalf("early stopped %v after %d rounds, best %d", info.EarlyStopped, len(info.Rounds), info.BestIteration)
	}
	best := 0
	for i, r := range info.Rounds {
		if r.EvalLoss < info.Rounds[best].EvalLoss {
			best = i
		}
		if math.IsNaN(r.TrainLoss) || r.Elapsed <= 0 {
			t.Errorf("round %d: %+v", i, r)
		}
	}
	if best != info.BestIteration || b.BestIteration() != best || b.NumRounds() != best+1 {
		t.Errorf("best %d, info %d, booster %d with %d rounds", best, info.BestIteration, b.BestIteration(), b.NumRounds())
	}
	if !strings.Contains(string(b.JSON()), `"attributes":{"best_iteration":"`) {
		t.Error("export lacks best_iteration")
	}
	// Without early stopping the best round is reported, all rounds kept.
	p.EarlyStoppingRounds = 0
	p.Rounds = 12
	b, info = trainOn(t, p, []Data{noise(500)}, []Data{noise(100)})
	if b.NumRounds() != 12 || b.BestIteration() != -1 || info.BestIteration < 0 || info.EarlyStopped {
		t.Errorf("no early stopping: %d rounds, best %d/%d", b.NumRounds(), b.BestIteration(), info.BestIteration)
	}
}

// TestMinRelProgress stops at the first round whose loss (the eval set's,
// else the training rows') improved by less than the fraction, keeping
// every round trained.
func TestMinRelProgress(t *testing.T) {
	d := syntheticData(3000, 4, 5)
	for _, withEval := range []bool{true, false} {
		p := DefaultParams()
		p.Objective, p.Rounds, p.MinRelProgress = Logistic, 200, 0.01
		for i := range d.Label {
			d.Label[i] = float64(int(d.Label[i]) & 1)
		}
		var eval []Data
		if withEval {
			eval = []Data{syntheticData(500, 4, 6)}
			for i := range eval[0].Label {
				eval[0].Label[i] = float64(int(eval[0].Label[i]) & 1)
			}
		}
		b, info := trainOn(t, p, []Data{d}, eval)
		n := len(info.Rounds)
		if !info.EarlyStopped || n < 2 || n >= 200 || b.NumRounds() != n {
			t.Fatalf("eval %v: stopped %v after %d rounds, booster %d", withEval, info.EarlyStopped, n, b.NumRounds())
		}
		loss := func(i int) float64 {
			if withEval {
				return info.Rounds[i].EvalLoss
			}
			return info.Rounds[i].TrainLoss
		}
		last := n - 1
		if prev, cur := loss(last-1), loss(last); prev-cur >= 0.01*prev {
			t.Errorf("eval %v: stopped after round %d although the loss went %v → %v", withEval, last, prev, cur)
		}
		for i := 1; i < last; i++ {
			if prev, cur := loss(i-1), loss(i); prev-cur < 0.01*prev {
				t.Errorf("eval %v: round %d improved too little (%v → %v) but training went on", withEval, i, prev, cur)
			}
		}
	}
}

func TestImportance(t *testing.T) {
	d := syntheticData(3000, 5, 4)
	b, _ := trainOn(t, mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "5"}), d.split(2), nil)
	imp := b.Importance()
	weight := make([]float64, 5)
	for _, tr := range b.Trees() {
		for _, nd := range tr.Nodes {
			if nd.Left >= 0 {
				weight[nd.Feature]++
			}
		}
	}
	for f := range weight {
		if imp.Weight[f] != weight[f] {
			t.Errorf("feature %d: weight %v, %v splits", f, imp.Weight[f], weight[f])
		}
		if weight[f] > 0 && (imp.Gain[f] <= 0 || math.Abs(imp.Gain[f]*imp.Weight[f]-imp.TotalGain[f]) > 1e-6*imp.TotalGain[f] || imp.Cover[f] <= 0) {
			t.Errorf("feature %d: gain %v total %v cover %v", f, imp.Gain[f], imp.TotalGain[f], imp.Cover[f])
		}
	}
	// Feature 0 carries the strongest signal.
	for f := 1; f < 5; f++ {
		if imp.TotalGain[f] > imp.TotalGain[0] {
			t.Errorf("feature %d gains %v, more than feature 0's %v", f, imp.TotalGain[f], imp.TotalGain[0])
		}
	}
}

// TestStumps: with a huge gamma no split is worth it; every tree is a
// single leaf, and the export still loads and predicts the same.
func TestStumps(t *testing.T) {
	d := syntheticData(500, 3, 5)
	for _, obj := range []map[string]string{
		{"objective": Logistic, "gamma": "1e9", "num_boost_round": "3"},
		{"objective": Softprob, "num_class": "2", "gamma": "1e9", "num_boost_round": "3"},
		{"objective": SquaredError, "gamma": "1e9", "num_boost_round": "3", "max_delta_step": "0.1"},
	} {
		b, info := trainOn(t, mustParams(t, obj), d.split(1), nil)
		for _, tr := range b.Trees() {
			if len(tr.Nodes) != 1 {
				t.Fatalf("%v: a tree of %d nodes", obj, len(tr.Nodes))
			}
		}
		m, err := xgboost.Load(b.JSON())
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 500*b.NumOutputs())
		got := make([]float64, len(want))
		b.Predict(d.Features, want)
		m.Predict(d.Features, got)
		for i := range want {
			if math.Abs(want[i]-got[i]) > 1e-6 {
				t.Fatalf("%v: row %d: loader %v, booster %v", obj, i, got[i], want[i])
			}
		}
		if info.Rounds[2].TrainLoss >= info.Rounds[0].TrainLoss && obj["objective"] != Softprob {
			t.Errorf("%v: stumps did not lower the loss: %+v", obj, info.Rounds)
		}
	}
}

// TestWeightsScaleInvariant: multiplying every weight by 4 (and
// min_child_weight and gamma with them, lambda 0) gives the same trees.
// (gamma keeps the splits XGBoost's absolute kRtEps would decide apart.)
func TestWeightsScaleInvariant(t *testing.T) {
	d := syntheticData(3000, 4, 8)
	d.Weight = make([]float64, 3000)
	for i := range d.Weight {
		d.Weight[i] = float64(1 + i%3)
	}
	p := mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "4", "lambda": "0", "min_child_weight": "1", "gamma": "0.001"})
	b1, _ := trainOn(t, p, d.split(2), nil)
	d4 := d
	d4.Weight = make([]float64, 3000)
	for i, w := range d.Weight {
		d4.Weight[i] = 4 * w
	}
	p.MinChildWeight, p.Gamma = 4, 0.004
	b4, _ := trainOn(t, p, d4.split(2), nil)
	for ti, tr := range b1.Trees() {
		for ni, nd := range tr.Nodes {
			o := b4.Trees()[ti].Nodes[ni]
			if nd.Left != o.Left || nd.Feature != o.Feature || nd.Cond != o.Cond || math.Abs(float64(nd.Value-o.Value)) > 1e-6 {
				t.Fatalf("tree %d node %d: %+v with weights, %+v with 4× weights", ti, ni, nd, o)
			}
		}
	}
}

// TestEmptyPartitions: partitions without rows take part without harm.
func TestEmptyPartitions(t *testing.T) {
	d := syntheticData(1000, 3, 6)
	parts := append([]Data{d.split(1)[0]}, Data{Features: make([][]float64, 3)}, Data{Features: make([][]float64, 3)})
	parts[0], parts[1] = parts[1], parts[0]
	p := mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "3", "subsample": "0.5"})
	b, info := trainOn(t, p, parts, []Data{{Features: make([][]float64, 3)}})
	if len(b.Trees()[0].Nodes) < 3 || !math.IsNaN(info.Rounds[0].EvalLoss) || math.IsNaN(info.Rounds[2].TrainLoss) {
		t.Errorf("tree of %d nodes, rounds %+v", len(b.Trees()[0].Nodes), info.Rounds)
	}
}
