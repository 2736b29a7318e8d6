package exec

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/ml/model"
)

// PredictOutput is what one column a Predict operator appends holds.
type PredictOutput int

const (
	// PredictValue is what the model's library returns for the row:
	// DOUBLE, or LIST<DOUBLE> (one value per output) when the model has
	// several outputs (multi-class probabilities, multi-target
	// regression).
	PredictValue PredictOutput = iota
	// PredictLabel is a classifier's predicted class as BIGINT
	// (model.Labels).
	PredictLabel
)

// PredictValueType is the Arrow type of the PredictValue column of a model
// with numOutputs outputs per row.
func PredictValueType(numOutputs int) arrow.DataType {
	if numOutputs > 1 {
		return arrow.ListOf(arrow.PrimitiveTypes.Float64)
	}
	return arrow.PrimitiveTypes.Float64
}

// predictOp scores every input batch with a model and appends the
// predictions to the batch's columns.
type predictOp struct {
	input    Operator
	model    model.Model
	name     string // the model's name, for errors
	features []Expr
	outputs  []PredictOutput
	schema   *arrow.Schema

	cols    [][]float64 // the features of the current batch
	scratch [][]float64 // conversion buffers, one per feature, reused
	pred    []float64   // predictions when no output column holds them
}

var _ Operator = (*predictOp)(nil)

// NewPredict returns an operator that passes every column of input through
// and appends one column per outputs entry, named names[i], holding m's
// predictions for the batch's rows. features[j] computes feature j of the
// model (len(features) == len(m.Features())); it may have any integer,
// floating-point or decimal type, or be NULL-typed, and a NULL feature
// reaches the model as NaN, a missing value. Each batch is converted to
// float64 columns (a DOUBLE column without NULLs is passed as it is) and
// scored with one m.Predict call; the predictions are written straight
// into the output arrays. name names the model in errors.
func NewPredict(input Operator, m model.Model, name string, features []Expr, outputs []PredictOutput, names []string) (Operator, error) {
	if len(features) != len(m.Features()) {
		return nil, fmt.Errorf("model %s reads %d features, got %d columns", name, len(m.Features()), len(features))
	}
	for j, f := range features {
		if !predictFeatureType(f.DataType()) {
			return nil, fmt.Errorf("model %s: feature %d (%s) is %s; features must be integers, floating-point numbers or decimals", name, j+1, f, f.DataType())
		}
	}
	in := input.Schema()
	fields := append([]arrow.Field(nil), in.Fields()...)
	for i, o := range outputs {
		var t arrow.DataType
		switch o {
		case PredictValue:
			t = PredictValueType(m.NumOutputs())
		case PredictLabel:
			if !model.IsClassifier(m) {
				return nil, fmt.Errorf("model %s is not a classifier: it predicts no label", name)
			}
			t = arrow.PrimitiveTypes.Int64
		default:
			return nil, fmt.Errorf("model %s: unknown output kind %d", name, o)
		}
		if i >= len(names) {
			return nil, fmt.Errorf("model %s: output %d has no name", name, i)
		}
		fields = append(fields, arrow.Field{Name: names[i], Type: t})
	}
	return &predictOp{input: input, model: m, name: name, features: features, outputs: outputs,
		schema: arrow.NewSchema(fields, nil), cols: make([][]float64, len(features)),
		scratch: make([][]float64, len(features))}, nil
}

// predictFeatureType reports whether values of t can be model features.
func predictFeatureType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.NULL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL64, arrow.DECIMAL128:
		return true
	}
	return false
}

func (p *predictOp) Schema() *arrow.Schema          { return p.schema }
func (p *predictOp) Open(ctx context.Context) error { return p.input.Open(ctx) }
func (p *predictOp) Close() error                   { return p.input.Close() }

