package connectors

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flint-engine/flint/connectors/fs"
)

// cleanupTimeout bounds clean-up requests made after the context of a
// write has ended.
const cleanupTimeout = 30 * time.Second

// WriteJob is the driver's side of a dataset write: BeginWrite checks the
// target against the mode before any task runs; Commit publishes exactly
// the files of one successful attempt per task by writing the manifest
// last; Abort removes what a failed write left.
//
// The protocol needs no rename, so it works on object stores: task
// attempts write uniquely named files (their names carry the write ID,
// task and attempt) straight into the target; a file that is in no
// manifest is not part of the dataset, whatever lies in the directory.
// Commit deletes the files of other attempts (failed, duplicate or stale)
// and aborts their unfinished uploads before it writes the manifest, best
// effort: a straggler that writes after the sweep leaves a file nobody
// reads. In overwrite mode the old dataset's files are deleted only after
// the new manifest is in place, so readers always find a complete
// dataset.
//
// Two writes to one target at the same time are not isolated from each
// other: the last manifest wins.
type WriteJob struct {
	Spec WriteSpec
	Job  string

	fsys fs.WriteFS
	// old is the target's manifest before the write (nil: none).
	old *Manifest
	// oldFiles are the visible files of a target that had no manifest,
	// relative to the target.
	oldFiles []fs.FileInfo

	// CleanupErr records failures of the deletions Commit makes after the
	// manifest is written (old files of an overwrite); the write itself
	// succeeded.
	CleanupErr error
}

// BeginWrite checks spec and the target for a write named job: mode error
// fails when the target holds a manifest or any visible file; append
// needs the same format and partition columns as an existing manifest.
func BeginWrite(ctx context.Context, spec WriteSpec, job string) (*WriteJob, error) {
	j, fsys, err := newWriteJob(spec, job)
	if err != nil {
		return nil, err
	}
	spec = j.Spec
	if j.old, err = ReadManifest(ctx, fsys, spec.Location); err != nil {
		return nil, fmt.Errorf("write %s: reading the existing dataset: %w", spec.Location, err)
	}
	var listed []fs.FileInfo
	st, err := fsys.Stat(ctx, spec.Location)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("write %s: %w", spec.Location, err)
	case !st.IsDir:
		return nil, fmt.Errorf("write %s: the target is a file; a write needs a directory", spec.Location)
	default:
		if listed, err = fsys.List(ctx, spec.Location); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("write %s: %w", spec.Location, err)
		}
	}
	switch spec.Mode {
	case ModeError:
		if j.old != nil || len(listed) > 0 {
			return nil, fmt.Errorf("write %s: the target already holds data (%s); use mode overwrite or append", spec.Location, describeData(j.old, listed))
		}
	case ModeAppend:
		if j.old != nil {
			if j.old.Format != spec.Format {
				return nil, fmt.Errorf("write %s: cannot append %s files to a %s dataset", spec.Location, spec.Format, j.old.Format)
			}
			if !samePartitioning(j.old.PartitionBy, spec.PartitionBy) {
				return nil, fmt.Errorf("write %s: cannot append with partition columns %s to a dataset partitioned by %s",
					spec.Location, partitionNames(spec.PartitionBy), partitionNames(j.old.PartitionBy))
			}
		}
	}
	if j.old == nil {
		// A dataset without a manifest is its data files; other files
		// (notes, checksums) are neither adopted nor deleted.
		for _, fi := range listed {
			rel, ok := relativeTo(spec.Location, fi.Path)
			if !ok {
				return nil, fmt.Errorf("internal error: listing %s returned %s", spec.Location, fi.Path)
			}
			if !hasFormatExt(Parquet, rel) && !hasFormatExt(CSV, rel) && !hasFormatExt(JSON, rel) {
				continue
			}
			fi.Path = rel
			j.oldFiles = append(j.oldFiles, fi)
		}
	}
	return j, nil
}

func describeData(m *Manifest, listed []fs.FileInfo) string {
	if m != nil {
		return fmt.Sprintf("a Flint manifest listing %d files", len(m.Files))
	}
	return fmt.Sprintf("%d files, e.g. %s", len(listed), listed[0].Path)
}

