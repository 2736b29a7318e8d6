// Package lightgbm loads LightGBM text model files (format versions v2, v3
// and v4, as written by Booster.save_model) and scores column batches
// natively, implementing model.Model.
//
// It owns the text format (parse.go), the objectives' output
// transformations (objective.go) and the scoring loop (predict.go). It
// reproduces LightGBM's own prediction exactly: the missing-value rules of
// each split (Tree::NumericalDecision, Tree::CategoricalDecision), the
// rounding of |x| <= kZeroThreshold to zero that LightGBM's dense-matrix
// predict applies to every input, linear leaves, average_output (random
// forest mode) and each objective's ConvertOutput. It ignores what follows
// "end of trees" (feature importances, parameters).
//
// Trees are flattened into one array of nodes, leaves included. Predict
// copies a block of up to 256 rows into a row-major scratch buffer (each row
// also with NaN read as +Inf and as -Inf, so that one comparison decides a
// split whatever its missing-value rule) and moves the whole block through
// one tree at a time, level by level, without branches on the data; trees
// with categorical or zero-as-missing splits, and linear trees, take a
// one-row-at-a-time walk. A Model is immutable after Load and safe for
// concurrent Predict calls; Predict allocates nothing per row.
//
// A malformed file is an error naming the line, the tree and the field,
// never a panic; the loader allocates in proportion to the input's size,
// whatever counts the file declares. The package must not import anything
// but the standard library and ml/model.
package lightgbm
