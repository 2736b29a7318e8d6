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

// histPass adds rows' pairs to targets k (one to four): slots[k] at the
// codes cols[k], as histColumns's loops do, in assembly; it reports
// whether it did. The shard's invariants make the unchecked loads safe:
// every row id is below the shard's row count, which every column and gp
// (two values a row) hold, and every code indexes a slot pair of its
// target (a feature's bins and missing slot, or a bundle's joint slots).
func histPass[B uint8 | uint16](slots [][]float64, cols [][]B, rows []uint32, gp []float32) bool {
	w := len(slots)
	if len(rows) == 0 {
		return true
	}
	if w < 1 || w > 4 || len(cols) != w {
		return false
	}
	n := len(cols[0])
	if len(gp) < 2*n {
		return false
	}
	var s [4]*float64
	for k := range w {
		if len(cols[k]) != n || len(slots[k]) == 0 {
			return false
		}
		s[k] = &slots[k][0]
	}
	switch c := any(cols).(type) {
	case [][]uint8:
		var cp [4]*uint8
		for k := range w {
			cp[k] = &c[k][0]
		}
		histPassU8(&s, &cp, w, rows, &gp[0])
	case [][]uint16:
		var cp [4]*uint16
		for k := range w {
			cp[k] = &c[k][0]
		}
		histPassU16(&s, &cp, w, rows, &gp[0])
	default:
		return false
	}
	return true
}

// histRun is histPass for one target whose codes mostly repeat from row
// to row (histRunU8/16: the current slot stays in a register).
func histRun[B uint8 | uint16](slots []float64, col []B, rows []uint32, gp []float32) bool {
	if len(rows) == 0 {
		return true
	}
	n := len(col)
	if n == 0 || len(gp) < 2*n || len(slots) == 0 {
		return false
	}
	s := &slots[0]
	switch c := any(col).(type) {
	case []uint8:
		histRunU8(s, &c[0], rows, &gp[0])
	case []uint16:
		histRunU16(s, &c[0], rows, &gp[0])
	default:
		return false
	}
	return true
}
