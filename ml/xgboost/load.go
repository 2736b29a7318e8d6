package xgboost

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flint-engine/flint/ml/internal/xgbmath"
)

// The schema read here is XGBoost's model JSON (doc/model.schema in the
// XGBoost sources), as written by versions 1.0 to 3.x:
//
//	{"version": [1,7,4], "learner": {
//	  "feature_names": [...], "feature_types": [...],
//	  "learner_model_param": {"base_score": "5E-1", "num_class": "0",
//	                          "num_feature": "8", "num_target": "1"},
//	  "objective": {"name": "binary:logistic", ...},
//	  "gradient_booster": {"name": "gbtree", "model": {
//	      "gbtree_model_param": {"num_trees": "60", ...},
//	      "tree_info": [0, ...], "trees": [{...}, ...]}}}}
//
// A dart booster wraps the same gbtree object: {"name": "dart",
// "gbtree": {...}, "weight_drop": [...]}. Each tree holds parallel per-node
// arrays (left_children, right_children, split_indices, split_conditions,
// default_left, split_type) and its categorical splits as lists
// (categories_nodes, categories_segments, categories_sizes, categories).

// maxCategory is XGBoost's OutOfRangeCat: categories are below 2^24.
const maxCategory = 1 << 24

// Limits on what a model may declare, so that a small file cannot make
// Load or Predict allocate without bound: a batch passes one column per
// feature and holds a margin per output group for each row.
const (
	maxFeatures = 1 << 20
	maxGroups   = 1 << 14
)

func load(name string, data []byte) (*Model, error) {
	root, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("xgboost: %s: %w", name, err)
	}
	m := &Model{name: name}
	if err := m.build(&root); err != nil {
		return nil, fmt.Errorf("xgboost: %s: %w", name, err)
	}
	return m, nil
}

// decode parses JSON or UBJSON, whichever the bytes are. Both start with
// '{'; in UBJSON the next byte is the length marker of the first key (or
// '}' of an empty object), in JSON it is '"', '}' or white space.
func decode(data []byte) (value, error) {
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return value{}, errors.New("empty file")
	case bytes.HasPrefix(data, []byte("binf")):
		return value{}, errors.New("XGBoost's old binary model format is not supported; save the model with save_model(\"m.json\") or (\"m.ubj\")")
	case trimmed[0] != '{':
		return value{}, errors.New("not an XGBoost model: want JSON or UBJSON starting with '{'")
	}
	if len(body) > 1 && body[0] == '{' && strings.IndexByte("iUIlLN", body[1]) >= 0 {
		return decodeUBJSON(body)
	}
	return decodeJSON(body)
}

// path names a place in the document for error messages.
type path string

func (p path) key(k string) path { return path(string(p) + "." + k) }
func (p path) at(i int) path     { return path(fmt.Sprintf("%s[%d]", p, i)) }

func (p path) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", strings.TrimPrefix(string(p), "."), fmt.Sprintf(format, args...))
}

// member returns the member key of object v, failing when it is missing.
func member(v *value, p path, key string) (*value, path, error) {
	if v.kind != kindObject {
		return nil, p, p.errorf("want an object, found %s", v.kind)
	}
	m := v.get(key)
	if m == nil {
		return nil, p.key(key), p.key(key).errorf("missing")
	}
	return m, p.key(key), nil
}

func object(v *value, p path, key string) (*value, path, error) {
	m, mp, err := member(v, p, key)
	if err == nil && m.kind != kindObject {
		err = mp.errorf("want an object, found %s", m.kind)
	}
	return m, mp, err
}

func stringOf(v *value, p path) (string, error) {
	if v.kind != kindString {
		return "", p.errorf("want a string, found %s", v.kind)
	}
	return v.str, nil
}

// intOf reads an integer in [lo, hi]: XGBoost stores parameters as strings
// ("num_class": "3") and structure as numbers; both are accepted.
func intOf(v *value, p path, lo, hi int64) (int64, error) {
	var f float64
	switch v.kind {
	case kindNumber:
		f = v.num
	case kindString:
		i, err := strconv.ParseInt(strings.TrimSpace(v.str), 10, 64)
		if err != nil {
			return 0, p.errorf("want an integer, found %q", v.str)
		}
		if i < lo || i > hi {
			return 0, p.errorf("%d is out of range [%d, %d]", i, lo, hi)
		}
		return i, nil
	default:
		return 0, p.errorf("want an integer, found %s", v.kind)
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, p.errorf("%v is not an integer in [%d, %d]", f, lo, hi)
	}
	return int64(f), nil
}

