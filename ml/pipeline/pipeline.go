// Package pipeline is Flint's Spark-like ML pipeline for Go: feature
// transforms and model scoring chained over DataFrames, fitted once on
// training data, then applied to any data, saved and loaded.
//
//	p := pipeline.New(
//		pipeline.Imputer("age", "age", "median"),
//		pipeline.StandardScaler("age", "age_s"),
//		pipeline.OneHotEncoder("city", "city_vec", pipeline.TopK(20)),
//		pipeline.Predict("churn"), // a model of the session's store
//	)
//	m, err := p.Fit(ctx, train)        // runs the fits as Flint queries
//	scored := m.Transform(tonight)     // a lazy DataFrame
//	err = m.Save(ctx, "s3://lake/pipelines/churn.json")
//
// Fitting a stage is a distributed aggregation over the output of the
// stages before it (DataFrame.FitTransform); a fitted stage is a SQL
// expression of Flint's fitted functions with its statistics as literals
// (the same form CREATE MODEL ... TRANSFORM stores), so applying it is a
// vectorized projection and the saved pipeline is plain, readable JSON.
// The transforms are those of SQL's ml.standard_scaler, ml.min_max_scaler,
// ml.imputer, ml.bucketize, ml.quantile_bucketize, ml.label_encoder and
// ml.one_hot_encoder, with the same definitions.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	flint "github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors/fs"
)

// Stage is one step of a Pipeline, fitted by Pipeline.Fit.
type Stage interface {
	// fit learns the stage from df (the output of the stages before it).
	fit(ctx context.Context, df *flint.DataFrame) (Step, error)
}

// Step is a fitted stage: a column computed by a SQL expression (Output,
// SQL), or scoring with a model of the session's store (Model), which
// appends prediction (and predicted_label) as DataFrame.Predict does.
type Step struct {
	Output string `json:"output,omitempty"`
	SQL    string `json:"sql,omitempty"`
	Model  string `json:"model,omitempty"`
	// Select keeps only these columns, in this order.
	Select []string `json:"select,omitempty"`
}

func (s Step) apply(df *flint.DataFrame) *flint.DataFrame {
	if s.Model != "" {
		return df.Predict(s.Model)
	}
	if s.Select != nil {
		cols := make([]flint.Column, len(s.Select))
		for i, c := range s.Select {
			cols[i] = flint.Col(c)
		}
		return df.Select(cols...)
	}
	return df.WithColumn(s.Output, flint.Expr(s.SQL))
}

// Pipeline is a sequence of stages.
type Pipeline struct {
	Stages []Stage
}

// New returns a pipeline of stages, applied in order.
func New(stages ...Stage) *Pipeline { return &Pipeline{Stages: stages} }

// Fit fits every stage in order, each on the output of the fitted stages
// before it (as Spark's Pipeline.fit does), and returns the fitted model.
func (p *Pipeline) Fit(ctx context.Context, df *flint.DataFrame) (*Model, error) {
	if err := df.Err(); err != nil {
		return nil, err
	}
	m := &Model{Version: formatVersion}
	cur := df
	for i, st := range p.Stages {
		step, err := st.fit(ctx, cur)
		if err != nil {
			return nil, fmt.Errorf("pipeline stage %d: %w", i+1, err)
		}
		cur = step.apply(cur)
		if err := cur.Err(); err != nil {
			return nil, fmt.Errorf("pipeline stage %d: %w", i+1, err)
		}
		m.Steps = append(m.Steps, step)
	}
	return m, nil
}

// formatVersion is the version of the saved JSON form.
const formatVersion = 1

// Model is a fitted pipeline.
type Model struct {
	Version int    `json:"version"`
	Steps   []Step `json:"steps"`
}

// Transform applies the fitted steps to df (lazily, as DataFrame
// operations do): the columns of df, with each step's output column added
// (or replaced, when it has the name of an existing one).
func (m *Model) Transform(df *flint.DataFrame) *flint.DataFrame {
	for _, s := range m.Steps {
		df = s.apply(df)
	}
	return df
}

