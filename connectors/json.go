package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
)

type jsonSource struct {
	base
}

var _ Source = (*jsonSource)(nil)

// Line-oriented access reuses csvParser's buffered reader and split-range
// bookkeeping; JSON records are exactly the non-empty lines.
func (s *jsonSource) openLines(ctx context.Context, path string, off, length int64, ahead bool) (*csvParser, func(), error) {
	cs := csvSource{base: s.base}
	p, closeFn, err := cs.openParser(ctx, path, off, length, ahead)
	if err != nil {
		return nil, nil, fmt.Errorf("json%s", strings.TrimPrefix(err.Error(), "csv"))
	}
	return p, closeFn, nil
}

// nextLine returns the next non-empty line owned by the split (without
// its line terminator) or nil at the end; p.rowLn / p.rowPos locate it.
func nextLine(p *csvParser) ([]byte, error) {
	for {
		if p.end >= 0 && p.pos >= p.end {
			return nil, nil
		}
		p.rowPos, p.rowLn = p.pos, p.line
		l, err := p.readLine()
		if err != nil || l == nil {
			return nil, err
		}
		if l = bytes.TrimSpace(l); len(l) > 0 {
			return l, nil
		}
	}
}

func openJSON(ctx context.Context, b base) (*jsonSource, error) {
	s := &jsonSource{base: b}
	s.rowCount = -1
	if b.opts.schema != nil {
		s.schema = b.opts.schema
		return s, nil
	}
	path := b.files[0].Path
	p, closeFn, err := s.openLines(ctx, path, 0, -1, false)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var root *jtype
	rows, atEnd := 0, false
	for ; rows < b.opts.inferRows; rows++ {
		line, err := nextLine(p)
		if err != nil {
			return nil, fmt.Errorf("json%s", strings.TrimPrefix(err.Error(), "csv"))
		}
		if line == nil {
			atEnd = true
			break
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		t, err := inferJSON(dec)
		if err == nil && dec.More() {
			err = fmt.Errorf("unexpected data after the object")
		}
		if err != nil {
			return nil, fmt.Errorf("json %s: line %d: %v", path, p.rowLn, err)
		}
		if t.kind != jStruct {
			return nil, fmt.Errorf("json %s: line %d: expected an object, found %s", path, p.rowLn, t.kind)
		}
		root = mergeJSON(root, t)
	}
	if root == nil || len(root.fields) == 0 {
		return nil, fmt.Errorf("json %s: no objects with fields to infer a schema from; pass option schema", path)
	}
	s.rowCount = s.estimateRows(p.pos, rows, atEnd)
	fields := make([]arrow.Field, len(root.fields))
	for i, f := range root.fields {
		fields[i] = arrow.Field{Name: f.name, Type: f.t.arrowType(), Nullable: true}
	}
	s.schema = arrow.NewSchema(fields, nil)
	return s, nil
}

type jkind int

const (
	jNull jkind = iota
	jBool
	jInt
	jFloat
	jString
	jStruct
	jList
)

func (k jkind) String() string {
	return [...]string{"null", "boolean", "integer", "number", "string", "object", "array"}[k]
}

type jfield struct {
	name string
	t    *jtype
}

type jtype struct {
	kind   jkind
	fields []jfield // jStruct, in first-seen order
	elem   *jtype   // jList
}

func (t *jtype) arrowType() arrow.DataType {
	switch t.kind {
	case jBool:
		return arrow.FixedWidthTypes.Boolean
	case jInt:
		return arrow.PrimitiveTypes.Int64
	case jFloat:
		return arrow.PrimitiveTypes.Float64
	case jStruct:
		if len(t.fields) == 0 {
			return arrow.BinaryTypes.String
		}
		fs := make([]arrow.Field, len(t.fields))
		for i, f := range t.fields {
			fs[i] = arrow.Field{Name: f.name, Type: f.t.arrowType(), Nullable: true}
		}
		return arrow.StructOf(fs...)
	case jList:
		elem := &jtype{}
		if t.elem != nil {
			elem = t.elem
		}
		return arrow.ListOf(elem.arrowType())
	}
	return arrow.BinaryTypes.String // string, null-only, or conflicting types
}

// mergeJSON widens a to also describe b: null merges into anything, int
// and float give float, objects merge field-wise, lists element-wise, and
// any other conflict gives string.
func mergeJSON(a, b *jtype) *jtype {
	switch {
	case a == nil || a.kind == jNull:
		return b
	case b == nil || b.kind == jNull:
		return a
	case a.kind == b.kind:
		switch a.kind {
		case jStruct:
			out := &jtype{kind: jStruct, fields: append([]jfield(nil), a.fields...)}
			for _, f := range b.fields {
				found := false
				for i := range out.fields {
					if out.fields[i].name == f.name {
						out.fields[i].t = mergeJSON(out.fields[i].t, f.t)
						found = true
						break
					}
				}
				if !found {
					out.fields = append(out.fields, f)
				}
			}
			return out
		case jList:
			return &jtype{kind: jList, elem: mergeJSON(a.elem, b.elem)}
		}
		return a
	case (a.kind == jInt && b.kind == jFloat) || (a.kind == jFloat && b.kind == jInt):
		return &jtype{kind: jFloat}
	}
	return &jtype{kind: jString}
}

const maxJSONDepth = 64

// inferJSON reads one JSON value from dec and describes its type.
func inferJSON(dec *json.Decoder) (*jtype, error) { return inferJSONDepth(dec, 0) }

func inferJSONDepth(dec *json.Decoder, depth int) (*jtype, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nesting deeper than %d levels", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("unexpected end of line")
		}
		return nil, err
	}
	switch v := tok.(type) {
	case nil:
		return &jtype{kind: jNull}, nil
	case bool:
		return &jtype{kind: jBool}, nil
	case string:
		return &jtype{kind: jString}, nil
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return &jtype{kind: jInt}, nil
		}
		return &jtype{kind: jFloat}, nil
	case json.Delim:
		switch v {
		case '{':
			t := &jtype{kind: jStruct}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				name, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				ft, err := inferJSONDepth(dec, depth+1)
				if err != nil {
					return nil, err
				}
				t = mergeJSON(t, &jtype{kind: jStruct, fields: []jfield{{name, ft}}})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return t, nil
		case '[':
			t := &jtype{kind: jList}
			for dec.More() {
				et, err := inferJSONDepth(dec, depth+1)
				if err != nil {
					return nil, err
				}
				t.elem = mergeJSON(t.elem, et)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func (s *jsonSource) Stats() Stats { return Stats{RowCount: s.rowCount, TotalBytes: s.totalBytes()} }

// Splits implements Source: byte ranges of uncompressed files, aligned to
// line starts, as for CSV.
func (s *jsonSource) Splits(ctx context.Context, preds []Predicate, targetSplits int) ([]Split, error) {
	files, _, err := s.currentFiles(ctx, preds)
	if err != nil {
		return nil, err
	}
	return byteRangeSplits(&s.base, files, targetSplits), nil
}

// Open implements Source. Lines are decoded one by one into a RecordBuilder
// of the projected schema (arrow-go's JSON unmarshalling); keys that are not
// projected are skipped.
func (s *jsonSource) Open(ctx context.Context, split Split, columns []int, batchSize int) (RecordReader, error) {
	return s.openTable(ctx, split, columns, batchSize, s.openFile)
}

// openFile reads the file columns of a split.
func (s *jsonSource) openFile(ctx context.Context, split Split, columns []int, batchSize int) (RecordReader, error) {
	columns, err := s.checkColumns(columns)
	if err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("json %s: batch size %d must be positive", split.Path, batchSize)
	}
	if split.Offset < 0 {
		return nil, fmt.Errorf("json %s: negative split offset %d", split.Path, split.Offset)
	}
	p, closeFn, err := s.openLines(ctx, split.Path, split.Offset, split.Length, true)
	if err != nil {
		return nil, err
	}
	// Decode distinct columns once, then fan out to the requested order.
	slot := map[int]int{}
	var distinct []arrow.Field
	outSlot := make([]int, len(columns))
	for i, c := range columns {
		j, ok := slot[c]
		if !ok {
			j = len(distinct)
			slot[c] = j
			distinct = append(distinct, s.schema.Field(c))
		}
		outSlot[i] = j
	}
	mem := compute.GetAllocator(ctx)
	// Decimals decode as Decimal128 (arrow-go parses Decimal64 JSON values
	// through a 64-bit float) and become the engine's Decimal64 in Next.
	decoded := make([]arrow.Field, len(distinct))
	for i, f := range distinct {
		decoded[i] = f
		if d, ok := f.Type.(*arrow.Decimal64Type); ok {
			decoded[i].Type = &arrow.Decimal128Type{Precision: d.Precision, Scale: d.Scale}
		}
	}
	return &jsonReader{
		path: split.Path, p: p, closeFn: closeFn, batchSize: batchSize,
		bld: array.NewRecordBuilder(mem, arrow.NewSchema(decoded, nil)), outSlot: outSlot,
		schema: projectSchema(s.schema, columns), fields: distinct,
	}, nil
}

type jsonReader struct {
	path      string
	p         *csvParser
	closeFn   func()
	batchSize int
	bld       *array.RecordBuilder
	outSlot   []int
	schema    *arrow.Schema
	fields    []arrow.Field // engine types of the builder's columns
	done      bool
}

func (r *jsonReader) Close() error {
	if r.closeFn != nil {
		r.closeFn()
		r.closeFn = nil
	}
	if r.bld != nil {
		r.bld.Release()
		r.bld = nil
	}
	r.done = true
	return nil
}

func (r *jsonReader) where() string {
	if r.p.exact {
		return fmt.Sprintf("line %d", r.p.rowLn)
	}
	return fmt.Sprintf("line at byte offset %d", r.p.rowPos)
}

func (r *jsonReader) unmarshal(line []byte) (err error) {
	defer recoverErr(&err, "json %s: %s", r.path, r.where())
	return r.bld.UnmarshalJSON(line)
}

func (r *jsonReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.done {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows := 0
	for rows < r.batchSize {
		line, err := nextLine(r.p)
		if err != nil {
			r.done = true
			return nil, fmt.Errorf("json%s", strings.TrimPrefix(err.Error(), "csv"))
		}
		if line == nil {
			r.done = true
			break
		}
		if !utf8.Valid(line) {
			r.done = true
			return nil, fmt.Errorf("json %s: %s: invalid UTF-8", r.path, r.where())
		}
		if !json.Valid(line) {
			r.done = true
			return nil, fmt.Errorf("json %s: %s: malformed JSON: %s", r.path, r.where(), jsonSyntaxError(line))
		}
		if line[0] != '{' {
			r.done = true
			return nil, fmt.Errorf("json %s: %s: expected an object", r.path, r.where())
		}
		if err := r.unmarshal(line); err != nil {
			r.done = true
			return nil, fmt.Errorf("json %s: %s: %w", r.path, r.where(), err)
		}
		rows++
	}
	if rows == 0 {
		return nil, nil
	}
	rec := r.bld.NewRecordBatch()
	defer rec.Release()
	decoded := make([]arrow.Array, rec.NumCols())
	for j, f := range r.fields {
		a := rec.Column(j)
		a.Retain()
		var err error
		if decoded[j], err = toEngine(ctx, a, f.Type); err != nil {
			releaseArrays(decoded)
			return nil, fmt.Errorf("json %s: column %q: %w", r.path, f.Name, err)
		}
	}
	defer releaseArrays(decoded)
	cols := make([]arrow.Array, len(r.outSlot))
	for i, j := range r.outSlot {
		cols[i] = decoded[j]
	}
	return array.NewRecordBatch(r.schema, cols, int64(rows)), nil
}

func jsonSyntaxError(line []byte) string {
	var v any
	err := json.Unmarshal(line, &v)
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v (at byte %d of the line)", se, se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "invalid JSON"
}