func intMember(v *value, p path, key string, lo, hi int64) (int64, error) {
	m, mp, err := member(v, p, key)
	if err != nil {
		return 0, err
	}
	return intOf(m, mp, lo, hi)
}

// numbers returns the elements of an array of numbers (booleans count as
// 0 and 1, as XGBoost's reader takes them); want < 0 accepts any length.
func numbers(v *value, p path, want int) ([]float64, error) {
	if v.kind != kindArray {
		return nil, p.errorf("want an array, found %s", v.kind)
	}
	nums := v.nums
	if v.arr != nil {
		nums = make([]float64, len(v.arr))
		for i := range v.arr {
			switch e := &v.arr[i]; e.kind {
			case kindNumber:
				nums[i] = e.num
			case kindBool:
				if e.b {
					nums[i] = 1
				}
			default:
				return nil, p.at(i).errorf("want a number, found %s", e.kind)
			}
		}
	}
	if want >= 0 && len(nums) != want {
		return nil, p.errorf("want %d elements, found %d", want, len(nums))
	}
	return nums, nil
}

func numbersMember(v *value, p path, key string, want int) ([]float64, path, error) {
	m, mp, err := member(v, p, key)
	if err != nil {
		return nil, mp, err
	}
	nums, err := numbers(m, mp, want)
	return nums, mp, err
}

// intAt checks that nums[i] is an integer in [lo, hi].
func intAt(nums []float64, p path, i int, lo, hi int64) (int64, error) {
	f := nums[i]
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, p.at(i).errorf("%v is not an integer in [%d, %d]", f, lo, hi)
	}
	return int64(f), nil
}

func (m *Model) build(root *value) error {
	var p path
	if root.kind != kindObject {
		return errors.New("want a JSON object at the top level")
	}
	if v := root.get("version"); v != nil {
		if nums, err := numbers(v, "version", 3); err == nil {
			m.version = fmt.Sprintf("%v.%v.%v", nums[0], nums[1], nums[2])
		}
	}
	learner, lp, err := object(root, p, "learner")
	if err != nil {
		return err
	}

	// Model parameters.
	mp, mpp, err := object(learner, lp, "learner_model_param")
	if err != nil {
		return err
	}
	numFeature, err := intMember(mp, mpp, "num_feature", 0, maxFeatures)
	if err != nil {
		return err
	}
	m.numFeature = int(numFeature)
	numClass, err := intMember(mp, mpp, "num_class", 0, maxGroups)
	if err != nil {
		return err
	}
	numTarget := int64(1)
	if mp.get("num_target") != nil { // since 1.6
		if numTarget, err = intMember(mp, mpp, "num_target", 1, maxGroups); err != nil {
			return err
		}
	}
	if numClass > 1 && numTarget > 1 {
		return mpp.errorf("num_class %d and num_target %d: a model has several classes or several targets, not both", numClass, numTarget)
	}
	m.numGroups = int(max(numClass, numTarget, 1))

	// Objective.
	objv, op, err := object(learner, lp, "objective")
	if err != nil {
		return err
	}
	nv, np, err := member(objv, op, "name")
	if err != nil {
		return err
	}
	if m.objective, err = stringOf(nv, np); err != nil {
		return err
	}
	obj, ok := objectives[m.objective]
	if !ok {
		return np.errorf("objective %q is not supported", m.objective)
	}
	m.obj = obj
	switch {
	case obj.multi:
		if numClass < 1 {
			return mpp.errorf("objective %s needs num_class, found %d", m.objective, numClass)
		}
		m.numClasses = int(numClass)
		m.numOutputs = int(numClass)
		if obj.transform == transformSoftmax {
			m.numOutputs = 1
		}
	case obj.binary:
		if m.numGroups != 1 {
			return mpp.errorf("objective %s with %d output groups", m.objective, m.numGroups)
		}
		m.numClasses = 2
		m.numOutputs = 1
	default:
		m.numOutputs = m.numGroups
	}

	if err := m.readBaseScore(mp, mpp); err != nil {
		return err
	}

	// Feature names; absent or empty when the model was trained without.
	if fv := learner.get("feature_names"); fv != nil && fv.length() > 0 {
		fp := lp.key("feature_names")
		if fv.kind != kindArray || fv.arr == nil {
			return fp.errorf("want an array of strings")
		}
		if len(fv.arr) != m.numFeature {
			return fp.errorf("%d names for %d features", len(fv.arr), m.numFeature)
		}
		m.features = make([]string, m.numFeature)
		for i := range fv.arr {
			if m.features[i], err = stringOf(&fv.arr[i], fp.at(i)); err != nil {
				return err
			}
		}
	}

	// Booster.
	gb, gp, err := object(learner, lp, "gradient_booster")
	if err != nil {
		return err
	}
	bv, bp, err := member(gb, gp, "name")
	if err != nil {
		return err
	}
	if m.booster, err = stringOf(bv, bp); err != nil {
		return err
	}
	var weights []float64 // dart's weight_drop, one per tree
	weightsPath := gp.key("weight_drop")
	switch m.booster {
	case "gbtree":
	case "dart":
		if weights, _, err = numbersMember(gb, gp, "weight_drop", -1); err != nil {
			return err
		}
		if gb, gp, err = object(gb, gp, "gbtree"); err != nil {
			return err
		}
	default:
		return bp.errorf("booster %q is not supported (want gbtree or dart)", m.booster)
	}
	gm, gmp, err := object(gb, gp, "model")
	if err != nil {
		return err
	}
	return m.readTrees(gm, gmp, weights, weightsPath)
}

