// Package ast defines Flint's SQL abstract syntax tree: statements, queries,
// table expressions and scalar expressions as produced by package
// sql/parser, plus their SQL rendering (String) and source positions (Pos).
//
// It owns the shape of parsed SQL only. It must not resolve names, know
// types beyond the written TypeName, or import anything from the planner or
// execution layers; the binder (logical planning) consumes this tree.
//
// Conventions:
//   - Unquoted identifiers are folded to lower case, quoted ones are kept.
//   - Keywords in String output are upper case; String output parses back to
//     an equal tree and doubles as the default output column name.
//   - Every expression and table reference carries a Pos (line, column,
//     byte offset) for error messages with a caret.
//
// Helpers: Inspect walks a tree; IntervalLit.Interval evaluates an interval
// literal to months/days/nanoseconds; QuoteIdent, FormatName and
// QuoteString render names and strings; IsReserved is the keyword list the
// parser uses to decide what may be a bare identifier.
package ast
