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
