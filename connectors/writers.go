package connectors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// WriteOptions are the parsed format options of a write (see
// ParseWriteOptions).
type WriteOptions struct {
	format Format
	// Parquet.
	codec          compress.Compression
	rowGroupRows   int64
	rowGroupBytes  int64
	compressionSet string // CSV/JSON: none, gzip, zstd
	// CSV.
	header    bool
	delimiter byte
	quote     byte
	null      string
	// Dataset.
	maxOpenFiles int
}

// Default write option values.
const (
	defaultRowGroupRows  = 1 << 20
	defaultRowGroupBytes = 64 << 20
	defaultMaxOpenFiles  = 64
)

// ParseWriteOptions checks the options of a write in format:
//
//	compression     Parquet: snappy (default), zstd, gzip, lz4, brotli, none.
//	                CSV/JSON: none (default), gzip, zstd (files get .gz/.zst).
//	row_group_size  Parquet: most rows per row group (default 1048576).
//	row_group_bytes Parquet: a row group is closed once its encoded size
//	                reaches this (default 64 MiB): a Parquet file being
//	                written holds one row group in memory.
//	header          CSV: write a header line (default true).
//	delimiter       CSV: field separator, one byte (default ","; "tab").
//	quote           CSV: quote character (default `"`).
//	null            CSV: text of NULL (default empty; empty strings are
//	                then written quoted, "", so they read back as strings).
//	max_open_files  partitioned writes: files one task keeps open at once
//	                (default 64); beyond, the least recently written is
//	                finished and a partition seen again gets a new file.
//	                Each open file buffers a Parquet row group, and on S3
//	                up to 3 upload parts: lower it when many partitions
//	                are large.
//
// Unknown keys are an error.
func ParseWriteOptions(format Format, m map[string]string) (WriteOptions, error) {
	o := WriteOptions{format: format, codec: compress.Codecs.Snappy, rowGroupRows: defaultRowGroupRows,
		rowGroupBytes: defaultRowGroupBytes, compressionSet: "none", header: true, delimiter: ',', quote: '"',
		maxOpenFiles: defaultMaxOpenFiles}
	switch format {
	case Parquet, CSV, JSON:
	default:
		return o, fmt.Errorf("unknown format %q (want parquet, csv or json)", format)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	positive := func(k, v string) (int64, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("option %s=%q: want a positive integer", k, v)
		}
		return n, nil
	}
	only := func(k string, fs ...Format) error {
		for _, f := range fs {
			if f == format {
				return nil
			}
		}
		return fmt.Errorf("option %s does not apply to %s", k, format)
	}
	for _, k := range keys {
		v := m[k]
		var err error
		switch k {
		case "compression":
			c := strings.ToLower(v)
			if format == Parquet {
				switch c {
				case "snappy":
					o.codec = compress.Codecs.Snappy
				case "zstd", "zst":
					o.codec = compress.Codecs.Zstd
				case "gzip", "gz":
					o.codec = compress.Codecs.Gzip
				case "lz4", "lz4_raw":
					o.codec = compress.Codecs.Lz4Raw
				case "brotli":
					o.codec = compress.Codecs.Brotli
				case "none", "uncompressed":
					o.codec = compress.Codecs.Uncompressed
				default:
					return o, fmt.Errorf("option compression=%q: want snappy, zstd, gzip, lz4, brotli or none", v)
				}
				break
			}
			switch c {
			case "none", "uncompressed":
				o.compressionSet = "none"
			case "gzip", "gz":
				o.compressionSet = "gzip"
			case "zstd", "zst":
				o.compressionSet = "zstd"
			default:
				return o, fmt.Errorf("option compression=%q: want none, gzip or zstd", v)
			}
		case "row_group_size":
			if err = only(k, Parquet); err == nil {
				o.rowGroupRows, err = positive(k, v)
			}
		case "row_group_bytes":
			if err = only(k, Parquet); err == nil {
				o.rowGroupBytes, err = positive(k, v)
			}
		case "header":
			if err = only(k, CSV); err == nil {
				if o.header, err = strconv.ParseBool(v); err != nil {
					err = fmt.Errorf("option header=%q: want true or false", v)
				}
			}
		case "delimiter", "quote":
			if err = only(k, CSV); err != nil {
				break
			}
			s := v
			if l := strings.ToLower(v); l == `\t` || l == "tab" {
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
			err = only(k, CSV)
			o.null = v
		case "max_open_files":
			var n int64
			if n, err = positive(k, v); err == nil {
				o.maxOpenFiles = int(min(n, 1<<20))
			}
		default:
			return o, fmt.Errorf("unknown write option %q for %s", k, format)
		}
		if err != nil {
			return o, err
		}
	}
	if format == CSV {
		if o.delimiter == o.quote {
			return o, fmt.Errorf("options delimiter and quote are both %q", o.delimiter)
		}
		if strings.ContainsAny(o.null, string([]byte{o.delimiter, o.quote, '\n', '\r'})) {
			return o, fmt.Errorf("option null=%q contains the delimiter, the quote or a line break", o.null)
		}
	}
	return o, nil
}

// Extension is the file name extension of files written with o, e.g.
// ".parquet" or ".csv.gz".
func (o WriteOptions) Extension() string {
	ext := "." + string(o.format)
	switch o.compressionSet {
	case "gzip":
		if o.format != Parquet {
			ext += ".gz"
		}
	case "zstd":
		if o.format != Parquet {
			ext += ".zst"
		}
	}
	return ext
}

// BatchWriter encodes batches of one schema into one file.
type BatchWriter interface {
	// Write appends the rows of b (whose columns must match the schema).
	Write(b arrow.RecordBatch) error
	// Close writes what the format needs at the end (a Parquet footer)
	// and flushes; it does not close the underlying io.Writer.
	Close() error
}

// NewBatchWriter returns a writer of o's format into w. Arrow memory
// comes from compute.GetAllocator(ctx).
func NewBatchWriter(ctx context.Context, schema *arrow.Schema, w io.Writer, o WriteOptions) (BatchWriter, error) {
	switch o.format {
	case Parquet:
		return newParquetWriter(ctx, schema, w, o)
	case CSV, JSON:
		cw, closeFn, err := compressWriter(o.compressionSet, w)
		if err != nil {
			return nil, err
		}
		bw := bufio.NewWriterSize(cw, 256<<10)
		tw := &textWriter{schema: schema, w: bw, flush: bw.Flush, finish: closeFn, o: o}
		if o.format == CSV {
			if err := tw.checkCSVTypes(); err != nil {
				return nil, err
			}
			if o.header {
				tw.header()
			}
		} else {
			tw.jsonKeys()
		}
		return tw, nil
	}
	return nil, fmt.Errorf("unknown format %q", o.format)
}

// parquetWriter streams row groups: pqarrow's buffered row group is
// closed at rowGroupRows rows or rowGroupBytes encoded bytes, whichever
// comes first, so memory stays bounded whatever the batch sizes.
//
// pqarrow writes decimals from Decimal128 only: the engine's Decimal64
// columns are widened batch by batch (schema holds the widened types), and
// every DECIMAL(p <= 18) is stored as a Parquet INT32/INT64 decimal.
type parquetWriter struct {
	fw     *pqarrow.FileWriter // nil until the first batch (or Close)
	w      io.Writer
	props  []parquet.WriterProperty
	o      WriteOptions
	mem    memory.Allocator
	schema *arrow.Schema // the file's Arrow schema (Decimal64 widened)
	widen  []int         // columns to widen
	// dicts[i] dictionary-encodes string column i before pqarrow sees it
	// (nil: no column is); fileSchema is then the schema pqarrow writes,
	// those columns as dictionaries, while the file's stored Arrow schema
	// stays schema. splits counts the row groups begun early because a
	// dictionary grew.
	dicts      []*stringDict
	fileSchema *arrow.Schema
	splits     int
}

// maxDictSplits is how many row groups a file may begin early so that a
// grown dictionary starts a column chunk of its own (pqarrow writes a
// chunk's later batches PLAIN once its dictionary changes). A column
// whose dictionary keeps growing gets PLAIN pages after that.
const maxDictSplits = 4

func newParquetWriter(ctx context.Context, schema *arrow.Schema, w io.Writer, o WriteOptions) (*parquetWriter, error) {
	mem := compute.GetAllocator(ctx)
	pw := &parquetWriter{o: o, mem: mem, schema: schema}
	fields := schema.Fields()
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(o.codec),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(o.rowGroupRows),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithCreatedBy("flint"),
		parquet.WithDictionaryPageSizeLimit(dictionaryLimit),
	}
	for _, f := range fields {
		if !dictionaryWorthIt(f.Type) {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	pw.w, pw.props = w, opts
	for i, f := range fields {
		if d, ok := f.Type.(*arrow.Decimal64Type); ok {
			fields[i].Type = &arrow.Decimal128Type{Precision: d.Precision, Scale: d.Scale}
			pw.widen = append(pw.widen, i)
		}
	}
	if pw.widen != nil {
		md := schema.Metadata()
		pw.schema = arrow.NewSchema(fields, &md)
	}
	return pw, nil
}

// open creates the file writer, the first batch (nil: none) deciding
// which columns go without a dictionary (manyDistinct).
func (p *parquetWriter) open(first arrow.RecordBatch) error {
	opts := p.props
	if first != nil {
		flat := !slices.ContainsFunc(p.schema.Fields(), func(f arrow.Field) bool { return arrow.IsNested(f.Type.ID()) })
		for i, f := range first.Schema().Fields() {
			switch {
			case !dictionaryWorthIt(f.Type):
			case manyDistinct(first.Column(i), p.o.rowGroupRows):
				opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
			case flat && f.Type.ID() == arrow.STRING:
				if p.dicts == nil {
					p.dicts = make([]*stringDict, len(p.schema.Fields()))
				}
				p.dicts[i] = newStringDict(p.mem)
			}
		}
	}
	schema, aprops := p.schema, []pqarrow.WriterOption{pqarrow.WithAllocator(p.mem), pqarrow.WithStoreSchema()}
	if p.dicts != nil {
		// pqarrow would store the dictionary types as the file's Arrow
		// schema, and readers would get dictionaries back: store the
		// file's own schema, as pqarrow does (an IPC schema message).
		fields := slices.Clone(p.schema.Fields())
		for i, d := range p.dicts {
			if d != nil {
				fields[i].Type = dictOfStrings
			}
		}
		var buf bytes.Buffer
		w := ipc.NewWriter(&buf, ipc.WithSchema(p.schema), ipc.WithAllocator(p.mem))
		if err := w.Close(); err != nil {
			return fmt.Errorf("parquet writer: %w", err)
		}
		m := p.schema.Metadata()
		md := arrow.NewMetadata(append(slices.Clone(m.Keys()), "ARROW:schema"),
			append(slices.Clone(m.Values()), base64.StdEncoding.EncodeToString(buf.Bytes())))
		schema, aprops = arrow.NewSchema(fields, &md), aprops[:1]
		p.fileSchema = schema
	}
	fw, err := pqarrow.NewFileWriter(schema, p.w, parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(aprops...))
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	p.fw = fw
	return nil
}

// encodeDicts replaces b's dictionary-encoded string columns (dicts) by
// dictionary arrays, beginning a row group first when a dictionary grew
// (within maxDictSplits). The caller releases the result.
func (p *parquetWriter) encodeDicts(b arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := slices.Clone(b.Columns())
	grew := false
	for i, d := range p.dicts {
		if d == nil {
			continue
		}
		a, g := d.encode(cols[i].(*array.String))
		defer a.Release()
		cols[i], grew = a, grew || g
	}
	if grew && p.splits < maxDictSplits {
		if n, err := p.fw.RowGroupNumRows(); err == nil && n > 0 {
			if err := p.fw.NewBufferedRowGroupChecked(); err != nil {
				return nil, fmt.Errorf("parquet: %w", err)
			}
			p.splits++
		}
	}
	return array.NewRecordBatch(p.fileSchema, cols, b.NumRows()), nil
}

// probeRows is how many of a first batch's rows manyDistinct looks at.
const probeRows = 4096

// manyDistinct reports whether column a, judged by its first rows,
// would fill a row group of rowGroupRows rows with more distinct values
// than the dictionary limit holds: a key (an order key, even in runs of a
// few rows) or a measure. The writer would hash every value into a table
// that grows to the limit and then give up on it for PLAIN pages; such a
// column goes PLAIN from the start. Columns of few distinct values, and
// first batches too short to tell, keep the dictionary.
func manyDistinct(a arrow.Array, rowGroupRows int64) bool {
	n := min(a.Len(), probeRows)
	if n < 1024 {
		return false
	}
	seen := make(map[uint64]struct{}, n)
	var bytes int
	var h maphash.Hash
	switch a := a.(type) {
	case *array.String:
		for i := range n {
			if a.IsValid(i) {
				v := a.Value(i)
				h.Reset()
				h.WriteString(v)
				if _, ok := seen[h.Sum64()]; !ok {
					seen[h.Sum64()] = struct{}{}
					bytes += 4 + len(v)
				}
			}
		}
	default:
		width := 0
		if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok {
			width = fw.BitWidth() / 8
		}
		if width != 4 && width != 8 {
			return false
		}
		data := a.Data().Buffers()[1].Bytes()[a.Data().Offset()*width:]
		for i := range n {
			if a.IsValid(i) {
				var v uint64
				if width == 4 {
					v = uint64(binary.LittleEndian.Uint32(data[4*i:]))
				} else {
					v = binary.LittleEndian.Uint64(data[8*i:])
				}
				seen[v] = struct{}{}
			}
		}
		bytes = len(seen) * width
	}
	// Distinct values grow at most linearly with the rows.
	return int64(bytes)*rowGroupRows/int64(n) > 2*dictionaryLimit
}

// dictionaryWorthIt reports whether a column of type t is written with
// a dictionary. Floating-point values rarely repeat, and for them the
// dictionary's hash table grows until the writer gives up on it (at a
// 1 MiB dictionary per column chunk): tens of MiB of memory and a fifth
// of the CPU of writing scores, for PLAIN pages in the end. Other types
// (strings, integers, dates, decimals) keep it, with that fallback.
// dictionaryLimit is the dictionary size per column chunk past which the
// writer falls back to PLAIN (arrow-go's default is 1 MiB). A column
// that needs more is hardly a category, and the hash table behind a
// large dictionary costs several times its size.
const dictionaryLimit = 256 << 10

func dictionaryWorthIt(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return false
	}
	return true
}

func (p *parquetWriter) Write(b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	if p.fw == nil {
		if err := p.open(b); err != nil {
			return err
		}
	}
	if p.widen != nil {
		cols := make([]arrow.Array, b.NumCols())
		copy(cols, b.Columns())
		for _, c := range p.widen {
			cols[c] = widenDecimal64(p.mem, cols[c].(*array.Decimal64))
			defer cols[c].Release()
		}
		b = array.NewRecordBatch(p.schema, cols, b.NumRows())
		defer b.Release()
	}
	if p.dicts != nil {
		var err error
		if b, err = p.encodeDicts(b); err != nil {
			return err
		}
		defer b.Release()
	}
	if err := p.fw.WriteBuffered(b); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	if p.fw.RowGroupTotalBytesWritten()+p.fw.RowGroupTotalCompressedBytes() >= p.o.rowGroupBytes {
		if err := p.fw.NewBufferedRowGroupChecked(); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
	}
	return nil
}

// widenDecimal64 is a as a Decimal128 of the same precision and scale.
func widenDecimal64(mem memory.Allocator, a *array.Decimal64) arrow.Array {
	dt := a.DataType().(*arrow.Decimal64Type)
	b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: dt.Precision, Scale: dt.Scale})
	defer b.Release()
	b.Reserve(a.Len())
	for i, v := range a.Values() {
		if a.IsNull(i) {
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		b.UnsafeAppend(decimal128.FromI64(int64(v)))
	}
	return b.NewArray()
}

