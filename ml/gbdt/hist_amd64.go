//go:build amd64 && !purego

package gbdt

// The histPass functions add, for each row r of rows in order, the
// gradient pair gp[2r], gp[2r+1] (widened to float64) to slot cK[r] of
// sK for each of their 1 to 4 features K: sK points at a feature's
// histogram slots (a gradient and a hessian sum each), cK at its codes.
// One SSE2 addition adds a pair, where Go's compiler emits two scalar
// ones and a bounds check: the histograms are most of a training's time.
// Rows, codes and slots are not checked: the caller (histPass) guarantees
// them.

//go:noescape
func histPass1U8(s0 *float64, c0 *uint8, rows []uint32, gp *float32)

//go:noescape
func histPass2U8(s0, s1 *float64, c0, c1 *uint8, rows []uint32, gp *float32)

//go:noescape
func histPass3U8(s0, s1, s2 *float64, c0, c1, c2 *uint8, rows []uint32, gp *float32)

//go:noescape
func histPass4U8(s0, s1, s2, s3 *float64, c0, c1, c2, c3 *uint8, rows []uint32, gp *float32)

//go:noescape
func histPass1U16(s0 *float64, c0 *uint16, rows []uint32, gp *float32)

//go:noescape
func histPass2U16(s0, s1 *float64, c0, c1 *uint16, rows []uint32, gp *float32)

//go:noescape
func histPass3U16(s0, s1, s2 *float64, c0, c1, c2 *uint16, rows []uint32, gp *float32)

//go:noescape
func histPass4U16(s0, s1, s2, s3 *float64, c0, c1, c2, c3 *uint16, rows []uint32, gp *float32)

// histPass adds rows' pairs to features f to f+w−1 (1 ≤ w ≤ 4) of h, as
// histRows's loops do, in assembly; it reports whether it did. The
// shard's invariants make the unchecked loads safe: every row id is below
// the shard's row count, which every column and gp (two values a row)
// hold, and every code is at most its feature's number of bins (the
// missing slot), so within the feature's slots.
func histPass[B uint8 | uint16](h *Histogram, cols [][]B, f, w int, rows []uint32, gp []float32) bool {
	if len(rows) == 0 {
		return true
	}
	n := len(cols[f])
	if len(gp) < 2*n {
		return false
	}
	var s [4]*float64
	for k := range w {
		if len(cols[f+k]) != n {
			return false
		}
		s[k] = &h.feature(f + k)[0]
	}
	switch c := any(cols).(type) {
	case [][]uint8:
		switch w {
		case 1:
			histPass1U8(s[0], &c[f][0], rows, &gp[0])
		case 2:
			histPass2U8(s[0], s[1], &c[f][0], &c[f+1][0], rows, &gp[0])
		case 3:
			histPass3U8(s[0], s[1], s[2], &c[f][0], &c[f+1][0], &c[f+2][0], rows, &gp[0])
		case 4:
			histPass4U8(s[0], s[1], s[2], s[3], &c[f][0], &c[f+1][0], &c[f+2][0], &c[f+3][0], rows, &gp[0])
		default:
			return false
		}
	case [][]uint16:
		switch w {
		case 1:
			histPass1U16(s[0], &c[f][0], rows, &gp[0])
		case 2:
			histPass2U16(s[0], s[1], &c[f][0], &c[f+1][0], rows, &gp[0])
		case 3:
			histPass3U16(s[0], s[1], s[2], &c[f][0], &c[f+1][0], &c[f+2][0], rows, &gp[0])
		case 4:
			histPass4U16(s[0], s[1], s[2], s[3], &c[f][0], &c[f+1][0], &c[f+2][0], &c[f+3][0], rows, &gp[0])
		default:
			return false
		}
	default:
		return false
	}
	return true
}
