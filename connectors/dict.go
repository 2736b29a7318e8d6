package connectors

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// DictStringType is the type of the string columns a DictOpener returns
// as dictionaries: int32 indices into utf8 values.
var DictStringType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// DictOpener is implemented by sources that can return some STRING columns
// as dictionaries, as they are stored, instead of decoding every row's
// string (Parquet). A scan filter can then evaluate a predicate once per
// distinct value and decode only the rows that survive.
type DictOpener interface {
	// OpenDict is Source.Open, except that a column i with dict[i] true
	// (len(dict) == len(columns); columns must not be nil) may arrive as
	// DictStringType where Source.Schema() says STRING. That is the only
	// difference between the batches' schema and the projected
	// Source.Schema(), and each batch's own schema says which columns it
	// is. The source decides per split: a column arrives as a dictionary
	// only when it is a STRING column stored dictionary-encoded in every
	// page of the split (no fallback to plain pages), with a dictionary
	// small next to batchSize (see dictPaysOff); otherwise, and for
	// partition columns and columns a file lacks, it is dense as in Open.
	// A dictionary may change between batches (a new row group) and is
	// rebuilt for every batch, so consumers compare dictionaries by
	// content, not identity.
	OpenDict(ctx context.Context, split Split, columns []int, dict []bool, batchSize int) (RecordReader, error)
}

var _ DictOpener = (*parquetSource)(nil)

// OpenDict implements DictOpener.
func (s *parquetSource) OpenDict(ctx context.Context, split Split, columns []int, dict []bool, batchSize int) (RecordReader, error) {
	if columns == nil || len(dict) != len(columns) {
		return nil, fmt.Errorf("parquet %s: OpenDict needs one dictionary flag per column: %d flags for %d columns", s.location, len(dict), len(columns))
	}
	// Flags by column of the file schema; partition columns never
	// qualify. A column listed twice is decoded once: as a dictionary
	// only if every occurrence asks for one.
	want := map[int]bool{}
	for i, c := range columns {
		if c < 0 || c >= s.table.NumFields() {
			return nil, fmt.Errorf("parquet %s: column index %d out of range (schema has %d columns)", s.location, c, s.table.NumFields())
		}
		fc := c
		if s.tableCols != nil {
			fc = s.tableCols[c].file
		}
		if fc < 0 {
			continue
		}
		if d, seen := want[fc]; !seen || d {
			want[fc] = dict[i]
		}
	}
	return s.openTable(ctx, split, columns, batchSize, func(ctx context.Context, split Split, fileCols []int, batchSize int) (RecordReader, error) {
		return s.openFileDict(ctx, split, fileCols, want, batchSize)
	})
}

// readAsDict reports whether file field fc of pf (merged column c) can be
// read as a DictStringType dictionary over rowGroups.
func (s *parquetSource) readAsDict(pf *parquetFile, c, fc int, rowGroups []int, batchSize int) bool {
	if s.schema.Field(c).Type.ID() != arrow.STRING || pf.fileTypes[fc].ID() != arrow.STRING || len(pf.leaves[fc]) != 1 {
		return false
	}
	leaf := pf.leaves[fc][0]
	for _, rg := range rowGroups {
		cc, err := pf.md.RowGroup(rg).ColumnChunk(leaf)
		if err != nil || !fullyDictEncoded(cc.HasDictionaryPage(), cc.Encodings(), cc.EncodingStats()) {
			return false
		}
		if !dictPaysOff(cc.DictionaryPageOffset(), cc.DataPageOffset(), cc.TotalCompressedSize(), cc.TotalUncompressedSize(), batchSize) {
			return false
		}
	}
	return true
}

// Page types of the Parquet thrift PageType enum.
const (
	pageData   = 0
	pageDataV2 = 3
)

// fullyDictEncoded reports whether every data page of a column chunk is
// dictionary encoded: a writer whose dictionary outgrew its limit falls
// back to PLAIN pages for the rest of the chunk, and reading those
// through a dictionary would hash every value. Without page encoding
// statistics (older writers) only the chunk's encoding list is known, and
// PLAIN in it may be the dictionary page's own encoding or fallback data
// pages; such chunks qualify only when their encodings are dictionary and
// level encodings alone (parquet v1: PLAIN_DICTIONARY throughout).
func fullyDictEncoded(hasDict bool, encodings []parquet.Encoding, stats []metadata.PageEncodingStats) bool {
	if !hasDict {
		return false
	}
	isDict := func(e parquet.Encoding) bool {
		return e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
	}
	if len(stats) > 0 {
		data := false
		for _, st := range stats {
			if st.PageType == pageData || st.PageType == pageDataV2 {
				data = true
				if !isDict(st.Encoding) {
					return false
				}
			}
		}
		return data
	}
	dict := false
	for _, e := range encodings {
		switch {
		case isDict(e):
			dict = true
		case e == parquet.Encodings.RLE || e == parquet.Encodings.BitPacked:
			// definition/repetition levels
		default:
			return false
		}
	}
	return dict
}

// dictPaysOff estimates whether reading a chunk as a dictionary costs less
// than decoding it: the reader copies the whole dictionary into every
// batch, and its consumer compares it with the previous batch's, so the
// dictionary must be small next to the strings a batch would decode. The
// dictionary page's size is the gap between its offset and the first data
// page (compressed; scaled by the chunk's compression ratio). It must stay
// under 8 bytes per batch row (at least 16 KiB), which keeps the number of
// distinct values below the batch size for any but very short strings.
// Unknown sizes (no usable offsets) are given the benefit of the doubt.
func dictPaysOff(dictOffset, dataOffset, compressed, uncompressed int64, batchSize int) bool {
	if dictOffset <= 0 || dataOffset <= dictOffset || compressed <= 0 {
		return true
	}
	size := dataOffset - dictOffset
	if uncompressed > compressed {
		size = int64(float64(size) * float64(uncompressed) / float64(compressed))
	}
	return size <= max(16<<10, 8*int64(batchSize))
}
