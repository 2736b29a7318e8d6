// Package types owns Flint's SQL type rules: parsing SQL type names, the
// common type of a comparison, the operand casts and result type of an
// arithmetic operator, the super type of CASE/COALESCE/UNION/IN branches,
// which casts exist (explicit and implicit), the scalar function
// signatures, and parsing of typed literals (decimals, dates, timestamps,
// intervals).
//
// The rules follow DuckDB where engines differ, because Flint's reference
// answers come from DuckDB. Deliberate differences are noted on the rule.
//
// It is a leaf package working on arrow.DataType values only: it holds no
// arrays and must not import exec or any planner package. The binder and
// planner call it to insert casts; exec/expr implements the kernels for the
// same signatures.
package types