func (p *parquetWriter) Close() error {
	if p.fw == nil {
		if err := p.open(nil); err != nil {
			return err
		}
	}
	err := p.fw.Close()
	for _, d := range p.dicts {
		if d != nil {
			d.release()
		}
	}
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// compressWriter wraps w in a gzip or zstd encoder; closeFn finishes the
// stream (not w).
func compressWriter(codec string, w io.Writer) (io.Writer, func() error, error) {
	switch codec {
	case "gzip":
		z := gzip.NewWriter(w)
		return z, z.Close, nil
	case "zstd":
		z, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return z, z.Close, nil
	}
	return w, func() error { return nil }, nil
}

// textWriter writes CSV or NDJSON rows, formatting values as the CSV and
// JSON readers parse them back: dates YYYY-MM-DD, timestamps
// YYYY-MM-DD hh:mm:ss[.ffffff], decimals as exact digits.
type textWriter struct {
	schema *arrow.Schema
	w      *bufio.Writer
	flush  func() error
	finish func() error
	o      WriteOptions
	keys   [][]byte // JSON: `"name":` per column
	err    error
	num    []byte // scratch
}

func (t *textWriter) checkCSVTypes() error {
	for _, f := range t.schema.Fields() {
		if !csvScalar(f.Type) {
			return fmt.Errorf("csv cannot hold column %s of type %s; write it as parquet or json", f.Name, f.Type)
		}
	}
	return nil
}

func csvScalar(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.NULL, arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DATE32, arrow.TIMESTAMP:
		return true
	}
	return false
}

