package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors/fs"
)

// A table location is a file, a directory or a glob. layout knows how it
// maps onto data files and Hive partition columns, and lists it level by
// level: one fs.ReadDir per directory (a delimited LIST on object stores),
// so a folder whose key=value refutes the query's predicates is never
// listed, nor anything below it. Open lists everything once to learn the
// schema; Splits lists again with the predicates, so every query reads
// the files present (and committed) when it starts.

// listConcurrency bounds the directory listings (and Parquet footer reads)
// in flight at once.
const listConcurrency = 16

// partKey is one Hive partition column.
type partKey struct {
	name string
	typ  arrow.DataType
}

type layout struct {
	root    string   // where walks start: the directory, or a glob's literal directory part
	pattern []string // glob segments below root; nil for a directory or a file
	single  bool     // the location is one file (never listed again)
	hive    bool     // key=value folders below root are partition columns
	keep    func(path string) bool
	keys    []partKey // partition columns, outermost folder first
}

// listedFile is a data file with the key=value folders between the root
// and it (unescaped; a value may be HiveDefaultPartition or empty).
type listedFile struct {
	fs.FileInfo
	keys, vals []string
}

// prunePart decides during a walk whether the folder key=raw may hold
// matching rows; an error stops the walk.
type prunePart func(key, raw string) (bool, error)

// resolveLayout stats or globs location and walks it once, without
// pruning.
func resolveLayout(ctx context.Context, fsys fs.FS, format Format, location string, hive bool) (*layout, []listedFile, error) {
	if !strings.Contains(location, "://") {
		location = path.Clean(location)
	}
	l := &layout{hive: hive, keep: func(p string) bool { return hasFormatExt(format, p) }}
	if fs.HasMeta(location) {
		root, pattern, err := splitGlob(location)
		if err != nil {
			return nil, nil, err
		}
		l.root, l.pattern = root, pattern
	} else {
		fi, err := fsys.Stat(ctx, location)
		if err != nil {
			return nil, nil, err
		}
		l.root = location
		if !fi.IsDir {
			l.single = true
			return l, []listedFile{{FileInfo: fi}}, nil
		}
	}
	files, mf, err := l.walk(ctx, fsys, nil)
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		if l.pattern != nil {
			return nil, nil, fmt.Errorf("location %q: no files match: %w", location, fs.ErrNotExist)
		}
		return nil, nil, fmt.Errorf("location %q: directory has no matching files: %w", location, fs.ErrNotExist)
	}
	if err := l.learnKeys(files, mf); err != nil {
		return nil, nil, err
	}
	return l, files, nil
}

// splitGlob cuts a glob into the longest directory without wildcards and
// the segments below it.
func splitGlob(location string) (string, []string, error) {
	prefix, rest := "", location
	if scheme, r, ok := strings.Cut(location, "://"); ok {
		prefix, rest = scheme+"://", r
	}
	segs := strings.Split(rest, "/")
	first := 0
	for first < len(segs) && !fs.HasMeta(segs[first]) {
		first++
	}
	for _, s := range segs[first:] {
		if _, err := path.Match(s, ""); err != nil {
			return "", nil, fmt.Errorf("location %q: bad glob: %w", location, err)
		}
	}
	switch {
	case first == 0 && prefix != "":
		return "", nil, fmt.Errorf("location %q: a glob needs a directory or bucket without wildcards above it", location)
	case first == 0:
		return ".", segs, nil
	case first == 1 && segs[0] == "" && prefix == "":
		return "/", segs[1:], nil
	}
	return prefix + strings.Join(segs[:first], "/"), segs[first:], nil
}

// hiddenName reports names that listings skip: Hadoop/Spark markers and
// temporary files (_SUCCESS, _temporary, .crc, in-progress writes).
func hiddenName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// walkDir is a directory to list, with the partition folders above it.
type walkDir struct {
	path       string
	depth      int
	keys, vals []string
}

