// Package optimizer rewrites logical plans (package plan) into equivalent,
// cheaper ones before physical planning.
//
// It owns the rule-based logical optimizer: constant folding, subquery
// decorrelation (EXISTS / IN / scalar subqueries become semi, anti and left
// joins), predicate pushdown (into join inputs and Scan.Filters), join graph
// reordering with row-count estimates (which also turns comma joins into
// inner joins), column pruning, top-N and plan simplification.
//
// Each rule lives in its own rule_<name>.go file and implements Rule; the
// order in which they run is fixed in rules.go. Every rule preserves the
// root's Schema (same column IDs, names and order). Column IDs are
// query-wide unique, so rules move expressions freely; new columns get fresh
// IDs from Context.IDs.
//
// The package imports only package plan (and arrow for literal values): it
// must not depend on the executor or physical planning. Constant folding
// therefore implements its own small scalar arithmetic.
package optimizer
