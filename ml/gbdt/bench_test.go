package gbdt

import (
	"context"
	"math"
	"runtime"
	"testing"
)

// benchTable is the benchmark's data: testdata/train.csv.gz tiled 10
// times (200,000 rows × 8 features, 10-30% missing in four of them), tile
// k's values shifted by 0.001·k; testdata/bench.py times XGBoost on the
// same rows.
func benchTable(b *testing.B) (cols [][]float64, label []float64) {
	tb := readTable(b, "train.csv.gz")
	const tiles = 10
	cols = make([][]float64, len(tb.features))
	for j, c := range tb.features {
		for k := 0; k < tiles; k++ {
			for _, v := range c {
				cols[j] = append(cols[j], v+0.001*float64(k))
			}
		}
	}
	for k := 0; k < tiles; k++ {
		label = append(label, tb.labels["y_bin"]...)
	}
	return cols, label
}

// BenchmarkTrain200k trains binary:logistic, 60 rounds of depth 6, eta
// 0.3, max_bin 256 on 200k rows in 4 partitions: "prepare" sketches and
// bins, "train" boosts; XGBoost's xgb.train (which bins too) is the sum.
func BenchmarkTrain200k(b *testing.B) {
	cols, label := benchTable(b)
	parts := Data{Features: cols, Label: label}.split(4)
	p, err := ParseParams(map[string]string{"objective": Logistic, "num_boost_round": "60", "max_depth": "6", "eta": "0.3", "max_bin": "256"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("GOMAXPROCS %d", runtime.GOMAXPROCS(0))
	b.Run("prepare", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := Prepare(p.MaxBin, parts); err != nil {
				b.Fatal(err)
			}
		}
	})
	shards, _, err := Prepare(p.MaxBin, parts)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("train", func(b *testing.B) {
		for b.Loop() {
			bst, info, err := Train(context.Background(), p, shards, nil)
			if err != nil {
				b.Fatal(err)
			}
			if bst.NumRounds() != 60 || math.IsNaN(info.Rounds[59].TrainLoss) {
				b.Fatal("short training")
			}
		}
	})
}

// BenchmarkTrain2Mx22 trains 10 rounds of depth 6 on 2M synthetic rows of
// 22 features in 8 partitions: the shape of the example pipeline's
// training at TPC-H SF1 (4.8M rows × 22), where the shards no longer fit
// the caches.
func BenchmarkTrain2Mx22(b *testing.B) {
	d := syntheticData(2_000_000, 22, 3)
	p, err := ParseParams(map[string]string{"objective": Logistic, "num_boost_round": "10", "max_depth": "6", "eta": "0.3", "max_bin": "256"})
	if err != nil {
		b.Fatal(err)
	}
	shards, _, err := Prepare(p.MaxBin, d.split(8))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Train(context.Background(), p, shards, nil); err != nil {
			b.Fatal(err)
		}
	}
}
