package fs

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
)

var _ WriteFS = Local{}

// localBufferSize is the write buffer of a local file.
const localBufferSize = 1 << 20

// inProgressSuffix marks the hidden temporary name a local file has while
// it is written: "." + base name + inProgressSuffix + random.
const inProgressSuffix = ".inprogress-"

// Create implements WriteFS: the file is written as a hidden sibling
// (skipped by List) and renamed to path by Close, after an fsync.
func (Local) Create(ctx context.Context, p string) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	final := localPath(p)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(final)+inProgressSuffix+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	return &localWriter{ctx: ctx, name: p, final: final, tmp: tmp, f: f, buf: bufio.NewWriterSize(f, localBufferSize)}, nil
}

type localWriter struct {
	ctx              context.Context
	name, final, tmp string
	f                *os.File
	buf              *bufio.Writer
	closed, aborted  bool
	err              error
}

func (w *localWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed || w.aborted {
		return 0, fmt.Errorf("write %s: file already closed", w.name)
	}
	if err := w.ctx.Err(); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name, err)
		return 0, w.err
	}
	n, err := w.buf.Write(p)
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name, err)
	}
	return n, w.err
}

func (w *localWriter) Close() error {
	if w.closed {
		return nil
	}
	if w.err != nil {
		w.discard()
		return w.err
	}
	if w.aborted {
		return fmt.Errorf("close %s: the write was aborted", w.name)
	}
	fail := func(err error) error {
		w.err = fmt.Errorf("close %s: %w", w.name, err)
		w.discard()
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return fail(err)
	}
	if err := w.buf.Flush(); err != nil {
		return fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return fail(err)
	}
	if err := w.f.Close(); err != nil {
		w.f = nil
		return fail(err)
	}
	w.f = nil
	if err := os.Rename(w.tmp, w.final); err != nil {
		return fail(err)
	}
	w.closed = true
	return nil
}

func (w *localWriter) Abort() error {
	if w.closed || w.aborted {
		return nil
	}
	return w.discard()
}

// discard closes and removes the temporary file.
func (w *localWriter) discard() error {
	w.aborted = true
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if err := os.Remove(w.tmp); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("abort %s: %w", w.name, err)
	}
	return nil
}

// Delete implements WriteFS.
func (Local) Delete(ctx context.Context, paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.Remove(localPath(p)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// Sweep implements WriteFS: it walks dir, hidden entries included, and
// removes the regular files whose names match.
func (Local) Sweep(ctx context.Context, dir string, match func(name string) bool) (int, error) {
	root := localPath(dir)
	removed := 0
	var errs []error
	err := filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if d.IsDir() || !d.Type().IsRegular() || !match(d.Name()) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("sweep %s: %w", p, err))
			return nil
		}
		removed++
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("sweep %s: %w", dir, err))
	}
	return removed, errors.Join(errs...)
}
