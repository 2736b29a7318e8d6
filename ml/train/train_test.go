package train

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/ml/gbdt"
)

// rowsBatches makes n rows of nf REAL features (some NULL), a text label
// ("a" when the features' sum is positive, else "b" or "c") and a split
// key (the row number), cut into batches of size rows.
func rowsBatches(t *testing.T, n, nf, size int, seed uint64) []arrow.RecordBatch {
	t.Helper()
	fields := make([]arrow.Field, 0, nf+2)
	for j := 0; j < nf; j++ {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("f%d", j), Type: arrow.PrimitiveTypes.Float32, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "y", Type: arrow.BinaryTypes.String}, arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int64})
	sch := arrow.NewSchema(fields, nil)
	r := rand.New(rand.NewPCG(seed, 1))
	var out []arrow.RecordBatch
	for start := 0; start < n; start += size {
		b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
		for i := start; i < min(n, start+size); i++ {
			sum := 0.0
			for j := 0; j < nf; j++ {
				if r.IntN(20) == 0 {
					b.Field(j).AppendNull()
					continue
				}
				v := r.NormFloat64()
				sum += v * float64(j+1)
				b.Field(j).(*array.Float32Builder).Append(float32(v))
			}
			y := "a"
			if sum < 0 {
				y = []string{"b", "c"}[r.IntN(2)]
			}
			b.Field(nf).(*array.StringBuilder).Append(y)
			b.Field(nf + 1).(*array.Int64Builder).Append(int64(i))
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out
}

type sliceStream struct {
	bs []arrow.RecordBatch
	i  int
}

func (s *sliceStream) Next(context.Context) (arrow.RecordBatch, error) {
	if s.i >= len(s.bs) {
		return nil, nil
	}
	s.i++
	s.bs[s.i-1].Retain()
	return s.bs[s.i-1], nil
}
func (s *sliceStream) Close() {}

// sources cuts batches into parts partitions.
func sources(batches []arrow.RecordBatch, parts int) [][]Source {
	var out [][]Source
	per := (len(batches) + parts - 1) / parts
	for p := 0; p < len(batches); p += per {
		bs := batches[p:min(len(batches), p+per)]
		out = append(out, []Source{func(context.Context, bool) (Stream, error) { return &sliceStream{bs: bs}, nil }})
	}
	return out
}

func dataSets(batches []arrow.RecordBatch, parts int) []Worker {
	var ws []Worker
	for _, s := range sources(batches, parts) {
		ws = append(ws, NewDataSet(s, 2))
	}
	return ws
}

var spec = Spec{NumFeatures: 4, Classifier: true, Method: "random", Fraction: 0.25, Seed: 9, MaxBin: 32}

// TestPrepareIndependentOfPartitioning: the classes, the split and the
// cuts do not depend on how the rows are partitioned; a SEQ split keeps
// the first ceil(n·(1−fraction)) rows by the split column for training.
func TestPrepareIndependentOfPartitioning(t *testing.T) {
	ctx := context.Background()
	batches := rowsBatches(t, 6000, 4, 500, 1)
	var first *Prepared
	for _, parts := range []int{1, 3, 12} {
		p, err := Prepare(ctx, spec, dataSets(batches, parts), nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(p.Classes, ",") != "a,b,c" {
			t.Fatalf("classes %v", p.Classes)
		}
		if first == nil {
			first = p
			continue
		}
		if p.TrainRows != first.TrainRows || p.EvalRows != first.EvalRows {
			t.Errorf("%d partitions: %d/%d rows, with 1: %d/%d", parts, p.TrainRows, p.EvalRows, first.TrainRows, first.EvalRows)
		}
	}
	if f := float64(first.EvalRows) / 6000; math.Abs(f-0.25) > 0.03 {
		t.Errorf("eval fraction %v, asked 0.25", f)
	}
	seq := spec
	seq.Method, seq.Fraction = "seq", 0.3
	p, err := Prepare(ctx, seq, dataSets(batches, 5), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.TrainRows != 4200 || p.EvalRows != 1800 {
		t.Errorf("SEQ split: %d training rows, %d eval; want 4200 and 1800", p.TrainRows, p.EvalRows)
	}
}

// TestRemoteAndRebuild: data sets reached through their wire form train
// the model the in-process ones do, byte for byte; a data set lost at any
// request is rebuilt over the same partitions and the model is the same.
func TestRemoteAndRebuild(t *testing.T) {
	ctx := context.Background()
	batches := rowsBatches(t, 8000, 4, 400, 2)
	parts := sources(batches, 4)
	params := gbdt.DefaultParams()
	params.Rounds, params.Subsample, params.Seed = 6, 0.8, 4
	train := func(ws []Worker, rebuild Rebuild) []byte {
		t.Helper()
		p, err := Prepare(ctx, spec, ws, rebuild)
		if err != nil {
			t.Fatal(err)
		}
		pp, err := p.Params(params, true, map[string]float64{"c": 2})
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := p.Train(ctx, pp)
		if err != nil {
			t.Fatal(err)
		}
		return b.JSON()
	}
	var local []Worker
	for _, s := range parts {
		local = append(local, NewDataSet(s, 1))
	}
	want := train(local, nil)
	remote := func(i int, fail int64) Worker {
		ds := NewDataSet(parts[i], 1)
		var calls atomic.Int64
		return Remote(func(ctx context.Context, req []byte) ([]byte, error) {
			if calls.Add(1) == fail {
				return nil, fmt.Errorf("executor gone: %w", gbdt.ErrWorkerLost)
			}
			return Serve(ctx, ds, req)
		})
	}
	// Requests to worker 2: Scan, Sketch, Bin, Begin, then the training's.
	for _, fail := range []int64{0, 1, 2, 3, 4, 6, 30} {
		ws := make([]Worker, len(parts))
		for i := range ws {
			ws[i] = remote(i, map[bool]int64{true: fail}[i == 2])
		}
		rebuilt := 0
		got := train(ws, func(ctx context.Context, i int, err error) (Worker, error) {
			rebuilt++
			return remote(i, 0), nil
		})
		if !bytes.Equal(want, got) {
			t.Fatalf("failing request %d: another model than in process", fail)
		}
		if (fail > 0) != (rebuilt == 1) {
			t.Fatalf("failing request %d: %d rebuilds", fail, rebuilt)
		}
	}
}

func TestDataSetErrors(t *testing.T) {
	ctx := context.Background()
	batches := rowsBatches(t, 100, 4, 50, 3)
	s := spec
	s.NumFeatures = 5 // the label column is read as a feature
	_, err := Prepare(ctx, s, dataSets(batches, 1), nil)
	if err == nil || !strings.Contains(err.Error(), "feature 4 arrived as utf8, not REAL") {
		t.Fatalf("error %v", err)
	}
	r := spec
	r.Classifier = false
	p, err := Prepare(ctx, r, dataSets(batches, 1), nil)
	if err == nil {
		_, _, err = p.Train(ctx, gbdt.DefaultParams())
	}
	if err == nil {
		t.Fatal("text labels trained a regressor")
	}
}
