package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/ml/quantile"
)

// aggSketch is ml.quantile_sketch(x): one quantile.Sketch per group, its
// partial and final forms the sketch's bytes. A group that saw no value
// has no sketch and gives NULL.
type aggSketch struct {
	sk    []*quantile.Sketch
	bytes int64 // what the sketches held when last measured
}

func (k *aggSketch) resize(n int) { k.sk = aggGrow(k.sk, n) }

func (k *aggSketch) reset() { clear(k.sk); k.sk, k.bytes = k.sk[:0], 0 }

func (k *aggSketch) bytesFor(n int) int64 { return aggCapBytes(k.sk, n) + k.bytes }

func (k *aggSketch) group(g uint32) *quantile.Sketch {
	s := k.sk[g]
	if s == nil {
		s = &quantile.Sketch{}
		k.sk[g] = s
	}
	return s
}

func (k *aggSketch) update(arr arrow.Array, groups []uint32) error {
	a, ok := arr.(*array.Float64)
	if !ok {
		return fmt.Errorf("ml.quantile_sketch: input is %s, not DOUBLE", arr.DataType())
	}
	vals := a.Float64Values()
	for i, g := range groups {
		if a.IsNull(i) {
			continue
		}
		k.bytes += k.group(g).AddMeasured(vals[i])
	}
	return nil
}

func (k *aggSketch) merge(states []arrow.Array, groups []uint32) error {
	a, ok := states[0].(*array.Binary)
	if !ok {
		return fmt.Errorf("ml.quantile_sketch: state is %s, not BINARY", states[0].DataType())
	}
	var s quantile.Sketch
	for i, g := range groups {
		if a.IsNull(i) {
			continue
		}
		if err := s.UnmarshalBinary(a.Value(i)); err != nil {
			return err
		}
		t := k.group(g)
		before := t.Bytes()
		t.Merge(&s)
		k.bytes += t.Bytes() - before
	}
	return nil
}

func (k *aggSketch) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer b.Release()
	var buf []byte
	for _, s := range k.sk[from:to] {
		if s == nil || s.Count() == 0 {
			b.AppendNull()
			continue
		}
		buf = s.AppendBinary(buf[:0])
		b.Append(buf)
	}
	return b.NewArray(), nil
}

func (k *aggSketch) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	a, err := k.final(mem, from, to)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{a}, nil
}
