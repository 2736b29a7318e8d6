package xgboost

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
