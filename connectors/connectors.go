package connectors

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors/fs"
)

// Format names a file format.
type Format string

// Supported formats.
const (
	Parquet Format = "parquet"
	CSV     Format = "csv"
	JSON    Format = "json"
)

// Stats are size estimates for planning.
type Stats struct {
	// RowCount is exact for Parquet (from footers); for CSV/JSON it is
	// exact when inference read the only file whole, else extrapolated
	// from the inference sample; -1 when unknown (compressed files).
	RowCount int64
	// TotalBytes is the summed size of all files on storage.
	TotalBytes int64
}

// Source is one resolved table location (one or more files of one format
// with one schema). A Source is immutable after Open and safe for concurrent
// use: Splits and Open may be called from many goroutines.
type Source interface {
	Format() Format
	Location() string
	// Files lists the files Open resolved, in sorted order.
	Files() []string
	// Schema is the schema of every batch with all columns, in engine types
	// (see doc.go).
	Schema() *arrow.Schema
	Stats() Stats
	// Splits returns the units of parallel work over the files present now
	// (a directory or glob is listed again, see doc.go). It skips Hive
	// partition folders, and for Parquet row groups, that provably hold no
	// row satisfying all of preds; preds are only hints, callers must
	// still filter. Roughly targetSplits or more splits are returned.
	Splits(ctx context.Context, preds []Predicate, targetSplits int) ([]Split, error)
	// Open reads one split. columns are indices into Schema() (nil = all) and
	// the returned batches contain exactly those columns in that order.
	// Batches hold at most batchSize rows. Arrow memory comes from
	// compute.GetAllocator(ctx).
	Open(ctx context.Context, split Split, columns []int, batchSize int) (RecordReader, error)
}

// Split is one unit of scan work. It is plain data and may be serialized
// and sent to another process, which opens the same location and calls
// Source.Open with it.
type Split struct {
	// Path is the file, as listed by Source.Files.
	Path string
	// RowGroups are the Parquet row groups to read, in order (nil for other
	// formats).
	RowGroups []int
	// Offset and Length select part of the file; Length < 0 means "to the
	// end". For CSV/JSON they are a byte range and the split owns the lines
	// that start inside [Offset, Offset+Length). For Parquet they are a row
	// range within the concatenation of RowGroups (used to cut a file with
	// fewer row groups than targetSplits).
	Offset, Length int64
	// Rows is the number of rows in the split, or -1 if unknown.
	Rows int64
}

// Predicate is a simple column-vs-constant comparison used only to skip
// data: Hive partition folders and Parquet row groups. Column indexes
// Source.Schema(). Predicates are ANDed, except that all "in" predicates
// on one column form a single IN list: the column equals one of their
// Values. (A list travels as one plain predicate per member, so plans
// carry it like any other comparison.)
type Predicate struct {
	Column int
	// Op is one of "=", "<>", "<", "<=", ">", ">=", "isnull", "isnotnull",
	// "in".
	Op string
	// Value is nil for isnull/isnotnull, else one of bool, int64,
	// float64, string, decimal128.Num (at the column's scale, for both
	// decimal widths), arrow.Date32, arrow.Timestamp (µs). Predicates with
	// other value types, or types that do not fit the column, never prune.
	Value any
}

// inLists gathers the members of the "in" predicates by column and
// returns the other predicates apart.
func inLists(preds []Predicate) (rest []Predicate, lists map[int][]any) {
	for _, p := range preds {
		if p.Op != "in" {
			rest = append(rest, p)
			continue
		}
		if lists == nil {
			lists = map[int][]any{}
		}
		lists[p.Column] = append(lists[p.Column], p.Value)
	}
	return rest, lists
}

// RecordReader streams the batches of one split.
type RecordReader interface {
	// Next returns the next batch, or (nil, nil) at the end. The caller owns
	// the batch and must Release it.
	Next(ctx context.Context) (arrow.RecordBatch, error)
	// Close releases resources; it is idempotent.
	Close() error
}

