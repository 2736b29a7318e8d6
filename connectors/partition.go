package connectors

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/connectors/fs"
)

// Hive partition columns: their types, values, pruning, and the constant
// arrays that carry them in batches. The table schema is the format's file
// columns followed by the partition columns; a file column with the name
// of a partition key (ignoring case) keeps its position but takes the
// key's type and the folder's value, as DuckDB does.

// tableCol says where a table column comes from: file column file, or
// partition key key (exactly one is >= 0).
type tableCol struct{ file, key int }

// finishTable derives the table schema from the format's file schema and
// the layout's partition keys.
func (b *base) finishTable() {
	b.table = b.schema
	if b.lay == nil || len(b.lay.keys) == 0 {
		return
	}
	keys := b.lay.keys
	used := make([]bool, len(keys))
	keyOf := func(name string) int {
		for k := range keys {
			if strings.EqualFold(keys[k].name, name) {
				return k
			}
		}
		return -1
	}
	var fields []arrow.Field
	var cols []tableCol
	for i, f := range b.schema.Fields() {
		if k := keyOf(f.Name); k >= 0 && !used[k] {
			used[k] = true
			fields = append(fields, arrow.Field{Name: f.Name, Type: keys[k].typ, Nullable: true})
			cols = append(cols, tableCol{file: -1, key: k})
			continue
		}
		fields = append(fields, f)
		cols = append(cols, tableCol{file: i, key: -1})
	}
	for k, key := range keys {
		if !used[k] {
			fields = append(fields, arrow.Field{Name: key.name, Type: key.typ, Nullable: true})
			cols = append(cols, tableCol{file: -1, key: k})
		}
	}
	b.table = arrow.NewSchema(fields, nil)
	b.tableCols = cols
}

// splitPreds checks preds against the table schema and separates those on
// partition columns (by key) from those on file columns (renumbered to the
// format's file schema).
func (b *base) splitPreds(preds []Predicate) (filePreds []Predicate, keyPreds map[string][]Predicate, err error) {
	for _, p := range preds {
		if p.Column < 0 || p.Column >= b.table.NumFields() {
			return nil, nil, fmt.Errorf("%s %s: predicate column %d out of range", b.format, b.location, p.Column)
		}
		if b.tableCols == nil {
			filePreds = append(filePreds, p)
			continue
		}
		tc := b.tableCols[p.Column]
		if tc.file >= 0 {
			p.Column = tc.file
			filePreds = append(filePreds, p)
			continue
		}
		if keyPreds == nil {
			keyPreds = map[string][]Predicate{}
		}
		name := b.lay.keys[tc.key].name
		keyPreds[name] = append(keyPreds[name], p)
	}
	return filePreds, keyPreds, nil
}

// currentFiles lists the files a query reads: the location is listed
// again (a single file is not), level by level, skipping partition
// folders that keyPreds refute before listing anything below them.
func (b *base) currentFiles(ctx context.Context, preds []Predicate) ([]fs.FileInfo, []Predicate, error) {
	filePreds, keyPreds, err := b.splitPreds(preds)
	if err != nil {
		return nil, nil, err
	}
	if b.lay == nil || b.lay.single {
		return b.files, filePreds, nil
	}
	var prune prunePart
	if len(keyPreds) > 0 {
		types := map[string]arrow.DataType{}
		for _, k := range b.lay.keys {
			types[k.name] = k.typ
		}
		prune = func(key, raw string) (bool, error) {
			ps := keyPreds[key]
			if len(ps) == 0 {
				return true, nil
			}
			v, err := parsePartValue(raw, types[key])
			if err != nil {
				return false, fmt.Errorf("%s %s: partition folder %s=%s: %w", b.format, b.location, key, raw, err)
			}
			return partMayMatch(v, ps), nil
		}
	}
	listed, _, err := b.lay.walk(ctx, b.fsys, prune)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", b.format, b.location, err)
	}
	if b.lay.hive {
		names := make([]string, len(b.lay.keys))
		for i, k := range b.lay.keys {
			names[i] = k.name
		}
		if err := checkKeys(listed, names); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w (the table was registered with keys %v)", b.format, b.location, err, names)
		}
	}
	files := make([]fs.FileInfo, len(listed))
	for i, f := range listed {
		files[i] = f.FileInfo
	}
	return files, filePreds, nil
}

