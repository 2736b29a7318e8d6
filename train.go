package flint

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/ml/train"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/types"
)

// Model types Flint trains (BigQuery ML's names).
const (
	BoostedTreeClassifier = "boosted_tree_classifier"
	BoostedTreeRegressor  = "boosted_tree_regressor"
)

// trainGCPercent is the GC headroom while a model trains (see train).
const trainGCPercent = 50

// trainOptions are the options of CREATE MODEL ... AS query for a
// boosted-tree model, under BigQuery ML's names, with XGBoost's meaning.
type trainOptions struct {
	classifier     bool
	label          string
	params         gbdt.Params
	earlyStop      bool
	minRelProgress float64
	splitMethod    string // auto_split, random, seq, no_split
	evalFraction   float64
	splitCol       string
	classWeights   map[string]float64
	featureCols    []string          // feature_columns: the features, when not every other column
	given          map[string]string // the options as written, for training_info
	// Hyperparameter tuning (tune.go): num_trials (0: no tuning),
	// max_parallel_trials (0: not given) and the search spaces by option
	// name.
	numTrials, maxParallelTrials int
	search                       []hparamSpace
}

// trainOptionNames lists the options a trained model takes.
var trainOptionNames = []string{"model_type", "input_label_cols", "feature_columns", "max_iterations", "learn_rate", "max_tree_depth",
	"min_split_loss", "l1_reg", "l2_reg", "min_tree_child_weight", "subsample", "colsample_bytree", "max_bins",
	"early_stop", "min_rel_progress", "data_split_method", "data_split_eval_fraction", "data_split_col",
	"class_weights", "seed", "num_trials", "max_parallel_trials"}

