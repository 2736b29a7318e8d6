package main

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	setupOnce sync.Once
	testDuck  *duckEngine
	testCat   *Catalog
	setupErr  error
)

// setup opens DuckDB over the committed tpchn data and loads the catalog.
func setup(t *testing.T) (*duckEngine, *Catalog) {
	t.Helper()
	setupOnce.Do(func() {
		root, err := findRoot()
		if err != nil {
			setupErr = err
			return
		}
		ctx := context.Background()
		if testDuck, setupErr = newDuckEngine(ctx, dataDir(root)); setupErr != nil {
			return
		}
		testCat, setupErr = loadCatalog(ctx, testDuck.db)
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return testDuck, testCat
}

func TestGeneratorDeterministic(t *testing.T) {
	_, cat := setup(t)
	for _, opt := range []GenOptions{{}, {SubqueryOr: true}} {
		for i := 0; i < 50; i++ {
			a := NewGen(cat, querySeed(7, i), opt).Query().SQL()
			b := NewGen(cat, querySeed(7, i), opt).Query().SQL()
			if a != b {
				t.Fatalf("query %d differs between two generators with the same seed:\n%s\n%s", i, a, b)
			}
		}
	}
	if NewGen(cat, 1, GenOptions{}).Query().SQL() == NewGen(cat, 2, GenOptions{}).Query().SQL() {
		t.Error("seeds 1 and 2 give the same query")
	}
}

// The generated SQL must be valid for the oracle: DuckDB rejects few
// queries (only those whose data make both engines fail, e.g. a scalar
// subquery with several rows).
func TestGeneratedQueriesRunInDuckDB(t *testing.T) {
	duck, cat := setup(t)
	ctx := context.Background()
	failed := 0
	features := map[string]int{}
	for i := 0; i < 150; i++ {
		q := NewGen(cat, querySeed(11, i), GenOptions{}).Query()
		sql := q.SQL()
		for _, f := range []string{" JOIN ", " OVER (", "EXISTS (", " IN (SELECT", "GROUP BY", " UNION ", " LIMIT ", "CASE WHEN", " LIKE "} {
			if strings.Contains(sql, f) {
				features[f]++
			}
		}
		qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if _, err := duck.Query(qctx, sql); err != nil {
			failed++
			t.Logf("query %d: %v\n%s", i, err, sql)
		}
		cancel()
	}
	if failed > 5 {
		t.Errorf("DuckDB rejected %d of 150 generated queries", failed)
	}
	for f, n := range features {
		if n == 0 {
			t.Errorf("no generated query has %q", f)
		}
	}
	if len(features) < 9 {
		t.Errorf("features seen: %v", features)
	}
}

func TestSubqueryOrFlag(t *testing.T) {
	_, cat := setup(t)
	has := func(opt GenOptions) bool {
		for i := 0; i < 400; i++ {
			s := NewGen(cat, querySeed(3, i), opt).Query().SQL()
			if strings.Contains(s, " ANY (") || strings.Contains(s, " ALL (") {
				return true
			}
		}
		return false
	}
	if has(GenOptions{}) {
		t.Error("op ANY|ALL generated without -subquery-or")
	}
	if !has(GenOptions{SubqueryOr: true}) {
		t.Error("op ANY|ALL never generated with -subquery-or")
	}
}

var generalLimit = regexp.MustCompile(`AS v FROM [a-z]+ [a-z0-9]+ WHERE [^;]*? ORDER BY 1( DESC)? NULLS (FIRST|LAST) LIMIT 1( OFFSET 1)?\)`)

func TestGeneralSubqueryFlag(t *testing.T) {
	_, cat := setup(t)
	has := func(opt GenOptions) bool {
		for i := 0; i < 400; i++ {
			s := NewGen(cat, querySeed(3, i), opt).Query().SQL()
			for _, m := range generalLimit.FindAllString(s, -1) {
				// One subquery: the match must not span into an
				// enclosing query's FROM.
				if strings.Count(m, " FROM ") == 1 {
					return true
				}
			}
		}
		return false
	}
	if has(GenOptions{}) {
		t.Error("correlated LIMIT subqueries generated without -general-subquery")
	}
	if !has(GenOptions{GeneralSubquery: true}) {
		t.Error("correlated LIMIT subqueries never generated with -general-subquery")
	}
}

func TestCompareResults(t *testing.T) {
	want := &Result{Cols: []Kind{KInt, KDecimal, KFloat}, Rows: [][]string{
		{"1", "1.50", "0.333333333333"},
		{"2", "NULL", "2"},
		{"2", "NULL", "2"},
	}}
	same := &Result{Cols: want.Cols, Rows: [][]string{
		{"2", "NULL", "2.0000000001"},
		{"1", "1.50", "0.333333333334"},
		{"2", "NULL", "2"},
	}}
	if d := compareResults(want, same, Order{}); d != "" {
		t.Errorf("equal multisets (floats within tolerance) reported different: %s", d)
	}
	if d := compareResults(want, same, Order{Total: true}); d == "" {
		t.Error("a different order passed an ordered comparison")
	}
	for name, got := range map[string][][]string{
		"decimal scale": {{"1", "1.5", "0.333333333333"}, {"2", "NULL", "2"}, {"2", "NULL", "2"}},
		"float":         {{"1", "1.50", "0.3334"}, {"2", "NULL", "2"}, {"2", "NULL", "2"}},
		"duplicate":     {{"1", "1.50", "0.333333333333"}, {"1", "1.50", "0.333333333333"}, {"2", "NULL", "2"}},
		"null":          {{"1", "1.50", "0.333333333333"}, {"2", "0.00", "2"}, {"2", "NULL", "2"}},
		"missing row":   {{"1", "1.50", "0.333333333333"}, {"2", "NULL", "2"}},
	} {
		if d := compareResults(want, &Result{Cols: want.Cols, Rows: got}, Order{}); d == "" {
			t.Errorf("%s: wrong answer not caught", name)
		}
	}
	// NaN and infinities (division by zero) in any order: the sort that
	// pairs rows up must order NaN consistently.
	nan := &Result{Cols: []Kind{KFloat}, Rows: [][]string{{"NaN"}, {"0"}, {"Infinity"}, {"NaN"}, {"0.5"}, {"NaN"}, {"-Infinity"}, {"0"}}}
	nan2 := &Result{Cols: nan.Cols, Rows: [][]string{{"0"}, {"NaN"}, {"0.5"}, {"NaN"}, {"-Infinity"}, {"0"}, {"NaN"}, {"Infinity"}}}
	if d := compareResults(nan, nan2, Order{}); d != "" {
		t.Errorf("equal multisets with NaN reported different: %s", d)
	}
	// ORDER BY a prefix: the multiset must match and the ordered column
	// must come in the same sequence.
	w := &Result{Cols: []Kind{KInt, KText}, Rows: [][]string{{"1", "a"}, {"1", "b"}, {"2", "c"}}}
	tie := &Result{Cols: w.Cols, Rows: [][]string{{"1", "b"}, {"1", "a"}, {"2", "c"}}}
	if d := compareResults(w, tie, Order{Prefix: []int{0}}); d != "" {
		t.Errorf("peers in another order reported: %s", d)
	}
	bad := &Result{Cols: w.Cols, Rows: [][]string{{"1", "a"}, {"2", "c"}, {"1", "b"}}}
	if d := compareResults(w, bad, Order{Prefix: []int{0}}); d == "" {
		t.Error("misordered rows not caught")
	}
}

// The reducer shrinks a query while a planted "bug" (any query mentioning
// l_tax in a comparison) still shows.
func TestReducerShrinks(t *testing.T) {
	_, cat := setup(t)
	var q *Query
	for i := 0; i < 500; i++ {
		c := NewGen(cat, querySeed(5, i), GenOptions{}).Query()
		if s := c.SQL(); strings.Contains(s, "l_tax") && strings.Contains(s, " JOIN ") && len(s) > 300 {
			q = c
			break
		}
	}
	if q == nil {
		t.Fatal("no query to reduce")
	}
	bug := func(c *Query) bool { return strings.Contains(c.SQL(), "l_tax") }
	got, checks := reduce(q, bug, 2000)
	if !bug(got) {
		t.Fatalf("the reduced query lost the bug: %s", got.SQL())
	}
	if len(got.SQL()) >= len(q.SQL())/3 {
		t.Errorf("reduced %d -> %d characters in %d checks:\n%s\n%s", len(q.SQL()), len(got.SQL()), checks, q.SQL(), got.SQL())
	}
	// Reduction does not touch the original.
	if !strings.Contains(q.SQL(), " JOIN ") {
		t.Error("reduce modified its input")
	}
}

// End to end: a planted wrong answer is caught and reduced to a record
// whose answer comes from DuckDB.
func TestCheckerCatchesWrongEngine(t *testing.T) {
	duck, _ := setup(t)
	ctx := context.Background()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := newFlintEngine(ctx, flintConfigs[0], dataDir(root))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &checker{duck: duck, flints: []*flintEngine{f}, timeout: 20 * time.Second}
	q := &Query{Limit: -1, Body: &Select{Items: []Item{{E: &Func{Name: "count", Star: true, T: tInt}, Name: "c0"}},
		From: []From{&TableRef{Table: "lineitem", Alias: "l1"}}, Agg: true,
		Where: &Bin{Op: ">", L: &ColRef{Alias: "l1", Name: "l_quantity", T: tDec(2)}, R: &Lit{Text: "10", T: tInt}, T: tBool}}}
	if o := c.check(ctx, q, -1); o.Kind != "ok" {
		t.Fatalf("count over lineitem: %s %s", o.Kind, o.Detail)
	}
	// A wrong "Flint": DuckDB against itself with the predicate flipped.
	wrong := q.Clone()
	wrong.Body.(*Select).Where.(*Bin).Op = ">="
	want, err := duck.Query(ctx, q.SQL())
	if err != nil {
		t.Fatal(err)
	}
	got, err := duck.Query(ctx, wrong.SQL())
	if err != nil {
		t.Fatal(err)
	}
	if o := classify(want, nil, got, nil, orderOf(q)); o.Kind != "mismatch" {
		t.Errorf("a wrong count classified %s", o.Kind)
	}
	rec := sltRecord(q, want)
	if !strings.HasPrefix(rec, "query I rowsort\nSELECT count(*) AS c0 FROM lineitem l1 WHERE (l1.l_quantity > 10)\n----\n") {
		t.Errorf("record:\n%s", rec)
	}
}

// Under ORDER BY a float, rows whose floats differ only in the last bits
// may come in either order; rows out of order are still caught.
func TestCompareOrderedFloats(t *testing.T) {
	keys := []OrderItem{{Pos: 2}, {Pos: 1}}
	o := Order{Total: true, Prefix: []int{1, 0}, Keys: keys}
	want := &Result{Cols: []Kind{KText, KFloat}, Rows: [][]string{{"a", "0.1"}, {"b", "0.1"}, {"c", "0.2"}}}
	peers := &Result{Cols: want.Cols, Rows: [][]string{{"b", "0.1"}, {"a", "0.100000000001"}, {"c", "0.2"}}}
	if d := compareResults(want, peers, o); d != "" {
		t.Errorf("float peers in another order reported: %s", d)
	}
	bad := &Result{Cols: want.Cols, Rows: [][]string{{"c", "0.2"}, {"a", "0.1"}, {"b", "0.1"}}}
	if d := compareResults(want, bad, o); d == "" {
		t.Error("rows out of order not caught")
	}
}

func TestErrSig(t *testing.T) {
	a := errSig(errString("binder error at line 1, column 48: unknown column x12\nSELECT ...\n   ^"))
	b := errSig(errString("binder error at line 3, column 7: unknown column x9"))
	if a != b {
		t.Errorf("signatures differ: %q vs %q", a, b)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
