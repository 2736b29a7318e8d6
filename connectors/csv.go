package connectors

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/connectors/fs"
)

type csvSource struct {
	base
	ncols int // fields per record in the files
}

var _ Source = (*csvSource)(nil)

func openCSV(ctx context.Context, b base) (*csvSource, error) {
	s := &csvSource{base: b}
	s.rowCount = -1
	first := b.files[0]
	p, closeFn, err := s.openParser(ctx, first.Path, 0, -1, false)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var names []string
	if b.opts.header {
		ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			if b.opts.schema == nil {
				return nil, fmt.Errorf("csv %s: file is empty, cannot read the header", first.Path)
			}
		} else {
			names = make([]string, p.nf)
			for i := range names {
				names[i] = strings.TrimSpace(string(p.field(i)))
			}
			p.reset()
		}
	}
	if b.opts.schema != nil {
		s.schema = b.opts.schema
		s.ncols = b.opts.schema.NumFields()
		if names != nil && len(names) != s.ncols {
			return nil, fmt.Errorf("csv %s: header has %d columns, option schema has %d", first.Path, len(names), s.ncols)
		}
		return s, nil
	}
	p.ncols = len(names)
	rows, atEnd := 0, false
	for rows < b.opts.inferRows {
		ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			atEnd = true
			break
		}
		if p.ncols == 0 {
			p.ncols = p.nf
		}
		rows++
	}
	if p.ncols == 0 {
		return nil, fmt.Errorf("csv %s: no rows to infer a schema from; pass option schema", first.Path)
	}
	s.ncols = p.ncols
	s.rowCount = s.estimateRows(p.pos, rows, atEnd)
	if names == nil {
		names = make([]string, s.ncols)
	}
	fields := make([]arrow.Field, s.ncols)
	seen := map[string]int{}
	for c := range fields {
		name := names[c]
		if name == "" {
			name = "column" + strconv.Itoa(c)
		}
		if n := seen[name]; n > 0 {
			seen[name] = n + 1
			name = name + "_" + strconv.Itoa(n)
		} else {
			seen[name] = 1
		}
		fields[c] = arrow.Field{Name: name, Type: inferColumn(p, rows, s.ncols, c), Nullable: true}
	}
	s.schema = arrow.NewSchema(fields, nil)
	return s, nil
}

// inferColumn picks the narrowest type that parses every non-null sample
// value of column c, in the order bool, int64, decimal, float64, date,
// timestamp, string. Decimal is chosen when every value is a plain decimal
// literal, at least one has a fractional part, all fractional parts have the
// same number of digits s, and integer digits + s ≤ 18: the column becomes
// DECIMAL(18, s), which keeps money-like data exact and fits int64 kernels.
// An all-null column is a string.
func inferColumn(p *csvParser, rows, ncols, c int) arrow.DataType {
	isBool, isInt, isDec, isFloat, isDate, isTS := true, true, true, true, true, true
	scale, intDigits, nonNull := -1, 0, 0
	for r := 0; r < rows; r++ {
		k := r*ncols + c
		if p.nulls[k] {
			continue
		}
		nonNull++
		f := p.field(k)
		if isBool {
			_, isBool = parseBool(f)
		}
		if isInt {
			_, isInt = parseInt64(f)
		}
		if isDec {
			id, fd, point, ok := decimalShape(f)
			switch {
			case !ok:
				isDec = false
			case point:
				if scale >= 0 && scale != fd {
					isDec = false
				}
				scale = fd
			}
			intDigits = max(intDigits, id)
		}
		if isFloat {
			_, isFloat = parseFloat(f, 64)
		}
		if isDate {
			_, isDate = parseDate(f)
		}
		if isTS {
			_, isTS = parseTimestamp(f)
		}
	}
	switch {
	case nonNull == 0:
		return arrow.BinaryTypes.String
	case isBool:
		return arrow.FixedWidthTypes.Boolean
	case isInt:
		return arrow.PrimitiveTypes.Int64
	case isDec && scale > 0 && intDigits+scale <= 18:
		return engineDecimal(18, int32(scale))
	case isFloat:
		return arrow.PrimitiveTypes.Float64
	case isDate:
		return arrow.FixedWidthTypes.Date32
	case isTS:
		return engineTimestamp
	}
	return arrow.BinaryTypes.String
}

