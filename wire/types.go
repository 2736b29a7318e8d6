package wire

import (
	"errors"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// PlanVersion is the wire format version this build reads and writes.
const PlanVersion uint32 = 1

// ErrVersion is wrapped by the errors decoders return for a message of
// another (or no) version.
var ErrVersion = errors.New("unsupported plan version")

func checkVersion(what string, v uint32) error {
	if v == 0 {
		return fmt.Errorf("wire: %s: %w: version missing (empty or foreign message?), want %d", what, ErrVersion, PlanVersion)
	}
	if v != PlanVersion {
		return fmt.Errorf("wire: %s: %w %d, this build speaks version %d", what, ErrVersion, v, PlanVersion)
	}
	return nil
}

// recoverTo turns a panic in a decoder into an error. Decoders validate
// their input; this is the last line of defence so that a bug never lets
// bad input crash a driver or an executor.
func recoverTo(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("wire: %s: internal error decoding: %v", what, r)
	}
}

var simpleTypes = map[arrow.Type]pb.TypeId{
	arrow.NULL:                    pb.TypeId_TYPE_ID_NULL,
	arrow.BOOL:                    pb.TypeId_TYPE_ID_BOOL,
	arrow.INT8:                    pb.TypeId_TYPE_ID_INT8,
	arrow.INT16:                   pb.TypeId_TYPE_ID_INT16,
	arrow.INT32:                   pb.TypeId_TYPE_ID_INT32,
	arrow.INT64:                   pb.TypeId_TYPE_ID_INT64,
	arrow.UINT8:                   pb.TypeId_TYPE_ID_UINT8,
	arrow.UINT16:                  pb.TypeId_TYPE_ID_UINT16,
	arrow.UINT32:                  pb.TypeId_TYPE_ID_UINT32,
	arrow.UINT64:                  pb.TypeId_TYPE_ID_UINT64,
	arrow.FLOAT32:                 pb.TypeId_TYPE_ID_FLOAT32,
	arrow.FLOAT64:                 pb.TypeId_TYPE_ID_FLOAT64,
	arrow.STRING:                  pb.TypeId_TYPE_ID_UTF8,
	arrow.LARGE_STRING:            pb.TypeId_TYPE_ID_LARGE_UTF8,
	arrow.BINARY:                  pb.TypeId_TYPE_ID_BINARY,
	arrow.LARGE_BINARY:            pb.TypeId_TYPE_ID_LARGE_BINARY,
	arrow.DATE32:                  pb.TypeId_TYPE_ID_DATE32,
	arrow.DATE64:                  pb.TypeId_TYPE_ID_DATE64,
	arrow.INTERVAL_MONTH_DAY_NANO: pb.TypeId_TYPE_ID_INTERVAL_MONTH_DAY_NANO,
}

var simpleDecoded = map[pb.TypeId]arrow.DataType{
	pb.TypeId_TYPE_ID_NULL:                    arrow.Null,
	pb.TypeId_TYPE_ID_BOOL:                    arrow.FixedWidthTypes.Boolean,
	pb.TypeId_TYPE_ID_INT8:                    arrow.PrimitiveTypes.Int8,
	pb.TypeId_TYPE_ID_INT16:                   arrow.PrimitiveTypes.Int16,
	pb.TypeId_TYPE_ID_INT32:                   arrow.PrimitiveTypes.Int32,
	pb.TypeId_TYPE_ID_INT64:                   arrow.PrimitiveTypes.Int64,
	pb.TypeId_TYPE_ID_UINT8:                   arrow.PrimitiveTypes.Uint8,
	pb.TypeId_TYPE_ID_UINT16:                  arrow.PrimitiveTypes.Uint16,
	pb.TypeId_TYPE_ID_UINT32:                  arrow.PrimitiveTypes.Uint32,
	pb.TypeId_TYPE_ID_UINT64:                  arrow.PrimitiveTypes.Uint64,
	pb.TypeId_TYPE_ID_FLOAT32:                 arrow.PrimitiveTypes.Float32,
	pb.TypeId_TYPE_ID_FLOAT64:                 arrow.PrimitiveTypes.Float64,
	pb.TypeId_TYPE_ID_UTF8:                    arrow.BinaryTypes.String,
	pb.TypeId_TYPE_ID_LARGE_UTF8:              arrow.BinaryTypes.LargeString,
	pb.TypeId_TYPE_ID_BINARY:                  arrow.BinaryTypes.Binary,
	pb.TypeId_TYPE_ID_LARGE_BINARY:            arrow.BinaryTypes.LargeBinary,
	pb.TypeId_TYPE_ID_DATE32:                  arrow.FixedWidthTypes.Date32,
	pb.TypeId_TYPE_ID_DATE64:                  arrow.FixedWidthTypes.Date64,
	pb.TypeId_TYPE_ID_INTERVAL_MONTH_DAY_NANO: arrow.FixedWidthTypes.MonthDayNanoInterval,
}

