package flint

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/types"
)

// WithModels sets the session's model store, where CREATE MODEL puts
// models and ml.predict finds them: a local folder or an s3:// prefix
// (see package ml/store). Without it a session on a cluster uses the
// driver's store (flint driver --models), if it has one, and otherwise
// the store is flint/models in the user's data directory
// ($XDG_DATA_HOME, else ~/.local/share). On a cluster the executors read
// models from the store themselves, so it must be reachable from them:
// an object store, or a local path when they run on this machine.
func WithModels(uri string) Option { return func(c *config) { c.models = uri } }

// modelStore opens the session's store on first use. A failure (the
// driver could not be asked) is not kept: the next use tries again.
func (s *Session) modelStore() (*store.Store, error) {
	s.storeMu.Lock()
	defer s.storeMu.Unlock()
	if s.store != nil {
		return s.store, nil
	}
	root := s.cfg.models
	if root == "" && s.remote != nil {
		ctx, cancel := context.WithTimeout(context.Background(), submitTimeout)
		resp, err := s.remote.Client.Info(ctx, &pb.InfoRequest{})
		cancel()
		switch {
		case status.Code(err) == codes.Unimplemented:
			// A driver from before models: it has no store.
		case err != nil:
			return nil, s.remote.rpcError("model store", err)
		default:
			root = resp.GetModels()
		}
	}
	if root == "" {
		var err error
		if root, err = store.DefaultRoot(); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(root)
	if err != nil {
		return nil, err
	}
	s.store = st
	return st, nil
}

// ModelStore is the location of the session's model store.
func (s *Session) ModelStore() (string, error) {
	st, err := s.modelStore()
	if err != nil {
		return "", err
	}
	return st.Root(), nil
}

// LookupModel implements binder.ModelCatalog: the model name as its
// store's manifest describes it.
func (s *Session) LookupModel(name string) (*plan.ModelRef, error) {
	st, err := s.modelStore()
	if err != nil {
		return nil, err
	}
	m, err := st.Lookup(context.Background(), name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("unknown model %s in the model store %s", strings.ToLower(name), st.Root())
		}
		return nil, err
	}
	return &plan.ModelRef{Name: m.Name, Type: m.Type, Location: m.Location, SHA256: m.SHA256, Bytes: m.Bytes,
		Objective: m.Objective, NumClasses: m.NumClasses, NumOutputs: m.NumOutputs,
		Features: append([]string(nil), m.Features...), LabelColumns: append([]string(nil), m.LabelColumns...),
		Transform: transformOf(m.Transform), ClassLabels: append([]string(nil), m.ClassLabels...), LabelType: m.LabelType}, nil
}

