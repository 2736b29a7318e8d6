package connectors

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/flint-engine/flint/connectors/fs"
)

// WriteMode says what a write does when its target already holds data.
type WriteMode string

// Write modes.
const (
	// ModeError fails the write if the target holds a manifest or any
	// (visible) file.
	ModeError WriteMode = "error"
	// ModeOverwrite replaces the dataset: the new manifest replaces the
	// old one, then the old dataset's files are deleted.
	ModeOverwrite WriteMode = "overwrite"
	// ModeAppend adds files: the new manifest lists the old files and
	// the new ones.
	ModeAppend WriteMode = "append"
)

// ParseWriteMode accepts error (also errorifexists), overwrite and append,
// in any case.
func ParseWriteMode(s string) (WriteMode, error) {
	switch strings.ToLower(s) {
	case "error", "errorifexists", "error_if_exists":
		return ModeError, nil
	case "overwrite":
		return ModeOverwrite, nil
	case "append":
		return ModeAppend, nil
	}
	return "", fmt.Errorf("unknown write mode %q (want error, overwrite or append)", s)
}

// HiveDefaultPartition is the folder value of a NULL (or empty string)
// partition value, as Hive and Spark write it.
const HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// WriteSpec describes a dataset write. It is plain data: the driver
// plans it and executors write their tasks' files from it.
type WriteSpec struct {
	Format Format
	// Location is the dataset directory (local path, file:// or s3://).
	Location string
	// Mode matters only to the committing driver (WriteJob).
	Mode WriteMode
	// PartitionBy are the partition columns (names as in the written
	// rows, outermost folder first) with their SQL types.
	PartitionBy []PartitionColumn
	// Options are the format options (ParseWriteOptions).
	Options map[string]string
	// WriteID is unique per write; every file the write creates carries
	// it in its name, which is how leftovers of failed attempts are
	// found and swept.
	WriteID string
}

// NewWriteID returns a fresh random write ID.
func NewWriteID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Check validates the spec (format, options, location, write ID).
func (s *WriteSpec) Check() error {
	if _, err := ParseWriteOptions(s.Format, s.Options); err != nil {
		return fmt.Errorf("write %s: %w", s.Location, err)
	}
	switch {
	case s.Location == "":
		return errors.New("write: no target location")
	case fs.HasMeta(s.Location):
		return fmt.Errorf("write %s: the target must be a directory, not a glob", s.Location)
	case s.WriteID == "" || strings.ContainsAny(s.WriteID, "/-_. "):
		return fmt.Errorf("write %s: bad write ID %q", s.Location, s.WriteID)
	}
	switch s.Mode {
	case ModeError, ModeOverwrite, ModeAppend, "":
	default:
		return fmt.Errorf("write %s: unknown mode %q", s.Location, s.Mode)
	}
	seen := map[string]bool{}
	for _, c := range s.PartitionBy {
		k := strings.ToLower(c.Name)
		if c.Name == "" || seen[k] {
			return fmt.Errorf("write %s: partition column %q is empty or repeated", s.Location, c.Name)
		}
		seen[k] = true
	}
	return nil
}

// ownsName reports whether a file base name was created by this write.
func (s *WriteSpec) ownsName(name string) bool {
	return strings.Contains(name, "-"+s.WriteID+"-")
}

// WrittenFile is one complete file a task attempt wrote.
type WrittenFile struct {
	// Path is relative to the dataset directory, '/'-separated.
	Path  string
	Rows  int64
	Bytes int64
}

// WriteEvent is what a write hook sees (tests inject failures with it).
type WriteEvent struct {
	WriteID       string
	Task, Attempt int
	// Point is "batch" after a batch went into a file (an upload may be
	// mid-way), or "file" after a file was completed.
	Point string
	Path  string // relative path of the file
	Rows  int64  // rows in the file so far
	Bytes int64  // bytes handed to the file's writer so far
}

var writeHook atomic.Pointer[func(WriteEvent) error]

