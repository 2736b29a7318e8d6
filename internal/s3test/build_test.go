package s3test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestToolModulePinsVersion: the module the server is built from requires
// versitygw at exactly Version and declares it as a tool, and its go.sum
// holds the hash of that version, so a build on a fresh machine can only
// produce that version.
func TestToolModulePinsVersion(t *testing.T) {
	mod, err := toolModule()
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var required, tool bool
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "github.com/versity/versitygw":
			if f[1] != Version {
				t.Errorf("tools/versitygw/go.mod requires versitygw %s, s3test.Version is %s", f[1], Version)
			}
			required = true
		case len(f) == 2 && f[0] == "tool" && f[1] == versitygwPkg:
			tool = true
		}
	}
	if !required || !tool {
		t.Errorf("tools/versitygw/go.mod: require versitygw %v, tool %s %v; want both", required, versitygwPkg, tool)
	}
	gosum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gosum), "github.com/versity/versitygw "+Version+" h1:") {
		t.Errorf("tools/versitygw/go.sum has no hash for versitygw %s", Version)
	}
}

// TestIsVersionRejectsOthers: only a versitygw Version build is taken from
// PATH, GOPATH/bin or the cache; other executables and files are not.
func TestIsVersionRejectsOthers(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "versitygw")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{self, script, filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		if isVersion(p) {
			t.Errorf("isVersion(%s) = true", p)
		}
	}
}

// TestCachedPathKeyedByModule: the cache folder names the version and
// changes with the tool module's go.sum, so a new pin never reuses an old
// build.
func TestCachedPathKeyedByModule(t *testing.T) {
	p, err := cachedPath()
	if err != nil {
		t.Fatal(err)
	}
	if base := filepath.Base(filepath.Dir(p)); !strings.HasPrefix(base, "versitygw-"+Version+"-") {
		t.Errorf("cache folder %s does not name versitygw %s", base, Version)
	}
	if p2, err := cachedPath(); err != nil || p2 != p {
		t.Errorf("cachedPath is not stable: %s then %s (%v)", p, p2, err)
	}
}

// TestServerAnswers starts the pinned server (building it if need be) and
// checks it serves a bucket.
func TestServerAnswers(t *testing.T) {
	s := Start(t)
	if err := s.CreateBucket(t.Context(), "lake"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "lake", "k", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir, "lake", "k"))
	if err != nil || string(data) != "hello" {
		t.Fatalf("object on disk = %q, %v; want hello", data, err)
	}
}
