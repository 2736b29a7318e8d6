package flint

// Hyperparameter tuning, BigQuery ML's shape:
//
//	CREATE MODEL m OPTIONS (model_type = 'boosted_tree_classifier', ...,
//	  num_trials = 20, max_parallel_trials = 2,
//	  learn_rate = HPARAM_RANGE(0.05, 0.5),
//	  max_tree_depth = HPARAM_CANDIDATES([4, 6, 8])) AS query
//
// trains up to num_trials models on the same binned rows, each with its
// own values of the tuned options, and keeps the one with the lowest loss
// on the evaluation rows. BigQuery ML chooses its trials with Vizier
// (Bayesian optimization); Flint does random search, deterministic from
// seed: trial 0 tries the defaults, the others draw from the search spaces
// (see searchTrials), so that trials are independent of each other and
// run in parallel.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

// maxTrials bounds num_trials (and max_parallel_trials), as BigQuery ML
// does.
const maxTrials = 100

// tunable is an option that HPARAM_RANGE or HPARAM_CANDIDATES can tune.
type tunable struct {
	name    string
	integer bool
	// lo and hi bound the values the option takes; parseTrainOptions
	// checks the same bounds on a single value (TestTunablesAgree).
	lo, hi float64
	// log draws from a range log-uniformly when its lower bound is above
	// 0: the options whose effect is by orders of magnitude.
	log bool
	get func(*gbdt.Params) float64
	set func(*gbdt.Params, float64)
}

// tunables are the options Flint tunes, by name. max_bins is not one: the
// rows are binned once, before the trials, which all train on the same
// bins.
var tunables = []*tunable{
	{name: "colsample_bytree", lo: math.SmallestNonzeroFloat64, hi: 1,
		get: func(p *gbdt.Params) float64 { return p.ColsampleTree }, set: func(p *gbdt.Params, v float64) { p.ColsampleTree = v }},
	{name: "l1_reg", lo: 0, hi: math.MaxFloat64, log: true,
		get: func(p *gbdt.Params) float64 { return p.Alpha }, set: func(p *gbdt.Params, v float64) { p.Alpha = v }},
	{name: "l2_reg", lo: 0, hi: math.MaxFloat64, log: true,
		get: func(p *gbdt.Params) float64 { return p.Lambda }, set: func(p *gbdt.Params, v float64) { p.Lambda = v }},
	{name: "learn_rate", lo: 0, hi: 1, log: true,
		get: func(p *gbdt.Params) float64 { return p.Eta }, set: func(p *gbdt.Params, v float64) { p.Eta = v }},
	{name: "max_iterations", integer: true, lo: 1, hi: 100000,
		get: func(p *gbdt.Params) float64 { return float64(p.Rounds) }, set: func(p *gbdt.Params, v float64) { p.Rounds = int(v) }},
	{name: "max_tree_depth", integer: true, lo: 1, hi: 30,
		get: func(p *gbdt.Params) float64 { return float64(p.MaxDepth) }, set: func(p *gbdt.Params, v float64) { p.MaxDepth = int(v) }},
	{name: "min_split_loss", lo: 0, hi: math.MaxFloat64,
		get: func(p *gbdt.Params) float64 { return p.Gamma }, set: func(p *gbdt.Params, v float64) { p.Gamma = v }},
	{name: "min_tree_child_weight", lo: 0, hi: math.MaxFloat64,
		get: func(p *gbdt.Params) float64 { return p.MinChildWeight }, set: func(p *gbdt.Params, v float64) { p.MinChildWeight = v }},
	{name: "subsample", lo: math.SmallestNonzeroFloat64, hi: 1,
		get: func(p *gbdt.Params) float64 { return p.Subsample }, set: func(p *gbdt.Params, v float64) { p.Subsample = v }},
}

func tunableOption(name string) *tunable {
	for _, t := range tunables {
		if t.name == name {
			return t
		}
	}
	return nil
}

