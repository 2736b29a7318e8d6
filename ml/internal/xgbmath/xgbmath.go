// Package xgbmath holds XGBoost's float32 arithmetic that a model's
// predictions depend on bit for bit: C's expf and logf, its sigmoid and
// softmax. The scorer (ml/xgboost) and the trainer (ml/gbdt) both use it,
// so that Flint's trained models score in training as XGBoost scores them.
package xgbmath

import "math"

// Expf is C's expf: exp of a float32, rounded to float32. It equals
// float32(math.Exp(float64(x))) bit for bit, at a third of the cost: for
// x whose exponential is a normal float32, it computes exp in float64 as
// 2^(k/64)·P(r) (a table of 2^(j/64) and a degree-6 polynomial in
// |r| ≤ ln2/128), within a few float64 ulps of the true value. Rounding
// that to float32 gives math.Exp's float32 unless the value lies within
// a few ulps of a midpoint between two float32s, where the two could round
// apart; there (about once in ten million) and outside the range it asks
// math.Exp.
func Expf(x float32) float32 {
	if !(x >= -87 && x <= 88.7) { // also NaN
		return float32(math.Exp(float64(x)))
	}
	xd := float64(x)
	y := expApprox(xd)
	// y's 29 low bits are what rounding to float32 drops; 1<<28 is the
	// midpoint.
	if uint64(math.Float64bits(y)&(1<<29-1)-(1<<28-expGuard)) < 2*expGuard {
		return float32(math.Exp(xd))
	}
	return float32(y)
}

// expApprox is exp(x) to within a few ulps for x in [-87, 88.7].
func expApprox(x float64) float64 {
	z := x*(expN/math.Ln2) + expShift
	n := int64(math.Float64bits(z) - math.Float64bits(expShift)) // round(x·64/ln2)
	kd := z - expShift
	r := x - kd*ln2HiN - kd*ln2LoN
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return math.Float64frombits(expTable[n&(expN-1)]+uint64(n>>6)<<52) * p
}

const (
	expN     = 64
	expShift = 0x1.8p52        // adding it rounds to an integer, held in the low bits
	ln2HiN   = 0x1.62e42fefp-7 // ln2/64 to 37 bits: kd·ln2HiN is exact
	ln2LoN   = math.Ln2/expN - ln2HiN
	// expGuard is how near (in float64 ulps) a midpoint Expf's value may
	// come before it defers to math.Exp: far more than the two's errors.
	expGuard = 64
)

// expTable holds the bits of 2^(j/64), j < 64.
var expTable = func() (t [expN]uint64) {
	for j := range t {
		t[j] = math.Float64bits(math.Exp2(float64(j) / expN))
	}
	return t
}()

// Logf is C's logf.
func Logf(x float32) float32 { return float32(math.Log(float64(x))) }

// Sigmoid is XGBoost's common::Sigmoid(float), in float32 arithmetic.
func Sigmoid(x float32) float32 {
	const eps float32 = 1e-16 // XGBoost's guard against dividing by zero
	nx := -x
	if 88.7 < nx { // std::min(-x, 88.7f), which keeps a NaN
		nx = 88.7
	}
	denom := Expf(nx) + 1
	denom += eps
	return 1 / denom
}

// Sigmoids sets p[i] = Sigmoid(m[i]) for every margin in m, len(p) >=
// len(m). With AVX2 (sigmoid_amd64.s) four rows go through Expf's
// polynomial at once, the rows near a midpoint or out of its range
// (which it lists) then through Sigmoid; elsewhere, and for the last
// rows, sigmoidsGo is the same loop in Go.
func Sigmoids(p, m []float32) {
	p = p[:len(m)]
	if !useAVX2 || len(m) < 4 {
		sigmoidsGo(p, m)
		return
	}
	var slow [256]int32
	for lo := 0; lo < len(m); lo += len(slow) {
		hi := min(lo+len(slow), len(m))
		n4 := (hi - lo) &^ 3
		if n4 > 0 {
			ns := sigmoidsAVX2(&p[lo], &m[lo], n4, &slow[0], &sigConsts)
			for _, i := range slow[:ns] {
				p[lo+int(i)] = Sigmoid(m[lo+int(i)])
			}
		}
		sigmoidsGo(p[lo+n4:hi], m[lo+n4:hi])
	}
}

// sigmoidsGo is Sigmoids with Expf's polynomial written into the loop, so
// that rows overlap in the processor instead of waiting on a call each.
func sigmoidsGo(p, m []float32) {
	const eps float32 = 1e-16
	for i, x := range m {
		nx := float64(-x)
		if !(nx >= -87 && nx <= 88.7) {
			p[i] = Sigmoid(x)
			continue
		}
		z := nx*(expN/math.Ln2) + expShift
		n := int64(math.Float64bits(z) - math.Float64bits(expShift))
		kd := z - expShift
		r := nx - kd*ln2HiN - kd*ln2LoN
		r2 := r * r
		q := (1 + r) + r2*((1.0/2+r*(1.0/6))+r2*((1.0/24+r*(1.0/120))+r2*(1.0/720)))
		y := math.Float64frombits(expTable[n&(expN-1)]+uint64(n>>6)<<52) * q
		if uint64(math.Float64bits(y)&(1<<29-1)-(1<<28-expGuard)) < 2*expGuard {
			p[i] = Sigmoid(x)
			continue
		}
		denom := float32(y) + 1
		denom += eps
		p[i] = 1 / denom
	}
}

// Softmax is XGBoost's common::Softmax: float32 exponentials of the
// differences to the largest value, summed in float64.
func Softmax(p []float32) {
	wmax := p[0]
	for _, v := range p[1:] {
		wmax = Fmaxf(v, wmax)
	}
	var wsum float64
	for i, v := range p {
		e := Expf(v - wmax)
		p[i] = e
		wsum += float64(e)
	}
	s := float32(wsum)
	for i := range p {
		p[i] /= s
	}
}

// Fmaxf is C's fmaxf: the larger of two floats, ignoring a NaN.
func Fmaxf(a, b float32) float32 {
	switch {
	case a != a:
		return b
	case b != b:
		return a
	case a > b:
		return a
	}
	return b
}