// EncodeType encodes an Arrow data type.
func EncodeType(t arrow.DataType) (*pb.DataType, error) {
	if t == nil {
		return nil, errors.New("missing data type")
	}
	if id, ok := simpleTypes[t.ID()]; ok {
		return &pb.DataType{Id: id}, nil
	}
	switch t := t.(type) {
	case *arrow.Decimal64Type:
		return &pb.DataType{Id: pb.TypeId_TYPE_ID_DECIMAL64, Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.Decimal128Type:
		return &pb.DataType{Id: pb.TypeId_TYPE_ID_DECIMAL128, Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.TimestampType:
		return &pb.DataType{Id: pb.TypeId_TYPE_ID_TIMESTAMP, Unit: pb.TimeUnit(t.Unit), Timezone: t.TimeZone}, nil
	case *arrow.StructType:
		p := &pb.DataType{Id: pb.TypeId_TYPE_ID_STRUCT}
		for _, f := range t.Fields() {
			pf, err := encodeField(f)
			if err != nil {
				return nil, fmt.Errorf("struct: %w", err)
			}
			p.Children = append(p.Children, pf)
		}
		return p, nil
	case *arrow.ListType:
		pf, err := encodeField(t.ElemField())
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		return &pb.DataType{Id: pb.TypeId_TYPE_ID_LIST, Children: []*pb.Field{pf}}, nil
	}
	return nil, fmt.Errorf("data type %s cannot be encoded", t)
}

// DecodeType decodes an Arrow data type.
func DecodeType(p *pb.DataType) (arrow.DataType, error) {
	if p == nil {
		return nil, errors.New("missing data type")
	}
	if t, ok := simpleDecoded[p.Id]; ok {
		return t, nil
	}
	switch p.Id {
	case pb.TypeId_TYPE_ID_DECIMAL64:
		if p.Precision < 1 || p.Precision > 18 || p.Scale < 0 || p.Scale > p.Precision {
			return nil, fmt.Errorf("decimal64(%d, %d): precision must be 1..18 and scale 0..precision", p.Precision, p.Scale)
		}
		return &arrow.Decimal64Type{Precision: p.Precision, Scale: p.Scale}, nil
	case pb.TypeId_TYPE_ID_DECIMAL128:
		if p.Precision < 1 || p.Precision > 38 || p.Scale < 0 || p.Scale > 38 {
			return nil, fmt.Errorf("decimal128(%d, %d): precision must be 1..38 and scale 0..38", p.Precision, p.Scale)
		}
		return &arrow.Decimal128Type{Precision: p.Precision, Scale: p.Scale}, nil
	case pb.TypeId_TYPE_ID_TIMESTAMP:
		if p.Unit < pb.TimeUnit_TIME_UNIT_SECOND || p.Unit > pb.TimeUnit_TIME_UNIT_NANOSECOND {
			return nil, fmt.Errorf("timestamp: unknown time unit %d", p.Unit)
		}
		return &arrow.TimestampType{Unit: arrow.TimeUnit(p.Unit), TimeZone: p.Timezone}, nil
	case pb.TypeId_TYPE_ID_STRUCT:
		fields := make([]arrow.Field, len(p.Children))
		seen := make(map[string]bool, len(p.Children))
		for i, c := range p.Children {
			f, err := decodeField(c)
			if err != nil {
				return nil, fmt.Errorf("struct field %d: %w", i, err)
			}
			if seen[f.Name] {
				return nil, fmt.Errorf("struct: duplicate field %q", f.Name)
			}
			seen[f.Name] = true
			fields[i] = f
		}
		return arrow.StructOf(fields...), nil
	case pb.TypeId_TYPE_ID_LIST:
		if len(p.Children) != 1 {
			return nil, fmt.Errorf("list: want 1 element field, got %d", len(p.Children))
		}
		f, err := decodeField(p.Children[0])
		if err != nil {
			return nil, fmt.Errorf("list element: %w", err)
		}
		return arrow.ListOfField(f), nil
	}
	return nil, fmt.Errorf("unknown data type id %d", p.Id)
}

func encodeField(f arrow.Field) (*pb.Field, error) {
	t, err := EncodeType(f.Type)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", f.Name, err)
	}
	p := &pb.Field{Name: f.Name, Type: t, Nullable: f.Nullable}
	if f.HasMetadata() {
		p.Metadata = f.Metadata.ToMap()
	}
	return p, nil
}

func decodeField(p *pb.Field) (arrow.Field, error) {
	if p == nil {
		return arrow.Field{}, errors.New("missing field")
	}
	t, err := DecodeType(p.Type)
	if err != nil {
		return arrow.Field{}, fmt.Errorf("field %s: %w", p.Name, err)
	}
	return arrow.Field{Name: p.Name, Type: t, Nullable: p.Nullable, Metadata: metadata(p.Metadata)}, nil
}

func metadata(m map[string]string) arrow.Metadata {
	if len(m) == 0 {
		return arrow.Metadata{}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = m[k]
	}
	return arrow.NewMetadata(keys, vals)
}

// EncodeArrowSchema encodes an Arrow schema with flintpb field messages.
func EncodeArrowSchema(s *arrow.Schema) (*pb.ArrowSchema, error) {
	if s == nil {
		return nil, errors.New("missing arrow schema")
	}
	p := &pb.ArrowSchema{Fields: make([]*pb.Field, s.NumFields())}
	for i, f := range s.Fields() {
		pf, err := encodeField(f)
		if err != nil {
			return nil, err
		}
		p.Fields[i] = pf
	}
	if s.HasMetadata() {
		md := s.Metadata()
		p.Metadata = md.ToMap()
	}
	return p, nil
}

// DecodeArrowSchema decodes an Arrow schema.
func DecodeArrowSchema(p *pb.ArrowSchema) (*arrow.Schema, error) {
	if p == nil {
		return nil, errors.New("missing arrow schema")
	}
	fields := make([]arrow.Field, len(p.Fields))
	for i, pf := range p.Fields {
		f, err := decodeField(pf)
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", i, err)
		}
		fields[i] = f
	}
	md := metadata(p.Metadata)
	return arrow.NewSchema(fields, &md), nil
}

