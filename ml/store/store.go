package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/ml/lightgbm"
	"github.com/flint-engine/flint/ml/model"
	"github.com/flint-engine/flint/ml/xgboost"
)

// ManifestName is the file that makes a folder of the store a model. It is
// written last.
const ManifestName = "_MODEL"

// ManifestVersion is the manifest format this package writes and reads.
const ManifestVersion = 1

// MaxModelBytes bounds the model files a store takes.
const MaxModelBytes = 2 << 30

// cleanupTimeout bounds deletions made after the work they follow is done
// (or after its context ended).
const cleanupTimeout = 30 * time.Second

// Types are the model_type values CREATE MODEL accepts.
var Types = []string{"lightgbm", "xgboost"}

// ErrNotFound is wrapped by the errors of Lookup and Drop for a model the
// store does not hold.
var ErrNotFound = errors.New("model does not exist")

// Manifest is the content of a model's _MODEL file, JSON:
//
//	{"version": 1, "name": "churn", "model_type": "xgboost",
//	 "file": "model-5f1c….json", "bytes": 123456, "sha256": "9a0b…",
//	 "objective": "binary:logistic", "num_classes": 2, "num_outputs": 1,
//	 "features": ["age", "income", …], "input_label_cols": ["churned"],
//	 "source": "s3://models/churn.json", "created_at": "2025-01-02T03:04:05Z"}
type Manifest struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	// Type is the library whose format the file is: "lightgbm" or
	// "xgboost".
	Type string `json:"model_type"`
	// File is the model file's name in the model's folder.
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex
	// Objective, NumClasses and NumOutputs are the model's, as
	// model.Model reports them.
	Objective  string `json:"objective"`
	NumClasses int    `json:"num_classes"`
	NumOutputs int    `json:"num_outputs"`
	// Features names the input columns, one per model feature in the
	// model's order: feature_columns when CREATE MODEL gave them, else
	// the names the file carries.
	Features []string `json:"features"`
	// LabelColumns is input_label_cols as CREATE MODEL gave it (what the
	// model was trained to predict; recorded, not used for scoring).
	LabelColumns []string `json:"input_label_cols,omitempty"`
	// Transform is the model's fitted TRANSFORM: the columns ml.predict
	// computes from its input before scoring, which the features name.
	Transform []TransformColumn `json:"transform,omitempty"`
	// ClassLabels are a classifier's labels in class order, as text, and
	// LabelType their SQL type (BIGINT, DOUBLE, VARCHAR, BOOLEAN):
	// predicted_label gives the label rather than the class index. Set by
	// training, which maps labels of any type to classes in sorted order.
	ClassLabels []string `json:"class_labels,omitempty"`
	LabelType   string   `json:"label_type,omitempty"`
	// Training is what training reported, for a model Flint trained.
	Training *TrainingInfo `json:"training,omitempty"`
	// Source is model_path as given.
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

// Model is a model of a store as its manifest describes it.
// TrainingInfo is what the training of a model reported: its options,
// the loss per round on the training and evaluation rows, and feature
// importance.
type TrainingInfo struct {
	Options       map[string]string   `json:"options"`
	Metric        string              `json:"metric"`
	TrainRows     int64               `json:"train_rows"`
	EvalRows      int64               `json:"eval_rows"`
	Rounds        []TrainingRound     `json:"rounds"`
	BestIteration int                 `json:"best_iteration"`
	Seconds       float64             `json:"seconds"`
	Importance    []FeatureImportance `json:"importance,omitempty"`
	// Trials are the trials of hyperparameter tuning (CREATE MODEL with
	// num_trials), by trial id; nil for a model trained once. The model
	// is the optimal trial's, and Options hold its values.
	Trials []TrialInfo `json:"trials,omitempty"`
}

// Statuses of a TrialInfo.
const (
	TrialSucceeded = "SUCCEEDED"
	TrialFailed    = "FAILED"
)

