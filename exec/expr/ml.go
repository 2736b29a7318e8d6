package expr

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/ml/quantile"
	"github.com/flint-engine/flint/types"
)

// The ML scalar functions (types/ml.go): the "fitted" forms of the
// feature transforms, the quantile-sketch queries and list_value.

// mlKernel returns the funcExpr kernel of the ML functions that fit its
// argument model (fixed-width numeric in, numeric out).
func mlKernel(name string) (funcImpl, bool, bool) {
	switch name {
	case types.MLStandardScale:
		// (x − mean) / sd; 0 when sd is 0 or NULL (a single value), as
		// Spark's StandardScaler does for a constant feature.
		return func(k *funcCall) (arrow.Array, error) {
			x, m, sd := k.args[0], k.args[1], k.args[2]
			buf, out := allocFixed[float64](k.mem, k.n)
			valid, vbits := allocBits(k.mem, k.n)
			nulls := 0
			for i := range out {
				if x.isNull(i) || m.isNull(i) {
					out[i] = 0
					nulls++
					continue
				}
				vbits[i>>3] |= 1 << (i & 7)
				d := 0.0
				if !sd.isNull(i) {
					d = sd.float(i)
				}
				if d == 0 {
					out[i] = 0
					if math.IsNaN(x.float(i)) {
						out[i] = math.NaN()
					}
					continue
				}
				out[i] = (x.float(i) - m.float(i)) / d
			}
			return makeArray(types.Float64, k.n, nulls, valid, buf), nil
		}, true, true
	case types.MLMinMaxScale:
		// (x − min) / (max − min); 0.5 when max = min.
		return func(k *funcCall) (arrow.Array, error) {
			x, lo, hi := k.args[0], k.args[1], k.args[2]
			buf, out := allocFixed[float64](k.mem, k.n)
			for i := range out {
				if !isValid(k.vb, 0, i) {
					out[i] = 0
					continue
				}
				l, h := lo.float(i), hi.float(i)
				if h == l {
					out[i] = 0.5
					if math.IsNaN(x.float(i)) {
						out[i] = math.NaN()
					}
					continue
				}
				out[i] = (x.float(i) - l) / (h - l)
			}
			v := k.valid
			k.valid = nil
			return makeArray(types.Float64, k.n, -1, v, buf), nil
		}, false, true
	case types.MLImpute:
		// x, or the value when x is NULL or NaN.
		return func(k *funcCall) (arrow.Array, error) {
			x, v := k.args[0], k.args[1]
			buf, out := allocFixed[float64](k.mem, k.n)
			valid, vbits := allocBits(k.mem, k.n)
			nulls := 0
			for i := range out {
				out[i] = 0
				switch {
				case !x.isNull(i) && !math.IsNaN(x.float(i)):
					out[i] = x.float(i)
				case !v.isNull(i):
					out[i] = v.float(i)
				default:
					nulls++
					continue
				}
				vbits[i>>3] |= 1 << (i & 7)
			}
			return makeArray(types.Float64, k.n, nulls, valid, buf), nil
		}, true, true
	}
	return nil, false, false
}

