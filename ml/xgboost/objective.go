package xgboost

import "math"

// transform is what an objective does to the summed margin of a row.
type transform uint8

const (
	transformIdentity transform = iota
	transformSigmoid            // 1 / (1 + exp(-x)), XGBoost's float formula
	transformExp                // exp(x)
	transformHinge              // 1 if x > 0 else 0
	transformSoftprob           // softmax over the output groups
	transformSoftmax            // index of the largest group, as a float
)

// link is how an objective maps base_score, which the file stores in the
// space of predictions, to a margin (XGBoost's ProbToMargin).
type link uint8

const (
	linkIdentity link = iota
	linkLogit         // -log(1/p - 1); p must be in (0, 1)
	linkLog           // log(p)
)

// objective describes one objective XGBoost can save.
type objective struct {
	transform transform
	link      link
	binary    bool // a two-class classifier: NumClasses is 2
	multi     bool // a multi-class classifier: NumClasses is num_class
}

// objectives lists the objectives whose predictions this package computes,
// with the transform and link of XGBoost 1.7–3.x (src/objective/*.cc,
// regression_loss.h). Ranking and the regressions whose prediction is the
// margin itself share the identity.
var objectives = map[string]objective{
	"reg:squarederror":     {},
	"reg:linear":           {}, // the old name of reg:squarederror
	"reg:squaredlogerror":  {},
	"reg:pseudohubererror": {},
	"reg:absoluteerror":    {},
	"reg:quantileerror":    {},
	"reg:logistic":         {transform: transformSigmoid, link: linkLogit},
	"binary:logistic":      {transform: transformSigmoid, link: linkLogit, binary: true},
	"binary:logitraw":      {binary: true},
	"binary:hinge":         {transform: transformHinge, binary: true},
	"count:poisson":        {transform: transformExp, link: linkLog},
	"reg:gamma":            {transform: transformExp, link: linkLog},
	"reg:tweedie":          {transform: transformExp, link: linkLog},
	"survival:cox":         {transform: transformExp, link: linkLog},
	"multi:softprob":       {transform: transformSoftprob, multi: true},
	"multi:softmax":        {transform: transformSoftmax, multi: true},
	"rank:pairwise":        {},
	"rank:ndcg":            {},
	"rank:map":             {},
}

// expf is C's expf: exp of a float32, rounded to float32.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// logf is C's logf.
func logf(x float32) float32 { return float32(math.Log(float64(x))) }

// sigmoid is XGBoost's common::Sigmoid(float), in float32 arithmetic.
func sigmoid(x float32) float32 {
	const eps float32 = 1e-16 // XGBoost's guard against dividing by zero
	nx := -x
	if 88.7 < nx { // std::min(-x, 88.7f), which keeps a NaN
		nx = 88.7
	}
	denom := expf(nx) + 1
	denom += eps
	return 1 / denom
}

// softmax is XGBoost's common::Softmax: float32 exponentials of the
// differences to the largest margin, summed in float64.
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

// argmax is XGBoost's common::FindMaxIndex: the first largest element.
func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