// Open resolves location — a file, a directory (all files with the format's
// extension below it, recursively, sorted), or a glob such as
// data/*.parquet — and reads enough metadata to know the schema. Folders
// named key=value below a directory (or a glob's directory part) become
// partition columns (see doc.go, Hive partitions). opts are described in
// the package documentation.
func Open(ctx context.Context, format Format, location string, opts map[string]string) (src Source, err error) {
	defer recoverErr(&err, "%s %s", format, location)
	o, err := parseOptions(format, opts)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", format, location, err)
	}
	switch format {
	case Parquet, CSV, JSON:
	default:
		return nil, fmt.Errorf("location %s: unknown format %q (want parquet, csv or json)", location, format)
	}
	fsys, err := fs.For(location)
	if err != nil {
		return nil, err
	}
	lay, listed, err := resolveLayout(ctx, fsys, format, location, o.hive)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	files := make([]fs.FileInfo, len(listed))
	vals := make([][]string, len(listed))
	for i, f := range listed {
		files[i], vals[i] = f.FileInfo, f.vals
	}
	b := base{format: format, location: location, fsys: fsys, files: files, fileVals: vals, opts: o, lay: lay}
	switch format {
	case Parquet:
		s, err := openParquet(ctx, b)
		if err != nil {
			return nil, err
		}
		s.finishTable()
		return s, nil
	case CSV:
		s, err := openCSV(ctx, b)
		if err != nil {
			return nil, err
		}
		s.finishTable()
		return s, nil
	}
	s, err := openJSON(ctx, b)
	if err != nil {
		return nil, err
	}
	s.finishTable()
	return s, nil
}

// base holds what every Source has.
type base struct {
	format   Format
	location string
	fsys     fs.FS
	files    []fs.FileInfo
	opts     options
	// schema holds the columns the format reads from files; the table
	// adds partition columns (see partition.go).
	schema   *arrow.Schema
	rowCount int64 // exact, estimated, or -1
	lay      *layout
	// fileVals are the partition folder values of files, as listed by
	// Open; fileRows their exact row counts when known (Parquet).
	fileVals [][]string
	fileRows []int64
	// table is what Schema reports; tableCols maps its columns to file
	// columns and partition keys (nil when there are no partition keys).
	table     *arrow.Schema
	tableCols []tableCol
}

// estimateRows turns what schema inference saw — rows records in the first
// consumed bytes of the first file, atEnd if that was the whole file — into
// a row count: exact for a single fully sampled file, else extrapolated by
// size (uncompressed files only), else -1.
func (b *base) estimateRows(consumed int64, rows int, atEnd bool) int64 {
	if codecFor(b.opts.compression, b.files[0].Path) != "none" {
		return -1
	}
	if atEnd && len(b.files) == 1 {
		return int64(rows)
	}
	if consumed <= 0 || rows == 0 {
		return -1
	}
	return int64(float64(b.totalBytes()) * float64(rows) / float64(consumed))
}

func (b *base) Format() Format        { return b.format }
func (b *base) Location() string      { return b.location }
func (b *base) Schema() *arrow.Schema { return b.table }
func (b *base) Files() []string {
	out := make([]string, len(b.files))
	for i, f := range b.files {
		out[i] = f.Path
	}
	return out
}

func (b *base) totalBytes() int64 {
	var n int64
	for _, f := range b.files {
		n += f.Size
	}
	return n
}

// checkColumns validates a projection and expands nil to all columns.
func (b *base) checkColumns(columns []int) ([]int, error) {
	n := b.schema.NumFields()
	if columns == nil {
		columns = make([]int, n)
		for i := range columns {
			columns[i] = i
		}
		return columns, nil
	}
	for _, c := range columns {
		if c < 0 || c >= n {
			return nil, fmt.Errorf("%s %s: column index %d out of range (schema has %d columns)", b.format, b.location, c, n)
		}
	}
	return columns, nil
}