// SetWriteHook installs a function called at every WriteEvent of every
// task write in the process; an error it returns fails the attempt there.
// It is for fault-injection tests. It returns a function restoring the
// previous hook.
func SetWriteHook(h func(WriteEvent) error) (restore func()) {
	old := writeHook.Swap(&h)
	return func() { writeHook.Store(old) }
}

func callHook(ev WriteEvent) error {
	if h := writeHook.Load(); h != nil && *h != nil {
		return (*h)(ev)
	}
	return nil
}

// TaskWriter writes the rows of one task attempt into files of a dataset:
// one file per partition folder (more when max_open_files forces a file
// to be finished early), named part-<task>-<attempt>-<write ID>-<random>
// with the format's extension. Files are streamed: each batch is encoded
// and handed to storage as it comes. A TaskWriter is not safe for
// concurrent use.
type TaskWriter struct {
	spec          WriteSpec
	opts          WriteOptions
	fsys          fs.WriteFS
	task, attempt int
	// schema is the rows' schema; dataCols the columns that go into the
	// files (all but the partition columns), dataSchema theirs.
	schema     *arrow.Schema
	partCols   []int
	dataCols   []int
	dataSchema *arrow.Schema

	open     map[string]*openFile // by partition folder ("" unpartitioned)
	tick     int64
	finished []WrittenFile
	failed   bool
}

type openFile struct {
	rel   string
	w     fs.Writer
	count *countingWriter
	bw    BatchWriter
	rows  int64
	used  int64 // tick of the last write, for closing the least recent
}

// countingWriter is the sink of a file's encoder: it counts the bytes
// written and keeps the first write error (a cancelled context, a full
// disk), dropping later writes, while telling the encoder every write
// succeeded. pqarrow's writer keeps its buffers when its sink fails half
// way through a flush or Close, so an encoder must always be able to
// finish; the error is reported by the TaskWriter right after.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return len(p), nil
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	c.err = err
	return len(p), nil
}

// NewTaskWriter prepares the writer of one attempt. schema is the schema
// of the batches Write gets; the spec's partition columns must be among
// its fields (matched case-insensitively).
func NewTaskWriter(spec WriteSpec, schema *arrow.Schema, task, attempt int) (*TaskWriter, error) {
	spec.Location = cleanLocation(spec.Location)
	if err := spec.Check(); err != nil {
		return nil, err
	}
	opts, _ := ParseWriteOptions(spec.Format, spec.Options)
	fsys, err := fs.For(spec.Location)
	if err != nil {
		return nil, err
	}
	wfs, err := fs.Writable(fsys, spec.Location)
	if err != nil {
		return nil, err
	}
	spec.PartitionBy = append([]PartitionColumn(nil), spec.PartitionBy...)
	tw := &TaskWriter{spec: spec, opts: opts, fsys: wfs, task: task, attempt: attempt, schema: schema, open: map[string]*openFile{}}
	isPart := map[int]bool{}
	for _, pc := range spec.PartitionBy {
		idx := -1
		for i, f := range schema.Fields() {
			if strings.EqualFold(f.Name, pc.Name) {
				if idx >= 0 {
					return nil, fmt.Errorf("write %s: partition column %s is ambiguous", spec.Location, pc.Name)
				}
				idx = i
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("write %s: partition column %s is not in the output", spec.Location, pc.Name)
		}
		if !Partitionable(schema.Field(idx).Type) {
			return nil, fmt.Errorf("write %s: cannot partition by column %s of type %s", spec.Location, pc.Name, schema.Field(idx).Type)
		}
		spec.PartitionBy[len(tw.partCols)].Name = schema.Field(idx).Name
		tw.partCols = append(tw.partCols, idx)
		isPart[idx] = true
	}
	var fields []arrow.Field
	for i, f := range schema.Fields() {
		if !isPart[i] {
			tw.dataCols = append(tw.dataCols, i)
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("write %s: every column is a partition column; no data would remain in the files", spec.Location)
	}
	tw.dataSchema = arrow.NewSchema(fields, nil)
	return tw, nil
}

// Partitionable reports whether a column of type dt can be a partition
// column (scalar types whose values render as folder names).
func Partitionable(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DATE32, arrow.TIMESTAMP:
		return true
	}
	return false
}

// Write writes the rows of b (which the caller keeps owning).
func (w *TaskWriter) Write(ctx context.Context, b arrow.RecordBatch) error {
	if w.failed {
		return errors.New("internal error: write after a failed write")
	}
	if err := w.write(ctx, b); err != nil {
		w.failed = true
		return err
	}
	return nil
}

func (w *TaskWriter) write(ctx context.Context, b arrow.RecordBatch) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	if int(b.NumCols()) != w.schema.NumFields() {
		return fmt.Errorf("internal error: write %s: batch has %d columns, schema %d", w.spec.Location, b.NumCols(), w.schema.NumFields())
	}
	if len(w.partCols) == 0 {
		return w.writeTo(ctx, "", b, nil)
	}
	order, groups := w.partitionGroups(b)
	if len(order) == 1 {
		return w.writeTo(ctx, order[0], b, nil)
	}
	for i, f := range order {
		if err := w.writeTo(ctx, f, b, groups[i]); err != nil {
			return err
		}
	}
	return nil
}