// readBaseScore turns base_score, stored in the space of predictions
// ("5E-1", or "[5E-1]" and one value per output since 3.1), into each
// output group's starting margin, as XGBoost's ProbToMargin does: in
// float32, logit for the logistic objectives, log for the exponential ones.
func (m *Model) readBaseScore(mp *value, p path) error {
	scores := []float32{0.5} // XGBoost's default
	if bv := mp.get("base_score"); bv != nil {
		bp := p.key("base_score")
		var err error
		if scores, err = parseBaseScore(bv, bp); err != nil {
			return err
		}
		if len(scores) != 1 && len(scores) != m.numGroups {
			return bp.errorf("%d values for %d output groups", len(scores), m.numGroups)
		}
	}
	m.baseMargin = make([]float32, m.numGroups)
	for g := range m.baseMargin {
		b := scores[0]
		if len(scores) > 1 {
			b = scores[g]
		}
		if math.IsNaN(float64(b)) || math.IsInf(float64(b), 0) {
			return p.key("base_score").errorf("%v is not a finite number", b)
		}
		switch m.obj.link {
		case linkLogit:
			if !(b > 0 && b < 1) {
				return p.key("base_score").errorf("%v must be in (0, 1) for %s", b, m.objective)
			}
			m.baseMargin[g] = -xgbmath.Logf(1/b - 1)
		case linkLog:
			m.baseMargin[g] = xgbmath.Logf(b)
		default:
			m.baseMargin[g] = b
		}
	}
	return nil
}

func parseBaseScore(v *value, p path) ([]float32, error) {
	switch v.kind {
	case kindNumber:
		return []float32{float32(v.num)}, nil
	case kindString:
	default:
		return nil, p.errorf("want a number or a string, found %s", v.kind)
	}
	s := strings.TrimSpace(v.str)
	if strings.HasPrefix(s, "[") {
		arr, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, p.errorf("%q: %v", v.str, err)
		}
		nums, err := numbers(&arr, p, -1)
		if err != nil {
			return nil, err
		}
		if len(nums) == 0 {
			return nil, p.errorf("empty")
		}
		out := make([]float32, len(nums))
		for i, n := range nums {
			out[i] = float32(n)
		}
		return out, nil
	}
	f, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return nil, p.errorf("want a number, found %q", v.str)
	}
	return []float32{float32(f)}, nil
}

