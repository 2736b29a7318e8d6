package gbdt

import (
	"fmt"
	"math"
)

// objective computes gradients, losses and predictions for one of the
// supported objectives, in XGBoost 1.7's arithmetic (float32 gradients,
// src/objective/regression_loss.h and multiclass_obj.cu).
type objective struct {
	name    string
	classes int // 0 for regression, 2 for binary, num_class for multi
	groups  int
}

func newObjective(p *Params) objective {
	return objective{name: p.Objective, classes: p.numClasses(), groups: p.numGroups()}
}

// metric names the loss reported per round: XGBoost's default eval metric
// of the objective.
func (o objective) metric() string {
	switch o.name {
	case Logistic:
		return "logloss"
	case Softprob:
		return "mlogloss"
	}
	return "rmse"
}

// baseMargin is base_score in the space of margins (ProbToMargin).
func (o objective) baseMargin(baseScore float32) float32 {
	if o.name == Logistic {
		return -logf(1/baseScore - 1)
	}
	return baseScore
}

// checkLabel reports a label the objective cannot learn.
func (o objective) checkLabel(y float32, classWeights bool) error {
	switch o.name {
	case Logistic:
		if classWeights && y != 0 && y != 1 {
			return fmt.Errorf("label %v: with class_weights, binary:logistic labels must be 0 or 1", y)
		}
		if !(y >= 0 && y <= 1) {
			return fmt.Errorf("label %v: binary:logistic labels must be in [0, 1]", y)
		}
	case Softprob:
		if !(y >= 0 && y < float32(o.classes)) || y != float32(math.Trunc(float64(y))) {
			return fmt.Errorf("label %v: multi:softprob labels must be integers in [0, num_class = %d)", y, o.classes)
		}
	}
	return nil
}

// gradients writes every row's gradient pairs from its margins: out holds
// groups blocks of 2n values, block g the (gradient, hessian) pairs of
// group g.
func (o objective) gradients(margin, label, weight []float32, out []float32, n int) {
	switch o.name {
	case SquaredError:
		for i := 0; i < n; i++ {
			w := float32(1)
			if weight != nil {
				w = weight[i]
			}
			out[2*i] = (margin[i] - label[i]) * w
			out[2*i+1] = w
		}
	case Logistic:
		for i := 0; i < n; i++ {
			w := float32(1)
			if weight != nil {
				w = weight[i]
			}
			p := sigmoid(margin[i])
			out[2*i] = (p - label[i]) * w
			out[2*i+1] = max(float32(p*(1-p)), 1e-16) * w
		}
	case Softprob:
		k := o.groups
		for i := 0; i < n; i++ {
			w := float32(1)
			if weight != nil {
				w = weight[i]
			}
			point := margin[i*k : (i+1)*k]
			// XGBoost starts the maximum at FLT_MIN, the smallest normal
			// float, not at the first margin.
			wmax := math.Float32frombits(0x00800000)
			for _, v := range point {
				wmax = fmaxf(v, wmax)
			}
			var wsum float64
			for _, v := range point {
				wsum += float64(expf(v - wmax))
			}
			label := int(label[i])
			for c, v := range point {
				p := expf(v-wmax) / float32(wsum)
				h := max(float32(float32(2*p)*(1-p))*w, 1e-16)
				if c == label {
					p -= 1
				}
				out[c*2*n+2*i] = p * w
				out[c*2*n+2*i+1] = h
			}
		}
	}
}

// loss returns Σ w·loss and Σ w over n rows with XGBoost's default metric
// (rmse's squared errors, logloss, mlogloss; probabilities clipped to
// [1e-16, 1−1e-16]).
func (o objective) loss(margin, label, weight []float32, n int) (sum, wsum float64) {
	const eps = 1e-16
	buf := make([]float32, o.groups)
	for i := 0; i < n; i++ {
		w := 1.0
		if weight != nil {
			w = float64(weight[i])
		}
		y := float64(label[i])
		var l float64
		switch o.name {
		case SquaredError:
			d := y - float64(margin[i])
			l = d * d
		case Logistic:
			p := float64(sigmoid(margin[i]))
			l = -y*math.Log(max(p, eps)) - (1-y)*math.Log(max(1-p, eps))
		case Softprob:
			copy(buf, margin[i*o.groups:(i+1)*o.groups])
			softmax(buf)
			l = -math.Log(max(float64(buf[int(y)]), eps))
		}
		sum += w * l
		wsum += w
	}
	return sum, wsum
}

// finish turns summed losses into the metric's value.
func (o objective) finish(sum, wsum float64) float64 {
	if wsum == 0 {
		return math.NaN()
	}
	if o.name == SquaredError {
		return math.Sqrt(sum / wsum)
	}
	return sum / wsum
}

// transform turns one row's margins (one per group) into predictions, in
// place, as XGBoost's PredTransform.
func (o objective) transform(m []float32) {
	switch o.name {
	case Logistic:
		m[0] = sigmoid(m[0])
	case Softprob:
		softmax(m)
	}
}

// expf is C's expf: exp of a float32, rounded to float32.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// logf is C's logf.
func logf(x float32) float32 { return float32(math.Log(float64(x))) }

// sigmoid is XGBoost's common::Sigmoid, in float32.
func sigmoid(x float32) float32 {
	nx := -x
	if 88.7 < nx {
		nx = 88.7
	}
	denom := expf(nx) + 1
	denom += 1e-16
	return 1 / denom
}

// softmax is XGBoost's common::Softmax: float32 exponentials of the
// differences to the largest value, summed in float64.
func softmax(p []float32) {
	wmax := p[0]
	for _, v := range p[1:] {
		wmax = fmaxf(v, wmax)
	}
	var wsum float64
	for i, v := range p {
		e := expf(v - wmax)
		p[i] = e
		wsum += float64(e)
	}
	s := float32(wsum)
	for i := range p {
		p[i] /= s
	}
}

// fmaxf is C's fmaxf: the larger of two floats, ignoring a NaN.
func fmaxf(a, b float32) float32 {
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
