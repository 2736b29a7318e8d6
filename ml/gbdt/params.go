package gbdt

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Objectives the trainer supports, by XGBoost's names.
const (
	SquaredError = "reg:squarederror"
	Logistic     = "binary:logistic"
	Softprob     = "multi:softprob"
)

// Params are the training parameters, named and defaulted as in XGBoost
// 1.7 with tree_method=hist and grow_policy=depthwise. The float
// parameters XGBoost keeps as float32 (eta, gamma, lambda, alpha,
// min_child_weight, max_delta_step, subsample, colsample_bytree) are
// rounded to float32 before use, as XGBoost does.
type Params struct {
	Objective      string  // objective: reg:squarederror (default), binary:logistic or multi:softprob
	NumClass       int     // num_class: the number of classes of multi:softprob
	Rounds         int     // num_boost_round: boosting rounds (10)
	Eta            float64 // eta, learning_rate: shrinkage of each tree's leaves (0.3)
	MaxDepth       int     // max_depth: the deepest a leaf may be, ≥ 1 (6)
	Gamma          float64 // gamma, min_split_loss: least loss reduction of a split (0)
	Lambda         float64 // lambda, reg_lambda: L2 penalty on leaf weights (1)
	Alpha          float64 // alpha, reg_alpha: L1 penalty on leaf weights (0)
	MinChildWeight float64 // min_child_weight: least hessian sum in a child (1)
	MaxDeltaStep   float64 // max_delta_step: bound on a leaf weight, 0 for none (0)
	Subsample      float64 // subsample: fraction of rows each tree sees (1)
	ColsampleTree  float64 // colsample_bytree: fraction of features each tree sees (1)
	MaxBin         int     // max_bin: the most bins per feature (256)
	Seed           uint64  // seed, random_state: drives subsample and colsample_bytree (0)
	BaseScore      float64 // base_score: the initial prediction, in the space of predictions (0.5)
	// EarlyStoppingRounds stops training when the eval set's loss has not
	// improved for this many rounds; the booster keeps the rounds up to
	// the best one (early_stopping_rounds; 0: no early stopping).
	EarlyStoppingRounds int
	// MinRelProgress stops training after the first round whose loss
	// improved on the round before's by less than this fraction of it
	// (BigQuery ML's early_stop with min_rel_progress): the eval set's
	// loss, or the training rows' without an eval set. The booster keeps
	// every round trained. 0: off.
	MinRelProgress float64
	// ClassWeights multiplies the weight of every row of class k by
	// ClassWeights[k], in training and in the losses reported
	// (class_weights; nil: all 1). Classifiers only.
	ClassWeights []float64
	// Threads bounds the goroutines working at once (nthread; 0: GOMAXPROCS).
	Threads int
}

// DefaultParams returns XGBoost's defaults.
func DefaultParams() Params {
	return Params{
		Objective:      SquaredError,
		Rounds:         10,
		Eta:            0.3,
		MaxDepth:       6,
		Lambda:         1,
		MinChildWeight: 1,
		Subsample:      1,
		ColsampleTree:  1,
		MaxBin:         256,
		BaseScore:      0.5,
	}
}

// maxDepthLimit is XGBoost's bound on max_depth for depthwise growth.
const maxDepthLimit = 30

// maxMaxBin bounds max_bin so that a bin code, and the missing code after
// the last bin, fit in a uint16.
const maxMaxBin = 1<<16 - 1

// ParseParams returns the defaults overridden by kv, whose keys are
// XGBoost's parameter names (or their aliases).
func ParseParams(kv map[string]string) (Params, error) {
	p := DefaultParams()
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := p.Set(k, kv[k]); err != nil {
			return p, err
		}
	}
	return p, p.Validate()
}

// Set sets one parameter by its XGBoost name (or alias) from its text.
// It checks the value's syntax; Validate checks ranges and combinations.
func (p *Params) Set(name, value string) error {
	v := strings.TrimSpace(value)
	bad := func(want string) error {
		return fmt.Errorf("gbdt: parameter %s: want %s, got %q", name, want, value)
	}
	num := func(dst *float64) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return bad("a number")
		}
		*dst = f
		return nil
	}
	integer := func(dst *int) error {
		i, err := strconv.Atoi(v)
		if err != nil {
			return bad("an integer")
		}
		*dst = i
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "objective":
		p.Objective = v
	case "num_class":
		return integer(&p.NumClass)
	case "num_boost_round", "n_estimators", "rounds":
		return integer(&p.Rounds)
	case "eta", "learning_rate":
		return num(&p.Eta)
	case "max_depth":
		return integer(&p.MaxDepth)
	case "gamma", "min_split_loss":
		return num(&p.Gamma)
	case "lambda", "reg_lambda":
		return num(&p.Lambda)
	case "alpha", "reg_alpha":
		return num(&p.Alpha)
	case "min_child_weight":
		return num(&p.MinChildWeight)
	case "max_delta_step":
		return num(&p.MaxDeltaStep)
	case "subsample":
		return num(&p.Subsample)
	case "colsample_bytree":
		return num(&p.ColsampleTree)
	case "max_bin":
		return integer(&p.MaxBin)
	case "seed", "random_state":
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return bad("a non-negative integer")
		}
		p.Seed = s
	case "base_score":
		return num(&p.BaseScore)
	case "early_stopping_rounds":
		return integer(&p.EarlyStoppingRounds)
	case "nthread", "n_jobs":
		return integer(&p.Threads)
	case "class_weights":
		// "1,3", "[1, 3]" or "1 3": the weights of classes 0, 1, ...
		fields := strings.FieldsFunc(strings.Trim(v, "[]"), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		p.ClassWeights = nil
		for _, f := range fields {
			w, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return bad("a list of numbers, one per class, such as [1, 3]")
			}
			p.ClassWeights = append(p.ClassWeights, w)
		}
	case "tree_method":
		if v != "hist" && v != "auto" {
			return bad(`"hist"`)
		}
	case "grow_policy":
		if v != "depthwise" {
			return bad(`"depthwise"`)
		}
	default:
		return fmt.Errorf("gbdt: unknown parameter %q", name)
	}
	return nil
}