func projectSchema(sc *arrow.Schema, columns []int) *arrow.Schema {
	fields := make([]arrow.Field, len(columns))
	for i, c := range columns {
		fields[i] = sc.Field(c)
	}
	return arrow.NewSchema(fields, nil)
}

func hasFormatExt(format Format, p string) bool {
	p = strings.ToLower(p)
	for _, c := range []string{".gz", ".zst", ".zstd"} {
		if format != Parquet && strings.HasSuffix(p, c) {
			p = strings.TrimSuffix(p, c)
			break
		}
	}
	switch format {
	case Parquet:
		return strings.HasSuffix(p, ".parquet") || strings.HasSuffix(p, ".parq") || strings.HasSuffix(p, ".pq")
	case CSV:
		return strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".tsv") || strings.HasSuffix(p, ".txt")
	case JSON:
		return strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".ndjson") || strings.HasSuffix(p, ".jsonl")
	}
	return false
}

// options are the parsed, validated option keys (see doc.go).
type options struct {
	header        bool
	delimiter     byte
	quote         byte
	null          string
	schema        *arrow.Schema
	inferRows     int
	compression   string // "auto", "none", "gzip", "zstd"
	minSplitBytes int64
	minSplitRows  int64
	hive          bool
}

func parseOptions(format Format, m map[string]string) (options, error) {
	o := options{header: true, delimiter: ',', quote: '"', inferRows: 1000, compression: "auto", minSplitBytes: 8 << 20, minSplitRows: 65536, hive: true}
	for k, v := range m {
		switch k {
		case "header":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, fmt.Errorf("option header=%q: want true or false", v)
			}
			o.header = b
		case "delimiter", "quote":
			s := v
			switch strings.ToLower(v) {
			case `\t`, "tab":
				s = "\t"
			}
			if len(s) != 1 || s[0] == '\n' || s[0] == '\r' {
				return o, fmt.Errorf("option %s=%q: want a single byte", k, v)
			}
			if k == "delimiter" {
				o.delimiter = s[0]
			} else {
				o.quote = s[0]
			}
		case "null":
			o.null = v
		case "schema":
			sc, err := ParseSchema(v)
			if err != nil {
				return o, fmt.Errorf("option schema: %w", err)
			}
			o.schema = sc
		case "infer_rows":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return o, fmt.Errorf("option infer_rows=%q: want a positive integer", v)
			}
			o.inferRows = n
		case "compression":
			switch strings.ToLower(v) {
			case "auto", "none", "gzip", "zstd":
				o.compression = strings.ToLower(v)
			case "gz":
				o.compression = "gzip"
			case "zst":
				o.compression = "zstd"
			default:
				return o, fmt.Errorf("option compression=%q: want auto, none, gzip or zstd", v)
			}
		case "min_split_bytes":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return o, fmt.Errorf("option min_split_bytes=%q: want a positive integer", v)
			}
			o.minSplitBytes = n
		case "min_split_rows":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return o, fmt.Errorf("option min_split_rows=%q: want a positive integer", v)
			}
			o.minSplitRows = n
		case "hive_partitioning":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, fmt.Errorf("option hive_partitioning=%q: want true or false", v)
			}
			o.hive = b
		default:
			return o, fmt.Errorf("unknown option %q", k)
		}
	}
	if o.delimiter == o.quote {
		return o, fmt.Errorf("options delimiter and quote are both %q", o.delimiter)
	}
	if format == Parquet && o.schema != nil {
		return o, fmt.Errorf("option schema is not supported for parquet (the file defines it)")
	}
	return o, nil
}

// recoverErr turns a panic inside a third-party decoder (fed a corrupt
// file) into an error. Use as: defer recoverErr(&err, "context %s", x).
func recoverErr(err *error, format string, args ...any) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: corrupt or unsupported input (decoder panic: %v)", fmt.Sprintf(format, args...), r)
	}
}
