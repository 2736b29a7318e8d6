// Package exec holds Flint's vectorized physical operators: pull-based
// iterators over Arrow record batches (scan, filter, project, hash aggregate,
// hash join, sort, top-N, limit, union, window, predict, exchange
// partitioning).
//
// Predict scores batches with an ml/model.Model it is handed (the executor
// loads it); exec knows the interface only, no model format.
//
// It owns execution of one task's operator tree. It must not know about SQL,
// logical plans, stages or the network: the physical planner builds operator
// trees from plan nodes, and the driver/executor run them.
package exec