// readTrees reads the gbtree model object: its trees, their output groups
// and, for dart, their weights.
func (m *Model) readTrees(gm *value, p path, weights []float64, weightsPath path) error {
	param, pp, err := object(gm, p, "gbtree_model_param")
	if err != nil {
		return err
	}
	numTrees, err := intMember(param, pp, "num_trees", 0, math.MaxInt32)
	if err != nil {
		return err
	}
	tv, tp, err := member(gm, p, "trees")
	if err != nil {
		return err
	}
	if tv.kind != kindArray || (tv.arr == nil && len(tv.nums) > 0) {
		return tp.errorf("want an array of tree objects")
	}
	if int64(len(tv.arr)) != numTrees {
		return tp.errorf("%d trees, but num_trees is %d", len(tv.arr), numTrees)
	}
	n := len(tv.arr)
	info, ip, err := numbersMember(gm, p, "tree_info", n)
	if err != nil {
		return err
	}
	if weights != nil && len(weights) != n {
		return weightsPath.errorf("%d weights for %d trees", len(weights), n)
	}

	// Trees are stored with their position in "id".
	byID := make([]*value, n)
	for i := range tv.arr {
		t := &tv.arr[i]
		if t.kind != kindObject {
			return tp.at(i).errorf("want an object, found %s", t.kind)
		}
		id := int64(i)
		if t.get("id") != nil {
			if id, err = intMember(t, tp.at(i), "id", 0, int64(n-1)); err != nil {
				return err
			}
		}
		if byID[id] != nil {
			return tp.at(i).key("id").errorf("tree id %d appears twice", id)
		}
		byID[id] = t
	}

	m.trees = make([]tree, n)
	for id, t := range byID {
		group, err := intAt(info, ip, id, 0, int64(m.numGroups-1))
		if err != nil {
			return err
		}
		w := float32(1)
		if weights != nil {
			w = float32(weights[id])
		}
		tr, err := m.readTree(t, tp.at(id))
		if err != nil {
			return err
		}
		tr.group = int32(group)
		tr.weight = w
		m.trees[id] = tr
	}
	m.remapFeatures()
	if m.catOf != nil {
		// Until now catOf listed the categorical nodes; make it the
		// per-node index into catSets.
		at := m.catOf
		m.catOf = make([]int32, len(m.nodes))
		for i := range m.catOf {
			m.catOf[i] = -1
		}
		for k, i := range at {
			m.catOf[i] = int32(k)
		}
	}
	m.vectorTables()
	return nil
}

// readTree appends one tree's nodes to m.nodes, breadth first from the
// root so that siblings are adjacent (right, then left). Every node is
// reached at most once, so the result is a tree whatever the file says.
// Split nodes keep their raw feature index until remapFeatures.
func (m *Model) readTree(t *value, p path) (tree, error) {
	tp, tpp, err := object(t, p, "tree_param")
	if err != nil {
		return tree{}, err
	}
	nn, err := intMember(tp, tpp, "num_nodes", 1, math.MaxInt32)
	if err != nil {
		return tree{}, err
	}
	if sv := tp.get("size_leaf_vector"); sv != nil {
		size, err := intOf(sv, tpp.key("size_leaf_vector"), 0, math.MaxInt32)
		if err != nil {
			return tree{}, err
		}
		if size > 1 {
			return tree{}, tpp.key("size_leaf_vector").errorf("trees with vector leaves (multi_strategy=multi_output_tree) are not supported")
		}
	}
	n := int(nn)
	lefts, lp, err := numbersMember(t, p, "left_children", n)
	if err != nil {
		return tree{}, err
	}
	rights, rp, err := numbersMember(t, p, "right_children", n)
	if err != nil {
		return tree{}, err
	}
	indices, fp, err := numbersMember(t, p, "split_indices", n)
	if err != nil {
		return tree{}, err
	}
	conds, _, err := numbersMember(t, p, "split_conditions", n)
	if err != nil {
		return tree{}, err
	}
	dleft, _, err := numbersMember(t, p, "default_left", n)
	if err != nil {
		return tree{}, err
	}
	var splitType []float64
	if t.get("split_type") != nil { // since 1.5
		if splitType, _, err = numbersMember(t, p, "split_type", n); err != nil {
			return tree{}, err
		}
	}
	cats, err := readCategories(t, p, n, splitType)
	if err != nil {
		return tree{}, err
	}

	base := len(m.nodes)
	if base+n > math.MaxInt32 {
		return tree{}, p.errorf("too many nodes")
	}
	order := make([]int32, 1, n) // old node ids in new order
	newOf := make([]int32, n)    // new index of an old node id, -1 before
	depth := make([]int32, 1, n) // depth per new index
	for i := range newOf {
		newOf[i] = -1
	}
	newOf[0] = 0
	tr := tree{root: int32(base)}
	for k := 0; k < len(order); k++ {
		old := int(order[k])
		l, err := intAt(lefts, lp, old, -1, int64(n-1))
		if err != nil {
			return tree{}, err
		}
		if l == -1 {
			continue
		}
		r, err := intAt(rights, rp, old, 0, int64(n-1))
		if err != nil {
			return tree{}, err
		}
		if newOf[r] >= 0 || newOf[l] >= 0 || l == r {
			return tree{}, p.errorf("node %d: a child is reached twice; the nodes do not form a tree", old)
		}
		newOf[r] = int32(len(order))
		order = append(order, int32(r))
		newOf[l] = int32(len(order))
		order = append(order, int32(l))
		d := depth[k] + 1
		depth = append(depth, d, d)
		tr.depth = max(tr.depth, d)
	}

	leaves, leafDepths := 0, 0
	for k, o := range order {
		old := int(o)
		self := int32(base + k)
		if lefts[old] == -1 {
			leaves++
			leafDepths += int(depth[k])
			m.nodes = append(m.nodes, node{thresh: float32(math.NaN()), next: self, leaf: float32(conds[old])})
			continue
		}
		f, err := intAt(indices, fp, old, 0, int64(m.numFeature-1))
		if err != nil {
			return tree{}, err
		}
		nd := node{thresh: float32(conds[old]), next: int32(base) + newOf[int(rights[old])], feat: uint32(f)}
		if dleft[old] != 0 {
			nd.feat |= defaultLeft
			if !(nd.thresh > float32(math.Inf(-1))) {
				tr.slow = true
			}
		}
		if set, ok := cats[old]; ok {
			m.catOf = append(m.catOf, int32(len(m.nodes)))
			m.catSets = append(m.catSets, set)
			tr.slow = true
		}
		m.nodes = append(m.nodes, nd)
	}
	tr.rowWise = int(tr.depth)*leaves > 2*leafDepths+2*leaves
	return tr, nil
}

