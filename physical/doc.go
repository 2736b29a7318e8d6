// Package physical lowers an optimized logical plan into a physical plan —
// concrete algorithms (hash aggregate in partial/final phases, broadcast or
// partitioned hash join, sort, top-N; model scoring in its input's stage)
// plus Exchange nodes where data must be redistributed — and cuts that plan
// into stages at the exchanges.
//
// Physical nodes are plain data: they carry logical expressions (plan.Expr,
// column references by ID) and output schemas with IDs; the executor binds
// IDs to positions when it builds operators for a task. That keeps stages
// serializable for executors in other processes.
//
// It imports plan (and connectors for pruning predicates) and must not import
// exec, the executor or the driver.
package physical
