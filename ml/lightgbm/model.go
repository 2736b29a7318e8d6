package lightgbm

import (
	"fmt"
	"os"

	"github.com/flint-engine/flint/ml/model"
)

// Model is a loaded LightGBM model. It is immutable and safe for concurrent
// use.
type Model struct {
	version    string // "v2", "v3" or "v4"
	obj        objective
	features   []string
	numOutputs int  // num_tree_per_iteration: one output per class
	numIter    int  // len(trees) / numOutputs
	average    bool // average_output: random forest mode

	trees    []tree
	nodes    []node     // every tree's internal nodes
	cats     []uint32   // bitsets of the categorical splits
	catSpans [][2]int32 // a categorical split's bitset: cats[span[0] : span[0]+span[1]]
	leafV    []float64  // every tree's leaf values

	// Linear leaves (trees with is_linear=1), indexed like leafV:
	// leaf l's model is linConst[l] + sum over linStart[l] <= i <
	// linStart[l+1] of linCoef[i]*x[linFeat[i]]. Nil when no tree is
	// linear.
	linConst []float64
	linStart []int32
	linFeat  []int32
	linCoef  []float64
}

var _ model.Model = (*Model)(nil)

// tree is one tree of the ensemble, flattened into Model's arrays. Its
// nodes are nodes[root : leafNode+numLeaves]: the internal nodes, then one
// node per leaf. A leaf's node sends every value back to itself, so a walk
// can take more steps than the path is long and stay on the leaf; leaf l
// is nodes[leafNode+l] and its value leafV[leafBase+l].
type tree struct {
	root     int32 // index into nodes of the root (the leaf, for a one-leaf tree)
	leafNode int32 // index into nodes of leaf 0
	leafBase int32 // index into leafV of leaf 0
	output   int32 // the output (class) the tree adds to: tree index % numOutputs
	linear   bool
	fast     bool  // every split is kindNumerical with a finite threshold
	depth    int32 // the length of the longest path from the root to a leaf
}

// Node kinds. A numerical split whose missing type is None or NaN is
// kindNumerical: NaN goes to nanLeft's side (for None, NaN is read as 0 and
// compared; for NaN, it goes to the default side). A split whose missing
// type is Zero sends both 0 and NaN to the default side.
const (
	kindNumerical uint8 = iota
	kindZero
	kindCategorical
)

// node is a split or a leaf; child[0] (left) and child[1] (right) index
// Model.nodes. A leaf is a kindNumerical node with threshold +Inf, nanLeft
// set and both children itself.
type node struct {
	threshold float64
	// fast is, for kindNumerical, where the split finds its value in a
	// row of the scoring block (see fillBlock): feature in the copy of the
	// row whose NaNs read +Inf when NaN goes right, or -Inf when it goes
	// left, so that one comparison, v > threshold, decides the split. For
	// kindCategorical it indexes Model.catSpans.
	fast    int32
	child   [2]int32
	feature int32
	kind    uint8
	nanLeft uint8 // 1 if NaN goes left (kindNumerical), or 0 and NaN (kindZero)
}

// kZeroThreshold is LightGBM's kZeroThreshold, the float literal 1e-35f
// widened to double.
const kZeroThreshold = float64(float32(1e-35))

// Load parses a LightGBM text model.
func Load(data []byte) (*Model, error) {
	return parse(data)
}

// LoadFile reads and parses a LightGBM text model file.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lightgbm: %w", err)
	}
	m, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Library reports "lightgbm".
func (m *Model) Library() string { return "lightgbm" }

// Objective is the objective's canonical LightGBM name ("binary",
// "multiclass", "regression", ...), or "custom" when the model has none, in
// which case Predict returns raw scores.
func (m *Model) Objective() string { return m.obj.name }

// Features returns the model's feature names, one per input column.
func (m *Model) Features() []string { return m.features }

// NumClasses is 2 for a binary classifier, num_class for multiclass and
// multiclassova, and 0 otherwise (regression, ranking, cross_entropy,
// custom).
func (m *Model) NumClasses() int {
	switch {
	case m.obj.name == "binary":
		return 2
	case m.obj.classifier:
		return m.numOutputs
	}
	return 0
}

// NumOutputs is num_tree_per_iteration: the number of classes of a
// multiclass model, 1 otherwise.
func (m *Model) NumOutputs() int { return m.numOutputs }

// Version is the model file's format version: "v2", "v3" or "v4".
func (m *Model) Version() string { return m.version }

// NumTrees is the number of trees in the model.
func (m *Model) NumTrees() int { return len(m.trees) }