func (t *textWriter) header() {
	for i, f := range t.schema.Fields() {
		if i > 0 {
			t.w.WriteByte(t.o.delimiter)
		}
		t.csvString(f.Name, true)
	}
	t.w.WriteByte('\n')
}

func (t *textWriter) jsonKeys() {
	t.keys = make([][]byte, t.schema.NumFields())
	for i, f := range t.schema.Fields() {
		k, _ := json.Marshal(f.Name)
		t.keys[i] = append(k, ':')
	}
}

func (t *textWriter) Write(b arrow.RecordBatch) error {
	if t.err != nil {
		return t.err
	}
	n := int(b.NumRows())
	cols := b.Columns()
	if len(cols) != t.schema.NumFields() {
		return fmt.Errorf("%s writer: batch has %d columns, schema %d", t.o.format, len(cols), t.schema.NumFields())
	}
	for r := 0; r < n; r++ {
		if t.o.format == CSV {
			for c, col := range cols {
				if c > 0 {
					t.w.WriteByte(t.o.delimiter)
				}
				t.csvValue(col, r)
			}
		} else {
			t.w.WriteByte('{')
			for c, col := range cols {
				if c > 0 {
					t.w.WriteByte(',')
				}
				t.w.Write(t.keys[c])
				if err := t.jsonValue(col, r); err != nil {
					t.err = fmt.Errorf("json: column %s: %w", t.schema.Field(c).Name, err)
					return t.err
				}
			}
			t.w.WriteByte('}')
		}
		if err := t.w.WriteByte('\n'); err != nil {
			t.err = err
			return err
		}
	}
	return nil
}

