// Package shuffle moves exchange data between stages. A producer task hands
// its whole output, already split by partition, to a Store when it
// succeeds, so a failed or retried attempt never leaves partial data
// behind; consumers read one partition (or, for a broadcast, everything).
//
// MemoryStore serves local mode. Cluster mode adds a store backed by Arrow
// IPC files on each executor and fetched over Arrow Flight, behind the same
// interface.
package shuffle