func parseTrainOptions(name string, opts []*ast.ModelOption) (*trainOptions, error) {
	o := &trainOptions{params: gbdt.DefaultParams(), earlyStop: true, minRelProgress: 0.01,
		splitMethod: "auto_split", evalFraction: 0.2, given: map[string]string{}}
	o.params.Rounds = 20 // BigQuery ML's max_iterations default
	bad := func(k, v, want string) error {
		return fmt.Errorf("CREATE MODEL %s: option %s = %s: %s", name, k, v, want)
	}
	for _, op := range opts {
		if op.HParam != nil {
			if err := o.addSearchSpace(name, op); err != nil {
				return nil, err
			}
			continue
		}
		k, v := op.Key, op.Value
		if op.IsList {
			o.given[k] = "[" + strings.Join(op.List, ", ") + "]"
		} else {
			o.given[k] = v
		}
		num := func(lo, hi float64) (float64, error) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || op.IsList || !(f >= lo && f <= hi) {
				return 0, bad(k, v, fmt.Sprintf("want a number in [%g, %g]", lo, hi))
			}
			return f, nil
		}
		integer := func(lo, hi int) (int, error) {
			n, err := strconv.Atoi(v)
			if err != nil || op.IsList || n < lo || n > hi {
				return 0, bad(k, v, fmt.Sprintf("want an integer in [%d, %d]", lo, hi))
			}
			return n, nil
		}
		var err error
		switch k {
		case "model_type":
			o.classifier = strings.EqualFold(v, BoostedTreeClassifier)
		case "input_label_cols":
			if !op.IsList || len(op.List) != 1 {
				return nil, bad(k, o.given[k], "want one label column, e.g. input_label_cols = ['churned']")
			}
			o.label = op.List[0]
		case "feature_columns":
			if !op.IsList || len(op.List) == 0 {
				return nil, bad(k, o.given[k], "want a list of columns, e.g. feature_columns = ['a', 'b']")
			}
			o.featureCols = op.List
		case "max_iterations":
			o.params.Rounds, err = integer(1, 100000)
		case "learn_rate":
			o.params.Eta, err = num(0, 1)
		case "max_tree_depth":
			o.params.MaxDepth, err = integer(1, 30)
		case "min_split_loss":
			o.params.Gamma, err = num(0, math.MaxFloat64)
		case "l1_reg":
			o.params.Alpha, err = num(0, math.MaxFloat64)
		case "l2_reg":
			o.params.Lambda, err = num(0, math.MaxFloat64)
		case "min_tree_child_weight":
			o.params.MinChildWeight, err = num(0, math.MaxFloat64)
		case "subsample":
			o.params.Subsample, err = num(math.SmallestNonzeroFloat64, 1)
		case "colsample_bytree":
			o.params.ColsampleTree, err = num(math.SmallestNonzeroFloat64, 1)
		case "max_bins":
			o.params.MaxBin, err = integer(2, 65535)
		case "early_stop":
			switch strings.ToLower(v) {
			case "true":
				o.earlyStop = true
			case "false":
				o.earlyStop = false
			default:
				err = bad(k, v, "want TRUE or FALSE")
			}
		case "min_rel_progress":
			o.minRelProgress, err = num(0, 1)
		case "data_split_method":
			o.splitMethod = strings.ToLower(v)
			switch o.splitMethod {
			case "auto_split", "random", "seq", "no_split":
			default:
				err = bad(k, v, "want 'AUTO_SPLIT', 'RANDOM', 'SEQ' or 'NO_SPLIT'")
			}
		case "data_split_eval_fraction":
			o.evalFraction, err = num(0, 1)
		case "data_split_col":
			o.splitCol = v
		case "class_weights":
			o.classWeights = map[string]float64{}
			for _, kv := range op.List {
				lab, w, ok := strings.Cut(kv, ":")
				f, perr := strconv.ParseFloat(strings.TrimSpace(w), 64)
				if !op.IsList || !ok || perr != nil || !(f >= 0) {
					return nil, bad(k, o.given[k], "want a list of 'label:weight', e.g. class_weights = ['yes:3', 'no:1']")
				}
				o.classWeights[strings.TrimSpace(lab)] = f
			}
		case "seed":
			var n int
			n, err = integer(0, math.MaxInt32)
			o.params.Seed = uint64(n)
		case "num_trials":
			o.numTrials, err = integer(1, maxTrials)
		case "max_parallel_trials":
			o.maxParallelTrials, err = integer(1, maxTrials)
		default:
			err = fmt.Errorf("CREATE MODEL %s: unknown option %s (a %s takes %s)", name, k, o.given["model_type"], strings.Join(trainOptionNames, ", "))
		}
		if err != nil {
			return nil, err
		}
	}
	if o.label == "" {
		return nil, fmt.Errorf("CREATE MODEL %s: input_label_cols is required: the column the model learns to predict", name)
	}
	if o.splitMethod == "seq" && o.splitCol == "" {
		return nil, fmt.Errorf("CREATE MODEL %s: data_split_method = 'SEQ' needs data_split_col", name)
	}
	if o.classWeights != nil && !o.classifier {
		return nil, fmt.Errorf("CREATE MODEL %s: class_weights is for classifiers", name)
	}
	if err := o.checkTuning(name); err != nil {
		return nil, err
	}
	return o, nil
}

// isTrainedType reports whether model_type names a model Flint trains.
func isTrainedType(t string) bool {
	return strings.EqualFold(t, BoostedTreeClassifier) || strings.EqualFold(t, BoostedTreeRegressor)
}

// trainModel runs CREATE MODEL name [TRANSFORM (...)] OPTIONS (model_type
// = 'boosted_tree_classifier' | 'boosted_tree_regressor', ...) AS query:
// it fits the TRANSFORM, trains gradient-boosted trees (ml/gbdt, XGBoost's
// hist algorithm) on the query's rows and stores the result as an
// XGBoost JSON model with its TRANSFORM, labels and training report.
//
// The query runs where the session runs queries (locally or on the
// cluster); the rows it returns are binned and trained on here, one shard
// per result batch group.
func (s *Session) trainModel(ctx context.Context, name string, st *ast.CreateModel, create store.CreateOptions) error {
	if st.Query == nil {
		return fmt.Errorf("CREATE MODEL %s: a boosted tree model is trained on the rows of AS query; add AS SELECT ...", name)
	}
	n, err := binder.New(s, &s.ids).BindQuery(st.Query.String(), st.Query)
	if err != nil {
		return fmt.Errorf("CREATE MODEL %s: AS query: %w", name, err)
	}
	return s.train(ctx, name, s.frame(n), st.Transform, st.Options, create)
}

