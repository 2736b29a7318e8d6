package flint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

// parseOptions parses the OPTIONS of a CREATE MODEL statement as SQL
// gives them to the trainer.
func parseOptions(t *testing.T, options string) (*trainOptions, error) {
	t.Helper()
	st, err := parser.ParseOne("CREATE MODEL m OPTIONS (model_type = 'boosted_tree_classifier', input_label_cols = ['y'], " + options + ")")
	if err != nil {
		t.Fatalf("%s: %v", options, err)
	}
	return parseTrainOptions("m", st.(*ast.CreateModel).Options)
}

func mustParseOptions(t *testing.T, options string) *trainOptions {
	t.Helper()
	o, err := parseOptions(t, options)
	if err != nil {
		t.Fatalf("%s: %v", options, err)
	}
	return o
}

// TestTunablesAgree checks the table of tunable options against
// parseTrainOptions: the same bounds, and the same parameter set.
func TestTunablesAgree(t *testing.T) {
	format := func(v float64) string {
		if math.IsInf(v, 1) {
			return "1e309" // past the largest float64
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, tu := range tunables {
		mid := tu.lo + (min(tu.hi, 1e6)-tu.lo)/3
		if tu.integer {
			mid = math.Floor(mid)
		}
		for _, v := range []float64{tu.lo, tu.hi, mid} {
			if !tu.accepts(v) {
				continue
			}
			o, err := parseOptions(t, tu.name+" = "+format(v))
			if err != nil {
				t.Errorf("%s = %s: %v, but the tunable takes it", tu.name, format(v), err)
				continue
			}
			want := mustParseOptions(t, "seed = 0").params
			tu.set(&want, v)
			if !paramsEqual(o.params, want) || tu.get(&o.params) != v {
				t.Errorf("%s = %s sets %+v; the tunable sets %+v", tu.name, format(v), o.params, want)
			}
		}
		below, above := math.Nextafter(tu.lo, math.Inf(-1)), math.Nextafter(tu.hi, math.Inf(1))
		if tu.integer {
			below, above = tu.lo-1, tu.hi+1
		}
		if tu.lo == math.SmallestNonzeroFloat64 {
			below = 0
		}
		for _, v := range []float64{below, above} {
			if _, err := parseOptions(t, tu.name+" = "+format(v)); err == nil {
				t.Errorf("%s = %s is accepted, but the tunable takes %s", tu.name, format(v), tu.want())
			}
		}
	}
}

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func paramsEqual(a, b gbdt.Params) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

// TestTuneOptionErrors: every misuse of the tuning options is an error
// naming the option.
func TestTuneOptionErrors(t *testing.T) {
	for _, tc := range []struct{ options, want string }{
		{"num_trials = 2, seed = HPARAM_RANGE(1, 5)",
			"option seed = HPARAM_RANGE(1, 5) (line 1, column 114): only these options can be tuned: colsample_bytree, l1_reg"},
		{"num_trials = 2, max_bins = HPARAM_CANDIDATES([64, 128])", "option max_bins = HPARAM_CANDIDATES([64, 128]) (line 1, column 118): max_bins cannot be tuned: the rows are binned once"},
		{"num_trials = 2, max_tree_depth = HPARAM_RANGE(2, 8.5)", "(line 1, column 140): max_tree_depth takes integers: a range of it needs integer bounds, not 8.5"},
		{"num_trials = 2, max_iterations = HPARAM_CANDIDATES([10, 20.5])", "max_iterations takes integers: the candidate 20.5 is not one"},
		{"num_trials = 2, max_tree_depth = HPARAM_RANGE(0, 8)", "the lower bound 0 is out of range: max_tree_depth takes integers in [1, 30]"},
		{"num_trials = 2, learn_rate = HPARAM_CANDIDATES([0.1, 2])", "(line 1, column 144): the candidate 2 is out of range: learn_rate takes numbers in [0, 1]"},
		{"num_trials = 2, subsample = HPARAM_RANGE(0, 1)", "the lower bound 0 is out of range: subsample takes numbers in (0, 1]"},
		{"num_trials = 2, l2_reg = HPARAM_RANGE(-1, 1)", "the lower bound -1 is out of range: l2_reg takes numbers in [0, ∞)"},
		{"learn_rate = HPARAM_RANGE(0.05, 0.5)", "option learn_rate = HPARAM_RANGE(0.05, 0.5) is a search space for hyperparameter tuning: give num_trials = N (1 to 100) too"},
		{"num_trials = 3", "num_trials = 3 tunes hyperparameters, but no option has a search space"},
		{"max_parallel_trials = 2", "max_parallel_trials is for hyperparameter tuning: give num_trials"},
		{"num_trials = 0, l1_reg = HPARAM_RANGE(0, 1)", "option num_trials = 0: want an integer in [1, 100]"},
		{"num_trials = 101, l1_reg = HPARAM_RANGE(0, 1)", "option num_trials = 101: want an integer in [1, 100]"},
		{"num_trials = 2, max_parallel_trials = 0, l1_reg = HPARAM_RANGE(0, 1)", "option max_parallel_trials = 0: want an integer in [1, 100]"},
		{"num_trials = 2, data_split_method = 'NO_SPLIT', l1_reg = HPARAM_RANGE(0, 1)", "num_trials = 2 compares the trials by their loss on evaluation rows, and data_split_method = 'NO_SPLIT' leaves none"},
	} {
		_, err := parseOptions(t, tc.options)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.options, err, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "CREATE MODEL m: ") {
			t.Errorf("%s: error %q does not name the model", tc.options, err)
		}
	}
	// One trial needs no evaluation rows: it is the model.
	o := mustParseOptions(t, "num_trials = 1, data_split_method = 'NO_SPLIT', l1_reg = HPARAM_RANGE(0, 1)")
	if o.numTrials != 1 || len(o.search) != 1 {
		t.Fatalf("num_trials = 1: %+v", o)
	}
}

// searchOf parses options and returns their search spaces and defaults.
func searchOf(t *testing.T, options string) ([]hparamSpace, gbdt.Params) {
	t.Helper()
	o := mustParseOptions(t, options)
	return o.search, o.params
}

func TestSearchTrialsDeterministic(t *testing.T) {
	spaces, base := searchOf(t, "num_trials = 10, learn_rate = HPARAM_RANGE(0.01, 0.5), max_tree_depth = HPARAM_RANGE(2, 10), subsample = HPARAM_CANDIDATES([0.5, 0.8, 1])")
	a := searchTrials(spaces, base, 10, 7)
	b := searchTrials(spaces, base, 10, 7)
	c := searchTrials(spaces, base, 10, 8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("seed 7 twice gave\n%v\n%v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatalf("seeds 7 and 8 gave the same trials %v", a)
	}
	if fmt.Sprint(a[0]) != fmt.Sprint(c[0]) {
		t.Fatalf("trial 0 depends on the seed: %v, %v", a[0], c[0])
	}
	for i, tr := range a {
		if tr.id != i || len(tr.values) != 3 {
			t.Fatalf("trial %d: %+v", i, tr)
		}
	}
}

// TestSearchTrialsInitial: trial 0 takes the defaults (XGBoost's, and
// BigQuery ML's 20 iterations) the spaces hold, else the first candidate
// or the midpoint of the range (geometric for a log-uniform range).
func TestSearchTrialsInitial(t *testing.T) {
	for _, tc := range []struct {
		options string
		want    map[string]float64
	}{
		{"learn_rate = HPARAM_RANGE(0.05, 0.5), max_tree_depth = HPARAM_CANDIDATES([4, 6]), max_iterations = HPARAM_RANGE(10, 50)",
			map[string]float64{"learn_rate": 0.3, "max_tree_depth": 6, "max_iterations": 20}},
		{"learn_rate = HPARAM_RANGE(0.001, 0.1), max_tree_depth = HPARAM_RANGE(8, 13), subsample = HPARAM_CANDIDATES([0.5, 0.7]), min_split_loss = HPARAM_RANGE(1, 3), l1_reg = HPARAM_RANGE(0, 4)",
			map[string]float64{"learn_rate": 0.01, "max_tree_depth": 10, "subsample": 0.5, "min_split_loss": 2, "l1_reg": 0}},
		{"l2_reg = HPARAM_RANGE(4, 16)", map[string]float64{"l2_reg": 8}},
	} {
		spaces, base := searchOf(t, "num_trials = 3, "+tc.options)
		got := searchTrials(spaces, base, 3, 1)[0].values
		for k, w := range tc.want {
			if math.Abs(got[k]-w) > 1e-12*w {
				t.Errorf("%s: trial 0 has %s = %v, want %v", tc.options, k, got[k], w)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: trial 0 = %v", tc.options, got)
		}
	}
}

// TestSearchTrialsRespectRanges: every value drawn lies in its space, and
// integer options get integers.
func TestSearchTrialsRespectRanges(t *testing.T) {
	spaces, base := searchOf(t, "num_trials = 100, learn_rate = HPARAM_RANGE(0.02, 0.04), max_tree_depth = HPARAM_RANGE(3, 5), "+
		"subsample = HPARAM_CANDIDATES([0.5, 0.75]), l1_reg = HPARAM_RANGE(0, 2), max_iterations = HPARAM_RANGE(10, 1000), colsample_bytree = HPARAM_RANGE(0.5, 0.5)")
	trials := searchTrials(spaces, base, 100, 3)
	if len(trials) != 100 {
		t.Fatalf("%d trials, want 100", len(trials))
	}
	seen := map[string]bool{}
	for _, tr := range trials {
		v := tr.values
		if !(v["learn_rate"] >= 0.02 && v["learn_rate"] <= 0.04) || !(v["l1_reg"] >= 0 && v["l1_reg"] <= 2) ||
			!slices.Contains([]float64{3, 4, 5}, v["max_tree_depth"]) || !slices.Contains([]float64{0.5, 0.75}, v["subsample"]) ||
			!(v["max_iterations"] >= 10 && v["max_iterations"] <= 1000 && v["max_iterations"] == math.Trunc(v["max_iterations"])) ||
			v["colsample_bytree"] != 0.5 {
			t.Fatalf("trial %d out of its spaces: %v", tr.id, v)
		}
		if k := valuesText(v); seen[k] {
			t.Fatalf("trial %d repeats another: %v", tr.id, v)
		} else {
			seen[k] = true
		}
	}
}

// TestDrawDistributions: learn_rate, l1_reg and l2_reg are drawn
// log-uniformly from a range above 0 (each decade equally often), other
// ranges uniformly.
func TestDrawDistributions(t *testing.T) {
	const n = 30000
	decades := func(options string, name string) (frac [3]float64, mean float64) {
		spaces, _ := searchOf(t, "num_trials = 2, "+options)
		s := spaces[slices.IndexFunc(spaces, func(s hparamSpace) bool { return s.opt.name == name })]
		r := newTestRand(5)
		for range n {
			v := s.draw(r)
			if v < s.lo || v > s.hi {
				t.Fatalf("%s: drew %v outside [%v, %v]", options, v, s.lo, s.hi)
			}
			mean += v / n
			switch {
			case v < 0.01*s.hi:
				frac[0] += 1.0 / n
			case v < 0.1*s.hi:
				frac[1] += 1.0 / n
			default:
				frac[2] += 1.0 / n
			}
		}
		return frac, mean
	}
	for _, name := range []string{"learn_rate", "l1_reg", "l2_reg"} {
		// Log-uniform on [0.001, 1]: a third in each decade.
		frac, _ := decades(name+" = HPARAM_RANGE(0.001, 1)", name)
		for d, f := range frac {
			if math.Abs(f-1.0/3) > 0.02 {
				t.Errorf("%s in [0.001, 1]: %.3f of the draws in decade %d, want 1/3 (log-uniform)", name, f, d)
			}
		}
	}
	// From 0 the log scale has no start: uniform, mean 0.5.
	if frac, mean := decades("l1_reg = HPARAM_RANGE(0, 1)", "l1_reg"); math.Abs(mean-0.5) > 0.01 || math.Abs(frac[2]-0.9) > 0.01 {
		t.Errorf("l1_reg in [0, 1]: mean %.3f, %.3f above 0.1; want uniform (0.5, 0.9)", mean, frac[2])
	}
	if frac, mean := decades("subsample = HPARAM_RANGE(0.001, 1)", "subsample"); math.Abs(mean-0.5005) > 0.01 || math.Abs(frac[2]-0.9) > 0.01 {
		t.Errorf("subsample in [0.001, 1]: mean %.3f, %.3f above 0.1; want uniform", mean, frac[2])
	}
}

// TestSearchTrialsNoRepeats: a finite space is drawn without replacement,
// and one smaller than num_trials is tried whole.
func TestSearchTrialsNoRepeats(t *testing.T) {
	for _, tc := range []struct {
		options string
		n, want int
	}{
		{"max_tree_depth = HPARAM_CANDIDATES([2, 4, 8])", 5, 3},
		{"max_tree_depth = HPARAM_CANDIDATES([2, 4, 8]), subsample = HPARAM_CANDIDATES([0.5, 1])", 4, 4},
		{"max_tree_depth = HPARAM_RANGE(1, 3), subsample = HPARAM_CANDIDATES([0.5, 1])", 100, 6},
		{"max_tree_depth = HPARAM_RANGE(4, 4)", 10, 1},
		{"l1_reg = HPARAM_RANGE(1, 1), max_iterations = HPARAM_RANGE(1, 100000)", 100, 100},
		{"max_tree_depth = HPARAM_CANDIDATES([2, 4, 8])", 1, 1},
	} {
		spaces, base := searchOf(t, fmt.Sprintf("num_trials = %d, %s", tc.n, tc.options))
		for seed := range uint64(20) {
			trials := searchTrials(spaces, base, tc.n, seed)
			if len(trials) != tc.want {
				t.Fatalf("%s, num_trials = %d: %d trials, want %d", tc.options, tc.n, len(trials), tc.want)
			}
			seen := map[string]bool{}
			for _, tr := range trials {
				k := valuesText(tr.values)
				if seen[k] {
					t.Fatalf("%s, seed %d: trial %d repeats %s", tc.options, seed, tr.id, k)
				}
				seen[k] = true
			}
		}
	}
}

// fakeTraining is a trialFunc whose eval loss is a function of the
// parameters; it fails for max_depth 13.
func fakeTraining(loss func(p gbdt.Params) float64) trialFunc {
	return func(ctx context.Context, p gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error) {
		if p.MaxDepth == 13 {
			return nil, nil, errors.New("depth 13 is unlucky")
		}
		l := loss(p)
		info := &gbdt.TrainInfo{Metric: "rmse", BestIteration: 1, Elapsed: time.Millisecond, Rounds: []gbdt.RoundInfo{
			{Round: 0, TrainLoss: 2 * l, EvalLoss: 3 * l}, {Round: 1, TrainLoss: l / 2, EvalLoss: l}, {Round: 2, TrainLoss: l / 4, EvalLoss: 2 * l}}}
		return &gbdt.Booster{}, info, nil
	}
}

func depthTrials(depths ...int) []trial {
	out := make([]trial, len(depths))
	for i, d := range depths {
		out[i] = trial{id: i, values: map[string]float64{"max_tree_depth": float64(d)}}
	}
	return out
}

func TestRunTrialsBest(t *testing.T) {
	ctx := context.Background()
	base := gbdt.DefaultParams()
	// Loss |depth - 5|: depth 4 and 6 tie; the lower id wins. Depth 13
	// fails and is recorded.
	res, best, err := runTrials(ctx, base, depthTrials(8, 13, 6, 4, 2), 3, fakeTraining(func(p gbdt.Params) float64 { return math.Abs(float64(p.MaxDepth) - 5) }))
	if err != nil {
		t.Fatal(err)
	}
	if best != 2 {
		t.Fatalf("best trial %d, want 2 (depth 6, tied with trial 3 and first)", best)
	}
	if res[1].err == nil || !strings.Contains(res[1].err.Error(), "unlucky") {
		t.Fatalf("trial 1: %+v", res[1])
	}
	for i, r := range res {
		if r.id != i {
			t.Fatalf("result %d is trial %d", i, r.id)
		}
	}
	// The losses are at the best iteration (round 1), not the last.
	if tl, el := res[0].losses(); tl != 1.5 || el != 3 {
		t.Fatalf("trial 0 losses %v, %v; want 1.5, 3 (round 1)", tl, el)
	}

	// All failing: an error with the first trial's.
	_, _, err = runTrials(ctx, base, depthTrials(13, 13), 1, fakeTraining(func(gbdt.Params) float64 { return 1 }))
	if err == nil || !strings.Contains(err.Error(), "all 2 trials failed; trial 0 (max_tree_depth = 13): depth 13 is unlucky") {
		t.Fatalf("all failing: %v", err)
	}

	// A panic fails its trial only.
	res, best, err = runTrials(ctx, base, depthTrials(3, 4), 2, func(ctx context.Context, p gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error) {
		if p.MaxDepth == 3 {
			panic("boom")
		}
		return fakeTraining(func(gbdt.Params) float64 { return 1 })(ctx, p)
	})
	if err != nil || best != 1 || res[0].err == nil || !strings.Contains(res[0].err.Error(), "panicked: boom") {
		t.Fatalf("panic: best %d, err %v, trial 0 %v", best, err, res[0].err)
	}
}

// TestRunTrialsParallel: up to maxParallel trials run at once, and that
// many do.
func TestRunTrialsParallel(t *testing.T) {
	for _, maxParallel := range []int{1, 2, 3} {
		var running, peak atomic.Int32
		train := func(ctx context.Context, p gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			// Wait (a while at most) for maxParallel trials to run together.
			for deadline := time.Now().Add(5 * time.Second); peak.Load() < int32(maxParallel) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			return fakeTraining(func(gbdt.Params) float64 { return 1 })(ctx, p)
		}
		if _, _, err := runTrials(context.Background(), gbdt.DefaultParams(), depthTrials(1, 2, 3, 4, 5, 6, 7), maxParallel, train); err != nil {
			t.Fatal(err)
		}
		if got := peak.Load(); got != int32(maxParallel) {
			t.Errorf("maxParallel %d: %d trials ran at once", maxParallel, got)
		}
	}
}

func TestRunTrialsCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	_, _, err := runTrials(ctx, gbdt.DefaultParams(), depthTrials(1, 2, 3, 4), 1, func(ctx context.Context, p gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error) {
		calls.Add(1)
		cancel()
		return nil, nil, ctx.Err()
	})
	if !errors.Is(err, context.Canceled) || calls.Load() != 1 {
		t.Fatalf("error %v after %d trials; want context.Canceled after 1", err, calls.Load())
	}
}

// TestTrainTrials: the optimal trial's booster is the model and its values
// are the options reported; every trial is in the report.
func TestTrainTrials(t *testing.T) {
	o := mustParseOptions(t, "num_trials = 3, max_parallel_trials = 2, max_tree_depth = HPARAM_CANDIDATES([13, 7, 5]), learn_rate = HPARAM_CANDIDATES([0.1])")
	boosters := map[int]*gbdt.Booster{}
	var mu sync.Mutex
	loss := func(p gbdt.Params) float64 { return float64(p.MaxDepth) }
	_, _, _, err := o.trainTrials(context.Background(), 100, 0, fakeTraining(loss))
	if err == nil || !strings.Contains(err.Error(), "num_trials = 3 compares the trials by their loss on evaluation rows") {
		t.Fatalf("no evaluation rows: %v", err)
	}
	train := func(ctx context.Context, p gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error) {
		b, info, err := fakeTraining(loss)(ctx, p)
		if b != nil {
			mu.Lock()
			boosters[p.MaxDepth] = b
			mu.Unlock()
		}
		return b, info, err
	}
	b, info, trials, err := o.trainTrials(context.Background(), 100, 20, train)
	if err != nil {
		t.Fatal(err)
	}
	if b != boosters[5] || info.BestIteration != 1 {
		t.Fatalf("the model is not depth 5's booster")
	}
	if o.params.MaxDepth != 5 || o.params.Eta != 0.1 || o.given["max_tree_depth"] != "5" || o.given["learn_rate"] != "0.1" {
		t.Fatalf("reported options %v, params depth %d eta %v; want depth 5, learn_rate 0.1", o.given, o.params.MaxDepth, o.params.Eta)
	}
	if len(trials) != 3 {
		t.Fatalf("%d trials", len(trials))
	}
	optimal := 0
	for i, tr := range trials {
		if tr.TrialID != i || tr.Hyperparameters["learn_rate"] != 0.1 {
			t.Fatalf("trial %d: %+v", i, tr)
		}
		switch d := tr.Hyperparameters["max_tree_depth"]; {
		case d == 13:
			if tr.Status != store.TrialFailed || tr.Error != "depth 13 is unlucky" || tr.EvalLoss != nil || tr.TrainLoss != nil || tr.IsOptimal {
				t.Fatalf("failed trial: %+v", tr)
			}
		default:
			if tr.Status != store.TrialSucceeded || tr.Error != "" || *tr.EvalLoss != d || *tr.TrainLoss != d/2 || tr.Rounds != 3 {
				t.Fatalf("trial %d: %+v", i, tr)
			}
		}
		if tr.IsOptimal {
			optimal++
			if tr.Hyperparameters["max_tree_depth"] != 5 {
				t.Fatalf("optimal trial %+v", tr)
			}
		}
	}
	if optimal != 1 {
		t.Fatalf("%d optimal trials", optimal)
	}
}

// TestTrialInfoRows runs the rows ml.trial_info is made of and reads them
// back, a failed trial's NULLs and quoted error included.
func TestTrialInfoRows(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, WithSlots(1), WithModels(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := trialInfo("plain", &store.TrainingInfo{}); err == nil || err.Error() != "model plain was trained without hyperparameter tuning (num_trials): it has no trial_info" {
		t.Fatalf("untuned: %v", err)
	}
	tl, el := 0.25, 0.5
	ti := &store.TrainingInfo{Trials: []store.TrialInfo{
		{TrialID: 0, Hyperparameters: map[string]float64{"max_tree_depth": 6, "learn_rate": 0.3}, TrainLoss: &tl, EvalLoss: &el, Rounds: 20, Seconds: 1.5, Status: store.TrialSucceeded, IsOptimal: true},
		{TrialID: 1, Hyperparameters: map[string]float64{"max_tree_depth": 31, "learn_rate": 1e-7}, Seconds: 0.001, Status: store.TrialFailed, Error: "it's bad"},
	}}
	cols, rows, err := trialInfo("m", ti)
	if err != nil {
		t.Fatal(err)
	}
	sch, batches, err := s.SQL(ctx, "SELECT * FROM (VALUES "+strings.Join(rows, ", ")+") AS t("+cols+")").CollectWithSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(batches)
	wantTypes := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Float64,
		arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.BinaryTypes.String, arrow.FixedWidthTypes.Boolean}
	for i, f := range sch.Fields() {
		if !arrow.TypeEqual(f.Type, wantTypes[i]) {
			t.Errorf("column %s is %s, want %s", f.Name, f.Type, wantTypes[i])
		}
	}
	var got []string
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			var row []string
			for c := 0; c < int(b.NumCols()); c++ {
				row = append(row, b.Column(c).ValueStr(r))
			}
			got = append(got, strings.Join(row, " | "))
		}
	}
	want := []string{
		`0 | {"learn_rate":0.3,"max_tree_depth":6} | 0.25 | 0.5 | 20 | 1500 | SUCCEEDED | (null) | true`,
		`1 | {"learn_rate":1e-7,"max_tree_depth":31} | (null) | (null) | 0 | 1 | FAILED | it's bad | false`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTrainModelTuning tunes through the Go API, whose option values are
// text: HPARAM_RANGE and HPARAM_CANDIDATES read as in SQL.
func TestTrainModelTuning(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, WithSlots(2), WithModels(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	df := s.ReadCSV(ctx, nil, "ml/gbdt/testdata/train.csv.gz").Select(Col("f0"), Col("f1"), Col("f2"), Col("f3"), Col("y_bin"))
	opts := map[string]string{"model_type": "boosted_tree_classifier", "input_label_cols": "y_bin", "num_trials": "3",
		"learn_rate": "HPARAM_RANGE(0.05, 0.3)", "max_tree_depth": "hparam_candidates([4, 6])", "max_iterations": "10",
		"data_split_method": "random"}
	if err := s.TrainModel(ctx, "tuned", df, opts); err != nil {
		t.Fatal(err)
	}
	batches, err := s.SQL(ctx, "SELECT count(*), count(*) FILTER (WHERE is_optimal), min(trial_id), max(trial_id) FROM ml.trial_info(MODEL tuned)").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(batches)
	var got []string
	for c := 0; c < int(batches[0].NumCols()); c++ {
		got = append(got, batches[0].Column(c).ValueStr(0))
	}
	if strings.Join(got, " ") != "3 1 0 2" {
		t.Fatalf("trial_info: %v, want 3 trials, 1 optimal", got)
	}

	opts["learn_rate"] = "HPARAM_RANGE(0.3)"
	err = s.TrainModel(ctx, "broken", df, opts)
	if err == nil || !strings.Contains(err.Error(), "model broken: option learn_rate: syntax error") || !strings.Contains(err.Error(), `expected ",", found ")"`) {
		t.Fatalf("bad range: %v", err)
	}
	opts["learn_rate"] = "HPARAM_RANGE(0.3, 2)"
	err = s.TrainModel(ctx, "broken", df, opts)
	if err == nil || !strings.Contains(err.Error(), "option learn_rate = HPARAM_RANGE(0.3, 2): the upper bound 2 is out of range: learn_rate takes numbers in [0, 1]") {
		t.Fatalf("range out of bounds: %v", err)
	}
}
