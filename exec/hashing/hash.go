package hashing

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/zeebo/xxh3"
)

// Hash constants; see the package documentation for the contract.
const (
	seedHash      = 0x9E3779B97F4A7C15
	nullDigest    = 0x6A09E667F3BCC909
	decHiMul      = 0x9FB21C651E98DF25
	partitionSalt = 0xD6E8FEB86659FD93
)

// kind is the physical class of a key column.
type kind uint8

const (
	kInvalid kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kUint64
	kFloat32
	kFloat64
	kBool
	kDec64
	kDec128
	kString
)

func kindOf(dt arrow.DataType) kind {
	switch dt.ID() {
	case arrow.INT8:
		return kInt8
	case arrow.INT16:
		return kInt16
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		return kInt32
	case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION:
		return kInt64
	case arrow.UINT8:
		return kUint8
	case arrow.UINT16:
		return kUint16
	case arrow.UINT32:
		return kUint32
	case arrow.UINT64:
		return kUint64
	case arrow.FLOAT32:
		return kFloat32
	case arrow.FLOAT64:
		return kFloat64
	case arrow.BOOL:
		return kBool
	case arrow.DECIMAL64:
		return kDec64
	case arrow.DECIMAL128:
		return kDec128
	case arrow.STRING, arrow.BINARY:
		return kString
	}
	return kInvalid
}

// SupportedKeyType reports whether dt can be a hash key.
func SupportedKeyType(dt arrow.DataType) bool { return kindOf(dt) != kInvalid }

// fmix64 is the MurmurHash3 64-bit finalizer.
func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// PartitionOf maps a key hash to one of n partitions (n > 0). The remix
// decorrelates partitions from the table slots, which use the hash's top
// bits.
func PartitionOf(h uint64, n int) int {
	return int(fmix64(h^partitionSalt) % uint64(n))
}

func canonFloat(f float64) uint64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return 0x7FF8000000000001
	}
	return math.Float64bits(f)
}

// HashColumns hashes every row of the key columns cols (all the same
// length) into out[:len] following the package's stable hash contract.
func HashColumns(cols []arrow.Array, out []uint64) error {
	for i := range out {
		out[i] = seedHash
	}
	for ci, c := range cols {
		if err := hashColumn(c, out); err != nil {
			return fmt.Errorf("key column %d: %w", ci, err)
		}
	}
	return nil
}

func hashInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](vals []T, h []uint64) {
	h = h[:len(vals)]
	for i, v := range vals {
		h[i] = fmix64(h[i] ^ uint64(v))
	}
}

func hashFloats[T float32 | float64](vals []T, h []uint64) {
	h = h[:len(vals)]
	for i, v := range vals {
		h[i] = fmix64(h[i] ^ canonFloat(float64(v)))
	}
}

func hashColumn(arr arrow.Array, h []uint64) error {
	n := arr.Len()
	if len(h) < n {
		return fmt.Errorf("hash buffer too short")
	}
	h = h[:n]
	k := kindOf(arr.DataType())
	if arr.NullN() == n && n > 0 {
		for i := range h {
			h[i] = fmix64(h[i] ^ nullDigest)
		}
		return nil
	}
	// Null rows hash as nullDigest, not from the bytes under them: remember
	// their state before the value pass and fix them afterwards.
	var nullRows []int32
	var nullPrev []uint64
	if v, ok := ValidityOf(arr); ok {
		nullRows = make([]int32, 0, arr.NullN())
		nullPrev = make([]uint64, 0, arr.NullN())
		for i := range h {
			if !v.Valid(i) {
				nullRows = append(nullRows, int32(i))
				nullPrev = append(nullPrev, h[i])
			}
		}
	}
	switch k {
	case kInt8:
		hashInts(FixedValues[int8](arr), h)
	case kInt16:
		hashInts(FixedValues[int16](arr), h)
	case kInt32:
		hashInts(FixedValues[int32](arr), h)
	case kInt64:
		hashInts(FixedValues[int64](arr), h)
	case kUint8:
		hashInts(FixedValues[uint8](arr), h)
	case kUint16:
		hashInts(FixedValues[uint16](arr), h)
	case kUint32:
		hashInts(FixedValues[uint32](arr), h)
	case kUint64:
		hashInts(FixedValues[uint64](arr), h)
	case kFloat32:
		hashFloats(FixedValues[float32](arr), h)
	case kFloat64:
		hashFloats(FixedValues[float64](arr), h)
	case kBool:
		d := arr.Data()
		b := d.Buffers()[1].Bytes()
		off := d.Offset()
		for i := range h {
			j := off + i
			h[i] = fmix64(h[i] ^ uint64((b[j>>3]>>(uint(j)&7))&1))
		}
	case kDec64:
		// As the same value in a Decimal128: lo + hi*decHiMul with hi the
		// sign extension.
		vals := FixedValues[int64](arr)
		h = h[:len(vals)]
		for i, v := range vals {
			h[i] = fmix64(h[i] ^ (uint64(v) + uint64(v>>63)*decHiMul))
		}
	case kDec128:
		vals := FixedValues[I128](arr)
		for i, v := range vals {
			h[i] = fmix64(h[i] ^ (v.Lo + uint64(v.Hi)*decHiMul))
		}
	case kString:
		offs, data := StringData(arr)
		for i := range h {
			h[i] = fmix64(h[i] ^ xxh3.Hash(data[offs[i]:offs[i+1]]))
		}
	default:
		return fmt.Errorf("unsupported key type %s", arr.DataType())
	}
	for j, r := range nullRows {
		h[r] = fmix64(nullPrev[j] ^ nullDigest)
	}
	return nil
}
