package gbdt

import (
	"fmt"
	"math"

	"github.com/flint-engine/flint/ml/internal/xgbmath"
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
		return -xgbmath.Logf(1/baseScore - 1)
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
// group g. It returns the rows' loss at these margins as loss does,
// reusing the sigmoid or softmax of the gradients: their pass keeps each
// row's probability of its label in prob (n values), a second pass takes
// the logarithms (apart, the two loops overlap rows far better than one).
func (o objective) gradients(margin, label, weight []float32, out, prob []float32, n int) (sum, wsum float64) {
	switch o.name {
	case SquaredError:
		for i := 0; i < n; i++ {
			w := float32(1)
			if weight != nil {
				w = weight[i]
			}
			d := margin[i] - label[i]
			out[2*i] = d * w
			out[2*i+1] = w
			sum += float64(w) * float64(d) * float64(d)
			wsum += float64(w)
		}
	case Logistic:
		// Blocks of rows small enough for their probabilities and labels
		// to stay in L1 between the two loops.
		const block = 512
		for lo := 0; lo < n; lo += block {
			hi := min(lo+block, n)
			xgbmath.Sigmoids(prob[lo:hi], margin[lo:hi])
			if weight == nil {
				for i, p := range prob[lo:hi] {
					j := 2 * (lo + i)
					out[j] = p - label[lo+i]
					h := p * (1 - p)
					if h < 1e-16 { // max(h, 1e-16), which keeps a NaN as this does
						h = 1e-16
					}
					out[j+1] = h
				}
			} else {
				for i, p := range prob[lo:hi] {
					w := weight[lo+i]
					out[2*(lo+i)] = (p - label[lo+i]) * w
					out[2*(lo+i)+1] = max(float32(p*(1-p)), 1e-16) * w
				}
			}
			var ws []float32
			if weight != nil {
				ws = weight[lo:hi]
			}
			s, w := logLosses(prob[lo:hi], label[lo:hi], ws)
			sum, wsum = sum+s, wsum+w
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
				wmax = xgbmath.Fmaxf(v, wmax)
			}
			var wsumExp float64
			for _, v := range point {
				wsumExp += float64(xgbmath.Expf(v - wmax))
			}
			label := int(label[i])
			for c, v := range point {
				p := xgbmath.Expf(v-wmax) / float32(wsumExp)
				h := max(float32(float32(2*p)*(1-p))*w, 1e-16)
				if c == label {
					prob[i] = p
					p -= 1
				}
				out[c*2*n+2*i] = p * w
				out[c*2*n+2*i+1] = h
			}
		}
		for i, p := range prob[:n] {
			w := float32(1)
			if weight != nil {
				w = weight[i]
			}
			sum -= float64(w) * logClipped(float64(p))
			wsum += float64(w)
		}
	}
	return sum, wsum
}

// probEps is XGBoost's clipping of probabilities in its log losses.
const probEps = 1e-16

// logLoss is −y·log p − (1−y)·log(1−p), probabilities clipped to
// [1e-16, 1−1e-16].
func logLoss(y, p float64) float64 {
	return -y*logClipped(p) - (1-y)*logClipped(1-p)
}

// logLosses returns Σ w·logLoss(y, p) and Σ w over rows with
// probabilities prob. When every label is 0 or 1 — the usual case —
// each row's loss is one logarithm, of its label's probability
// y·p + (1−y)·(1−p), with no branch per row (a branch on the label costs
// more than the logarithm).
//
// Without weights the losses are summed in four lanes, row i in lane
// i%4, then (l0 + l1) + (l2 + l3): with AVX2 four rows at once
// (loss_amd64.s), else in Go, to the same bits.
func logLosses(prob, label, weight []float32) (sum, wsum float64) {
	if weight == nil {
		var lanes, nb [4]float64
		n4 := 0
		if useAVX2 && len(prob) >= 4 {
			n4 = len(prob) &^ 3
			logLossesAVX2(&prob[0], &label[0], n4, &lanes, &nb, &lossConsts)
		}
		for i := n4; i < len(prob); i++ {
			y := float64(label[i])
			d := y * (1 - y)
			nb[0] += d * d
		}
		if nb == [4]float64{} { // every label is 0 or 1 (a NaN would show)
			for i := n4; i < len(prob); i++ {
				y, q := float64(label[i]), float64(prob[i])
				lanes[i%4] -= logClipped(y*q + (1-y)*(1-q))
			}
			return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]), float64(len(prob))
		}
	}
	var nonBinary float64 // 0 when every label is 0 or 1; no branch per label
	for _, y := range label[:len(prob)] {
		d := float64(y) * (1 - float64(y))
		nonBinary += d * d
	}
	if nonBinary != 0 {
		for i, p := range prob {
			w := 1.0
			if weight != nil {
				w = float64(weight[i])
			}
			sum += w * logLoss(float64(label[i]), float64(p))
			wsum += w
		}
		return sum, wsum
	}
	for i, p := range prob {
		y, q, w := float64(label[i]), float64(p), float64(weight[i])
		sum -= w * logClipped(y*q+(1-y)*(1-q))
		wsum += w
	}
	return sum, wsum
}

// logClipped is log(max(x, 1e-16)) for x in [0, 1], to within 1e-12:
// the losses are reported, not trained on, and math.Log would cost a
// fifth of a training. With x = 2^e·m, m in [1, 2), and t the centre of
// m's 1/128-wide interval, log x = e·log 2 + log t + log(1+u) for
// u = m/t − 1, |u| < 1/256, whose series needs four terms; a table holds
// 1/t and log t. There is no branch and no division.
func logClipped(x float64) float64 {
	bits := math.Float64bits(max(x, probEps))
	t := &logTable[bits>>45&127]
	u := math.Float64frombits(bits&(1<<52-1)|1023<<52)*t.inv - 1
	// + (x − x): 0, or NaN for a NaN x, whose bits would read as a number.
	return float64(int64(bits>>52)-1023)*math.Ln2 + t.log + u*(1-u*(0.5-u*(1.0/3-u*0.25))) + (x - x)
}

var logTable = func() (tab [128]struct{ inv, log float64 }) {
	for i := range tab {
		t := 1 + (float64(i)+0.5)/128
		tab[i].inv, tab[i].log = 1/t, math.Log(t)
	}
	return tab
}()

// loss returns Σ w·loss and Σ w over n rows with XGBoost's default metric
// (rmse's squared errors, logloss, mlogloss; probabilities clipped to
// [1e-16, 1−1e-16]).
func (o objective) loss(margin, label, weight []float32, n int) (sum, wsum float64) {
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
			d := float64(margin[i] - label[i])
			l = d * d
		case Logistic:
			l = logLoss(y, float64(xgbmath.Sigmoid(margin[i])))
		case Softprob:
			copy(buf, margin[i*o.groups:(i+1)*o.groups])
			xgbmath.Softmax(buf)
			l = -logClipped(float64(buf[int(y)]))
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
		m[0] = xgbmath.Sigmoid(m[0])
	case Softprob:
		xgbmath.Softmax(m)
	}
}
