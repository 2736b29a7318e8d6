package gbdt

import (
	"math/rand/v2"
	"testing"
)

// FuzzUnmarshal feeds arbitrary bytes to the decoders of what travels
// between processes: an error, never a panic.
func FuzzUnmarshal(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 1))
	c := testCuts(3, 2, 5)
	h, _ := randomHistogram(c, r, 0.5).MarshalBinary()
	cb, _ := c.MarshalBinary()
	sk, _ := NewSketch(2, 4)
	_ = sk.Add([][]float64{{1, 2, 3}, {4, 5, 6}})
	sb, _ := sk.MarshalBinary()
	for _, b := range [][]byte{h, cb, sb, {histMagic, 1, 2}, {cutsMagic}, {sketchMagic}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Histogram
		if h.UnmarshalBinary(b) == nil {
			if again, _ := h.MarshalBinary(); string(again) != string(b) {
				t.Errorf("histogram re-encodes differently")
			}
		}
		var c Cuts
		if c.UnmarshalBinary(b) == nil {
			if again, _ := c.MarshalBinary(); string(again) != string(b) {
				t.Errorf("cuts re-encode differently")
			}
		}
		var s Sketch
		if s.UnmarshalBinary(b) == nil {
			_ = s.Cuts()
		}
	})
}