// createModel runs CREATE MODEL: it imports the file of model_path into
// the store (see store.Store.Create).
func (s *Session) createModel(ctx context.Context, st *ast.CreateModel) error {
	name := strings.Join(st.Name, ".")
	opts := store.CreateOptions{Replace: st.OrReplace, IfNotExists: st.IfNotExists}
	for _, o := range st.Options {
		if o.Key == "model_type" && isTrainedType(o.Value) {
			if st.IfNotExists {
				if sto, err := s.modelStore(); err == nil {
					if _, err := sto.Lookup(ctx, strings.ToLower(name)); err == nil {
						return nil // there: not trained again
					}
				}
			}
			return s.trainModel(ctx, name, st, opts)
		}
	}
	if st.Query != nil && st.Transform == nil {
		return fmt.Errorf("CREATE MODEL %s: AS query trains a model of model_type %s or %s; an imported model (model_path) takes AS query only to fit its TRANSFORM",
			name, BoostedTreeClassifier, BoostedTreeRegressor)
	}
	for _, o := range st.Options {
		single := func() (string, error) {
			if o.IsList {
				return "", fmt.Errorf("CREATE MODEL %s: option %s takes one value, not a list", name, o.Key)
			}
			return o.Value, nil
		}
		list := func() ([]string, error) {
			if !o.IsList {
				return nil, fmt.Errorf("CREATE MODEL %s: option %s takes a list, e.g. %s = ['a', 'b']", name, o.Key, o.Key)
			}
			return o.List, nil
		}
		var err error
		switch o.Key {
		case "model_type":
			var v string
			v, err = single()
			opts.Type = strings.ToLower(v)
		case "model_path":
			opts.Path, err = single()
		case "feature_columns":
			opts.FeatureColumns, err = list()
		case "input_label_cols":
			opts.LabelColumns, err = list()
		default:
			err = fmt.Errorf("CREATE MODEL %s: unknown option %s (the options of an imported model are model_type, model_path, feature_columns and input_label_cols)", name, o.Key)
		}
		if err != nil {
			return err
		}
	}
	if opts.Type == "" {
		return fmt.Errorf("CREATE MODEL %s: model_type is required (%s)", name, strings.Join(store.Types, " or "))
	}
	if st.Transform != nil {
		n, err := binder.New(s, &s.ids).BindQuery(st.Query.String(), st.Query)
		if err != nil {
			return fmt.Errorf("CREATE MODEL %s: AS query: %w", name, err)
		}
		if opts.Transform, err = s.frame(n).fitTransformItems(ctx, st.Transform); err != nil {
			return fmt.Errorf("CREATE MODEL %s: TRANSFORM: %w", name, err)
		}
	}
	sto, err := s.modelStore()
	if err != nil {
		return err
	}
	_, _, err = sto.Create(ctx, name, opts)
	return err
}

// dropModels runs DROP MODEL.
func (s *Session) dropModels(ctx context.Context, st *ast.DropModel) error {
	sto, err := s.modelStore()
	if err != nil {
		return err
	}
	for _, n := range st.Names {
		if err := sto.Drop(ctx, strings.Join(n, "."), st.IfExists); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("model %s does not exist in the model store %s", strings.ToLower(strings.Join(n, ".")), sto.Root())
			}
			return err
		}
	}
	return nil
}

// showModels is the result of SHOW MODELS: one row per model of the
// store, by name.
func (s *Session) showModels(ctx context.Context) (*DataFrame, error) {
	models, err := s.Models(ctx)
	if err != nil {
		return nil, err
	}
	str, i64 := arrow.BinaryTypes.String, types.Int64
	cols := []struct {
		name string
		typ  arrow.DataType
	}{{"name", str}, {"model_type", str}, {"objective", str}, {"num_classes", i64}, {"num_outputs", i64}, {"features", str}}
	var out plan.Schema
	for _, c := range cols {
		out = append(out, s.ids.NewColumn(c.name, "", c.typ, false))
	}
	var rows [][]plan.Expr
	for _, m := range models {
		rows = append(rows, []plan.Expr{
			&plan.Literal{Value: m.Name, Typ: str},
			&plan.Literal{Value: m.Type, Typ: str},
			&plan.Literal{Value: m.Objective, Typ: str},
			&plan.Literal{Value: int64(m.NumClasses), Typ: i64},
			&plan.Literal{Value: int64(m.NumOutputs), Typ: i64},
			&plan.Literal{Value: strings.Join(m.Features, ", "), Typ: str},
		})
	}
	df := s.frame(&plan.Values{Rows: rows, Out: out})
	df.local = true // the rows are known: nothing to run on a cluster
	return df, nil
}

// ModelOptions import a model file with Session.CreateModel, as the
// OPTIONS of CREATE MODEL do.
type ModelOptions struct {
	// Type is the library whose format the file is: "xgboost" (JSON or
	// UBJSON from save_model) or "lightgbm" (a text model).
	Type string
	// Path is the model file: a local path or a URI (s3://...).
	Path string
	// FeatureColumns names the input column of each of the model's
	// features in order; when empty, the names the file carries.
	FeatureColumns []string
	// LabelColumns names the column holding what the model predicts: the
	// true values Evaluate and ml.evaluate compare the predictions with.
	LabelColumns []string
	// Replace replaces a model of that name (CREATE OR REPLACE).
	Replace bool
}