// Save writes the fitted pipeline as JSON to uri, a local path or an
// s3:// URI.
func (m *Model) Save(ctx context.Context, uri string) error {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	fsys, err := fs.For(uri)
	if err != nil {
		return fmt.Errorf("save pipeline to %s: %w", uri, err)
	}
	wfs, err := fs.Writable(fsys, uri)
	if err != nil {
		return fmt.Errorf("save pipeline to %s: %w", uri, err)
	}
	w, err := wfs.Create(ctx, uri)
	if err != nil {
		return fmt.Errorf("save pipeline to %s: %w", uri, err)
	}
	if _, err := w.Write(append(body, '\n')); err != nil {
		w.Abort()
		return fmt.Errorf("save pipeline to %s: %w", uri, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("save pipeline to %s: %w", uri, err)
	}
	return nil
}

// maxBytes bounds a saved pipeline.
const maxBytes = 64 << 20

// Load reads a pipeline saved by Model.Save.
func Load(ctx context.Context, uri string) (*Model, error) {
	fsys, err := fs.For(uri)
	if err != nil {
		return nil, fmt.Errorf("load pipeline %s: %w", uri, err)
	}
	f, err := fsys.Open(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("load pipeline %s: %w", uri, err)
	}
	defer f.Close()
	if f.Size() > maxBytes {
		return nil, fmt.Errorf("load pipeline %s: %d bytes is more than a pipeline may have (%d)", uri, f.Size(), maxBytes)
	}
	body := make([]byte, f.Size())
	if _, err := f.ReadAt(body, 0); err != nil && !(errors.Is(err, io.EOF) && len(body) > 0) {
		return nil, fmt.Errorf("load pipeline %s: %w", uri, err)
	}
	return parse(uri, body)
}

func parse(uri string, body []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("load pipeline %s: not a saved pipeline: %w", uri, err)
	}
	if m.Version != formatVersion {
		return nil, fmt.Errorf("load pipeline %s: format version %d, this build reads %d", uri, m.Version, formatVersion)
	}
	for i, s := range m.Steps {
		switch {
		case s.Model != "" && s.SQL == "" && s.Output == "" && s.Select == nil:
		case s.Model == "" && s.SQL != "" && s.Output != "" && s.Select == nil:
		case s.Model == "" && s.SQL == "" && s.Output == "" && len(s.Select) > 0:
		default:
			return nil, fmt.Errorf("load pipeline %s: step %d is not one of a model, an output column with its SQL, or a selection", uri, i+1)
		}
	}
	return &m, nil
}

// ---- stages ----

// ident quotes a column name for SQL.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// transform is a stage fitted by DataFrame.FitTransform.
type transform struct {
	call   string
	output string
}

func (t transform) fit(ctx context.Context, df *flint.DataFrame) (Step, error) {
	sql, err := df.FitTransform(ctx, t.call)
	if err != nil {
		return Step{}, err
	}
	return Step{Output: t.output, SQL: sql}, nil
}

// fixed is a stage with nothing to fit.
type fixed Step

func (f fixed) fit(context.Context, *flint.DataFrame) (Step, error) { return Step(f), nil }

// StandardScaler writes (input − mean) / sample standard deviation into
// output (ml.standard_scaler).
func StandardScaler(input, output string) Stage {
	return transform{"ml.standard_scaler(" + ident(input) + ")", output}
}

// MinMaxScaler writes (input − min) / (max − min), 0.5 when max = min,
// into output (ml.min_max_scaler).
func MinMaxScaler(input, output string) Stage {
	return transform{"ml.min_max_scaler(" + ident(input) + ")", output}
}

// Imputer writes input with NULL and NaN replaced by the fitted "mean",
// "median" or "most_frequent" value into output (ml.imputer).
func Imputer(input, output, strategy string) Stage {
	return transform{"ml.imputer(" + ident(input) + ", '" + strings.ReplaceAll(strategy, "'", "''") + "')", output}
}

