package xgboost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

// benchRows, benchFeatures, benchTrees and benchDepth are the shape of the
// scoring goal: 1M rows × 8 features through 60 trees of depth 6.
const (
	benchRows     = 1 << 20
	benchFeatures = 8
	benchTrees    = 60
	benchDepth    = 6
)

// syntheticModel writes a binary:logistic model of full trees with random
// splits in XGBoost's JSON format.
func syntheticModel(trees, depth, features int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	fmt.Fprintf(&b, `{"learner":{"feature_names":[],"gradient_booster":{"name":"gbtree","model":{`+
		`"gbtree_model_param":{"num_trees":"%d"},"tree_info":[%s],"trees":[`,
		trees, strings.TrimSuffix(strings.Repeat("0,", trees), ","))
	nodes := 1<<(depth+1) - 1
	list := func(n int, f func(i int) string) string {
		s := make([]string, n)
		for i := range s {
			s[i] = f(i)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	for t := range trees {
		if t > 0 {
			b.WriteString(",")
		}
		inner := nodes / 2 // nodes 0..inner-1 split; the rest are leaves
		fmt.Fprintf(&b, `{"id":%d,"tree_param":{"num_nodes":"%d"},"left_children":%s,"right_children":%s,`+
			`"split_indices":%s,"split_conditions":%s,"default_left":%s}`, t, nodes,
			list(nodes, func(i int) string {
				if i < inner {
					return fmt.Sprint(2*i + 1)
				}
				return "-1"
			}),
			list(nodes, func(i int) string {
				if i < inner {
					return fmt.Sprint(2*i + 2)
				}
				return "-1"
			}),
			list(nodes, func(i int) string { return fmt.Sprint(rng.IntN(features)) }),
			list(nodes, func(i int) string {
				if i < inner {
					return fmt.Sprint(float32(rng.NormFloat64() * 0.8))
				}
				return fmt.Sprint(float32(rng.NormFloat64() * 0.1))
			}),
			list(nodes, func(i int) string { return fmt.Sprint(rng.IntN(2)) }))
	}
	fmt.Fprintf(&b, `]}},"learner_model_param":{"base_score":"5E-1","num_class":"0","num_feature":"%d"},`+
		`"objective":{"name":"binary:logistic"}},"version":[1,7,4]}`, features)
	return []byte(b.String())
}

// benchData is rows × features of standard normal values, 5% missing.
func benchData(rows, features int) [][]float64 {
	rng := rand.New(rand.NewPCG(42, 2))
	cols := make([][]float64, features)
	for j := range cols {
		cols[j] = make([]float64, rows)
		for i := range cols[j] {
			if rng.Float64() < 0.05 {
				cols[j][i] = math.NaN()
			} else {
				cols[j][i] = rng.NormFloat64()
			}
		}
	}
	return cols
}

// benchModel is the synthetic model, or the model file named by
// FLINT_XGBOOST_BENCH_MODEL (for instance one trained by XGBoost on data of
// the same shape).
func benchModel(b *testing.B) *Model {
	if path := os.Getenv("FLINT_XGBOOST_BENCH_MODEL"); path != "" {
		m, err := LoadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	m, err := Load(syntheticModel(benchTrees, benchDepth, benchFeatures, 1))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

var benchOnce = sync.OnceValue(func() [][]float64 { return benchData(benchRows, benchFeatures) })

// BenchmarkPredict scores 1M rows × 8 features with 60 trees of depth 6 in
// one goroutine, in batches of 64K rows.
func BenchmarkPredict(b *testing.B) {
	m := benchModel(b)
	cols := benchOnce()
	out := make([]float64, benchRows)
	const batch = 1 << 16
	b.ResetTimer()
	for b.Loop() {
		predictBatches(m, cols, out, 0, benchRows, batch)
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPredict2 scores the same rows with two goroutines, each taking
// every other batch, as two executor slots would.
func BenchmarkPredict2(b *testing.B) {
	m := benchModel(b)
	cols := benchOnce()
	out := make([]float64, benchRows)
	const batch = 1 << 16
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for start := w * batch; start < benchRows; start += 2 * batch {
					predictBatches(m, cols, out, start, min(start+batch, benchRows), batch)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func predictBatches(m *Model, cols [][]float64, out []float64, from, to, batch int) {
	part := make([][]float64, len(cols))
	for start := from; start < to; start += batch {
		end := min(start+batch, to)
		for j := range cols {
			part[j] = cols[j][start:end]
		}
		m.Predict(part, out[start:end])
	}
}

func BenchmarkLoad(b *testing.B) {
	data := syntheticModel(benchTrees, benchDepth, benchFeatures, 1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Load(data); err != nil {
			b.Fatal(err)
		}
	}
}