// TrialInfo is one trial of hyperparameter tuning: the values it gave the
// tuned options and how its training went. The losses are the metric
// TrainingInfo.Metric at the trial's best iteration (the round with the
// lowest eval loss); null for a failed trial, and eval_loss without
// evaluation rows.
type TrialInfo struct {
	TrialID         int                `json:"trial_id"`
	Hyperparameters map[string]float64 `json:"hyperparameters"` // tuned option -> value
	TrainLoss       *float64           `json:"train_loss"`
	EvalLoss        *float64           `json:"eval_loss"`
	Rounds          int                `json:"rounds"` // boosting rounds trained
	Seconds         float64            `json:"seconds"`
	Status          string             `json:"status"` // TrialSucceeded or TrialFailed
	Error           string             `json:"error,omitempty"`
	IsOptimal       bool               `json:"is_optimal"` // the trial whose model was kept
}

// TrainingRound is one boosting round: its losses (eval NaN-free: null
// without evaluation rows) and the seconds it took.
type TrainingRound struct {
	Iteration int      `json:"iteration"`
	TrainLoss float64  `json:"train_loss"`
	EvalLoss  *float64 `json:"eval_loss"`
	Seconds   float64  `json:"seconds"`
}

// FeatureImportance is XGBoost's get_score of one feature: the splits on
// it (weight), their average gain and average cover.
type FeatureImportance struct {
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight"`
	Gain    float64 `json:"gain"`
	Cover   float64 `json:"cover"`
}

// TransformColumn is one column of a fitted TRANSFORM: its name and the
// SQL expression computing it (fitted statistics as literals).
type TransformColumn struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

type Model struct {
	Manifest
	// Dir is the model's folder and Location its file's full location.
	Dir, Location string
}

// Ref returns what a plan needs to load the model (Load).
func (m *Model) Ref() Ref {
	return Ref{Name: m.Name, Type: m.Type, Location: m.Location, SHA256: m.SHA256, Bytes: m.Bytes}
}

// Store is a model store rooted at a local folder or an object store
// prefix. It is safe for concurrent use; two CREATEs of one model at once
// are not isolated from each other (the last manifest wins, as for COPY).
type Store struct {
	root string
}

// DefaultRoot is the store of a user who names none: flint/models in the
// user's data directory ($XDG_DATA_HOME, else ~/.local/share).
func DefaultRoot() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "flint", "models"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("model store: no home directory for the default store (give one with --models or FLINT_MODELS): %w", err)
	}
	return filepath.Join(home, ".local", "share", "flint", "models"), nil
}

// Open returns the store at root: a local path (made absolute, so that
// executors with other working directories find it), file://path or a
// URI of a registered scheme (s3://bucket/prefix). Nothing is created
// until a model is.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("model store: empty location")
	}
	if rest, ok := strings.CutPrefix(root, "file://"); ok {
		root = rest
	}
	if !strings.Contains(root, "://") {
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, fmt.Errorf("model store %s: %w", root, err)
		}
		root = filepath.ToSlash(abs)
	} else if _, err := fs.For(root); err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return &Store{root: strings.TrimSuffix(root, "/")}, nil
}

// Root is the store's location.
func (s *Store) Root() string { return s.root }

// ValidName checks a model name: letters, digits and underscores,
// starting with a letter or digit, at most 128 characters. Names are case
// insensitive; the store keeps them in lower case.
func ValidName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("model name %q: want 1 to 128 characters", name)
	}
	for i, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case r == '_' && i > 0:
		default:
			return fmt.Errorf("model name %q: a model name holds letters, digits and underscores and starts with a letter or digit", name)
		}
	}
	return nil
}

func (s *Store) dir(name string) string { return s.root + "/" + strings.ToLower(name) }

// CreateOptions are the OPTIONS of CREATE MODEL.
type CreateOptions struct {
	// Type is model_type: "lightgbm" or "xgboost".
	Type string
	// Path is model_path: the model file, a local path or a URI.
	Path string
	// FeatureColumns, when set, names the input columns of the model's
	// features in order, instead of the names the file carries.
	FeatureColumns []string
	// LabelColumns is input_label_cols.
	LabelColumns []string
	// Transform is the fitted TRANSFORM (see Manifest.Transform); every
	// feature must then be one of its columns.
	Transform []TransformColumn
	// Data, when set, is the model file itself (a model Flint trained);
	// Path then only names where it came from.
	Data []byte
	// ClassLabels and LabelType: see Manifest.
	ClassLabels []string
	LabelType   string
	// Training is what training reported (see Manifest.Training).
	Training *TrainingInfo
	// Replace replaces an existing model (CREATE OR REPLACE); IfNotExists
	// leaves one alone (CREATE ... IF NOT EXISTS). Without either an
	// existing model is an error.
	Replace, IfNotExists bool
}