// walk lists the table's files level by level, skipping folders prune
// refutes. A directory holding a Flint manifest (ManifestName) yields the
// files the manifest lists instead of anything listed below it; the
// manifest found at the root, if any, is returned too.
func (l *layout) walk(ctx context.Context, fsys fs.FS, prune prunePart) ([]listedFile, *Manifest, error) {
	var out []listedFile
	var rootManifest *Manifest
	level := []walkDir{{path: l.root}}
	for len(level) > 0 {
		listed := make([][]fs.FileInfo, len(level))
		err := parallel(ctx, len(level), func(i int) error {
			var err error
			listed[i], err = fs.ReadDir(ctx, fsys, level[i].path)
			if err != nil && level[i].depth > 0 && errors.Is(err, fs.ErrNotExist) {
				err = nil // removed since its parent was listed
			}
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		var next []walkDir
		for i, d := range level {
			m, err := l.manifestIn(ctx, fsys, d.path, listed[i])
			if err != nil {
				return nil, nil, err
			}
			if m != nil {
				if d.depth == 0 {
					rootManifest = m
				}
				files, err := l.manifestFiles(d.path, m, prune)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, files...)
				continue
			}
			for _, e := range listed[i] {
				name := fs.BaseName(e.Path)
				if !l.wanted(d.depth, name, e.IsDir) {
					continue
				}
				if !e.IsDir {
					out = append(out, listedFile{FileInfo: e, keys: d.keys, vals: d.vals})
					continue
				}
				sub := walkDir{path: e.Path, depth: d.depth + 1, keys: d.keys, vals: d.vals}
				if k, v, ok := l.partSegment(name); ok {
					if prune != nil {
						keep, err := prune(k, v)
						if err != nil {
							return nil, nil, err
						}
						if !keep {
							continue
						}
					}
					sub.keys = append(append([]string(nil), d.keys...), k)
					sub.vals = append(append([]string(nil), d.vals...), v)
				}
				next = append(next, sub)
			}
		}
		level = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, rootManifest, nil
}

// wanted tells whether the entry name at depth (0 = directly in the root)
// belongs to the table: below a glob it must match that level's pattern
// (directories above the last segment, files at it); below a directory,
// any folder and the files of the table's format. Hidden names never do,
// unless the pattern spells them out.
func (l *layout) wanted(depth int, name string, isDir bool) bool {
	if l.pattern == nil {
		return !hiddenName(name) && (isDir || l.keep(name))
	}
	if depth >= len(l.pattern) {
		return false
	}
	pat := l.pattern[depth]
	if hiddenName(name) && !hiddenName(pat) {
		return false
	}
	if ok, _ := path.Match(pat, name); !ok {
		return false
	}
	return isDir == (depth < len(l.pattern)-1)
}

// manifestIn reads the Flint manifest of dir when its listing shows one.
func (l *layout) manifestIn(ctx context.Context, fsys fs.FS, dir string, entries []fs.FileInfo) (*Manifest, error) {
	for _, e := range entries {
		if !e.IsDir && fs.BaseName(e.Path) == ManifestName {
			return committedFiles(ctx, fsys, e)
		}
	}
	return nil, nil
}

// committedFiles is the hook through which a directory's _SUCCESS file
// limits what is read when Flint's commit protocol wrote it (manifest.go).
// nil means it is not a Flint manifest — Hadoop's and Spark's empty
// marker, or the JSON of another committer (S3A's has no "version") — and
// the directory is listed as usual; a Flint manifest that does not parse
// is an error.
func committedFiles(ctx context.Context, fsys fs.FS, marker fs.FileInfo) (*Manifest, error) {
	if marker.Size == 0 {
		return nil, nil
	}
	if marker.Size > maxManifestBytes {
		return nil, fmt.Errorf("manifest %s: %d bytes is more than the %d a manifest may have", marker.Path, marker.Size, maxManifestBytes)
	}
	f, err := fs.OpenSized(ctx, fsys, marker.Path, marker.Size)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	data := make([]byte, f.Size())
	if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("manifest %s: %w", marker.Path, err)
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if json.Unmarshal(data, &probe) != nil || probe.Version == nil {
		return nil, nil
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", marker.Path, err)
	}
	return m, nil
}

// manifestFiles returns the files m lists that belong to the table and
// survive prune. Sizes come from the manifest, so they are opened without
// asking the store.
func (l *layout) manifestFiles(dir string, m *Manifest, prune prunePart) ([]listedFile, error) {
	var out []listedFile
	for _, mf := range m.Files {
		p := JoinPath(dir, mf.Path)
		segs, ok := l.relSegments(p)
		if !ok || !l.matches(segs) {
			continue
		}
		lf := listedFile{FileInfo: fs.FileInfo{Path: p, Size: mf.Bytes}}
		keep := true
		for _, seg := range segs[:len(segs)-1] {
			k, v, ok := l.partSegment(seg)
			if !ok {
				continue
			}
			if prune != nil {
				var err error
				if keep, err = prune(k, v); err != nil {
					return nil, err
				}
				if !keep {
					break
				}
			}
			lf.keys, lf.vals = append(lf.keys, k), append(lf.vals, v)
		}
		if keep {
			out = append(out, lf)
		}
	}
	return out, nil
}

// relSegments splits p below the root into its path segments.
func (l *layout) relSegments(p string) ([]string, bool) {
	rel, ok := strings.CutPrefix(p, fs.JoinPath(l.root, ""))
	if !ok || rel == "" {
		return nil, false
	}
	return strings.Split(rel, "/"), true
}

// matches tells whether the file at segs (below the root) is one the
// walk would have kept.
func (l *layout) matches(segs []string) bool {
	if l.pattern != nil && len(segs) != len(l.pattern) {
		return false
	}
	for i, s := range segs {
		if !l.wanted(i, s, i < len(segs)-1) {
			return false
		}
	}
	return true
}

// partSegment parses a key=value folder name (Hive escaping undone, as
// EscapePartitionValue applies it).
func (l *layout) partSegment(name string) (key, val string, ok bool) {
	if !l.hive {
		return "", "", false
	}
	k, v, ok := strings.Cut(name, "=")
	if !ok || k == "" {
		return "", "", false
	}
	return UnescapePartitionValue(k), UnescapePartitionValue(v), true
}

// partsOf returns the partition folders of a file path (for files named by
// a split but not listed by this process).
func (l *layout) partsOf(p string) (keys, vals []string) {
	segs, ok := l.relSegments(p)
	if !ok {
		return nil, nil
	}
	for _, seg := range segs[:len(segs)-1] {
		if k, v, ok := l.partSegment(seg); ok {
			keys, vals = append(keys, k), append(vals, v)
		}
	}
	return keys, vals
}

// learnKeys checks that every file sits under the same partition keys and
// types them: by the root manifest's partition columns when it has them,
// else by inference over the folder values.
func (l *layout) learnKeys(files []listedFile, m *Manifest) error {
	if !l.hive || l.single {
		return nil
	}
	if err := checkKeys(files, files[0].keys); err != nil {
		return err
	}
	names := files[0].keys
	seen := map[string]bool{}
	for _, k := range names {
		if seen[k] {
			return fmt.Errorf("hive partitions under %s: key %q appears twice in %s", l.root, k, files[0].Path)
		}
		seen[k] = true
	}
	var declared *arrow.Schema
	if m != nil {
		sc, err := m.PartitionSchema()
		if err != nil {
			return fmt.Errorf("%s: %w", JoinPath(l.root, ManifestName), err)
		}
		declared = sc
	}
	l.keys = make([]partKey, len(names))
	for i, k := range names {
		if declared != nil {
			for _, f := range declared.Fields() {
				if strings.EqualFold(f.Name, k) {
					if _, err := partValueParser(f.Type); err == nil {
						l.keys[i] = partKey{name: k, typ: f.Type}
					}
					break
				}
			}
			if l.keys[i].typ != nil {
				continue
			}
		}
		vals := make([]string, len(files))
		for f := range files {
			vals[f] = files[f].vals[i]
		}
		l.keys[i] = partKey{name: k, typ: inferPartType(vals)}
	}
	return nil
}

// checkKeys reports the first file whose partition keys differ from want.
func checkKeys(files []listedFile, want []string) error {
	for _, f := range files {
		if !equalStrings(f.keys, want) {
			return fmt.Errorf("hive partitions: %s lies under partition keys %v, but other files under %v; "+
				"set option hive_partitioning 'false' to read the files without partition columns", f.Path, f.keys, want)
		}
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parallel runs fn(0..n-1) on up to listConcurrency goroutines and
// returns the first error (by index); it stops starting work once one
// fails or ctx is done.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	if n == 1 {
		return fn(0)
	}
	errs := make([]error, n)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		next   int
		failed bool
	)
	for w := 0; w < min(n, listConcurrency); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if failed || next >= n || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(i); err != nil {
					errs[i] = err
					mu.Lock()
					failed = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}
