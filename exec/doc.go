// Package exec holds Flint's vectorized physical operators: pull-based
// iterators over Arrow record batches (scan, filter, project, hash aggregate,
// hash join, sort, top-N, limit, union, window, exchange partitioning).
//
// It owns execution of one task's operator tree. It must not know about SQL,
// logical plans, stages or the network: the physical planner builds operator
// trees from plan nodes, and the driver/executor run them.
package exec
