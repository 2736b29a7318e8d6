package exec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal"
)

// SortKey orders rows by one input column. The SQL defaults the planner
// passes are ASC NULLS LAST and DESC NULLS FIRST (PostgreSQL/DuckDB).
// NullsFirst is independent of Desc: it states where nulls end up.
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// sortColCmp compares row i of one array with row j of another (possibly
// the same) array in key order: direction and null placement included.
type sortColCmp func(i, j int) int

// sortRowCmp compares rows over several keys.
type sortRowCmp []sortColCmp

func (c sortRowCmp) compare(i, j int) int {
	for _, f := range c {
		if r := f(i, j); r != 0 {
			return r
		}
	}
	return 0
}

// sortCheckKeys validates keys against schema.
func sortCheckKeys(op string, schema *arrow.Schema, keys []SortKey) error {
	for _, k := range keys {
		if k.Col < 0 || k.Col >= schema.NumFields() {
			return fmt.Errorf("%s: sort key column %d out of range (input has %d columns)", op, k.Col, schema.NumFields())
		}
		if !sortTypeSupported(schema.Field(k.Col).Type) {
			f := schema.Field(k.Col)
			return fmt.Errorf("%s: cannot sort by column %d (%s) of type %s", op, k.Col, f.Name, f.Type)
		}
	}
	return nil
}

func sortTypeSupported(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL64, arrow.DECIMAL128,
		arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64, arrow.DURATION,
		arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY,
		arrow.BOOL, arrow.NULL:
		return true
	}
	return false
}

// sortMakeRowCmp builds a comparator of rows of batch a against rows of
// batch b (same schema) over keys.
func sortMakeRowCmp(a, b arrow.RecordBatch, keys []SortKey) sortRowCmp {
	c := make(sortRowCmp, len(keys))
	for i, k := range keys {
		c[i] = sortMakeColCmp(a.Column(k.Col), b.Column(k.Col), k.Desc, k.NullsFirst)
	}
	return c
}

// sortMakeColCmp builds a typed comparator of a[i] against b[j]. Both arrays
// must have the same (supported, see sortTypeSupported) type.
func sortMakeColCmp(a, b arrow.Array, desc, nullsFirst bool) sortColCmp {
	inner := sortMakeValueCmp(a, b)
	if desc {
		asc := inner
		inner = func(i, j int) int { return -asc(i, j) }
	}
	if a.NullN() == 0 && b.NullN() == 0 {
		return inner
	}
	nullRes := 1
	if nullsFirst {
		nullRes = -1
	}
	ab, aoff := a.NullBitmapBytes(), a.Data().Offset()
	bb, boff := b.NullBitmapBytes(), b.Data().Offset()
	if a.NullN() == 0 {
		ab = nil
	}
	if b.NullN() == 0 {
		bb = nil
	}
	return func(i, j int) int {
		av := ab == nil || bitutil.BitIsSet(ab, aoff+i)
		bv := bb == nil || bitutil.BitIsSet(bb, boff+j)
		switch {
		case av && bv:
			return inner(i, j)
		case av:
			return -nullRes
		case bv:
			return nullRes
		}
		return 0
	}
}

func sortOrdered[T cmp.Ordered](av, bv []T) sortColCmp {
	return func(i, j int) int { return cmp.Compare(av[i], bv[j]) }
}

// sortFloatCmp orders NaN above every other value (PostgreSQL) and -0 = +0.
func sortFloatCmp[T float32 | float64](av, bv []T) sortColCmp {
	return func(i, j int) int {
		x, y := av[i], bv[j]
		if x < y {
			return -1
		}
		if x > y {
			return 1
		}
		xn, yn := x != x, y != y
		if xn == yn {
			return 0
		}
		if xn {
			return 1
		}
		return -1
	}
}

