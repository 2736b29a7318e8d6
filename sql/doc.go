// Package sql is the root of Flint's SQL front end: sql/ast (syntax tree)
// and sql/parser (lexer and recursive-descent parser). Name resolution and
// planning live in later stages and import these packages, never the
// reverse.
package sql
