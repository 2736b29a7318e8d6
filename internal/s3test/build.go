package s3test

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// versitygwPkg is the main package of the server, required by the tool
// module (tools/versitygw/go.mod) at Version.
const versitygwPkg = "github.com/versity/versitygw/cmd/versitygw"

var (
	binMu   sync.Mutex
	binPath string
	binErr  error // a failed build is not retried within one test binary
)

// Binary returns the path of a versitygw Version executable, building it
// first if need be. A versitygw on PATH or in $(go env GOPATH)/bin is used
// if it was built from versitygw Version; otherwise the module in
// tools/versitygw (which pins Version, with its go.sum) is built once per
// machine into the user cache directory and reused from there. Concurrent
// test binaries (go test ./... runs packages in parallel) wait for one
// another's build instead of repeating it. The first build downloads the
// modules through the Go module proxy and takes a minute or two.
func Binary() (string, error) {
	binMu.Lock()
	defer binMu.Unlock()
	if binPath != "" || binErr != nil {
		return binPath, binErr
	}
	binPath, binErr = find()
	if binErr == nil {
		return binPath, nil
	}
	var target string
	target, binErr = cachedPath()
	if binErr == nil {
		binPath, binErr = buildLocked(target)
	}
	if binErr != nil {
		binPath = ""
	}
	return binPath, binErr
}

// Installed is Binary without the build: it returns a versitygw Version
// that is installed or already built, or an error saying how to get one.
func Installed() (string, error) {
	binMu.Lock()
	defer binMu.Unlock()
	if binPath != "" {
		return binPath, nil
	}
	p, err := find()
	if err == nil {
		binPath = p
	}
	return p, err
}

// ShortBinary is Installed under go test -short, so that short runs never
// wait for a build, and Binary otherwise.
func ShortBinary() (string, error) {
	if testing.Short() {
		return Installed()
	}
	return Binary()
}

// find looks for a usable versitygw without building one: on PATH, in
// GOPATH/bin, then in the cache.
func find() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("versitygw"); err == nil {
		candidates = append(candidates, p)
	}
	for _, d := range gopaths() {
		candidates = append(candidates, filepath.Join(d, "bin", "versitygw"))
	}
	cached, cacheErr := cachedPath()
	if cacheErr == nil {
		candidates = append(candidates, cached)
	}
	for _, p := range candidates {
		if isVersion(p) {
			return p, nil
		}
	}
	if cacheErr != nil {
		return "", cacheErr
	}
	return "", fmt.Errorf("s3test: versitygw %s (the S3 server these tests run against) is not built yet; go test without -short builds it once into %s (a minute or two)", Version, cached)
}

func gopaths() []string {
	var dirs []string
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		dirs = append(dirs, filepath.SplitList(strings.TrimSpace(string(out)))...)
	}
	return append(dirs, filepath.SplitList(build.Default.GOPATH)...)
}

// isVersion reports whether path is an executable built from versitygw
// Version, read from the build information the go command stamps into
// every binary.
func isVersion(path string) bool {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return false
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return false
	}
	if info.Path != versitygwPkg {
		return false
	}
	if info.Main.Path == "github.com/versity/versitygw" && info.Main.Version == Version {
		return true
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/versity/versitygw" && d.Version == Version && d.Replace == nil {
			return true
		}
	}
	return false
}

// toolModule is the directory of the module that pins versitygw. The tests
// run from source, so it is found next to this file; failing that (a
// -trimpath build), through the module the test runs in.
func toolModule() (string, error) {
	var dirs []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append(dirs, filepath.Join(filepath.Dir(file), "..", "..", "tools", "versitygw"))
	}
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			dirs = append(dirs, filepath.Join(filepath.Dir(gomod), "tools", "versitygw"))
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "go.sum")); err == nil {
			return filepath.Clean(d), nil
		}
	}
	return "", fmt.Errorf("s3test: cannot find the tools/versitygw module (tried %s)", strings.Join(dirs, ", "))
}

// cachedPath is where the build from tools/versitygw lives: under the user
// cache directory, in a folder named after Version and a hash of the tool
// module's go.mod and go.sum (a change of either builds afresh) and of the
// platform.
func cachedPath() (string, error) {
	mod, err := toolModule()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(mod, name))
		if err != nil {
			return "", fmt.Errorf("s3test: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s/%s\n", runtime.GOOS, runtime.GOARCH)
	root, err := os.UserCacheDir()
	if err != nil {
		root = filepath.Join(os.TempDir(), fmt.Sprintf("flint-cache-%d", os.Getuid()))
	}
	dir := filepath.Join(root, "flint", "versitygw-"+Version+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	return filepath.Join(dir, "versitygw"), nil
}

// buildLocked builds versitygw into target unless it is there already,
// holding a file lock so that one process builds while the others wait.
// The build writes a temporary file renamed to target when complete, so
// target, once present, is always a whole executable.
func buildLocked(target string) (string, error) {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, "lock"))
	if err != nil {
		return "", fmt.Errorf("s3test: locking %s: %w", dir, err)
	}
	defer unlock()
	if isVersion(target) {
		return target, nil // built meanwhile by another process
	}
	mod, err := toolModule()
	if err != nil {
		return "", err
	}
	tmpDir, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "versitygw")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", tmp, "-ldflags=-s -w", versitygwPkg)
	cmd.Dir = mod
	// The tool module alone decides the versions: no workspace, no
	// vendoring, no go.mod updates; a fresh machine without a C compiler
	// builds it too.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("s3test: building versitygw %s in %s: %v\n%s", Version, mod, err, out)
	}
	if !isVersion(tmp) {
		return "", fmt.Errorf("s3test: the build in %s is not versitygw %s; check its go.mod", mod, Version)
	}
	if err := os.Rename(tmp, target); err != nil {
		return "", fmt.Errorf("s3test: %w", err)
	}
	fmt.Fprintf(os.Stderr, "s3test: built versitygw %s into %s in %v\n", Version, target, time.Since(start).Round(time.Second))
	return target, nil
}
