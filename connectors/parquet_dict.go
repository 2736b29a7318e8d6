package connectors

import (
	"bytes"
	"hash/maphash"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// stringDict dictionary-encodes one string column of a Parquet file
// before the Parquet writer sees it. Handed plain strings, arrow-go's
// writer hashes every value through its memo table (an interface call
// and an allocation a value: half of writing a table of a few string
// categories); handed a dictionary array whose dictionary stays the same,
// it writes the indices as they are. The dictionary grows in order of
// first appearance and is shared by every batch of the file: a value
// seen before costs a comparison with the previous row's (runs) or one
// probe of an open-addressing table.
//
// A column that turns out to hold more than the dictionary limit (its
// first batch looked like a category column, the rest did not) keeps one
// dictionary per batch from then on (local): the writer falls back to
// PLAIN pages for it, and memory and time stay linear in the rows.
type stringDict struct {
	mem   memory.Allocator
	vals  [][]byte // the dictionary's values
	size  int      // their bytes
	table []int32  // open addressing: index+1 of a value, 0 empty
	dict  arrow.Array
	grew  bool // values were added since dict was built
	local bool // past the limit: a dictionary per batch
}

var dictSeed = maphash.MakeSeed()

func newStringDict(mem memory.Allocator) *stringDict {
	return &stringDict{mem: mem, table: make([]int32, 64)}
}

// find returns v's index, adding v when it is new.
func (d *stringDict) find(v []byte) int32 {
	mask := uint64(len(d.table) - 1)
	for i := maphash.Bytes(dictSeed, v) & mask; ; i = (i + 1) & mask {
		k := d.table[i]
		if k == 0 {
			d.vals = append(d.vals, bytes.Clone(v))
			d.size += len(v)
			d.table[i] = int32(len(d.vals))
			d.grew = true
			if 2*len(d.vals) > len(d.table) {
				d.rehash()
			}
			return int32(len(d.vals) - 1)
		}
		if bytes.Equal(d.vals[k-1], v) {
			return k - 1
		}
	}
}

func (d *stringDict) rehash() {
	d.table = make([]int32, 2*len(d.table))
	mask := uint64(len(d.table) - 1)
	for k, v := range d.vals {
		i := maphash.Bytes(dictSeed, v) & mask
		for d.table[i] != 0 {
			i = (i + 1) & mask
		}
		d.table[i] = int32(k + 1)
	}
}

// encode returns a as a dictionary array over the column's dictionary
// (the caller releases it), and whether the dictionary grew since the
// previous batch's.
func (d *stringDict) encode(a *array.String) (arr *array.Dictionary, grew bool) {
	if !d.local && d.size+4*len(d.vals) > dictionaryLimit {
		d.local = true
	}
	if d.local {
		d.vals, d.size = d.vals[:0], 0
		clear(d.table)
	}
	n := a.Len()
	idx := memory.NewResizableBuffer(d.mem)
	idx.Resize(n * 4)
	out := arrow.Int32Traits.CastFromBytes(idx.Bytes())
	offs, data := a.ValueOffsets(), a.ValueBytes()
	base := offs[0]
	prev, last := []byte(nil), int32(-1)
	for i := range n {
		if a.IsNull(i) {
			out[i] = 0
			continue
		}
		v := data[offs[i]-base : offs[i+1]-base]
		if last < 0 || !bytes.Equal(v, prev) {
			last, prev = d.find(v), v
		}
		out[i] = last
	}
	var valid *memory.Buffer
	if a.NullN() > 0 {
		valid = memory.NewResizableBuffer(d.mem)
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(a.NullBitmapBytes(), a.Data().Offset(), n, valid.Bytes(), 0)
	}
	idata := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{valid, idx}, nil, a.NullN(), 0)
	defer idata.Release()
	idx.Release()
	if valid != nil {
		valid.Release()
	}
	indices := array.MakeFromData(idata)
	defer indices.Release()
	grew = d.grew && !d.local
	if d.dict == nil || d.grew {
		if d.dict != nil {
			d.dict.Release()
		}
		b := array.NewStringBuilder(d.mem)
		for _, v := range d.vals {
			b.BinaryBuilder.Append(v)
		}
		d.dict = b.NewArray()
		b.Release()
		d.grew = false
	}
	return array.NewDictionaryArray(dictOfStrings, indices, d.dict), grew
}

func (d *stringDict) release() {
	if d.dict != nil {
		d.dict.Release()
		d.dict = nil
	}
}

var dictOfStrings = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