// TrainModel trains a boosted-tree model on the rows of df and stores it
// as name, as CREATE OR REPLACE MODEL name OPTIONS (...) AS query does:
// options are CREATE MODEL's, by BigQuery ML's names (model_type =
// boosted_tree_classifier or boosted_tree_regressor, input_label_cols,
// max_iterations, learn_rate, max_tree_depth, ...), list values (the label
// column, feature_columns, class_weights' 'label:weight' pairs) separated
// by commas. The model's features are feature_columns, or else df's
// columns other than the label.
func (s *Session) TrainModel(ctx context.Context, name string, df *DataFrame, options map[string]string) error {
	if df.err != nil {
		return df.err
	}
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var opts []*ast.ModelOption
	for _, k := range keys {
		o := &ast.ModelOption{Key: strings.ToLower(k), Value: options[k]}
		if err := hparamOption(o); err != nil {
			return fmt.Errorf("model %s: %w", name, err)
		}
		if o.Key == "input_label_cols" || o.Key == "class_weights" || o.Key == "feature_columns" {
			o.IsList = true
			for _, v := range strings.Split(options[k], ",") {
				o.List = append(o.List, strings.TrimSpace(v))
			}
		}
		opts = append(opts, o)
	}
	if !isTrainedType(options["model_type"]) {
		return fmt.Errorf("model %s: model_type must be %s or %s, got %q", name, BoostedTreeClassifier, BoostedTreeRegressor, options["model_type"])
	}
	return s.train(ctx, name, df, nil, opts, store.CreateOptions{Replace: true})
}

