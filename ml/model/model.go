// Package model defines what Flint's scoring operators need from a trained
// model, whatever library produced it. Loaders live in their own packages
// (ml/xgboost, ml/lightgbm); each flattens its trees into arrays and scores
// whole column batches at a time.
package model

// Model is a loaded, immutable model. It is safe for concurrent use: one
// Model is shared by every task of a job on an executor.
type Model interface {
	// Library names the library whose format the model was read from:
	// "xgboost" or "lightgbm".
	Library() string
	// Objective is the objective as the library names it, for example
	// "binary:logistic", "multi:softprob", "regression" or "multiclass".
	Objective() string
	// Features names the model's input features in order. A name is ""
	// when the file does not carry feature names; its length is always
	// the number of features the model reads.
	Features() []string
	// NumClasses is the number of classes of a classifier (2 for a binary
	// one) and 0 for a regressor.
	NumClasses() int
	// NumOutputs is the width of one row's prediction: the number of
	// classes for multi-class probabilities, 1 otherwise.
	NumOutputs() int
	// Predict scores n rows, where n is the length of every cols[j]:
	// cols[j] holds feature j (len(cols) == len(Features())), and NaN marks
	// a missing value (SQL NULL arrives as NaN). It writes exactly what the
	// library's own predict returns for these rows (after the objective's
	// transformation) into out, row-major: out[i*NumOutputs()+k].
	// len(out) must be n*NumOutputs().
	Predict(cols [][]float64, out []float64)
}
