package connectors

import (
	"bytes"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// canSkip reports whether row group rg of f provably holds no row that
// satisfies all preds (they are ANDed). Anything it does not understand
// keeps the row group.
func (s *parquetSource) canSkip(f *parquetFile, rg int, preds []Predicate) bool {
	meta := f.md.RowGroup(rg)
	preds, lists := inLists(preds)
	for c, vals := range lists {
		preds = append(preds, Predicate{Column: c, Op: "in", Value: vals})
	}
	for _, p := range preds {
		fc := f.toFile[p.Column]
		if fc < 0 {
			// The file lacks the column: it is NULL in every row.
			if p.Op != "isnull" {
				return true
			}
			continue
		}
		leaves := f.leaves[fc]
		if len(leaves) != 1 || arrow.IsNested(f.fileTypes[fc].ID()) {
			continue // nested column: leaf statistics do not describe rows
		}
		cc, err := meta.ColumnChunk(leaves[0])
		if err != nil {
			continue
		}
		if p.Op == "in" {
			if allRefute(cc, meta.NumRows(), f.fileTypes[fc], p.Column, p.Value.([]any)) {
				return true
			}
			continue
		}
		if rowGroupRefutes(cc, meta.NumRows(), f.fileTypes[fc], p) {
			return true
		}
	}
	return false
}

// allRefute reports whether the statistics refute "column = v" for every
// v of an IN list.
func allRefute(cc *metadata.ColumnChunkMetaData, numRows int64, ft arrow.DataType, col int, vals []any) bool {
	for _, v := range vals {
		if !rowGroupRefutes(cc, numRows, ft, Predicate{Column: col, Op: "=", Value: v}) {
			return false
		}
	}
	return true
}

// statKind is the domain min/max and the predicate value are compared in.
type statKind int

const (
	kindNone statKind = iota
	kindInt
	kindFloat
	kindDecimal
	kindBytes
)

// bound is one min or max value (or the predicate constant) in its domain.
type bound struct {
	i int64
	f float64
	d decimal128.Num
	b []byte
}

func cmpBound(k statKind, a, b bound) int {
	switch k {
	case kindInt:
		return cmpOrdered(a.i, b.i)
	case kindFloat:
		return cmpOrdered(a.f, b.f)
	case kindDecimal:
		return a.d.Cmp(b.d)
	case kindBytes:
		return bytes.Compare(a.b, b.b)
	}
	return 0
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func rowGroupRefutes(cc *metadata.ColumnChunkMetaData, numRows int64, ft arrow.DataType, p Predicate) bool {
	st, err := cc.Statistics()
	if err != nil || st == nil {
		return false
	}
	allNull := st.HasNullCount() && st.NullCount() >= numRows
	switch p.Op {
	case "isnull":
		return st.HasNullCount() && st.NullCount() == 0
	case "isnotnull":
		return allNull
	case "=", "<>", "<", "<=", ">", ">=":
	default:
		return false
	}
	if allNull {
		return true // comparisons with NULL are never true
	}
	if !st.HasMinMax() {
		return false
	}
	kind, lo, hi := statBounds(st, ft)
	if kind == kindNone {
		return false
	}
	v, ok := predBound(kind, ft, p.Value)
	if !ok {
		return false
	}
	cLo, cHi := cmpBound(kind, v, lo), cmpBound(kind, v, hi)
	switch p.Op {
	case "=":
		return cLo < 0 || cHi > 0
	case "<>":
		return cLo == 0 && cHi == 0 // every non-null value equals v
	case "<": // some x < v needs min < v
		return cLo <= 0
	case "<=":
		return cLo < 0
	case ">":
		return cHi >= 0
	case ">=":
		return cHi > 0
	}
	return false
}

// statBounds decodes min/max of st into the comparison domain of the
// column's Arrow file type ft.
func statBounds(st metadata.TypedStatistics, ft arrow.DataType) (statKind, bound, bound) {
	switch s := st.(type) {
	case *metadata.BooleanStatistics:
		if ft.ID() != arrow.BOOL {
			return kindNone, bound{}, bound{}
		}
		return kindInt, bound{i: b2i(s.Min())}, bound{i: b2i(s.Max())}
	case *metadata.Int32Statistics:
		lo, hi := int64(s.Min()), int64(s.Max())
		switch ft.ID() {
		case arrow.UINT8, arrow.UINT16, arrow.UINT32:
			lo, hi = int64(uint32(s.Min())), int64(uint32(s.Max()))
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.DATE32:
		case arrow.DECIMAL128, arrow.DECIMAL256, arrow.DECIMAL32, arrow.DECIMAL64:
			return kindDecimal, bound{d: decimal128.FromI64(lo)}, bound{d: decimal128.FromI64(hi)}
		default:
			return kindNone, bound{}, bound{}
		}
		return kindInt, bound{i: lo}, bound{i: hi}
	case *metadata.Int64Statistics:
		lo, hi := s.Min(), s.Max()
		switch t := ft.(type) {
		case *arrow.Int64Type:
		case *arrow.TimestampType:
			switch t.Unit {
			case arrow.Second:
				if lo < math.MinInt64/1_000_000 || hi > math.MaxInt64/1_000_000 {
					return kindNone, bound{}, bound{}
				}
				lo, hi = lo*1e6, hi*1e6
			case arrow.Millisecond:
				if lo < math.MinInt64/1000 || hi > math.MaxInt64/1000 {
					return kindNone, bound{}, bound{}
				}
				lo, hi = lo*1e3, hi*1e3
			case arrow.Nanosecond:
				lo, hi = floorDiv(lo, 1000), -floorDiv(-hi, 1000)
			}
		case *arrow.Decimal128Type, *arrow.Decimal256Type, *arrow.Decimal64Type, *arrow.Decimal32Type:
			return kindDecimal, bound{d: decimal128.FromI64(lo)}, bound{d: decimal128.FromI64(hi)}
		default:
			return kindNone, bound{}, bound{}
		}
		return kindInt, bound{i: lo}, bound{i: hi}
	case *metadata.Float32Statistics:
		lo, hi := float64(s.Min()), float64(s.Max())
		if math.IsNaN(lo) || math.IsNaN(hi) {
			return kindNone, bound{}, bound{}
		}
		return kindFloat, bound{f: lo}, bound{f: hi}
	case *metadata.Float64Statistics:
		lo, hi := s.Min(), s.Max()
		if math.IsNaN(lo) || math.IsNaN(hi) {
			return kindNone, bound{}, bound{}
		}
		return kindFloat, bound{f: lo}, bound{f: hi}
	case *metadata.ByteArrayStatistics:
		switch ft.ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
			if s.Descr().SortOrder() != schema.SortUNSIGNED {
				return kindNone, bound{}, bound{}
			}
			return kindBytes, bound{b: s.Min()}, bound{b: s.Max()}
		case arrow.DECIMAL128, arrow.DECIMAL256:
			return decBounds(s.Min(), s.Max())
		case arrow.DICTIONARY:
			if ft.(*arrow.DictionaryType).ValueType.ID() == arrow.STRING {
				return kindBytes, bound{b: s.Min()}, bound{b: s.Max()}
			}
		}
	case *metadata.FixedLenByteArrayStatistics:
		switch ft.ID() {
		case arrow.DECIMAL128, arrow.DECIMAL256, arrow.DECIMAL64, arrow.DECIMAL32:
			return decBounds(s.Min(), s.Max())
		}
	}
	return kindNone, bound{}, bound{}
}

func decBounds(lo, hi []byte) (statKind, bound, bound) {
	l, ok1 := decFromBigEndian(lo)
	h, ok2 := decFromBigEndian(hi)
	if !ok1 || !ok2 {
		return kindNone, bound{}, bound{}
	}
	return kindDecimal, bound{d: l}, bound{d: h}
}

// decFromBigEndian decodes a big-endian two's complement unscaled value.
func decFromBigEndian(b []byte) (decimal128.Num, bool) {
	if len(b) == 0 {
		return decimal128.Num{}, false
	}
	if len(b) <= 16 {
		var buf [16]byte
		fill := byte(0)
		if b[0]&0x80 != 0 {
			fill = 0xff
		}
		for i := 0; i < 16-len(b); i++ {
			buf[i] = fill
		}
		copy(buf[16-len(b):], b)
		hi := int64(uint64(buf[0])<<56 | uint64(buf[1])<<48 | uint64(buf[2])<<40 | uint64(buf[3])<<32 |
			uint64(buf[4])<<24 | uint64(buf[5])<<16 | uint64(buf[6])<<8 | uint64(buf[7]))
		lo := uint64(buf[8])<<56 | uint64(buf[9])<<48 | uint64(buf[10])<<40 | uint64(buf[11])<<32 |
			uint64(buf[12])<<24 | uint64(buf[13])<<16 | uint64(buf[14])<<8 | uint64(buf[15])
		return decimal128.New(hi, lo), true
	}
	// Wider than 128 bits: only usable if the value fits.
	v := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.BitLen() > 127 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(v), true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// predBound converts a predicate constant to the comparison domain. It
// refuses (ok=false) combinations it cannot compare exactly.
func predBound(kind statKind, ft arrow.DataType, v any) (bound, bool) {
	switch kind {
	case kindInt:
		switch x := v.(type) {
		case int64:
			if ft.ID() == arrow.BOOL || ft.ID() == arrow.DATE32 || ft.ID() == arrow.TIMESTAMP {
				return bound{}, false
			}
			return bound{i: x}, true
		case bool:
			if ft.ID() == arrow.BOOL {
				return bound{i: b2i(x)}, true
			}
		case arrow.Date32:
			if ft.ID() == arrow.DATE32 {
				return bound{i: int64(x)}, true
			}
		case arrow.Timestamp:
			if ft.ID() == arrow.TIMESTAMP {
				return bound{i: int64(x)}, true
			}
		}
	case kindFloat:
		switch x := v.(type) {
		case float64:
			if !math.IsNaN(x) {
				return bound{f: x}, true
			}
		case int64:
			if x > -(1<<53) && x < 1<<53 {
				return bound{f: float64(x)}, true
			}
		}
	case kindDecimal:
		switch x := v.(type) {
		case decimal128.Num:
			return bound{d: x}, true
		case int64:
			dt, ok := ft.(arrow.DecimalType)
			if !ok {
				return bound{}, false
			}
			n := decimal128.FromI64(x)
			if dt.GetScale() > 0 {
				n = n.IncreaseScaleBy(dt.GetScale())
			}
			return bound{d: n}, true
		}
	case kindBytes:
		if x, ok := v.(string); ok {
			return bound{b: []byte(x)}, true
		}
	}
	return bound{}, false
}
