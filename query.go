package flint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
)

func (s *Session) compile(n plan.Node) (*planner.Compiled, error) {
	return planner.Compile(n, &s.ids, planner.Options{Partitions: s.cfg.partitions, BroadcastRows: s.broadcastRows(), Stats: s.scanStats})
}

// run executes a logical plan and returns its result batches with the
// plan's column names.
func (s *Session) run(ctx context.Context, n plan.Node) (*arrow.Schema, []arrow.RecordBatch, error) {
	return s.runWhere(ctx, n, s.remote != nil)
}

// runWhere is run on the cluster (onCluster) or in-process.
func (s *Session) runWhere(ctx context.Context, n plan.Node, onCluster bool) (*arrow.Schema, []arrow.RecordBatch, error) {
	var batches []arrow.RecordBatch
	if onCluster {
		var err error
		if batches, err = s.runRemote(ctx, n); err != nil {
			return nil, nil, err
		}
	} else {
		c, err := s.compile(n)
		if err != nil {
			return nil, nil, err
		}
		ctx = exec.WithBatchSize(exec.WithAllocator(ctx, s.cfg.mem), s.cfg.batchSize)
		qs, _ := ctx.Value(queryStatsKey{}).(*QueryStats)
		var st *executor.Stats
		if qs != nil {
			st = executor.NewStats()
			ctx = executor.WithStats(ctx, st)
		}
		if batches, err = s.local.Execute(ctx, c.Stages); err != nil {
			return nil, nil, err
		}
		if qs != nil {
			qs.add(st)
		}
	}
	schema := schemaOf(n, batches)
	for i, b := range batches {
		if int(b.NumCols()) != schema.NumFields() {
			for _, b := range batches {
				b.Release()
			}
			return nil, nil, fmt.Errorf("internal error: result has %d columns, plan has %d", b.NumCols(), schema.NumFields())
		}
		nb := array.NewRecordBatch(schema, b.Columns(), b.NumRows())
		b.Release()
		batches[i] = nb
	}
	return schema, batches, nil
}

// SQL parses and runs one or more SQL statements. Statements such as
// CREATE EXTERNAL TABLE take effect immediately; the DataFrame of the last
// statement is returned (queries are lazy, as any DataFrame).
func (s *Session) SQL(ctx context.Context, query string) *DataFrame {
	stmts, err := parser.Parse(query)
	if err != nil {
		return s.errFrame(err)
	}
	if len(stmts) == 0 {
		return s.errFrame(fmt.Errorf("no SQL statement given"))
	}
	var df *DataFrame
	for _, st := range stmts {
		df = s.statement(ctx, query, st)
		if df.err != nil {
			return df
		}
	}
	return df
}

func (s *Session) statement(ctx context.Context, sql string, st ast.Statement) *DataFrame {
	switch st := st.(type) {
	case *ast.Query:
		n, err := binder.New(s, &s.ids).BindQuery(sql, st)
		if err != nil {
			return s.errFrame(err)
		}
		return s.frame(n)
	case *ast.Copy:
		// COPY runs now, like DDL: its effect must happen once, not at
		// every Collect of the returned frame.
		c, err := binder.New(s, &s.ids).BindCopy(sql, st)
		if err != nil {
			return s.errFrame(err)
		}
		res, err := s.copyTo(ctx, c)
		if err != nil {
			return s.errFrame(err)
		}
		return s.writeResultFrame(res)
	case *ast.Explain:
		if cp, ok := st.Stmt.(*ast.Copy); ok {
			c, err := binder.New(s, &s.ids).BindCopy(sql, cp)
			if err != nil {
				return s.errFrame(err)
			}
			text, err := s.explainCopy(c)
			if err != nil {
				return s.errFrame(err)
			}
			return s.textFrame("plan", text)
		}
		inner := s.statement(ctx, sql, st.Stmt)
		if inner.err != nil {
			return inner
		}
		if inner.plan == nil {
			return s.errFrame(fmt.Errorf("EXPLAIN needs a query"))
		}
		if st.Analyze {
			text, err := s.explainAnalyze(ctx, inner.plan)
			if err != nil {
				return s.errFrame(err)
			}
			return s.textFrame("plan", text)
		}
		text, err := inner.Explain()
		if err != nil {
			return s.errFrame(err)
		}
		return s.textFrame("plan", text)
	case *ast.CreateExternalTable:
		name := strings.Join(st.Name, ".")
		if st.IfNotExists {
			if _, _, ok := s.LookupTable(name); ok {
				return s.emptyFrame()
			}
		}
		if len(st.Columns) > 0 && st.Format != "CSV" && st.Format != "JSON" {
			return s.errFrame(fmt.Errorf("table %s: a column list is only supported for CSV and JSON tables", name))
		}
		opts := map[string]string{}
		for k, v := range st.Options {
			opts[k] = v
		}
		if len(st.Columns) > 0 {
			defs := make([]string, len(st.Columns))
			for i, c := range st.Columns {
				defs[i] = c.Name + " " + c.Type.String()
			}
			opts["schema"] = strings.Join(defs, ", ")
		}
		if err := s.RegisterTable(ctx, name, strings.ToLower(st.Format), st.Location, opts); err != nil {
			return s.errFrame(err)
		}
		return s.emptyFrame()
	case *ast.CreateView:
		n, err := binder.New(s, &s.ids).BindQuery(sql, st.Query)
		if err != nil {
			return s.errFrame(err)
		}
		if len(st.Columns) > 0 {
			if n, err = renameColumns(n, st.Columns); err != nil {
				return s.errFrame(err)
			}
		}
		if err := s.registerView(strings.Join(st.Name, "."), n, st.OrReplace); err != nil {
			return s.errFrame(err)
		}
		return s.emptyFrame()
	case *ast.DropTable:
		for _, n := range st.Names {
			if err := s.drop(strings.Join(n, "."), st.IfExists); err != nil {
				return s.errFrame(err)
			}
		}
		return s.emptyFrame()
	case *ast.DropView:
		for _, n := range st.Names {
			if err := s.drop(strings.Join(n, "."), st.IfExists); err != nil {
				return s.errFrame(err)
			}
		}
		return s.emptyFrame()
	case *ast.CreateModel:
		if err := s.createModel(ctx, st); err != nil {
			return s.errFrame(err)
		}
		return s.emptyFrame()
	case *ast.ExportModel:
		if err := s.exportModel(ctx, st); err != nil {
			return s.errFrame(err)
		}
		return s.emptyFrame()
	case *ast.DropModel:
		if err := s.dropModels(ctx, st); err != nil {
			return s.errFrame(err)
		}
		return s.emptyFrame()
	case *ast.Show:
		if st.What == "models" {
			df, err := s.showModels(ctx)
			if err != nil {
				return s.errFrame(err)
			}
			return df
		}
	}
	return s.errFrame(fmt.Errorf("statement not supported yet: %s", st))
}