// readCategories returns, per categorical split node (split_type 1), the
// sorted set of categories that send a row right. XGBoost stores them as
// lists: node categories_nodes[k] owns categories[segments[k] :
// segments[k]+sizes[k]].
func readCategories(t *value, p path, n int, splitType []float64) (map[int][]int32, error) {
	var isCat []bool
	for i, s := range splitType {
		if s == 1 {
			if isCat == nil {
				isCat = make([]bool, n)
			}
			isCat[i] = true
		} else if s != 0 {
			return nil, p.key("split_type").at(i).errorf("unknown split type %v", s)
		}
	}
	if isCat == nil {
		return nil, nil
	}
	nodes, np, err := numbersMember(t, p, "categories_nodes", -1)
	if err != nil {
		return nil, err
	}
	segs, sp, err := numbersMember(t, p, "categories_segments", len(nodes))
	if err != nil {
		return nil, err
	}
	sizes, zp, err := numbersMember(t, p, "categories_sizes", len(nodes))
	if err != nil {
		return nil, err
	}
	cats, cp, err := numbersMember(t, p, "categories", -1)
	if err != nil {
		return nil, err
	}
	sets := make(map[int][]int32, len(nodes))
	for k := range nodes {
		id, err := intAt(nodes, np, k, 0, int64(n-1))
		if err != nil {
			return nil, err
		}
		seg, err := intAt(segs, sp, k, 0, int64(len(cats)))
		if err != nil {
			return nil, err
		}
		size, err := intAt(sizes, zp, k, 1, int64(len(cats))-seg)
		if err != nil {
			return nil, err
		}
		set := make([]int32, size)
		for j := range set {
			c, err := intAt(cats, cp, int(seg)+j, 0, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			set[j] = int32(c)
		}
		slices.Sort(set)
		// A node XGBoost does not mark categorical keeps its numerical
		// split, as in XGBoost's predictor.
		if isCat[id] {
			sets[int(id)] = slices.Compact(set)
		}
	}
	// A categorical node without a list sends every valid category left,
	// as XGBoost's empty bit field does.
	for i, c := range isCat {
		if _, ok := sets[i]; c && !ok {
			sets[i] = []int32{}
		}
	}
	return sets, nil
}

// remapFeatures lists the features the trees read (m.used, sorted) and
// sets each split's feat to 2j+d for feature used[j], d = 1 when missing
// values go left (see node).
func (m *Model) remapFeatures() {
	for i := range m.nodes {
		if m.nodes[i].next != int32(i) {
			m.used = append(m.used, int32(m.nodes[i].feat&^defaultLeft))
		}
	}
	slices.Sort(m.used)
	m.used = slices.Compact(m.used)
	for i := range m.nodes {
		nd := &m.nodes[i]
		if nd.next != int32(i) {
			j, _ := slices.BinarySearch(m.used, int32(nd.feat&^defaultLeft))
			nd.feat = uint32(2*j) | nd.feat>>31
		}
	}
	for _, t := range m.trees {
		m.slow = m.slow || t.slow
	}
}
