package gbdt

import (
	"fmt"

	"github.com/flint-engine/flint/ml/model"
)

// Node is one node of a tree, with the fields of XGBoost's tree model.
type Node struct {
	Left, Right int32 // children; -1 at a leaf
	Parent      int32 // -1 at the root
	Feature     int32 // split feature
	// Cond is the split condition: a row goes left when its value,
	// rounded to float32, is < Cond; a missing value goes left when
	// DefaultLeft. Cond is a cut value of the feature, so the test agrees
	// with the bins the tree was grown on.
	Cond        float32
	DefaultLeft bool
	Value       float32 // leaf value (eta included); 0 at a split
	Gain        float32 // loss_changes: the split's loss reduction; 0 at a leaf
	Cover       float32 // sum_hessian: the hessian sum of the node's rows
	BaseWeight  float32 // base_weights: the node's weight, as XGBoost records it
	bin         int32   // split: rows with a bin ≤ bin go left
}

// Tree is one tree: Nodes[0] is the root; it adds its leaf values to the
// margin of output group Group.
type Tree struct {
	Nodes []Node
	Group int
}

// applySplit turns leaf e.nid into a split with two new leaves, numbered
// next, as XGBoost's ApplyTreeSplit and RegTree::ExpandNode record it.
func (t *Tree) applySplit(e *entry, tp *treeParams, ev *evaluator) (left, right int32) {
	s := &e.split
	parentSum := s.left.add(s.right)
	lw, rw := ev.weight(s.left), ev.weight(s.right)
	left, right = int32(len(t.Nodes)), int32(len(t.Nodes)+1)
	t.Nodes = append(t.Nodes,
		Node{Left: -1, Right: -1, Parent: e.nid, Value: lw * tp.eta, Cover: float32(s.left.h), BaseWeight: lw * tp.eta},
		Node{Left: -1, Right: -1, Parent: e.nid, Value: rw * tp.eta, Cover: float32(s.right.h), BaseWeight: rw * tp.eta})
	nd := &t.Nodes[e.nid]
	nd.Left, nd.Right = left, right
	nd.Feature = int32(s.feature)
	nd.Cond = s.cond
	nd.DefaultLeft = s.defaultLeft
	nd.bin = s.bin
	nd.Value = 0
	nd.Gain = s.loss
	nd.Cover = float32(parentSum.h)
	nd.BaseWeight = ev.weight(parentSum)
	return left, right
}

// leafOf walks row i of float32 columns (NaN missing) to its leaf.
func (t *Tree) leafOf(cols [][]float32, i int) int32 {
	n := int32(0)
	for {
		nd := &t.Nodes[n]
		if nd.Left < 0 {
			return n
		}
		v := cols[nd.Feature][i]
		switch {
		case v != v:
			if nd.DefaultLeft {
				n = nd.Left
			} else {
				n = nd.Right
			}
		case v < nd.Cond:
			n = nd.Left
		default:
			n = nd.Right
		}
	}
}

// Booster is a trained model: the trees, the objective and the base
// score. It scores rows itself (it is an ml/model.Model, with XGBoost's
// prediction arithmetic) and writes XGBoost's JSON model format
// (WriteJSON), which XGBoost and Flint's ml/xgboost load.
type Booster struct {
	obj           objective
	numFeature    int
	baseScore     float32 // in the space of predictions, as the file stores it
	baseMargin    float32
	features      []string // nil: unnamed
	trees         []Tree
	bestIteration int // -1 without early stopping
}

var _ model.Model = (*Booster)(nil)

// Library reports "xgboost": the model is XGBoost's, in its format.
func (b *Booster) Library() string { return "xgboost" }

// Objective is the objective trained, e.g. "binary:logistic".
func (b *Booster) Objective() string { return b.obj.name }

// Features names the features; a name is "" when none was set.
func (b *Booster) Features() []string {
	if b.features == nil {
		return make([]string, b.numFeature)
	}
	return append([]string(nil), b.features...)
}