func encodeSchema(s plan.Schema) (*pb.Schema, error) {
	p := &pb.Schema{Columns: make([]*pb.Column, len(s))}
	for i, c := range s {
		t, err := EncodeType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c, err)
		}
		p.Columns[i] = &pb.Column{Id: int32(c.ID), Name: c.Name, Table: c.Table, Type: t, Nullable: c.Nullable}
	}
	return p, nil
}

// encodeMark encodes a mark join's condition and column; other joins have
// neither.
func encodeMark(t plan.JoinType, cond plan.Expr, mark plan.Column) (*pb.Expr, *pb.Column, error) {
	if t != plan.JoinMark {
		if cond != nil {
			return nil, nil, fmt.Errorf("%s join with a mark condition", t)
		}
		return nil, nil, nil
	}
	c, err := encodeOptExpr(cond)
	if err != nil {
		return nil, nil, fmt.Errorf("mark condition: %w", err)
	}
	s, err := encodeSchema(plan.Schema{mark})
	if err != nil {
		return nil, nil, fmt.Errorf("mark: %w", err)
	}
	return c, s.Columns[0], nil
}

// decodeMark decodes what encodeMark wrote: a mark join needs a BOOLEAN
// mark column, other joins must have neither field.
func decodeMark(t plan.JoinType, cond *pb.Expr, mark *pb.Column) (plan.Expr, plan.Column, error) {
	if t != plan.JoinMark {
		if cond != nil || mark != nil {
			return nil, plan.Column{}, fmt.Errorf("%s join with a mark condition or column", t)
		}
		return nil, plan.Column{}, nil
	}
	if mark == nil {
		return nil, plan.Column{}, errors.New("mark join without its mark column")
	}
	s, err := decodeSchema(&pb.Schema{Columns: []*pb.Column{mark}})
	if err != nil {
		return nil, plan.Column{}, fmt.Errorf("mark: %w", err)
	}
	if s[0].Type.ID() != arrow.BOOL {
		return nil, plan.Column{}, fmt.Errorf("mark column %s is %s, not BOOLEAN", s[0], s[0].Type)
	}
	c, err := decodeOptExpr(cond)
	if err != nil {
		return nil, plan.Column{}, fmt.Errorf("mark condition: %w", err)
	}
	return c, s[0], nil
}