// RowPruner is implemented by every Source: PrunedRows estimates, from
// what Open listed and without I/O, how many rows a scan reads once preds
// have pruned partition folders — the exact row counts of the surviving
// Parquet files, or the source's estimate scaled by the surviving bytes
// for CSV and JSON. used[i] tells whether preds[i] is on a partition
// column; pruning on such a column is exact, so a planner need not count
// its selectivity again. ok is false when no predicate is on a partition
// column, or the row count is unknown.
type RowPruner interface {
	// Partitioned reports whether the source has partition columns (else
	// PrunedRows never answers).
	Partitioned() bool
	PrunedRows(preds []Predicate) (rows int64, used []bool, ok bool)
}

// Partitioned implements RowPruner.
func (b *base) Partitioned() bool { return b.tableCols != nil }

var _ RowPruner = (*base)(nil)

// PrunedRows implements RowPruner.
func (b *base) PrunedRows(preds []Predicate) (rows int64, used []bool, ok bool) {
	if b.tableCols == nil || b.rowCount < 0 {
		return 0, nil, false
	}
	used = make([]bool, len(preds))
	byKey := make([][]Predicate, len(b.lay.keys))
	for i, p := range preds {
		if p.Column < 0 || p.Column >= len(b.tableCols) {
			continue
		}
		if k := b.tableCols[p.Column].key; k >= 0 {
			used[i] = true
			byKey[k] = append(byKey[k], p)
			ok = true
		}
	}
	if !ok {
		return 0, nil, false
	}
	var keptBytes, totalBytes int64
	for f, fi := range b.files {
		totalBytes += fi.Size
		keep := true
		for k, ps := range byKey {
			if len(ps) == 0 || k >= len(b.fileVals[f]) {
				continue
			}
			v, err := parsePartValue(b.fileVals[f][k], b.lay.keys[k].typ)
			if err != nil {
				continue
			}
			keep = keep && partMayMatch(v, ps)
		}
		if keep {
			keptBytes += fi.Size
			if b.fileRows != nil {
				rows += b.fileRows[f]
			}
		}
	}
	if b.fileRows == nil && totalBytes > 0 {
		rows = int64(float64(b.rowCount) * float64(keptBytes) / float64(totalBytes))
	}
	return rows, used, true
}

// openTable opens a split through the format's reader of file columns,
// adding partition columns as constants. open receives indices into the
// file schema (never nil).
func (b *base) openTable(ctx context.Context, split Split, columns []int, batchSize int,
	open func(ctx context.Context, split Split, fileCols []int, batchSize int) (RecordReader, error)) (RecordReader, error) {
	if b.tableCols == nil {
		return open(ctx, split, columns, batchSize)
	}
	n := b.table.NumFields()
	if columns == nil {
		columns = make([]int, n)
		for i := range columns {
			columns[i] = i
		}
	}
	fileCols := []int{}
	from := make([]int, len(columns))
	needKeys := false
	for i, c := range columns {
		if c < 0 || c >= n {
			return nil, fmt.Errorf("%s %s: column index %d out of range (schema has %d columns)", b.format, b.location, c, n)
		}
		if tc := b.tableCols[c]; tc.file >= 0 {
			from[i] = len(fileCols)
			fileCols = append(fileCols, tc.file)
		} else {
			from[i] = -1 - tc.key
			needKeys = true
		}
	}
	if !needKeys {
		return open(ctx, split, fileCols, batchSize)
	}
	vals, err := b.partValues(split.Path)
	if err != nil {
		return nil, err
	}
	inner, err := open(ctx, split, fileCols, batchSize)
	if err != nil {
		return nil, err
	}
	return &partReader{inner: inner, schema: projectSchema(b.table, columns), from: from, keys: b.lay.keys,
		vals: vals, mem: compute.GetAllocator(ctx), consts: make([]arrow.Array, len(vals))}, nil
}

