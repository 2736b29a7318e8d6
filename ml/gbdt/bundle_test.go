package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPlanBundles: features of few codes are packed first fit by
// decreasing codes into bundles of at most maxJoint joint codes; a
// feature left alone, or with too many codes, keeps its column; every
// joint code decodes to its members' codes.
func TestPlanBundles(t *testing.T) {
	//            f0   f1 f2 f3  f4   f5 f6 f7
	sizes := []int{50, 257, 5, 3, 129, 12, 11, 50}
	plan := planBundles(sizes)
	var got [][]int
	for _, b := range plan {
		got = append(got, b.feats)
	}
	// 50 (f0) and 50 (f7) open two bundles, 12 (f5) a third; 11 (f6)
	// joins f5's (132), 5 (f2) f0's (250), 3 (f3) f7's (150).
	want := [][]int{{0, 2}, {7, 3}, {5, 6}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("bundles %v, want %v", got, want)
	}
	for _, b := range plan {
		if b.lead != slices.Min(b.feats) {
			t.Errorf("bundle %v: lead %d", b.feats, b.lead)
		}
		for j := range b.slots {
			code, stride := 0, 1
			for k, n := range b.size {
				c := b.code(uint8(j), k)
				if c >= n {
					t.Fatalf("bundle %v, joint code %d: member %d has code %d of %d", b.feats, j, k, c, n)
				}
				code += c * stride
				stride *= n
			}
			if code != j {
				t.Fatalf("bundle %v: joint code %d decodes to %d", b.feats, j, code)
			}
		}
	}
	if p := planBundles([]int{200, 3, 256}); len(p) != 0 {
		t.Fatalf("no two features fit together, got bundles %v", p)
	}
}

// TestBundledShard grows a tree's first levels on a shard whose features
// of few bins are bundled (byte and 16-bit codes), splitting on bundled
// features and on others, and checks every node's histogram and every
// row's node against sums and decisions computed row by row from the raw
// values and the cuts.
func TestBundledShard(t *testing.T) {
	for _, maxBin := range []int{64, 300} {
		testBundledShard(t, maxBin)
	}
}

func testBundledShard(t *testing.T, maxBin int) {
	r := rand.New(rand.NewPCG(5, uint64(maxBin)))
	const n = 4000
	cards := []int{0, 5, 3, 0, 7, 2, 40} // 0: continuous
	d := Data{Features: make([][]float64, len(cards)), Label: make([]float64, n)}
	for f, c := range cards {
		col := make([]float64, n)
		for i := range col {
			switch {
			case c == 0:
				col[i] = r.NormFloat64()
			case c == 2:
				col[i] = float64(b2i(r.IntN(30) == 0)) // mostly 0: runny
			default:
				col[i] = float64(r.IntN(c))
			}
			if f%3 == 1 && r.IntN(10) == 0 {
				col[i] = math.NaN()
			}
		}
		d.Features[f] = col
	}
	for i := range d.Label {
		d.Label[i] = float64(r.IntN(2))
	}
	shards, cuts, err := Prepare(maxBin, []Data{d})
	if err != nil {
		t.Fatal(err)
	}
	s := shards[0]
	if len(s.bundles) == 0 {
		t.Fatalf("max_bin %d: no bundles", maxBin)
	}
	// Feature 1 is bundled either way; 3 (continuous) with 64 bins only,
	// 4 with 300 only (beside 64 bins, the other bundles are full).
	for f, want := range map[int]bool{1: true, 3: maxBin == 64, 4: maxBin == 300} {
		if bundled := s.member[f] >= 0; bundled != want {
			t.Fatalf("max_bin %d: feature %d (%d bins) bundled %v", maxBin, f, cuts.NumBins(f), bundled)
		}
	}
	for f := range cards {
		own := (s.u8 != nil && s.u8[f] != nil) || (s.u16 != nil && s.u16[f] != nil)
		if own == (s.member[f] >= 0) {
			t.Fatalf("feature %d: bundled %v, own column %v", f, s.member[f] >= 0, own)
		}
	}
	st := s.begin(0, 1, 0.5, nil)
	s.gradients(st, newObjective(&Params{Objective: SquaredError}))
	s.startTree(st, 0, 0, 0, 1)
	// Node 0 splits on feature 1 (missing rows right), node 1 on feature
	// 3, node 2 on feature 4 (missing left).
	levels := [][]split{
		{{node: 0, left: 1, right: 2, feature: 1, bin: 2, defaultLeft: false}},
		{{node: 1, left: 3, right: 4, feature: 3, bin: int32(cuts.NumBins(3) / 2), defaultLeft: true},
			{node: 2, left: 5, right: 6, feature: 4, bin: 3, defaultLeft: true}},
	}
	node := make([]int32, n) // each row's node, decided from its raw values
	layout := newLayout(cuts)
	var bufs []*Histogram
	for _, level := range levels {
		s.applySplits(st, level)
		var nodes []int32
		for _, sp := range level {
			for i := range node {
				if node[i] != sp.node {
					continue
				}
				b, ok := cuts.Bin(int(sp.feature), d.Features[sp.feature][i])
				if (ok && int32(b) <= sp.bin) || (!ok && sp.defaultLeft) {
					node[i] = sp.left
				} else {
					node[i] = sp.right
				}
			}
			nodes = append(nodes, sp.left, sp.right)
		}
		hs := zeroed(&bufs, layout, len(nodes))
		// Two ranges of features, as two goroutines would build them.
		s.buildHistograms(st, nodes, hs, 0, 3)
		s.buildHistograms(st, nodes, hs, 3, len(cards))
		for k, nid := range nodes {
			rg := st.ranges[nid]
			var rows []uint32
			want := NewHistogram(cuts)
			for i := range node {
				if node[i] != nid {
					continue
				}
				rows = append(rows, uint32(i))
				for f := range cards {
					b, ok := cuts.Bin(f, d.Features[f][i])
					if !ok {
						b = cuts.NumBins(f)
					}
					if c, _ := s.bin(f, i); c != b {
						t.Fatalf("row %d feature %d: code %d, bin %d", i, f, c, b)
					}
					want.AddBin(f, b, float64(st.gp[2*i]), float64(st.gp[2*i+1]))
				}
			}
			if !slices.Equal(st.rows[rg.begin:rg.end], rows) {
				t.Fatalf("max_bin %d node %d: %d rows partitioned, %d by their values", maxBin, nid, rg.end-rg.begin, len(rows))
			}
			for i, v := range want.sums {
				if math.Abs(v-hs[k].sums[i]) > 1e-9 {
					t.Fatalf("max_bin %d node %d slot %d: built %v, row by row %v", maxBin, nid, i/2, hs[k].sums[i], v)
				}
			}
		}
	}
}
