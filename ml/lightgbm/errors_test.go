package lightgbm

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inTree replaces the first line "key=..." of tree idx with "key=value".
func inTree(t *testing.T, text string, idx int, key, value string) string {
	t.Helper()
	start := strings.Index(text, "\nTree="+strconv.Itoa(idx)+"\n")
	if start < 0 {
		t.Fatalf("no Tree=%d", idx)
	}
	off := strings.Index(text[start:], "\n"+key+"=")
	if off < 0 {
		t.Fatalf("Tree=%d has no %s", idx, key)
	}
	lineStart := start + off + 1
	lineEnd := lineStart + strings.IndexByte(text[lineStart:], '\n')
	return text[:lineStart] + key + "=" + value + text[lineEnd:]
}

// TestBadInput feeds damaged models and checks the error names the place.
func TestBadInput(t *testing.T) {
	base := readFixture(t, "handmade_v4.txt")
	header := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("no %q", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	cases := []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"empty", "", []string{"empty file"}},
		{"not a model", "hello\n", []string{"line 1", `want "tree"`}},
		{"json", `{"name":"tree"}`, []string{"line 1"}},
		{"version", header("version=v4", "version=v9"), []string{"line 2", "version", `"v9"`}},
		{"no version", header("version=v4\n", ""), []string{"version", "missing"}},
		{"bad num_class", header("num_class=1", "num_class=x"), []string{"line 3", "num_class"}},
		{"num_class for regression", header("num_class=1\nnum_tree_per_iteration=1", "num_class=2\nnum_tree_per_iteration=2"), []string{"num_class", "one output"}},
		{"tree per iteration", header("num_tree_per_iteration=1", "num_tree_per_iteration=2"), []string{"line 4", "num_tree_per_iteration"}},
		{"unknown objective", header("objective=regression", "objective=telepathy"), []string{"line 7", "objective", `unknown objective "telepathy"`}},
		{"binary without sigmoid", header("objective=regression", "objective=binary"), []string{"objective", "sigmoid"}},
		{"bad sigmoid", header("objective=regression", "objective=binary sigmoid:-1"), []string{"objective", "sigmoid"}},
		{"multiclass mismatch", header("objective=regression", "objective=multiclass num_class:3"), []string{"objective", "num_class:3"}},
		{"feature names", header("feature_names=a b c d", "feature_names=a b c"), []string{"line 8", "feature_names", "3 names", "4"}},
		{"huge max_feature_idx", header("max_feature_idx=3", "max_feature_idx=2000000000000"), []string{"feature_names", "2000000000001"}},
		{"feature infos", header("[-4:5] [-2:7]", "[-4:5]"), []string{"line 9", "feature_infos"}},
		{"tree sizes", header("tree_sizes=312", "tree_sizes=313"), []string{"Tree=1", "tree_sizes"}},
		{"tree sizes count", header(" 291\n", "\n"), []string{"Tree=5", "tree_sizes lists only 5 trees"}},
		{"bad number", inTree(t, base, 0, "threshold", "1.5 x 10"), []string{"line 17", "Tree=0", "field threshold", `"x" is not a number`}},
		{"short array", inTree(t, base, 0, "leaf_value", "1 2 4"), []string{"Tree=0", "field leaf_value", "3 values, want 4"}},
		{"long array", inTree(t, base, 1, "decision_type", "4 10 0 0"), []string{"Tree=1", "field decision_type", "4 values, want 3"}},
		{"child out of range", inTree(t, base, 0, "left_child", "1 -1 -9"), []string{"Tree=0", "field left_child", "out of range"}},
		{"node out of range", inTree(t, base, 0, "right_child", "7 -2 -4"), []string{"Tree=0", "field right_child", "out of range"}},
		{"cycle", inTree(t, base, 0, "right_child", "2 -2 1"), []string{"Tree=0", "two parents"}},
		{"root as child", inTree(t, base, 0, "right_child", "2 0 -4"), []string{"Tree=0", "root"}},
		{"split feature", inTree(t, base, 0, "split_feature", "0 4 3"), []string{"Tree=0", "split_feature", "out of range"}},
		{"decision type", inTree(t, base, 0, "decision_type", "2 6 300"), []string{"Tree=0", "decision_type"}},
		{"num_leaves", inTree(t, base, 2, "num_leaves", "0"), []string{"Tree=2", "num_leaves"}},
		{"huge num_leaves", inTree(t, base, 2, "num_leaves", "2000000000"), []string{"Tree=2", "num_leaves"}},
		{"cat index", inTree(t, base, 2, "threshold", "1"), []string{"Tree=2", "threshold", "categorical"}},
		{"cat boundaries", inTree(t, base, 2, "cat_boundaries", "0 3"), []string{"Tree=2", "cat_boundaries"}},
		{"cat threshold", inTree(t, base, 2, "cat_threshold", "9 -2"), []string{"Tree=2", "cat_threshold"}},
		{"leaf coeff", inTree(t, base, 4, "leaf_coeff", "2 -1"), []string{"Tree=4", "leaf_coeff", "2 values, want 3"}},
		{"leaf features", inTree(t, base, 4, "leaf_features", "1 9 0"), []string{"Tree=4", "leaf_features", "out of range"}},
		{"missing field", strings.Replace(base, "left_child=1 -1 -3\n", "", 1), []string{"Tree=0", "left_child", "missing"}},
		{"repeated field", strings.Replace(base, "left_child=1 -1 -3\n", "left_child=1 -1 -3\nleft_child=1 -1 -3\n", 1), []string{"Tree=0", "left_child", "repeated"}},
		{"not key=value", strings.Replace(base, "left_child=1 -1 -3\n", "left_child 1 -1 -3\n", 1), []string{"Tree=0", "key=value"}},
		{"misnumbered tree", strings.Replace(base, "Tree=1\n", "Tree=7\n", 1), []string{`expected "Tree=1"`, `"Tree=7"`}},
		{"no end of trees", strings.Replace(base, "end of trees", "the end", 1), []string{`"end of trees"`}},
	}
	for _, c := range cases {
		_, err := Load([]byte(c.text))
		if err == nil {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: %T is not a *ParseError", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
}

// TestTruncated loads every prefix of a model: all but those that keep the
// "end of trees" line fail, none panics.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"handmade_v4.txt", "lg_rf_iris.model"} {
		text := readFixture(t, name)
		end := strings.Index(text, "end of trees") + len("end of trees")
		for n := range end {
			if _, err := Load([]byte(text[:n])); err == nil {
				t.Fatalf("%s: prefix of %d bytes loaded", name, n)
			}
		}
		for n := end; n <= len(text); n += 7 {
			if _, err := Load([]byte(text[:n])); err != nil {
				t.Fatalf("%s: prefix of %d bytes: %v", name, n, err)
			}
		}
	}
}

