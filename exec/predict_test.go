package exec_test

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
	"github.com/flint-engine/flint/ml/lightgbm"
	"github.com/flint-engine/flint/ml/model"
	"github.com/flint-engine/flint/ml/xgboost"
)

// xgbRows reads ml/xgboost/testdata/inputs.csv (an empty field is a
// missing value).
func xgbRows(t *testing.T) [][]*float64 {
	t.Helper()
	f, err := os.Open("../ml/xgboost/testdata/inputs.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]*float64
	for _, r := range recs[1:] {
		row := make([]*float64, len(r))
		for j, s := range r {
			if s == "" {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			row[j] = &v
		}
		rows = append(rows, row)
	}
	return rows
}

// preds reads a file of XGBoost's or LightGBM's predictions: one row a
// line, outputs separated by white space.
func preds(t *testing.T, path string) [][]float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var row []float64
		for _, s := range strings.Fields(line) {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out
}

// featureBatches cuts rows into batches of size rows: column j is
// FLOAT64 with NULLs for missing values, every batch a slice (offset
// 1) of a larger one.
func featureBatches(mem memory.Allocator, rows [][]*float64, size int) (*arrow.Schema, []arrow.RecordBatch) {
	nf := len(rows[0])
	fields := make([]arrow.Field, nf)
	for j := range fields {
		fields[j] = arrow.Field{Name: "f" + strconv.Itoa(j), Type: arrow.PrimitiveTypes.Float64, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	var out []arrow.RecordBatch
	for lo := 0; lo < len(rows); lo += size {
		hi := min(lo+size, len(rows))
		cols := make([]arrow.Array, nf)
		for j := range cols {
			b := array.NewFloat64Builder(mem)
			b.AppendNull() // sliced off below
			for _, r := range rows[lo:hi] {
				if r[j] == nil {
					b.AppendNull()
				} else {
					b.Append(*r[j])
				}
			}
			a := b.NewArray()
			cols[j] = array.NewSlice(a, 1, int64(a.Len()))
			a.Release()
			b.Release()
		}
		out = append(out, array.NewRecordBatch(schema, cols, int64(hi-lo)))
		for _, c := range cols {
			c.Release()
		}
	}
	return schema, out
}

func close6(got, want float64) bool {
	d := math.Abs(got - want)
	return d <= 1e-6 || d <= 1e-6*math.Abs(want)
}

// argmaxLabel is the label a classifier's library predicts from its
// outputs (XGBClassifier.predict, LGBMClassifier.predict).
func argmaxLabel(p []float64) int64 {
	if len(p) == 1 {
		if p[0] > 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return int64(best)
}

func TestPredictFixtures(t *testing.T) {
	rows := xgbRows(t)
	for _, tc := range []struct {
		file, pred string
	}{
		{"../ml/xgboost/testdata/multi_softprob.json", "../ml/xgboost/testdata/multi_softprob.pred"},
		{"../ml/xgboost/testdata/binary_logistic.ubj", "../ml/xgboost/testdata/binary_logistic.pred"},
	} {
		m, err := xgboost.LoadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		want := preds(t, tc.pred)
		for _, size := range []int{1, 7, 1000} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			ctx := exec.WithAllocator(context.Background(), mem)
			schema, batches := featureBatches(mem, rows, size)
			feats := make([]exec.Expr, schema.NumFields())
			for j, f := range schema.Fields() {
				feats[j] = expr.Col(j, f.Type, f.Name)
			}
			op, err := exec.NewPredict(exec.NewBatchSource(schema, batches), m, "m", feats,
				[]exec.PredictOutput{exec.PredictLabel, exec.PredictValue}, []string{"predicted_label", "prediction"})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range batches {
				b.Release()
			}
			if err := op.Open(ctx); err != nil {
				t.Fatal(err)
			}
			out, err := exec.CollectAll(ctx, op)
			if err != nil {
				t.Fatal(err)
			}
			op.Close()
			r := 0
			k := m.NumOutputs()
			for _, b := range out {
				if b.NumCols() != int64(schema.NumFields()+2) {
					t.Fatalf("%d columns", b.NumCols())
				}
				labels := b.Column(schema.NumFields()).(*array.Int64)
				for i := 0; i < int(b.NumRows()); i++ {
					var got []float64
					if k == 1 {
						got = []float64{b.Column(schema.NumFields() + 1).(*array.Float64).Value(i)}
					} else {
						l := b.Column(schema.NumFields() + 1).(*array.List)
						lo, hi := l.ValueOffsets(i)
						got = l.ListValues().(*array.Float64).Float64Values()[lo:hi]
					}
					if len(got) != len(want[r]) {
						t.Fatalf("%s row %d: %d outputs, want %d", tc.file, r, len(got), len(want[r]))
					}
					for c := range got {
						if !close6(got[c], want[r][c]) {
							t.Errorf("%s batch size %d row %d output %d: %v, XGBoost says %v", tc.file, size, r, c, got[c], want[r][c])
						}
					}
					if l := labels.Value(i); l != argmaxLabel(want[r]) {
						t.Errorf("%s row %d: label %d, want %d", tc.file, r, l, argmaxLabel(want[r]))
					}
					r++
				}
				b.Release()
			}
			if r != len(want) {
				t.Errorf("%s: %d rows, want %d", tc.file, r, len(want))
			}
			mem.AssertSize(t, 0)
		}
	}
}

// TestPredictFeatureTypes scores integer, unsigned, float32, decimal and
// NULL-typed feature columns: the model must see each value converted to
// float64 (NULL as NaN), as a DOUBLE column of the same values gives.
func TestPredictFeatureTypes(t *testing.T) {
	m, err := lightgbm.LoadFile("../ml/lightgbm/testdata/lgmulticlass.model")
	if err != nil {
		t.Fatal(err)
	}
	nf := len(m.Features())
	const n = 50
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx := exec.WithAllocator(context.Background(), mem)
	val := func(i, j int) float64 { return float64((i*7+j*13)%23-11) / 4 } // multiples of 0.25
	null := func(i, j int) bool { return (i+j)%9 == 0 }
	var fields []arrow.Field
	var cols []arrow.Array
	ref := make([][]float64, nf)
	for j := range nf {
		ref[j] = make([]float64, n)
		var a arrow.Array
		var typ arrow.DataType
		switch j % 7 {
		case 0:
			typ = arrow.PrimitiveTypes.Int32
			b := array.NewInt32Builder(mem)
			for i := range n {
				b.Append(int32(val(i, j) * 4))
				ref[j][i] = float64(int32(val(i, j) * 4))
			}
			a = b.NewArray()
			b.Release()
		case 1:
			typ = arrow.PrimitiveTypes.Uint8
			b := array.NewUint8Builder(mem)
			for i := range n {
				b.Append(uint8(i + j))
				ref[j][i] = float64(uint8(i + j))
			}
			a = b.NewArray()
			b.Release()
		case 2:
			typ = arrow.PrimitiveTypes.Float32
			b := array.NewFloat32Builder(mem)
			for i := range n {
				if null(i, j) {
					b.AppendNull()
					ref[j][i] = math.NaN()
					continue
				}
				b.Append(float32(val(i, j)))
				ref[j][i] = val(i, j)
			}
			a = b.NewArray()
			b.Release()
		case 3:
			typ = &arrow.Decimal64Type{Precision: 10, Scale: 2}
			b := array.NewDecimal64Builder(mem, typ.(*arrow.Decimal64Type))
			for i := range n {
				if null(i, j) {
					b.AppendNull()
					ref[j][i] = math.NaN()
					continue
				}
				b.Append(decimal.Decimal64(1234 + int64(i))) // 12.34 + i/100
				ref[j][i] = float64(1234+i) / 100
			}
			a = b.NewArray()
			b.Release()
		case 4:
			typ = &arrow.Decimal128Type{Precision: 30, Scale: 3}
			b := array.NewDecimal128Builder(mem, typ.(*arrow.Decimal128Type))
			for i := range n {
				b.Append(decimal128.FromI64(int64(-500 + 37*i)))
				ref[j][i] = float64(-500+37*i) / 1000
			}
			a = b.NewArray()
			b.Release()
		case 5:
			typ = arrow.Null
			a = array.NewNull(n)
			for i := range n {
				ref[j][i] = math.NaN()
			}
		default:
			typ = arrow.PrimitiveTypes.Int64
			b := array.NewInt64Builder(mem)
			for i := range n {
				if null(i, j) {
					b.AppendNull()
					ref[j][i] = math.NaN()
					continue
				}
				b.Append(int64(val(i, j) * 8))
				ref[j][i] = float64(int64(val(i, j) * 8))
			}
			a = b.NewArray()
			b.Release()
		}
		fields = append(fields, arrow.Field{Name: "f" + strconv.Itoa(j), Type: typ, Nullable: true})
		cols = append(cols, a)
	}
	schema := arrow.NewSchema(fields, nil)
	batch := array.NewRecordBatch(schema, cols, n)
	for _, c := range cols {
		c.Release()
	}
	feats := make([]exec.Expr, nf)
	for j, f := range fields {
		feats[j] = expr.Col(j, f.Type, f.Name)
	}
	op, err := exec.NewPredict(exec.NewBatchSource(schema, []arrow.RecordBatch{batch}), m, "m", feats,
		[]exec.PredictOutput{exec.PredictValue}, []string{"prediction"})
	if err != nil {
		t.Fatal(err)
	}
	batch.Release()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CollectAll(ctx, op)
	op.Close()
	if err != nil {
		t.Fatal(err)
	}
	k := m.NumOutputs()
	want := make([]float64, n*k)
	m.Predict(ref, want)
	if len(out) != 1 {
		t.Fatalf("%d batches", len(out))
	}
	l := out[0].Column(nf).(*array.List)
	got := l.ListValues().(*array.Float64).Float64Values()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("output %d: %v, want %v", i, got[i], want[i])
		}
	}
	out[0].Release()
	mem.AssertSize(t, 0)
}

func TestPredictErrors(t *testing.T) {
	m, err := xgboost.LoadFile("../ml/xgboost/testdata/reg_squarederror.json")
	if err != nil {
		t.Fatal(err)
	}
	f64 := arrow.PrimitiveTypes.Float64
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}, {Name: "x", Type: f64}}, nil)
	src := func() exec.Operator { return exec.NewBatchSource(schema, nil) }
	eight := func(e exec.Expr) []exec.Expr {
		out := make([]exec.Expr, 8)
		for i := range out {
			out[i] = e
		}
		return out
	}
	for _, tc := range []struct {
		feats []exec.Expr
		outs  []exec.PredictOutput
		want  string
	}{
		{[]exec.Expr{expr.Col(1, f64, "x")}, []exec.PredictOutput{exec.PredictValue}, "model m reads 8 features, got 1 columns"},
		{eight(expr.Col(0, arrow.BinaryTypes.String, "s")), []exec.PredictOutput{exec.PredictValue}, "model m: feature 1 (s) is utf8; features must be"},
		{eight(expr.Col(1, f64, "x")), []exec.PredictOutput{exec.PredictLabel}, "model m is not a classifier"},
	} {
		_, err := exec.NewPredict(src(), m, "m", tc.feats, tc.outs, []string{"p"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	var _ model.Model = m
}
