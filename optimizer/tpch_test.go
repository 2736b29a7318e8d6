package optimizer

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/tpch"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/tpch_plans.txt")

const goldenPath = "testdata/tpch_plans.txt"

func bindTPCH(t *testing.T, n int, ids *plan.IDGen) plan.Node {
	t.Helper()
	sql := tpch.Query(n)
	stmt, err := parser.ParseOne(sql)
	if err != nil {
		t.Fatalf("Q%d: parse: %v", n, err)
	}
	q, ok := stmt.(*ast.Query)
	if !ok {
		t.Fatalf("Q%d: statement is %T, not a query", n, stmt)
	}
	p, err := binder.New(tpchCatalog{t}, ids).BindQuery(sql, q)
	if err != nil {
		t.Fatalf("Q%d: bind: %v", n, err)
	}
	return p
}

// TestTPCHPlans binds and optimizes all 22 TPC-H queries and checks: no
// cross join and no subquery remains, every scan reads only columns used
// above it, and the plans match the golden file.
func TestTPCHPlans(t *testing.T) {
	var golden strings.Builder
	for n := 1; n <= tpch.NumQueries; n++ {
		ids := &plan.IDGen{}
		p := bindTPCH(t, n, ids)
		out, trace := mustOptimize(t, p, ids)
		if js := joinsOfType(out, plan.JoinCross); len(js) > 0 {
			t.Errorf("Q%d: %d cross joins left:\n%s", n, len(js), plan.Format(out))
		}
		if hasSubqueryAnywhere(out) {
			t.Errorf("Q%d: subquery left:\n%s", n, plan.Format(out))
		}
		checkScansPruned(t, n, out)
		if again, err := Optimize(out, ids); err != nil || plan.Format(again) != plan.Format(out) {
			t.Errorf("Q%d: re-optimizing changed the plan (err %v)", n, err)
		}
		fmt.Fprintf(&golden, "-- Q%d rules: %s\n%s\n", n, strings.Join(dedupeNames(trace), ", "), plan.Format(out))
	}
	if *rewrite {
		if err := os.WriteFile(goldenPath, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./optimizer -run TPCH -rewrite)", err)
	}
	if string(want) != golden.String() {
		t.Errorf("optimized TPC-H plans differ from %s; review and rerun with -rewrite. Got:\n%s", goldenPath, golden.String())
	}
}

func dedupeNames(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// checkScansPruned asserts every scanned column is referenced by some
// expression in the plan or is part of the root's output.
func checkScansPruned(t *testing.T, n int, root plan.Node) {
	used := root.Schema().IDs()
	walkAll(root, func(x plan.Node) {
		for id := range refsAll(x.Exprs()) {
			used[id] = struct{}{}
		}
		if u, ok := x.(*plan.Union); ok {
			for _, in := range u.Inputs {
				for _, c := range in.Schema() {
					used[c.ID] = struct{}{}
				}
			}
		}
	})
	walkAll(root, func(x plan.Node) {
		s, ok := x.(*plan.Scan)
		if !ok || len(s.Out) <= 1 {
			return
		}
		for _, c := range s.Out {
			if !used.Has(c.ID) {
				t.Errorf("Q%d: scan of %s reads unused column %s", n, s.Source.Name, c)
			}
		}
	})
}
