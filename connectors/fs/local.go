package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Local is the local filesystem. Paths use '/' separators.
type Local struct{}

var (
	_ FS        = Local{}
	_ DirLister = Local{}
)

func localPath(p string) string { return strings.TrimPrefix(p, "file://") }

type localFile struct {
	*os.File
	size int64
	name string
}

func (f *localFile) Size() int64  { return f.size }
func (f *localFile) Name() string { return f.name }

// Open implements FS.
func (Local) Open(_ context.Context, p string) (File, error) {
	f, err := os.Open(localPath(p))
	if err != nil {
		return nil, wrapNotExist(p, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open %s: is a directory", p)
	}
	return &localFile{File: f, size: st.Size(), name: p}, nil
}

// Stat implements FS.
func (Local) Stat(_ context.Context, p string) (FileInfo, error) {
	st, err := os.Stat(localPath(p))
	if err != nil {
		return FileInfo{}, wrapNotExist(p, err)
	}
	return FileInfo{Path: p, Size: st.Size(), IsDir: st.IsDir(), ModTime: st.ModTime()}, nil
}

// List implements FS. Hidden files and directories (leading '.' or '_',
// as written by Spark/Hadoop: _SUCCESS, .crc) are skipped.
func (Local) List(ctx context.Context, dir string) ([]FileInfo, error) {
	root := localPath(dir)
	prefix := dir[:len(dir)-len(root)] // keep "file://" if it was given
	var out []FileInfo
	err := filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		name := d.Name()
		if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, FileInfo{Path: prefix + filepath.ToSlash(p), Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, wrapNotExist(dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// ListDir implements DirLister. Entries that are neither regular files
// nor directories (sockets, symlinks) are left out, as List does.
func (Local) ListDir(ctx context.Context, dir string) ([]FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(localPath(dir))
	if err != nil {
		return nil, wrapNotExist(dir, err)
	}
	out := make([]FileInfo, 0, len(entries))
	for _, e := range entries {
		p := JoinPath(dir, e.Name())
		switch {
		case e.IsDir():
			out = append(out, FileInfo{Path: p, IsDir: true})
		case e.Type().IsRegular():
			info, err := e.Info()
			if err != nil {
				if errors.Is(err, iofs.ErrNotExist) {
					continue // removed while listing
				}
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			out = append(out, FileInfo{Path: p, Size: info.Size(), ModTime: info.ModTime()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func wrapNotExist(p string, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	return fmt.Errorf("%s: %w", p, err)
}