// train is CREATE MODEL ... AS query once the query is df.
func (s *Session) train(ctx context.Context, name string, df *DataFrame, transform []*ast.SelectItem, options []*ast.ModelOption, create store.CreateOptions) error {
	start := time.Now()
	// The collected rows are garbage as soon as they are binned: with Go's
	// default GC headroom (GOGC=100) they would double the peak heap of
	// training. Halve the headroom while training runs (it is process-wide:
	// restored on return; never raised, and left off when it is off).
	if old := debug.SetGCPercent(trainGCPercent); old <= trainGCPercent {
		debug.SetGCPercent(old)
	} else {
		defer debug.SetGCPercent(old)
	}
	o, err := parseTrainOptions(name, options)
	if err != nil {
		return err
	}
	cols := df.Columns()
	has := func(c string) bool {
		for _, x := range cols {
			if strings.EqualFold(x, c) {
				return true
			}
		}
		return false
	}
	if !has(o.label) {
		return fmt.Errorf("CREATE MODEL %s: the label column %s is not a column of the AS query (%s)", name, o.label, strings.Join(cols, ", "))
	}
	if o.splitCol != "" && !has(o.splitCol) {
		return fmt.Errorf("CREATE MODEL %s: data_split_col %s is not a column of the AS query (%s)", name, o.splitCol, strings.Join(cols, ", "))
	}
	// The features: the TRANSFORM's columns, else every column but the
	// label (and the split column).
	var features []Column
	var featNames []string
	if transform != nil {
		tcols, err := df.fitTransformItems(ctx, transform)
		if err != nil {
			return fmt.Errorf("CREATE MODEL %s: TRANSFORM: %w", name, err)
		}
		create.Transform = tcols
		for _, t := range tcols {
			if strings.EqualFold(t.Name, o.label) {
				continue
			}
			features = append(features, Expr(t.SQL))
			featNames = append(featNames, t.Name)
		}
	} else {
		for _, c := range cols {
			if strings.EqualFold(c, o.label) || strings.EqualFold(c, o.splitCol) {
				continue
			}
			if o.featureCols != nil && !slices.ContainsFunc(o.featureCols, func(f string) bool { return strings.EqualFold(f, c) }) {
				continue
			}
			features = append(features, Col(c))
			featNames = append(featNames, c)
		}
	}
	for _, f := range o.featureCols {
		if !has(f) {
			return fmt.Errorf("CREATE MODEL %s: feature_columns names %s, which is not a column of the AS query (%s)", name, f, strings.Join(cols, ", "))
		}
	}
	if len(features) == 0 {
		return fmt.Errorf("CREATE MODEL %s: no feature column besides the label %s", name, o.label)
	}
	sel := make([]Column, 0, len(features)+2)
	for i, f := range features {
		e, err := df.bind(f)
		if err != nil {
			return fmt.Errorf("CREATE MODEL %s: feature %s: %w", name, featNames[i], err)
		}
		t := e.Type()
		if !types.IsNumeric(t) && t.ID() != arrow.BOOL && !types.IsNull(t) {
			return fmt.Errorf("CREATE MODEL %s: feature %s is %s; features must be numbers or booleans (encode categories in a TRANSFORM, e.g. ml.label_encoder(%s) OVER () AS %s)",
				name, featNames[i], types.TypeName(t), featNames[i], featNames[i])
		}
		// REAL: the trainer rounds every value to float32 (as XGBoost
		// does), so the rows travel and wait at half the size.
		sel = append(sel, f.Cast("REAL").Alias(fmt.Sprintf("f%d", i)))
	}
	sel = append(sel, Col(o.label).Alias("ml_label"))
	if o.splitCol != "" {
		sel = append(sel, Col(o.splitCol).Alias("ml_split"))
	}
	rows := df.Select(sel...).Where("ml_label IS NOT NULL")
	if err := rows.Err(); err != nil {
		return fmt.Errorf("CREATE MODEL %s: %w", name, err)
	}
	labelType, err := rows.columnType(len(features))
	if err != nil {
		return fmt.Errorf("CREATE MODEL %s: %w", name, err)
	}
	if !o.classifier && !types.IsNumeric(labelType) {
		return fmt.Errorf("CREATE MODEL %s: label %s is %s; a regressor learns numbers", name, o.label, types.TypeName(labelType))
	}
	if o.splitMethod == "seq" {
		t, err := rows.columnType(len(features) + 1)
		if err != nil {
			return fmt.Errorf("CREATE MODEL %s: %w", name, err)
		}
		if !types.IsNumeric(t) && !types.IsTemporal(t) && t.ID() != arrow.BOOL {
			return fmt.Errorf("CREATE MODEL %s: data_split_col %s is %s; a SEQ split orders rows by a number, date or timestamp", name, o.splitCol, types.TypeName(t))
		}
	}
	spec := train.Spec{NumFeatures: len(features), Classifier: o.classifier,
		NumericLabels: types.IsNumeric(labelType) || labelType.ID() == arrow.BOOL,
		Method:        o.splitMethod, Fraction: o.evalFraction, Seed: o.params.Seed, MaxBin: o.params.MaxBin}
	if o.earlyStop {
		o.params.MinRelProgress = o.minRelProgress
	}
	res, err := s.trainRows(ctx, rows, spec, o)
	if err != nil {
		return fmt.Errorf("CREATE MODEL %s: %w", name, err)
	}
	if o.classifier {
		create.ClassLabels, create.LabelType = res.classes, types.TypeName(labelType)
	}
	booster, info, trials, nTrain, nEval := res.booster, res.info, res.trials, res.nTrain, res.nEval
	if err := booster.SetFeatureNames(featNames); err != nil {
		return fmt.Errorf("CREATE MODEL %s: %w", name, err)
	}
	create.Data = booster.JSON()
	create.Type = "xgboost"
	create.Path = "trained by Flint"
	create.LabelColumns = []string{o.label}
	create.Training = trainingInfo(o, info, booster, featNames, nTrain, nEval, time.Since(start))
	create.Training.Trials = trials
	sto, err := s.modelStore()
	if err != nil {
		return err
	}
	_, _, err = sto.Create(ctx, name, create)
	return err
}

