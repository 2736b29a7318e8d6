package exec

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// aggCategories is ml.category_counts(s): per group, each distinct
// non-null value and its count; its partial and final forms are
// AppendCategoryCounts' bytes. A group that saw no value gives NULL. The
// encoders' fits (label_encoder, one_hot_encoder) count every category of
// several columns this way in one scan, where a GROUP BY per column would
// scan once each.
type aggCategories struct {
	g     []*categoryCounts
	bytes int64 // the groups' values and entries
}

// categoryCounts are one group's values, in order of first appearance,
// with their counts; index finds a value's position with one lookup.
type categoryCounts struct {
	index  map[string]int32
	values []string
	counts []int64
	// recent caches index lookups by a hash of a value's length and end
	// bytes: categories are few, and a Go map of up to eight strings
	// compares the value with each of them.
	recent [64]struct {
		v string
		i int32
	}
}

// categoryEntryBytes is a value's cost besides its bytes.
const categoryEntryBytes = 64

func (k *aggCategories) resize(n int) { k.g = aggGrow(k.g, n) }

func (k *aggCategories) reset() { clear(k.g); k.g, k.bytes = k.g[:0], 0 }

func (k *aggCategories) bytesFor(n int) int64 { return aggCapBytes(k.g, n) + k.bytes }

func (k *aggCategories) group(g uint32) *categoryCounts {
	c := k.g[g]
	if c == nil {
		c = &categoryCounts{index: map[string]int32{}}
		k.g[g] = c
	}
	return c
}

func (k *aggCategories) add(c *categoryCounts, v string, n int64) {
	h := len(v)
	if h > 0 {
		h = h*7 + int(v[0])*3 + int(v[len(v)-1])
	}
	slot := &c.recent[h&63]
	if slot.v == v && (slot.i > 0 || len(c.values) > 0 && c.values[0] == v) {
		c.counts[slot.i] += n
		return
	}
	i, ok := c.index[v]
	if !ok {
		v = strings.Clone(v) // v points into a batch
		i = int32(len(c.values))
		c.index[v] = i
		c.values, c.counts = append(c.values, v), append(c.counts, 0)
		k.bytes += int64(len(v)) + categoryEntryBytes
	}
	slot.v, slot.i = c.values[i], i
	c.counts[i] += n
}

func (k *aggCategories) update(arr arrow.Array, groups []uint32) error {
	a, ok := arr.(*array.String)
	if !ok {
		return fmt.Errorf("ml.category_counts: input is %s, not VARCHAR", arr.DataType())
	}
	nulls := a.NullN() > 0
	for i, g := range groups {
		if nulls && a.IsNull(i) {
			continue
		}
		k.add(k.group(g), a.Value(i), 1)
	}
	return nil
}

func (k *aggCategories) merge(states []arrow.Array, groups []uint32) error {
	a, ok := states[0].(*array.Binary)
	if !ok {
		return fmt.Errorf("ml.category_counts: state is %s, not BINARY", states[0].DataType())
	}
	for i, g := range groups {
		if a.IsNull(i) {
			continue
		}
		c := k.group(g)
		err := DecodeCategoryCounts(a.Value(i), func(v string, n int64) { k.add(c, v, n) })
		if err != nil {
			return fmt.Errorf("ml.category_counts: %w", err)
		}
	}
	return nil
}

func (k *aggCategories) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer b.Release()
	var buf []byte
	for _, c := range k.g[from:to] {
		if c == nil || len(c.values) == 0 {
			b.AppendNull()
			continue
		}
		buf = AppendCategoryCounts(buf[:0], c.values, c.counts)
		b.Append(buf)
	}
	return b.NewArray(), nil
}

func (k *aggCategories) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	a, err := k.final(mem, from, to)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{a}, nil
}

// AppendCategoryCounts appends the encoding of values (distinct) and
// their counts to buf: for each value in ascending order, its length and
// count as uvarints, then its bytes.
func AppendCategoryCounts(buf []byte, values []string, counts []int64) []byte {
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(values[a], values[b]) })
	for _, i := range order {
		buf = binary.AppendUvarint(buf, uint64(len(values[i])))
		buf = binary.AppendUvarint(buf, uint64(counts[i]))
		buf = append(buf, values[i]...)
	}
	return buf
}

// DecodeCategoryCounts calls f with each value and count of an
// ml.category_counts result.
func DecodeCategoryCounts(b []byte, f func(v string, count int64)) error {
	for pos := 0; pos < len(b); {
		n, k := binary.Uvarint(b[pos:])
		if k <= 0 {
			return fmt.Errorf("bad category counts: no length at byte %d", pos)
		}
		pos += k
		c, k := binary.Uvarint(b[pos:])
		if k <= 0 || c > 1<<62 {
			return fmt.Errorf("bad category counts: no count at byte %d", pos)
		}
		pos += k
		if n > uint64(len(b)-pos) {
			return fmt.Errorf("bad category counts: a value of %d bytes at byte %d, %d left", n, pos, len(b)-pos)
		}
		f(string(b[pos:pos+int(n)]), int64(c))
		pos += int(n)
	}
	return nil
}