// openParser opens path and positions a parser at the first record owned by
// the byte range [off, off+length) (length < 0: to the end). On an object
// store the bytes come through a readAhead: with ahead, the range is read
// several requests at a time ahead of the parser; without (schema
// inference, which reads a sample), one growing request at a time as the
// parser asks. Local files are read directly.
func (s *csvSource) openParser(ctx context.Context, path string, off, length int64, ahead bool) (*csvParser, func(), error) {
	remote := !fs.IsLocal(s.fsys)
	cancel := context.CancelFunc(func() {})
	if remote {
		// Closing the stream cancels its reads in flight.
		ctx, cancel = context.WithCancel(ctx)
	}
	f, err := s.fsys.Open(ctx, path)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("csv: %w", err)
	}
	closeFile := func() { f.Close(); cancel() }
	codec := codecFor(s.opts.compression, path)
	if codec != "none" && off != 0 {
		closeFile()
		return nil, nil, fmt.Errorf("csv %s: compressed files cannot be read from byte offset %d", path, off)
	}
	start := off
	if off > 0 {
		start = off - 1 // the byte before tells whether a record starts at off
	}
	if start > f.Size() {
		start = f.Size()
	}
	var r io.Reader = io.NewSectionReader(f, start, f.Size()-start)
	if remote {
		// Read ahead to the end of the range (the whole file when it is
		// compressed); the end of its last record is read as asked.
		limit := start
		if ahead {
			limit = f.Size()
			if length >= 0 && codec == "none" {
				limit = off + length
			}
		}
		ra := newReadAhead(f, start, limit, cancel)
		r = ra
		closeFile = func() { ra.Close(); f.Close() }
	}
	r, closeDec, err := decompress(codec, path, r)
	if err != nil {
		closeFile()
		return nil, nil, fmt.Errorf("csv %w", err)
	}
	if codec != "none" {
		r = errReader{r: r, path: path, code: codec}
	}
	end := int64(-1)
	if length >= 0 && codec == "none" {
		end = off + length
	}
	p := newCSVParser(path, r, &s.opts, start, end, off == 0)
	closeFn := func() { closeDec(); closeFile() }
	if off == 0 {
		// Skip a UTF-8 byte order mark (Excel writes one).
		if b, _ := p.rd.Peek(3); len(b) == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
			p.rd.Discard(3)
			p.pos += 3
		}
	}
	if off > 0 {
		if err := p.skipPartialLine(); err != nil {
			closeFn()
			return nil, nil, err
		}
		p.line = 0 // unknown; errors use byte offsets
	}
	return p, closeFn, nil
}

func (s *csvSource) Stats() Stats { return Stats{RowCount: s.rowCount, TotalBytes: s.totalBytes()} }

// Splits implements Source. Uncompressed files larger than the split size
// (max(min_split_bytes, total/targetSplits)) are cut into byte ranges; a
// range owns the records that start inside it. This assumes quoted fields
// contain no newlines — set min_split_bytes larger than the files to read
// such files whole.
func (s *csvSource) Splits(ctx context.Context, preds []Predicate, targetSplits int) ([]Split, error) {
	files, _, err := s.currentFiles(ctx, preds)
	if err != nil {
		return nil, err
	}
	return byteRangeSplits(&s.base, files, targetSplits), nil
}

func byteRangeSplits(b *base, files []fs.FileInfo, targetSplits int) []Split {
	if targetSplits < 1 {
		targetSplits = 1
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	chunk := max(b.opts.minSplitBytes, (total+int64(targetSplits)-1)/int64(targetSplits))
	var out []Split
	for _, f := range files {
		if codecFor(b.opts.compression, f.Path) != "none" || f.Size <= chunk {
			out = append(out, Split{Path: f.Path, Offset: 0, Length: -1, Rows: -1})
			continue
		}
		for off := int64(0); off < f.Size; off += chunk {
			n := min(chunk, f.Size-off)
			if off+n == f.Size {
				n = -1
			}
			out = append(out, Split{Path: f.Path, Offset: off, Length: n, Rows: -1})
		}
	}
	return out
}

// Open implements Source.
func (s *csvSource) Open(ctx context.Context, split Split, columns []int, batchSize int) (RecordReader, error) {
	return s.openTable(ctx, split, columns, batchSize, s.openFile)
}

// openFile reads the file columns of a split.
func (s *csvSource) openFile(ctx context.Context, split Split, columns []int, batchSize int) (RecordReader, error) {
	columns, err := s.checkColumns(columns)
	if err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("csv %s: batch size %d must be positive", split.Path, batchSize)
	}
	if split.Offset < 0 {
		return nil, fmt.Errorf("csv %s: negative split offset %d", split.Path, split.Offset)
	}
	p, closeFn, err := s.openParser(ctx, split.Path, split.Offset, split.Length, true)
	if err != nil {
		return nil, err
	}
	p.ncols = s.ncols
	if split.Offset == 0 && s.opts.header {
		if _, err := p.next(); err != nil {
			closeFn()
			return nil, err
		}
		if s.opts.schema == nil && p.nf == s.ncols {
			// Files of one source must agree on the header (inferred names
			// may have been de-duplicated, so compare only unique ones).
			for c := 0; c < s.ncols; c++ {
				name := s.schema.Field(c).Name
				if h := strings.TrimSpace(string(p.field(c))); h != name && h != "" && !strings.HasPrefix(name, h+"_") {
					closeFn()
					return nil, fmt.Errorf("csv %s: header column %d is %q, expected %q (as in %s)", split.Path, c+1, h, name, s.files[0].Path)
				}
			}
		}
		p.reset()
	}
	p.keep = make([]bool, s.ncols)
	for _, c := range columns {
		p.keep[c] = true
	}
	return &csvReader{
		src: s, p: p, closeFn: closeFn, columns: columns, batchSize: batchSize,
		schema: projectSchema(s.schema, columns), mem: compute.GetAllocator(ctx),
	}, nil
}