func samePartitioning(a, b []PartitionColumn) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalFoldASCII(a[i].Name, b[i].Name) {
			return false
		}
	}
	return true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func partitionNames(cs []PartitionColumn) string {
	if len(cs) == 0 {
		return "(none)"
	}
	s := "("
	for i, c := range cs {
		if i > 0 {
			s += ", "
		}
		s += c.Name
	}
	return s + ")"
}

// cleanLocation cleans a local path ("./out/" is "out"); other
// locations are kept as given.
func cleanLocation(loc string) string {
	if strings.Contains(loc, "://") || loc == "" {
		return loc
	}
	return filepath.ToSlash(filepath.Clean(loc))
}

// relativeTo returns p relative to dir, if p is below dir.
func relativeTo(dir, p string) (string, bool) {
	prefix := JoinPath(dir, "")
	if len(prefix) == 0 || prefix[len(prefix)-1] != '/' {
		prefix += "/"
	}
	if len(p) <= len(prefix) || p[:len(prefix)] != prefix {
		return "", false
	}
	return p[len(prefix):], true
}

// Commit publishes the chosen attempt of every task: files are the
// WrittenFiles of those attempts (one slice per task). It sweeps every
// other file and upload of this write, writes the manifest, and in
// overwrite mode then deletes the old dataset's files. An error means the
// write is not committed (the old manifest, if any, still stands); call
// Abort then.
func (j *WriteJob) Commit(ctx context.Context, files [][]WrittenFile) (*Manifest, error) {
	loc := j.Spec.Location
	m := &Manifest{Version: ManifestVersion, Format: j.Spec.Format, WrittenAt: time.Now().UTC(), Job: j.Job,
		PartitionBy: j.Spec.PartitionBy, Files: []ManifestFile{}}
	keep := map[string]bool{}
	var newFiles []ManifestFile
	for _, task := range files {
		for _, f := range task {
			if err := checkRelPath(f.Path); err != nil {
				return nil, fmt.Errorf("write %s: a task reported a bad file: %w", loc, err)
			}
			if !j.Spec.ownsName(fs.BaseName(f.Path)) {
				return nil, fmt.Errorf("write %s: a task reported file %s, which this write did not create", loc, f.Path)
			}
			if keep[f.Path] {
				return nil, fmt.Errorf("write %s: file %s reported twice", loc, f.Path)
			}
			keep[f.Path] = true
			newFiles = append(newFiles, ManifestFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes})
		}
	}
	sort.Slice(newFiles, func(a, b int) bool { return newFiles[a].Path < newFiles[b].Path })
	keepNames := map[string]bool{}
	for p := range keep {
		keepNames[fs.BaseName(p)] = true
	}
	if _, err := j.fsys.Sweep(ctx, loc, func(name string) bool {
		return j.Spec.ownsName(name) && !keepNames[name]
	}); err != nil {
		// Not fatal: unlisted leftovers are not part of the dataset.
		j.CleanupErr = errors.Join(j.CleanupErr, err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("write %s: %w", loc, ctx.Err())
	}

	if j.Spec.Mode == ModeAppend {
		if j.old != nil {
			m.Files = append(m.Files, j.old.Files...)
		} else {
			for _, fi := range j.oldFiles {
				m.Files = append(m.Files, ManifestFile{Path: fi.Path, Rows: -1, Bytes: fi.Size})
			}
		}
	}
	for _, f := range m.Files {
		if keep[f.Path] {
			return nil, fmt.Errorf("write %s: new file %s is already in the dataset", loc, f.Path)
		}
	}
	m.Files = append(m.Files, newFiles...)
	for _, f := range m.Files {
		if f.Rows > 0 {
			m.Rows += f.Rows
		}
	}
	data, err := m.encode()
	if err != nil {
		return nil, err
	}
	mw, err := j.fsys.Create(ctx, JoinPath(loc, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("write %s: manifest: %w", loc, err)
	}
	if _, err := mw.Write(data); err != nil {
		mw.Abort()
		return nil, fmt.Errorf("write %s: manifest: %w", loc, err)
	}
	if err := mw.Close(); err != nil && !j.landed(ctx, m) {
		return nil, fmt.Errorf("write %s: manifest: %w", loc, err)
	}

	if j.Spec.Mode == ModeOverwrite {
		var stale []string
		if j.old != nil {
			for _, f := range j.old.Files {
				if !keep[f.Path] {
					stale = append(stale, JoinPath(loc, f.Path))
				}
			}
		} else {
			for _, fi := range j.oldFiles {
				stale = append(stale, JoinPath(loc, fi.Path))
			}
		}
		if len(stale) > 0 {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			if err := j.fsys.Delete(dctx, stale); err != nil {
				j.CleanupErr = errors.Join(j.CleanupErr, fmt.Errorf("deleting the overwritten files: %w", err))
			}
			cancel()
		}
	}
	return m, nil
}

// landed reports whether the manifest a failed Close was writing is in
// place after all (a PUT can fail on the client's side after the store
// took it): then the write is committed and must not be aborted.
func (j *WriteJob) landed(ctx context.Context, m *Manifest) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	got, err := ReadManifest(ctx, j.fsys, j.Spec.Location)
	return err == nil && got != nil && got.Job == m.Job && got.WrittenAt.Equal(m.WrittenAt) && len(got.Files) == len(m.Files)
}

