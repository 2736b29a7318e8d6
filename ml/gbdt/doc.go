// Package gbdt trains gradient-boosted trees the way XGBoost 1.7 does with
// tree_method=hist and grow_policy=depthwise, and writes them in XGBoost's
// JSON model format.
//
// Training runs in three steps, shaped so that the rows can stay
// partitioned across processes:
//
//  1. Each partition sketches its feature values (NewSketch, Sketch.Add);
//     the sketches are merged (Sketch.Merge, MarshalBinary to travel) and
//     give every feature's cut points (Sketch.Cuts), chosen by XGBoost's
//     rule. Values are rounded to float32 and NaN is missing.
//  2. Each partition bins its rows with the cuts into a Shard (NewShard):
//     per feature a column of bin codes, a missing value coded as the
//     feature's number of bins, uint8 when the codes fit (else uint16),
//     kept for the whole training. Eval sets stay float32 (NewEvalShard)
//     and walk the trees as the exported model does.
//  3. Train boosts: per round each shard computes its rows' gradients;
//     per tree level it partitions its rows among the new nodes and builds
//     the histograms (Histogram: gradient and hessian sums per bin, plus
//     the missing rows' sums) of the smaller child of each split node;
//     the trainer sums the shards' histograms, derives each sibling's by
//     subtraction from the parent, and finds the splits. Only split
//     decisions, histograms, leaf values and loss sums cross between
//     trainer and shards.
//
// Split finding, weights and gains follow XGBoost's
// src/tree/hist/evaluate_splits.h and src/tree/param.h, in its precision:
// float32 gradients, float64 sums, float32 gains and weights; missing
// values try both directions and the better is learned; leaf weights are
// −eta·ThresholdL1(G, alpha)/(H + lambda). Objectives are
// reg:squarederror, binary:logistic and multi:softprob (one tree per class
// per round), with base_score 0.5 by default as in XGBoost 1.7.
//
// What differs from XGBoost: the cut points come from Flint's quantile
// sketch (exact below 32768 values per feature) rather than XGBoost's
// approximate one, and ignore row weights where XGBoost's sketch weighs
// them; subsample and colsample_bytree draw from Flint's own generators.
// A model therefore matches XGBoost's in quality, not tree for tree —
// except where the cut points coincide (every feature with at most
// max_bin+1 distinct values, no sampling): then the trees are XGBoost's,
// which the tests check round by round. Training is deterministic for a
// given seed and sharding.
//
// Memory: a shard holds its codes (1 or 2 bytes per value) and, while
// training, 20 bytes per row plus 12 per row and output group; histograms
// (16 bytes per bin) are kept for the nodes of one tree level, on each shard for the
// nodes it builds and in the trainer for the level's nodes, so deep
// trees over many rows cost memory as XGBoost's do.
//
// The package imports nothing of Flint but ml/quantile and ml/model; it
// knows nothing of Arrow or SQL.
package gbdt
