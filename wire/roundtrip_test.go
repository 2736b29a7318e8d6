package wire_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/sqllogictest/slt"
	"github.com/flint-engine/flint/tpch"
	"github.com/flint-engine/flint/wire"
)

// boundQuery is one query bound against a session's catalog.
type boundQuery struct {
	name string
	plan plan.Node
}

// tpchPlans binds the 22 TPC-H queries over the committed sample data.
func tpchPlans(t testing.TB) []boundQuery {
	t.Helper()
	s := tpchSession(t)
	var ids plan.IDGen
	var out []boundQuery
	for q := 1; q <= 22; q++ {
		sql := tpch.Query(q)
		n, err := bindOne(s, &ids, sql)
		if err != nil {
			t.Fatalf("Q%d: %v", q, err)
		}
		out = append(out, boundQuery{fmt.Sprintf("q%02d", q), n})
	}
	return out
}

// tpchSession is a session with the TPC-H sample tables registered.
func tpchSession(t testing.TB) *flint.Session {
	t.Helper()
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dir, err := filepath.Abs("../testdata/tpch/sf-sample")
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tpch.Tables {
		if err := s.RegisterTable(ctx, table, "parquet", filepath.Join(dir, table+".parquet"), nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestRoundTripFilterAndBagSetOps: aggregate and window FILTERs (the mask
// columns of two-phase and DISTINCT aggregates) and INTERSECT/EXCEPT ALL
// survive the wire.
func TestRoundTripFilterAndBagSetOps(t *testing.T) {
	s := tpchSession(t)
	var ids plan.IDGen
	for i, sql := range []string{
		"select o_orderstatus, count(*) filter (where o_totalprice > 100000), sum(o_totalprice) filter (where o_orderstatus = 'F') from orders group by o_orderstatus",
		"select count(distinct o_custkey) filter (where o_totalprice > 1000), min(o_clerk) filter (where o_orderpriority < '3') from orders",
		"select o_orderpriority from orders group by o_orderpriority having count(*) filter (where o_orderstatus = 'P') > 3",
		"select n_name, count(*) filter (where n_nationkey % 2 = 0) over (partition by n_regionkey), sum(n_nationkey) filter (where n_name > 'K') over (order by n_nationkey) from nation",
		"select n_regionkey from nation intersect all select r_regionkey from region",
		"select n_regionkey from nation except all select r_regionkey from region",
	} {
		n, err := bindOne(s, &ids, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { roundTrip(t, n) })
	}
}

// bindOne binds the single query in sql.
func bindOne(cat binder.Catalog, ids *plan.IDGen, sql string) (plan.Node, error) {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("%d statements, want one query", len(stmts))
	}
	q, ok := stmts[0].(*ast.Query)
	if !ok {
		return nil, fmt.Errorf("%T is not a query", stmts[0])
	}
	return binder.New(cat, ids).BindQuery(sql, q)
}

// sltPlans binds every query record of the .slt corpus that Flint binds
// (DDL records are applied to the session first, as the runner does).
func sltPlans(t testing.TB) []boundQuery {
	t.Helper()
	files, err := filepath.Glob("../testdata/slt/*.slt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no .slt files: %v", err)
	}
	ctx := context.Background()
	var out []boundQuery
	for _, path := range files {
		f, err := slt.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dataDir, err := slt.DataDir(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithModels(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		var ids plan.IDGen
		for _, r := range f.Records {
			if r.Skip != "" {
				continue
			}
			sql := slt.ExpandSQL(r.SQL, dataDir)
			stmts, err := parser.Parse(sql)
			if err != nil || len(stmts) != 1 {
				continue
			}
			if _, ok := stmts[0].(*ast.Query); !ok {
				// DDL and EXPLAIN: apply through the session.
				s.SQL(ctx, sql)
				continue
			}
			n, err := bindOne(s, &ids, sql)
			if err != nil {
				continue // an error record
			}
			out = append(out, boundQuery{fmt.Sprintf("%s:%d", filepath.Base(path), r.Line), n})
		}
	}
	return out
}

// viaBytes marshals m and unmarshals it into a fresh message of its type.
func viaBytes[M proto.Message](t testing.TB, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	out := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

// maxID is the highest column ID a plan mentions (an independent walk, to
// check wire.MaxColumnID).
func maxID(n plan.Node) plan.ColumnID {
	var m plan.ColumnID
	var walk func(plan.Node)
	walk = func(n plan.Node) {
		plan.WalkPlan(n, func(n plan.Node) bool {
			for _, c := range n.Schema() {
				m = max(m, c.ID)
			}
			for _, e := range n.Exprs() {
				plan.WalkExpr(e, func(e plan.Expr) bool {
					switch e := e.(type) {
					case *plan.ColRef:
						m = max(m, e.ID)
					case *plan.Subquery:
						walk(e.Plan)
					}
					return true
				})
			}
			return true
		})
	}
	walk(n)
	return m
}

func TestRoundTripTPCH(t *testing.T) {
	qs := tpchPlans(t)
	if len(qs) != 22 {
		t.Fatalf("%d TPC-H plans, want 22", len(qs))
	}
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) { roundTrip(t, q.plan) })
	}
}

func TestRoundTripSLT(t *testing.T) {
	qs := sltPlans(t)
	// The corpus has several hundred queries; most must bind, or this test
	// checks little.
	if len(qs) < 300 {
		t.Fatalf("only %d .slt queries bound", len(qs))
	}
	t.Logf("%d .slt queries", len(qs))
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) { roundTrip(t, q.plan) })
	}
}

