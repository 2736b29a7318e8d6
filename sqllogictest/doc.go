// Package sqllogictest runs Flint's SQL correctness corpus: the .slt files
// in testdata/slt (format: package sqllogictest/slt), each executed against
// a fresh Flint session under every configuration of Configs (local,
// one-slot, partitions-3, tiny-batches, and cluster: a driver and three
// executor processes, skipped with -short). A failing record is reported as
// file:line with the SQL, the expected and the produced rows; every
// session uses a checked allocator that must end empty.
//
// Expected query results come from DuckDB, written by tools/sltcomplete,
// never from Flint. The rewrite mode only refreshes the patterns of
// "statement error" / "query error" records, because those test Flint's
// own messages:
//
//	go test ./sqllogictest                               # run the corpus
//	go test ./sqllogictest -run 'TestSLT/local/join'     # one file, one config
//	go test ./sqllogictest -run TestSLT -args -rewrite   # refresh error patterns
//	SLT_REWRITE=1 go test ./sqllogictest/...             # same, via the environment
//
// Records that fail because of a known Flint bug or missing feature carry
// a "# skip: <reason>" line; the runner logs them instead of running them.
//
// It is test support: engine packages must not import it.
package sqllogictest
