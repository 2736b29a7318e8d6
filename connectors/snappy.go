package connectors

import (
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// fastSnappy is Parquet's SNAPPY codec with s2's standard snappy
// encoder in place of the "better" one that arrow-go's codec uses
// (klauspost/compress/snappy.Encode). Both write snappy blocks any
// reader decodes; the better encoder searches longer matches, which cost
// a tenth of a Parquet write's CPU for files a few percent smaller.
// The fast encoder matches the reference Snappy library, which DuckDB
// and Spark call.
type fastSnappy struct{}

func (fastSnappy) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) CompressBound(n int64) int64 { return int64(snappy.MaxEncodedLen(int(n))) }

func (f fastSnappy) Decode(dst, src []byte) []byte {
	out, err := f.DecodeWithError(dst, src)
	if err != nil {
		panic(err) // compress.Decode calls DecodeWithError instead
	}
	return out
}

func (fastSnappy) DecodeWithError(dst, src []byte) ([]byte, error) { return snappy.Decode(dst, src) }

func init() { compress.RegisterCodec(compress.Codecs.Snappy, fastSnappy{}) }
