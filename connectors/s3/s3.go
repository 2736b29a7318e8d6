package s3

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flint-engine/flint/connectors/fs"
)

// Addressing selects how the bucket is put in request URLs.
type Addressing int

const (
	// AutoAddressing uses path style with a custom endpoint and
	// virtual-hosted style on AWS, unless FLINT_S3_PATH_STYLE says otherwise.
	AutoAddressing Addressing = iota
	// PathStyle sends http://endpoint/bucket/key.
	PathStyle
	// VirtualHostStyle sends http://bucket.endpoint/key.
	VirtualHostStyle
)

// PathStyleEnv names the environment variable (true|false) that forces
// path-style or virtual-hosted addressing when Options.Addressing is
// AutoAddressing.
const PathStyleEnv = "FLINT_S3_PATH_STYLE"

// Options configure an FS. The zero value uses the SDK's standard
// configuration for everything.
type Options struct {
	// Endpoint is the service URL, e.g. "http://127.0.0.1:7070". Empty
	// leaves it to the SDK (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the
	// shared config, else AWS).
	Endpoint string
	// Region overrides the SDK's region (AWS_REGION, the shared config);
	// us-east-1 is used when neither names one.
	Region string
	// Credentials overrides the default credential chain.
	Credentials aws.CredentialsProvider
	// Addressing forces path-style or virtual-hosted requests.
	Addressing Addressing
	// ListPageSize is the MaxKeys of each ListObjectsV2 request (0: the
	// server's default, 1000 on AWS).
	ListPageSize int
	// PartSize is the part size of multipart uploads and the size up to
	// which a written file is sent as one PUT (0: DefaultPartSize; at
	// least MinPartSize).
	PartSize int64
	// UploadConcurrency is how many parts of one file are sent at once
	// (0: 2). Memory per open file is about (UploadConcurrency+1) parts.
	UploadConcurrency int
}

// Stats count the requests an FS has made and the object bytes it has
// received, for tests and metrics. Failed requests are counted too.
type Stats struct {
	GetRequests  int64
	HeadRequests int64
	ListRequests int64
	// BytesFetched counts object bytes received by ranged GETs.
	BytesFetched int64
	// Retries counts ranged GETs repeated after a short or broken body.
	Retries int64
	// PutRequests counts PUTs, multipart creations, part uploads and
	// completions; BytesSent the object bytes they carried.
	PutRequests int64
	BytesSent   int64
	// AbortRequests counts AbortMultipartUpload requests, DeleteRequests
	// DeleteObjects requests.
	AbortRequests  int64
	DeleteRequests int64
}

// FS reads "s3://bucket/key" locations. It is safe for concurrent use. The
// SDK client is created on first use, so constructing an FS does no I/O.
type FS struct {
	opts Options

	mu     sync.Mutex
	client *s3.Client
	creds  *recordingProvider

	gets, heads, lists, bytes, retries atomic.Int64
	puts, bytesSent, aborts, deletes   atomic.Int64
}

var _ fs.FS = (*FS)(nil)
var _ fs.SizedOpener = (*FS)(nil)
var _ fs.DirLister = (*FS)(nil)

// New returns an FS with opts. It does no I/O.
func New(opts Options) *FS { return &FS{opts: opts} }

var defaultFS = New(Options{})

// Default is the FS that Register installs: standard SDK configuration.
func Default() *FS { return defaultFS }

// Register makes Default handle "s3://" locations. It is idempotent.
func Register() { fs.Register("s3", defaultFS) }

// Importing the package registers it, the way database/sql drivers are
// registered: programs choose their storage backends (the flint command
// and package flint import this one), and engine packages, which only see
// connectors/fs, do not link the AWS SDK.
func init() { Register() }

// Stats returns the counters since the FS was created.
func (f *FS) Stats() Stats {
	return Stats{
		GetRequests:  f.gets.Load(),
		HeadRequests: f.heads.Load(),
		ListRequests: f.lists.Load(),
		BytesFetched: f.bytes.Load(),
		Retries:      f.retries.Load(),
		PutRequests:  f.puts.Load(),
		BytesSent:    f.bytesSent.Load(),

		AbortRequests:  f.aborts.Load(),
		DeleteRequests: f.deletes.Load(),
	}
}

// s3Client returns the SDK client, creating it on first use. A failed
// configuration load is not remembered, so fixing the environment and
// retrying works.
func (f *FS) s3Client(ctx context.Context) (*s3.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.client != nil {
		return f.client, nil
	}
	pathStyle, forced, err := f.addressing()
	if err != nil {
		return nil, err
	}
	var load []func(*config.LoadOptions) error
	if f.opts.Region != "" {
		load = append(load, config.WithRegion(f.opts.Region))
	}
	if f.opts.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(f.opts.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	rec := &recordingProvider{inner: cfg.Credentials}
	if cfg.Credentials != nil {
		cfg.Credentials = aws.NewCredentialsCache(rec)
	}
	f.creds = rec
	f.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
		if f.opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(f.opts.Endpoint)
		}
		// NewFromConfig has already resolved AWS_ENDPOINT_URL_S3 /
		// AWS_ENDPOINT_URL into BaseEndpoint when this runs.
		switch {
		case forced:
			o.UsePathStyle = pathStyle
		case o.BaseEndpoint != nil:
			o.UsePathStyle = true
		}
		// Checksums only where S3 requires one (DeleteObjects): whole-object
		// checksums cannot validate ranged GETs, and the SDK would log a
		// warning for each one.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return f.client, nil
}

