// Package parser turns SQL text into the syntax tree of package sql/ast.
//
// It is a hand-written lexer plus recursive-descent parser with precedence
// climbing for expressions, for a PostgreSQL/ANSI-style dialect:
// case-insensitive keywords, "quoted" identifiers (unquoted ones fold to
// lower case), 'strings' with ” escapes, -- and nested /* */ comments,
// numeric literals kept as written. Non-reserved keywords (YEAR, DATE,
// VALUE, FIRST, KEY, ...) double as identifiers; see ast.IsReserved.
//
// Entry points: Parse (a ;-separated script), ParseOne, ParseQuery and
// ParseExpr (DataFrame filters). Every error is a *Error with the position
// of the offending token; FormatError / FormatErrorKind render it with the
// source line and a caret, and the binder reuses them for its own errors.
//
// The package owns syntax only: it must not resolve names, look up
// catalogs or types, or import anything beyond sql/ast and the standard
// library. Input of any kind never panics (nesting is bounded, see
// FuzzParse).
package parser