// partitionGroups returns the partition folders of b's rows, in order of
// first appearance, and the rows of each, in order. A value's folder
// segment is formatted once per batch, not per row: rows are told apart
// by their raw values (fixed-width bits or string bytes).
func (w *TaskWriter) partitionGroups(b arrow.RecordBatch) ([]string, [][]int32) {
	var row []int32      // each row's folder so far, numbered in order of appearance
	var folders []string // the folders so far
	for k, c := range w.partCols {
		ids, vals := valueIDs(b.Column(c))
		seg := EscapePartitionValue(w.spec.PartitionBy[k].Name) + "="
		if k == 0 {
			row, folders = ids, vals
			for i := range folders {
				folders[i] = seg + folders[i]
			}
			continue
		}
		pair := map[[2]int32]int32{}
		var next []string
		for r, id := range ids {
			p := [2]int32{row[r], id}
			f, ok := pair[p]
			if !ok {
				f = int32(len(next))
				pair[p] = f
				next = append(next, folders[row[r]]+"/"+seg+vals[id])
			}
			row[r] = f
		}
		folders = next
	}
	groups := make([][]int32, len(folders))
	for r, f := range row {
		groups[f] = append(groups[f], int32(r))
	}
	return folders, groups
}

// valueIDs numbers col's distinct values in order of first appearance:
// ids[r] is row r's, vals[id] its partition folder value (escaped).
func valueIDs(col arrow.Array) (ids []int32, vals []string) {
	n := col.Len()
	ids = make([]int32, n)
	nullID := int32(-1)
	byValue := map[string]int32{} // values that format alike share a folder
	add := func(r int) int32 {
		v := partitionValue(col, r)
		if id, ok := byValue[v]; ok {
			return id
		}
		vals = append(vals, strings.Clone(v))
		byValue[v] = int32(len(vals) - 1)
		return int32(len(vals) - 1)
	}
	fw, fixed := col.DataType().(arrow.FixedWidthDataType)
	width := 0
	if fixed && col.DataType().ID() != arrow.BOOL && fw.BitWidth() <= 64 && fw.BitWidth()%8 == 0 {
		width = fw.BitWidth() / 8
	}
	var data []byte // the fixed-width values, when they are read as bits
	if bufs := col.Data().Buffers(); width > 0 && len(bufs) > 1 && bufs[1] != nil {
		data = bufs[1].Bytes()[col.Data().Offset()*width:]
	}
	str, _ := col.(*array.String)
	byBits, byText := map[uint64]int32{}, map[string]int32{}
	for r := range ids {
		var id int32
		var ok bool
		switch {
		case col.IsNull(r):
			if nullID < 0 {
				nullID = add(r)
			}
			id = nullID
		case data != nil:
			var v uint64
			for i := range width {
				v |= uint64(data[r*width+i]) << (8 * i)
			}
			if id, ok = byBits[v]; !ok {
				id = add(r)
				byBits[v] = id
			}
		default:
			// Other types by their formatted value; strings by their bytes.
			var k string
			if str != nil {
				k = str.Value(r)
			} else {
				k = partitionValue(col, r)
			}
			if id, ok = byText[k]; !ok {
				id = add(r)
				byText[strings.Clone(k)] = id
			}
		}
		ids[r] = id
	}
	return ids, vals
}

