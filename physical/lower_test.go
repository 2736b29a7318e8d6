package physical_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/optimizer"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/tpch"
)

type catalog map[string]*plan.TableSource

func (c catalog) LookupTable(name string) (*plan.TableSource, plan.Node, bool) {
	t, ok := c[strings.ToLower(name)]
	return t, nil, ok
}

func (c catalog) TableNames() []string {
	var out []string
	for n := range c {
		out = append(out, n)
	}
	return out
}

func tpchCatalog(t *testing.T) catalog {
	t.Helper()
	cat := catalog{}
	for _, name := range tpch.Tables {
		path := filepath.Join("..", "testdata", "tpch", "sf-sample", name+".parquet")
		src, err := connectors.Open(context.Background(), connectors.Parquet, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		cat[name] = &plan.TableSource{Name: name, Format: "parquet", Location: path, Schema: src.Schema(), RowCount: src.Stats().RowCount}
	}
	return cat
}

// lower binds, optimizes and lowers sql, and returns the physical plan
// text and the stage plan.
func lower(t *testing.T, cat catalog, sql string, opts physical.Options) (string, *physical.StagePlan) {
	t.Helper()
	q, err := parser.ParseQuery(sql)
	if err != nil {
		t.Fatal(err)
	}
	var ids plan.IDGen
	n, err := binder.New(cat, &ids).BindQuery(sql, q)
	if err != nil {
		t.Fatal(err)
	}
	if n, err = optimizer.Optimize(n, &ids); err != nil {
		t.Fatal(err)
	}
	if opts.Estimate == nil {
		opts.Estimate = optimizer.EstimateRows
	}
	p, err := physical.Plan(n, &ids, opts)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := physical.Cut(p)
	if err != nil {
		t.Fatal(err)
	}
	checkStages(t, sp)
	return physical.Format(p), sp
}

// checkStages verifies the stage DAG: inputs come earlier, each stage but
// the last feeds an exchange, and every exchange a stage reads is the
// output of the stage it names.
func checkStages(t *testing.T, sp *physical.StagePlan) {
	t.Helper()
	for i, s := range sp.Stages {
		if s.ID != i {
			t.Fatalf("stage at position %d has ID %d", i, s.ID)
		}
		for _, in := range s.Inputs {
			if in >= s.ID {
				t.Fatalf("stage %d reads stage %d, which does not run before it", s.ID, in)
			}
			if sp.Stages[in].Output == nil || sp.Stages[in].Output.ID != in {
				t.Fatalf("stage %d reads stage %d, whose output exchange is not marked with its ID", s.ID, in)
			}
		}
		if (s.Output == nil) != (i == len(sp.Stages)-1) {
			t.Fatalf("stage %d: only the last stage may return the result", s.ID)
		}
		if s.Scan == nil && s.Tasks <= 0 {
			t.Fatalf("stage %d has %d tasks", s.ID, s.Tasks)
		}
	}
}

func count(s, sub string) int { return strings.Count(s, sub) }

func TestTwoPhaseAggregation(t *testing.T) {
	cat := tpchCatalog(t)
	p, sp := lower(t, cat, "select l_returnflag, sum(l_quantity) from lineitem group by l_returnflag", physical.Options{Partitions: 4})
	if count(p, "HashAggregate(partial)") != 1 || count(p, "HashAggregate(final)") != 1 || count(p, "Exchange hash") != 1 {
		t.Fatalf("want partial -> hash exchange -> final:\n%s", p)
	}
	if len(sp.Stages) != 2 || sp.Stages[1].Tasks != 4 {
		t.Fatalf("want a scan stage and a 4-task final stage:\n%s", sp.Format())
	}
	// A global aggregate gathers into one task instead of hashing.
	p, _ = lower(t, cat, "select count(*) from lineitem", physical.Options{Partitions: 4})
	if count(p, "Exchange single") != 1 || count(p, "Exchange hash") != 0 {
		t.Fatalf("global aggregate must gather:\n%s", p)
	}
	// DISTINCT aggregates cannot be split into phases.
	p, _ = lower(t, cat, "select l_returnflag, count(distinct l_suppkey) from lineitem group by 1", physical.Options{Partitions: 4})
	if count(p, "HashAggregate(single)") != 1 || count(p, "partial") != 0 {
		t.Fatalf("distinct aggregate must run in one phase after a shuffle:\n%s", p)
	}
}

func TestJoinDistribution(t *testing.T) {
	cat := tpchCatalog(t)
	q := "select n_name, count(*) from customer join nation on c_nationkey = n_nationkey group by n_name"
	p, _ := lower(t, cat, q, physical.Options{Partitions: 4, BroadcastRows: 1000})
	if count(p, "HashJoin Inner broadcast") != 1 || count(p, "Exchange broadcast") != 1 {
		t.Fatalf("a 25-row build side must be broadcast:\n%s", p)
	}
	p, _ = lower(t, cat, q, physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "HashJoin Inner partitioned") != 1 || count(p, "Exchange broadcast") != 0 {
		t.Fatalf("with broadcast disabled both sides must be shuffled:\n%s", p)
	}
	// The join output is hash-placed on the key: grouping by it needs no
	// second shuffle.
	p, _ = lower(t, cat, "select c_nationkey, count(*) from customer join nation on c_nationkey = n_nationkey group by c_nationkey",
		physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "Exchange hash") != 2 || count(p, "HashAggregate(single)") != 1 {
		t.Fatalf("aggregate on the join key must reuse the join's partitioning:\n%s", p)
	}
}

func TestSemiJoinBuildsOnSmallSideOverBroadcast(t *testing.T) {
	cat := tpchCatalog(t)
	for _, src := range cat { // scale the sample's row counts to SF1's
		src.RowCount *= 1000
	}
	q := "select count(*) from orders where o_orderdate < date '1992-02-01' and o_orderstatus = 'F' and o_orderpriority = '1-URGENT' " +
		"and exists (select * from lineitem where l_orderkey = o_orderkey)"
	// Lineitem fits the threshold, but building on the few orders beats
	// broadcasting millions of lineitem rows.
	p, _ := lower(t, cat, q, physical.Options{Partitions: 4, BroadcastRows: 1e8})
	if count(p, "HashJoin Semi (build preserved) partitioned") != 1 || count(p, "Exchange broadcast") != 0 {
		t.Fatalf("semi join must build on the small preserved side:\n%s", p)
	}
	// A small subquery side is still broadcast.
	q = "select count(*) from lineitem where exists (select * from orders where o_orderkey = l_orderkey and o_orderdate < date '1992-02-01' and o_orderstatus = 'F')"
	p, _ = lower(t, cat, q, physical.Options{Partitions: 4, BroadcastRows: 1e8})
	if count(p, "HashJoin Semi broadcast") != 1 {
		t.Fatalf("semi join with a small subquery side must broadcast it:\n%s", p)
	}
}

func TestRightAndNullAwareJoins(t *testing.T) {
	cat := tpchCatalog(t)
	// NOT IN must see the whole build side (a NULL anywhere empties the
	// result), so it is broadcast even when broadcasting is disabled.
	p, _ := lower(t, cat, "select count(*) from orders where nullif(o_custkey, 0) not in (select c_custkey from customer)",
		physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "null-aware") != 1 || count(p, "Exchange broadcast") != 1 {
		t.Fatalf("null-aware anti join must be broadcast:\n%s", p)
	}
	// Without NULLs on either side NOT IN is a plain anti join.
	p, _ = lower(t, cat, "select count(*) from orders where o_custkey not in (select c_custkey from customer)",
		physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "null-aware") != 0 || count(p, "HashJoin Anti partitioned") != 1 {
		t.Fatalf("NOT IN over non-null columns should be a partitioned anti join:\n%s", p)
	}
	// A full outer join cannot be broadcast.
	p, _ = lower(t, cat, "select count(*) from nation full join region on n_regionkey = r_regionkey",
		physical.Options{Partitions: 4, BroadcastRows: 1e9})
	if count(p, "Exchange broadcast") != 0 || count(p, "HashJoin Full partitioned") != 1 {
		t.Fatalf("full join must be partitioned:\n%s", p)
	}
}

func TestSortAndTopN(t *testing.T) {
	cat := tpchCatalog(t)
	p, sp := lower(t, cat, "select o_orderkey from orders order by o_totalprice desc limit 5", physical.Options{Partitions: 4})
	if count(p, "TopN 5") != 1 || count(p, "MergeSorted") != 1 || count(p, "Exchange single") != 1 {
		t.Fatalf("want per-partition top-N merged after a gather:\n%s", p)
	}
	if last := sp.Final(); last.Tasks != 1 {
		t.Fatalf("the merge stage must be one task, has %d", last.Tasks)
	}
}

// TestTPCHStages cuts every TPC-H plan and checks the stage DAG, and that
// no plan contains a cross product (a nested-loop join without a
// condition; Q7's OR between two filtered nation rows is a theta join).
func TestTPCHStages(t *testing.T) {
	cat := tpchCatalog(t)
	for q := 1; q <= 22; q++ {
		p, _ := lower(t, cat, tpch.Query(q), physical.Options{Partitions: 4, BroadcastRows: 1e6})
		for _, line := range strings.Split(p, "\n") {
			if strings.TrimSpace(line) == "NestedLoopJoin Inner" {
				t.Errorf("Q%d has a cross product:\n%s", q, p)
			}
		}
	}
}

func TestMarkJoinDistribution(t *testing.T) {
	cat := tpchCatalog(t)
	// Uncorrelated IN: the mark depends on the whole build side (a NULL in
	// it, or its being empty), so it is broadcast even when broadcasting
	// is off.
	p, _ := lower(t, cat, "select o_orderkey, o_custkey in (select c_custkey from customer where c_acctbal > 0) from orders",
		physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "HashJoin Mark broadcast null-aware on o_custkey#") != 1 || count(p, "Exchange broadcast") != 1 || count(p, "Exchange hash") != 0 {
		t.Fatalf("IN mark join must be a broadcast null-aware hash join:\n%s", p)
	}
	// Correlation equalities key the join: partitioned on them when the
	// build side is big, broadcast when it is small.
	q := "select o_orderkey from orders where o_orderstatus = 'F' or exists (select 1 from lineitem where l_orderkey = o_orderkey and l_quantity > 30)"
	p, _ = lower(t, cat, q, physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "HashJoin Mark partitioned on o_orderkey#") != 1 || count(p, "Exchange hash") != 2 || count(p, "null-aware") != 0 {
		t.Fatalf("correlated mark join must be partitioned on its key:\n%s", p)
	}
	p, _ = lower(t, cat, q, physical.Options{Partitions: 4, BroadcastRows: 1e9})
	if count(p, "HashJoin Mark broadcast") != 1 || count(p, "Exchange hash") != 0 {
		t.Fatalf("a small build side is broadcast:\n%s", p)
	}
	// Correlated IN: hashed on the correlation, the comparison checked per
	// candidate.
	p, _ = lower(t, cat, "select o_orderkey, o_custkey in (select l_suppkey from lineitem where l_orderkey = o_orderkey) from orders",
		physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "HashJoin Mark partitioned on o_orderkey#") != 1 || count(p, "mark (o_custkey#") != 1 {
		t.Fatalf("correlated IN must hash on the correlation:\n%s", p)
	}
	// No equality at all: a nested-loop mark join over a broadcast.
	p, _ = lower(t, cat, "select o_orderkey, exists (select 1 from lineitem where l_orderkey < o_orderkey) from orders",
		physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "NestedLoopJoin Mark on") != 1 || count(p, "Exchange broadcast") != 1 {
		t.Fatalf("want a nested-loop mark join:\n%s", p)
	}
}

// IS NOT DISTINCT FROM between the sides is a hash key: (a IS NULL, a
// with NULL as a zero) on each side, so NULL meets NULL.
func TestNullSafeEqualityHashJoin(t *testing.T) {
	cat := tpchCatalog(t)
	p, _ := lower(t, cat, "select count(*) from customer join nation on nullif(c_nationkey, 3) is not distinct from nullif(n_nationkey, 3)",
		physical.Options{Partitions: 4, BroadcastRows: 0})
	if count(p, "HashJoin Inner partitioned on _k0#") != 1 || count(p, "NestedLoopJoin") != 0 || count(p, "IS NULL) THEN 0 ELSE") != 2 {
		t.Fatalf("IS NOT DISTINCT FROM must be a hash join key:\n%s", p)
	}
}

// TestSemiJoinBuildCarriesOnlyItsColumns: the subquery side of a semi or
// anti join reaches the exchange with the columns its keys and residual
// read, not those only its scan's filters read.
func TestSemiJoinBuildCarriesOnlyItsColumns(t *testing.T) {
	cat := tpchCatalog(t)
	for _, tc := range []struct{ name, q, want string }{
		{"semi", "select count(*) from orders where exists (select * from lineitem where l_orderkey = o_orderkey and l_commitdate < l_receiptdate)",
			"Project l_orderkey#"},
		{"anti with residual", "select count(*) from lineitem l1 where not exists (select * from lineitem l3 where l3.l_orderkey = l1.l_orderkey and l3.l_suppkey <> l1.l_suppkey and l3.l_receiptdate > l3.l_commitdate)",
			"Project l_orderkey#"},
	} {
		for _, broadcast := range []float64{1, 1e9} {
			p, _ := lower(t, cat, tc.q, physical.Options{Partitions: 4, BroadcastRows: broadcast})
			var scanLine, above string
			lines := strings.Split(p, "\n")
			for i, line := range lines {
				if strings.Contains(line, "l_commitdate") && strings.Contains(line, "Scan") && i > 0 {
					scanLine, above = line, lines[i-1]
				}
			}
			if scanLine == "" || !strings.Contains(above, tc.want) || strings.Contains(above, "l_commitdate") || strings.Contains(above, "l_receiptdate") {
				t.Errorf("%s (broadcast rows %g): the filtered scan must be narrowed right above it:\n%s", tc.name, broadcast, p)
			}
		}
	}
}

// TestKeepBuildSideReadingShufflesGetsItsOwnStage: TPC-H Q21's anti join
// builds on its preserved side, itself a semi join of shuffled inputs.
// That side gets a stage of its own, so the stage reading the large
// anti-join subquery side does not also read the semi join's inputs.
func TestKeepBuildSideReadingShufflesGetsItsOwnStage(t *testing.T) {
	cat := tpchCatalog(t)
	for _, src := range cat { // scale the sample's row counts to SF1's
		src.RowCount *= 1000
	}
	_, sp := lower(t, cat, tpch.Query(21), physical.Options{Partitions: 4, BroadcastRows: 1e6})
	var semi, anti *physical.Stage
	for _, st := range sp.Stages {
		var walk func(n physical.Node)
		walk = func(n physical.Node) {
			if _, ok := n.(*physical.Exchange); ok {
				return // another stage's
			}
			if j, ok := n.(*physical.HashJoin); ok && j.KeepBuild {
				switch j.Type {
				case plan.JoinSemi:
					semi = st
				case plan.JoinAnti:
					anti = st
				}
			}
			for _, c := range n.Children() {
				walk(c)
			}
		}
		walk(st.Root)
	}
	if semi == nil || anti == nil {
		t.Fatalf("want a semi and an anti join building on their preserved side:\n%s", sp.Format())
	}
	if semi == anti {
		t.Fatalf("the semi join runs in the anti join's stage:\n%s", sp.Format())
	}
	// Q4's semi join builds on a scan of orders: no extra stage.
	_, sp4 := lower(t, cat, tpch.Query(4), physical.Options{Partitions: 4, BroadcastRows: 1e6})
	if n := len(sp4.Stages); n != 5 {
		t.Errorf("Q4 has %d stages, want 5:\n%s", n, sp4.Format())
	}
}