// addressing resolves Options.Addressing and FLINT_S3_PATH_STYLE: whether
// the style is forced, and to path style or not.
func (f *FS) addressing() (pathStyle, forced bool, err error) {
	switch f.opts.Addressing {
	case PathStyle:
		return true, true, nil
	case VirtualHostStyle:
		return false, true, nil
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(PathStyleEnv))); v {
	case "":
		return false, false, nil
	case "true", "1", "yes":
		return true, true, nil
	case "false", "0", "no":
		return false, true, nil
	default:
		return false, false, fmt.Errorf("%s=%q: want true or false", PathStyleEnv, v)
	}
}

// recordingProvider remembers the last credentials it handed out so error
// text can be scrubbed of them.
type recordingProvider struct {
	inner aws.CredentialsProvider
	last  atomic.Pointer[aws.Credentials]
}

func (r *recordingProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := r.inner.Retrieve(ctx)
	if err == nil {
		r.last.Store(&c)
	}
	return c, err
}

// location is a parsed "s3://bucket/key".
type location struct {
	uri, bucket, key string
}

func parse(uri string) (location, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return location{}, fmt.Errorf("%s: not an s3:// location", maskUserInfo(uri))
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if strings.Contains(bucket, "@") {
		return location{}, fmt.Errorf("%s: credentials in the location are not supported; use the AWS credential chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, …)", maskUserInfo(uri))
	}
	if bucket == "" {
		return location{}, fmt.Errorf("%s: no bucket name", uri)
	}
	return location{uri: uri, bucket: bucket, key: key}, nil
}

// maskUserInfo hides anything before an '@' in the authority part.
func maskUserInfo(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	auth, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		auth = "***" + auth[i:]
	}
	if path != "" || strings.Contains(rest, "/") {
		return scheme + "://" + auth + "/" + path
	}
	return scheme + "://" + auth
}

// Open implements fs.FS with a HEAD request for the size and ETag; reads
// then fail if the object is replaced while it is being read.
func (f *FS) Open(ctx context.Context, p string) (fs.File, error) {
	loc, cl, err := f.prepareObject(ctx, p)
	if err != nil {
		return nil, err
	}
	f.heads.Add(1)
	out, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &loc.bucket, Key: &loc.key})
	if err != nil {
		return nil, f.objectError(ctx, cl, "HEAD", loc, err)
	}
	return &object{fsys: f, cl: cl, ctx: ctx, loc: loc, size: aws.ToInt64(out.ContentLength), etag: aws.ToString(out.ETag)}, nil
}

// OpenSized implements fs.SizedOpener: no request is made until ReadAt.
func (f *FS) OpenSized(ctx context.Context, p string, size int64) (fs.File, error) {
	loc, cl, err := f.prepareObject(ctx, p)
	if err != nil {
		return nil, err
	}
	return &object{fsys: f, cl: cl, ctx: ctx, loc: loc, size: size}, nil
}

func (f *FS) prepareObject(ctx context.Context, p string) (location, *s3.Client, error) {
	loc, err := parse(p)
	if err != nil {
		return loc, nil, err
	}
	if loc.key == "" || strings.HasSuffix(loc.key, "/") {
		return loc, nil, fmt.Errorf("open %s: is a bucket or directory, not an object", p)
	}
	cl, err := f.s3Client(ctx)
	if err != nil {
		return loc, nil, fmt.Errorf("%s: %w", p, err)
	}
	return loc, cl, nil
}

// Stat implements fs.FS: HEAD for an object; a bucket, or a key prefix
// under which objects exist, is a directory.
func (f *FS) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	loc, err := parse(p)
	if err != nil {
		return fs.FileInfo{}, err
	}
	cl, err := f.s3Client(ctx)
	if err != nil {
		return fs.FileInfo{}, fmt.Errorf("%s: %w", p, err)
	}
	if loc.key != "" && !strings.HasSuffix(loc.key, "/") {
		f.heads.Add(1)
		out, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &loc.bucket, Key: &loc.key})
		if err == nil {
			return fs.FileInfo{Path: p, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
		}
		if !isNotFound(err) {
			return fs.FileInfo{}, f.classify("HEAD", loc, err)
		}
	}
	// Not an object: a bucket, or a directory if any key lies below it.
	isDir, err := f.probeDir(ctx, cl, loc)
	if err != nil {
		// A policy may allow reading objects but not listing: then the
		// 404 of the HEAD stands.
		if loc.key != "" && errors.Is(err, ErrAccessDenied) && !errors.Is(err, errBadCredentials) {
			return fs.FileInfo{}, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
		return fs.FileInfo{}, err
	}
	if !isDir {
		return fs.FileInfo{}, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return fs.FileInfo{Path: p, IsDir: true}, nil
}

// probeDir lists one key below loc's key as a directory (the whole bucket
// for an empty key). A LIST error has a body, unlike a HEAD error, so it
// tells a missing bucket or refused credentials from a missing object.
func (f *FS) probeDir(ctx context.Context, cl *s3.Client, loc location) (bool, error) {
	var prefix string
	if loc.key != "" {
		prefix = strings.TrimSuffix(loc.key, "/") + "/"
	}
	f.lists.Add(1)
	out, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &loc.bucket, Prefix: &prefix, MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, f.classify("LIST", loc, err)
	}
	return loc.key == "" || len(out.Contents) > 0, nil
}