// maxBatchBytes ends a CSV batch early when its field data grows this large.
const maxBatchBytes = 256 << 20

type csvReader struct {
	src       *csvSource
	p         *csvParser
	closeFn   func()
	columns   []int
	batchSize int
	schema    *arrow.Schema
	mem       memory.Allocator
	rowLine   []int64
	rowPos    []int64
	done      bool
}

func (r *csvReader) Close() error {
	if r.closeFn != nil {
		r.closeFn()
		r.closeFn = nil
	}
	r.done = true
	return nil
}

func (r *csvReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.done {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := r.p
	p.reset()
	r.rowLine, r.rowPos = r.rowLine[:0], r.rowPos[:0]
	rows := 0
	for rows < r.batchSize {
		ok, err := p.next()
		if err != nil {
			r.done = true
			return nil, err
		}
		if !ok {
			r.done = true
			break
		}
		r.rowLine = append(r.rowLine, p.rowLn)
		r.rowPos = append(r.rowPos, p.rowPos)
		rows++
		if len(p.data) >= maxBatchBytes {
			break // keep int32 offsets safe with very wide rows
		}
	}
	if rows == 0 {
		return nil, nil
	}
	cols := make([]arrow.Array, len(r.columns))
	for j, c := range r.columns {
		arr, err := r.convert(c, rows)
		if err != nil {
			for _, a := range cols[:j] {
				a.Release()
			}
			r.done = true
			return nil, err
		}
		cols[j] = arr
	}
	rec := array.NewRecordBatch(r.schema, cols, int64(rows))
	for _, a := range cols {
		a.Release()
	}
	return rec, nil
}

func (r *csvReader) badValue(row, c int, f []byte, what string) error {
	p := r.p
	loc := fmt.Sprintf("record at byte offset %d", r.rowPos[row])
	if p.exact {
		loc = fmt.Sprintf("line %d", r.rowLine[row])
	}
	if len(f) > 64 {
		f = append(f[:64:64], "..."...)
	}
	return fmt.Errorf("csv %s: %s, column %d (%s): cannot parse %q as %s",
		p.path, loc, c+1, r.src.schema.Field(c).Name, f, what)
}

// convert parses file column c of the buffered rows into an array.
func (r *csvReader) convert(c, rows int) (arrow.Array, error) {
	dt := r.src.schema.Field(c).Type
	p := r.p
	nc := r.src.ncols
	switch t := dt.(type) {
	case *arrow.Int64Type:
		return buildFixed(r, dt, c, rows, "BIGINT", parseInt64)
	case *arrow.Int32Type:
		return buildFixed(r, dt, c, rows, "INT", func(b []byte) (int32, bool) {
			v, ok := parseInt64(b)
			return int32(v), ok && v >= -1<<31 && v < 1<<31
		})
	case *arrow.Int16Type:
		return buildFixed(r, dt, c, rows, "SMALLINT", func(b []byte) (int16, bool) {
			v, ok := parseInt64(b)
			return int16(v), ok && v >= -1<<15 && v < 1<<15
		})
	case *arrow.Int8Type:
		return buildFixed(r, dt, c, rows, "TINYINT", func(b []byte) (int8, bool) {
			v, ok := parseInt64(b)
			return int8(v), ok && v >= -1<<7 && v < 1<<7
		})
	case *arrow.Float64Type:
		return buildFixed(r, dt, c, rows, "DOUBLE", func(b []byte) (float64, bool) { return parseFloat(b, 64) })
	case *arrow.Float32Type:
		return buildFixed(r, dt, c, rows, "REAL", func(b []byte) (float32, bool) {
			v, ok := parseFloat(b, 32)
			return float32(v), ok
		})
	case *arrow.Date32Type:
		return buildFixed(r, dt, c, rows, "DATE", func(b []byte) (arrow.Date32, bool) {
			v, ok := parseDate(b)
			return arrow.Date32(v), ok
		})
	case *arrow.TimestampType:
		return buildFixed(r, dt, c, rows, "TIMESTAMP", func(b []byte) (arrow.Timestamp, bool) {
			v, ok := parseTimestamp(b)
			return arrow.Timestamp(v), ok
		})
	case *arrow.Decimal128Type:
		return buildFixed(r, dt, c, rows, dt.String(), func(b []byte) (decimal128.Num, bool) {
			return parseDecimal(b, t.Precision, t.Scale)
		})
	case *arrow.Decimal64Type:
		what := fmt.Sprintf("decimal(%d, %d)", t.Precision, t.Scale) // as for a Decimal128
		return buildFixed(r, dt, c, rows, what, func(b []byte) (decimal.Decimal64, bool) {
			v, ok := parseDecimal(b, t.Precision, t.Scale) // precision <= 18: fits
			return decimal.Decimal64(v.LowBits()), ok
		})
	case *arrow.BooleanType:
		bld := array.NewBooleanBuilder(r.mem)
		defer bld.Release()
		bld.Reserve(rows)
		for i := 0; i < rows; i++ {
			k := i*nc + c
			if p.nulls[k] {
				bld.UnsafeAppendBoolToBitmap(false)
				continue
			}
			v, ok := parseBool(p.field(k))
			if !ok {
				return nil, r.badValue(i, c, p.field(k), "BOOLEAN")
			}
			bld.UnsafeAppend(v)
		}
		return bld.NewArray(), nil
	case *arrow.StringType:
		bld := array.NewStringBuilder(r.mem)
		defer bld.Release()
		bld.Reserve(rows)
		total := 0
		for i := 0; i < rows; i++ {
			k := i*nc + c
			total += int(p.offs[k+1] - p.offs[k])
		}
		bld.ReserveData(total)
		for i := 0; i < rows; i++ {
			k := i*nc + c
			if p.nulls[k] {
				bld.AppendNull()
				continue
			}
			f := p.field(k)
			if !utf8.Valid(f) {
				return nil, r.badValue(i, c, f, "UTF-8 text (invalid UTF-8)")
			}
			bld.BinaryBuilder.UnsafeAppend(f)
		}
		return bld.NewArray(), nil
	}
	return nil, fmt.Errorf("csv %s: column %s: type %s is not supported", p.path, r.src.schema.Field(c).Name, dt)
}

// buildFixed parses one column of fixed-width values straight into Arrow
// buffers: one tight loop, no builder calls per value.
func buildFixed[T arrow.FixedWidthType](r *csvReader, dt arrow.DataType, c, rows int, what string, parse func([]byte) (T, bool)) (arrow.Array, error) {
	p := r.p
	nc := r.src.ncols
	var zero T
	values := memory.NewResizableBuffer(r.mem)
	defer values.Release()
	values.Resize(rows * int(unsafe.Sizeof(zero)))
	vals := arrow.GetData[T](values.Bytes())
	var validity *memory.Buffer
	var bits []byte
	nulls := 0
	for i := 0; i < rows; i++ {
		k := i*nc + c
		if p.nulls[k] {
			if validity == nil {
				validity = memory.NewResizableBuffer(r.mem)
				validity.Resize(int(bitutil.BytesForBits(int64(rows))))
				bits = validity.Bytes()
				bitutil.SetBitsTo(bits, 0, int64(rows), true)
				defer validity.Release()
			}
			bitutil.ClearBit(bits, i)
			vals[i] = zero
			nulls++
			continue
		}
		v, ok := parse(p.field(k))
		if !ok {
			return nil, r.badValue(i, c, p.field(k), what)
		}
		vals[i] = v
	}
	data := array.NewData(dt, rows, []*memory.Buffer{validity, values}, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}