// roundTrip checks that n survives the wire as a logical plan, that the
// decoded plan compiles to the very stage plan the original does (the
// driver plans what it receives exactly as local mode would), that the
// stage plan survives the wire, and that every task of it does.
func roundTrip(t *testing.T, n plan.Node) {
	p, err := wire.EncodeLogical(n)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	got, err := wire.DecodeLogical(viaBytes(t, p))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if d := structEqual(n, got); d != "" {
		t.Fatalf("logical plan differs after the wire: %s\nwant:\n%s\ngot:\n%s", d, plan.Format(n), plan.Format(got))
	}
	top := maxID(n)
	if m := wire.MaxColumnID(n); m != top {
		t.Fatalf("MaxColumnID = %d, want %d", m, top)
	}
	if m := wire.MaxColumnID(got); m != top {
		t.Fatalf("MaxColumnID of the decoded plan = %d, want %d", m, top)
	}

	opts := planner.Options{Partitions: 3, BroadcastRows: 1000}
	var ids1, ids2 plan.IDGen
	ids1.Reserve(top)
	ids2.Reserve(top)
	c1, err1 := planner.Compile(n, &ids1, opts)
	c2, err2 := planner.Compile(got, &ids2, opts)
	if err1 != nil || err2 != nil {
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Fatalf("compile: %v; compile decoded: %v", err1, err2)
		}
		t.Skipf("does not compile (an error record): %v", err1)
	}
	if d := structEqual(c1.Stages, c2.Stages); d != "" {
		t.Fatalf("the decoded plan compiles differently: %s\nwant:\n%s\ngot:\n%s", d, c1.Stages.Format(), c2.Stages.Format())
	}
	// Optimized plans (mark joins and other nodes only rules create) are
	// logical plans too and must survive the wire alike.
	po, err := wire.EncodeLogical(c1.Optimized)
	if err != nil {
		t.Fatalf("encode optimized: %v", err)
	}
	gotOpt, err := wire.DecodeLogical(viaBytes(t, po))
	if err != nil {
		t.Fatalf("decode optimized: %v", err)
	}
	if d := structEqual(c1.Optimized, gotOpt); d != "" {
		t.Fatalf("optimized plan differs after the wire: %s\n%s", d, plan.Format(c1.Optimized))
	}

	sp := c1.Stages
	ps, err := wire.EncodeStagePlan(sp)
	if err != nil {
		t.Fatalf("encode stage plan: %v", err)
	}
	gotSP, err := wire.DecodeStagePlan(viaBytes(t, ps))
	if err != nil {
		t.Fatalf("decode stage plan: %v", err)
	}
	if d := structEqual(sp, gotSP); d != "" {
		t.Fatalf("stage plan differs after the wire: %s\n%s", d, sp.Format())
	}

	for _, st := range sp.Stages {
		for _, task := range stageTasks(t, sp, st) {
			taskRoundTrip(t, sp, task)
		}
	}
}

