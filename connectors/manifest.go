package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors/fs"
)

// ManifestName is the file a committed Flint write leaves in its target
// directory. It is written last: a directory without it holds no
// committed Flint dataset (an empty _SUCCESS is Hadoop's and Spark's
// marker, which lists nothing).
const ManifestName = "_SUCCESS"

// ManifestVersion is the manifest format this package writes and reads.
const ManifestVersion = 1

// Manifest is the content of a Flint dataset's _SUCCESS file, JSON:
//
//	{"version": 1, "format": "parquet",
//	 "files": [{"path": "l_returnflag=A/part-00000-0-3f2a…-9c1d….parquet", "rows": 1234, "bytes": 56789}, …],
//	 "rows": 60175, "written_at": "2025-01-02T03:04:05.123Z", "job": "…",
//	 "partition_by": [{"name": "l_returnflag", "type": "VARCHAR"}]}
//
// A reader of a directory with a manifest reads exactly the files it lists
// and nothing else: files of failed, duplicate or concurrent attempts may
// lie beside them. Paths are relative to the dataset directory and
// '/'-separated; partitioned datasets put each file under one
// key=value/ folder per partition column (in PartitionBy order; values
// escaped as Hive does, NULL as __HIVE_DEFAULT_PARTITION__), and the files
// themselves do not hold the partition columns.
type Manifest struct {
	Version int            `json:"version"`
	Format  Format         `json:"format"`
	Files   []ManifestFile `json:"files"`
	// Rows is the sum of the files' known row counts.
	Rows      int64     `json:"rows"`
	WrittenAt time.Time `json:"written_at"`
	// Job names the write that committed the manifest (a cluster job ID,
	// or the write ID of a local write).
	Job string `json:"job"`
	// PartitionBy lists the partition columns, outermost folder first;
	// empty for an unpartitioned dataset.
	PartitionBy []PartitionColumn `json:"partition_by,omitempty"`
}

// ManifestFile is one data file of a dataset.
type ManifestFile struct {
	// Path is relative to the dataset directory, '/'-separated.
	Path string `json:"path"`
	// Rows is the file's row count; -1 when unknown (a file adopted by an
	// append from a directory that had no manifest).
	Rows  int64 `json:"rows"`
	Bytes int64 `json:"bytes"`
}

// PartitionColumn is a partition column and its SQL type name as
// ParseSchema reads it (e.g. "INTEGER", "DECIMAL(15,2)", "DATE",
// "VARCHAR").
type PartitionColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// PartitionSchema returns the partition columns as an Arrow schema (all
// nullable), nil when the dataset is not partitioned.
func (m *Manifest) PartitionSchema() (*arrow.Schema, error) {
	if len(m.PartitionBy) == 0 {
		return nil, nil
	}
	defs := make([]string, len(m.PartitionBy))
	for i, c := range m.PartitionBy {
		defs[i] = quoteColumnName(c.Name) + " " + c.Type
	}
	s, err := ParseSchema(strings.Join(defs, ", "))
	if err != nil {
		return nil, fmt.Errorf("manifest partition columns: %w", err)
	}
	return s, nil
}

func quoteColumnName(n string) string { return `"` + strings.ReplaceAll(n, `"`, `""`) + `"` }

// Paths returns the full location of every listed file under dir (the
// directory the manifest was read from), in manifest order.
func (m *Manifest) Paths(dir string) []string {
	out := make([]string, len(m.Files))
	for i, f := range m.Files {
		out[i] = JoinPath(dir, f.Path)
	}
	return out
}

// FilesOf returns the listed files that the write with the given write
// ID created (an append's manifest also lists older files).
func (m *Manifest) FilesOf(writeID string) []ManifestFile {
	spec := WriteSpec{WriteID: writeID}
	var out []ManifestFile
	for _, f := range m.Files {
		if spec.ownsName(fs.BaseName(f.Path)) {
			out = append(out, f)
		}
	}
	return out
}

// JoinPath joins a directory location ("s3://b/x", "/tmp/x", "file:///x",
// with or without a trailing '/') and a '/'-separated relative path.
func JoinPath(dir, rel string) string {
	if rel == "" {
		return dir
	}
	return strings.TrimSuffix(dir, "/") + "/" + rel
}

// ReadManifest reads the manifest of the dataset in directory dir. It
// returns nil and no error when dir holds none (no _SUCCESS, or an empty
// Hadoop/Spark marker); an error when the manifest exists but cannot be
// read, is not valid JSON, or has a version or content this package does
// not understand.
func ReadManifest(ctx context.Context, fsys fs.FS, dir string) (*Manifest, error) {
	p := JoinPath(dir, ManifestName)
	f, err := fsys.Open(ctx, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("manifest %s: %w", p, err)
	}
	defer f.Close()
	if f.Size() == 0 {
		return nil, nil
	}
	if f.Size() > maxManifestBytes {
		return nil, fmt.Errorf("manifest %s: %d bytes is more than the %d a manifest may have", p, f.Size(), maxManifestBytes)
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", p, err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", p, err)
	}
	return m, nil
}

// maxManifestBytes bounds the manifests ReadManifest accepts (a million
// files is ~150 MB of JSON).
const maxManifestBytes = 1 << 30

// ParseManifest decodes and checks a manifest's JSON (ReadManifest without
// the I/O). Empty input is an error here.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty manifest")
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a Flint manifest: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) check() error {
	switch {
	case m.Version == 0:
		return errors.New("not a Flint manifest: no version")
	case m.Version > ManifestVersion:
		return fmt.Errorf("manifest version %d is newer than this Flint understands (%d)", m.Version, ManifestVersion)
	case m.Version < 0:
		return fmt.Errorf("bad manifest version %d", m.Version)
	}
	switch m.Format {
	case Parquet, CSV, JSON:
	default:
		return fmt.Errorf("manifest: unknown format %q", m.Format)
	}
	seen := make(map[string]bool, len(m.Files))
	for i, f := range m.Files {
		if err := checkRelPath(f.Path); err != nil {
			return fmt.Errorf("manifest file %d: %w", i, err)
		}
		if seen[f.Path] {
			return fmt.Errorf("manifest lists %s twice", f.Path)
		}
		seen[f.Path] = true
		if f.Rows < -1 || f.Bytes < 0 {
			return fmt.Errorf("manifest file %s: bad rows %d or bytes %d", f.Path, f.Rows, f.Bytes)
		}
	}
	for i, c := range m.PartitionBy {
		if c.Name == "" || c.Type == "" {
			return fmt.Errorf("manifest partition column %d: missing name or type", i)
		}
	}
	return nil
}

// checkRelPath accepts a clean relative '/'-separated path inside the
// dataset directory.
func checkRelPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.HasPrefix(p, "/"), strings.Contains(p, "://"), strings.Contains(p, `\`):
		return fmt.Errorf("path %q is not relative to the dataset directory", p)
	case path.Clean(p) != p, p == ".", p == "..", strings.HasPrefix(p, "../"):
		return fmt.Errorf("path %q is not a clean path inside the dataset directory", p)
	}
	return nil
}

// encode renders m as the manifest file's content.
func (m *Manifest) encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("internal error: %w", err)
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
