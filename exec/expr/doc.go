// Package expr holds Flint's physical expressions: bound, typed trees that
// implement exec.Expr and evaluate a whole Arrow batch at a time.
//
// It owns the vectorized kernels: comparisons, arithmetic (integers,
// floats, Decimal64 in int64s and Decimal128 with an int64 fast path,
// dates and intervals), SQL
// three-valued AND/OR/NOT, IS NULL, casts, CASE, IN lists, LIKE and the
// scalar function registry whose signatures live in package types.
//
// Expressions assume their operands were already cast by the planner per
// the rules in package types (both sides of a comparison have the same
// type, arithmetic operands have the types types.ArithmeticType returns).
// Constructors validate that and return errors; Eval never panics on data.
//
// Kernels loop over typed Go slices taken from Arrow buffers, combine
// validity bitmaps with word-wide bitmap operations, and have a dedicated
// path when one operand is a literal so literals are never materialized
// on hot paths. Constant subtrees are folded into literals at construction.
// All buffers come from exec.Allocator(ctx).
package expr

// compare_gen.go and arith_dec_gen.go are written by internal/gen.
//go:generate go run ./internal/gen
