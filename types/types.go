package types

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// MaxDecimalPrecision is the largest precision of a Decimal128.
const MaxDecimalPrecision = 38

// MaxDecimal64Precision is the largest precision Decimal stores in 64 bits.
const MaxDecimal64Precision = 18

// Default DECIMAL precision and scale when none are given (DuckDB's).
const (
	DefaultDecimalPrecision = 18
	DefaultDecimalScale     = 3
)

// Canonical instances of the engine's types.
var (
	Null      arrow.DataType = arrow.Null
	Boolean   arrow.DataType = arrow.FixedWidthTypes.Boolean
	Int8      arrow.DataType = arrow.PrimitiveTypes.Int8
	Int16     arrow.DataType = arrow.PrimitiveTypes.Int16
	Int32     arrow.DataType = arrow.PrimitiveTypes.Int32
	Int64     arrow.DataType = arrow.PrimitiveTypes.Int64
	Float32   arrow.DataType = arrow.PrimitiveTypes.Float32
	Float64   arrow.DataType = arrow.PrimitiveTypes.Float64
	String    arrow.DataType = arrow.BinaryTypes.String
	Date32    arrow.DataType = arrow.FixedWidthTypes.Date32
	Timestamp arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond}
	Interval  arrow.DataType = arrow.FixedWidthTypes.MonthDayNanoInterval
)

// Decimal returns the engine's DECIMAL(p, s): an Arrow Decimal64 (int64
// unscaled values) for p <= 18 and a Decimal128 above, the way DuckDB
// stores DECIMAL(<=18) in an int64. Type rules never look at the width:
// the result precision picks it, so DECIMAL(15,2)*DECIMAL(15,2) =
// DECIMAL(30,4) is a Decimal128 and DECIMAL(15,2)+DECIMAL(15,2) =
// DECIMAL(16,2) stays a Decimal64.
func Decimal(p, s int32) arrow.DataType {
	if p <= MaxDecimal64Precision {
		return &arrow.Decimal64Type{Precision: p, Scale: s}
	}
	return &arrow.Decimal128Type{Precision: p, Scale: s}
}

// Decimal128 returns Decimal128(p, s) whatever p: the 128-bit form of a
// DECIMAL(p, s), for kernels that compute in 128 bits.
func Decimal128(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }

// ParseTypeName maps a SQL type name (case-insensitive) and its optional
// parameters to the engine's Arrow type.
func ParseTypeName(name string, params []int) (arrow.DataType, error) {
	n := strings.Join(strings.Fields(strings.ToUpper(name)), " ")
	noParams := func(t arrow.DataType) (arrow.DataType, error) {
		if len(params) != 0 {
			return nil, fmt.Errorf("type %s takes no parameters, got %d", n, len(params))
		}
		return t, nil
	}
	switch n {
	case "INTEGER", "INT", "INT4", "SIGNED":
		return noParams(Int32)
	case "BIGINT", "INT8", "LONG":
		return noParams(Int64)
	case "SMALLINT", "INT2", "SHORT":
		return noParams(Int16)
	case "TINYINT", "INT1":
		return noParams(Int8)
	case "BOOLEAN", "BOOL", "LOGICAL":
		return noParams(Boolean)
	case "REAL", "FLOAT4":
		return noParams(Float32)
	case "DOUBLE", "FLOAT", "FLOAT8", "DOUBLE PRECISION":
		return noParams(Float64)
	case "DATE":
		return noParams(Date32)
	case "TIMESTAMP", "DATETIME", "TIMESTAMP WITHOUT TIME ZONE":
		return noParams(Timestamp)
	case "INTERVAL":
		return noParams(Interval)
	case "VARCHAR", "CHAR", "TEXT", "STRING", "BPCHAR", "CHARACTER", "CHARACTER VARYING", "NVARCHAR", "NCHAR":
		// Lengths are accepted and ignored, like DuckDB.
		if len(params) > 1 {
			return nil, fmt.Errorf("type %s takes at most one parameter, got %d", n, len(params))
		}
		return String, nil
	case "DECIMAL", "NUMERIC", "DEC":
		p, s := DefaultDecimalPrecision, DefaultDecimalScale
		switch len(params) {
		case 0:
		case 1:
			p, s = params[0], 0
		case 2:
			p, s = params[0], params[1]
		default:
			return nil, fmt.Errorf("type %s takes at most two parameters, got %d", n, len(params))
		}
		if p < 1 || p > MaxDecimalPrecision {
			return nil, fmt.Errorf("%s precision %d out of range 1..%d", n, p, MaxDecimalPrecision)
		}
		if s < 0 || s > p {
			return nil, fmt.Errorf("%s(%d,%d): scale must be between 0 and the precision", n, p, s)
		}
		return Decimal(int32(p), int32(s)), nil
	}
	return nil, fmt.Errorf("unknown type name %q", name)
}

