package xgboost

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// tinyModel is a hand-written model: one tree splitting feature 1 at 0.5
// (missing goes left), leaves -1 and 2, base_score 0.5. The expected
// predictions of the tests built on it were checked by loading the same
// JSON into XGBoost 1.7.4 and predicting there.
const tinyModel = `{"learner":{"attributes":{},"feature_names":["a","b"],"feature_types":[],
"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"1","size_leaf_vector":"0"},
"tree_info":[0],"trees":[{"base_weights":[0E0,0E0,0E0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],
"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[0E0,0E0,0E0],
"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[5E-1,-1E0,2E0],"split_indices":[1,0,0],
"split_type":[0,0,0],"sum_hessian":[1E0,1E0,1E0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}}]},
"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},
"objective":{"name":"reg:squarederror","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[2,0,3]}`

func TestTinyModel(t *testing.T) {
	m, err := Load([]byte(tinyModel))
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	cols := [][]float64{{0, 0, 0, 0, 9}, {0.25, 0.5, 0.75, nan, 0.4999999999}}
	got := make([]float64, 5)
	m.Predict(cols, got)
	// 0.4999999999 rounds to 0.5 in float32, which is not < 0.5.
	want := []float64{-0.5, 2.5, 2.5, -0.5, 2.5}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// TestCategoricalDecision checks XGBoost's rule for a categorical split:
// right when the value, truncated, is in the split's set; left for other
// categories, negative values and values from 2^24 on; the default side
// when missing.
func TestCategoricalDecision(t *testing.T) {
	data := strings.Replace(tinyModel, `"split_type":[0,0,0]`, `"split_type":[1,0,0]`, 1)
	data = strings.Replace(data, `"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[]`,
		`"categories":[3,1],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[2]`, 1)
	m, err := Load([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	b := []float64{1, 3, 2, 1.7, 3.9, 0, -0.5, -1, math.NaN(), 1 << 24, 1<<24 + 1}
	want := []float64{2.5, 2.5, -0.5, 2.5, 2.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5}
	got := make([]float64, len(b))
	m.Predict([][]float64{make([]float64, len(b)), b}, got)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("category %v: got %v, want %v", b[i], got[i], want[i])
		}
	}
}

// TestMinusInfinityThreshold: a default-left split at -Inf sends missing
// values left and every value right, which the two copies of a feature
// cannot express (missing reads as -Inf there), so the tree walks slowly.
func TestMinusInfinityThreshold(t *testing.T) {
	m, err := Load([]byte(strings.Replace(tinyModel, `"split_conditions":[5E-1,`, `"split_conditions":[-Infinity,`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !m.trees[0].slow {
		t.Error("tree does not walk slowly")
	}
	got := make([]float64, 4)
	m.Predict([][]float64{make([]float64, 4), {math.NaN(), -1e30, 0, 1e30}}, got)
	if want := []float64{-0.5, 2.5, 2.5, 2.5}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestBaseScoreForms reads base_score as 2.x writes it ("5E-1"), as 3.1
// writes it ("[5E-1]"), and as a plain number.
func TestBaseScoreForms(t *testing.T) {
	for _, form := range []string{`"5E-1"`, `"[5E-1]"`, `" [ 0.5 ] "`, `0.5`, `"0.5"`} {
		m, err := Load([]byte(strings.Replace(tinyModel, `"base_score":"5E-1"`, `"base_score":`+form, 1)))
		if err != nil {
			t.Errorf("base_score %s: %v", form, err)
			continue
		}
		if m.baseMargin[0] != 0.5 {
			t.Errorf("base_score %s: margin %v", form, m.baseMargin[0])
		}
	}
	for _, form := range []string{`"x"`, `"[]"`, `"[0.5,0.5]"`, `"NaN"`, `true`, `"[1,"`} {
		_, err := Load([]byte(strings.Replace(tinyModel, `"base_score":"5E-1"`, `"base_score":`+form, 1)))
		if err == nil || !strings.Contains(err.Error(), "base_score") {
			t.Errorf("base_score %s: got %v, want an error naming base_score", form, err)
		}
	}
	// Logistic objectives need a probability.
	bad := strings.Replace(tinyModel, `"reg:squarederror"`, `"binary:logistic"`, 1)
	bad = strings.Replace(bad, `"base_score":"5E-1"`, `"base_score":"1E0"`, 1)
	if _, err := Load([]byte(bad)); err == nil || !strings.Contains(err.Error(), "(0, 1)") {
		t.Errorf("binary:logistic with base_score 1: %v", err)
	}
}

// TestBadInput feeds malformed and unsupported models to Load: each must
// fail with an error that says what is wrong, never panic.
func TestBadInput(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(tinyModel, old) {
			t.Fatalf("tinyModel has no %q", old)
		}
		return strings.Replace(tinyModel, old, new, 1)
	}
	cases := []struct {
		name, data, want string
	}{
		{"empty", "", "empty file"},
		{"spaces", "  \n", "empty file"},
		{"garbage", "\x00\x01hello", "not an XGBoost model"},
		{"array", "[1,2]", "not an XGBoost model"},
		{"old binary", "binf\x00\x00\x00\x3f", "old binary"},
		{"empty object", "{}", "learner: missing"},
		{"json null", "null", "not an XGBoost model"},
		{"trailing", tinyModel + "}", "after the top-level value"},
		{"bad literal", `{"learner":tru}`, "invalid literal"},
		{"bad number", `{"learner":-}`, "invalid number"},
		{"bad string", `{"learner":"\q"}`, "invalid escape"},
		{"deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), "not an XGBoost model"},
		{"deep object", `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}", "nesting deeper"},
		{"unknown objective", edit(`"reg:squarederror"`, `"reg:mystery"`), `objective "reg:mystery" is not supported`},
		{"objective not a string", edit(`"name":"reg:squarederror"`, `"name":7`), "learner.objective.name: want a string"},
		{"gblinear", edit(`"name":"gbtree"`, `"name":"gblinear"`), `booster "gblinear" is not supported`},
		{"no trees", edit(`"trees":[`, `"treez":[`), "learner.gradient_booster.model.trees: missing"},
		{"num_trees", edit(`"num_trees":"1"`, `"num_trees":"2"`), "1 trees, but num_trees is 2"},
		{"num_nodes", edit(`"num_nodes":"3"`, `"num_nodes":"4"`), "left_children: want 4 elements, found 3"},
		{"child out of range", edit(`"left_children":[1,-1,-1]`, `"left_children":[3,-1,-1]`), "left_children[0]: 3 is not an integer in [-1, 2]"},
		{"cycle", edit(`"left_children":[1,-1,-1]`, `"left_children":[0,-1,-1]`), "not form a tree"},
		{"same child", edit(`"right_children":[2,-1,-1]`, `"right_children":[1,-1,-1]`), "not form a tree"},
		{"feature out of range", edit(`"split_indices":[1,0,0]`, `"split_indices":[2,0,0]`), "split_indices[0]: 2 is not an integer in [0, 1]"},
		{"fractional index", edit(`"split_indices":[1,0,0]`, `"split_indices":[0.5,0,0]`), "split_indices[0]"},
		{"tree_info group", edit(`"tree_info":[0]`, `"tree_info":[1]`), "tree_info[0]"},
		{"tree id", edit(`"id":0`, `"id":5`), "trees[0].id"},
		{"feature names", edit(`"feature_names":["a","b"]`, `"feature_names":["a"]`), "1 names for 2 features"},
		{"num_feature", edit(`"num_feature":"2","num_target"`, `"num_feature":"two","num_target"`), `num_feature: want an integer, found "two"`},
		{"huge num_feature", edit(`"num_feature":"2","num_target"`, `"num_feature":"99999999999","num_target"`), "num_feature: 99999999999 is out of range"},
		{"huge num_class", edit(`"num_class":"0"`, `"num_class":"2147483647"`), "num_class: 2147483647 is out of range"},
		{"class and target", edit(`"num_class":"0","num_feature":"2","num_target":"1"`, `"num_class":"3","num_feature":"2","num_target":"2"`), "not both"},
		{"vector leaf", edit(`"num_nodes":"3","size_leaf_vector":"0"`, `"num_nodes":"3","size_leaf_vector":"2"`), "vector leaves"},
		{"split type", edit(`"split_type":[0,0,0]`, `"split_type":[0,2,0]`), "unknown split type"},
		{"dart without weights", edit(`"name":"gbtree"},"learner_model_param"`, `"name":"dart"},"learner_model_param"`), "weight_drop: missing"},
		{"dart weights", strings.Replace(edit(`"gradient_booster":{"model":`, `"gradient_booster":{"name":"dart","weight_drop":[1E0,1E0],"gbtree":{"model":`),
			`"name":"gbtree"},"learner_model_param"`, `"name":"gbtree"}},"learner_model_param"`, 1), "learner.gradient_booster.weight_drop: 2 weights for 1 trees"},
	}
	// A categorical split whose list is wrong must be an error too.
	catModel := edit(`"split_type":[0,0,0]`, `"split_type":[1,0,0]`)
	cases = append(cases, struct{ name, data, want string }{"categories segment",
		strings.Replace(catModel, `"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[]`,
			`"categories":[1],"categories_nodes":[0],"categories_segments":[1],"categories_sizes":[1]`, 1), "categories_sizes[0]"})
	cases = append(cases, struct{ name, data, want string }{"negative category",
		strings.Replace(catModel, `"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[]`,
			`"categories":[-1],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[1]`, 1), "categories[0]"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Load([]byte(c.data))
			if err == nil {
				t.Fatalf("Load succeeded: %v", m)
			}
			if !strings.HasPrefix(err.Error(), "xgboost: model: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want one containing %q", err, c.want)
			}
		})
	}
}

func TestLoadFileNames(t *testing.T) {
	_, err := LoadFile("testdata/no-such-model.json")
	if err == nil || !strings.Contains(err.Error(), "no-such-model.json") {
		t.Errorf("missing file: %v", err)
	}
	path := t.TempDir() + "/m.json"
	if err := os.WriteFile(path, []byte(`{"learner":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), path+": learner.learner_model_param: missing") {
		t.Errorf("bad file: %v", err)
	}
}

// TestTruncated cuts real model files short at many points: every prefix
// must fail to load, with an error.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"testdata/categorical.json", "testdata/categorical.ubj", "testdata/dart_reg.ubj"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		step := max(len(data)/300, 1)
		for n := 0; n < len(data); n += step {
			if m, err := Load(data[:n]); err == nil {
				t.Fatalf("%s cut to %d bytes loaded: %v", name, n, m)
			}
		}
		for n := len(data) - 40; n < len(data); n++ {
			if m, err := Load(data[:n]); err == nil {
				t.Fatalf("%s cut to %d bytes loaded: %v", name, n, m)
			}
		}
	}
}

// TestUBJSONMatchesJSON checks that both formats of every fixture decode to
// the same document.
func TestUBJSONMatchesJSON(t *testing.T) {
	for _, c := range readCases(t) {
		j, err := os.ReadFile("testdata/" + c.Name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		u, err := os.ReadFile("testdata/" + c.Name + ".ubj")
		if err != nil {
			t.Fatal(err)
		}
		if j[1] != '"' || u[1] != 'L' {
			t.Fatalf("%s: unexpected leading bytes", c.Name)
		}
		jv, err := decodeJSON(j)
		if err != nil {
			t.Fatal(err)
		}
		uv, err := decodeUBJSON(u)
		if err != nil {
			t.Fatal(err)
		}
		if !sameValue(&jv, &uv) {
			t.Errorf("%s: JSON and UBJSON decode differently", c.Name)
		}
	}
}

func sameValue(a, b *value) bool {
	if a.kind != b.kind || a.b != b.b || a.str != b.str || len(a.obj) != len(b.obj) || a.length() != b.length() {
		return false
	}
	if a.kind == kindNumber {
		return a.num == b.num || (a.num != a.num && b.num != b.num)
	}
	for i := range a.obj {
		if a.obj[i].key != b.obj[i].key || !sameValue(&a.obj[i].val, &b.obj[i].val) {
			return false
		}
	}
	if a.kind == kindArray {
		for i := range a.length() {
			x, y := a.elem(i), b.elem(i)
			if !sameValue(&x, &y) {
				return false
			}
		}
	}
	return true
}

func (v *value) elem(i int) value {
	if v.arr != nil {
		return v.arr[i]
	}
	return value{kind: kindNumber, num: v.nums[i]}
}

// TestUBJSONForms covers UBJSON the fixtures do not use: other integer
// widths for lengths, float64, booleans, no-op markers, a counted
// object-free array and bad markers.
func TestUBJSONForms(t *testing.T) {
	good := []struct {
		data string
		want any
	}{
		{"{i\x01aU\x07}", map[string]any{"a": 7.0}},
		{"{U\x01aI\x01\x00}", map[string]any{"a": 256.0}},
		{"{I\x00\x01al\xff\xff\xff\xfe}", map[string]any{"a": -2.0}},
		{"{i\x01aD\x3f\xf8\x00\x00\x00\x00\x00\x00}", map[string]any{"a": 1.5}},
		{"{i\x01a[TFZ]}", map[string]any{"a": []any{true, false, nil}}},
		{"{Ni\x01aN[#i\x02i\x01SU\x01x}", map[string]any{"a": []any{1.0, "x"}}},
		{"{i\x01a[$i#U\x03\x01\xff\x02}", map[string]any{"a": []any{1.0, -1.0, 2.0}}},
		{"{i\x01aC\x41}", map[string]any{"a": 65.0}},
	}
	for _, g := range good {
		v, err := decodeUBJSON([]byte(g.data))
		if err != nil {
			t.Errorf("%q: %v", g.data, err)
			continue
		}
		if got := toAny(&v); !jsonEqual(got, g.want) {
			t.Errorf("%q: got %v, want %v", g.data, got, g.want)
		}
	}
	bad := []struct{ data, want string }{
		{"{i\x01aH\x01\x01", "high-precision"},
		{"{i\x01a[$S#i\x01", "typed arrays of 'S'"},
		{"{i\x01a[$d#L\x7f\xff\xff\xff\xff\xff\xff\xff", "does not fit"},
		{"{i\x01a[$d#i\x02\x00", "unexpected end"},
		{"{i\x01a[$di\x02", "without a count"},
		{"{i\x01a[#i\x05i\x01", "unexpected end"},
		{"{i\x01aS\x01a", "expected an integer length"},
		{"{i\x03a", "unexpected end"},
		{"{i\xffa", "does not fit"},
		{"{#i\x01", "optimized objects"},
		{"{i\x01aq", "unknown type marker"},
		{"{i\x01ai\x01}x", "after the top-level value"},
	}
	for _, b := range bad {
		_, err := decodeUBJSON([]byte(b.data))
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "UBJSON at byte") {
			t.Errorf("%q: got %v, want an error containing %q", b.data, err, b.want)
		}
	}
}

// TestJSONForms covers JSON the fixtures do not use.
func TestJSONForms(t *testing.T) {
	v, err := decodeJSON([]byte(` {"a" : [ NaN , Infinity,-Infinity, +1, 1e-50, 1e50, 1.5E0, -0 ],
		"s": "\u00e9\ud83d\ude00\n\"\\\/", "b": [true, null, {"c": false}]} `))
	if err != nil {
		t.Fatal(err)
	}
	a := v.get("a").nums
	if !math.IsNaN(a[0]) || !math.IsInf(a[1], 1) || !math.IsInf(a[2], -1) || a[3] != 1 || a[4] != 0 || !math.IsInf(a[5], 1) || a[6] != 1.5 {
		t.Errorf("numbers: %v", a)
	}
	if s := v.get("s").str; s != "é😀\n\"\\/" {
		t.Errorf("string: %q", s)
	}
	if b := v.get("b"); b.length() != 3 || b.arr[0].kind != kindBool || b.arr[2].get("c") == nil {
		t.Errorf("mixed array: %+v", b)
	}
	// A float literal is rounded once, to float32.
	v, err = decodeJSON([]byte(`[0.1, 16777217, 16777217.0]`))
	if err != nil {
		t.Fatal(err)
	}
	if v.nums[0] != float64(float32(0.1)) || v.nums[1] != 16777217 || v.nums[2] != 16777216 {
		t.Errorf("rounding: %v", v.nums)
	}
	for _, bad := range []string{`[1,]`, `{"a" 1}`, `{"a":1,}`, `[1 2]`, `"abc`, "\"a\x01\"", `[1e]`, `[99999999999999999999]`, `{1:2}`, `[.5]`, `["\u12"]`} {
		if _, err := decodeJSON([]byte(bad)); err == nil || !strings.Contains(err.Error(), "JSON at byte") {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func toAny(v *value) any {
	switch v.kind {
	case kindNull:
		return nil
	case kindBool:
		return v.b
	case kindNumber:
		return v.num
	case kindString:
		return v.str
	case kindArray:
		out := []any{}
		for i := range v.length() {
			e := v.elem(i)
			out = append(out, toAny(&e))
		}
		return out
	}
	out := map[string]any{}
	for _, m := range v.obj {
		out[m.key] = toAny(&m.val)
	}
	return out
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