// Create imports the model file at opts.Path as model name: it reads and
// parses the file, checks its features against opts.FeatureColumns, then
// copies it into the store and commits it. created is false when
// IfNotExists found the model already there.
func (s *Store) Create(ctx context.Context, name string, opts CreateOptions) (m *Model, created bool, err error) {
	if err := ValidName(name); err != nil {
		return nil, false, err
	}
	name = strings.ToLower(name)
	if !validType(opts.Type) {
		return nil, false, fmt.Errorf("model %s: model_type %q is not supported; use one of %s", name, opts.Type, strings.Join(Types, ", "))
	}
	if opts.Path == "" && opts.Data == nil {
		return nil, false, fmt.Errorf("model %s: model_path is required (the file of an imported model)", name)
	}
	// The model being replaced: its file is deleted once the new manifest
	// stands. A manifest that cannot be read is replaced all the same.
	old, err := s.Lookup(ctx, name)
	switch {
	case err == nil && opts.IfNotExists:
		return old, false, nil
	case err == nil && !opts.Replace:
		return nil, false, fmt.Errorf("model %s already exists; use CREATE OR REPLACE MODEL to replace it", name)
	case err != nil && !errors.Is(err, ErrNotFound) && !opts.Replace:
		return nil, false, err
	case err != nil:
		old = nil
	}

	data := opts.Data
	if data == nil {
		if data, err = readModelFile(ctx, opts.Path); err != nil {
			return nil, false, fmt.Errorf("model %s: %w", name, err)
		}
	}
	loaded, err := parse(opts.Type, data)
	if err != nil {
		return nil, false, fmt.Errorf("model %s: model_path %s: %w", name, opts.Path, err)
	}
	features, err := bindFeatures(name, loaded.Features(), opts.FeatureColumns)
	if err != nil {
		return nil, false, err
	}
	if len(opts.Transform) > 0 {
		outs := make([]string, len(opts.Transform))
		for i, t := range opts.Transform {
			outs[i] = t.Name
		}
		for _, f := range features {
			found := false
			for _, o := range outs {
				found = found || strings.EqualFold(o, f)
			}
			if !found {
				return nil, false, fmt.Errorf("model %s: feature %s is not a column of its TRANSFORM (%s); name the TRANSFORM's columns after the features, or give feature_columns", name, f, strings.Join(outs, ", "))
			}
		}
	}
	sum := sha256.Sum256(data)
	man := Manifest{Version: ManifestVersion, Name: name, Type: opts.Type,
		File: "model-" + newID() + modelExt(opts.Type, opts.Path), Bytes: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Objective: loaded.Objective(), NumClasses: loaded.NumClasses(),
		NumOutputs: loaded.NumOutputs(), Features: features, LabelColumns: opts.LabelColumns, Transform: opts.Transform,
		ClassLabels: opts.ClassLabels, LabelType: opts.LabelType, Training: opts.Training,
		Source: opts.Path, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	body, err := json.MarshalIndent(&man, "", " ")
	if err != nil {
		return nil, false, err
	}
	dir := s.dir(name)
	fsys, err := s.writeFS()
	if err != nil {
		return nil, false, err
	}
	file := dir + "/" + man.File
	if err := writeFile(ctx, fsys, file, data); err != nil {
		return nil, false, fmt.Errorf("model %s: %w", name, err)
	}
	if err := writeFile(ctx, fsys, dir+"/"+ManifestName, append(body, '\n')); err != nil {
		if got, lerr := s.Lookup(context.WithoutCancel(ctx), name); lerr == nil && got.File == man.File {
			// The manifest landed although its write reported a failure.
			err = nil
		} else {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			fsys.Delete(dctx, []string{file})
			cancel()
			return nil, false, fmt.Errorf("model %s: %w", name, err)
		}
	}
	if old != nil && old.File != man.File {
		// Best effort: a file no manifest names is not part of any model.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		fsys.Delete(dctx, []string{old.Location})
		cancel()
	}
	return &Model{Manifest: man, Dir: dir, Location: file}, true, nil
}

func validType(t string) bool {
	for _, x := range Types {
		if t == x {
			return true
		}
	}
	return false
}

// bindFeatures returns the input columns of a model whose file names its
// features fileNames ("" where it names none): columns when given (one
// per feature), else the file's names, which must then all be there.
func bindFeatures(name string, fileNames, columns []string) ([]string, error) {
	out := fileNames
	if len(columns) > 0 {
		if len(columns) != len(fileNames) {
			return nil, fmt.Errorf("model %s: feature_columns names %d columns, but the model reads %d features", name, len(columns), len(fileNames))
		}
		out = columns
	} else {
		for i, f := range fileNames {
			if f == "" {
				return nil, fmt.Errorf("model %s: the model file does not name feature %d (of %d); give feature_columns = ['col', ...] naming the input column of every feature, in order", name, i+1, len(fileNames))
			}
		}
	}
	seen := map[string]bool{}
	for _, f := range out {
		if f == "" {
			return nil, fmt.Errorf("model %s: feature_columns has an empty name", name)
		}
		k := strings.ToLower(f)
		if seen[k] {
			return nil, fmt.Errorf("model %s: feature column %s is named twice", name, f)
		}
		seen[k] = true
	}
	return append([]string(nil), out...), nil
}

// modelExt keeps a model file's extension when it says the format, so the
// store's file reads as what it is.
func modelExt(typ, src string) string {
	switch ext := strings.ToLower(path.Ext(src)); ext {
	case ".json", ".ubj", ".txt":
		return ext
	}
	if typ == "xgboost" {
		return ".json"
	}
	return ".txt"
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

func (s *Store) writeFS() (fs.WriteFS, error) {
	fsys, err := fs.For(s.root)
	if err != nil {
		return nil, fmt.Errorf("model store %s: %w", s.root, err)
	}
	w, err := fs.Writable(fsys, s.root)
	if err != nil {
		return nil, fmt.Errorf("model store %s: %w", s.root, err)
	}
	return w, nil
}

func writeFile(ctx context.Context, fsys fs.WriteFS, p string, data []byte) error {
	w, err := fsys.Create(ctx, p)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// readModelFile reads a whole file through connectors/fs.
func readModelFile(ctx context.Context, loc string) ([]byte, error) {
	fsys, err := fs.For(loc)
	if err != nil {
		return nil, err
	}
	return readAll(ctx, fsys, loc, MaxModelBytes)
}

func readAll(ctx context.Context, fsys fs.FS, loc string, limit int64) ([]byte, error) {
	f, err := fsys.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes is more than the %d a model file may have", loc, f.Size(), limit)
	}
	data := make([]byte, f.Size())
	if _, err := f.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && len(data) > 0) {
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	return data, nil
}

// parse loads a model file of the given type.
func parse(typ string, data []byte) (model.Model, error) {
	switch typ {
	case "lightgbm":
		return lightgbm.Load(data)
	case "xgboost":
		return xgboost.Load(data)
	}
	return nil, fmt.Errorf("model_type %q is not supported; use one of %s", typ, strings.Join(Types, ", "))
}

// Lookup reads the manifest of model name. A model that is not there
// (no folder, or a folder without a manifest) is an error wrapping
// ErrNotFound.
func (s *Store) Lookup(ctx context.Context, name string) (*Model, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, err)
	}
	fsys, err := fs.For(s.root)
	if err != nil {
		return nil, fmt.Errorf("model store %s: %w", s.root, err)
	}
	dir := s.dir(name)
	p := dir + "/" + ManifestName
	data, err := readAll(ctx, fsys, p, 64<<20)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("model %s: %w (store %s)", strings.ToLower(name), ErrNotFound, s.root)
		}
		return nil, fmt.Errorf("model %s: %w", strings.ToLower(name), err)
	}
	man, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: manifest %s: %w", strings.ToLower(name), p, err)
	}
	if man.Name != strings.ToLower(name) {
		return nil, fmt.Errorf("model %s: manifest %s names model %q", strings.ToLower(name), p, man.Name)
	}
	return &Model{Manifest: *man, Dir: dir, Location: dir + "/" + man.File}, nil
}