// stageTasks lists a stage's tasks as a driver would: one per scan split
// (real splits of the table's files), or one per partition; each with the
// exchange schemas and made-up locations of its inputs.
func stageTasks(t testing.TB, sp *physical.StagePlan, st *physical.Stage) []*wire.TaskSpec {
	t.Helper()
	base := wire.TaskSpec{JobID: fmt.Sprintf("job-%d", st.ID), Attempt: st.ID % 3}
	for _, in := range st.Inputs {
		if base.ExchangeSchemas == nil {
			base.ExchangeSchemas = map[int]*arrow.Schema{}
			base.Inputs = map[int][]wire.InputLocation{}
		}
		base.ExchangeSchemas[in] = sp.Stages[in].Root.Schema().Arrow()
		for m := 0; m < 3; m++ {
			base.Inputs[in] = append(base.Inputs[in], wire.InputLocation{
				ExecutorAddress: fmt.Sprintf("127.0.0.1:%d", 7000+m), MapTask: m, Attempt: (m + in) % 2})
		}
	}
	if st.Scan == nil {
		out := make([]*wire.TaskSpec, st.Tasks)
		for i := range out {
			ts := base
			ts.Task = physical.Task{Stage: st, Index: i}
			out[i] = &ts
		}
		return out
	}
	src := st.Scan.Source
	s, err := connectors.Open(context.Background(), connectors.Format(src.Format), src.Location, src.Options)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := s.Splits(context.Background(), st.Scan.Prune, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) == 0 {
		ts := base
		ts.Task = physical.Task{Stage: st}
		return []*wire.TaskSpec{&ts}
	}
	out := make([]*wire.TaskSpec, len(splits))
	for i, sp := range splits {
		ts := base
		ts.Task = physical.Task{Stage: st, Index: i, Splits: []connectors.Split{sp}}
		out[i] = &ts
	}
	return out
}

// taskRoundTrip checks a task survives the wire. The decoded stage reads
// its input exchanges through StageInput leaves, which must carry the
// producer's columns; everything else must equal the original.
func taskRoundTrip(t *testing.T, sp *physical.StagePlan, task *wire.TaskSpec) {
	t.Helper()
	what := fmt.Sprintf("stage %d task %d", task.Task.Stage.ID, task.Task.Index)
	p, err := wire.EncodeTask(task)
	if err != nil {
		t.Fatalf("%s: encode: %v", what, err)
	}
	got, err := wire.DecodeTask(viaBytes(t, p))
	if err != nil {
		t.Fatalf("%s: decode: %v", what, err)
	}
	leaves := 0
	var check func(n physical.Node)
	check = func(n physical.Node) {
		if ex, ok := n.(*physical.Exchange); ok {
			if in, ok := ex.Input.(*wire.StageInput); ok {
				leaves++
				if in.Stage != ex.ID || !slices.Contains(task.Task.Stage.Inputs, ex.ID) {
					t.Fatalf("%s: exchange %d reads stage input %d; the stage reads %v", what, ex.ID, in.Stage, task.Task.Stage.Inputs)
				}
				return
			}
		}
		for _, c := range n.Children() {
			check(c)
		}
	}
	check(got.Task.Stage.Root)
	if want := len(task.Task.Stage.Inputs); leaves < want {
		t.Fatalf("%s: %d exchange leaves for %d inputs", what, leaves, want)
	}
	if d := taskEqual(task, got); d != "" {
		t.Fatalf("%s differs after the wire: %s", what, d)
	}
}

// TestDecodeTaskRejects checks a few malformed tasks fail with an error
// naming the problem (and do not panic).
func TestDecodeTaskRejects(t *testing.T) {
	qs := tpchPlans(t)
	var ids plan.IDGen
	ids.Reserve(maxID(qs[2].plan))
	c, err := planner.Compile(qs[2].plan, &ids, planner.Options{Partitions: 2, BroadcastRows: 0})
	if err != nil {
		t.Fatal(err)
	}
	st := c.Stages.Final()
	good, err := wire.EncodeTask(&wire.TaskSpec{Task: physical.Task{Stage: st}, JobID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(p *pb.Task)
		want string
	}{
		{"no version", func(p *pb.Task) { p.Version = 0 }, "version missing"},
		{"future version", func(p *pb.Task) { p.Version = 99 }, "99"},
		{"no stage", func(p *pb.Task) { p.Stage = nil }, "missing stage"},
		{"root out of range", func(p *pb.Task) { p.Stage.Root = int32(len(p.Nodes) + 5) }, "out of range"},
		{"negative index", func(p *pb.Task) { p.Index = -1 }, "negative"},
		{"forward child", func(p *pb.Task) { p.Nodes = p.Nodes[len(p.Nodes)-1:] }, "node"},
		{"nil node", func(p *pb.Task) { p.Nodes[0] = nil }, "node 0"},
		{"bad schema", func(p *pb.Task) {
			p.ExchangeSchemas = map[int32]*pb.ArrowSchema{1: {Fields: []*pb.Field{{Name: "x"}}}}
		}, "exchange 1 schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := proto.Clone(good).(*pb.Task)
			tc.edit(p)
			_, err := wire.DecodeTask(viaBytes(t, p))
			if err == nil {
				t.Fatal("decoded without error")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "internal error") {
				t.Fatalf("error %q, want one mentioning %q", err, tc.want)
			}
		})
	}
}
