package fs

import (
	"context"
	"fmt"
	"io"
)

// Writer is a file being written. Its methods are not safe for concurrent
// use. A Writer ends with Close or Abort. A failed Write leaves the
// Writer failed: Close then returns the error. When Close fails nothing
// is left of the file, as after Abort; Abort after Close does nothing.
type Writer interface {
	io.Writer
	// Close completes the file: when it returns nil the whole file is at
	// its path; before that nothing is visible there (a local file is
	// written under a hidden name and renamed, an object is one PUT or a
	// multipart upload completed by Close).
	Close() error
	// Abort discards the file: nothing is left of it (a local temporary
	// file is removed, a multipart upload is aborted, even when the
	// context given to Create has been cancelled). After Close it does
	// nothing.
	Abort() error
}

// WriteFS is a filesystem that can write. Writes never replace a file in
// place while readers may see half of it; whole-dataset atomicity is the
// job of the caller's commit protocol (connectors.WriteJob), not of the
// filesystem: nothing here renames directories.
type WriteFS interface {
	FS
	// Create starts a new file at path (parent directories are created as
	// needed). When Close succeeds the file replaces whatever was at
	// path. Requests run under ctx: cancelling it fails later writes, and
	// the caller must then Abort.
	Create(ctx context.Context, path string) (Writer, error)
	// Delete removes files; a missing file is not an error.
	Delete(ctx context.Context, paths []string) error
	// Sweep removes what writes left below dir whose base name satisfies
	// match: files, hidden ones included (temporary files of local
	// writes), and unfinished multipart uploads on object stores. It
	// reports how many it removed. A missing dir is not an error.
	Sweep(ctx context.Context, dir string, match func(name string) bool) (int, error)
}

// Writable returns fsys as a WriteFS, or an error naming location when it
// cannot write.
func Writable(fsys FS, location string) (WriteFS, error) {
	w, ok := fsys.(WriteFS)
	if !ok {
		return nil, fmt.Errorf("location %s: its filesystem cannot write files", location)
	}
	return w, nil
}

// BaseName is the last '/'-separated element of a location.
func BaseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