// mlCall compiles the ML functions with their own expression types (list
// arguments, lists out). ok is false for other names.
func mlCall(name string, args []exec.Expr, res arrow.DataType, casts []arrow.DataType) (exec.Expr, bool, error) {
	switch name {
	case types.ListValue, types.MLBucketize, types.MLLabelIndex, types.MLOneHot,
		types.MLSketchQuantile, types.MLSketchSplits:
	default:
		return nil, false, nil
	}
	cargs := make([]exec.Expr, len(args))
	for i, a := range args {
		if !arrow.TypeEqual(casts[i], a.DataType()) {
			var err error
			if a, err = Cast(a, casts[i]); err != nil {
				return nil, true, fmt.Errorf("%s argument %d: %w", name, i+1, err)
			}
		}
		cargs[i] = a
	}
	switch name {
	case types.ListValue:
		e, err := newListValue(cargs, res)
		return e, true, err
	case types.MLBucketize:
		e := &bucketize{x: cargs[0], splits: cargs[1]}
		if lv, ok := cargs[1].(*listValue); ok && allLit(lv.items...) {
			c := make([]float64, len(lv.items))
			for i, it := range lv.items {
				l, _ := isLit(it)
				if l.null || math.IsNaN(l.f64) {
					return nil, true, fmt.Errorf("%s: split point %d is %s; split points must be numbers", name, i+1, it)
				}
				c[i] = l.f64
			}
			if !slices.IsSorted(c) {
				return nil, true, fmt.Errorf("%s: split points %s are not in ascending order", name, cargs[1])
			}
			e.constSplits = c
		}
		return e, true, nil
	case types.MLLabelIndex:
		e := &labelIndex{s: cargs[0], cats: cargs[1]}
		if lv, ok := cargs[1].(*listValue); ok && allLit(lv.items...) {
			var keys []string
			var pos []int64
			for i, it := range lv.items {
				l, _ := isLit(it)
				if l.null {
					continue
				}
				keys, pos = append(keys, l.str), append(pos, int64(i))
			}
			e.index = newStrIndex(keys, pos)
			e.k = int64(len(lv.items))
		}
		return e, true, nil
	case types.MLOneHot:
		return &oneHot{idx: cargs[0], k: cargs[1]}, true, nil
	case types.MLSketchQuantile:
		return &sketchQuery{sketch: cargs[0], arg: cargs[1], splits: false}, true, nil
	case types.MLSketchSplits:
		return &sketchQuery{sketch: cargs[0], arg: cargs[1], splits: true}, true, nil
	}
	return nil, false, nil
}

// evalAll evaluates es over batch; release releases what it returned.
func evalAll(ctx context.Context, batch arrow.RecordBatch, es ...exec.Expr) ([]arrow.Array, func(), error) {
	out := make([]arrow.Array, 0, len(es))
	release := func() {
		for _, a := range out {
			a.Release()
		}
	}
	for _, e := range es {
		a, err := e.Eval(ctx, batch)
		if err != nil {
			release()
			return nil, nil, err
		}
		out = append(out, a)
	}
	return out, release, nil
}

// ---- list_value ----

// listValue is list_value(a, b, ...), also written [a, b, ...]: one list
// per row of the arguments' values (NULL elements kept).
type listValue struct {
	items []exec.Expr
	typ   arrow.DataType
}

func newListValue(items []exec.Expr, typ arrow.DataType) (exec.Expr, error) {
	switch typ.(*arrow.ListType).Elem().ID() {
	case arrow.FLOAT64, arrow.INT64, arrow.INT32, arrow.STRING, arrow.BOOL:
	default:
		return nil, fmt.Errorf("%s: lists of %s are not supported", types.ListValue, types.TypeName(typ.(*arrow.ListType).Elem()))
	}
	return &listValue{items: items, typ: typ}, nil
}

func (e *listValue) DataType() arrow.DataType { return e.typ }

func (e *listValue) String() string {
	s := "["
	for i, it := range e.items {
		if i > 0 {
			s += ", "
		}
		s += it.String()
	}
	return s + "]"
}

func (e *listValue) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	arrs, release, err := evalAll(ctx, batch, e.items...)
	if err != nil {
		return nil, err
	}
	defer release()
	n := int(batch.NumRows())
	b := array.NewListBuilder(exec.Allocator(ctx), e.typ.(*arrow.ListType).Elem())
	defer b.Release()
	b.Reserve(n)
	vb := b.ValueBuilder()
	vb.Reserve(n * len(arrs))
	for i := 0; i < n; i++ {
		b.Append(true)
		for _, a := range arrs {
			if a.IsNull(i) {
				vb.AppendNull()
				continue
			}
			switch a := a.(type) {
			case *array.Float64:
				vb.(*array.Float64Builder).Append(a.Value(i))
			case *array.Int64:
				vb.(*array.Int64Builder).Append(a.Value(i))
			case *array.Int32:
				vb.(*array.Int32Builder).Append(a.Value(i))
			case *array.String:
				vb.(*array.StringBuilder).Append(a.Value(i))
			case *array.Boolean:
				vb.(*array.BooleanBuilder).Append(a.Value(i))
			default:
				vb.AppendNull()
			}
		}
	}
	return b.NewArray(), nil
}

// listRows gives row i of a LIST array as a range of its child's values.
func listRows(a arrow.Array) (*array.List, bool) {
	l, ok := a.(*array.List)
	return l, ok
}

// ---- ml.bucketize ----