// varlenData returns the whole value buffer of a string or binary array,
// which its ValueOffsets index. ValueBytes is not that buffer: for a slice
// whose first value does not start at byte 0 (a batch cut by SliceBatches,
// a column after a filter or a join) it starts at the first value, so
// indexing it with absolute offsets reads the wrong bytes or past its end.
func varlenData(a arrow.Array) []byte {
	if b := a.Data().Buffers()[2]; b != nil {
		return b.Bytes()
	}
	return nil
}

func sortVarlen[O int32 | int64](ao, bo []O, ad, bd []byte) sortColCmp {
	return func(i, j int) int {
		return bytes.Compare(ad[ao[i]:ao[i+1]], bd[bo[j]:bo[j+1]])
	}
}

func sortMakeValueCmp(a, b arrow.Array) sortColCmp {
	switch a := a.(type) {
	case *array.Int8:
		return sortOrdered(a.Int8Values(), b.(*array.Int8).Int8Values())
	case *array.Int16:
		return sortOrdered(a.Int16Values(), b.(*array.Int16).Int16Values())
	case *array.Int32:
		return sortOrdered(a.Int32Values(), b.(*array.Int32).Int32Values())
	case *array.Int64:
		return sortOrdered(a.Int64Values(), b.(*array.Int64).Int64Values())
	case *array.Uint8:
		return sortOrdered(a.Uint8Values(), b.(*array.Uint8).Uint8Values())
	case *array.Uint16:
		return sortOrdered(a.Uint16Values(), b.(*array.Uint16).Uint16Values())
	case *array.Uint32:
		return sortOrdered(a.Uint32Values(), b.(*array.Uint32).Uint32Values())
	case *array.Uint64:
		return sortOrdered(a.Uint64Values(), b.(*array.Uint64).Uint64Values())
	case *array.Float32:
		return sortFloatCmp(a.Float32Values(), b.(*array.Float32).Float32Values())
	case *array.Float64:
		return sortFloatCmp(a.Float64Values(), b.(*array.Float64).Float64Values())
	case *array.Date32:
		return sortOrdered(a.Date32Values(), b.(*array.Date32).Date32Values())
	case *array.Date64:
		return sortOrdered(a.Date64Values(), b.(*array.Date64).Date64Values())
	case *array.Timestamp:
		return sortOrdered(a.TimestampValues(), b.(*array.Timestamp).TimestampValues())
	case *array.Time32:
		return sortOrdered(a.Time32Values(), b.(*array.Time32).Time32Values())
	case *array.Time64:
		return sortOrdered(a.Time64Values(), b.(*array.Time64).Time64Values())
	case *array.Duration:
		return sortOrdered(a.DurationValues(), b.(*array.Duration).DurationValues())
	case *array.Decimal64:
		return sortOrdered(a.Values(), b.(*array.Decimal64).Values())
	case *array.Decimal128:
		av, bv := a.Values(), b.(*array.Decimal128).Values()
		return func(i, j int) int { return av[i].Cmp(bv[j]) }
	case *array.String:
		bs := b.(*array.String)
		return sortVarlen(a.ValueOffsets(), bs.ValueOffsets(), varlenData(a), varlenData(bs))
	case *array.LargeString:
		bs := b.(*array.LargeString)
		return sortVarlen(a.ValueOffsets(), bs.ValueOffsets(), varlenData(a), varlenData(bs))
	case *array.Binary:
		bs := b.(*array.Binary)
		return sortVarlen(a.ValueOffsets(), bs.ValueOffsets(), varlenData(a), varlenData(bs))
	case *array.LargeBinary:
		bs := b.(*array.LargeBinary)
		return sortVarlen(a.ValueOffsets(), bs.ValueOffsets(), varlenData(a), varlenData(bs))
	case *array.Boolean:
		bb := b.(*array.Boolean)
		return func(i, j int) int {
			x, y := a.Value(i), bb.Value(j)
			if x == y {
				return 0
			}
			if y {
				return -1
			}
			return 1
		}
	}
	return func(i, j int) int { return 0 } // NULL type: all equal
}

