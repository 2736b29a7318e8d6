package lightgbm

import (
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
)

// ParseError is a malformed model file: Line is 1-based (0 when the error
// is about the file as a whole), Tree is the tree's index or -1 for the
// header, Field the key of the offending "key=value" line, if any.
type ParseError struct {
	Line  int
	Tree  int
	Field string
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("lightgbm model")
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Tree >= 0 {
		fmt.Fprintf(&b, ": Tree=%d", e.Tree)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// field is the value of one "key=value" line.
type field struct {
	value string
	line  int
	set   bool
}

// lineReader walks the model text line by line; it tolerates "\r\n".
type lineReader struct {
	text string
	pos  int // byte offset of the next line
	line int // 1-based number of the line last returned
}

// next returns the next line without its terminator and the byte offset at
// which it starts; ok is false at the end of the text.
func (r *lineReader) next() (line string, start int, ok bool) {
	if r.pos >= len(r.text) {
		return "", r.pos, false
	}
	start = r.pos
	end := strings.IndexByte(r.text[start:], '\n')
	if end < 0 {
		r.pos = len(r.text)
		line = r.text[start:]
	} else {
		r.pos = start + end + 1
		line = r.text[start : start+end]
	}
	r.line++
	return strings.TrimSuffix(line, "\r"), start, true
}

// peek returns the next line without consuming it.
func (r *lineReader) peek() (string, bool) {
	saved := *r
	line, _, ok := r.next()
	*r = saved
	return line, ok
}

// skipBlank consumes blank lines.
func (r *lineReader) skipBlank() {
	for {
		line, ok := r.peek()
		if !ok || line != "" {
			return
		}
		r.next()
	}
}

// parser holds the state of one Load.
type parser struct {
	r  lineReader
	m  *Model
	nf int // number of features
}

func (p *parser) fail(line, tree int, fieldName, format string, args ...any) error {
	return &ParseError{Line: line, Tree: tree, Field: fieldName, Msg: fmt.Sprintf(format, args...)}
}

func parse(data []byte) (*Model, error) {
	p := &parser{r: lineReader{text: string(data)}, m: &Model{}}
	treeSizes, err := p.header()
	if err != nil {
		return nil, err
	}
	if err := p.treesSection(treeSizes); err != nil {
		return nil, err
	}
	return p.m, nil
}

// header reads everything before the first "Tree=" line and returns
// tree_sizes, if the header has it. Keys the loader does not use are
// ignored.
func (p *parser) header() ([]int, error) {
	h := map[string]field{}
	first := true
	for {
		line, ok := p.r.peek()
		if !ok {
			if first {
				return nil, p.fail(0, -1, "", "empty file")
			}
			return nil, p.fail(p.r.line, -1, "", "file ends in the header: no Tree= blocks and no \"end of trees\" line")
		}
		if strings.HasPrefix(line, "Tree=") || line == "end of trees" {
			break
		}
		p.r.next()
		if line == "" {
			continue
		}
		if first {
			if line != "tree" {
				return nil, p.fail(p.r.line, -1, "", "not a LightGBM tree model: first line is %q, want \"tree\"", clip(line))
			}
			first = false
			continue
		}
		key, value, _ := strings.Cut(line, "=")
		if strings.Contains(value, "=") && key != "feature_names" && key != "monotone_constraints" {
			return nil, p.fail(p.r.line, -1, "", "malformed header line %q", clip(line))
		}
		if prev, dup := h[key]; dup {
			return nil, p.fail(p.r.line, -1, key, "repeated (first on line %d)", prev.line)
		}
		h[key] = field{value: value, line: p.r.line, set: true}
	}
	if first {
		return nil, p.fail(p.r.line, -1, "", "not a LightGBM tree model: no \"tree\" line")
	}

	m := p.m
	need := func(key string) (field, error) {
		f, ok := h[key]
		if !ok {
			return f, p.fail(0, -1, key, "missing from the header")
		}
		return f, nil
	}
	headerInt := func(key string, lo int) (int, error) {
		f, err := need(key)
		if err != nil {
			return 0, err
		}
		v, err := strconv.Atoi(strings.TrimSpace(f.value))
		if err != nil || v < lo {
			return 0, p.fail(f.line, -1, key, "%q is not an integer >= %d", clip(f.value), lo)
		}
		return v, nil
	}

	f, err := need("version")
	if err != nil {
		return nil, err
	}
	switch f.value {
	case "v2", "v3", "v4":
		m.version = f.value
	default:
		return nil, p.fail(f.line, -1, "version", "unsupported model version %q (supported: v2, v3, v4)", clip(f.value))
	}

	numClass, err := headerInt("num_class", 1)
	if err != nil {
		return nil, err
	}
	m.numOutputs = numClass
	if _, ok := h["num_tree_per_iteration"]; ok {
		if m.numOutputs, err = headerInt("num_tree_per_iteration", 1); err != nil {
			return nil, err
		}
	}
	if _, err := headerInt("label_index", math.MinInt); err != nil {
		return nil, err
	}
	maxFeature, err := headerInt("max_feature_idx", 0)
	if err != nil {
		return nil, err
	}

	f, err = need("feature_names")
	if err != nil {
		return nil, err
	}
	// Count before splitting, so a huge max_feature_idx allocates nothing.
	if n := countFields(f.value); n != maxFeature+1 {
		return nil, p.fail(f.line, -1, "feature_names", "has %d names, want max_feature_idx+1 = %d", n, int64(maxFeature)+1)
	}
	m.features = splitFields(f.value)
	p.nf = len(m.features)
	f, err = need("feature_infos")
	if err != nil {
		return nil, err
	}
	if n := countFields(f.value); n != p.nf {
		return nil, p.fail(f.line, -1, "feature_infos", "has %d entries, want %d", n, p.nf)
	}

	if f, ok := h["objective"]; ok {
		m.obj, err = parseObjective(f.value)
		if err != nil {
			return nil, p.fail(f.line, -1, "objective", "%v", err)
		}
	} else {
		// Trained with a custom objective: LightGBM returns raw scores.
		m.obj = objective{name: "custom"}
	}
	switch {
	case m.numOutputs != numClass:
		return nil, p.fail(h["num_tree_per_iteration"].line, -1, "num_tree_per_iteration",
			"is %d but num_class is %d", m.numOutputs, numClass)
	case m.obj.transform == transformSoftmax || m.obj.name == "multiclassova":
		if m.obj.numClass != numClass {
			return nil, p.fail(h["objective"].line, -1, "objective", "num_class:%d differs from the header's num_class=%d", m.obj.numClass, numClass)
		}
	case m.obj.name != "custom" && numClass != 1:
		return nil, p.fail(h["num_class"].line, -1, "num_class", "is %d but objective %q has one output", numClass, m.obj.name)
	}
	if f, ok := h["average_output"]; ok {
		if f.value != "" {
			return nil, p.fail(f.line, -1, "average_output", "takes no value, found %q", clip(f.value))
		}
		m.average = true
	}

	var treeSizes []int
	if f, ok := h["tree_sizes"]; ok {
		treeSizes = make([]int, 0, countFields(f.value))
		for tok := range fieldsSeq(f.value) {
			v, err := strconv.Atoi(tok)
			if err != nil || v <= 0 {
				return nil, p.fail(f.line, -1, "tree_sizes", "%q is not a positive integer", clip(tok))
			}
			treeSizes = append(treeSizes, v)
		}
	}
	return treeSizes, nil
}

// treesSection reads the Tree= blocks up to "end of trees".
func (p *parser) treesSection(treeSizes []int) error {
	m := p.m
	firstStart, offset := -1, 0
	for {
		p.r.skipBlank()
		line, start, ok := p.r.next()
		if !ok {
			return p.fail(p.r.line, len(m.trees)-1, "", "file is truncated: it ends without an \"end of trees\" line")
		}
		if firstStart < 0 {
			firstStart = start
		}
		if treeSizes != nil && len(m.trees) <= len(treeSizes) && start-firstStart != offset {
			what, tree := fmt.Sprintf("Tree=%d", len(m.trees)), len(m.trees)
			if line == "end of trees" {
				what, tree = `"end of trees"`, -1
			}
			return p.fail(p.r.line, tree, "", "%s starts at byte %d of the trees section but tree_sizes puts it at byte %d", what, start-firstStart, offset)
		}
		if line == "end of trees" {
			break
		}
		idx := len(m.trees)
		want := "Tree=" + strconv.Itoa(idx)
		if line != want {
			return p.fail(p.r.line, -1, "", "expected %q or \"end of trees\", found %q", want, clip(line))
		}
		if treeSizes != nil {
			if idx >= len(treeSizes) {
				return p.fail(p.r.line, idx, "", "tree_sizes lists only %d trees", len(treeSizes))
			}
			offset += treeSizes[idx]
		}
		if err := p.tree(idx, p.r.line); err != nil {
			return err
		}
	}
	if treeSizes != nil && len(treeSizes) != len(m.trees) {
		return p.fail(p.r.line, -1, "", "tree_sizes lists %d trees but the file has %d", len(treeSizes), len(m.trees))
	}
	if len(m.trees)%m.numOutputs != 0 {
		return p.fail(p.r.line, -1, "", "%d trees is not a whole number of iterations of %d trees", len(m.trees), m.numOutputs)
	}
	m.numIter = len(m.trees) / m.numOutputs
	return nil
}

// Tree field keys the loader reads, as indexes into treeFields.
const (
	fNumLeaves = iota
	fNumCat
	fSplitFeature
	fThreshold
	fDecisionType
	fLeftChild
	fRightChild
	fLeafValue
	fCatBoundaries
	fCatThreshold
	fIsLinear
	fLeafConst
	fNumFeatures
	fLeafFeatures
	fLeafCoeff
	numTreeFields
)

var treeFieldNames = [numTreeFields]string{
	"num_leaves", "num_cat", "split_feature", "threshold", "decision_type",
	"left_child", "right_child", "leaf_value", "cat_boundaries",
	"cat_threshold", "is_linear", "leaf_const", "num_features",
	"leaf_features", "leaf_coeff",
}

// treeParser reads the fields of one tree.
type treeParser struct {
	p      *parser
	idx    int
	line   int // the Tree= line
	fields [numTreeFields]field
}

func (t *treeParser) fail(f int, format string, args ...any) error {
	line, name := t.line, ""
	if f >= 0 {
		name = treeFieldNames[f]
		if t.fields[f].set {
			line = t.fields[f].line
		}
	}
	return t.p.fail(line, t.idx, name, format, args...)
}

func (t *treeParser) need(f int) error {
	if !t.fields[f].set {
		return t.fail(f, "missing")
	}
	return nil
}

// ints parses field f as exactly n integers in [lo, hi]. It counts the
// values before allocating, so a declared count never drives allocation.
func (t *treeParser) ints(f int, n int, lo, hi int64) ([]int64, error) {
	v := t.fields[f].value
	if got := countFields(v); got != n {
		return nil, t.fail(f, "has %d values, want %d", got, n)
	}
	out := make([]int64, 0, n)
	for tok := range fieldsSeq(v) {
		x, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return nil, t.fail(f, "value %d: %q is not an integer", len(out), clip(tok))
		}
		if x < lo || x > hi {
			return nil, t.fail(f, "value %d: %d is out of range [%d, %d]", len(out), x, lo, hi)
		}
		out = append(out, x)
	}
	return out, nil
}

// floats parses field f as exactly n numbers.
func (t *treeParser) floats(f int, n int) ([]float64, error) {
	v := t.fields[f].value
	if got := countFields(v); got != n {
		return nil, t.fail(f, "has %d values, want %d", got, n)
	}
	out := make([]float64, 0, n)
	for tok := range fieldsSeq(v) {
		x, err := strconv.ParseFloat(tok, 64)
		if err != nil && !isRangeErr(err) {
			return nil, t.fail(f, "value %d: %q is not a number", len(out), clip(tok))
		}
		out = append(out, x)
	}
	return out, nil
}

// single parses field f as one integer in [lo, hi].
func (t *treeParser) single(f int, lo, hi int64) (int, error) {
	if err := t.need(f); err != nil {
		return 0, err
	}
	v, err := t.ints(f, 1, lo, hi)
	if err != nil {
		return 0, err
	}
	return int(v[0]), nil
}

// maxCount bounds counts so that int32 indexes never overflow.
const maxCount = math.MaxInt32 / 2

// tree reads one tree's fields, up to the blank line that ends them, and
// appends the tree to the model's arrays.
func (p *parser) tree(idx, line int) error {
	t := &treeParser{p: p, idx: idx, line: line}
	for {
		l, ok := p.r.peek()
		if !ok || l == "" || strings.HasPrefix(l, "Tree=") || l == "end of trees" {
			break
		}
		p.r.next()
		key, value, found := strings.Cut(l, "=")
		if !found {
			return p.fail(p.r.line, idx, "", "expected key=value, found %q", clip(l))
		}
		for f, name := range treeFieldNames {
			if name == key {
				if t.fields[f].set {
					return p.fail(p.r.line, idx, key, "repeated (first on line %d)", t.fields[f].line)
				}
				t.fields[f] = field{value: value, line: p.r.line, set: true}
				break
			}
		}
	}
	return t.build()
}

func (t *treeParser) build() error {
	m, nf := t.p.m, t.p.nf
	numLeaves, err := t.single(fNumLeaves, 1, maxCount)
	if err != nil {
		return err
	}
	numCat, err := t.single(fNumCat, 0, maxCount)
	if err != nil {
		return err
	}
	if err := t.need(fLeafValue); err != nil {
		return err
	}
	leafValue, err := t.floats(fLeafValue, numLeaves)
	if err != nil {
		return err
	}
	linear := false
	if t.fields[fIsLinear].set {
		v, err := t.single(fIsLinear, math.MinInt32, math.MaxInt32)
		if err != nil {
			return err
		}
		linear = v != 0
	}
	if len(m.leafV)+numLeaves > maxCount || len(m.nodes)+2*numLeaves > maxCount {
		return t.fail(-1, "model too large")
	}

	nodeBase := int32(len(m.nodes))
	tr := tree{
		root:     nodeBase,
		leafNode: nodeBase + int32(numLeaves-1),
		leafBase: int32(len(m.leafV)),
		output:   int32(t.idx % m.numOutputs),
		linear:   linear,
	}
	if numLeaves > 1 {
		if err := t.nodes(numLeaves, numCat, nodeBase); err != nil {
			return err
		}
	}
	tr.fast = true
	for i := range m.nodes[nodeBase:] {
		nd := &m.nodes[nodeBase+int32(i)]
		if nd.kind != kindCategorical {
			nd.fast = int32(nf)*int32(1+nd.nanLeft) + nd.feature
		}
		if int32(i) < tr.leafNode-nodeBase {
			tr.fast = tr.fast && nd.kind == kindNumerical && !math.IsInf(nd.threshold, 0) && !math.IsNaN(nd.threshold)
		}
	}
	tr.depth = treeDepth(m.nodes, tr.root, tr.leafNode)
	for l := tr.leafNode; l < tr.leafNode+int32(numLeaves); l++ {
		m.nodes = append(m.nodes, node{threshold: math.Inf(1), child: [2]int32{l, l}, nanLeft: 1})
	}
	m.leafV = append(m.leafV, leafValue...)
	if linear {
		if err := t.linear(numLeaves, nf); err != nil {
			return err
		}
	} else if m.linStart != nil {
		for range numLeaves {
			m.linConst = append(m.linConst, 0)
			m.linStart = append(m.linStart, int32(len(m.linFeat)))
		}
	}
	m.trees = append(m.trees, tr)
	return nil
}

// nodes reads the internal nodes of a tree of numLeaves > 1 leaves and
// checks that they form a tree rooted at node 0. Leaf l becomes node
// nodeBase+numLeaves-1+l.
func (t *treeParser) nodes(numLeaves, numCat int, nodeBase int32) error {
	m, nf := t.p.m, t.p.nf
	n := numLeaves - 1
	for _, f := range []int{fSplitFeature, fThreshold, fLeftChild, fRightChild} {
		if err := t.need(f); err != nil {
			return err
		}
	}
	feature, err := t.ints(fSplitFeature, n, 0, int64(nf-1))
	if err != nil {
		return err
	}
	threshold, err := t.floats(fThreshold, n)
	if err != nil {
		return err
	}
	var decision []int64
	if t.fields[fDecisionType].set {
		if decision, err = t.ints(fDecisionType, n, 0, 127); err != nil {
			return err
		}
	}
	left, err := t.ints(fLeftChild, n, int64(-numLeaves), int64(n-1))
	if err != nil {
		return err
	}
	right, err := t.ints(fRightChild, n, int64(-numLeaves), int64(n-1))
	if err != nil {
		return err
	}

	// Every node but the root and every leaf must have exactly one
	// parent; otherwise a walk could loop or miss leaves. There are
	// 2n child slots for n-1 nodes and n+1 leaves, so "at most one"
	// everywhere means "exactly one".
	seen := make([]bool, n+numLeaves)
	for i := range n {
		for side, c := range [2]int64{left[i], right[i]} {
			fld := fLeftChild + side
			slot, what := int(c), "node"
			if c < 0 {
				slot, what = n+int(^c), "leaf"
			}
			if c == 0 {
				return t.fail(fld, "node %d has the root as a child", i)
			}
			if seen[slot] {
				if c < 0 {
					c = ^c
				}
				return t.fail(fld, "%s %d has two parents (node %d is the second)", what, c, i)
			}
			seen[slot] = true
		}
	}

	var catBounds []int64
	var catBase int32
	if numCat > 0 {
		for _, f := range []int{fCatBoundaries, fCatThreshold} {
			if err := t.need(f); err != nil {
				return err
			}
		}
		words := countFields(t.fields[fCatThreshold].value)
		if catBounds, err = t.ints(fCatBoundaries, numCat+1, 0, int64(words)); err != nil {
			return err
		}
		for i := 1; i < len(catBounds); i++ {
			if catBounds[i] < catBounds[i-1] {
				return t.fail(fCatBoundaries, "decreases at value %d", i)
			}
		}
		if catBounds[numCat] != int64(words) {
			return t.fail(fCatBoundaries, "ends at %d but cat_threshold has %d values", catBounds[numCat], words)
		}
		bits, err := t.ints(fCatThreshold, words, 0, math.MaxUint32)
		if err != nil {
			return err
		}
		if len(m.cats)+len(bits) > maxCount {
			return t.fail(fCatThreshold, "model too large")
		}
		catBase = int32(len(m.cats))
		for _, b := range bits {
			m.cats = append(m.cats, uint32(b))
		}
	}

	child := func(c int64) int32 {
		if c < 0 {
			return nodeBase + int32(n) + int32(^c)
		}
		return nodeBase + int32(c)
	}
	for i := range n {
		nd := node{
			threshold: threshold[i],
			feature:   int32(feature[i]),
			child:     [2]int32{child(left[i]), child(right[i])},
		}
		var dt int64
		if decision != nil {
			dt = decision[i]
		}
		defaultLeft := uint8(dt>>1) & 1
		switch {
		case numCat > 0 && dt&1 != 0:
			// Tree::GetLeaf takes the categorical path only when the
			// tree has categorical splits at all.
			c := threshold[i]
			if !(c >= 0 && c < float64(numCat)) {
				return t.fail(fThreshold, "node %d: categorical split %v is not in [0, num_cat=%d)", i, c, numCat)
			}
			ci := int(c)
			nd.kind = kindCategorical
			nd.fast = int32(len(m.catSpans))
			m.catSpans = append(m.catSpans, [2]int32{catBase + int32(catBounds[ci]), int32(catBounds[ci+1] - catBounds[ci])})
			nd.threshold = 0
		case (dt>>2)&3 == 1: // MissingType::Zero
			nd.kind = kindZero
			nd.nanLeft = defaultLeft
		case (dt>>2)&3 == 2: // MissingType::NaN
			nd.kind = kindNumerical
			nd.nanLeft = defaultLeft
		default: // MissingType::None: NaN is read as 0
			nd.kind = kindNumerical
			if 0 <= threshold[i] {
				nd.nanLeft = 1
			}
		}
		m.nodes = append(m.nodes, nd)
	}
	return nil
}

// linear reads the linear models of a tree with is_linear=1.
func (t *treeParser) linear(numLeaves, nf int) error {
	m := t.p.m
	if m.linStart == nil {
		// First linear tree: earlier leaves get empty models.
		m.linConst = make([]float64, len(m.leafV)-numLeaves, len(m.leafV))
		m.linStart = make([]int32, len(m.leafV)-numLeaves+1, len(m.leafV)+1)
	}
	consts := make([]float64, numLeaves)
	if t.fields[fLeafConst].set {
		var err error
		if consts, err = t.floats(fLeafConst, numLeaves); err != nil {
			return err
		}
	}
	var counts []int64
	total := 0
	if t.fields[fNumFeatures].set {
		var err error
		if counts, err = t.ints(fNumFeatures, numLeaves, 0, int64(nf)); err != nil {
			return err
		}
		for _, c := range counts {
			total += int(c)
		}
	}
	var feats []int64
	var coefs []float64
	if total > 0 {
		for _, f := range []int{fLeafFeatures, fLeafCoeff} {
			if err := t.need(f); err != nil {
				return err
			}
		}
		var err error
		if feats, err = t.ints(fLeafFeatures, total, 0, int64(nf-1)); err != nil {
			return err
		}
		if coefs, err = t.floats(fLeafCoeff, total); err != nil {
			return err
		}
		if len(m.linFeat)+total > maxCount {
			return t.fail(fLeafFeatures, "model too large")
		}
	}
	k := 0
	for l := range numLeaves {
		m.linConst = append(m.linConst, consts[l])
		c := 0
		if counts != nil {
			c = int(counts[l])
		}
		for range c {
			m.linFeat = append(m.linFeat, int32(feats[k]))
			m.linCoef = append(m.linCoef, coefs[k])
			k++
		}
		m.linStart = append(m.linStart, int32(len(m.linFeat)))
	}
	return nil
}

// countFields counts the fields of s, separated by runs of spaces as
// LightGBM's Common::Split(s, ' ') separates them, without allocating.
func countFields(s string) int {
	n := 0
	for tok := range fieldsSeq(s) {
		_ = tok
		n++
	}
	return n
}

// fieldsSeq yields the fields of s separated by runs of spaces.
func fieldsSeq(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for s != "" {
			s = strings.TrimLeft(s, " ")
			if s == "" {
				return
			}
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			if !yield(s[:end]) {
				return
			}
			s = s[end:]
		}
	}
}

// splitFields returns the fields of s separated by runs of spaces.
func splitFields(s string) []string {
	out := make([]string, 0, countFields(s))
	for tok := range fieldsSeq(s) {
		out = append(out, tok)
	}
	return out
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// treeDepth returns the number of edges on the longest path from root down
// to a leaf (a node >= leafNode). The tree's shape has been checked, so the
// walk ends.
func treeDepth(nodes []node, root, leafNode int32) (deepest int32) {
	type item struct{ node, depth int32 }
	stack := []item{{root, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.node >= leafNode {
			deepest = max(deepest, it.depth)
			continue
		}
		for _, c := range nodes[it.node].child {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return deepest
}