func renameColumns(n plan.Node, names []string) (plan.Node, error) {
	cols := n.Schema()
	if len(names) != len(cols) {
		return nil, fmt.Errorf("view has %d columns but %d names were given", len(cols), len(names))
	}
	out := make(plan.Schema, len(cols))
	exprs := make([]plan.Expr, len(cols))
	for i, c := range cols {
		exprs[i] = c.Ref()
		c.Name = names[i]
		out[i] = c
	}
	return &plan.Project{Input: n, Projections: exprs, Out: out}, nil
}

// emptyFrame is the result of a statement that returns no rows.
func (s *Session) emptyFrame() *DataFrame {
	return s.frame(&plan.Values{})
}

// textFrame returns one string column with a row per line of text.
func (s *Session) textFrame(column, text string) *DataFrame {
	col := s.ids.NewColumn(column, "", arrow.BinaryTypes.String, false)
	var rows [][]plan.Expr
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		rows = append(rows, []plan.Expr{&plan.Literal{Value: line, Typ: arrow.BinaryTypes.String}})
	}
	df := s.frame(&plan.Values{Rows: rows, Out: plan.Schema{col}})
	df.local = true // EXPLAIN text: no need to ship it to a cluster
	return df
}

// QueryStats are the totals of the local queries run with a context from
// WithQueryStats (flint sql --stats).
type QueryStats struct {
	Queries         int
	Wall            time.Duration
	PoolPeak        int64 // the memory pool's peak (of the session)
	SpilledBytes    int64 // written to spill files by operators
	ExchangeSpilled int64 // exchange data written to files
}

func (q *QueryStats) add(st *executor.Stats) {
	q.Queries++
	q.Wall += st.Wall
	q.PoolPeak = max(q.PoolPeak, st.PoolPeak)
	q.SpilledBytes += st.SpilledBytes
	q.ExchangeSpilled += st.ExchangeSpilled
}

// String renders the totals on one line.
func (q *QueryStats) String() string {
	return fmt.Sprintf("%d queries, %s; memory pool peak %s; spilled %s by operators, %s of exchanges",
		q.Queries, q.Wall.Round(time.Millisecond), mempool.FormatBytes(q.PoolPeak),
		mempool.FormatBytes(q.SpilledBytes), mempool.FormatBytes(q.ExchangeSpilled))
}

type queryStatsKey struct{}

// WithQueryStats returns a context whose local queries add their totals
// to qs. Not for concurrent queries.
func WithQueryStats(ctx context.Context, qs *QueryStats) context.Context {
	return context.WithValue(ctx, queryStatsKey{}, qs)
}

// explainAnalyze runs n and renders its stages with what each operator
// did: rows, batches, its own time summed over tasks, peak memory and
// bytes spilled; then the query's wall time and totals.
func (s *Session) explainAnalyze(ctx context.Context, n plan.Node) (string, error) {
	if s.remote != nil {
		return "", fmt.Errorf("EXPLAIN ANALYZE runs in local mode only; on a cluster, flint submit reports per-task metrics")
	}
	c, err := s.compile(n)
	if err != nil {
		return "", err
	}
	st := executor.NewStats()
	ctx = executor.WithStats(exec.WithBatchSize(exec.WithAllocator(ctx, s.cfg.mem), s.cfg.batchSize), st)
	batches, err := s.local.Execute(ctx, c.Stages)
	if err != nil {
		return "", err
	}
	var rows int64
	for _, b := range batches {
		rows += b.NumRows()
		b.Release()
	}
	var b strings.Builder
	b.WriteString("== Physical plan (analyzed) ==\n")
	b.WriteString(c.Stages.FormatAnnotated(st.Annotate))
	limit := "no limit"
	if !s.local.Memory.Unlimited() {
		limit = mempool.FormatBytes(s.local.Memory.Limit())
	}
	fmt.Fprintf(&b, "== Totals ==\nrows: %d  wall: %s  memory pool: peak %s of %s  spilled: %s by operators, %s of exchanges\n",
		rows, st.Wall.Round(time.Microsecond), mempool.FormatBytes(st.PoolPeak), limit,
		mempool.FormatBytes(st.SpilledBytes), mempool.FormatBytes(st.ExchangeSpilled))
	return b.String(), nil
}
