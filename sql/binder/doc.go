// Package binder does semantic analysis: it turns a parsed SQL query
// (package sql/ast) into a typed logical plan (package plan).
//
// It resolves table and column names against a Catalog and the query's own
// scopes (FROM items, CTEs, derived tables, outer queries for correlated
// subqueries), checks and coerces types with the rules of package types
// (inserting casts, preferring to cast a literal over a column), folds
// literal-only arithmetic (date '1998-12-01' - interval '90' day becomes a
// date literal), separates aggregates into one Aggregate node and window
// functions into one Window node, and names output columns as DuckDB does.
// GROUP BY ROLLUP, CUBE and GROUPING SETS become a UNION ALL of one
// Aggregate per grouping set (each over its own plan.Clone of the input),
// projected to one schema: NULL for the keys a set leaves out, and the
// set's constant for each grouping() call.
//
// ml.predict(MODEL m, (query) | TABLE t) in FROM binds to plan.Predict:
// the model comes from the catalog (ModelCatalog, the Session's model
// store) and its features bind to the query's columns by name. x[i] is
// list_extract(x, i). ml.evaluate(MODEL m, ...) is SQL over such a
// Predict, written for the model's kind and bound by a binder of its own
// (evaluate.go).
//
// It owns no execution and no optimization: subqueries stay as
// plan.Subquery expressions where they appear (the optimizer decorrelates
// them), comma joins are Cross joins with the WHERE clause above them, and
// every view or CTE reference is a fresh plan.Clone of its plan.
//
// Errors are *Error values carrying the SQL position of the offending
// construct; they render with a caret under it.
package binder