func TestLoadFileNames(t *testing.T) {
	_, err := LoadFile(filepath.Join("testdata", "no such model.txt"))
	if err == nil || !strings.Contains(err.Error(), "no such model.txt") {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(path, []byte("tree\nversion=v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad file: %v", err)
	}
}

// TestAllocationBound loads models whose counts claim far more than the
// input holds; the loader must not allocate in proportion to the claims.
func TestAllocationBound(t *testing.T) {
	base := readFixture(t, "handmade_v4.txt")
	inputs := []string{
		strings.Replace(base, "max_feature_idx=3", "max_feature_idx=1000000000", 1),
		strings.Replace(base, "num_leaves=2\nnum_cat=1", "num_leaves=1000000000\nnum_cat=1", 1),
		strings.Replace(base, "num_leaves=2\nnum_cat=1", "num_leaves=2\nnum_cat=1000000000", 1),
		strings.Replace(base, "cat_boundaries=0 2", "cat_boundaries=0 1000000000", 1),
		strings.Replace(base, "num_features=2 1", "num_features=1000000000 1", 1),
		strings.Replace(base, "tree_sizes=312", "tree_sizes=1000000000000", 1),
		strings.Replace(base, "num_class=1\nnum_tree_per_iteration=1", "num_class=1000000000\nnum_tree_per_iteration=1000000000", 1),
	}
	for i, in := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := Load([]byte(in))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("input %d loaded: %d trees", i, m.NumTrees())
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64*uint64(len(in))+1<<16 {
			t.Errorf("input %d: %d bytes allocated for %d bytes of input (%v)", i, grew, len(in), err)
		}
	}
}
