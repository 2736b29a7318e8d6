package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestResolveAndRead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, p := range []string{"a/x.csv", "a/y.csv", "a/b/z.csv", "a/b/w.txt", "a/_SUCCESS", "a/.hidden/q.csv", "c.csv"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	isCSV := func(p string) bool { return filepath.Ext(p) == ".csv" }
	fsys, err := For(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		loc  string
		want []string
	}{
		{dir + "/a", []string{"a/b/z.csv", "a/x.csv", "a/y.csv"}},
		{dir + "/a/*.csv", []string{"a/x.csv", "a/y.csv"}},
		{dir + "/a/*/*.csv", []string{"a/b/z.csv"}},
		{dir + "/c.csv", []string{"c.csv"}},
		{dir + "/a/b/w.txt", []string{"a/b/w.txt"}}, // an explicit file is kept whatever its extension
		{"file://" + dir + "/a/x.csv", []string{"a/x.csv"}},
		{"file://" + dir + "/a/*.csv", []string{"a/x.csv", "a/y.csv"}},
	}
	for _, tc := range cases {
		got, err := Resolve(ctx, fsys, tc.loc, isCSV)
		if err != nil {
			t.Fatalf("%s: %v", tc.loc, err)
		}
		var names []string
		for _, fi := range got {
			names = append(names, fi.Path)
		}
		var want []string
		prefix := dir + "/"
		if len(tc.loc) > 7 && tc.loc[:7] == "file://" {
			prefix = "file://" + prefix
		}
		for _, w := range tc.want {
			want = append(want, prefix+w)
		}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("%s: got %v, want %v", tc.loc, names, want)
		}
		for _, fi := range got {
			f, err := fsys.Open(ctx, fi.Path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Size() != fi.Size {
				t.Errorf("%s: size %d vs %d", fi.Path, f.Size(), fi.Size)
			}
			b, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
			f.Close()
			if err != nil || len(b) != int(fi.Size) {
				t.Errorf("%s: read %d bytes, %v", fi.Path, len(b), err)
			}
		}
	}
	for _, loc := range []string{dir + "/missing.csv", dir + "/a/*.json", dir + "/a/b/nothing*"} {
		if _, err := Resolve(ctx, fsys, loc, isCSV); !errors.Is(err, ErrNotExist) {
			t.Errorf("%s: error %v, want ErrNotExist", loc, err)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := Resolve(ctx, fsys, empty, isCSV); !errors.Is(err, ErrNotExist) {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := fsys.Open(ctx, dir); err == nil {
		t.Error("opening a directory must fail")
	}
	if _, err := For("s3://bucket/key"); err == nil {
		t.Error("s3 is not registered yet")
	}
}