// CreateModel imports a model into the session's model store, as CREATE
// MODEL does.
func (s *Session) CreateModel(ctx context.Context, name string, o ModelOptions) error {
	sto, err := s.modelStore()
	if err != nil {
		return err
	}
	_, _, err = sto.Create(ctx, name, store.CreateOptions{Type: strings.ToLower(o.Type), Path: o.Path,
		FeatureColumns: o.FeatureColumns, LabelColumns: o.LabelColumns, Replace: o.Replace})
	return err
}

// DropModel removes a model from the session's store, as DROP MODEL does.
func (s *Session) DropModel(ctx context.Context, name string, ifExists bool) error {
	return s.dropModels(ctx, &ast.DropModel{Names: [][]string{{name}}, IfExists: ifExists})
}

// ModelInfo describes a model of the store (SHOW MODELS).
type ModelInfo struct {
	Name       string
	Type       string // "xgboost" or "lightgbm"
	Objective  string
	NumClasses int      // 0 for a regressor
	NumOutputs int      // values per prediction
	Features   []string // the input columns, in the model's order
	Location   string   // the model file in the store
}

// Models lists the models of the session's store, by name.
func (s *Session) Models(ctx context.Context) ([]ModelInfo, error) {
	sto, err := s.modelStore()
	if err != nil {
		return nil, err
	}
	ms, err := sto.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ModelInfo, len(ms))
	for i, m := range ms {
		out[i] = ModelInfo{Name: m.Name, Type: m.Type, Objective: m.Objective, NumClasses: m.NumClasses,
			NumOutputs: m.NumOutputs, Features: append([]string(nil), m.Features...), Location: m.Location}
	}
	return out, nil
}

// Predict scores every row of the DataFrame with a model of the session's
// store, as ml.predict does in SQL: the result has the DataFrame's columns,
// then prediction (DOUBLE, or LIST<DOUBLE> of class probabilities) and,
// for a classifier, predicted_label (BIGINT). The model's features bind to
// the DataFrame's columns by name.
func (df *DataFrame) Predict(model string) *DataFrame {
	if df.err != nil {
		return df
	}
	ref, err := df.s.LookupModel(model)
	if err != nil {
		return df.s.errFrame(err)
	}
	p, err := binder.NewPredict(&df.s.ids, df.plan, df.Columns(), ref, "")
	if err != nil {
		return df.s.errFrame(err)
	}
	n, err := binder.WithClassLabels(&df.s.ids, p, ref)
	if err != nil {
		return df.s.errFrame(err)
	}
	return df.s.frame(n)
}

// Evaluate scores the DataFrame with a model of the session's store and
// compares the predictions with the labels in the model's
// input_label_cols, as ml.evaluate does in SQL: one row of precision,
// recall, accuracy, f1_score, log_loss and roc_auc for a classifier, or
// mean_absolute_error, mean_squared_error and r2_score for a regressor
// (scikit-learn's definitions). Rows with a NULL label are left out.
func (df *DataFrame) Evaluate(model string) *DataFrame {
	if df.err != nil {
		return df
	}
	ref, err := df.s.LookupModel(model)
	if err != nil {
		return df.s.errFrame(err)
	}
	n, err := binder.NewEvaluate(&df.s.ids, df.plan, df.Columns(), ref)
	if err != nil {
		return df.s.errFrame(err)
	}
	return df.s.frame(n)
}

// exportModel runs EXPORT MODEL name TO 'uri'.
func (s *Session) exportModel(ctx context.Context, st *ast.ExportModel) error {
	sto, err := s.modelStore()
	if err != nil {
		return err
	}
	return sto.Export(ctx, strings.Join(st.Name, "."), st.URI)
}

// ExportModel writes the file of a stored model to uri (a local path or
// an s3:// URI) in its library's own format.
func (s *Session) ExportModel(ctx context.Context, name, uri string) error {
	return s.exportModel(ctx, &ast.ExportModel{Name: []string{name}, URI: uri})
}
