package gbdt

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"strings"
)

// xgboostVersion is the XGBoost version whose model format WriteJSON
// writes.
var xgboostVersion = [3]int{1, 7, 4}

// WriteJSON writes the booster as XGBoost 1.7 writes Booster.save_model
// ("m.json"; doc/model.schema): a learner with its model parameters,
// objective, feature names and a gbtree of the trees. XGBoost's
// xgb.Booster(model_file=...) and Flint's ml/xgboost load it and predict
// what Predict does.
//
// Keys are in XGBoost's (sorted) order, parameters are strings as XGBoost
// writes them, and float32 values are written in their shortest decimal
// form with an exponent, as XGBoost's "5E-1", so that XGBoost's reader
// takes them for floats and reads back the same float32.
func (b *Booster) WriteJSON(w io.Writer) error {
	_, err := w.Write(b.JSON())
	return err
}

// JSON returns what WriteJSON writes.
func (b *Booster) JSON() []byte {
	var j jsonWriter
	groups := b.obj.groups
	j.raw(`{"learner":{"attributes":{`)
	if b.bestIteration >= 0 {
		j.raw(`"best_iteration":`)
		j.str(strconv.Itoa(b.bestIteration))
		j.raw(`,"best_ntree_limit":`)
		j.str(strconv.Itoa(b.bestIteration + 1))
	}
	j.raw(`},"feature_names":[`)
	for i, name := range b.features {
		if i > 0 {
			j.raw(",")
		}
		j.str(name)
	}
	j.raw(`],"feature_types":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":`)
	j.str(strconv.Itoa(len(b.trees)))
	j.raw(`,"size_leaf_vector":"0"},"tree_info":[`)
	for i := range b.trees {
		if i > 0 {
			j.raw(",")
		}
		j.int(b.trees[i].Group)
	}
	j.raw(`],"trees":[`)
	for i := range b.trees {
		if i > 0 {
			j.raw(",")
		}
		b.writeTree(&j, i)
	}
	j.raw(`]},"name":"gbtree"},"learner_model_param":{"base_score":`)
	j.str(formatFloat(b.baseScore))
	j.raw(`,"boost_from_average":"1","num_class":`)
	numClass := 0
	if b.obj.name == Softprob {
		numClass = groups
	}
	j.str(strconv.Itoa(numClass))
	j.raw(`,"num_feature":`)
	j.str(strconv.Itoa(b.numFeature))
	j.raw(`,"num_target":"1"},"objective":{"name":`)
	j.str(b.obj.name)
	if b.obj.name == Softprob {
		j.raw(`,"softmax_multiclass_param":{"num_class":`)
		j.str(strconv.Itoa(groups))
		j.raw(`}}`)
	} else {
		j.raw(`,"reg_loss_param":{"scale_pos_weight":"1"}}`)
	}
	j.raw(`},"version":[`)
	for i, v := range xgboostVersion {
		if i > 0 {
			j.raw(",")
		}
		j.int(v)
	}
	j.raw("]}")
	return j.buf.Bytes()
}

func (b *Booster) writeTree(j *jsonWriter, id int) {
	nodes := b.trees[id].Nodes
	floats := func(key string, f func(nd *Node) float32) {
		j.raw(`"` + key + `":[`)
		for i := range nodes {
			if i > 0 {
				j.raw(",")
			}
			j.raw(formatFloat(f(&nodes[i])))
		}
		j.raw("]")
	}
	ints := func(key string, f func(nd *Node) int) {
		j.raw(`"` + key + `":[`)
		for i := range nodes {
			if i > 0 {
				j.raw(",")
			}
			j.int(f(&nodes[i]))
		}
		j.raw("]")
	}
	leaf := func(nd *Node) bool { return nd.Left < 0 }
	j.raw("{")
	floats("base_weights", func(nd *Node) float32 { return nd.BaseWeight })
	j.raw(`,"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],`)
	ints("default_left", func(nd *Node) int {
		if nd.DefaultLeft && !leaf(nd) {
			return 1
		}
		return 0
	})
	j.raw(`,"id":`)
	j.int(id)
	j.raw(",")
	ints("left_children", func(nd *Node) int { return int(nd.Left) })
	j.raw(",")
	floats("loss_changes", func(nd *Node) float32 { return nd.Gain })
	j.raw(",")
	// XGBoost stores the root's parent as its kInvalidNodeId with the
	// left-child bit masked off: 2147483647.
	ints("parents", func(nd *Node) int {
		if nd.Parent < 0 {
			return 1<<31 - 1
		}
		return int(nd.Parent)
	})
	j.raw(",")
	ints("right_children", func(nd *Node) int { return int(nd.Right) })
	j.raw(",")
	floats("split_conditions", func(nd *Node) float32 {
		if leaf(nd) {
			return nd.Value
		}
		return nd.Cond
	})
	j.raw(",")
	ints("split_indices", func(nd *Node) int {
		if leaf(nd) {
			return 0
		}
		return int(nd.Feature)
	})
	j.raw(",")
	ints("split_type", func(*Node) int { return 0 })
	j.raw(",")
	floats("sum_hessian", func(nd *Node) float32 { return nd.Cover })
	j.raw(`,"tree_param":{"num_deleted":"0","num_feature":`)
	j.str(strconv.Itoa(b.numFeature))
	j.raw(`,"num_nodes":`)
	j.str(strconv.Itoa(len(nodes)))
	j.raw(`,"size_leaf_vector":"0"}}`)
}

// formatFloat writes a float32 as XGBoost does: the shortest decimal that
// reads back as the same float32, with an exponent ("5E-1", "-1.25E2",
// "0E0"), so that every reader takes it for a float.
func formatFloat(f float32) string {
	switch {
	case f != f:
		return "NaN"
	case f > math.MaxFloat32:
		return "Infinity"
	case f < -math.MaxFloat32:
		return "-Infinity"
	}
	s := strconv.FormatFloat(float64(f), 'E', -1, 32)
	// Go writes "5E-01"; drop the exponent's sign "+" and leading zeros.
	mant, exp, _ := strings.Cut(s, "E")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}

type jsonWriter struct{ buf bytes.Buffer }

func (j *jsonWriter) raw(s string) { j.buf.WriteString(s) }
func (j *jsonWriter) int(i int)    { j.buf.WriteString(strconv.Itoa(i)) }

// str writes s as a JSON string.
func (j *jsonWriter) str(s string) {
	j.buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			j.buf.WriteString(`\"`)
		case r == '\\':
			j.buf.WriteString(`\\`)
		case r < 0x20:
			j.buf.WriteString(`\u00`)
			j.buf.WriteByte("0123456789abcdef"[r>>4])
			j.buf.WriteByte("0123456789abcdef"[r&15])
		default:
			j.buf.WriteRune(r)
		}
	}
	j.buf.WriteByte('"')
}
