package connectors

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/snappy"
)

// TestSnappyCodecIsFast checks that Parquet's SNAPPY codec is Flint's
// (the fast encoder) and that its blocks round-trip through the snappy
// decoder, compressing repetitive data.
func TestSnappyCodecIsFast(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(fastSnappy); !ok {
		t.Fatalf("SNAPPY codec is %T, want fastSnappy", c)
	}
	src := bytes.Repeat([]byte("AIR     DELIVER IN PERSON  1998-12-01 "), 4000)
	enc := c.Encode(nil, src)
	if len(enc) > len(src)/10 {
		t.Errorf("compressed %d bytes to %d", len(src), len(enc))
	}
	dec, err := snappy.Decode(nil, enc)
	if err != nil || !bytes.Equal(dec, src) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := compress.Decode(c, nil, enc[:len(enc)/2]); err == nil {
		t.Error("truncated block decoded without error")
	}
}