// partValues types the partition folder values of the file at p.
func (b *base) partValues(p string) ([]any, error) {
	keys, raws := b.lay.partsOf(p)
	if len(keys) != len(b.lay.keys) {
		return nil, fmt.Errorf("%s %s: file %s lies under partition keys %v, the table has %v", b.format, b.location, p, keys, b.keyNames())
	}
	vals := make([]any, len(keys))
	for i, k := range b.lay.keys {
		if keys[i] != k.name {
			return nil, fmt.Errorf("%s %s: file %s lies under partition keys %v, the table has %v", b.format, b.location, p, keys, b.keyNames())
		}
		v, err := parsePartValue(raws[i], k.typ)
		if err != nil {
			return nil, fmt.Errorf("%s %s: partition folder %s=%s of %s: %w", b.format, b.location, k.name, raws[i], p, err)
		}
		vals[i] = v
	}
	return vals, nil
}

func (b *base) keyNames() []string {
	out := make([]string, len(b.lay.keys))
	for i, k := range b.lay.keys {
		out[i] = k.name
	}
	return out
}

// partReader appends partition constants to the batches of a file reader.
type partReader struct {
	inner  RecordReader
	schema *arrow.Schema
	from   []int // output column: inner column from[i] >= 0, or key -1-from[i]
	keys   []partKey
	vals   []any
	mem    memory.Allocator
	// consts[k] is key k's constant column, constLen rows long: batches
	// mostly have one length, so it is built once and shared.
	consts   []arrow.Array
	constLen int64
	// fileTyped is the schema of the last batch (see schemaFor).
	fileTyped *arrow.Schema
}

func (r *partReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	rec, err := r.inner.Next(ctx)
	if err != nil || rec == nil {
		return nil, err
	}
	defer rec.Release()
	n := rec.NumRows()
	if n != r.constLen {
		r.releaseConsts()
		r.constLen = n
	}
	cols := make([]arrow.Array, len(r.from))
	for i, j := range r.from {
		if j >= 0 {
			cols[i] = rec.Column(j)
			continue
		}
		k := -1 - j
		if r.consts[k] == nil {
			c, err := constArray(r.mem, r.keys[k].typ, r.vals[k], int(n))
			if err != nil {
				return nil, fmt.Errorf("partition column %s: %w", r.keys[k].name, err)
			}
			r.consts[k] = c
		}
		cols[i] = r.consts[k]
	}
	return array.NewRecordBatch(r.schemaFor(rec), cols, n), nil
}

// schemaFor is r.schema, except that file columns take the types rec has
// (a DictOpener's dictionary columns).
func (r *partReader) schemaFor(rec arrow.RecordBatch) *arrow.Schema {
	if r.fileTyped == nil {
		r.fileTyped = r.schema
	}
	for i, j := range r.from {
		if j >= 0 && !arrow.TypeEqual(r.fileTyped.Field(i).Type, rec.Column(j).DataType()) {
			fields := r.schema.Fields()
			for i, j := range r.from {
				if j >= 0 {
					fields[i].Type = rec.Column(j).DataType()
				}
			}
			r.fileTyped = arrow.NewSchema(fields, nil)
			break
		}
	}
	return r.fileTyped
}

func (r *partReader) releaseConsts() {
	for k, c := range r.consts {
		if c != nil {
			c.Release()
			r.consts[k] = nil
		}
	}
}

func (r *partReader) Close() error {
	r.releaseConsts()
	return r.inner.Close()
}

// inferPartType types a partition key from its folder values: BIGINT if
// every non-NULL value is an integer, DATE if every one is YYYY-MM-DD,
// else VARCHAR.
func inferPartType(vals []string) arrow.DataType {
	isInt, isDate, seen := true, true, false
	for _, v := range vals {
		if isPartNull(v) {
			continue
		}
		seen = true
		if isInt {
			_, err := strconv.ParseInt(v, 10, 64)
			isInt = err == nil
		}
		if isDate {
			_, isDate = parseDate([]byte(v))
		}
	}
	switch {
	case !seen:
		return arrow.BinaryTypes.String
	case isInt:
		return arrow.PrimitiveTypes.Int64
	case isDate:
		return arrow.FixedWidthTypes.Date32
	}
	return arrow.BinaryTypes.String
}

func isPartNull(raw string) bool { return raw == HiveDefaultPartition || raw == "" }