// QuantileBucketizer writes the bucket (0 … n−1) of n equal-frequency
// buckets fitted on input into output (ml.quantile_bucketize; Spark's
// QuantileDiscretizer).
func QuantileBucketizer(input, output string, n int) Stage {
	return transform{"ml.quantile_bucketize(" + ident(input) + ", " + strconv.Itoa(n) + ")", output}
}

// Bucketizer writes the number of split points ≤ input into output
// (ml.bucketize; nothing to fit).
func Bucketizer(input, output string, splits ...float64) Stage {
	items := make([]string, len(splits))
	for i, s := range splits {
		items[i] = strconv.FormatFloat(s, 'g', -1, 64)
	}
	return fixed{Output: output, SQL: "ml.bucketize(" + ident(input) + ", [" + strings.Join(items, ", ") + "])"}
}

// EncoderOption limits the categories an encoder keeps.
type EncoderOption func(*encoder)

type encoder struct{ topK, minFreq int }

// TopK keeps the k most frequent categories.
func TopK(k int) EncoderOption { return func(e *encoder) { e.topK = k } }

// MinFrequency keeps the categories seen at least n times.
func MinFrequency(n int) EncoderOption { return func(e *encoder) { e.minFreq = n } }

func encoderCall(fn, input string, opts []EncoderOption) string {
	e := encoder{minFreq: 1}
	for _, o := range opts {
		o(&e)
	}
	call := fn + "(" + ident(input)
	switch {
	case e.minFreq > 1:
		call += ", " + strconv.Itoa(max(e.topK, 0)) + ", " + strconv.Itoa(e.minFreq)
		if e.topK <= 0 {
			call = fn + "(" + ident(input) + ", 1048576, " + strconv.Itoa(e.minFreq)
		}
	case e.topK > 0:
		call += ", " + strconv.Itoa(e.topK)
	}
	return call + ")"
}

// LabelEncoder writes the index of input's category into output:
// categories by descending frequency, ties alphabetical, 0 … k−1; NULL
// and categories not kept → k (ml.label_encoder; Spark's StringIndexer).
func LabelEncoder(input, output string, opts ...EncoderOption) Stage {
	return transform{encoderCall("ml.label_encoder", input, opts), output}
}

// OneHotEncoder writes a LIST<DOUBLE> of length k with a 1 at the index
// LabelEncoder gives into output; NULL and unseen → all zeros
// (ml.one_hot_encoder).
func OneHotEncoder(input, output string, opts ...EncoderOption) Stage {
	return transform{encoderCall("ml.one_hot_encoder", input, opts), output}
}

// Column writes a SQL expression over the columns into output (nothing to
// fit), for the steps between transforms: "income / 1000", "age * age".
func Column(output, sql string) Stage { return fixed{Output: output, SQL: sql} }

// Select keeps only the named columns (before a BoostedTrees stage, the
// features and the label).
func Select(columns ...string) Stage { return fixed{Select: columns} }

// Predict scores the rows with a model of the session's model store,
// appending prediction (and, for classifiers, predicted_label).
func Predict(model string) Stage { return fixed{Model: model} }

// trainStage trains a boosted-tree model at Fit and scores with it.
type trainStage struct {
	model   string
	options map[string]string
}

func (t trainStage) fit(ctx context.Context, df *flint.DataFrame) (Step, error) {
	if err := df.Session().TrainModel(ctx, t.model, df, t.options); err != nil {
		return Step{}, err
	}
	return Step{Model: t.model}, nil
}

// BoostedTrees is an estimator: at Fit it trains gradient-boosted trees
// (XGBoost's hist algorithm) on the output of the stages before it and
// stores the model as model in the session's store, as CREATE MODEL does
// with these options (BigQuery ML's names: model_type =
// boosted_tree_classifier or boosted_tree_regressor, input_label_cols,
// max_iterations, learn_rate, ...); the fitted step scores with it. The
// features are every column but the label: select them in a Column stage
// or before the pipeline.
func BoostedTrees(model string, options map[string]string) Stage {
	return trainStage{model: model, options: options}
}
