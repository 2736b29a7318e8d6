// Package fs is the tiny filesystem abstraction every connector reads
// through. It owns path resolution (files, directories, globs) and random
// access to file bytes; it knows nothing about file formats.
//
// The interface is shaped for object stores: files are read with ReadAt
// (ranged GETs), sizes come from Stat/List (HEAD/LIST), and listing is
// always recursive under a prefix so a paginated LIST maps onto it. Local
// is built in; package connectors/s3 registers itself for "s3://" via
// Register (package connectors does so on import). This package must not
// import any implementation but Local.
package fs
