// Package spill writes operator state that does not fit its memory
// reservation to temporary Arrow IPC files (LZ4 bodies) and reads it back
// in batches: the sorted runs of an external sort, the partitions of a
// spilling aggregation or of a grace hash join.
//
// A Manager owns a directory of spill files for one query (local mode)
// or one task (executor) and removes every file it created on Close,
// whatever happened to the query: success, failure or cancel. Operators
// find the manager in their context (FromContext), as they find the
// allocator and the memory pool.
package spill
