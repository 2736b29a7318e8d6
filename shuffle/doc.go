// Package shuffle moves exchange data between stages. A producer task
// streams its output, split by partition, into a Writer from its Store;
// nothing is visible to readers before Commit, so a failed or retried
// attempt never leaves partial data behind. Consumers open one partition
// (or, for a broadcast, everything) as one lazy Stream per producer task
// and decode it a batch at a time.
//
// LocalStore serves local mode: outputs stay in memory while the query's
// exchanges fit their share of its memory pool, and go to Arrow IPC files
// (LZ4) in the query's work dir beyond. Cluster mode uses FileStore (files
// per map task attempt on each executor), FlightServer to serve them and
// RemoteReader to read them back, from disk or over Arrow Flight.
package shuffle
