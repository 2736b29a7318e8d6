package resultcmp

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// FormatValue returns the canonical text of arr[i]:
//   - NULL as "" (the CSV convention of the reference answers);
//   - integers in decimal; floats with the shortest representation that
//     round-trips (strconv 'g', -1);
//   - decimals exactly at their scale ("12.30", "-0.05");
//   - Date32/Date64 as YYYY-MM-DD; timestamps as
//     "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC, trailing zeros dropped);
//   - booleans as true/false; strings as-is;
//   - dictionary arrays as their decoded value.
//
// Other types fall back to arrow's ValueStr. It never panics on a valid
// index.
func FormatValue(arr arrow.Array, i int) string {
	if arr.IsNull(i) {
		return ""
	}
	switch a := arr.(type) {
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Uint8:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Decimal32:
		return formatScaledInt64(int64(a.Value(i)), decimalScale(arr.DataType()))
	case *array.Decimal64:
		return formatScaledInt64(int64(a.Value(i)), decimalScale(arr.DataType()))
	case *array.Decimal128:
		v := a.Value(i)
		scale := decimalScale(arr.DataType())
		// Fast path: the value fits in an int64.
		if hi, lo := v.HighBits(), v.LowBits(); (hi == 0 && lo <= 1<<63-1) || (hi == -1 && lo >= 1<<63) {
			return formatScaledInt64(int64(lo), scale)
		}
		return formatScaledBig(v.BigInt(), scale)
	case *array.Decimal256:
		return formatScaledBig(a.Value(i).BigInt(), decimalScale(arr.DataType()))
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Date64:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		unit := arr.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05.999999999")
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	case *array.Dictionary:
		return FormatValue(a.Dictionary(), a.GetValueIndex(i))
	default:
		return arr.ValueStr(i)
	}
}

func decimalScale(t arrow.DataType) int {
	if d, ok := t.(arrow.DecimalType); ok {
		return int(d.GetScale())
	}
	return 0
}

// formatScaledInt64 prints v*10^-scale with exactly scale fraction digits.
func formatScaledInt64(v int64, scale int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v) // correct for MinInt64 too (two's complement)
	}
	return placePoint(strconv.FormatUint(u, 10), scale, neg)
}

func formatScaledBig(v *big.Int, scale int) string {
	return placePoint(new(big.Int).Abs(v).String(), scale, v.Sign() < 0)
}

// placePoint inserts the decimal point into the digit string of |v|.
func placePoint(digits string, scale int, neg bool) string {
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case scale <= 0:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", -scale))
	case len(digits) <= scale:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", scale-len(digits)))
		b.WriteString(digits)
	default:
		b.WriteString(digits[:len(digits)-scale])
		b.WriteByte('.')
		b.WriteString(digits[len(digits)-scale:])
	}
	return b.String()
}