// partValueParser returns the parser of folder values into the canonical
// Go value of typ (the kinds Predicate.Value uses: int64 for every
// integer width, float64, decimal128.Num, arrow.Date32, arrow.Timestamp,
// bool, string), or an error for types partitions do not support.
func partValueParser(typ arrow.DataType) (func(string) (any, bool), error) {
	intRange := func(lo, hi int64) func(string) (any, bool) {
		return func(s string) (any, bool) {
			v, err := strconv.ParseInt(s, 10, 64)
			return v, err == nil && v >= lo && v <= hi
		}
	}
	switch t := typ.(type) {
	case *arrow.StringType:
		return func(s string) (any, bool) { return s, true }, nil
	case *arrow.Int64Type:
		return intRange(math.MinInt64, math.MaxInt64), nil
	case *arrow.Int32Type:
		return intRange(math.MinInt32, math.MaxInt32), nil
	case *arrow.Int16Type:
		return intRange(math.MinInt16, math.MaxInt16), nil
	case *arrow.Int8Type:
		return intRange(math.MinInt8, math.MaxInt8), nil
	case *arrow.Float64Type, *arrow.Float32Type:
		return func(s string) (any, bool) {
			v, err := strconv.ParseFloat(s, 64)
			return v, err == nil
		}, nil
	case *arrow.Decimal128Type:
		return func(s string) (any, bool) { return parseDecimal([]byte(s), t.Precision, t.Scale) }, nil
	case *arrow.Decimal64Type:
		return func(s string) (any, bool) { return parseDecimal([]byte(s), t.Precision, t.Scale) }, nil
	case *arrow.Date32Type:
		return func(s string) (any, bool) {
			d, ok := parseDate([]byte(s))
			return arrow.Date32(d), ok
		}, nil
	case *arrow.TimestampType:
		return func(s string) (any, bool) {
			v, ok := parseTimestamp([]byte(s))
			return arrow.Timestamp(v), ok
		}, nil
	case *arrow.BooleanType:
		return func(s string) (any, bool) { return parseBool([]byte(s)) }, nil
	}
	return nil, fmt.Errorf("type %s is not supported for partition columns", typ)
}

// parsePartValue types one folder value; nil is NULL.
func parsePartValue(raw string, typ arrow.DataType) (any, error) {
	if isPartNull(raw) {
		return nil, nil
	}
	parse, err := partValueParser(typ)
	if err != nil {
		return nil, err
	}
	v, ok := parse(raw)
	if !ok {
		return nil, fmt.Errorf("value %q is not a %s (the column's type when the table was registered)", raw, sqlTypeName(typ))
	}
	return v, nil
}

func sqlTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.INT64:
		return "BIGINT"
	case arrow.INT32:
		return "INTEGER"
	case arrow.DATE32:
		return "DATE"
	case arrow.STRING:
		return "VARCHAR"
	case arrow.DECIMAL64, arrow.DECIMAL128:
		d := t.(arrow.DecimalType)
		return fmt.Sprintf("DECIMAL(%d, %d)", d.GetPrecision(), d.GetScale())
	}
	return strings.ToUpper(t.String())
}