// SetFeatureNames names the features, in order; the names are written to
// the exported model. They must be distinct and non-empty.
func (b *Booster) SetFeatureNames(names []string) error {
	if len(names) != b.numFeature {
		return fmt.Errorf("gbdt: %d feature names for %d features", len(names), b.numFeature)
	}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			return fmt.Errorf("gbdt: feature %d has an empty name", i)
		}
		if seen[n] {
			return fmt.Errorf("gbdt: feature name %q appears twice", n)
		}
		seen[n] = true
	}
	b.features = append([]string(nil), names...)
	return nil
}

// NumClasses is 2 for binary:logistic, num_class for multi:softprob, 0
// for regression.
func (b *Booster) NumClasses() int { return b.obj.classes }

// NumOutputs is num_class for multi:softprob, else 1.
func (b *Booster) NumOutputs() int { return b.obj.groups }

// Trees returns the trees in boosting order (not to be modified).
func (b *Booster) Trees() []Tree { return b.trees }

// NumRounds is the number of boosting rounds the booster holds.
func (b *Booster) NumRounds() int { return len(b.trees) / b.obj.groups }

// BestIteration is the best round when early stopping was on, else -1.
func (b *Booster) BestIteration() int { return b.bestIteration }

// predictBlock is how many rows Predict converts to float32 at a time.
const predictBlock = 256

// Predict scores rows given as feature columns (cols[j] is feature j, NaN
// is missing), writing NumOutputs values per row to out: what XGBoost's
// predict returns for the exported model. Values are rounded to float32,
// leaf values summed in float32 per group in tree order from base_score's
// margin, then transformed by the objective. It panics when the shapes do
// not fit, as ml/xgboost's Predict does.
func (b *Booster) Predict(cols [][]float64, out []float64) {
	if len(cols) != b.numFeature {
		panic(fmt.Sprintf("gbdt: Predict with %d columns for %d features", len(cols), b.numFeature))
	}
	k := b.obj.groups
	n := len(out) / k
	if len(cols) > 0 {
		n = len(cols[0])
	}
	if len(out) != n*k {
		panic(fmt.Sprintf("gbdt: Predict output has length %d, want %d rows × %d outputs", len(out), n, k))
	}
	block := make([][]float32, len(cols))
	for j := range block {
		block[j] = make([]float32, predictBlock)
	}
	acc := make([]float32, predictBlock*k)
	for start := 0; start < n; start += predictBlock {
		rows := min(predictBlock, n-start)
		for j, c := range cols {
			if len(c) != n {
				panic(fmt.Sprintf("gbdt: Predict column %d has %d rows, column 0 has %d", j, len(c), n))
			}
			for i, v := range c[start : start+rows] {
				block[j][i] = float32(v)
			}
		}
		for i := range acc {
			acc[i] = b.baseMargin
		}
		for ti := range b.trees {
			t := &b.trees[ti]
			for i := 0; i < rows; i++ {
				acc[i*k+t.Group] += t.Nodes[t.leafOf(block, i)].Value
			}
		}
		for i := 0; i < rows; i++ {
			m := acc[i*k : (i+1)*k]
			b.obj.transform(m)
			for g, v := range m {
				out[(start+i)*k+g] = float64(v)
			}
		}
	}
}

// Importance is the features' importance, as XGBoost's get_score: per
// feature, Weight counts the splits on it, TotalGain and TotalCover sum
// their loss reductions and hessian sums, Gain and Cover are those sums
// per split (0 for a feature never split on).
type Importance struct {
	Weight, Gain, Cover, TotalGain, TotalCover []float64
}

// Importance computes the features' importance over all trees.
func (b *Booster) Importance() Importance {
	nf := b.numFeature
	imp := Importance{
		Weight: make([]float64, nf), Gain: make([]float64, nf), Cover: make([]float64, nf),
		TotalGain: make([]float64, nf), TotalCover: make([]float64, nf),
	}
	for ti := range b.trees {
		for _, nd := range b.trees[ti].Nodes {
			if nd.Left < 0 {
				continue
			}
			f := nd.Feature
			imp.Weight[f]++
			imp.TotalGain[f] += float64(nd.Gain)
			imp.TotalCover[f] += float64(nd.Cover)
		}
	}
	for f := range nf {
		if imp.Weight[f] > 0 {
			imp.Gain[f] = imp.TotalGain[f] / imp.Weight[f]
			imp.Cover[f] = imp.TotalCover[f] / imp.Weight[f]
		}
	}
	return imp
}