func tunableNames() string {
	names := make([]string, len(tunables))
	for i, t := range tunables {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

// want describes the values t takes, for errors.
func (t *tunable) want() string {
	kind, open := "numbers", "["
	if t.integer {
		kind = "integers"
	}
	lo := strconv.FormatFloat(t.lo, 'g', -1, 64)
	if t.lo == math.SmallestNonzeroFloat64 {
		open, lo = "(", "0"
	}
	hi := strconv.FormatFloat(t.hi, 'g', -1, 64)
	if t.hi == math.MaxFloat64 {
		hi = "∞)"
	} else {
		hi += "]"
	}
	return fmt.Sprintf("%s in %s%s, %s", kind, open, lo, hi)
}

func (t *tunable) accepts(v float64) bool {
	return v >= t.lo && v <= t.hi && (!t.integer || v == math.Trunc(v))
}

// hparamSpace is the search space of one tuned option.
type hparamSpace struct {
	opt        *tunable
	lo, hi     float64   // a range's bounds
	candidates []float64 // nil for a range
}

// logScale reports whether the space is a range drawn log-uniformly.
func (s *hparamSpace) logScale() bool { return s.candidates == nil && s.opt.log && s.lo > 0 }

// size is the number of values in the space, 0 when it is not finite.
func (s *hparamSpace) size() int {
	switch {
	case s.candidates != nil:
		return len(s.candidates)
	case s.lo == s.hi:
		return 1
	case s.opt.integer:
		return int(s.hi-s.lo) + 1
	}
	return 0
}

// value is the i-th value of a finite space.
func (s *hparamSpace) value(i int) float64 {
	if s.candidates != nil {
		return s.candidates[i]
	}
	return s.lo + float64(i)
}

// initial is trial 0's value: the option's default def when the space
// holds it, else the first candidate or the range's midpoint (on the
// scale the range is drawn on).
func (s *hparamSpace) initial(def float64) float64 {
	if s.candidates != nil {
		if slices.Contains(s.candidates, def) {
			return def
		}
		return s.candidates[0]
	}
	if def >= s.lo && def <= s.hi {
		return def
	}
	switch {
	case s.opt.integer:
		return math.Floor(s.lo + (s.hi-s.lo)/2)
	case s.logScale():
		return math.Sqrt(s.lo) * math.Sqrt(s.hi)
	}
	return s.lo + (s.hi-s.lo)/2
}

// draw picks a value: a candidate uniformly, an integer of a range
// uniformly, a number of a range uniformly or, for logScale, log-uniformly.
func (s *hparamSpace) draw(r *rand.Rand) float64 {
	if s.candidates != nil {
		return s.candidates[r.IntN(len(s.candidates))]
	}
	if s.opt.integer {
		return s.lo + float64(r.Int64N(int64(s.hi-s.lo)+1))
	}
	u := r.Float64()
	var v float64
	if s.logScale() {
		llo, lhi := math.Log(s.lo), math.Log(s.hi)
		v = math.Exp(llo + u*(lhi-llo))
	} else {
		v = s.lo + u*(s.hi-s.lo) // lo >= 0 for every tunable: hi-lo does not overflow
	}
	return min(max(v, s.lo), s.hi)
}

// posText locates a value of the SQL text for errors ("" for the Go API,
// whose option values carry no position).
func posText(at ast.Pos) string {
	if !at.IsValid() {
		return ""
	}
	return fmt.Sprintf(" (line %d, column %d)", at.Line, at.Col)
}

// addSearchSpace records op, an option whose value is HPARAM_RANGE or
// HPARAM_CANDIDATES, after checking that its option is tunable and that
// every value of the space is one the option takes.
func (o *trainOptions) addSearchSpace(model string, op *ast.ModelOption) error {
	h := op.HParam
	bad := func(at ast.Pos, why string) error {
		return fmt.Errorf("CREATE MODEL %s: option %s = %s%s: %s", model, op.Key, h, posText(at), why)
	}
	t := tunableOption(op.Key)
	switch {
	case op.Key == "max_bins":
		return bad(h.At, "max_bins cannot be tuned: the rows are binned once, before the trials, so that every trial trains on the same bins; give one value")
	case t == nil:
		return bad(h.At, "only these options can be tuned: "+tunableNames())
	}
	vals := make([]float64, len(h.Values))
	for i, text := range h.Values {
		v, err := strconv.ParseFloat(text, 64)
		var at ast.Pos
		if i < len(h.Pos) {
			at = h.Pos[i]
		}
		switch {
		case err != nil:
			return bad(at, fmt.Sprintf("%s is not a number", text))
		case t.integer && v != math.Trunc(v) && h.Range:
			return bad(at, fmt.Sprintf("%s takes integers: a range of it needs integer bounds, not %s", op.Key, text))
		case t.integer && v != math.Trunc(v):
			return bad(at, fmt.Sprintf("%s takes integers: the candidate %s is not one", op.Key, text))
		case !t.accepts(v):
			what := "candidate"
			if h.Range {
				what = [...]string{"lower bound", "upper bound"}[min(i, 1)]
			}
			return bad(at, fmt.Sprintf("the %s %s is out of range: %s takes %s", what, text, op.Key, t.want()))
		}
		vals[i] = v
	}
	s := hparamSpace{opt: t}
	if h.Range {
		if len(vals) != 2 || vals[0] > vals[1] {
			return bad(h.At, "want HPARAM_RANGE(lo, hi) with lo <= hi")
		}
		s.lo, s.hi = vals[0], vals[1]
	} else {
		if len(vals) == 0 {
			return bad(h.At, "want at least one candidate")
		}
		s.candidates = vals
	}
	o.search = append(o.search, s)
	o.given[op.Key] = h.String()
	return nil
}

// checkTuning checks the tuning options together, once all are read:
// search spaces and num_trials go together, and more than one trial needs
// evaluation rows to compare them on.
func (o *trainOptions) checkTuning(model string) error {
	if len(o.search) > 0 && o.numTrials == 0 {
		s := o.search[0]
		return fmt.Errorf("CREATE MODEL %s: option %s = %s is a search space for hyperparameter tuning: give num_trials = N (1 to %d) too",
			model, s.opt.name, o.given[s.opt.name], maxTrials)
	}
	if o.numTrials > 0 && len(o.search) == 0 {
		return fmt.Errorf("CREATE MODEL %s: num_trials = %d tunes hyperparameters, but no option has a search space: give one as HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([a, b, ...]), e.g. learn_rate = HPARAM_RANGE(0.05, 0.5) (tunable options: %s)",
			model, o.numTrials, tunableNames())
	}
	if o.maxParallelTrials > 0 && o.numTrials == 0 {
		return fmt.Errorf("CREATE MODEL %s: max_parallel_trials is for hyperparameter tuning: give num_trials = N and search spaces too", model)
	}
	if o.numTrials > 1 && o.splitMethod == "no_split" {
		return fmt.Errorf("CREATE MODEL %s: num_trials = %d compares the trials by their loss on evaluation rows, and data_split_method = 'NO_SPLIT' leaves none: give 'RANDOM' or 'SEQ' (or 'AUTO_SPLIT' with 500 rows or more)",
			model, o.numTrials)
	}
	slices.SortFunc(o.search, func(a, b hparamSpace) int { return strings.Compare(a.opt.name, b.opt.name) })
	return nil
}

// trial is one training of a tuning: its id and the value of each tuned
// option.
type trial struct {
	id     int
	values map[string]float64
}

// params is base with the trial's values.
func (t trial) params(base gbdt.Params) gbdt.Params {
	p := base
	for name, v := range t.values {
		tunableOption(name).set(&p, v)
	}
	return p
}

// maxGrid bounds the finite search spaces searchTrials lists whole.
const maxGrid = 1 << 16

// maxDraws bounds the draws searchTrials makes for one trial of a space
// it does not list before it gives up on finding an untried point.
const maxDraws = 1000

// searchTrials returns up to n trials over spaces (sorted by option
// name), deterministic from seed. Trial 0 takes each option's initial
// value (its default in base when the space holds it). When every space
// is finite (candidates, integer ranges) and their product is at most
// maxGrid, the other trials are drawn from the grid without replacement:
// no trial repeats another, and a grid smaller than n gives fewer trials
// (3 candidates with num_trials = 5: 3 trials). Otherwise each trial draws
// every option independently (hparamSpace.draw), drawing again on the
// rare repeat.
func searchTrials(spaces []hparamSpace, base gbdt.Params, n int, seed uint64) []trial {
	r := rand.New(rand.NewPCG(seed, 0x74756e696e67)) // "tuning": a stream of its own
	first := make([]float64, len(spaces))
	for i := range spaces {
		first[i] = spaces[i].initial(spaces[i].opt.get(&base))
	}
	points := [][]float64{first}
	grid := 1
	for i := range spaces {
		sz := spaces[i].size()
		if sz == 0 || grid > maxGrid/sz {
			grid = 0
			break
		}
		grid *= sz
	}
	if grid > 0 {
		var rest [][]float64
		for g := 0; g < grid; g++ {
			p := make([]float64, len(spaces))
			for i, k := g, 0; k < len(spaces); k++ {
				sz := spaces[k].size()
				p[k] = spaces[k].value(i % sz)
				i /= sz
			}
			if !slices.Equal(p, first) {
				rest = append(rest, p)
			}
		}
		r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		points = append(points, rest[:min(n-1, len(rest))]...)
	} else {
		seen := map[string]bool{pointKey(first): true}
		for len(points) < n {
			var p []float64
			for range maxDraws {
				p = make([]float64, len(spaces))
				for i := range spaces {
					p[i] = spaces[i].draw(r)
				}
				if !seen[pointKey(p)] {
					break
				}
				p = nil
			}
			if p == nil {
				break
			}
			seen[pointKey(p)] = true
			points = append(points, p)
		}
	}
	trials := make([]trial, len(points))
	for id, p := range points {
		trials[id] = trial{id: id, values: map[string]float64{}}
		for i := range spaces {
			trials[id].values[spaces[i].opt.name] = p[i]
		}
	}
	return trials
}

func pointKey(p []float64) string {
	var b strings.Builder
	for _, v := range p {
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		b.WriteByte(',')
	}
	return b.String()
}

// trialFunc trains one model with parameters p (the base parameters with a
// trial's values) on the rows of the statement. runTrials calls it from
// up to max_parallel_trials goroutines at once.
type trialFunc func(ctx context.Context, p gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error)

// trialResult is how a trial went.
type trialResult struct {
	trial
	booster *gbdt.Booster
	info    *gbdt.TrainInfo
	took    time.Duration // the training's own time (TrainInfo.Elapsed)
	err     error
}

// losses are the trial's training and evaluation loss at its best
// iteration (the last round without evaluation rows), NaN when it failed
// (and the eval loss without evaluation rows).
func (r *trialResult) losses() (train, eval float64) {
	if r.err != nil || r.info == nil || len(r.info.Rounds) == 0 {
		return math.NaN(), math.NaN()
	}
	at := r.info.BestIteration
	if at < 0 || at >= len(r.info.Rounds) {
		at = len(r.info.Rounds) - 1
	}
	return r.info.Rounds[at].TrainLoss, r.info.Rounds[at].EvalLoss
}

// runTrials trains every trial, up to maxParallel at once, and returns
// their results by trial id and the index of the optimal one: the trial
// with the lowest evaluation loss (ties: the lowest id; a trial with an
// eval loss beats one without). A trial whose training fails is recorded
// with its error; runTrials fails only when all do, or when ctx ends.
func runTrials(ctx context.Context, base gbdt.Params, trials []trial, maxParallel int, train trialFunc) ([]trialResult, int, error) {
	if len(trials) == 0 {
		return nil, -1, fmt.Errorf("no trials to run")
	}
	maxParallel = max(1, min(maxParallel, len(trials)))
	results := make([]trialResult, len(trials))
	slots := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, t := range trials {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			results[i] = runTrial(ctx, base, t, train)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, -1, err
	}
	best := -1
	var bestLoss float64
	for i := range results {
		if results[i].err != nil {
			continue
		}
		_, loss := results[i].losses()
		if best < 0 || loss < bestLoss || (math.IsNaN(bestLoss) && !math.IsNaN(loss)) {
			best, bestLoss = i, loss
		}
	}
	if best < 0 {
		r := results[0]
		return nil, -1, fmt.Errorf("all %d trials failed; trial 0 (%s): %w", len(results), valuesText(r.values), r.err)
	}
	return results, best, nil
}

// runTrial trains one trial; a panic of the training fails the trial, not
// the process.
func runTrial(ctx context.Context, base gbdt.Params, t trial, train trialFunc) (res trialResult) {
	res.trial = t
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			res.booster, res.info, res.err = nil, nil, fmt.Errorf("training panicked: %v", v)
		}
		res.took = time.Since(start)
		if res.info != nil && res.err == nil {
			res.took = res.info.Elapsed
		}
	}()
	res.booster, res.info, res.err = train(ctx, t.params(base))
	if res.err == nil && (res.booster == nil || res.info == nil) {
		res.err = fmt.Errorf("training returned no model")
	}
	return res
}