// partMayMatch reports whether a row whose column holds v may satisfy all
// of ps, predicates on that one column ("in" members forming one list).
func partMayMatch(v any, ps []Predicate) bool {
	rest, lists := inLists(ps)
	for _, p := range rest {
		if !partValueMayMatch(v, p) {
			return false
		}
	}
	for _, vals := range lists {
		if v == nil {
			return false
		}
		found := false
		for _, x := range vals {
			if c, ok := cmpPartValue(v, x); !ok || c == 0 {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// partValueMayMatch reports whether a row whose column holds v may satisfy
// p (not "in"); it answers true when it cannot tell (a value of another Go
// type).
func partValueMayMatch(v any, p Predicate) bool {
	switch p.Op {
	case "isnull":
		return v == nil
	case "isnotnull":
		return v != nil
	case "=", "<>", "<", "<=", ">", ">=":
	default:
		return true
	}
	if v == nil {
		return false // a comparison with NULL is never true
	}
	c, ok := cmpPartValue(v, p.Value)
	if !ok {
		return true
	}
	switch p.Op {
	case "=":
		return c == 0
	case "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// cmpPartValue compares a canonical partition value with a predicate
// constant of the same Go type.
func cmpPartValue(v, x any) (int, bool) {
	switch a := v.(type) {
	case int64:
		if b, ok := x.(int64); ok {
			return cmpOrdered(a, b), true
		}
	case float64:
		if b, ok := x.(float64); ok && !math.IsNaN(a) && !math.IsNaN(b) {
			return cmpOrdered(a, b), true
		}
	case string:
		if b, ok := x.(string); ok {
			return strings.Compare(a, b), true
		}
	case decimal128.Num:
		if b, ok := x.(decimal128.Num); ok {
			return a.Cmp(b), true
		}
	case arrow.Date32:
		if b, ok := x.(arrow.Date32); ok {
			return cmpOrdered(int64(a), int64(b)), true
		}
	case arrow.Timestamp:
		if b, ok := x.(arrow.Timestamp); ok {
			return cmpOrdered(int64(a), int64(b)), true
		}
	case bool:
		if b, ok := x.(bool); ok {
			return cmpOrdered(b2i(a), b2i(b)), true
		}
	}
	return 0, false
}

// constArray builds a column of n copies of the canonical value v of type
// typ (NULLs when v is nil).
func constArray(mem memory.Allocator, typ arrow.DataType, v any, n int) (arrow.Array, error) {
	if v == nil {
		return array.MakeArrayOfNull(mem, typ, n), nil
	}
	switch typ.ID() {
	case arrow.STRING:
		s := v.(string)
		if int64(len(s))*int64(n) > math.MaxInt32 {
			return nil, fmt.Errorf("%d copies of a %d-byte value exceed a batch's string capacity", n, len(s))
		}
		offsets := memory.NewResizableBuffer(mem)
		defer offsets.Release()
		offsets.Resize((n + 1) * arrow.Int32SizeBytes)
		offs := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
		for i := range offs {
			offs[i] = int32(i * len(s))
		}
		data := memory.NewResizableBuffer(mem)
		defer data.Release()
		data.Resize(n * len(s))
		if buf := data.Bytes(); len(buf) > 0 {
			copy(buf, s)
			for filled := len(s); filled < len(buf); filled *= 2 {
				copy(buf[filled:], buf[:filled])
			}
		}
		d := array.NewData(typ, n, []*memory.Buffer{nil, offsets, data}, nil, 0, 0)
		defer d.Release()
		return array.MakeFromData(d), nil
	case arrow.BOOL:
		bits := memory.NewResizableBuffer(mem)
		defer bits.Release()
		bits.Resize(int((n + 7) / 8))
		if v.(bool) {
			for i := range bits.Bytes() {
				bits.Bytes()[i] = 0xff
			}
		} else {
			clear(bits.Bytes())
		}
		d := array.NewData(typ, n, []*memory.Buffer{nil, bits}, nil, 0, 0)
		defer d.Release()
		return array.MakeFromData(d), nil
	case arrow.INT64:
		return fillConst(mem, typ, v.(int64), n), nil
	case arrow.INT32:
		return fillConst(mem, typ, int32(v.(int64)), n), nil
	case arrow.INT16:
		return fillConst(mem, typ, int16(v.(int64)), n), nil
	case arrow.INT8:
		return fillConst(mem, typ, int8(v.(int64)), n), nil
	case arrow.FLOAT64:
		return fillConst(mem, typ, v.(float64), n), nil
	case arrow.FLOAT32:
		return fillConst(mem, typ, float32(v.(float64)), n), nil
	case arrow.DECIMAL128:
		return fillConst(mem, typ, v.(decimal128.Num), n), nil
	case arrow.DECIMAL64:
		return fillConst(mem, typ, decimal.Decimal64(v.(decimal128.Num).LowBits()), n), nil
	case arrow.DATE32:
		return fillConst(mem, typ, v.(arrow.Date32), n), nil
	case arrow.TIMESTAMP:
		return fillConst(mem, typ, v.(arrow.Timestamp), n), nil
	}
	return nil, fmt.Errorf("type %s is not supported for partition columns", typ)
}

func fillConst[T arrow.FixedWidthType](mem memory.Allocator, typ arrow.DataType, v T, n int) arrow.Array {
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize(n * int(typ.(arrow.FixedWidthDataType).BitWidth()/8))
	vals := arrow.GetData[T](buf.Bytes())
	for i := range vals {
		vals[i] = v
	}
	d := array.NewData(typ, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}