// bucketize is ml.bucketize(x, [s1, ..., sk]): the number of split points
// ≤ x, so x < s1 → 0, s1 ≤ x < s2 → 1, ..., x ≥ sk → k (BigQuery ML's
// ML.BUCKETIZE, 0-based). NULL or NaN x → NULL. The split points must be
// ascending (checked when they are constants).
type bucketize struct {
	x, splits   exec.Expr
	constSplits []float64 // the split points when they are constants
}

func (e *bucketize) DataType() arrow.DataType { return types.Int64 }

func (e *bucketize) String() string {
	return fmt.Sprintf("%s(%s, %s)", types.MLBucketize, e.x, e.splits)
}

func upperBound(splits []float64, x float64) int64 {
	return int64(sort.Search(len(splits), func(i int) bool { return splits[i] > x }))
}

func (e *bucketize) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	xa, err := e.x.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer xa.Release()
	var l *array.List
	var child []float64
	if e.constSplits == nil {
		sa, err := e.splits.Eval(ctx, batch)
		if err != nil {
			return nil, err
		}
		defer sa.Release()
		var ok bool
		if l, ok = listRows(sa); !ok {
			return nullArray(mem, types.Int64, n), nil
		}
		child = l.ListValues().(*array.Float64).Float64Values()
	}
	x, ok := xa.(*array.Float64)
	if !ok {
		return nullArray(mem, types.Int64, n), nil
	}
	xs := x.Float64Values()
	buf, out := allocFixed[int64](mem, n)
	valid, vbits := allocBits(mem, n)
	nulls := 0
	for i := range out {
		out[i] = 0
		if x.IsNull(i) || math.IsNaN(xs[i]) || (l != nil && l.IsNull(i)) {
			nulls++
			continue
		}
		vbits[i>>3] |= 1 << (i & 7)
		if l == nil {
			out[i] = upperBound(e.constSplits, xs[i])
			continue
		}
		lo, hi := l.ValueOffsets(i)
		out[i] = upperBound(child[lo:hi], xs[i])
	}
	return makeArray(types.Int64, n, nulls, valid, buf), nil
}

// ---- ml.label_index ----

// labelIndex is ml.label_index(s, [c0, ..., ck-1]): the position of s in
// the list, or k when s is NULL or not in it (the applied form of
// ml.label_encoder).
type labelIndex struct {
	s, cats exec.Expr
	index   *strIndex // constant categories
	k       int64
}

func (e *labelIndex) DataType() arrow.DataType { return types.Int64 }

func (e *labelIndex) String() string {
	return fmt.Sprintf("%s(%s, %s)", types.MLLabelIndex, e.s, e.cats)
}

func (e *labelIndex) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	sa, err := e.s.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer sa.Release()
	s, _ := sa.(*array.String)
	var l *array.List
	var child *array.String
	if e.index == nil {
		ca, err := e.cats.Eval(ctx, batch)
		if err != nil {
			return nil, err
		}
		defer ca.Release()
		if l, _ = listRows(ca); l == nil {
			return nullArray(mem, types.Int64, n), nil
		}
		child = l.ListValues().(*array.String)
	}
	buf, out := allocFixed[int64](mem, n)
	if e.index != nil {
		// Constant categories: every row has a position.
		if s != nil {
			e.index.lookupAll(s, out, e.k)
		} else {
			for i := range out {
				out[i] = e.k
			}
		}
		return makeArray(types.Int64, n, 0, nil, buf), nil
	}
	valid, vbits := allocBits(mem, n)
	nulls := 0
	for i := range out {
		if l != nil && l.IsNull(i) {
			out[i] = 0
			nulls++
			continue
		}
		vbits[i>>3] |= 1 << (i & 7)
		lo, hi := l.ValueOffsets(i)
		out[i] = hi - lo
		if s != nil && s.IsValid(i) {
			v := s.Value(i)
			for j := lo; j < hi; j++ {
				if child.IsValid(int(j)) && child.Value(int(j)) == v {
					out[i] = j - lo
					break
				}
			}
		}
	}
	return makeArray(types.Int64, n, nulls, valid, buf), nil
}

// ---- ml.one_hot ----

// oneHot is ml.one_hot(index, k): a LIST<DOUBLE> of k zeros with a 1 at
// index (0-based) when 0 ≤ index < k; all zeros for a NULL or other index
// (the applied form of ml.one_hot_encoder). NULL when k is NULL.
type oneHot struct{ idx, k exec.Expr }