// List implements fs.FS with ListObjectsV2 pages under dir's key prefix.
// Keys ending in '/' (folder markers) and hidden entries (a path segment
// below dir starting with '.' or '_', as Local skips) are left out.
func (f *FS) List(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	loc, err := parse(dir)
	if err != nil {
		return nil, err
	}
	cl, err := f.s3Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	prefix := loc.key
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	pager := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &loc.bucket, Prefix: &prefix},
		func(o *s3.ListObjectsV2PaginatorOptions) {
			if f.opts.ListPageSize > 0 {
				o.Limit = int32(min(f.opts.ListPageSize, 1<<30))
			}
		})
	var out []fs.FileInfo
	for pager.HasMorePages() {
		f.lists.Add(1)
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, f.classify("LIST", loc, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			rel, ok := strings.CutPrefix(key, prefix)
			if !ok || rel == "" || strings.HasSuffix(key, "/") || hidden(rel) {
				continue
			}
			out = append(out, fs.FileInfo{
				Path:    "s3://" + loc.bucket + "/" + key,
				Size:    aws.ToInt64(obj.Size),
				ModTime: aws.ToTime(obj.LastModified),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// ListDir implements fs.DirLister with ListObjectsV2 pages under dir's key
// prefix and Delimiter "/": objects directly below dir are files, common
// prefixes are subdirectories. Hidden names are kept (fs.DirLister); folder
// markers (keys ending in '/') are not. A prefix without objects lists as
// empty, since S3 has no directories.
func (f *FS) ListDir(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	loc, err := parse(dir)
	if err != nil {
		return nil, err
	}
	cl, err := f.s3Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	prefix := loc.key
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	pager := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &loc.bucket, Prefix: &prefix, Delimiter: aws.String("/")},
		func(o *s3.ListObjectsV2PaginatorOptions) {
			if f.opts.ListPageSize > 0 {
				o.Limit = int32(min(f.opts.ListPageSize, 1<<30))
			}
		})
	base := "s3://" + loc.bucket + "/"
	var out []fs.FileInfo
	for pager.HasMorePages() {
		f.lists.Add(1)
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, f.classify("LIST", loc, err)
		}
		for _, cp := range page.CommonPrefixes {
			p := aws.ToString(cp.Prefix)
			rel, ok := strings.CutPrefix(p, prefix)
			if !ok || rel == "" || rel == "/" {
				continue
			}
			out = append(out, fs.FileInfo{Path: base + strings.TrimSuffix(p, "/"), IsDir: true})
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			rel, ok := strings.CutPrefix(key, prefix)
			if !ok || rel == "" || strings.Contains(rel, "/") {
				continue
			}
			out = append(out, fs.FileInfo{
				Path:    base + key,
				Size:    aws.ToInt64(obj.Size),
				ModTime: aws.ToTime(obj.LastModified),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func hidden(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(seg, ".") || strings.HasPrefix(seg, "_") {
			return true
		}
	}
	return false
}

// objectError classifies a failed HEAD of an object. A 404 HEAD has no
// body, so a LIST tells a missing object from a missing bucket or refused
// credentials, and a directory from nothing.
func (f *FS) objectError(ctx context.Context, cl *s3.Client, op string, loc location, err error) error {
	if !isNotFound(err) {
		return f.classify(op, loc, err)
	}
	isDir, perr := f.probeDir(ctx, cl, loc)
	switch {
	case perr != nil && (errors.Is(perr, fs.ErrNotExist) || errors.Is(perr, errBadCredentials)):
		return perr
	case isDir:
		return fmt.Errorf("open %s: is a directory", loc.uri)
	}
	return fmt.Errorf("%s: %w", loc.uri, fs.ErrNotExist)
}

// secrets returns the credential strings to scrub from error text.
func (f *FS) secrets() []string {
	f.mu.Lock()
	rec := f.creds
	f.mu.Unlock()
	if rec == nil {
		return nil
	}
	c := rec.last.Load()
	if c == nil {
		return nil
	}
	return []string{c.SecretAccessKey, c.SessionToken, c.AccessKeyID}
}
