package gbdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Histogram holds, for the rows of one tree node, the sums of gradients
// and hessians per bin of every feature, and per feature the sums over the
// rows where the feature is missing. Sums are float64, as XGBoost's
// GHistRow; the gradients themselves are float32.
//
// Each shard builds the histograms of its rows; the trainer sums them
// (Merge, in shard order, so the result does not depend on timing) and
// derives a node's sibling by subtraction from their parent (Sub). A
// histogram travels between processes as MarshalBinary's bytes.
type Histogram struct {
	// layout[f] is the first slot of feature f; its slots run to
	// layout[f+1], one per bin then one for missing values. Histograms of
	// the same cuts share one layout slice.
	layout []int32
	sums   []float64 // slot s: sums[2s] = Σ gradient, sums[2s+1] = Σ hessian
}

// newLayout returns the slot layout of histograms over c.
func newLayout(c *Cuts) []int32 {
	layout := make([]int32, c.NumFeatures()+1)
	for f := range c.values {
		layout[f+1] = layout[f] + int32(len(c.values[f])) + 1
	}
	return layout
}

// NewHistogram returns an empty histogram over the bins of c.
func NewHistogram(c *Cuts) *Histogram {
	return newHistogram(newLayout(c))
}

func newHistogram(layout []int32) *Histogram {
	return &Histogram{layout: layout, sums: make([]float64, 2*int(layout[len(layout)-1]))}
}

// NumFeatures is the number of features.
func (h *Histogram) NumFeatures() int { return len(h.layout) - 1 }

// NumBins is the number of bins of feature f.
func (h *Histogram) NumBins(f int) int { return int(h.layout[f+1]-h.layout[f]) - 1 }

// Bin returns the sums of bin b of feature f.
func (h *Histogram) Bin(f, b int) (grad, hess float64) {
	s := 2 * (int(h.layout[f]) + b)
	return h.sums[s], h.sums[s+1]
}

// Missing returns the sums over the rows where feature f is missing.
func (h *Histogram) Missing(f int) (grad, hess float64) {
	return h.Bin(f, h.NumBins(f))
}

// AddBin adds a row's gradient and hessian to bin b of feature f; b =
// NumBins(f) is the missing slot.
func (h *Histogram) AddBin(f, b int, grad, hess float64) {
	s := 2 * (int(h.layout[f]) + b)
	h.sums[s] += grad
	h.sums[s+1] += hess
}

// feature returns the slots of feature f: 2 values per bin, then 2 for
// missing.
func (h *Histogram) feature(f int) []float64 {
	return h.sums[2*h.layout[f] : 2*h.layout[f+1]]
}

// Total returns the sums over all rows of the node (feature 0's bins and
// missing slot).
func (h *Histogram) Total() (grad, hess float64) {
	seg := h.feature(0)
	for i := 0; i < len(seg); i += 2 {
		grad += seg[i]
		hess += seg[i+1]
	}
	return grad, hess
}

// Reset zeroes every sum.
func (h *Histogram) Reset() { clear(h.sums) }

// Clone returns a copy of h.
func (h *Histogram) Clone() *Histogram {
	return &Histogram{layout: h.layout, sums: slices.Clone(h.sums)}
}

func (h *Histogram) check(o *Histogram) error {
	if &h.layout[0] == &o.layout[0] || slices.Equal(h.layout, o.layout) {
		return nil
	}
	return fmt.Errorf("gbdt: histograms of different bins (%d and %d features, %d and %d slots)",
		h.NumFeatures(), o.NumFeatures(), h.layout[len(h.layout)-1], o.layout[len(o.layout)-1])
}

// Add adds o's sums to h's.
func (h *Histogram) Add(o *Histogram) error {
	if err := h.check(o); err != nil {
		return err
	}
	for i, v := range o.sums {
		h.sums[i] += v
	}
	return nil
}