// ParseManifest decodes and checks a model manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a Flint model manifest: %w", err)
	}
	switch {
	case m.Version == 0:
		return nil, errors.New("not a Flint model manifest: no version")
	case m.Version > ManifestVersion:
		return nil, fmt.Errorf("model manifest version %d is newer than this Flint understands (%d)", m.Version, ManifestVersion)
	case m.Version < 0:
		return nil, fmt.Errorf("bad model manifest version %d", m.Version)
	case ValidName(m.Name) != nil:
		return nil, fmt.Errorf("bad model name %q", m.Name)
	case !validType(m.Type):
		return nil, fmt.Errorf("unknown model_type %q", m.Type)
	case m.File == "" || strings.ContainsAny(m.File, "/\\") || m.File[0] == '.' || m.File[0] == '_':
		return nil, fmt.Errorf("bad model file name %q", m.File)
	case len(m.SHA256) != 64:
		return nil, fmt.Errorf("bad sha256 %q", m.SHA256)
	case m.Bytes < 0 || m.Bytes > MaxModelBytes:
		return nil, fmt.Errorf("bad file size %d", m.Bytes)
	case len(m.Features) == 0:
		return nil, errors.New("no features")
	case m.NumOutputs < 1 || m.NumClasses < 0:
		return nil, fmt.Errorf("bad num_outputs %d or num_classes %d", m.NumOutputs, m.NumClasses)
	}
	if _, err := hex.DecodeString(m.SHA256); err != nil {
		return nil, fmt.Errorf("bad sha256 %q", m.SHA256)
	}
	for i, f := range m.Features {
		if f == "" {
			return nil, fmt.Errorf("feature %d has no name", i+1)
		}
	}
	return &m, nil
}