// Validate reports the first parameter that is out of range or does not
// fit the others, by its XGBoost name.
func (p *Params) Validate() error {
	bad := func(name string, v any, want string) error {
		return fmt.Errorf("gbdt: parameter %s = %v: %s", name, v, want)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch p.Objective {
	case SquaredError, Logistic:
		if p.NumClass != 0 && !(p.Objective == Logistic && p.NumClass == 2) {
			return bad("num_class", p.NumClass, "applies to multi:softprob only")
		}
	case Softprob:
		if p.NumClass < 2 || p.NumClass > 1<<14 {
			return bad("num_class", p.NumClass, "multi:softprob needs num_class between 2 and 16384")
		}
	default:
		return bad("objective", fmt.Sprintf("%q", p.Objective), "want reg:squarederror, binary:logistic or multi:softprob")
	}
	switch {
	case p.Rounds < 1:
		return bad("num_boost_round", p.Rounds, "must be at least 1")
	case !(p.Eta > 0) || !finite(p.Eta):
		return bad("eta", p.Eta, "must be a positive number")
	case p.MaxDepth < 1 || p.MaxDepth > maxDepthLimit:
		return bad("max_depth", p.MaxDepth, fmt.Sprintf("must be between 1 and %d", maxDepthLimit))
	case !(p.Gamma >= 0) || !finite(p.Gamma):
		return bad("gamma", p.Gamma, "must be ≥ 0")
	case !(p.Lambda >= 0) || !finite(p.Lambda):
		return bad("lambda", p.Lambda, "must be ≥ 0")
	case !(p.Alpha >= 0) || !finite(p.Alpha):
		return bad("alpha", p.Alpha, "must be ≥ 0")
	case !(p.MinChildWeight >= 0) || !finite(p.MinChildWeight):
		return bad("min_child_weight", p.MinChildWeight, "must be ≥ 0")
	case !(p.MaxDeltaStep >= 0) || !finite(p.MaxDeltaStep):
		return bad("max_delta_step", p.MaxDeltaStep, "must be ≥ 0")
	case !(p.Subsample > 0 && p.Subsample <= 1):
		return bad("subsample", p.Subsample, "must be in (0, 1]")
	case !(p.ColsampleTree > 0 && p.ColsampleTree <= 1):
		return bad("colsample_bytree", p.ColsampleTree, "must be in (0, 1]")
	case p.MaxBin < 2 || p.MaxBin > maxMaxBin:
		return bad("max_bin", p.MaxBin, fmt.Sprintf("must be between 2 and %d", maxMaxBin))
	case !finite(p.BaseScore):
		return bad("base_score", p.BaseScore, "must be a finite number")
	case p.Objective == Logistic && !(float32(p.BaseScore) > 0 && float32(p.BaseScore) < 1):
		return bad("base_score", p.BaseScore, "must be in (0, 1) for binary:logistic")
	case !(p.MinRelProgress >= 0 && p.MinRelProgress < 1):
		return bad("min_rel_progress", p.MinRelProgress, "must be in [0, 1)")
	case p.EarlyStoppingRounds < 0:
		return bad("early_stopping_rounds", p.EarlyStoppingRounds, "must be ≥ 0")
	case p.Threads < 0:
		return bad("nthread", p.Threads, "must be ≥ 0")
	}
	if p.ClassWeights != nil {
		if p.Objective == SquaredError {
			return bad("class_weights", p.ClassWeights, "applies to classifiers only")
		}
		if n := p.numClasses(); len(p.ClassWeights) != n {
			return bad("class_weights", p.ClassWeights, fmt.Sprintf("want one weight per class, %d, found %d", n, len(p.ClassWeights)))
		}
		for k, w := range p.ClassWeights {
			if !(w >= 0) || !finite(w) {
				return bad("class_weights", p.ClassWeights, fmt.Sprintf("the weight of class %d must be a finite number ≥ 0", k))
			}
		}
	}
	return nil
}

// numClasses is 2 for binary:logistic, num_class for multi:softprob and 0
// for regression.
func (p *Params) numClasses() int {
	switch p.Objective {
	case Logistic:
		return 2
	case Softprob:
		return p.NumClass
	}
	return 0
}

// numGroups is the number of trees per round: one per class of
// multi:softprob, else one.
func (p *Params) numGroups() int {
	if p.Objective == Softprob {
		return p.NumClass
	}
	return 1
}

// treeParams are the parameters of tree growth in the precision XGBoost
// uses them (TrainParam holds float32s).
type treeParams struct {
	eta, gamma, lambda, alpha, minChildWeight, maxDeltaStep float32
	maxDepth                                                int
}

func (p *Params) tree() treeParams {
	return treeParams{
		eta:            float32(p.Eta),
		gamma:          float32(p.Gamma),
		lambda:         float32(p.Lambda),
		alpha:          float32(p.Alpha),
		minChildWeight: float32(p.MinChildWeight),
		maxDeltaStep:   float32(p.MaxDeltaStep),
		maxDepth:       p.MaxDepth,
	}
}