// trainingInfo is the training report the manifest keeps.
func trainingInfo(o *trainOptions, info *gbdt.TrainInfo, b *gbdt.Booster, feats []string, nTrain, nEval int, took time.Duration) *store.TrainingInfo {
	ti := &store.TrainingInfo{Options: o.given, Metric: info.Metric, TrainRows: int64(nTrain), EvalRows: int64(nEval),
		BestIteration: info.BestIteration, Seconds: took.Seconds()}
	for _, r := range info.Rounds {
		tr := store.TrainingRound{Iteration: r.Round, TrainLoss: r.TrainLoss, Seconds: r.Elapsed.Seconds()}
		if !math.IsNaN(r.EvalLoss) {
			v := r.EvalLoss
			tr.EvalLoss = &v
		}
		ti.Rounds = append(ti.Rounds, tr)
	}
	imp := b.Importance()
	for j, f := range feats {
		ti.Importance = append(ti.Importance, store.FeatureImportance{Feature: f, Weight: imp.Weight[j], Gain: imp.Gain[j], Cover: imp.Cover[j]})
	}
	return ti
}

// Session is the session df belongs to.
func (df *DataFrame) Session() *Session { return df.s }

// ModelInfo answers ml.training_info(MODEL name) (one row per boosting
// round: iteration, loss, eval_loss, learning_rate, duration_ms),
// ml.feature_importance(MODEL name) (one row per feature: feature,
// importance_weight, importance_gain, importance_cover, as XGBoost's
// get_score) and ml.trial_info(MODEL name) (one row per trial of a tuned
// model, see trialInfo), for a model Flint trained.
func (s *Session) ModelInfo(name, what string) (plan.Node, error) {
	sto, err := s.modelStore()
	if err != nil {
		return nil, err
	}
	m, err := sto.Lookup(context.Background(), strings.ToLower(name))
	if err != nil {
		return nil, err
	}
	ti := m.Training
	if ti == nil {
		return nil, fmt.Errorf("model %s was imported, not trained by Flint: it has no %s", name, what)
	}
	num := func(v float64) string { return "CAST(" + sqlNumber(v) + " AS DOUBLE)" }
	var rows []string
	var cols string
	switch what {
	case "training_info":
		cols = "iteration, loss, eval_loss, learning_rate, duration_ms"
		eta := ti.Options["learn_rate"]
		if eta == "" {
			eta = "0.3"
		}
		for _, r := range ti.Rounds {
			ev := "CAST(NULL AS DOUBLE)"
			if r.EvalLoss != nil {
				ev = num(*r.EvalLoss)
			}
			rows = append(rows, fmt.Sprintf("(%d, %s, %s, CAST(%s AS DOUBLE), %d)", r.Iteration, num(r.TrainLoss), ev, quoteSQL(eta), int64(r.Seconds*1000)))
		}
	case "trial_info":
		if cols, rows, err = trialInfo(name, ti); err != nil {
			return nil, err
		}
	default:
		cols = "feature, importance_weight, importance_gain, importance_cover"
		for _, f := range ti.Importance {
			rows = append(rows, fmt.Sprintf("(%s, CAST(%s AS BIGINT), %s, %s)", quoteSQL(f.Feature), num(f.Weight), num(f.Gain), num(f.Cover)))
		}
	}
	q := "SELECT * FROM (VALUES " + strings.Join(rows, ", ") + ") AS t(" + cols + ")"
	if len(rows) == 0 {
		q = "SELECT * FROM (VALUES (NULL)) AS t(x) WHERE false"
	}
	df := s.SQL(context.Background(), q)
	if df.err != nil {
		return nil, fmt.Errorf("ml.%s of model %s: %w", what, name, df.err)
	}
	return df.plan, nil
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
