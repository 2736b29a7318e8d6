package model

import "math"

// IsClassifier reports whether m predicts classes, so that a class label
// can be derived from its predictions (Labels).
func IsClassifier(m Model) bool { return m.NumClasses() >= 2 }

// Labels writes into labels the class each row's prediction stands for, as
// the libraries' scikit-learn classifiers (XGBClassifier.predict,
// LGBMClassifier.predict) decide it; pred is what Predict wrote for
// len(labels) rows. It returns false, writing nothing, when m is not a
// classifier.
//
//   - Several outputs per row (multi:softprob, LightGBM multiclass and
//     multiclassova): the index of the first largest output, as XGBoost's
//     FindMaxIndex and numpy's argmax (a NaN output is never the largest).
//   - One output, two classes: 1 when the probability is above 0.5, else
//     0 (at exactly 0.5 both libraries say 0). binary:hinge outputs 0 or 1
//     already; binary:logitraw outputs the margin, which is above 0
//     exactly when its probability is above 0.5.
//   - One output, more classes (multi:softmax): the output is the class
//     index itself.
//
// A NaN prediction gives class 0.
func Labels(m Model, pred []float64, labels []int64) bool {
	k := m.NumOutputs()
	switch {
	case !IsClassifier(m):
		return false
	case k > 1:
		for r := range labels {
			row := pred[r*k : (r+1)*k]
			best := 0
			for i, v := range row {
				if v > row[best] || math.IsNaN(row[best]) && !math.IsNaN(v) {
					best = i
				}
			}
			labels[r] = int64(best)
		}
	case m.NumClasses() == 2:
		threshold := 0.5
		if m.Library() == "xgboost" && m.Objective() == "binary:logitraw" {
			threshold = 0
		}
		for r, p := range pred[:len(labels)] {
			labels[r] = 0
			if p > threshold {
				labels[r] = 1
			}
		}
	default:
		for r, p := range pred[:len(labels)] {
			labels[r] = 0
			if p >= 0 && p < float64(m.NumClasses()) {
				labels[r] = int64(p)
			}
		}
	}
	return true
}