func decodeSchema(p *pb.Schema) (plan.Schema, error) {
	if p == nil {
		return nil, errors.New("missing schema")
	}
	s := make(plan.Schema, len(p.Columns))
	for i, c := range p.Columns {
		if c == nil {
			return nil, fmt.Errorf("column %d missing", i)
		}
		t, err := DecodeType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s#%d: %w", c.Name, c.Id, err)
		}
		s[i] = plan.Column{ID: plan.ColumnID(c.Id), Name: c.Name, Table: c.Table, Type: t, Nullable: c.Nullable}
	}
	return s, nil
}

func encodeTableSource(t *plan.TableSource) (*pb.TableSource, error) {
	if t == nil {
		return nil, errors.New("missing table source")
	}
	s, err := EncodeArrowSchema(t.Schema)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	return &pb.TableSource{Name: t.Name, Format: t.Format, Location: t.Location, Options: t.Options,
		Schema: s, RowCount: t.RowCount}, nil
}

func decodeTableSource(p *pb.TableSource) (*plan.TableSource, error) {
	if p == nil {
		return nil, errors.New("missing table source")
	}
	s, err := DecodeArrowSchema(p.Schema)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", p.Name, err)
	}
	var opts map[string]string
	if len(p.Options) > 0 {
		opts = make(map[string]string, len(p.Options))
		for k, v := range p.Options {
			opts[k] = v
		}
	}
	return &plan.TableSource{Name: p.Name, Format: p.Format, Location: p.Location, Options: opts,
		Schema: s, RowCount: p.RowCount}, nil
}

// encodeValue encodes a literal or predicate constant (see plan.Literal for
// the Go types).
func encodeValue(v any) (*pb.Value, error) {
	switch x := v.(type) {
	case nil:
		return &pb.Value{Kind: &pb.Value_Null{Null: &pb.Null{}}}, nil
	case bool:
		return &pb.Value{Kind: &pb.Value_Bool{Bool: x}}, nil
	case int64:
		return &pb.Value{Kind: &pb.Value_Int64{Int64: x}}, nil
	case float64:
		return &pb.Value{Kind: &pb.Value_Float64{Float64: x}}, nil
	case string:
		return &pb.Value{Kind: &pb.Value_String_{String_: x}}, nil
	case decimal128.Num:
		return &pb.Value{Kind: &pb.Value_Decimal128{Decimal128: &pb.Decimal128{Hi: x.HighBits(), Lo: x.LowBits()}}}, nil
	case arrow.Date32:
		return &pb.Value{Kind: &pb.Value_Date32{Date32: int32(x)}}, nil
	case arrow.Timestamp:
		return &pb.Value{Kind: &pb.Value_Timestamp{Timestamp: int64(x)}}, nil
	case arrow.MonthDayNanoInterval:
		return &pb.Value{Kind: &pb.Value_Interval{Interval: &pb.MonthDayNano{Months: x.Months, Days: x.Days, Nanoseconds: x.Nanoseconds}}}, nil
	}
	return nil, fmt.Errorf("constant %v of Go type %T cannot be encoded", v, v)
}

func decodeValue(p *pb.Value) (any, error) {
	if p == nil {
		return nil, errors.New("missing value")
	}
	switch k := p.Kind.(type) {
	case *pb.Value_Null:
		return nil, nil
	case *pb.Value_Bool:
		return k.Bool, nil
	case *pb.Value_Int64:
		return k.Int64, nil
	case *pb.Value_Float64:
		return k.Float64, nil
	case *pb.Value_String_:
		return k.String_, nil
	case *pb.Value_Decimal128:
		if k.Decimal128 == nil {
			return nil, errors.New("decimal value missing")
		}
		return decimal128.New(k.Decimal128.Hi, k.Decimal128.Lo), nil
	case *pb.Value_Date32:
		return arrow.Date32(k.Date32), nil
	case *pb.Value_Timestamp:
		return arrow.Timestamp(k.Timestamp), nil
	case *pb.Value_Interval:
		if k.Interval == nil {
			return nil, errors.New("interval value missing")
		}
		return arrow.MonthDayNanoInterval{Months: k.Interval.Months, Days: k.Interval.Days, Nanoseconds: k.Interval.Nanoseconds}, nil
	}
	return nil, errors.New("value has no kind set")
}