// writeTo writes rows (nil: all) of b's data columns into the open file
// of folder.
func (w *TaskWriter) writeTo(ctx context.Context, folder string, b arrow.RecordBatch, rows []int32) error {
	f, err := w.file(ctx, folder)
	if err != nil {
		return err
	}
	cols := make([]arrow.Array, len(w.dataCols))
	n := b.NumRows()
	for i, c := range w.dataCols {
		if rows == nil {
			cols[i] = b.Column(c)
			cols[i].Retain()
			continue
		}
		idx := array.NewInt32Builder(compute.GetAllocator(ctx))
		idx.AppendValues(rows, nil)
		ia := idx.NewArray()
		idx.Release()
		out, err := takeArray(ctx, b.Column(c), ia)
		ia.Release()
		if err != nil {
			releaseArrays(cols[:i])
			return fmt.Errorf("write %s: selecting the rows of %s: %w", w.spec.Location, folder, err)
		}
		cols[i] = out
		n = int64(len(rows))
	}
	rec := array.NewRecordBatch(w.dataSchema, cols, n)
	releaseArrays(cols)
	defer rec.Release()
	if err := f.bw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", JoinPath(w.spec.Location, f.rel), err)
	}
	if f.count.err != nil {
		return fmt.Errorf("write %s: %w", JoinPath(w.spec.Location, f.rel), f.count.err)
	}
	f.rows += n
	w.tick++
	f.used = w.tick
	return callHook(WriteEvent{WriteID: w.spec.WriteID, Task: w.task, Attempt: w.attempt, Point: "batch", Path: f.rel, Rows: f.rows, Bytes: f.count.n})
}

// takeArray is compute.TakeArray, which has no Decimal64 kernel: a
// Decimal64 column is taken as the Int64 column of its unscaled values.
func takeArray(ctx context.Context, a, idx arrow.Array) (arrow.Array, error) {
	if a.DataType().ID() != arrow.DECIMAL64 {
		return compute.TakeArray(ctx, a, idx)
	}
	relabel := func(a arrow.Array, dt arrow.DataType) arrow.Array {
		d := a.Data()
		nd := array.NewData(dt, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd)
	}
	ints := relabel(a, arrow.PrimitiveTypes.Int64)
	defer ints.Release()
	out, err := compute.TakeArray(ctx, ints, idx)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	return relabel(out, a.DataType()), nil
}

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

// file returns the open file of folder, opening one (and finishing the
// least recently written file when max_open_files are open).
func (w *TaskWriter) file(ctx context.Context, folder string) (*openFile, error) {
	if f := w.open[folder]; f != nil {
		return f, nil
	}
	if len(w.open) >= w.opts.maxOpenFiles {
		var lru string
		var oldest int64 = -1
		for k, f := range w.open {
			if oldest < 0 || f.used < oldest {
				lru, oldest = k, f.used
			}
		}
		if err := w.finish(w.open[lru]); err != nil {
			return nil, err
		}
		delete(w.open, lru)
	}
	name := fmt.Sprintf("part-%05d-%d-%s-%s%s", w.task, w.attempt, w.spec.WriteID, randomToken(), w.opts.Extension())
	rel := name
	if folder != "" {
		rel = folder + "/" + name
	}
	full := JoinPath(w.spec.Location, rel)
	fw, err := w.fsys.Create(ctx, full)
	if err != nil {
		return nil, err
	}
	count := &countingWriter{w: fw}
	bw, err := NewBatchWriter(ctx, w.dataSchema, count, w.opts)
	if err != nil {
		fw.Abort()
		return nil, fmt.Errorf("write %s: %w", full, err)
	}
	f := &openFile{rel: rel, w: fw, count: count, bw: bw}
	w.open[folder] = f
	return f, nil
}

