package expr

import (
	"encoding/binary"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// strIndex maps a few strings (a label encoder's categories) to their
// positions: a Go map's job, done without its branches. A string is
// known by its length and its first and last eight bytes (the same eight
// when it is shorter; loaded from the array's buffer and masked, not
// copied), which decide the slot of an open-addressed table at most a
// quarter full and, for strings of up to 16 bytes, equality; only longer
// strings compare their middle bytes.
type strIndex struct {
	shift uint // 64 − log2(len(slots))
	slots []strSlot
	pos   []int64  // pos[i] is the position of keys[i]
	keys  []string // distinct keys, in order of first appearance
}

type strSlot struct {
	first, last uint64
	n           int // -1 when empty
	key         int // index into keys
}

// newStrIndex indexes keys; a key repeated maps to its first position.
func newStrIndex(keys []string, positions []int64) *strIndex {
	size := 8
	for size < 4*len(keys) {
		size *= 2
	}
	x := &strIndex{shift: uint(64 - bits.TrailingZeros(uint(size))), slots: make([]strSlot, size)}
	for i := range x.slots {
		x.slots[i].n = -1
	}
	for i, k := range keys {
		if _, dup := x.find(k); dup {
			continue
		}
		first, last := strWords([]byte(k+"\x00\x00\x00\x00\x00\x00\x00\x00"), 0, len(k))
		s := x.home(first, last, len(k))
		for x.slots[s].n >= 0 {
			s = (s + 1) & (len(x.slots) - 1)
		}
		x.slots[s] = strSlot{first: first, last: last, n: len(k), key: len(x.keys)}
		x.keys = append(x.keys, k)
		x.pos = append(x.pos, positions[i])
	}
	return x
}

// strWords returns the first and last eight bytes of the n bytes at
// data[off:], each masked to the string when it is shorter; data must
// hold eight bytes from off.
func strWords(data []byte, off, n int) (first, last uint64) {
	m := ^uint64(0) >> (64 - 8*uint(min(n, 8)))
	first = binary.LittleEndian.Uint64(data[off:]) & m
	last = binary.LittleEndian.Uint64(data[off+max(n, 8)-8:]) & m
	return first, last
}

func (x *strIndex) home(first, last uint64, n int) int {
	h := (first ^ bits.RotateLeft64(last, 29) ^ uint64(n)*0xff51afd7ed558ccd) * 0x9e3779b97f4a7c15
	return int(h >> x.shift)
}

// at returns the key index of the n bytes at data[off:] (data holding
// eight bytes from off), or -1.
func (x *strIndex) at(data []byte, off, n int) int {
	first, last := strWords(data, off, n)
	for s := x.home(first, last, n); ; s = (s + 1) & (len(x.slots) - 1) {
		e := &x.slots[s]
		if e.first == first && e.last == last && e.n == n {
			if n <= 16 || x.keys[e.key][8:n-8] == string(data[off+8:off+n-8]) {
				return e.key
			}
		} else if e.n < 0 {
			return -1
		}
	}
}

// find returns k's position.
func (x *strIndex) find(k string) (int64, bool) {
	if i := x.at([]byte(k+"\x00\x00\x00\x00\x00\x00\x00\x00"), 0, len(k)); i >= 0 {
		return x.pos[i], true
	}
	return 0, false
}

// lookupAll sets out[i] to the position of row i of s, or to missing
// when the row is NULL or not a key.
func (x *strIndex) lookupAll(s *array.String, out []int64, missing int64) {
	if len(out) == 0 {
		return
	}
	offs := s.ValueOffsets()
	base := int(offs[0])
	data := s.ValueBytes()[:int(offs[len(out)])-base]
	nulls := s.NullN() > 0
	var pad [24]byte
	mask := len(x.slots) - 1
	for i := range out {
		out[i] = missing
		if nulls && s.IsNull(i) {
			continue
		}
		off, n := int(offs[i])-base, int(offs[i+1]-offs[i])
		k := -1
		if off+8 <= len(data) {
			// x.at, written out: calls cost as much as the lookup.
			m := ^uint64(0) >> (64 - 8*uint(min(n, 8)))
			first := binary.LittleEndian.Uint64(data[off:]) & m
			last := binary.LittleEndian.Uint64(data[off+max(n, 8)-8:]) & m
			h := (first ^ bits.RotateLeft64(last, 29) ^ uint64(n)*0xff51afd7ed558ccd) * 0x9e3779b97f4a7c15
			for s := int(h >> x.shift); ; s = (s + 1) & mask {
				e := &x.slots[s]
				if e.first == first && e.last == last && e.n == n {
					if n <= 16 || x.keys[e.key][8:n-8] == string(data[off+8:off+n-8]) {
						k = e.key
						break
					}
				} else if e.n < 0 {
					break
				}
			}
		} else { // fewer than eight bytes before the buffer's end
			copy(pad[:], data[off:off+n])
			k = x.at(pad[:], 0, n)
		}
		if k >= 0 {
			out[i] = x.pos[k]
		}
	}
}
