package hashing

import (
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Table maps distinct keys (tuples of one or more columns) to dense ids
// 0..Len()-1. It is an open-addressing table with linear probing whose
// slots pack a 32-bit hash tag and the key id; the keys themselves live in
// typed, append-only column stores. Lookups run batch at a time: hash the
// batch, walk the slots for all rows, then compare candidate keys column by
// column. A single integer-like key (IsIntKey) takes a fast path whose
// slots hold the key itself: one cache line per lookup, no compare pass.
//
// Insert is single-goroutine; once no more Inserts happen, Find may be
// called concurrently as long as each goroutine passes its own Scratch.
type Table struct {
	types  []arrow.DataType
	stores []keyStore
	slots  []uint64 // tag<<32 | (id+1); 0 = empty
	shift  uint     // slot = hash >> shift
	hashes []uint64 // hash of every stored key, for rehashing
	n      int
	ins    Scratch

	// Single integer-like key fast path: slots hold the key itself, so a
	// lookup touches one cache line and needs no separate compare pass.
	intKey bool
	islots []intSlot
	nullID int32 // id of the NULL key, -1 while absent

	// Dense direct index (after Densify): key k has id dense[k-denseMin]-1.
	dense    []uint32
	denseMin int64
}

type intSlot struct {
	key int64
	id  uint32 // id+1; 0 = empty
}

// Scratch holds per-caller buffers for Table operations.
type Scratch struct {
	rem, next      []int32
	slot, nextSlot []uint32
	candRows       []int32
	candGroups     []uint32
	newRows        []int32
	ints           []int64
	eq             []bool
}

// NewTable returns an empty table for keys of the given column types.
func NewTable(types []arrow.DataType) (*Table, error) {
	if len(types) == 0 {
		return nil, fmt.Errorf("hashing: table needs at least one key column")
	}
	t := &Table{types: types, nullID: -1}
	if len(types) == 1 {
		switch kindOf(types[0]) {
		case kInt8, kInt16, kInt32, kInt64, kUint8, kUint16, kUint32, kUint64, kDec64:
			t.intKey = true
		}
	}
	for i, dt := range types {
		s := newKeyStore(dt)
		if s == nil {
			return nil, fmt.Errorf("hashing: key column %d: unsupported key type %s", i, dt)
		}
		t.stores = append(t.stores, s)
	}
	t.resize(1024)
	return t, nil
}

// Len is the number of distinct keys stored.
func (t *Table) Len() int { return t.n }

func (t *Table) resize(capacity int) {
	logCap := bits.Len(uint(capacity - 1))
	if logCap < 4 {
		logCap = 4
	}
	t.shift = uint(64 - logCap)
	if t.intKey {
		old := t.islots
		t.islots = make([]intSlot, 1<<logCap)
		mask := uint32(len(t.islots) - 1)
		for _, e := range old {
			if e.id == 0 {
				continue
			}
			s := uint32(t.hashes[e.id-1] >> t.shift)
			for t.islots[s].id != 0 {
				s = (s + 1) & mask
			}
			t.islots[s] = e
		}
		return
	}
	t.slots = make([]uint64, 1<<logCap)
	mask := uint32(len(t.slots) - 1)
	for g, h := range t.hashes {
		s := uint32(h >> t.shift)
		for t.slots[s] != 0 {
			s = (s + 1) & mask
		}
		t.slots[s] = uint64(uint32(h))<<32 | uint64(g+1)
	}
}

func (t *Table) numSlots() int {
	if t.intKey {
		return len(t.islots)
	}
	return len(t.slots)
}

// Reserve makes room for extra more keys without rehashing (use before a
// large build whose size is known).
func (t *Table) Reserve(extra int) { t.reserve(extra) }

// reserve keeps the load factor at or below 1/2 after extra inserts.
func (t *Table) reserve(extra int) {
	if need := 2 * (t.n + extra); need > t.numSlots() {
		c := t.numSlots()
		for c < need {
			c *= 2
		}
		t.resize(c)
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// Insert finds or inserts the key of every selected row of cols (sel nil =
// all rows; hashes from HashColumns over the same cols) and writes its id
// to ids[row]. NULLs are ordinary key values here (grouping semantics).
// newFrom reports the first id created by this call.
func (t *Table) Insert(cols []arrow.Array, hashes []uint64, sel []int32, ids []uint32) (newFrom int) {
	newFrom = t.n
	sc := &t.ins
	n := len(hashes)
	if sel != nil {
		n = len(sel)
	}
	t.reserve(n)
	if t.intKey {
		t.insertInt(cols[0], hashes, sel, ids)
		return newFrom
	}
	mask := uint32(len(t.slots) - 1)
	sc.rem = grow(sc.rem, n)
	sc.slot = grow(sc.slot, n)
	for k := range sc.rem {
		r := int32(k)
		if sel != nil {
			r = sel[k]
		}
		sc.rem[k] = r
		sc.slot[k] = uint32(hashes[r] >> t.shift)
	}
	rem, slot := sc.rem, sc.slot
	slots := t.slots
	for len(rem) > 0 {
		sc.newRows = sc.newRows[:0]
		sc.candRows = sc.candRows[:0]
		sc.candGroups = sc.candGroups[:0]
		sc.nextSlot = sc.nextSlot[:0]
		for k, r := range rem {
			h := hashes[r]
			tag := uint32(h)
			s := slot[k]
			for {
				e := slots[s]
				if e == 0 {
					g := uint32(t.n)
					t.n++
					slots[s] = uint64(tag)<<32 | uint64(g+1)
					t.hashes = append(t.hashes, h)
					ids[r] = g
					sc.newRows = append(sc.newRows, r)
					break
				}
				if uint32(e>>32) == tag {
					sc.candRows = append(sc.candRows, r)
					sc.candGroups = append(sc.candGroups, uint32(e)-1)
					sc.nextSlot = append(sc.nextSlot, (s+1)&mask)
					break
				}
				s = (s + 1) & mask
			}
		}
		if len(sc.newRows) > 0 {
			for i, st := range t.stores {
				st.appendRows(cols[i], sc.newRows)
			}
		}
		rem, slot = t.verify(cols, sc, ids, rem[:0], slot[:0])
	}
	return newFrom
}

// verify compares candidates column by column; matches get their id,
// mismatches are queued (into rem/slot) to continue probing.
func (t *Table) verify(cols []arrow.Array, sc *Scratch, ids []uint32, rem []int32, slot []uint32) ([]int32, []uint32) {
	nc := len(sc.candRows)
	if nc == 0 {
		return rem, slot
	}
	sc.eq = grow(sc.eq, nc)
	for k := range sc.eq {
		sc.eq[k] = true
	}
	for i, st := range t.stores {
		st.equal(cols[i], sc.candRows, sc.candGroups, sc.eq)
	}
	for k, r := range sc.candRows {
		if sc.eq[k] {
			ids[r] = sc.candGroups[k]
		} else {
			rem = append(rem, r)
			slot = append(slot, sc.nextSlot[k])
		}
	}
	return rem, slot
}

// Find looks up the key of every row of cols (hashes from HashColumns) and
// writes its id, or -1 when absent, to out[row]. Rows with a NULL in any
// key column get -1 (SQL equality: NULL matches nothing). Find does not
// modify the table; concurrent Finds need distinct Scratch values.
func (t *Table) Find(cols []arrow.Array, hashes []uint64, out []int32, sc *Scratch) {
	n := len(hashes)
	if t.intKey {
		t.findInt(cols[0], hashes, out, sc)
		return
	}
	sc.rem = grow(sc.rem, n)[:0]
	sc.slot = grow(sc.slot, n)[:0]
	var valids []Validity
	for _, c := range cols {
		if v, ok := ValidityOf(c); ok {
			valids = append(valids, v)
		}
	}
	for r := 0; r < n; r++ {
		out[r] = -1
		if len(valids) > 0 {
			null := false
			for _, v := range valids {
				if !v.Valid(r) {
					null = true
					break
				}
			}
			if null {
				continue
			}
		}
		sc.rem = append(sc.rem, int32(r))
		sc.slot = append(sc.slot, uint32(hashes[r]>>t.shift))
	}
	if t.n == 0 {
		return
	}
	mask := uint32(len(t.slots) - 1)
	slots := t.slots
	rem, slot := sc.rem, sc.slot
	for len(rem) > 0 {
		sc.candRows = sc.candRows[:0]
		sc.candGroups = sc.candGroups[:0]
		sc.nextSlot = sc.nextSlot[:0]
		for k, r := range rem {
			h := hashes[r]
			tag := uint32(h)
			s := slot[k]
			for {
				e := slots[s]
				if e == 0 {
					break
				}
				if uint32(e>>32) == tag {
					sc.candRows = append(sc.candRows, r)
					sc.candGroups = append(sc.candGroups, uint32(e)-1)
					sc.nextSlot = append(sc.nextSlot, (s+1)&mask)
					break
				}
				s = (s + 1) & mask
			}
		}
		nc := len(sc.candRows)
		if nc == 0 {
			break
		}
		sc.eq = grow(sc.eq, nc)
		for k := range sc.eq {
			sc.eq[k] = true
		}
		for i, st := range t.stores {
			st.equal(cols[i], sc.candRows, sc.candGroups, sc.eq)
		}
		rem, slot = rem[:0], slot[:0]
		for k, r := range sc.candRows {
			if sc.eq[k] {
				out[r] = int32(sc.candGroups[k])
			} else {
				rem = append(rem, r)
				slot = append(slot, sc.nextSlot[k])
			}
		}
	}
}

// Keys materializes the stored keys with ids [from, to) as one array per
// key column, typed like the columns given to NewTable.
func (t *Table) Keys(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(t.stores))
	for i, st := range t.stores {
		a, err := st.build(mem, from, to)
		if err != nil {
			for _, b := range out[:i] {
				b.Release()
			}
			return nil, fmt.Errorf("hashing: key column %d: %w", i, err)
		}
		out[i] = a
	}
	return out, nil
}

// IsIntKey reports whether dt is an integer-like key type (signed or
// unsigned integers, dates, times, timestamps, durations, Decimal64).
func IsIntKey(dt arrow.DataType) bool {
	switch kindOf(dt) {
	case kInt8, kInt16, kInt32, kInt64, kUint8, kUint16, kUint32, kUint64, kDec64:
		return true
	}
	return false
}

// IntValues returns the values of an integer-like column (IsIntKey)
// widened to int64, copying into *scratch only when the width differs.
// Values under NULLs are unspecified.
func IntValues(arr arrow.Array, scratch *[]int64) []int64 { return intValues(arr, scratch) }

// intValues returns the key column widened to int64 (signed kinds
// sign-extended, unsigned zero-extended), copying only when needed.
func intValues(arr arrow.Array, scratch *[]int64) []int64 {
	n := arr.Len()
	conv := func() []int64 {
		*scratch = grow(*scratch, n)
		return *scratch
	}
	if arr.NullN() == n {
		return conv() // values unused
	}
	switch kindOf(arr.DataType()) {
	case kInt64, kDec64:
		return FixedValues[int64](arr)
	case kUint64:
		v := FixedValues[uint64](arr)
		return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
	case kInt32:
		out := conv()
		for i, x := range FixedValues[int32](arr) {
			out[i] = int64(x)
		}
		return out
	case kInt16:
		out := conv()
		for i, x := range FixedValues[int16](arr) {
			out[i] = int64(x)
		}
		return out
	case kInt8:
		out := conv()
		for i, x := range FixedValues[int8](arr) {
			out[i] = int64(x)
		}
		return out
	case kUint32:
		out := conv()
		for i, x := range FixedValues[uint32](arr) {
			out[i] = int64(x)
		}
		return out
	case kUint16:
		out := conv()
		for i, x := range FixedValues[uint16](arr) {
			out[i] = int64(x)
		}
		return out
	case kUint8:
		out := conv()
		for i, x := range FixedValues[uint8](arr) {
			out[i] = int64(x)
		}
		return out
	}
	panic("hashing: intValues on a non-integer key")
}

func (t *Table) insertInt(col arrow.Array, hashes []uint64, sel []int32, ids []uint32) {
	sc := &t.ins
	vals := intValues(col, &sc.ints)
	v, hasNulls := ValidityOf(col)
	slots := t.islots
	mask := uint32(len(slots) - 1)
	shift := t.shift
	newRows := sc.newRows[:0]
	if sel == nil {
		sel = sc.rem[:0]
		for r := range hashes {
			sel = append(sel, int32(r))
		}
		sc.rem = sel
	}
	for _, r := range sel {
		if hasNulls && !v.Valid(int(r)) {
			if t.nullID < 0 {
				t.nullID = int32(t.n)
				t.n++
				t.hashes = append(t.hashes, hashes[r])
				newRows = append(newRows, r)
			}
			ids[r] = uint32(t.nullID)
			continue
		}
		k := vals[r]
		s := uint32(hashes[r] >> shift)
		for {
			e := &slots[s]
			if e.id == 0 {
				g := uint32(t.n)
				t.n++
				e.key, e.id = k, g+1
				t.hashes = append(t.hashes, hashes[r])
				ids[r] = g
				newRows = append(newRows, r)
				break
			}
			if e.key == k {
				ids[r] = e.id - 1
				break
			}
			s = (s + 1) & mask
		}
	}
	if len(newRows) > 0 {
		t.stores[0].appendRows(col, newRows)
	}
	sc.newRows = newRows
}

// Densify switches Find to a direct index when the table has a single
// integer key whose non-NULL values span at most maxSpan consecutive
// values (TPC-H style keys 1..N). It reports whether it did. Insert must
// not be called afterwards. Once dense, Find ignores its hashes argument
// (callers may skip HashColumns; see Dense).
func (t *Table) Densify(maxSpan int) bool {
	if !t.intKey || t.n == 0 {
		return false
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, e := range t.islots {
		if e.id != 0 {
			lo, hi = min(lo, e.key), max(hi, e.key)
		}
	}
	if lo > hi {
		return false
	}
	span := uint64(hi - lo)
	if hi-lo < 0 || span >= uint64(maxSpan) {
		return false
	}
	dense := make([]uint32, span+1)
	for _, e := range t.islots {
		if e.id != 0 {
			dense[e.key-lo] = e.id
		}
	}
	t.dense, t.denseMin = dense, lo
	return true
}

// Dense reports whether Find uses the direct index built by Densify.
func (t *Table) Dense() bool { return t.dense != nil }

func (t *Table) findInt(col arrow.Array, hashes []uint64, out []int32, sc *Scratch) {
	vals := intValues(col, &sc.ints)
	v, hasNulls := ValidityOf(col)
	if t.dense != nil {
		dense, base := t.dense, t.denseMin
		vals = vals[:len(hashes)]
		for r, k := range vals {
			out[r] = -1
			if hasNulls && !v.Valid(r) {
				continue
			}
			if off := uint64(k - base); k >= base && off < uint64(len(dense)) {
				out[r] = int32(dense[off]) - 1
			}
		}
		return
	}
	slots := t.islots
	mask := uint32(len(slots) - 1)
	shift := t.shift
	vals = vals[:len(hashes)]
	for r, k := range vals {
		out[r] = -1
		if hasNulls && !v.Valid(r) {
			continue
		}
		s := uint32(hashes[r] >> shift)
		for {
			e := &slots[s]
			if e.id == 0 {
				break
			}
			if e.key == k {
				out[r] = int32(e.id - 1)
				break
			}
			s = (s + 1) & mask
		}
	}
}