func (t *textWriter) Close() error {
	if t.err != nil {
		return t.err
	}
	if err := t.flush(); err != nil {
		return err
	}
	return t.finish()
}

// csvString writes s, quoted when it holds the delimiter, the quote, a
// line break, leading or trailing space, or when it is empty or equal
// to the null text (so it does not read back as NULL).
func (t *textWriter) csvString(s string, isHeader bool) {
	need := s == "" || s == t.o.null || strings.ContainsAny(s, string([]byte{t.o.delimiter, t.o.quote, '\n', '\r'}))
	if !need && (s[0] == ' ' || s[len(s)-1] == ' ' || s[0] == '\t' || s[len(s)-1] == '\t') {
		need = true
	}
	if isHeader && s == "" {
		need = false
	}
	if !need {
		t.w.WriteString(s)
		return
	}
	q := t.o.quote
	t.w.WriteByte(q)
	for i := 0; i < len(s); i++ {
		if s[i] == q {
			t.w.WriteByte(q)
		}
		t.w.WriteByte(s[i])
	}
	t.w.WriteByte(q)
}

func (t *textWriter) csvValue(col arrow.Array, r int) {
	if col.IsNull(r) {
		t.w.WriteString(t.o.null)
		return
	}
	switch a := col.(type) {
	case *array.String:
		t.csvString(a.Value(r), false)
	case *array.LargeString:
		t.csvString(a.Value(r), false)
	default:
		t.num = appendScalar(t.num[:0], col, r)
		t.w.Write(t.num)
	}
}

