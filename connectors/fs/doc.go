// Package fs is the tiny filesystem abstraction every connector reads
// through. It owns path resolution (files, directories, globs) and random
// access to file bytes; it knows nothing about file formats.
//
// The interface is shaped for object stores: files are read with ReadAt
// (ranged GETs), sizes come from Stat/List (HEAD/LIST), and listing is
// always recursive under a prefix so a paginated LIST maps onto it. Only the
// local implementation exists today; an S3 implementation will register
// itself for the "s3://" scheme via Register.
package fs