// Sub subtracts o's sums from h's: with h a parent's histogram and o one
// child's, h becomes the other child's.
func (h *Histogram) Sub(o *Histogram) error {
	if err := h.check(o); err != nil {
		return err
	}
	for i, v := range o.sums {
		h.sums[i] -= v
	}
	return nil
}

// Merge returns the sum of parts, added in order: the histogram of a node
// over all shards from each shard's.
func Merge(parts []*Histogram) (*Histogram, error) {
	if len(parts) == 0 {
		return nil, errors.New("gbdt: merge of no histograms")
	}
	out := parts[0].Clone()
	for _, p := range parts[1:] {
		if err := out.Add(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mergeInto sets dst to the sum of parts in order, slots lo to hi only
// (so that several goroutines can share the work).
func mergeInto(dst *Histogram, parts []*Histogram, lo, hi int) {
	d := dst.sums[2*lo : 2*hi]
	copy(d, parts[0].sums[2*lo:2*hi])
	for _, p := range parts[1:] {
		for i, v := range p.sums[2*lo : 2*hi] {
			d[i] += v
		}
	}
}

const histMagic = 0xB7 // first byte of a marshaled Histogram (format version 1)

// MarshalBinary encodes h compactly: deep nodes hold few rows, so most
// slots are zero. The encoding is a magic byte, the number of features and
// each feature's slot count (uvarints), a bitmap of the slots that are not
// both +0, then those slots' two float64s, little-endian. It is exact:
// decoding gives back every bit.
func (h *Histogram) MarshalBinary() ([]byte, error) { return h.AppendBinary(nil), nil }

// AppendBinary appends MarshalBinary's encoding of h to b.
func (h *Histogram) AppendBinary(b []byte) []byte {
	b = append(b, histMagic)
	nf := h.NumFeatures()
	b = binary.AppendUvarint(b, uint64(nf))
	for f := 0; f < nf; f++ {
		b = binary.AppendUvarint(b, uint64(h.layout[f+1]-h.layout[f]))
	}
	nslots := len(h.sums) / 2
	bitmap := len(b)
	b = append(b, make([]byte, (nslots+7)/8)...)
	for s := 0; s < nslots; s++ {
		g, hs := math.Float64bits(h.sums[2*s]), math.Float64bits(h.sums[2*s+1])
		if g|hs == 0 {
			continue
		}
		b[bitmap+s/8] |= 1 << (s % 8)
		b = binary.LittleEndian.AppendUint64(b, g)
		b = binary.LittleEndian.AppendUint64(b, hs)
	}
	return b
}

// UnmarshalBinary replaces h with the histogram encoded in b.
func (h *Histogram) UnmarshalBinary(b []byte) error {
	bad := errors.New("gbdt: corrupt histogram encoding")
	if len(b) == 0 || b[0] != histMagic {
		return bad
	}
	b = b[1:]
	nf, n := binary.Uvarint(b)
	if n <= 0 || nf < 1 || nf > uint64(len(b)) {
		return bad
	}
	b = b[n:]
	layout := make([]int32, nf+1)
	for f := range int(nf) {
		k, n := binary.Uvarint(b)
		if n <= 0 || k < 2 || k > maxMaxBin+1 {
			return bad
		}
		b = b[n:]
		layout[f+1] = layout[f] + int32(k)
	}
	nslots := int(layout[nf])
	if len(b) < (nslots+7)/8 {
		return bad
	}
	bitmap, b := b[:(nslots+7)/8], b[(nslots+7)/8:]
	sums := make([]float64, 2*nslots)
	for s := 0; s < nslots; s++ {
		if bitmap[s/8]&(1<<(s%8)) == 0 {
			continue
		}
		if len(b) < 16 {
			return bad
		}
		sums[2*s] = math.Float64frombits(binary.LittleEndian.Uint64(b))
		sums[2*s+1] = math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
		b = b[16:]
	}
	if len(b) != 0 || (nslots%8 != 0 && bitmap[len(bitmap)-1]>>(nslots%8) != 0) {
		return bad
	}
	h.layout, h.sums = layout, sums
	return nil
}
