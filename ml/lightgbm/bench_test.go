package lightgbm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// syntheticModel writes a LightGBM text model of numTrees trees with
// numLeaves leaves each over nf features uniform in [0, 1). Trees grow
// leaf-wise as LightGBM grows them: each split picks a leaf with a
// probability proportional to the share of rows it holds, and cuts one
// feature inside that leaf's range, so paths are as long as in trained
// trees (about log2(numLeaves) on average, longer at the tail). One split
// in ten has missing type NaN.
func syntheticModel(seed uint64, numTrees, numLeaves, nf int, objective string) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	names := make([]string, nf)
	infos := make([]string, nf)
	for j := range names {
		names[j] = fmt.Sprintf("f%d", j)
		infos[j] = "[0:1]"
	}
	fmt.Fprintf(&b, "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=%d\nobjective=%s\nfeature_names=%s\nfeature_infos=%s\n\n",
		nf-1, objective, strings.Join(names, " "), strings.Join(infos, " "))
	for t := range numTrees {
		n := numLeaves - 1
		left := make([]int, n)
		right := make([]int, n)
		feat := make([]string, n)
		thr := make([]string, n)
		dt := make([]string, n)
		// Leaf l is reached through parent slot slot[l] (node*2 + side,
		// -1 for the root) and covers the box lo[l], hi[l].
		slot := []int{-1}
		lo := [][]float64{make([]float64, nf)}
		hi := [][]float64{make([]float64, nf)}
		for j := range nf {
			hi[0][j] = 1
		}
		mass := func(l int) float64 {
			v := 1.0
			for j := range nf {
				v *= hi[l][j] - lo[l][j]
			}
			return v
		}
		for node := range n {
			total := 0.0
			for l := range slot {
				total += mass(l)
			}
			l, u := 0, rng.Float64()*total
			for ; l < len(slot)-1; l++ {
				if u -= mass(l); u < 0 {
					break
				}
			}
			if s := slot[l]; s >= 0 {
				if s%2 == 0 {
					left[s/2] = node
				} else {
					right[s/2] = node
				}
			}
			f := rng.IntN(nf)
			cut := lo[l][f] + (hi[l][f]-lo[l][f])*(0.2+0.6*rng.Float64())
			feat[node] = fmt.Sprint(f)
			thr[node] = fmt.Sprint(cut)
			dt[node] = "2"
			if rng.IntN(10) == 0 {
				dt[node] = "10"
			}
			// Leaf l keeps the left part; a new leaf takes the right.
			newLo := append([]float64(nil), lo[l]...)
			newHi := append([]float64(nil), hi[l]...)
			newLo[f] = cut
			hi[l] = append([]float64(nil), hi[l]...)
			hi[l][f] = cut
			left[node], right[node] = ^l, ^len(slot)
			slot[l] = node * 2
			slot = append(slot, node*2+1)
			lo = append(lo, newLo)
			hi = append(hi, newHi)
		}
		vals := make([]string, numLeaves)
		for i := range vals {
			vals[i] = fmt.Sprint(rng.NormFloat64() * 0.1)
		}
		ints := func(xs []int) string {
			s := make([]string, len(xs))
			for i, x := range xs {
				s[i] = fmt.Sprint(x)
			}
			return strings.Join(s, " ")
		}
		fmt.Fprintf(&b, "Tree=%d\nnum_leaves=%d\nnum_cat=0\nsplit_feature=%s\nthreshold=%s\ndecision_type=%s\nleft_child=%s\nright_child=%s\nleaf_value=%s\nshrinkage=0.1\n\n\n",
			t, numLeaves, strings.Join(feat, " "), strings.Join(thr, " "), strings.Join(dt, " "), ints(left), ints(right), strings.Join(vals, " "))
	}
	b.WriteString("end of trees\n")
	return b.String()
}

// syntheticData is n rows of nf features uniform in [0, 1), with one value
// in a hundred missing.
func syntheticData(seed uint64, n, nf int) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	cols := make([][]float64, nf)
	for j := range cols {
		cols[j] = make([]float64, n)
		for i := range cols[j] {
			cols[j][i] = rng.Float64()
			if rng.IntN(100) == 0 {
				cols[j][i] = math.NaN()
			}
		}
	}
	return cols
}

// BenchmarkPredict scores 1M rows of 8 features with 60 trees of 63
// leaves, the size of the XGBoost anchor in PERFORMANCE.md.
func BenchmarkPredict(b *testing.B) {
	const rows, nf = 1 << 20, 8
	m, err := Load([]byte(syntheticModel(1, 60, 63, nf, "binary sigmoid:1")))
	if err != nil {
		b.Fatal(err)
	}
	cols := syntheticData(1, rows, nf)
	out := make([]float64, rows)
	b.ResetTimer()
	for b.Loop() {
		m.Predict(cols, out)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