// appendScalar formats a non-null value of a scalar, non-string column.
func appendScalar(dst []byte, col arrow.Array, r int) []byte {
	switch a := col.(type) {
	case *array.Boolean:
		return strconv.AppendBool(dst, a.Value(r))
	case *array.Int8:
		return strconv.AppendInt(dst, int64(a.Value(r)), 10)
	case *array.Int16:
		return strconv.AppendInt(dst, int64(a.Value(r)), 10)
	case *array.Int32:
		return strconv.AppendInt(dst, int64(a.Value(r)), 10)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(r), 10)
	case *array.Uint8:
		return strconv.AppendUint(dst, uint64(a.Value(r)), 10)
	case *array.Uint16:
		return strconv.AppendUint(dst, uint64(a.Value(r)), 10)
	case *array.Uint32:
		return strconv.AppendUint(dst, uint64(a.Value(r)), 10)
	case *array.Uint64:
		return strconv.AppendUint(dst, a.Value(r), 10)
	case *array.Float32:
		return appendFloat(dst, float64(a.Value(r)), 32)
	case *array.Float64:
		return appendFloat(dst, a.Value(r), 64)
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return append(dst, a.Value(r).ToString(scale)...)
	case *array.Decimal64:
		scale := a.DataType().(*arrow.Decimal64Type).Scale
		return append(dst, decimal128.FromI64(int64(a.Value(r))).ToString(scale)...)
	case *array.Date32:
		return a.Value(r).ToTime().AppendFormat(dst, "2006-01-02")
	case *array.Timestamp:
		return appendTimestamp(dst, a, r)
	}
	return append(dst, col.ValueStr(r)...)
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// appendTimestamp formats a timestamp as the CSV reader parses it: UTC
// wall time, fractional seconds only when non-zero.
func appendTimestamp(dst []byte, a *array.Timestamp, r int) []byte {
	unit := a.DataType().(*arrow.TimestampType).Unit
	tm := a.Value(r).ToTime(unit).UTC()
	dst = tm.AppendFormat(dst, "2006-01-02 15:04:05")
	if ns := tm.Nanosecond(); ns != 0 {
		frac := fmt.Sprintf("%09d", ns)
		if unit <= arrow.Microsecond {
			frac = frac[:6]
		}
		dst = append(dst, '.')
		dst = append(dst, strings.TrimRight(frac, "0")...)
	}
	return dst
}