// valuesText is a trial's values as name = value, by name.
func valuesText(values map[string]float64) string {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " = " + strconv.FormatFloat(values[n], 'g', -1, 64)
	}
	return strings.Join(parts, ", ")
}

// trainTrials trains the model of o on the binned rows train sees: once
// with o's parameters, or, with num_trials, once per trial of the search
// (searchTrials), up to max_parallel_trials at once, keeping the optimal
// trial's booster (runTrials). o.params and o.given then hold the optimal
// trial's values, and the trials are returned for the manifest. nEval
// counts the evaluation rows the trials are compared on.
func (o *trainOptions) trainTrials(ctx context.Context, nTrain, nEval int, train trialFunc) (*gbdt.Booster, *gbdt.TrainInfo, []store.TrialInfo, error) {
	if o.numTrials == 0 {
		b, info, err := train(ctx, o.params)
		return b, info, nil, err
	}
	if o.numTrials > 1 && nEval == 0 {
		why := fmt.Sprintf("data_split_method = '%s' left none (raise data_split_eval_fraction)", strings.ToUpper(o.splitMethod))
		if o.splitMethod == "auto_split" {
			why = fmt.Sprintf("data_split_method = 'AUTO_SPLIT' keeps every row for training below 500 rows (the AS query gave %d): give data_split_method = 'RANDOM'", nTrain)
		}
		return nil, nil, nil, fmt.Errorf("num_trials = %d compares the trials by their loss on evaluation rows, and %s", o.numTrials, why)
	}
	trials := searchTrials(o.search, o.params, o.numTrials, o.params.Seed)
	results, best, err := runTrials(ctx, o.params, trials, max(1, o.maxParallelTrials), train)
	if err != nil {
		return nil, nil, nil, err
	}
	out := make([]store.TrialInfo, len(results))
	for i := range results {
		r := &results[i]
		ti := store.TrialInfo{TrialID: r.id, Hyperparameters: r.values, Seconds: r.took.Seconds(),
			Status: store.TrialSucceeded, IsOptimal: i == best}
		if r.err != nil {
			ti.Status, ti.Error = store.TrialFailed, r.err.Error()
		} else {
			ti.Rounds = len(r.info.Rounds)
			tl, el := r.losses()
			if !math.IsNaN(tl) {
				ti.TrainLoss = &tl
			}
			if !math.IsNaN(el) {
				ti.EvalLoss = &el
			}
		}
		out[i] = ti
	}
	b := &results[best]
	o.params = b.params(o.params)
	for name, v := range b.values {
		o.given[name] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return b.booster, b.info, out, nil
}

// hparamOption reads the value of an option given to TrainModel as text:
// HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([a, b, ...]) becomes o's
// search space, as in SQL.
func hparamOption(o *ast.ModelOption) error {
	if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(o.Value)), "HPARAM_") {
		return nil
	}
	h, err := parser.ParseHParam(o.Key, o.Value)
	if err != nil {
		return fmt.Errorf("option %s: %w", o.Key, err)
	}
	// Positions in the option's text would read as positions in a
	// statement.
	h.At, h.Pos = ast.Pos{}, nil
	o.HParam, o.Value = h, ""
	return nil
}

