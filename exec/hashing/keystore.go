package hashing

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// keyStore is the columnar, append-only storage of one key column of a
// Table. Every method works on a whole batch of rows.
type keyStore interface {
	// appendRows appends arr[rows[k]] for every k.
	appendRows(arr arrow.Array, rows []int32)
	// equal clears eq[k] unless arr[rows[k]] equals stored key groups[k]
	// (NULL equals NULL here: grouping semantics).
	equal(arr arrow.Array, rows []int32, groups []uint32, eq []bool)
	// build materializes stored keys [from, to) as an array of type dt.
	build(mem memory.Allocator, from, to int) (arrow.Array, error)
}

func newKeyStore(dt arrow.DataType) keyStore {
	switch kindOf(dt) {
	case kInt8:
		return &fixedStore[int8]{dt: dt}
	case kInt16:
		return &fixedStore[int16]{dt: dt}
	case kInt32:
		return &fixedStore[int32]{dt: dt}
	case kInt64, kDec64:
		return &fixedStore[int64]{dt: dt}
	case kUint8:
		return &fixedStore[uint8]{dt: dt}
	case kUint16:
		return &fixedStore[uint16]{dt: dt}
	case kUint32:
		return &fixedStore[uint32]{dt: dt}
	case kUint64:
		return &fixedStore[uint64]{dt: dt}
	case kFloat32:
		return &floatStore[float32]{dt: dt}
	case kFloat64:
		return &floatStore[float64]{dt: dt}
	case kDec128:
		return &fixedStore[I128]{dt: dt}
	case kBool:
		return &boolStore{}
	case kString:
		return &stringStore{dt: dt, offs: []int{0}}
	}
	return nil
}

// nullTracker keeps per-key validity only once a NULL key has been seen.
type nullTracker struct {
	valid []bool // nil while every stored key is non-null
	n     int
}

func (t *nullTracker) appendValidity(arr arrow.Array, rows []int32) {
	v, hasNulls := ValidityOf(arr)
	if !hasNulls {
		if t.valid != nil {
			for range rows {
				t.valid = append(t.valid, true)
			}
		}
		t.n += len(rows)
		return
	}
	if t.valid == nil {
		t.valid = make([]bool, t.n, t.n+len(rows))
		for i := range t.valid {
			t.valid[i] = true
		}
	}
	for _, r := range rows {
		t.valid = append(t.valid, v.Valid(int(r)))
	}
	t.n += len(rows)
}

// equalNulls handles NULL on either side; it returns false when no NULLs
// are involved at all so callers can skip the per-row checks.
func (t *nullTracker) equalNulls(arr arrow.Array, rows []int32, groups []uint32, eq []bool, cmpValues func(k int) bool) bool {
	v, hasNulls := ValidityOf(arr)
	if !hasNulls && t.valid == nil {
		return false
	}
	for k, r := range rows {
		if !eq[k] {
			continue
		}
		a := !hasNulls || v.Valid(int(r))
		b := t.valid == nil || t.valid[groups[k]]
		switch {
		case a != b:
			eq[k] = false
		case !a:
			// both NULL: equal
		default:
			eq[k] = cmpValues(k)
		}
	}
	return true
}

func (t *nullTracker) validRange(from, to int) []bool {
	if t.valid == nil {
		return nil
	}
	return t.valid[from:to]
}

type fixedStore[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | I128] struct {
	dt   arrow.DataType
	vals []T
	nullTracker
}

func (s *fixedStore[T]) appendRows(arr arrow.Array, rows []int32) {
	src := FixedValues[T](arr)
	var zero T
	for _, r := range rows {
		if int(r) < len(src) {
			s.vals = append(s.vals, src[r])
		} else {
			s.vals = append(s.vals, zero) // all-null array without data
		}
	}
	s.appendValidity(arr, rows)
}

func (s *fixedStore[T]) equal(arr arrow.Array, rows []int32, groups []uint32, eq []bool) {
	src := FixedValues[T](arr)
	vals := s.vals
	if s.equalNulls(arr, rows, groups, eq, func(k int) bool { return src[rows[k]] == vals[groups[k]] }) {
		return
	}
	for k, r := range rows {
		if src[r] != vals[groups[k]] {
			eq[k] = false
		}
	}
}

