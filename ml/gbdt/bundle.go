package gbdt

import (
	"cmp"
	"slices"
)

// maxJoint is the most joint codes a bundle may have: they fit a byte, and
// its joint histogram (4 KiB) stays in the first-level cache beside the
// features' own.
const maxJoint = 256

// A bundle is a few features of few bins that a shard keeps as one column
// of joint codes, code = Σ c_k·stride_k over its members k. A histogram
// pass then adds a row once for the whole bundle, into the joint
// histogram, where it would add it once per member; the members'
// histograms are the joint one's sums over the other members' codes
// (expand), exact because every row lands in one joint slot and every
// joint slot in one slot of each member. Features of few bins are also the
// slow ones to add alone: their rows keep hitting the same few slots, and
// each addition waits on the previous one to that slot.
type bundle struct {
	feats []int // members, in joint-code order (the first varies fastest)
	size  []int // each member's codes: its bins, and its missing slot when the shard has a missing value
	slots int   // joint codes: the product of size
	// decode[j*len(feats)+k] is member k's code in joint code j.
	decode []uint8
	// lead is the lowest member: the histogram work over a range of
	// features builds the bundles whose lead is in the range.
	lead int
}

// planBundles groups features into bundles of at most maxJoint joint
// codes, given each feature's codes (bins, plus one when the shard has a
// missing value). It packs first fit, features by decreasing codes, and
// returns only bundles of two members or more: it is deterministic in its
// input. A runny feature joins a bundle too: beside another member's
// codes, the joint codes no longer run, and the pass of its own is gone.
func planBundles(sizes []int) []bundle {
	var cand []int
	for f, n := range sizes {
		if n <= maxJoint/2 {
			cand = append(cand, f)
		}
	}
	slices.SortStableFunc(cand, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	var plan []bundle
	for _, f := range cand {
		placed := false
		for i := range plan {
			if b := &plan[i]; b.slots*sizes[f] <= maxJoint {
				b.feats = append(b.feats, f)
				b.size = append(b.size, sizes[f])
				b.slots *= sizes[f]
				placed = true
				break
			}
		}
		if !placed {
			plan = append(plan, bundle{feats: []int{f}, size: []int{sizes[f]}, slots: sizes[f]})
		}
	}
	out := plan[:0]
	for _, b := range plan {
		if len(b.feats) < 2 {
			continue
		}
		b.lead = slices.Min(b.feats)
		m := len(b.feats)
		b.decode = make([]uint8, b.slots*m)
		for j := range b.slots {
			r := j
			for k, n := range b.size {
				b.decode[j*m+k] = uint8(r % n)
				r /= n
			}
		}
		out = append(out, b)
	}
	return out
}

// jointCodes returns the bundle's joint code of every row, from its
// members' columns.
func jointCodes[B uint8 | uint16](b *bundle, cols [][]B, n int) []uint8 {
	joint := make([]uint8, n, n+3) // three bytes to spare: partitionVector reads four at a time
	stride := 1
	for k, f := range b.feats {
		c := cols[f]
		for i := range joint {
			joint[i] += uint8(int(c[i]) * stride)
		}
		stride *= b.size[k]
	}
	return joint
}

// code returns member k's code in joint code j.
func (b *bundle) code(j uint8, k int) int { return int(b.decode[int(j)*len(b.feats)+k]) }

// expand adds the joint histogram's sums (two values a joint code) to its
// members' slots in h, joint codes in ascending order.
func (b *bundle) expand(h *Histogram, joint []float64) {
	m := len(b.feats)
	var segs [8][]float64
	seg := segs[:0]
	if m > len(segs) {
		seg = make([][]float64, 0, m)
	}
	for _, f := range b.feats {
		seg = append(seg, h.feature(f))
	}
	for j := range b.slots {
		g, hs := joint[2*j], joint[2*j+1]
		if g == 0 && hs == 0 {
			continue // no rows (adding zeros would change nothing)
		}
		codes := b.decode[j*m : j*m+m]
		for k, s := range seg {
			c := 2 * int(codes[k])
			x := s[c : c+2 : c+2]
			x[0] += g
			x[1] += hs
		}
	}
}

// leftTable fills tbl[j] with 1 when the rows of joint code j go left
// under a split of member k at bin (codes ≤ bin go left, and the missing
// code miss when defaultLeft), 0 otherwise.
func (b *bundle) leftTable(tbl *[maxJoint]uint8, k int, miss, bin int32, defaultLeft bool) {
	m := len(b.feats)
	dl := b2i(defaultLeft)
	for j := range b.slots {
		c := int32(b.decode[j*m+k])
		tbl[j] = uint8(b2i(c <= bin) | (b2i(c == miss) & dl))
	}
}

// partitionTable is partition for byte codes (a bundle's joint codes, or
// a feature's): tbl says, per code, whether a row goes left (1) or not
// (0). Where it can, sixteen rows go at once (partitionVector), the table
// as a bitmap.
func partitionTable(rows, scratch []uint32, joint []uint8, tbl *[maxJoint]uint8) int {
	scratch = scratch[:len(rows)]
	var bits [maxJoint / 32]uint32
	for c, l := range tbl {
		bits[c>>5] |= uint32(l&1) << (c & 31)
	}
	nl, nr, done := partitionVector(rows, scratch, joint, &bits)
	for _, r := range rows[done:] {
		left := int(tbl[joint[r]])
		rows[nl] = r
		scratch[nr] = r
		nl += left
		nr += 1 - left
	}
	copy(rows[nl:], scratch[:nr])
	return nl
}
