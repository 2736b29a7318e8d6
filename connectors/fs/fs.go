package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrNotExist is wrapped by errors about missing files or empty matches.
var ErrNotExist = errors.New("file does not exist")

// File is an open file supporting random access. Implementations must allow
// concurrent ReadAt calls.
type File interface {
	io.ReaderAt
	io.Closer
	// Size is the file length in bytes, known at open time.
	Size() int64
	// Name is the path the file was opened with.
	Name() string
}

// FileInfo describes one file.
type FileInfo struct {
	Path    string
	Size    int64
	IsDir   bool
	ModTime time.Time
}

// FS is a filesystem. Paths are the full strings the user gave (including any
// scheme such as "s3://bucket/"), so results can be passed back to Open.
// All methods are safe for concurrent use.
type FS interface {
	// Open opens path for ranged reading.
	Open(ctx context.Context, path string) (File, error)
	// Stat describes path; the error wraps ErrNotExist if it is missing.
	Stat(ctx context.Context, path string) (FileInfo, error)
	// List returns every regular file below the directory (or key prefix)
	// dir, recursively, sorted by path.
	List(ctx context.Context, dir string) ([]FileInfo, error)
}

// SizedOpener is implemented by filesystems that can open a file whose size
// the caller already knows (from Stat or List) more cheaply than Open: an
// object store then skips the HEAD request Open needs.
type SizedOpener interface {
	OpenSized(ctx context.Context, path string, size int64) (File, error)
}

// OpenSized opens path with fsys, handing size to a SizedOpener so it need
// not ask the store again. size must come from a Stat or List of the same
// path.
func OpenSized(ctx context.Context, fsys FS, path string, size int64) (File, error) {
	if so, ok := fsys.(SizedOpener); ok && size >= 0 {
		return so.OpenSized(ctx, path, size)
	}
	return fsys.Open(ctx, path)
}

// DirLister is implemented by filesystems that can list one directory
// level, which lets a reader skip whole subtrees (pruned Hive partitions)
// without listing them. An object store maps it onto one delimited LIST
// ("/") per directory, paginated.
type DirLister interface {
	// ListDir returns the entries directly in dir, sorted by path: regular
	// files with their size, and subdirectories (IsDir, Path without a
	// trailing '/'). Unlike List it keeps hidden names (a leading '.' or
	// '_'), so callers can see markers such as _SUCCESS; they decide what
	// to skip. A missing dir yields an empty list on object stores, where
	// directories are only key prefixes.
	ListDir(ctx context.Context, dir string) ([]FileInfo, error)
}

// ReadDir lists one level of dir: with ListDir when fsys is a DirLister,
// else by folding a recursive List (which does not show hidden entries)
// into the first path segment below dir.
func ReadDir(ctx context.Context, fsys FS, dir string) ([]FileInfo, error) {
	if dl, ok := fsys.(DirLister); ok {
		return dl.ListDir(ctx, dir)
	}
	all, err := fsys.List(ctx, dir)
	if err != nil {
		return nil, err
	}
	prefix := JoinPath(dir, "")
	var out []FileInfo
	seen := map[string]bool{}
	for _, fi := range all {
		rel, ok := strings.CutPrefix(fi.Path, prefix)
		if !ok {
			continue
		}
		first, _, nested := strings.Cut(rel, "/")
		if !nested {
			out = append(out, fi)
			continue
		}
		if !seen[first] {
			seen[first] = true
			out = append(out, FileInfo{Path: prefix + first, IsDir: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// JoinPath appends name to dir with one '/', keeping any "scheme://"; a
// dir of "." (the working directory) yields name alone.
func JoinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// IsLocal reports whether fsys is the local filesystem, where a ReadAt is
// cheap and callers need not batch or prefetch reads.
func IsLocal(fsys FS) bool {
	_, ok := fsys.(Local)
	return ok
}

var (
	mu      sync.RWMutex
	schemes = map[string]FS{}
)

// Register makes fsys handle locations starting with scheme + "://".
func Register(scheme string, fsys FS) {
	mu.Lock()
	defer mu.Unlock()
	schemes[scheme] = fsys
}

// For returns the filesystem that handles location: a registered scheme, or
// the local filesystem for plain paths and "file://".
func For(location string) (FS, error) {
	i := strings.Index(location, "://")
	if i < 0 {
		return Local{}, nil
	}
	scheme := location[:i]
	if scheme == "file" {
		return Local{}, nil
	}
	mu.RLock()
	defer mu.RUnlock()
	if f, ok := schemes[scheme]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("location %q: unsupported scheme %q", location, scheme)
}

// parentDir is path.Dir that keeps a "scheme://" prefix intact and does not
// go above the bucket (or host) of a scheme location.
func parentDir(p string) (string, bool) {
	scheme, rest, ok := strings.Cut(p, "://")
	if !ok {
		return path.Dir(p), true
	}
	i := strings.LastIndex(rest, "/")
	switch {
	case i < 0:
		return "", false
	case i == 0: // file:///x
		return scheme + ":///", true
	}
	return scheme + "://" + rest[:i], true
}

// HasMeta reports whether p contains glob metacharacters.
func HasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// Resolve expands location into a sorted list of regular files:
//   - a glob (path.Match syntax, '*' does not cross '/') matches files by
//     listing the longest literal directory prefix;
//   - a directory yields all files below it for which keep returns true;
//   - a file yields itself (keep is not consulted).
//
// It fails with an error wrapping ErrNotExist if nothing matches.
func Resolve(ctx context.Context, fsys FS, location string, keep func(path string) bool) ([]FileInfo, error) {
	if !strings.Contains(location, "://") {
		location = path.Clean(location)
	}
	if HasMeta(location) {
		dir := location
		for HasMeta(dir) {
			parent, ok := parentDir(dir)
			if !ok {
				return nil, fmt.Errorf("location %q: a glob needs a directory or bucket without wildcards above it", location)
			}
			dir = parent
		}
		all, err := fsys.List(ctx, dir)
		if err != nil {
			return nil, err
		}
		var out []FileInfo
		for _, fi := range all {
			ok, err := path.Match(location, fi.Path)
			if err != nil {
				return nil, fmt.Errorf("location %q: bad glob: %w", location, err)
			}
			if ok {
				out = append(out, fi)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("location %q: no files match: %w", location, ErrNotExist)
		}
		return out, nil
	}
	fi, err := fsys.Stat(ctx, location)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir {
		return []FileInfo{fi}, nil
	}
	all, err := fsys.List(ctx, location)
	if err != nil {
		return nil, err
	}
	var out []FileInfo
	for _, fi := range all {
		if keep == nil || keep(fi.Path) {
			out = append(out, fi)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("location %q: directory has no matching files: %w", location, ErrNotExist)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
