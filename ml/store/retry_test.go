package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flint-engine/flint/connectors/fs"
)

// flaky is the local filesystem under the scheme "flaky://" whose file
// creations fail while failOn matches the path: a store whose writes fail
// half way.
type flaky struct{ failOn atomic.Value } // func(path string) bool

func (f *flaky) local(p string) string { return strings.TrimPrefix(p, "flaky://") }

func (f *flaky) back(infos []fs.FileInfo) []fs.FileInfo {
	for i := range infos {
		infos[i].Path = "flaky://" + infos[i].Path
	}
	return infos
}

func (f *flaky) Open(ctx context.Context, p string) (fs.File, error) {
	return fs.Local{}.Open(ctx, f.local(p))
}

func (f *flaky) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	fi, err := fs.Local{}.Stat(ctx, f.local(p))
	fi.Path = p
	return fi, err
}

func (f *flaky) List(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	l, err := fs.Local{}.List(ctx, f.local(dir))
	return f.back(l), err
}

func (f *flaky) ListDir(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	l, err := fs.Local{}.ListDir(ctx, f.local(dir))
	return f.back(l), err
}

func (f *flaky) Create(ctx context.Context, p string) (fs.Writer, error) {
	if fail, _ := f.failOn.Load().(func(string) bool); fail != nil && fail(p) {
		return nil, errors.New("injected failure creating " + p)
	}
	return fs.Local{}.Create(ctx, f.local(p))
}

func (f *flaky) Delete(ctx context.Context, paths []string) error {
	local := make([]string, len(paths))
	for i, p := range paths {
		local[i] = f.local(p)
	}
	return fs.Local{}.Delete(ctx, local)
}

func (f *flaky) Sweep(ctx context.Context, dir string, match func(string) bool) (int, error) {
	return fs.Local{}.Sweep(ctx, f.local(dir), match)
}

var flakyFS = &flaky{}

func init() { fs.Register("flaky", flakyFS) }

// TestReplaceRetry makes CREATE OR REPLACE fail where it can (copying the
// file, writing the manifest) and checks that the old model stands
// untouched each time, that nothing of the failed attempt is left, and
// that the retry succeeds.
func TestReplaceRetry(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open("flaky://" + root)
	if err != nil {
		t.Fatal(err)
	}
	defer flakyFS.failOn.Store(func(string) bool { return false })
	old, _, err := s.Create(ctx, "m", CreateOptions{Type: "lightgbm", Path: lgbBinary})
	if err != nil {
		t.Fatal(err)
	}
	for _, failOn := range []string{"/model-", "/" + ManifestName} {
		flakyFS.failOn.Store(func(p string) bool { return strings.Contains(p, failOn) })
		_, _, err := s.Create(ctx, "m", CreateOptions{Type: "xgboost", Path: xgbNamed, Replace: true})
		if err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("failing on %s: %v", failOn, err)
		}
		got, err := s.Lookup(ctx, "m")
		if err != nil || got.SHA256 != old.SHA256 || got.Type != "lightgbm" {
			t.Fatalf("after a failed replace (on %s) the model is %+v, %v; want the old one", failOn, got, err)
		}
		if _, err := NewCache(1<<30).Load(ctx, got.Ref()); err != nil {
			t.Fatalf("the old model cannot be loaded after a failed replace: %v", err)
		}
		if names := files(t, root); len(names) != 2 || names[1] != "m/"+old.File {
			t.Errorf("a failed replace (on %s) left %v", failOn, names)
		}
	}
	flakyFS.failOn.Store(func(string) bool { return false })
	r, _, err := s.Create(ctx, "m", CreateOptions{Type: "xgboost", Path: xgbNamed, Replace: true})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if names := files(t, root); len(names) != 2 || names[1] != "m/"+r.File {
		t.Errorf("after the retry: %v", names)
	}
	if _, err := os.Stat(filepath.Join(root, "m", old.File)); !os.IsNotExist(err) {
		t.Errorf("the replaced file is still there: %v", err)
	}
}
