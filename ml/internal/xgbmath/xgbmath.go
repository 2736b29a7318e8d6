// Package xgbmath holds XGBoost's float32 arithmetic that a model's
// predictions depend on bit for bit: C's expf and logf, its sigmoid and
// softmax. The scorer (ml/xgboost) and the trainer (ml/gbdt) both use it,
// so that Flint's trained models score in training as XGBoost scores them.
package xgbmath

import "math"

// Expf is C's expf: exp of a float32, rounded to float32.
func Expf(x float32) float32 { return float32(math.Exp(float64(x))) }

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
