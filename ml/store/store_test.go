package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

const (
	lgbBinary  = "../lightgbm/testdata/lg_dart_breast_cancer.model"
	xgbNamed   = "../xgboost/testdata/binary_logistic.json"
	xgbUnnamed = "../xgboost/testdata/forest_softprob.ubj"
)

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestCreateLookupListDrop(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	m, created, err := s.Create(ctx, "Cancer", CreateOptions{Type: "lightgbm", Path: lgbBinary})
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	if m.Name != "cancer" || m.Objective != "binary" || m.NumClasses != 2 || m.NumOutputs != 1 || len(m.Features) != 30 || m.Features[0] != "Column_0" {
		t.Errorf("manifest = %+v", m.Manifest)
	}
	got := files(t, root)
	if len(got) != 2 || got[0] != "cancer/"+ManifestName || !strings.HasPrefix(got[1], "cancer/model-") || !strings.HasSuffix(got[1], ".model") && !strings.HasSuffix(got[1], ".txt") {
		t.Errorf("files = %v", got)
	}
	l, err := s.Lookup(ctx, "CANCER")
	if err != nil || l.SHA256 != m.SHA256 || l.Location != m.Location {
		t.Fatalf("lookup = %+v, %v", l, err)
	}

	if _, _, err := s.Create(ctx, "cancer", CreateOptions{Type: "lightgbm", Path: lgbBinary}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create: %v", err)
	}
	if _, created, err := s.Create(ctx, "cancer", CreateOptions{Type: "lightgbm", Path: lgbBinary, IfNotExists: true}); err != nil || created {
		t.Errorf("create if not exists: %v %v", created, err)
	}

	// Replacing swaps the file and deletes the old one.
	cols := []string{"age", "income", "score", "tenure", "visits", "ratio", "delta", "segment"}
	r, _, err := s.Create(ctx, "cancer", CreateOptions{Type: "xgboost", Path: xgbUnnamed, FeatureColumns: cols, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "xgboost" || r.NumOutputs < 2 || r.NumClasses != r.NumOutputs || strings.Join(r.Features, ",") != strings.Join(cols, ",") {
		t.Errorf("replaced manifest = %+v", r.Manifest)
	}
	got = files(t, root)
	if len(got) != 2 || got[1] != "cancer/"+r.File || !strings.HasSuffix(r.File, ".ubj") {
		t.Errorf("files after replace = %v", got)
	}

	if _, _, err := s.Create(ctx, "b", CreateOptions{Type: "xgboost", Path: xgbNamed}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "b" || list[1].Name != "cancer" {
		t.Fatalf("list = %v, %v", list, err)
	}

	if err := s.Drop(ctx, "cancer", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, "cancer"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup after drop: %v", err)
	}
	if err := s.Drop(ctx, "cancer", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("second drop: %v", err)
	}
	if err := s.Drop(ctx, "cancer", true); err != nil {
		t.Errorf("drop if exists: %v", err)
	}
	if got := files(t, root); len(got) != 2 || !strings.HasPrefix(got[0], "b/") {
		t.Errorf("files after drop = %v", got)
	}
	if _, err := os.Stat(filepath.Join(root, "cancer")); !os.IsNotExist(err) {
		t.Errorf("the dropped model's folder is still there: %v", err)
	}
}

func TestCreateErrors(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(lgbBinary)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.txt")
	if err := os.WriteFile(truncated, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts CreateOptions
		want string
	}{
		{"m", CreateOptions{Type: "lightgbm", Path: truncated}, "model m: model_path " + truncated + ": "},
		{"m", CreateOptions{Type: "xgboost", Path: lgbBinary}, "not an XGBoost model"},
		{"m", CreateOptions{Type: "sklearn", Path: lgbBinary}, `model_type "sklearn" is not supported; use one of lightgbm, xgboost`},
		{"m", CreateOptions{Type: "lightgbm"}, "model_path is required"},
		{"m", CreateOptions{Type: "lightgbm", Path: filepath.Join(root, "nope.txt")}, "file does not exist"},
		{"m", CreateOptions{Type: "xgboost", Path: xgbUnnamed}, "the model file does not name feature 1 (of 8); give feature_columns"},
		{"m", CreateOptions{Type: "xgboost", Path: xgbUnnamed, FeatureColumns: []string{"a", "b"}}, "feature_columns names 2 columns, but the model reads 8 features"},
		{"m", CreateOptions{Type: "xgboost", Path: xgbUnnamed, FeatureColumns: []string{"a", "b", "c", "d", "e", "f", "g", "A"}}, "feature column A is named twice"},
		{"bad-name", CreateOptions{Type: "lightgbm", Path: lgbBinary}, "a model name holds letters, digits and underscores"},
		{"_x", CreateOptions{Type: "lightgbm", Path: lgbBinary}, "a model name holds letters"},
	} {
		_, _, err := s.Create(ctx, tc.name, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create %s %+v: error %v, want it to contain %q", tc.name, tc.opts, err, tc.want)
		}
	}
	if got := files(t, root); len(got) != 0 {
		t.Errorf("failed creates left files in the store: %v", got)
	}
}

func TestManifestDamage(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, _ := Open(root)
	m, _, err := s.Create(ctx, "m", CreateOptions{Type: "lightgbm", Path: lgbBinary})
	if err != nil {
		t.Fatal(err)
	}
	man := filepath.Join(root, "m", ManifestName)
	if err := os.WriteFile(man, []byte(`{"version": 1, "name": "m"`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, "m"); err == nil || !strings.Contains(err.Error(), "model m: manifest "+filepath.ToSlash(man)+": not a Flint model manifest") {
		t.Errorf("lookup of a damaged manifest: %v", err)
	}
	if _, err := s.List(ctx); err == nil {
		t.Error("list with a damaged manifest: no error")
	}
	// CREATE OR REPLACE repairs it; DROP removes it.
	if _, _, err := s.Create(ctx, "m", CreateOptions{Type: "lightgbm", Path: lgbBinary, Replace: true}); err != nil {
		t.Fatalf("replace a damaged model: %v", err)
	}
	if _, err := os.Stat(m.Location); !os.IsNotExist(err) {
		// The damaged manifest named no file; the first one stays, named
		// by nothing.
		t.Logf("the first file stays: %v", err)
	}
	os.WriteFile(man, []byte("garbage"), 0o644)
	if err := s.Drop(ctx, "m", false); err != nil {
		t.Fatalf("drop a damaged model: %v", err)
	}
	if got := files(t, root); len(got) != 0 {
		t.Errorf("files after drop: %v", got)
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, _ := Open(root)
	a, _, err := s.Create(ctx, "a", CreateOptions{Type: "lightgbm", Path: lgbBinary})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.Create(ctx, "b", CreateOptions{Type: "xgboost", Path: xgbNamed})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(a.Bytes + b.Bytes - 1) // room for one of them
	var wg sync.WaitGroup
	got := make([]any, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := c.Load(ctx, a.Ref())
			if err != nil {
				t.Error(err)
			}
			got[i] = m
		}()
	}
	wg.Wait()
	for _, m := range got[1:] {
		if m != got[0] {
			t.Fatal("concurrent loads of one model gave different models")
		}
	}
	if c.Len() != 1 || c.Loads() != 1 {
		t.Errorf("cache holds %d models after %d loads, want 1 and 1", c.Len(), c.Loads())
	}
	if m, err := c.Load(ctx, b.Ref()); err != nil || m.Library() != "xgboost" {
		t.Fatalf("load b: %v", err)
	}
	if c.Len() != 1 {
		t.Errorf("cache holds %d models after a second, want 1 (the limit)", c.Len())
	}

	// A replaced model's old reference fails with a clear error.
	if _, _, err := s.Create(ctx, "b", CreateOptions{Type: "lightgbm", Path: lgbBinary, Replace: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCache(1<<30).Load(ctx, b.Ref()); err == nil || !strings.Contains(err.Error(), "model b: ") || !strings.Contains(err.Error(), "dropped or replaced") {
		t.Errorf("load of a replaced model: %v", err)
	}
	ref := a.Ref()
	ref.SHA256 = strings.Repeat("0", 64)
	if _, err := NewCache(1<<30).Load(ctx, ref); err == nil || !strings.Contains(err.Error(), "is not the file the query was planned with") {
		t.Errorf("load with a wrong hash: %v", err)
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data/home")
	if r, err := DefaultRoot(); err != nil || r != filepath.FromSlash("/data/home/flint/models") {
		t.Errorf("DefaultRoot = %q, %v", r, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if r, err := DefaultRoot(); err != nil || r != filepath.FromSlash("/home/u/.local/share/flint/models") {
		t.Errorf("DefaultRoot = %q, %v", r, err)
	}
}
