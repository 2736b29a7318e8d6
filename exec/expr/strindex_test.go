package expr

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestStrIndexMatchesMap looks up strings of every length from 0 to 20,
// near misses (one byte changed, a prefix, a suffix), NULLs and a sliced
// array against a Go map built from the same keys.
func TestStrIndexMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab\x00\xff"[r.IntN(4)]
		}
		return string(b)
	}
	for _, nkeys := range []int{0, 1, 3, 25, 200} {
		var keys []string
		var pos []int64
		want := map[string]int64{}
		for i := range nkeys {
			k := word(r.IntN(21))
			if i%7 == 3 && i > 0 {
				k = keys[r.IntN(len(keys))] // a repeat maps to its first position
			}
			keys, pos = append(keys, k), append(pos, int64(i))
			if _, dup := want[k]; !dup {
				want[k] = int64(i)
			}
		}
		x := newStrIndex(keys, pos)
		b := array.NewStringBuilder(memory.NewGoAllocator())
		var probes []string
		for range 2000 {
			var p string
			switch c := r.IntN(5); {
			case c == 0 && len(keys) > 0:
				p = keys[r.IntN(len(keys))]
			case c == 1 && len(keys) > 0:
				k := []byte(keys[r.IntN(len(keys))])
				if len(k) > 0 {
					k[r.IntN(len(k))] ^= 1
				}
				p = string(k)
			case c == 2 && len(keys) > 0:
				k := keys[r.IntN(len(keys))]
				p = k[:len(k)/2]
			default:
				p = word(r.IntN(21))
			}
			probes = append(probes, p)
			if r.IntN(10) == 0 {
				b.AppendNull()
				probes[len(probes)-1] = "\x00null"
			} else {
				b.Append(p)
			}
		}
		arr := b.NewStringArray()
		for _, off := range []int{0, 37} {
			s := array.NewSlice(arr, int64(off), int64(arr.Len())).(*array.String)
			out := make([]int64, s.Len())
			x.lookupAll(s, out, -1)
			for i, got := range out {
				p := probes[off+i]
				w, ok := want[p]
				if s.IsNull(i) || !ok {
					w = -1
				}
				if got != w {
					t.Fatalf("%d keys, offset %d: row %d %q → %d, want %d", nkeys, off, i, p, got, w)
				}
				if f, ok := x.find(p); !s.IsNull(i) && (f != w && ok || !ok && w != -1) {
					t.Fatalf("find(%q) = %d, %v; want %d", p, f, ok, w)
				}
			}
			s.Release()
		}
		arr.Release()
	}
}

func BenchmarkStrIndex(b *testing.B) {
	keys := []string{"AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"}
	pos := []int64{0, 1, 2, 3, 4, 5, 6}
	x := newStrIndex(keys, pos)
	m := map[string]int64{}
	for i, k := range keys {
		m[k] = pos[i]
	}
	sb := array.NewStringBuilder(memory.NewGoAllocator())
	for i := range 8192 {
		sb.Append(keys[(i*7919)%len(keys)])
	}
	s := sb.NewStringArray()
	out := make([]int64, s.Len())
	b.Run("strIndex", func(b *testing.B) {
		for b.Loop() {
			x.lookupAll(s, out, 7)
		}
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			for i := range out {
				j, ok := m[s.Value(i)]
				if !ok {
					j = 7
				}
				out[i] = j
			}
		}
	})
}