// TypeName is the SQL name of t, for messages and EXPLAIN.
func TypeName(t arrow.DataType) string {
	if t == nil {
		return "<nil>"
	}
	switch t.ID() {
	case arrow.NULL:
		return "NULL"
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.INT8:
		return "TINYINT"
	case arrow.INT16:
		return "SMALLINT"
	case arrow.INT32:
		return "INTEGER"
	case arrow.INT64:
		return "BIGINT"
	case arrow.UINT8:
		return "UTINYINT"
	case arrow.UINT16:
		return "USMALLINT"
	case arrow.UINT32:
		return "UINTEGER"
	case arrow.UINT64:
		return "UBIGINT"
	case arrow.FLOAT32:
		return "REAL"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		d := t.(arrow.DecimalType)
		return fmt.Sprintf("DECIMAL(%d,%d)", d.GetPrecision(), d.GetScale())
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "VARCHAR"
	case arrow.BINARY, arrow.LARGE_BINARY:
		return "BLOB"
	case arrow.DATE32, arrow.DATE64:
		return "DATE"
	case arrow.TIMESTAMP:
		return "TIMESTAMP"
	case arrow.INTERVAL_MONTH_DAY_NANO, arrow.INTERVAL_MONTHS, arrow.INTERVAL_DAY_TIME:
		return "INTERVAL"
	case arrow.LIST:
		return TypeName(t.(*arrow.ListType).Elem()) + "[]"
	}
	return strings.ToUpper(t.String())
}

// IsInteger reports whether t is a signed integer type.
func IsInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return true
	}
	return false
}

// IsFloat reports whether t is Float32 or Float64.
func IsFloat(t arrow.DataType) bool {
	return t.ID() == arrow.FLOAT32 || t.ID() == arrow.FLOAT64
}

// IsDecimal reports whether t is a decimal the engine computes with
// (Decimal64 or Decimal128).
func IsDecimal(t arrow.DataType) bool { return t.ID() == arrow.DECIMAL64 || t.ID() == arrow.DECIMAL128 }

// IsNumeric reports whether t is an integer, float or decimal type.
func IsNumeric(t arrow.DataType) bool { return IsInteger(t) || IsFloat(t) || IsDecimal(t) }

// IsString reports whether t is the engine's string type.
func IsString(t arrow.DataType) bool { return t.ID() == arrow.STRING }

// IsTemporal reports whether t is Date32 or Timestamp.
func IsTemporal(t arrow.DataType) bool { return t.ID() == arrow.DATE32 || t.ID() == arrow.TIMESTAMP }

// IsNull reports whether t is the NULL type (the type of an untyped NULL).
func IsNull(t arrow.DataType) bool { return t.ID() == arrow.NULL }

// DecimalParams returns precision and scale of a decimal type (any
// width).
func DecimalParams(t arrow.DataType) (p, s int32) {
	d := t.(arrow.DecimalType)
	return d.GetPrecision(), d.GetScale()
}

// IntegerDecimal is the decimal type that holds every value of the integer
// type t exactly (DuckDB: TINYINT→(3,0), SMALLINT→(5,0), INTEGER→(10,0),
// BIGINT→(19,0)).
func IntegerDecimal(t arrow.DataType) arrow.DataType {
	switch t.ID() {
	case arrow.INT8:
		return Decimal(3, 0)
	case arrow.INT16:
		return Decimal(5, 0)
	case arrow.INT32:
		return Decimal(10, 0)
	}
	return Decimal(19, 0)
}

func intRank(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8:
		return 1
	case arrow.INT16:
		return 2
	case arrow.INT32:
		return 3
	case arrow.INT64:
		return 4
	}
	return 0
}

// asDecimal returns t as decimal params, converting integers exactly.
func asDecimal(t arrow.DataType) (p, s int32) {
	if IsInteger(t) {
		return DecimalParams(IntegerDecimal(t))
	}
	return DecimalParams(t)
}