func randomToken() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// finish completes one file and records it.
func (w *TaskWriter) finish(f *openFile) error {
	full := JoinPath(w.spec.Location, f.rel)
	err := f.bw.Close()
	if err == nil {
		err = f.count.err
	}
	if err != nil {
		f.w.Abort()
		return fmt.Errorf("write %s: %w", full, err)
	}
	if err := f.w.Close(); err != nil {
		return err
	}
	w.finished = append(w.finished, WrittenFile{Path: f.rel, Rows: f.rows, Bytes: f.count.n})
	return callHook(WriteEvent{WriteID: w.spec.WriteID, Task: w.task, Attempt: w.attempt, Point: "file", Path: f.rel, Rows: f.rows, Bytes: f.count.n})
}

// Close completes every open file and returns the attempt's files, sorted
// by path. Task 0 writes an empty file when it has no rows and nothing
// else was written by it, so that a dataset always has a file that
// carries its schema. After an error, call Abort.
func (w *TaskWriter) Close(ctx context.Context) ([]WrittenFile, error) {
	if w.failed {
		return nil, errors.New("internal error: close after a failed write")
	}
	if w.task == 0 && len(w.open) == 0 && len(w.finished) == 0 {
		if _, err := w.file(ctx, ""); err != nil {
			w.failed = true
			return nil, err
		}
	}
	folders := make([]string, 0, len(w.open))
	for k := range w.open {
		folders = append(folders, k)
	}
	sort.Strings(folders)
	for _, k := range folders {
		f := w.open[k]
		delete(w.open, k)
		if err := w.finish(f); err != nil {
			w.failed = true
			return nil, err
		}
	}
	out := append([]WrittenFile(nil), w.finished...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Abort discards the attempt's work, best effort: open files are aborted
// (multipart uploads too, even when ctx has ended) and finished ones
// deleted. The driver's sweep catches whatever this misses.
func (w *TaskWriter) Abort(ctx context.Context) error {
	w.failed = true
	var errs []error
	for k, f := range w.open {
		errs = append(errs, f.w.Abort())
		// Closing the encoder releases its memory; its last bytes go
		// nowhere.
		f.count.w = io.Discard
		f.bw.Close()
		delete(w.open, k)
	}
	if len(w.finished) > 0 {
		paths := make([]string, len(w.finished))
		for i, f := range w.finished {
			paths[i] = JoinPath(w.spec.Location, f.Path)
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		errs = append(errs, w.fsys.Delete(dctx, paths))
		cancel()
		w.finished = nil
	}
	return errors.Join(errs...)
}

// partitionValue is the escaped folder value of row r of col.
func partitionValue(col arrow.Array, r int) string {
	if col.IsNull(r) {
		return HiveDefaultPartition
	}
	var s string
	switch a := col.(type) {
	case *array.String:
		s = a.Value(r)
	case *array.LargeString:
		s = a.Value(r)
	case *array.Float32:
		s = strconv.FormatFloat(float64(a.Value(r)), 'g', -1, 32)
	case *array.Float64:
		s = strconv.FormatFloat(a.Value(r), 'g', -1, 64)
	default:
		s = string(appendScalar(nil, col, r))
	}
	if s == "" {
		return HiveDefaultPartition
	}
	return EscapePartitionValue(s)
}

// EscapePartitionValue escapes a partition column name or value for a
// key=value folder name as Hive and Spark do: control characters and
// "#%'*/:=?\^{[]" (and DEL) become %XX.
func EscapePartitionValue(s string) string {
	need := false
	for i := 0; i < len(s); i++ {
		if escapeInPath(s[i]) {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if escapeInPath(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func escapeInPath(c byte) bool {
	if c < 0x20 || c == 0x7f {
		return true
	}
	return strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0
}

// UnescapePartitionValue reverses EscapePartitionValue (a '%' not
// followed by two hex digits is kept as is).
func UnescapePartitionValue(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