// Discard deletes the files of an attempt that will not be committed (a
// duplicate or stale attempt), best effort. Files this write did not
// create are refused.
func (j *WriteJob) Discard(ctx context.Context, files []WrittenFile) error {
	var paths []string
	for _, f := range files {
		if checkRelPath(f.Path) != nil || !j.Spec.ownsName(fs.BaseName(f.Path)) {
			return fmt.Errorf("write %s: refusing to discard %q, which this write did not create", j.Spec.Location, f.Path)
		}
		paths = append(paths, JoinPath(j.Spec.Location, f.Path))
	}
	return j.fsys.Delete(ctx, paths)
}

// Abort removes every file and unfinished upload of this write (best
// effort, on a context of its own when ctx has ended). The target's old
// dataset, if any, is untouched.
func (j *WriteJob) Abort(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := j.fsys.Sweep(ctx, j.Spec.Location, j.Spec.ownsName)
	if err != nil {
		return fmt.Errorf("write %s: cleaning up after the failed write: %w", j.Spec.Location, err)
	}
	return nil
}

// WriteBegun is what BeginWrite found at the target, all a commit needs
// besides the spec: a write begun by one process (a cluster driver) can be
// committed or aborted by another (its successor) with ResumeWrite.
type WriteBegun struct {
	Old      *Manifest     `json:"old,omitempty"`
	OldFiles []fs.FileInfo `json:"old_files,omitempty"`
}

// Begun is what BeginWrite found at the target.
func (j *WriteJob) Begun() WriteBegun { return WriteBegun{Old: j.old, OldFiles: j.oldFiles} }

// ResumeWrite is the WriteJob of a write begun elsewhere: the target is
// not checked again (this write's own files may be there by now).
func ResumeWrite(spec WriteSpec, job string, b WriteBegun) (*WriteJob, error) {
	j, _, err := newWriteJob(spec, job)
	if err != nil {
		return nil, err
	}
	j.old, j.oldFiles = b.Old, b.OldFiles
	return j, nil
}

// newWriteJob checks spec (mode error by default, location cleaned) and
// opens its target's file system for writing; it returns the job and the
// file system it reads the target through.
func newWriteJob(spec WriteSpec, job string) (*WriteJob, fs.FS, error) {
	if spec.Mode == "" {
		spec.Mode = ModeError
	}
	spec.Location = cleanLocation(spec.Location)
	if err := spec.Check(); err != nil {
		return nil, nil, err
	}
	fsys, err := fs.For(spec.Location)
	if err != nil {
		return nil, nil, err
	}
	wfs, err := fs.Writable(fsys, spec.Location)
	if err != nil {
		return nil, nil, err
	}
	return &WriteJob{Spec: spec, Job: job, fsys: wfs}, fsys, nil
}

// Landed reports whether the target's manifest is this write's: its
// commit is done, whoever made it.
func (j *WriteJob) Landed(ctx context.Context) (bool, error) {
	m, err := ReadManifest(ctx, j.fsys, j.Spec.Location)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", j.Spec.Location, err)
	}
	return m != nil && m.Job == j.Job, nil
}
