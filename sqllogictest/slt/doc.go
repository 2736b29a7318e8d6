// Package slt owns the text format of Flint's sqllogictest files (.slt):
// parsing a file into records, the canonical text of result values that both
// sides of a comparison use, and rewriting parts of a file (expected result
// blocks, error patterns) while keeping everything else byte for byte.
//
// It imports only the standard library so that tools outside the engine's
// module (tools/sltcomplete, which fills in expected results from DuckDB)
// can share it. It must not import the engine.
//
// # Format
//
// A file is a sequence of records separated by blank lines. Lines starting
// with '#' are comments. Records:
//
//	statement ok
//	<SQL, one or more lines>
//
//	statement error <regexp>
//	<SQL>
//
//	query <types> [rowsort|valuesort|nosort]
//	<SQL>
//	----
//	<expected rows, one per line, values separated by single spaces>
//
//	query error <regexp>
//	<SQL>
//
// <types> has one letter per result column: I integer, R float or decimal,
// T text, B boolean, D date (any other letter is compared as text). The
// sort mode says how rows are compared: nosort (the default) in order,
// rowsort after sorting the rendered rows, valuesort after sorting all
// values one per line.
//
// Values render as: NULL for null, (empty) for the empty string, true or
// false, integers in decimal, decimals exactly at their scale ("12.30"),
// floats with 12 significant digits (FormatFloat), dates YYYY-MM-DD.
// R values of floating-point results also match when within a relative
// 1e-9 of the expected number, so summation order does not matter.
//
// Directives (comment lines):
//
//	# configs: local, one-slot     before the first record: run the file
//	                               only under the named configurations
//	# skip: <reason>               in the comment block just before a
//	                               record: do not run it (known failure)
//
// In SQL, the placeholder __DATA__ stands for the absolute path of the
// data/ directory next to the .slt file.
package slt
