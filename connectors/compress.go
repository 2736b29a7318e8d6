package connectors

import (
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// codecFor returns "none", "gzip" or "zstd" for a file given the
// compression option ("auto" looks at the extension).
func codecFor(opt, path string) string {
	if opt != "auto" {
		return opt
	}
	p := strings.ToLower(path)
	switch {
	case strings.HasSuffix(p, ".gz"):
		return "gzip"
	case strings.HasSuffix(p, ".zst"), strings.HasSuffix(p, ".zstd"):
		return "zstd"
	}
	return "none"
}

// decompress wraps r; the returned closer releases decoder resources.
func decompress(codec, path string, r io.Reader) (io.Reader, func(), error) {
	switch codec {
	case "gzip":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		return z, func() { z.Close() }, nil
	case "zstd":
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: zstd: %w", path, err)
		}
		return z, z.Close, nil
	}
	return r, func() {}, nil
}

// errReader names the file in decompression errors.
type errReader struct {
	r    io.Reader
	path string
	code string
}

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %s stream: %w", e.path, e.code, err)
	}
	return n, err
}
