package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flint-engine/flint/connectors/fs"
)

// object is an open S3 object. Every ReadAt is an independent ranged GET,
// so concurrent calls are safe. Requests run under the context given to
// Open: cancelling it fails later reads.
type object struct {
	fsys *FS
	cl   *s3.Client
	ctx  context.Context
	loc  location
	size int64
	// etag, when known (Open, not OpenSized), makes every GET conditional
	// (If-Match), so an object replaced mid-query fails instead of mixing
	// bytes of two versions.
	etag string
}

var _ fs.File = (*object)(nil)

func (o *object) Size() int64  { return o.size }
func (o *object) Name() string { return o.loc.uri }
func (o *object) Close() error { return nil }

// bodyError is a GET whose response body ended early or broke off; such a
// read is tried once more.
type bodyError struct {
	got, want int
	err       error
}

func (e *bodyError) Error() string {
	if errors.Is(e.err, io.ErrUnexpectedEOF) || errors.Is(e.err, io.EOF) {
		return fmt.Sprintf("short read: got %d of %d bytes", e.got, e.want)
	}
	return fmt.Sprintf("reading the response after %d of %d bytes: %v", e.got, e.want, e.err)
}

func (e *bodyError) Unwrap() error { return e.err }

// ReadAt implements io.ReaderAt with one ranged GET. A body that ends before
// the requested range (a dropped connection, a misbehaving proxy) is
// fetched again once; a second short read is an error naming the object
// and offset.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: read at negative offset %d", o.loc.uri, off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= o.size {
		return 0, io.EOF
	}
	want := int(min(int64(len(p)), o.size-off))
	for attempt := 0; ; attempt++ {
		n, err := o.get(p[:want], off)
		if err == nil {
			break
		}
		var be *bodyError
		if !errors.As(err, &be) || o.ctx.Err() != nil {
			return n, err
		}
		if attempt == 1 {
			return n, o.fsys.scrubbed(fmt.Sprintf("%s: at offset %d: %v (after one retry)", o.loc.uri, off, err), err)
		}
		o.fsys.retries.Add(1)
	}
	if want < len(p) {
		return want, io.EOF
	}
	return want, nil
}

// get fills p from offset off with one GET.
func (o *object) get(p []byte, off int64) (int, error) {
	rng := fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)
	in := &s3.GetObjectInput{Bucket: &o.loc.bucket, Key: &o.loc.key, Range: &rng}
	if o.etag != "" {
		in.IfMatch = aws.String(o.etag)
	}
	o.fsys.gets.Add(1)
	out, err := o.cl.GetObject(o.ctx, in)
	if err != nil {
		return 0, o.fsys.classify("GET", o.loc, err)
	}
	defer out.Body.Close()
	// A server that ignores Range answers 200 with the whole object; its
	// first bytes are only right for a read at offset 0.
	if cr := aws.ToString(out.ContentRange); cr != "" {
		if start, ok := rangeStart(cr); !ok || start != off {
			return 0, fmt.Errorf("%s: asked for %s, server sent Content-Range %q", o.loc.uri, rng, cr)
		}
	} else if off != 0 {
		return 0, fmt.Errorf("%s: asked for %s, server ignored the range", o.loc.uri, rng)
	}
	n, err := io.ReadFull(out.Body, p)
	o.fsys.bytes.Add(int64(n))
	if err != nil {
		if cerr := o.ctx.Err(); cerr != nil {
			return n, fmt.Errorf("%s: reading at offset %d: %w", o.loc.uri, off, cerr)
		}
		return n, &bodyError{got: n, want: len(p), err: err}
	}
	return n, nil
}

// rangeStart parses the first byte of "bytes a-b/size".
func rangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(a, 10, 64)
	return v, err == nil
}