// List returns the store's models sorted by name. Folders without a
// manifest (nothing committed, or a model being dropped) are left out; a
// manifest that cannot be read is an error.
func (s *Store) List(ctx context.Context) ([]*Model, error) {
	fsys, err := fs.For(s.root)
	if err != nil {
		return nil, fmt.Errorf("model store %s: %w", s.root, err)
	}
	entries, err := fs.ReadDir(ctx, fsys, s.root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("model store %s: %w", s.root, err)
	}
	var out []*Model
	for _, e := range entries {
		name := fs.BaseName(strings.TrimSuffix(e.Path, "/"))
		if !e.IsDir || ValidName(name) != nil || name != strings.ToLower(name) {
			continue
		}
		m, err := s.Lookup(ctx, name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Drop removes model name: its manifest first (from then on the model is
// gone), then every file of its folder. A missing model is an error
// wrapping ErrNotFound unless ifExists.
func (s *Store) Drop(ctx context.Context, name string, ifExists bool) error {
	if err := ValidName(name); err != nil {
		return err
	}
	name = strings.ToLower(name)
	fsys, err := s.writeFS()
	if err != nil {
		return err
	}
	dir := s.dir(name)
	// A manifest that cannot be parsed still makes a model, which DROP
	// removes.
	if _, err := fsys.Stat(ctx, dir+"/"+ManifestName); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if ifExists {
				return nil
			}
			return fmt.Errorf("model %s: %w (store %s)", name, ErrNotFound, s.root)
		}
		return fmt.Errorf("model %s: %w", name, err)
	}
	if err := fsys.Delete(ctx, []string{dir + "/" + ManifestName}); err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	fsys.Sweep(dctx, dir, func(string) bool { return true })
	if fs.IsLocal(fsys) {
		os.Remove(dir) // the empty folder; object stores have none
	}
	return nil
}

// Export copies the file of model name to uri (a local path or an object
// store URI), as the library reads it: XGBoost's JSON or UBJSON, or
// LightGBM's text model. The file is checked against the manifest's hash
// first, so a damaged store is not exported.
func (s *Store) Export(ctx context.Context, name, uri string) error {
	m, err := s.Lookup(ctx, name)
	if err != nil {
		return err
	}
	src, err := fs.For(m.Location)
	if err != nil {
		return err
	}
	data, err := readAll(ctx, src, m.Location, MaxModelBytes)
	if err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != m.SHA256 {
		return fmt.Errorf("model %s: its file %s does not match the manifest's hash; the store is damaged", name, m.Location)
	}
	dst, err := fs.For(uri)
	if err != nil {
		return err
	}
	wfs, err := fs.Writable(dst, uri)
	if err != nil {
		return err
	}
	if err := writeFile(ctx, wfs, uri, data); err != nil {
		return fmt.Errorf("export model %s to %s: %w", name, uri, err)
	}
	return nil
}
