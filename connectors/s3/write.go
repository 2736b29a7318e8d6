package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flint-engine/flint/connectors/fs"
)

// Multipart upload limits.
const (
	// MinPartSize is the smallest part S3 accepts (except the last).
	MinPartSize = 5 << 20
	// DefaultPartSize is the part size of uploads when Options.PartSize
	// is 0.
	DefaultPartSize = 8 << 20
	// maxParts is S3's limit of parts per upload.
	maxParts = 10000
	// defaultUploadConcurrency is how many parts of one file are sent at
	// once when Options.UploadConcurrency is 0.
	defaultUploadConcurrency = 2
	// cleanupTimeout bounds an AbortMultipartUpload sent after the
	// write's own context was cancelled.
	cleanupTimeout = 30 * time.Second
	// deleteBatch is the most keys one DeleteObjects request takes.
	deleteBatch = 1000
)

var _ fs.WriteFS = (*FS)(nil)

func (f *FS) partSize() int {
	switch {
	case f.opts.PartSize <= 0:
		return DefaultPartSize
	case f.opts.PartSize < MinPartSize:
		return MinPartSize
	}
	return int(min(f.opts.PartSize, 5<<30))
}

// Create implements fs.WriteFS. Bytes are buffered up to the part size: a
// file that stays smaller is sent by Close as one PUT; a larger one
// becomes a multipart upload whose parts are sent while later bytes are
// still being written (UploadConcurrency parts at once), completed by
// Close and aborted by Abort, by a failed Close or a failed part.
func (f *FS) Create(ctx context.Context, p string) (fs.Writer, error) {
	loc, cl, err := f.prepareObject(ctx, p)
	if err != nil {
		return nil, err
	}
	conc := f.opts.UploadConcurrency
	if conc <= 0 {
		conc = defaultUploadConcurrency
	}
	uctx, cancel := context.WithCancel(ctx)
	return &writer{fsys: f, cl: cl, parent: ctx, ctx: uctx, cancel: cancel, loc: loc, partSize: f.partSize(),
		slots: make(chan struct{}, conc)}, nil
}

// writer is one object being written.
type writer struct {
	fsys   *FS
	cl     *s3.Client
	parent context.Context
	// ctx (a child of parent) runs the part uploads; Abort cancels it.
	ctx      context.Context
	cancel   context.CancelFunc
	loc      location
	partSize int

	buf      []byte
	uploadID string
	nextPart int32
	slots    chan struct{} // bounds parts in flight
	wg       sync.WaitGroup
	done     bool // closed or aborted

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // first failure; the writer is then dead
}

func (w *writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *writer) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

// Write implements io.Writer.
func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: object already closed", w.loc.uri)
	}
	if err := w.failure(); err != nil {
		return 0, err
	}
	if err := w.ctx.Err(); err != nil {
		w.setErr(fmt.Errorf("write %s: %w", w.loc.uri, err))
		return 0, w.failure()
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), w.partSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == w.partSize {
			if err := w.sendPart(w.buf); err != nil {
				return n - len(p), err
			}
			w.buf = nil
		}
	}
	return n, nil
}

// sendPart starts the multipart upload if needed and sends data as the
// next part in the background, waiting for a free slot first.
func (w *writer) sendPart(data []byte) error {
	if w.uploadID == "" {
		w.fsys.puts.Add(1)
		out, err := w.cl.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: &w.loc.bucket, Key: &w.loc.key})
		if err != nil {
			err = w.fsys.classify("CreateMultipartUpload", w.loc, err)
			w.setErr(err)
			return err
		}
		w.uploadID = aws.ToString(out.UploadId)
	}
	if w.nextPart >= maxParts {
		err := fmt.Errorf("write %s: more than %d parts of %d bytes; raise the part size", w.loc.uri, maxParts, w.partSize)
		w.setErr(err)
		return err
	}
	w.nextPart++
	num := w.nextPart
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		err := fmt.Errorf("write %s: %w", w.loc.uri, w.ctx.Err())
		w.setErr(err)
		return err
	}
	if err := w.failure(); err != nil {
		<-w.slots
		return err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.slots }()
		w.fsys.puts.Add(1)
		out, err := w.cl.UploadPart(w.ctx, &s3.UploadPartInput{Bucket: &w.loc.bucket, Key: &w.loc.key, UploadId: &w.uploadID,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
		if err != nil {
			w.setErr(w.fsys.classify(fmt.Sprintf("UploadPart %d", num), w.loc, err))
			return
		}
		w.fsys.bytesSent.Add(int64(len(data)))
		w.mu.Lock()
		w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		w.mu.Unlock()
	}()
	return nil
}

// Close implements fs.Writer: one PUT for a small object, else the last
// part and CompleteMultipartUpload. On failure the upload is aborted.
func (w *writer) Close() error {
	if w.done {
		if err := w.failure(); err != nil {
			return err
		}
		return nil
	}
	fail := func(err error) error {
		w.setErr(err)
		w.abort()
		return w.failure()
	}
	if err := w.failure(); err != nil {
		return fail(err)
	}
	if w.uploadID == "" {
		w.done = true
		defer w.cancel()
		w.fsys.puts.Add(1)
		_, err := w.cl.PutObject(w.ctx, &s3.PutObjectInput{Bucket: &w.loc.bucket, Key: &w.loc.key,
			Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf)))})
		if err != nil {
			err = w.fsys.classify("PUT", w.loc, err)
			w.setErr(err)
			return err
		}
		w.fsys.bytesSent.Add(int64(len(w.buf)))
		w.buf = nil
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.sendPart(w.buf); err != nil {
			return fail(err)
		}
		w.buf = nil
	}
	w.wg.Wait()
	if err := w.failure(); err != nil {
		return fail(err)
	}
	w.mu.Lock()
	parts := w.parts
	w.mu.Unlock()
	sort.Slice(parts, func(i, j int) bool { return aws.ToInt32(parts[i].PartNumber) < aws.ToInt32(parts[j].PartNumber) })
	w.fsys.puts.Add(1)
	_, err := w.cl.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{Bucket: &w.loc.bucket, Key: &w.loc.key,
		UploadId: &w.uploadID, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return fail(w.fsys.classify("CompleteMultipartUpload", w.loc, err))
	}
	w.done = true
	w.cancel()
	return nil
}