func (p *predictOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := p.input.Next(ctx)
	if err != nil || b == nil {
		return nil, err
	}
	defer b.Release()
	n := int(b.NumRows())
	mem := Allocator(ctx)
	var feats []arrow.Array
	defer func() {
		for _, a := range feats {
			a.Release()
		}
	}()
	for j, f := range p.features {
		a, err := f.Eval(ctx, b)
		if err != nil {
			return nil, fmt.Errorf("model %s: feature %d: %w", p.name, j+1, err)
		}
		feats = append(feats, a)
		if a.Len() != n {
			return nil, fmt.Errorf("model %s: feature %d gave %d rows, want %d", p.name, j+1, a.Len(), n)
		}
		if p.cols[j], err = p.floats(j, a); err != nil {
			return nil, err
		}
	}

	k := max(p.model.NumOutputs(), 1)
	// The predictions go straight into the buffer of the value column's
	// array (the child of a LIST when there are several outputs).
	var predBuf *memory.Buffer
	var pred []float64
	for _, o := range p.outputs {
		if o == PredictValue {
			predBuf = memory.NewResizableBuffer(mem)
			predBuf.Resize(n * k * 8)
			pred = unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(predBuf.Bytes()))), n*k)
		}
	}
	if pred == nil {
		if cap(p.pred) < n*k {
			p.pred = make([]float64, n*k)
		}
		pred = p.pred[:n*k]
	}
	if n > 0 {
		p.model.Predict(p.cols, pred)
	}
	clear(p.cols) // they may point into this batch's buffers

	cols := append([]arrow.Array(nil), b.Columns()...)
	for _, c := range cols {
		c.Retain()
	}
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, o := range p.outputs {
		switch o {
		case PredictValue:
			cols = append(cols, predictValues(mem, predBuf, n, k))
			predBuf = nil
		case PredictLabel:
			buf := memory.NewResizableBuffer(mem)
			buf.Resize(n * 8)
			labels := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), n)
			model.Labels(p.model, pred, labels)
			d := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
			buf.Release()
			cols = append(cols, array.MakeFromData(d))
			d.Release()
		}
	}
	out := array.NewRecordBatch(p.schema, cols, int64(n))
	release()
	return out, nil
}

// predictValues wraps the n*k predictions in buf (released here) as the
// value column: DOUBLE, or LIST<DOUBLE> of k values per row.
func predictValues(mem memory.Allocator, buf *memory.Buffer, n, k int) arrow.Array {
	vals := array.NewData(arrow.PrimitiveTypes.Float64, n*k, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	if k == 1 {
		a := array.MakeFromData(vals)
		vals.Release()
		return a
	}
	offs := memory.NewResizableBuffer(mem)
	offs.Resize((n + 1) * 4)
	o := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(offs.Bytes()))), n+1)
	for i := range o {
		o[i] = int32(i * k)
	}
	list := array.NewData(PredictValueType(k), n, []*memory.Buffer{nil, offs}, []arrow.ArrayData{vals}, 0, 0)
	offs.Release()
	vals.Release()
	a := array.MakeFromData(list)
	list.Release()
	return a
}

// floats returns feature j of the batch as float64s, NULL as NaN: a's own
// values when it is a DOUBLE column without NULLs, else a conversion into
// the feature's scratch buffer.
func (p *predictOp) floats(j int, a arrow.Array) ([]float64, error) {
	n := a.Len()
	if a.DataType().ID() == arrow.FLOAT64 && a.NullN() == 0 {
		return a.(*array.Float64).Float64Values(), nil
	}
	if cap(p.scratch[j]) < n {
		p.scratch[j] = make([]float64, n)
	}
	dst := p.scratch[j][:n]
	switch a := a.(type) {
	case *array.Null:
		for i := range dst {
			dst[i] = math.NaN()
		}
		return dst, nil
	case *array.Int8:
		convertFloats(dst, a.Int8Values())
	case *array.Int16:
		convertFloats(dst, a.Int16Values())
	case *array.Int32:
		convertFloats(dst, a.Int32Values())
	case *array.Int64:
		convertFloats(dst, a.Int64Values())
	case *array.Uint8:
		convertFloats(dst, a.Uint8Values())
	case *array.Uint16:
		convertFloats(dst, a.Uint16Values())
	case *array.Uint32:
		convertFloats(dst, a.Uint32Values())
	case *array.Uint64:
		convertFloats(dst, a.Uint64Values())
	case *array.Float32:
		convertFloats(dst, a.Float32Values())
	case *array.Float64:
		copy(dst, a.Float64Values())
	case *array.Decimal64:
		// One division of two exactly represented doubles rounds
		// correctly, as CAST(x AS DOUBLE) does, for |unscaled| < 2^53.
		scale := math.Pow10(int(a.DataType().(*arrow.Decimal64Type).Scale))
		for i := range dst {
			dst[i] = float64(int64(a.Value(i))) / scale
		}
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		for i := range dst {
			dst[i] = a.Value(i).ToFloat64(scale)
		}
	default:
		return nil, fmt.Errorf("model %s: feature %d is %s; features must be integers, floating-point numbers or decimals", p.name, j+1, a.DataType())
	}
	if a.NullN() > 0 {
		bits := a.NullBitmapBytes()
		off := a.Data().Offset()
		for i := range dst {
			if !bitutil.BitIsSet(bits, off+i) {
				dst[i] = math.NaN()
			}
		}
	}
	return dst, nil
}

func convertFloats[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32](dst []float64, src []T) {
	for i, v := range src[:len(dst)] {
		dst[i] = float64(v)
	}
}
