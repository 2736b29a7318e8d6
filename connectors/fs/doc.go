// Package fs is the tiny filesystem abstraction every connector reads
// through. It owns path resolution (files, directories, globs) and random
// access to file bytes; it knows nothing about file formats.
//
// The interface is shaped for object stores: files are read with ReadAt
// (ranged GETs), sizes come from Stat/List (HEAD/LIST), and List is
// recursive under a prefix so a paginated LIST maps onto it. The optional
// DirLister lists one level (a LIST with delimiter "/"), so readers can
// skip whole subtrees such as pruned Hive partitions; ReadDir falls back
// to List for filesystems without it. Writing is the optional WriteFS
// (Create, Delete, Sweep): a file appears whole at its path when its
// Writer's Close succeeds (locally a hidden temporary file is renamed; on
// S3 a PUT or a completed multipart upload) and Abort leaves nothing.
// Local is built in; package connectors/s3 registers itself for "s3://" via
// Register (package connectors does so on import). This package must not
// import any implementation but Local.
package fs
