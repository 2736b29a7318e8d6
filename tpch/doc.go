// Package tpch owns everything Flint needs to run TPC-H: the data generator
// (dbgen rows written as Parquet), the 22 query texts with the validation
// substitution parameters, and the table schemas.
//
// Generation uses github.com/pingcap/go-tpc/tpch/dbgen, a Go port of the
// reference dbgen whose output is byte-identical to the C tool. Rows are
// streamed into Arrow builders and written as one Parquet row group per
// RowGroupRows rows; no table is ever held in memory whole. Besides integer
// scale factors, fractional ones below 1 (0.01, 0.1, ...) are supported with
// the C dbgen's semantics (row counts scaled, key ranges scaled), so the
// committed sample dataset (scale 0.01) is the same data every other engine's
// "SF0.01" is, and published SF0.01 answers apply to it.
//
// Schema conventions (documented once, used by every table):
//   - every integer column (keys, l_linenumber, p_size, ps_availqty,
//     o_shippriority) is Int64 (SQL BIGINT): one integer type keeps the
//     engine's kernels simple and keys never overflow at large scale;
//   - money, quantity, discount and tax are DECIMAL(15,2): Decimal64 in
//     Schema (the engine's type), stored in Parquet as INT64-backed DECIMAL
//     (written from Decimal128 arrays, the only decimals pqarrow encodes);
//   - dates are Date32 (Parquet DATE), text is String (UTF8);
//   - every column is NOT NULL (Parquet REQUIRED), as in the TPC-H spec.
//
// go-tpc's dbgen prints a "generating <table>" line per table to stdout;
// the generator cannot silence it.
//
// The package must not depend on the engine: it only produces inputs and
// query texts.
package tpch