// sortNormKeys maps a (null-free rows of a) column to uint64 keys whose
// unsigned order is the column's order (descending keys are complemented).
// exact reports whether equal keys mean equal values; otherwise ties must be
// broken by the full comparator. ok is false for types without a mapping.
func sortNormKeys(a arrow.Array, desc bool) (keys []uint64, exact, ok bool) {
	n := a.Len()
	keys = make([]uint64, n)
	const sign = uint64(1) << 63
	exact = true
	switch a := a.(type) {
	case *array.Int8:
		sortNormSigned(keys, a.Int8Values())
	case *array.Int16:
		sortNormSigned(keys, a.Int16Values())
	case *array.Int32:
		sortNormSigned(keys, a.Int32Values())
	case *array.Int64:
		sortNormSigned(keys, a.Int64Values())
	case *array.Date32:
		sortNormSigned(keys, a.Date32Values())
	case *array.Date64:
		sortNormSigned(keys, a.Date64Values())
	case *array.Timestamp:
		sortNormSigned(keys, a.TimestampValues())
	case *array.Decimal64:
		sortNormSigned(keys, a.Values())
	case *array.Uint8:
		sortNormUnsigned(keys, a.Uint8Values())
	case *array.Uint16:
		sortNormUnsigned(keys, a.Uint16Values())
	case *array.Uint32:
		sortNormUnsigned(keys, a.Uint32Values())
	case *array.Uint64:
		sortNormUnsigned(keys, a.Uint64Values())
	case *array.Float64:
		for i, v := range a.Float64Values() {
			keys[i] = sortNormFloat(v)
		}
	case *array.Float32:
		for i, v := range a.Float32Values() {
			keys[i] = sortNormFloat(float64(v))
		}
	case *array.Decimal128:
		vals := a.Values()
		small := true
		for i, v := range vals {
			if a.IsValid(i) && v.HighBits() != int64(v.LowBits())>>63 {
				small = false
				break
			}
		}
		for i, v := range vals {
			if small {
				keys[i] = v.LowBits() ^ sign
			} else {
				keys[i] = uint64(v.HighBits()) ^ sign
			}
		}
		exact = small
	case *array.String:
		sortNormPrefix(keys, a.ValueOffsets(), varlenData(a))
		exact = false
	case *array.Binary:
		sortNormPrefix(keys, a.ValueOffsets(), varlenData(a))
		exact = false
	default:
		return nil, false, false
	}
	if desc {
		for i := range keys {
			keys[i] = ^keys[i]
		}
	}
	return keys, exact, true
}

func sortNormSigned[T int8 | int16 | int32 | int64 | arrow.Date32 | arrow.Date64 | arrow.Timestamp | decimal.Decimal64](dst []uint64, src []T) {
	for i, v := range src {
		dst[i] = uint64(int64(v)) ^ (1 << 63)
	}
}

func sortNormUnsigned[T uint8 | uint16 | uint32 | uint64](dst []uint64, src []T) {
	for i, v := range src {
		dst[i] = uint64(v)
	}
}

func sortNormFloat(v float64) uint64 {
	if v != v {
		return math.MaxUint64 // NaN sorts last
	}
	if v == 0 {
		v = 0 // -0 == +0
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// sortNormPrefix stores the first 8 bytes of each string, big-endian, so that
// unsigned key order agrees with bytewise order up to ties.
func sortNormPrefix(dst []uint64, offs []int32, data []byte) {
	var buf [8]byte
	for i := range dst {
		s := data[offs[i]:offs[i+1]]
		if len(s) >= 8 {
			dst[i] = binary.BigEndian.Uint64(s)
			continue
		}
		buf = [8]byte{}
		copy(buf[:], s)
		dst[i] = binary.BigEndian.Uint64(buf[:])
	}
}