func (s *fixedStore[T]) build(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return NewFixedArray(mem, s.dt, s.vals[from:to], s.validRange(from, to)), nil
}

type floatStore[T float32 | float64] struct {
	dt   arrow.DataType
	vals []T
	nullTracker
}

func (s *floatStore[T]) appendRows(arr arrow.Array, rows []int32) {
	src := FixedValues[T](arr)
	for _, r := range rows {
		if int(r) < len(src) {
			s.vals = append(s.vals, src[r])
		} else {
			s.vals = append(s.vals, 0)
		}
	}
	s.appendValidity(arr, rows)
}

func floatEq[T float32 | float64](a, b T) bool { return a == b || (a != a && b != b) }

func (s *floatStore[T]) equal(arr arrow.Array, rows []int32, groups []uint32, eq []bool) {
	src := FixedValues[T](arr)
	vals := s.vals
	if s.equalNulls(arr, rows, groups, eq, func(k int) bool { return floatEq(src[rows[k]], vals[groups[k]]) }) {
		return
	}
	for k, r := range rows {
		if !floatEq(src[r], vals[groups[k]]) {
			eq[k] = false
		}
	}
}

func (s *floatStore[T]) build(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return NewFixedArray(mem, s.dt, s.vals[from:to], s.validRange(from, to)), nil
}

type boolStore struct {
	vals []bool
	nullTracker
}

func boolAt(arr arrow.Array, i int) bool {
	d := arr.Data()
	b := d.Buffers()[1]
	if b == nil {
		return false
	}
	j := d.Offset() + i
	return b.Bytes()[j>>3]&(1<<(uint(j)&7)) != 0
}

func (s *boolStore) appendRows(arr arrow.Array, rows []int32) {
	for _, r := range rows {
		s.vals = append(s.vals, boolAt(arr, int(r)))
	}
	s.appendValidity(arr, rows)
}

func (s *boolStore) equal(arr arrow.Array, rows []int32, groups []uint32, eq []bool) {
	cmp := func(k int) bool { return boolAt(arr, int(rows[k])) == s.vals[groups[k]] }
	if s.equalNulls(arr, rows, groups, eq, cmp) {
		return
	}
	for k := range rows {
		if !cmp(k) {
			eq[k] = false
		}
	}
}

func (s *boolStore) build(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return NewBoolArray(mem, s.vals[from:to], s.validRange(from, to)), nil
}

type stringStore struct {
	dt   arrow.DataType
	data []byte
	offs []int // len = stored keys + 1
	nullTracker
}

func (s *stringStore) appendRows(arr arrow.Array, rows []int32) {
	offs, data := StringData(arr)
	for _, r := range rows {
		s.data = append(s.data, data[offs[r]:offs[r+1]]...)
		s.offs = append(s.offs, len(s.data))
	}
	s.appendValidity(arr, rows)
}

func (s *stringStore) equal(arr arrow.Array, rows []int32, groups []uint32, eq []bool) {
	offs, data := StringData(arr)
	cmp := func(k int) bool {
		r, g := rows[k], groups[k]
		return string(data[offs[r]:offs[r+1]]) == string(s.data[s.offs[g]:s.offs[g+1]])
	}
	if s.equalNulls(arr, rows, groups, eq, cmp) {
		return
	}
	for k, r := range rows {
		g := groups[k]
		if !bytesEq(data[offs[r]:offs[r+1]], s.data[s.offs[g]:s.offs[g+1]]) {
			eq[k] = false
		}
	}
}

// bytesEq avoids the memequal call for the short strings typical of keys.
func bytesEq(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= 8 {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	return string(a) == string(b)
}

func (s *stringStore) build(mem memory.Allocator, from, to int) (arrow.Array, error) {
	vals := make([]string, to-from)
	for i := range vals {
		g := from + i
		vals[i] = string(s.data[s.offs[g]:s.offs[g+1]])
	}
	return NewStringArray(mem, s.dt, vals, s.validRange(from, to))
}
