package gbdt

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// served is a worker reached through ServeWorker's encoding, as an
// executor's is; fail makes call number n (counting from 1) fail as a
// lost worker.
func served(w *LocalWorker, calls *atomic.Int64, fail int64) Worker {
	return RemoteWorker(func(ctx context.Context, req []byte) ([]byte, error) {
		if n := calls.Add(1); n == fail {
			return nil, fmt.Errorf("executor gone: %w", ErrWorkerLost)
		}
		return ServeWorker(ctx, w, req)
	})
}

func workersOf(t *testing.T, shards []*Shard, evals []*EvalShard, split int) []*LocalWorker {
	t.Helper()
	a, err := NewLocalWorker(shards[:split], evals[:1], 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLocalWorker(shards[split:], evals[1:], 1)
	if err != nil {
		t.Fatal(err)
	}
	return []*LocalWorker{a, b}
}

// TestRemoteWorkers: a training whose shards sit on two workers reached
// through the wire encoding grows the same trees as one in-process worker
// holding all the shards, up to the order of floating-point sums; one
// remote worker holding them all grows them bit for bit.
func TestRemoteWorkers(t *testing.T) {
	d := syntheticData(5000, 6, 5)
	ev := syntheticData(1000, 6, 6)
	p := mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "12", "subsample": "0.8",
		"colsample_bytree": "0.7", "seed": "3", "max_depth": "5"})
	shards, cuts, err := Prepare(64, d.split(4))
	if err != nil {
		t.Fatal(err)
	}
	e1, _ := NewEvalShard(Data{Features: colsRange(ev.Features, 0, 500), Label: ev.Label[:500]})
	e2, _ := NewEvalShard(Data{Features: colsRange(ev.Features, 500, 1000), Label: ev.Label[500:]})
	evals := []*EvalShard{e1, e2}
	ctx := context.Background()

	local, linfo, err := Train(ctx, p, shards, evals)
	if err != nil {
		t.Fatal(err)
	}
	one, _ := NewLocalWorker(shards, evals, 2)
	var calls atomic.Int64
	b, info, err := TrainWorkers(ctx, p, cuts, []Worker{served(one, &calls, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(local.JSON(), b.JSON()) {
		t.Fatal("one remote worker grew another model than the local training")
	}
	if info.Rounds[5].EvalLoss != linfo.Rounds[5].EvalLoss {
		t.Fatalf("eval loss %v remote, %v local", info.Rounds[5].EvalLoss, linfo.Rounds[5].EvalLoss)
	}
	if one.Trainings() != 0 {
		t.Fatalf("%d trainings left on the worker", one.Trainings())
	}

	ws := workersOf(t, shards, evals, 2)
	two, _, err := TrainWorkers(ctx, p, cuts, []Worker{served(ws[0], &calls, 0), served(ws[1], &calls, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pl, p2 := make([]float64, len(d.Label)), make([]float64, len(d.Label))
	local.Predict(d.Features, pl)
	two.Predict(d.Features, p2)
	for i := range pl {
		if d := pl[i] - p2[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("row %d: %v on one worker, %v on two", i, pl[i], p2[i])
		}
	}
}

// TestWorkerLost: a worker lost at any step of the training is replaced
// (here by a worker over the same shards) and the training goes on from
// where it was: the model is the one trained without a loss, bit for bit.
func TestWorkerLost(t *testing.T) {
	d := syntheticData(3000, 5, 8)
	ev := syntheticData(600, 5, 9)
	p := mustParams(t, map[string]string{"objective": Softprob, "num_class": "3", "num_boost_round": "4",
		"subsample": "0.9", "seed": "1", "max_depth": "4"})
	for i := range d.Label {
		d.Label[i] = float64(i % 3)
	}
	for i := range ev.Label {
		ev.Label[i] = float64(i % 3)
	}
	shards, cuts, err := Prepare(32, d.split(3))
	if err != nil {
		t.Fatal(err)
	}
	e1, _ := NewEvalShard(Data{Features: colsRange(ev.Features, 0, 300), Label: ev.Label[:300]})
	e2, _ := NewEvalShard(Data{Features: colsRange(ev.Features, 300, 600), Label: ev.Label[300:]})
	evals := []*EvalShard{e1, e2}
	ctx := context.Background()
	train := func(fail int64) ([]byte, int) {
		ws := workersOf(t, shards, evals, 1)
		var calls [2]atomic.Int64
		replaced := 0
		rec := func(ctx context.Context, i int, err error) (Worker, error) {
			replaced++
			nw, _ := NewLocalWorker(ws[i].shards, ws[i].evals, 1)
			var c atomic.Int64
			return served(nw, &c, 0), nil
		}
		b, _, err := TrainWorkers(ctx, p, cuts, []Worker{served(ws[0], &calls[0], 0), served(ws[1], &calls[1], fail)}, rec)
		if err != nil {
			t.Fatalf("failing call %d: %v", fail, err)
		}
		return b.JSON(), replaced
	}
	want, _ := train(0)
	// Calls of worker 1: Begin, then per round Gradients, per tree levels
	// and AddTree; fail some at each kind of step.
	for _, fail := range []int64{1, 2, 3, 5, 9, 17, 40} {
		got, replaced := train(fail)
		if replaced != 1 {
			t.Fatalf("failing call %d: %d replacements", fail, replaced)
		}
		if !bytes.Equal(want, got) {
			t.Fatalf("failing call %d: another model than without a loss", fail)
		}
	}
}

// TestConcurrentTrainings: trainings sharing shards (hyperparameter
// trials) keep their own state: each grows the model it grows alone.
func TestConcurrentTrainings(t *testing.T) {
	d := syntheticData(4000, 4, 2)
	shards, _, err := Prepare(64, d.split(2))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ps := []Params{
		mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "8", "max_depth": "3"}),
		mustParams(t, map[string]string{"objective": Logistic, "num_boost_round": "8", "max_depth": "6", "eta": "0.1"}),
		mustParams(t, map[string]string{"objective": SquaredError, "num_boost_round": "8", "subsample": "0.5"}),
	}
	alone := make([][]byte, len(ps))
	for i, p := range ps {
		b, _, err := Train(ctx, p, shards, nil)
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = b.JSON()
	}
	w, _ := NewLocalWorker(shards, nil, 2)
	var wg sync.WaitGroup
	got := make([][]byte, len(ps))
	for i, p := range ps {
		wg.Go(func() {
			b, _, err := TrainWorkers(ctx, p, shards[0].Cuts(), []Worker{w}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = b.JSON()
		})
	}
	wg.Wait()
	for i := range ps {
		if !bytes.Equal(alone[i], got[i]) {
			t.Errorf("training %d: another model beside the others than alone", i)
		}
	}
}

func colsRange(cols [][]float64, lo, hi int) [][]float64 {
	out := make([][]float64, len(cols))
	for j, c := range cols {
		out[j] = c[lo:hi]
	}
	return out
}

func TestBoosterBinary(t *testing.T) {
	d := syntheticData(2000, 4, 3)
	p := mustParams(t, map[string]string{"objective": Softprob, "num_class": "3", "num_boost_round": "3"})
	for i := range d.Label {
		d.Label[i] = float64(i % 3)
	}
	b, _ := trainOn(t, p, d.split(2), nil)
	_ = b.SetFeatureNames([]string{"a", "b", "c", "d"})
	enc, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Booster
	if err := got.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.JSON(), got.JSON()) {
		t.Fatal("the decoded booster writes another model file")
	}
	if err := got.UnmarshalBinary(enc[:len(enc)/2]); err == nil {
		t.Fatal("a truncated booster decoded")
	}
}
