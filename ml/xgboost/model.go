package xgboost

import (
	"fmt"
	"os"

	"github.com/flint-engine/flint/ml/model"
)

// Model is a loaded XGBoost model: its trees flattened into one node array,
// ready to score column batches. It is immutable and safe for concurrent
// use.
type Model struct {
	name      string // file name or "model", for messages
	objective string
	obj       objective
	booster   string // "gbtree" or "dart"
	version   string // the xgboost version that saved the file, if recorded

	features   []string // nil when the file has no feature names
	numFeature int
	numClasses int // NumClasses
	numGroups  int // margins summed per row: classes or targets
	numOutputs int // NumOutputs

	baseMargin []float32 // per group: base_score through the objective's link

	nodes []node
	trees []tree
	// used lists, in order, the features some split reads; node.feat
	// indexes this list, so a batch converts only the columns the trees
	// read.
	used []int32
	// catSets[catOf[i]] is the sorted category set of categorical split
	// node i (the categories that go right); catOf is nil when no tree has
	// a categorical split, and -1 marks a numerical node.
	catOf   []int32
	catSets [][]int32
	slow    bool // some tree is slow: Predict also keeps the raw values
	// vec holds the trees' complete-tree tables (vecTable) back to back;
	// tree.vec is a tree's offset, or -1.
	vec []uint32
}

var _ model.Model = (*Model)(nil)

// node is one node of a flattened tree. Both children of a split are
// adjacent: the right child at next, the left one at next+1, so a walk
// steps to next+goLeft without a branch. A leaf points to itself and has a
// NaN threshold, so walking on from a leaf stays there; that lets a block
// of rows walk a tree in lock step for the tree's depth.
//
// feat is 2j+d for the split's feature used[j], where d is 1 when missing
// values go left. Predict keeps two float32 copies of each feature of a
// block: in copy 2j missing is +Inf, which no threshold exceeds, so it goes
// right; in copy 2j+1 missing is -Inf, below every finite threshold, so it
// goes left. The walk then needs no test for missing at all. (A default-
// left split at a threshold of -Inf or NaN would break this; trees with one
// take the slow walk.)
type node struct {
	thresh float32 // go left when value < thresh; NaN at a leaf
	next   int32   // index of the right child in Model.nodes; left is next+1
	feat   uint32  // 2j + (1 if missing goes left) for feature used[j]
	leaf   float32 // leaf value; 0 for a split
}

// defaultLeft marks a default-left split in node.feat while loading, before
// remapFeatures encodes feat as above.
const defaultLeft = 1 << 31

// tree is one tree of the ensemble.
type tree struct {
	root   int32   // index of the root in Model.nodes
	depth  int32   // longest root-to-leaf path, in edges
	group  int32   // output group (class or target) the tree adds to
	weight float32 // dart's weight_drop; 1 for gbtree
	// rowWise trees are lopsided: their depth is more than twice the
	// mean depth of their leaves, plus 2, so walking every row for the
	// full depth would waste more than walking row by row costs.
	rowWise bool
	// slow trees (with a categorical split, or a default-left split the
	// two copies cannot express) walk one row at a time, testing for
	// missing values.
	slow bool
	// vec is the offset of the tree's vecTable in Model.vec, or -1 (a
	// slow or lopsided tree, or one deeper than vecDepth).
	vec int32
}

// Load reads a model saved by XGBoost's Booster.save_model, in JSON
// ("m.json") or UBJSON ("m.ubj"), telling the two apart by their bytes.
func Load(data []byte) (*Model, error) {
	return load("model", data)
}

// LoadFile reads a model file saved by XGBoost's Booster.save_model.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("xgboost: %w", err)
	}
	return load(path, data)
}

// Library reports "xgboost".
func (m *Model) Library() string { return "xgboost" }

// Objective is the objective the model was trained with, e.g.
// "binary:logistic".
func (m *Model) Objective() string { return m.objective }

// Booster is "gbtree" or "dart".
func (m *Model) Booster() string { return m.booster }

// Features names the model's input features; a name is "" when the file
// carries none.
func (m *Model) Features() []string {
	if m.features == nil {
		return make([]string, m.numFeature)
	}
	return append([]string(nil), m.features...)
}

// NumClasses is 2 for binary objectives, num_class for multi-class ones and
// 0 for the others.
func (m *Model) NumClasses() int { return m.numClasses }

// NumOutputs is num_class for multi:softprob, the number of targets for a
// multi-target regression and 1 otherwise.
func (m *Model) NumOutputs() int { return m.numOutputs }

// NumTrees is the number of trees in the ensemble.
func (m *Model) NumTrees() int { return len(m.trees) }

// Check reports whether a batch of ncols feature columns fits the model;
// Predict requires exactly one column per feature.
func (m *Model) Check(ncols int) error {
	if ncols != m.numFeature {
		return fmt.Errorf("xgboost: %s reads %d features, got %d columns", m.name, m.numFeature, ncols)
	}
	return nil
}

func (m *Model) String() string {
	v := ""
	if m.version != "" {
		v = ", xgboost " + m.version
	}
	return fmt.Sprintf("xgboost %s %s: %d trees, %d features%s", m.booster, m.objective, len(m.trees), m.numFeature, v)
}