// jsonValue writes one value as JSON: numbers for integers, floats (NaN
// and infinities as null) and decimals (exact digits), strings for
// dates and timestamps, objects for structs, arrays for lists.
func (t *textWriter) jsonValue(col arrow.Array, r int) error {
	if col.IsNull(r) {
		t.w.WriteString("null")
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		t.jsonString(a.Value(r))
	case *array.LargeString:
		t.jsonString(a.Value(r))
	case *array.Float32:
		t.jsonFloat(float64(a.Value(r)), 32)
	case *array.Float64:
		t.jsonFloat(a.Value(r), 64)
	case *array.Date32, *array.Timestamp:
		t.num = appendScalar(t.num[:0], col, r)
		t.w.WriteByte('"')
		t.w.Write(t.num)
		t.w.WriteByte('"')
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		t.w.WriteByte('{')
		for i := 0; i < a.NumField(); i++ {
			if i > 0 {
				t.w.WriteByte(',')
			}
			k, _ := json.Marshal(st.Field(i).Name)
			t.w.Write(k)
			t.w.WriteByte(':')
			if err := t.jsonValue(a.Field(i), r); err != nil {
				return err
			}
		}
		t.w.WriteByte('}')
	case array.ListLike:
		start, end := a.ValueOffsets(r)
		vals := a.ListValues()
		t.w.WriteByte('[')
		for i := start; i < end; i++ {
			if i > start {
				t.w.WriteByte(',')
			}
			if err := t.jsonValue(vals, int(i)); err != nil {
				return err
			}
		}
		t.w.WriteByte(']')
	case *array.Null:
		t.w.WriteString("null")
	default:
		if !csvScalar(col.DataType()) {
			b, err := json.Marshal(col.GetOneForMarshal(r))
			if err != nil {
				return err
			}
			t.w.Write(b)
			return nil
		}
		t.num = appendScalar(t.num[:0], col, r)
		t.w.Write(t.num)
	}
	return nil
}

func (t *textWriter) jsonFloat(f float64, bits int) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		t.w.WriteString("null")
		return
	}
	t.num = strconv.AppendFloat(t.num[:0], f, 'g', -1, bits)
	t.w.Write(t.num)
}

// jsonString writes s as a JSON string (invalid UTF-8 becomes U+FFFD).
func (t *textWriter) jsonString(s string) {
	simple := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		t.w.WriteByte('"')
		t.w.WriteString(s)
		t.w.WriteByte('"')
		return
	}
	b, _ := json.Marshal(s)
	t.w.Write(b)
}
