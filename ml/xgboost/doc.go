// Package xgboost loads models saved by XGBoost (Booster.save_model, JSON
// or UBJSON, versions 1.0 to 3.x) and scores column batches natively,
// returning what XGBoost's own predict returns, as an ml/model.Model.
//
// It owns reading the model format (a small JSON and UBJSON decoder that
// bounds every allocation by the input's size), the objectives'
// transformations and the tree walk. Boosters gbtree and dart are
// supported, with numerical and categorical splits; gblinear and trees
// with vector leaves (multi_strategy=multi_output_tree) are not.
//
// Loading flattens all trees into one array of 16-byte nodes, breadth
// first so that a split's children are adjacent and a leaf points to
// itself. Predict converts a block of rows to float32, then walks the
// whole block through one tree after another, all rows a level at a time,
// so a tree stays in cache and the rows' walks overlap in the processor.
//
// The package imports nothing of Flint but ml/model and nothing outside
// the standard library; it knows nothing of Arrow or SQL: callers hand it
// float64 columns with NaN for missing values.
//
// Test fixtures are models trained by XGBoost 1.7.4 with XGBoost's own
// predictions; testdata/gen.py regenerates them.
package xgboost