// Abort implements fs.Writer.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	return w.abort()
}

// abort stops the part uploads and aborts the multipart upload, on a
// context of its own when the write's context has ended.
func (w *writer) abort() error {
	w.done = true
	w.buf = nil
	w.cancel()
	w.wg.Wait()
	if w.uploadID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.parent), cleanupTimeout)
	defer cancel()
	w.fsys.aborts.Add(1)
	_, err := w.cl.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.loc.bucket, Key: &w.loc.key, UploadId: &w.uploadID})
	if err != nil && !isNotFound(err) && !isNoSuchUpload(err) {
		return w.fsys.classify("AbortMultipartUpload", w.loc, err)
	}
	return nil
}

func isNoSuchUpload(err error) bool {
	code, _ := apiDetails(err)
	return code == "NoSuchUpload"
}

// Delete implements fs.WriteFS with DeleteObjects requests of up to 1000
// keys per bucket.
func (f *FS) Delete(ctx context.Context, paths []string) error {
	byBucket := map[string][]location{}
	var buckets []string
	for _, p := range paths {
		loc, err := parse(p)
		if err != nil {
			return err
		}
		if loc.key == "" || strings.HasSuffix(loc.key, "/") {
			return fmt.Errorf("delete %s: is a bucket or directory, not an object", p)
		}
		if _, ok := byBucket[loc.bucket]; !ok {
			buckets = append(buckets, loc.bucket)
		}
		byBucket[loc.bucket] = append(byBucket[loc.bucket], loc)
	}
	if len(paths) == 0 {
		return nil
	}
	cl, err := f.s3Client(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", paths[0], err)
	}
	for _, b := range buckets {
		locs := byBucket[b]
		for start := 0; start < len(locs); start += deleteBatch {
			if err := f.deleteBatch(ctx, cl, locs[start:min(start+deleteBatch, len(locs))]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *FS) deleteBatch(ctx context.Context, cl *s3.Client, locs []location) error {
	objs := make([]types.ObjectIdentifier, len(locs))
	for i, l := range locs {
		objs[i] = types.ObjectIdentifier{Key: aws.String(l.key)}
	}
	f.deletes.Add(1)
	out, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &locs[0].bucket,
		Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}})
	if err != nil {
		return f.classify("DeleteObjects", locs[0], err)
	}
	var errs []error
	for _, e := range out.Errors {
		if aws.ToString(e.Code) == "NoSuchKey" {
			continue
		}
		errs = append(errs, fmt.Errorf("delete s3://%s/%s: %s: %s", locs[0].bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
	}
	return errors.Join(errs...)
}

// Sweep implements fs.WriteFS: it lists every object below dir (hidden
// ones included) and every unfinished multipart upload, and deletes or
// aborts those whose base name matches.
func (f *FS) Sweep(ctx context.Context, dir string, match func(name string) bool) (int, error) {
	loc, err := parse(dir)
	if err != nil {
		return 0, err
	}
	cl, err := f.s3Client(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	prefix := loc.key
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var victims []string
	pager := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &loc.bucket, Prefix: &prefix})
	for pager.HasMorePages() {
		f.lists.Add(1)
		page, err := pager.NextPage(ctx)
		if err != nil {
			return 0, f.classify("LIST", loc, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if !strings.HasSuffix(key, "/") && match(fs.BaseName(key)) {
				victims = append(victims, "s3://"+loc.bucket+"/"+key)
			}
		}
	}
	removed := 0
	var errs []error
	if len(victims) > 0 {
		if err := f.Delete(ctx, victims); err != nil {
			errs = append(errs, err)
		} else {
			removed += len(victims)
		}
	}
	uploads, err := f.ListUploads(ctx, dir)
	if err != nil {
		errs = append(errs, err)
	}
	for _, u := range uploads {
		if !match(fs.BaseName(u.Key)) {
			continue
		}
		f.aborts.Add(1)
		_, err := cl.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &loc.bucket, Key: aws.String(u.Key), UploadId: aws.String(u.UploadID)})
		if err != nil && !isNotFound(err) && !isNoSuchUpload(err) {
			errs = append(errs, f.classify("AbortMultipartUpload", location{uri: "s3://" + loc.bucket + "/" + u.Key, bucket: loc.bucket, key: u.Key}, err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// Upload is an unfinished multipart upload.
type Upload struct {
	Key, UploadID string
	Initiated     time.Time
}

// ListUploads lists the unfinished multipart uploads below dir (a bucket
// or key prefix), sorted by key.
func (f *FS) ListUploads(ctx context.Context, dir string) ([]Upload, error) {
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
	var out []Upload
	in := &s3.ListMultipartUploadsInput{Bucket: &loc.bucket, Prefix: &prefix}
	for {
		f.lists.Add(1)
		page, err := cl.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, f.classify("ListMultipartUploads", loc, err)
		}
		for _, u := range page.Uploads {
			out = append(out, Upload{Key: aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		next := page.NextKeyMarker
		if aws.ToString(next) == "" && aws.ToString(page.NextUploadIdMarker) == "" {
			break // a server that says truncated without a marker would loop
		}
		in.KeyMarker, in.UploadIdMarker = next, page.NextUploadIdMarker
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
