// Package connectors is the scan side of the engine: it turns a location
// (file, directory or glob) in some file format into a Source with a schema,
// size statistics, parallel Splits, and a RecordReader per split that yields
// Arrow record batches of the projected columns.
//
// It owns file formats (Parquet, CSV, NDJSON), schema inference, row-group
// pruning and projection pushdown. It does not own the exec scan operator
// (exec/scan.go builds on this API), exact filtering (Predicates are only
// hints for skipping data) or storage access (all bytes are read through
// package connectors/fs, where programs register storage backends:
// importing connectors/s3 registers "s3://"). For storage other than local
// files it plans reads: a Parquet footer costs one request, and a split's
// projected column chunks are merged into few ranged reads fetched ahead,
// several at a time (prefetch.go).
//
// # Engine types
//
// Batches use only the engine's types: Int8..Int64, Float32/64, Boolean,
// String (utf8, int32 offsets), Decimal64 (precision ≤ 18) and Decimal128
// (19 ≤ precision ≤ 38), Date32 and Timestamp(µs, no time zone). Parquet
// columns are converted on read: unsigned ints widen to the next signed
// type (uint64 to int64, failing on overflow), Float16 to Float32, every
// decimal width to the engine's (arrow-go decodes Parquet decimals as
// Decimal128: a DECIMAL(p ≤ 18) is narrowed, each value checked against
// its precision; writers widen Decimal64 back and store DECIMAL(p ≤ 18) as
// INT32/INT64), timestamps of any unit or zone to µs (finer units are
// truncated), LargeString and dictionary-encoded strings to String. Nested
// Parquet/JSON types (struct, list) are passed through.
//
// # Options
//
// Open takes a map of options; unknown keys are an error.
//
//	header       CSV: first line holds column names (default "true").
//	delimiter    CSV: field separator, one byte; "\t" or "tab" for tab (default ",").
//	quote        CSV: quote character (default `"`). A doubled quote inside
//	             a quoted field is a literal quote; quoted fields may span lines.
//	null         CSV: unquoted field text that means NULL (default "", so an
//	             empty unquoted field is NULL while "" quoted is an empty string).
//	schema       CSV/JSON: explicit schema, e.g. "a INT, b DECIMAL(15,2), c DATE"
//	             (see ParseSchema); disables inference. Not allowed for Parquet.
//	infer_rows   CSV/JSON: rows of the first file sampled for inference (default 1000).
//	compression  CSV/JSON: auto (by extension .gz/.zst, the default), none, gzip, zstd.
//	             Compressed files are read whole (one split each).
//	min_split_bytes  CSV/JSON: smallest byte range per split (default 8 MiB).
//	min_split_rows   Parquet: smallest row range when a file has fewer row
//	             groups than the requested splits and row groups are cut
//	             (default 65536).
//	hive_partitioning  all formats: key=value folders become partition
//	             columns (default "true"; "false" reads the same files
//	             without them).
//
// # Hive partitions
//
// Below a directory location (or a glob's directory part) folders named
// key=value — values %XX-escaped as Hive writes them, __HIVE_DEFAULT_PARTITION__
// or empty for NULL — give each file one column per key, appended after
// the file columns in folder order, as Spark and DuckDB do. Every file must
// sit under the same keys. A key is typed BIGINT if all its values are
// integers, DATE if all are YYYY-MM-DD, else VARCHAR, unless a Flint
// manifest declares its type. A file column named like a key (ignoring
// case) keeps its place but takes the folder's type and value. Values are
// constant per file and reach batches as constant arrays.
//
// The location is listed one directory level at a time (fs.DirLister: one
// delimited LIST per directory on object stores). Open lists it all to learn
// the schema; Splits lists it again for every query, skipping a key=value
// folder — and everything below it — when a Predicate on its key (=, <>, <,
// <=, >, >=, in, isnull, isnotnull) refutes its value, so a query sees the
// files present when it starts and reads nothing of pruned partitions.
// Files and folders whose names start with '_' or '.' are skipped. A
// directory holding a Flint _SUCCESS manifest (manifest.go) yields exactly
// the files the manifest lists and is not listed further. RowPruner gives
// planners the row count of the files that survive pruning.
//
// # Schema merge
//
// Parquet files of one location are merged by column name: columns keep
// the order in which files (sorted by path) first have them, a column a file
// lacks reads as NULL from it (and its row groups are pruned by any
// predicate but isnull), and integer columns of different widths widen to
// the widest. Any other type difference is an error naming the file, the
// column, its type and the expected one (and the file that set it). Files
// that appear after Open must fit the merged types; columns unknown to the
// table are ignored. CSV files must agree on their header; JSON infers its
// schema from the first file and reads the others by key name.
//
// # CSV inference
//
// Each column gets the first type of boolean, BIGINT, DECIMAL(18,s), DOUBLE,
// DATE (YYYY-MM-DD), TIMESTAMP (YYYY-MM-DD[ T]hh:mm[:ss[.f]][Z]) or VARCHAR
// that parses every non-null sampled value. DECIMAL(18,s) is chosen only when
// all values are plain decimal literals whose fractional parts all have the
// same length s > 0 (integers allowed) and fit 18 digits: prices stay exact
// and fit int64 kernels. Later rows that do not fit the inferred type fail
// with an error naming the file, line and column; give a schema then.
// Header names are trimmed of spaces; empty or repeated names become
// columnN or name_1. Empty lines are skipped. Byte-range splitting of CSV
// assumes quoted fields hold no newlines.
//
// # JSON
//
// NDJSON: one object per line; empty lines are skipped. Inference maps
// integers to BIGINT, other numbers to DOUBLE, strings to VARCHAR, booleans
// to BOOLEAN, objects to STRUCT and arrays to LIST; fields keep the order in
// which they are first seen; conflicting types become VARCHAR (and then fail
// to read if a non-string value appears — give a schema then).
//
// # Writing
//
// The write side has three parts. Format writers (NewBatchWriter,
// options in ParseWriteOptions) stream batches into one file: Parquet
// through pqarrow with bounded row groups, CSV with a header, NDJSON;
// values are written as the readers parse them back. A TaskWriter writes
// one task attempt's rows into uniquely named files of a dataset
// (part-<task>-<attempt>-<write ID>-<random>), under Hive key=value/
// folders when partitioned. A WriteJob is the driver's commit protocol:
// check the target against the mode, keep one attempt per task, sweep
// every other file and upload of the write, write the _SUCCESS manifest
// last (manifest.go: the format, and ReadManifest for readers), and in
// overwrite mode delete the old dataset's files only after that.
//
// # Errors
//
// Every error names the file and, where known, the line (or byte offset of
// the record when reading a split that starts mid-file) and the column.
// Corrupt inputs produce errors, never panics: panics inside third-party
// decoders are recovered and reported as errors.
package connectors
