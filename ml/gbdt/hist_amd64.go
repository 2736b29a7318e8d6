//go:build amd64 && !purego

package gbdt

// The histPass{W}U{B} functions (hist_amd64.s, written by internal/histgen)
// add, for each row r of rows in order, the gradient pair gp[2r], gp[2r+1]
// (widened to float64) to slot cK[r] of sK for each of their W features
// K: sK points at a feature's histogram slots (a gradient and a hessian
// sum each), cK at its B-bit codes. One SSE2 addition adds a pair, where
// Go's compiler emits two scalar ones and a bounds check: the histograms
// are most of a training's time. Rows, codes and slots are not checked:
// the caller (histPass) guarantees them.

//go:generate go run ./internal/histgen -dir .

// histPass adds rows' pairs to features feats (one to four) of h, as
// histRows's loops do, in assembly; it reports whether it did. The
// shard's invariants make the unchecked loads safe: every row id is below
// the shard's row count, which every column and gp (two values a row)
// hold, and every code is at most its feature's number of bins (the
// missing slot), so within the feature's slots.
func histPass[B uint8 | uint16](h *Histogram, cols [][]B, feats []int, rows []uint32, gp []float32) bool {
	w := len(feats)
	if len(rows) == 0 {
		return true
	}
	if w < 1 || w > 4 {
		return false
	}
	n := len(cols[feats[0]])
	if len(gp) < 2*n {
		return false
	}
	var s [4]*float64
	for k, f := range feats {
		if len(cols[f]) != n {
			return false
		}
		s[k] = &h.feature(f)[0]
	}
	switch c := any(cols).(type) {
	case [][]uint8:
		var cp [4]*uint8
		for k, f := range feats {
			cp[k] = &c[f][0]
		}
		histPassU8(&s, &cp, w, rows, &gp[0])
	case [][]uint16:
		var cp [4]*uint16
		for k, f := range feats {
			cp[k] = &c[f][0]
		}
		histPassU16(&s, &cp, w, rows, &gp[0])
	default:
		return false
	}
	return true
}

// histRun is histPass for one feature whose codes mostly repeat from row
// to row (histRunU8/16: the current slot stays in a register).
func histRun[B uint8 | uint16](h *Histogram, cols [][]B, f int, rows []uint32, gp []float32) bool {
	if len(rows) == 0 {
		return true
	}
	n := len(cols[f])
	if n == 0 || len(gp) < 2*n {
		return false
	}
	s := &h.feature(f)[0]
	switch c := any(cols).(type) {
	case [][]uint8:
		histRunU8(s, &c[f][0], rows, &gp[0])
	case [][]uint16:
		histRunU16(s, &c[f][0], rows, &gp[0])
	default:
		return false
	}
	return true
}