func (e *oneHot) DataType() arrow.DataType { return types.ListOf(types.Float64) }

func (e *oneHot) String() string { return fmt.Sprintf("%s(%s, %s)", types.MLOneHot, e.idx, e.k) }

func (e *oneHot) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	arrs, release, err := evalAll(ctx, batch, e.idx, e.k)
	if err != nil {
		return nil, err
	}
	defer release()
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	idx, _ := arrs[0].(*array.Int64)
	ks, _ := arrs[1].(*array.Int64)
	if ks == nil {
		return nullArray(mem, e.DataType(), n), nil
	}
	total := 0
	for i := 0; i < n; i++ {
		if ks.IsValid(i) && ks.Value(i) > 0 {
			total += int(ks.Value(i))
		}
	}
	offBuf, offs := allocFixed[int32](mem, n+1)
	valBuf, vals := allocFixed[float64](mem, total)
	clear(vals)
	valid, vbits := allocBits(mem, n)
	nulls := 0
	pos := 0
	for i := 0; i < n; i++ {
		offs[i] = int32(pos)
		if ks.IsNull(i) {
			nulls++
			continue
		}
		vbits[i>>3] |= 1 << (i & 7)
		k := int(max(ks.Value(i), 0))
		if idx != nil && idx.IsValid(i) {
			if j := idx.Value(i); j >= 0 && j < int64(k) {
				vals[pos+int(j)] = 1
			}
		}
		pos += k
	}
	offs[n] = int32(pos)
	child := makeArray(types.Float64, total, 0, nil, valBuf)
	defer child.Release()
	d := array.NewData(e.DataType(), n, []*memory.Buffer{valid, offBuf}, []arrow.ArrayData{child.Data()}, nulls, 0)
	valid.Release()
	offBuf.Release()
	defer d.Release()
	return array.MakeFromData(d), nil
}

// ---- ml.sketch_quantile, ml.sketch_splits ----

// sketchQuery answers a quantile query on each row's ml.quantile_sketch:
// the q-quantile (DOUBLE) or the boundaries of n equal-frequency buckets
// (LIST<DOUBLE>). NULL for a NULL sketch; a corrupt sketch is an error.
type sketchQuery struct {
	sketch, arg exec.Expr
	splits      bool
}

func (e *sketchQuery) DataType() arrow.DataType {
	if e.splits {
		return types.ListOf(types.Float64)
	}
	return types.Float64
}

func (e *sketchQuery) String() string {
	name := types.MLSketchQuantile
	if e.splits {
		name = types.MLSketchSplits
	}
	return fmt.Sprintf("%s(%s, %s)", name, e.sketch, e.arg)
}

func (e *sketchQuery) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	arrs, release, err := evalAll(ctx, batch, e.sketch, e.arg)
	if err != nil {
		return nil, err
	}
	defer release()
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	sk, _ := arrs[0].(*array.Binary)
	if sk == nil {
		return nullArray(mem, e.DataType(), n), nil
	}
	var s quantile.Sketch
	if e.splits {
		ns, _ := arrs[1].(*array.Int64)
		b := array.NewListBuilder(mem, types.Float64)
		defer b.Release()
		vb := b.ValueBuilder().(*array.Float64Builder)
		for i := 0; i < n; i++ {
			if sk.IsNull(i) || ns == nil || ns.IsNull(i) {
				b.AppendNull()
				continue
			}
			if err := s.UnmarshalBinary(sk.Value(i)); err != nil {
				return nil, err
			}
			b.Append(true)
			vb.AppendValues(s.Splits(int(min(ns.Value(i), 1<<20))), nil)
		}
		return b.NewArray(), nil
	}
	qs, _ := arrs[1].(*array.Float64)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	for i := 0; i < n; i++ {
		if sk.IsNull(i) || qs == nil || qs.IsNull(i) {
			b.AppendNull()
			continue
		}
		q := qs.Value(i)
		if !(q >= 0 && q <= 1) {
			return nil, fmt.Errorf("%s: quantile %v is not between 0 and 1", types.MLSketchQuantile, q)
		}
		if err := s.UnmarshalBinary(sk.Value(i)); err != nil {
			return nil, err
		}
		v, ok := s.Quantile(q)
		if !ok {
			b.AppendNull()
			continue
		}
		b.Append(v)
	}
	return b.NewArray(), nil
}
