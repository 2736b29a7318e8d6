// Package s3 is the fs.FS for "s3://bucket/key" locations, over the AWS SDK
// for Go v2. Any S3-compatible store works (AWS, MinIO, versitygw, Ceph…).
//
// It owns the mapping of fs calls onto S3 requests: Open and Stat are HEAD
// requests, File.ReadAt is one ranged GET (Range: bytes=a-b) per call, and
// List is a paginated ListObjectsV2 under a key prefix; ListDir
// (fs.DirLister) adds Delimiter "/" to list one folder level, objects and
// common prefixes, so pruned Hive partitions are never listed. It does not own file
// formats or read planning: package connectors decides which ranges to read
// (for Parquet: the footer, then only the projected column chunks, several
// at a time) and reads them through this package.
//
// # Configuration
//
// The SDK's standard configuration applies (config.LoadDefaultConfig): the
// default credential chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN, AWS_PROFILE and the shared files, SSO, web identity,
// container and EC2 instance roles), the region (AWS_REGION, else
// us-east-1), and a custom endpoint from AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL (read by the SDK itself). Options override them.
//
// With a custom endpoint, requests use path-style addressing
// (http://host/bucket/key), which S3-compatible servers expect; AWS itself
// gets virtual-hosted style. FLINT_S3_PATH_STYLE=true|false, or
// Options.Addressing, forces either.
//
// # Writing
//
// FS implements fs.WriteFS. Create buffers a file up to the part size
// (Options.PartSize, default 8 MiB, at least 5 MiB): a smaller file is one
// PUT at Close; a larger one becomes a multipart upload whose parts are
// sent while the caller keeps writing (Options.UploadConcurrency at once)
// and which Close completes. Abort, a failed part or a failed Close sends
// AbortMultipartUpload, on a context of its own when the writer's was
// cancelled. Nothing is ever renamed: the dataset commit protocol lives in
// package connectors (WriteJob). Sweep deletes objects and aborts
// unfinished uploads below a prefix by name (ListObjectsV2 and
// ListMultipartUploads), which is how a failed write's leftovers go;
// ListUploads shows the unfinished uploads. Delete uses DeleteObjects.
//
// # Errors
//
// Every error names the s3:// location. A missing object or bucket wraps
// fs.ErrNotExist; a refused request (HTTP 403, bad key or signature) wraps
// ErrAccessDenied. Credentials never appear in error text: the access key
// ID, secret and session token last used are masked in any message that
// comes from the SDK or the server, and locations with user info
// (s3://key:secret@bucket) are refused with the user info masked.
//
// Register (called by package connectors on import) makes "s3://" work
// everywhere a path is taken: flint sql --table, CREATE EXTERNAL TABLE …
// LOCATION, Session.RegisterTable and the Read… methods, on the driver and
// on executors alike.
package s3