// trialInfo answers ml.trial_info(MODEL name): the columns and the VALUES
// rows, one per trial.
func trialInfo(name string, ti *store.TrainingInfo) (string, []string, error) {
	if len(ti.Trials) == 0 {
		return "", nil, fmt.Errorf("model %s was trained without hyperparameter tuning (num_trials): it has no trial_info", name)
	}
	double := func(v *float64) string {
		if v == nil {
			return "CAST(NULL AS DOUBLE)"
		}
		return "CAST(" + sqlNumber(*v) + " AS DOUBLE)"
	}
	rows := make([]string, 0, len(ti.Trials))
	for _, t := range ti.Trials {
		hp, err := json.Marshal(t.Hyperparameters) // keys sorted
		if err != nil {
			return "", nil, fmt.Errorf("model %s: trial %d: %w", name, t.TrialID, err)
		}
		msg := "CAST(NULL AS VARCHAR)"
		if t.Error != "" {
			msg = quoteSQL(t.Error)
		}
		rows = append(rows, fmt.Sprintf("(CAST(%d AS BIGINT), %s, %s, %s, CAST(%d AS BIGINT), CAST(%d AS BIGINT), %s, %s, %t)",
			t.TrialID, quoteSQL(string(hp)), double(t.TrainLoss), double(t.EvalLoss), t.Rounds, int64(t.Seconds*1000),
			quoteSQL(t.Status), msg, t.IsOptimal))
	}
	return "trial_id, hyperparameters, training_loss, eval_loss, rounds, duration_ms, status, error_message, is_optimal", rows, nil
}
