package connectors

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/flint-engine/flint/connectors/fs"
)

// FormatOfName tells a file's format from its name (.parquet/.parq/.pq,
// .csv/.tsv, .json/.ndjson/.jsonl, each optionally compressed .gz/.zst);
// "" when the name says nothing.
func FormatOfName(name string) Format {
	for _, f := range []Format{Parquet, CSV, JSON} {
		if hasFormatExt(f, name) && !strings.HasSuffix(strings.ToLower(name), ".txt") {
			return f
		}
	}
	return ""
}

// detectMaxDirs bounds the directories DetectFormat lists looking for a
// data file.
const detectMaxDirs = 64

// DetectFormat tells the format of a table location: by the name of a file
// or of a glob's last segment when that has a known extension, else by the
// first data file found listing the location (depth first, one directory
// level at a time, so a partitioned tree costs one listing per level).
func DetectFormat(ctx context.Context, location string) (Format, error) {
	if f := FormatOfName(location); f != "" {
		return f, nil
	}
	fail := func(err error) (Format, error) {
		msg := fmt.Sprintf("cannot tell the format of %s: name it with .parquet, .csv or .json, or give the format", location)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: %w", msg, err)
		}
		return "", errors.New(msg)
	}
	fsys, err := fs.For(location)
	if err != nil {
		return "", err
	}
	if fs.HasMeta(location) {
		// A glob: its first match decides (any format's files qualify,
		// as a glob names the files itself).
		l := &layout{hive: true, keep: func(string) bool { return true }}
		if l.root, l.pattern, err = splitGlob(location); err != nil {
			return "", err
		}
		files, _, err := l.walk(ctx, fsys, nil)
		if err != nil {
			return fail(err)
		}
		for _, f := range files {
			if ft := FormatOfName(f.Path); ft != "" {
				return ft, nil
			}
		}
		return fail(nil)
	}
	fi, err := fsys.Stat(ctx, location)
	if err != nil || !fi.IsDir {
		return fail(err)
	}
	dirs := []string{location}
	for listed := 0; len(dirs) > 0 && listed < detectMaxDirs; listed++ {
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		entries, err := fs.ReadDir(ctx, fsys, dir)
		if err != nil {
			return fail(err)
		}
		var subs []string
		for _, e := range entries {
			name := path.Base(e.Path)
			if hiddenName(name) {
				continue
			}
			if !e.IsDir {
				if f := FormatOfName(name); f != "" {
					return f, nil
				}
				continue
			}
			subs = append(subs, e.Path)
		}
		for i := len(subs) - 1; i >= 0; i-- { // first subdirectory on top
			dirs = append(dirs, subs[i])
		}
	}
	return fail(nil)
}
