// Package resultcmp compares query results produced by Flint (Arrow record
// batches) with reference answers stored as canonical CSV (written by
// tools/duckref from DuckDB), and owns the canonical text form of a value
// (FormatValue) that the CLI also prints.
//
// The comparison is type-tolerant because engines legitimately disagree on
// result types: DuckDB's avg(decimal) is DOUBLE where Flint may return a
// DECIMAL with a few more fraction digits, and sums may be DECIMAL(38, s)
// on one side and DECIMAL(18, s) on the other. Numbers are therefore
// compared as numbers (see Options), everything else as canonical text.
//
// It is test support: it must not be imported by engine packages.
package resultcmp
