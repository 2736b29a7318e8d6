package train

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// SortLabels orders distinct labels as classes: by value for numeric
// (and boolean: FALSE first) labels, by bytes for text.
func SortLabels(labels []Label, numeric bool) []string {
	sort.Slice(labels, func(i, j int) bool {
		if numeric && labels[i].Key != labels[j].Key {
			return labels[i].Key < labels[j].Key
		}
		return labels[i].Text < labels[j].Text
	})
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = l.Text
	}
	return out
}

// LabelText is a label as the model's manifest stores it (and a CAST from
// text reads it back). A string label points into c's memory: clone what
// outlives c.
func LabelText(c arrow.Array, i int) string {
	switch c := c.(type) {
	case *array.String:
		return c.Value(i)
	case *array.Boolean:
		return strconv.FormatBool(c.Value(i))
	case *array.Float64:
		return strconv.FormatFloat(c.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(c.Value(i)), 'g', -1, 32)
	case *array.Int64:
		return strconv.FormatInt(c.Value(i), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(c.Value(i)), 10)
	case *array.Int16:
		return strconv.FormatInt(int64(c.Value(i)), 10)
	case *array.Int8:
		return strconv.FormatInt(int64(c.Value(i)), 10)
	}
	return c.ValueStr(i)
}

// NumberAt reads a numeric value as float64 (NaN for NULL).
func NumberAt(c arrow.Array, i int) float64 {
	if c.IsNull(i) {
		return math.NaN()
	}
	switch c := c.(type) {
	case *array.Int64:
		return float64(c.Value(i))
	case *array.Int32:
		return float64(c.Value(i))
	}
	v, err := strconv.ParseFloat(LabelText(c, i), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// OrderKey is a sortable number for a label or split value: -Inf for
// NULL, NaN for text (whose order is its bytes').
func OrderKey(c arrow.Array, i int) float64 {
	if c.IsNull(i) {
		return math.Inf(-1)
	}
	switch c := c.(type) {
	case *array.Boolean:
		if c.Value(i) {
			return 1
		}
		return 0
	case *array.Date32:
		return float64(c.Value(i))
	case *array.Timestamp:
		return float64(c.Value(i))
	case *array.String:
		return math.NaN()
	}
	return NumberAt(c, i)
}

// RowHash places a row in [0, 1) from its features, its label (its class
// for a classifier) and the seed, so that a random split depends on
// neither the row order nor the partitioning.
func RowHash(seed uint64, feats []*array.Float32, i int, y float64) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, f := range feats {
		v := float32(math.NaN())
		if f.IsValid(i) {
			v = f.Value(i)
		}
		binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
		h.Write(b[:4])
	}
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(y))
	h.Write(b[:])
	return float64(h.Sum64()>>11) / (1 << 53)
}
