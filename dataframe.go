package flint

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/internal/output"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/types"
)

// DataFrame is a lazy query. Methods return new DataFrames and never run
// anything; an error in a step is kept and reported by the action (Collect,
// Count, Show, Explain, Write) that runs the query.
type DataFrame struct {
	s    *Session
	plan plan.Node
	err  error
	// local runs the frame in-process even in a cluster session (the
	// EXPLAIN text frame).
	local bool
}

// Err reports an error recorded while building the DataFrame.
func (df *DataFrame) Err() error { return df.err }

// Schema returns the DataFrame's columns as an Arrow schema.
func (df *DataFrame) Schema() (*arrow.Schema, error) {
	if df.err != nil {
		return nil, df.err
	}
	return df.plan.Schema().Arrow(), nil
}

// Columns lists the column names.
func (df *DataFrame) Columns() []string {
	if df.err != nil {
		return nil
	}
	var names []string
	for _, c := range df.plan.Schema() {
		names = append(names, c.Name)
	}
	return names
}

func (df *DataFrame) with(n plan.Node, err error) *DataFrame {
	if err != nil {
		return df.s.errFrame(err)
	}
	return df.s.frame(n)
}

func (df *DataFrame) bind(c Column) (plan.Expr, error) {
	if c.err != nil {
		return nil, c.err
	}
	return binder.New(df.s, &df.s.ids).BindExpr("", c.e, df.plan)
}

// Filter keeps rows for which cond is true.
func (df *DataFrame) Filter(cond Column) *DataFrame {
	if df.err != nil {
		return df
	}
	e, err := df.bind(cond)
	if err != nil {
		return df.s.errFrame(fmt.Errorf("filter %s: %w", cond, err))
	}
	if id := e.Type().ID(); id != arrow.BOOL && id != arrow.NULL {
		return df.s.errFrame(fmt.Errorf("filter %s: the condition must be BOOLEAN, but it is %s", cond, types.TypeName(e.Type())))
	}
	return df.s.frame(&plan.Filter{Input: df.plan, Cond: e})
}

// Where is Filter with a SQL condition, e.g. Where("l_quantity < 24").
func (df *DataFrame) Where(sqlCond string) *DataFrame { return df.Filter(Expr(sqlCond)) }

// Select computes the given columns.
func (df *DataFrame) Select(cols ...Column) *DataFrame {
	if df.err != nil {
		return df
	}
	exprs := make([]plan.Expr, len(cols))
	out := make(plan.Schema, len(cols))
	for i, c := range cols {
		e, err := df.bind(c)
		if err != nil {
			return df.s.errFrame(fmt.Errorf("select %s: %w", c, err))
		}
		exprs[i] = e
		out[i] = df.outColumn(c, e)
	}
	return df.s.frame(&plan.Project{Input: df.plan, Projections: exprs, Out: out})
}

// outColumn describes the column an expression produces: a plain column
// reference keeps its identity, anything else gets a fresh column.
func (df *DataFrame) outColumn(c Column, e plan.Expr) plan.Column {
	if r, ok := e.(*plan.ColRef); ok {
		in := df.plan.Schema()
		col := in[in.Index(r.ID)]
		if c.alias == "" || c.alias == col.Name {
			return col
		}
		return df.s.ids.NewColumn(c.alias, "", col.Type, col.Nullable)
	}
	name := c.alias
	if name == "" {
		name = c.e.String()
	}
	return df.s.ids.NewColumn(name, "", e.Type(), e.Nullable())
}

// SelectExpr is Select with SQL expressions ("a + b AS c" is allowed).
func (df *DataFrame) SelectExpr(exprs ...string) *DataFrame {
	cols := make([]Column, len(exprs))
	for i, s := range exprs {
		body, alias := splitAlias(s)
		cols[i] = Expr(body).Alias(alias)
	}
	return df.Select(cols...)
}

func splitAlias(s string) (string, string) {
	lower := strings.ToLower(s)
	if i := strings.LastIndex(lower, " as "); i >= 0 {
		alias := strings.TrimSpace(s[i+4:])
		if alias != "" && !strings.ContainsAny(alias, " ()") {
			return s[:i], alias
		}
	}
	return s, ""
}

// WithColumn adds (or replaces) a column computed from c.
func (df *DataFrame) WithColumn(name string, c Column) *DataFrame {
	if df.err != nil {
		return df
	}
	var cols []Column
	replaced := false
	for _, in := range df.plan.Schema() {
		if strings.EqualFold(in.Name, name) {
			cols = append(cols, c.Alias(name))
			replaced = true
			continue
		}
		cols = append(cols, Column{e: &ast.ColumnRef{Parts: []string{in.Name}}})
	}
	if !replaced {
		cols = append(cols, c.Alias(name))
	}
	// Pass through existing columns by identity rather than by name, so
	// duplicate names from joins stay unambiguous.
	exprs := make([]plan.Expr, 0, len(cols))
	out := make(plan.Schema, 0, len(cols))
	in := df.plan.Schema()
	for i, col := range cols {
		if i < len(in) && !strings.EqualFold(in[i].Name, name) {
			exprs = append(exprs, in[i].Ref())
			out = append(out, in[i])
			continue
		}
		e, err := df.bind(col)
		if err != nil {
			return df.s.errFrame(fmt.Errorf("withColumn %s: %w", name, err))
		}
		exprs = append(exprs, e)
		out = append(out, df.s.ids.NewColumn(name, "", e.Type(), e.Nullable()))
	}
	return df.s.frame(&plan.Project{Input: df.plan, Projections: exprs, Out: out})
}

// GroupedData is a DataFrame grouped by key columns, waiting for Agg.
type GroupedData struct {
	df   *DataFrame
	keys []Column
}

// GroupBy groups rows by the given key expressions.
func (df *DataFrame) GroupBy(keys ...Column) *GroupedData { return &GroupedData{df: df, keys: keys} }

// Agg computes aggregates per group; the result has the key columns
// followed by one column per aggregate.
func (g *GroupedData) Agg(aggs ...Column) *DataFrame {
	df := g.df
	if df.err != nil {
		return df
	}
	keys := make([]ast.Expr, len(g.keys))
	for i, k := range g.keys {
		if k.err != nil {
			return df.s.errFrame(k.err)
		}
		keys[i] = k.e
	}
	exprs := make([]ast.Expr, len(aggs))
	aliases := make([]string, len(aggs))
	for i, a := range aggs {
		if a.err != nil {
			return df.s.errFrame(a.err)
		}
		exprs[i], aliases[i] = a.e, a.alias
	}
	n, err := binder.New(df.s, &df.s.ids).BindAggregate("", df.plan, keys, exprs, aliases)
	if err != nil {
		return df.s.errFrame(err)
	}
	// The binder names key columns after their expressions; apply the
	// keys' aliases (the output starts with the keys, in order).
	renamed := false
	out := n.Schema()
	exprsOut := make([]plan.Expr, len(out))
	cols := make(plan.Schema, len(out))
	for i, c := range out {
		exprsOut[i] = c.Ref()
		if i < len(g.keys) && g.keys[i].alias != "" && g.keys[i].alias != c.Name {
			c.Name = g.keys[i].alias
			renamed = true
		}
		cols[i] = c
	}
	if renamed {
		n = &plan.Project{Input: n, Projections: exprsOut, Out: cols}
	}
	return df.s.frame(n)
}

// JoinType names a join: "inner", "left", "right", "full", "semi", "anti",
// "cross".
var joinKinds = map[string]plan.JoinType{
	"inner": plan.JoinInner, "left": plan.JoinLeft, "left_outer": plan.JoinLeft, "leftouter": plan.JoinLeft,
	"right": plan.JoinRight, "right_outer": plan.JoinRight, "full": plan.JoinFull, "outer": plan.JoinFull,
	"full_outer": plan.JoinFull, "semi": plan.JoinSemi, "left_semi": plan.JoinSemi, "anti": plan.JoinAnti,
	"left_anti": plan.JoinAnti, "cross": plan.JoinCross,
}

// Join joins with other on a condition over both sides' columns. how is
// "inner", "left", "right", "full", "semi", "anti" or "cross".
func (df *DataFrame) Join(other *DataFrame, on Column, how string) *DataFrame {
	left, right, typ, err := df.joinInputs(other, how)
	if err != nil {
		return df.s.errFrame(err)
	}
	j := &plan.Join{Left: left, Right: right, Type: plan.JoinCross}
	if on.e != nil || on.err != nil {
		if on.err != nil {
			return df.s.errFrame(on.err)
		}
		cond, err := binder.New(df.s, &df.s.ids).BindExpr("", on.e, j)
		if err != nil {
			return df.s.errFrame(fmt.Errorf("join condition %s: %w", on, err))
		}
		j.Cond = cond
	}
	j.Type = typ
	return df.s.frame(j)
}

// JoinUsing joins on equality of same-named columns; each key appears once
// in the output.
func (df *DataFrame) JoinUsing(other *DataFrame, columns []string, how string) *DataFrame {
	left, right, typ, err := df.joinInputs(other, how)
	if err != nil {
		return df.s.errFrame(err)
	}
	ls, rs := left.Schema(), right.Schema()
	var conds []plan.Expr
	drop := plan.ColumnSet{}
	var coalesce []struct{ l, r plan.Column }
	for _, name := range columns {
		l, err := findColumn(ls, name, "left")
		if err != nil {
			return df.s.errFrame(err)
		}
		r, err := findColumn(rs, name, "right")
		if err != nil {
			return df.s.errFrame(err)
		}
		if !arrow.TypeEqual(l.Type, r.Type) {
			return df.s.errFrame(fmt.Errorf("join column %s has type %s on the left and %s on the right", name, l.Type, r.Type))
		}
		conds = append(conds, plan.Eq(l.Ref(), r.Ref()))
		drop[r.ID] = struct{}{}
		coalesce = append(coalesce, struct{ l, r plan.Column }{l, r})
	}
	j := &plan.Join{Left: left, Right: right, Type: typ, Cond: plan.And(conds...)}
	if typ == plan.JoinSemi || typ == plan.JoinAnti {
		return df.s.frame(j)
	}
	var exprs []plan.Expr
	var out plan.Schema
	for _, c := range j.Schema() {
		if drop.Has(c.ID) {
			continue
		}
		e := plan.Expr(c.Ref())
		for _, k := range coalesce {
			if k.l.ID == c.ID && (typ == plan.JoinRight || typ == plan.JoinFull) {
				rr := k.r.Ref()
				rr.Null = true
				if typ == plan.JoinRight {
					e = rr
				} else {
					e = &plan.Func{Name: "coalesce", Args: []plan.Expr{c.Ref(), rr}, Typ: c.Type}
				}
				c = df.s.ids.NewColumn(c.Name, "", c.Type, true)
			}
		}
		exprs = append(exprs, e)
		out = append(out, c)
	}
	return df.s.frame(&plan.Project{Input: j, Projections: exprs, Out: out})
}

func findColumn(s plan.Schema, name, side string) (plan.Column, error) {
	var found []plan.Column
	for _, c := range s {
		if strings.EqualFold(c.Name, name) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return plan.Column{}, fmt.Errorf("join column %s not found on the %s side", name, side)
	case 1:
		return found[0], nil
	}
	return plan.Column{}, fmt.Errorf("join column %s is ambiguous on the %s side", name, side)
}

func (df *DataFrame) joinInputs(other *DataFrame, how string) (plan.Node, plan.Node, plan.JoinType, error) {
	if df.err != nil {
		return nil, nil, 0, df.err
	}
	if other.err != nil {
		return nil, nil, 0, other.err
	}
	if other.s != df.s {
		return nil, nil, 0, fmt.Errorf("join: the DataFrames belong to different sessions")
	}
	typ, ok := joinKinds[strings.ToLower(how)]
	if !ok {
		return nil, nil, 0, fmt.Errorf("join: unknown join type %q (want inner, left, right, full, semi, anti or cross)", how)
	}
	right := other.plan
	// A DataFrame joined with itself (or sharing a subplan) needs fresh
	// column identities on one side.
	lids := df.plan.Schema().IDs()
	for _, c := range right.Schema() {
		if lids.Has(c.ID) {
			right, _ = plan.Clone(right, &df.s.ids)
			break
		}
	}
	return df.plan, right, typ, nil
}

// OrderBy sorts by the given keys.
func (df *DataFrame) OrderBy(keys ...SortOrder) *DataFrame {
	if df.err != nil {
		return df
	}
	sk := make([]plan.SortKey, len(keys))
	for i, k := range keys {
		e, err := df.bind(k.c)
		if err != nil {
			return df.s.errFrame(fmt.Errorf("orderBy %s: %w", k.c, err))
		}
		nf := false
		if k.nullsFirst != nil {
			nf = *k.nullsFirst
		}
		sk[i] = plan.SortKey{E: e, Desc: k.desc, NullsFirst: nf}
	}
	return df.s.frame(&plan.Sort{Input: df.plan, Keys: sk, Limit: -1})
}

// Limit keeps the first n rows.
func (df *DataFrame) Limit(n int64) *DataFrame {
	if df.err != nil {
		return df
	}
	return df.s.frame(&plan.Limit{Input: df.plan, Count: n})
}

// Distinct removes duplicate rows.
func (df *DataFrame) Distinct() *DataFrame {
	if df.err != nil {
		return df
	}
	in := df.plan.Schema()
	groups := make([]plan.Expr, len(in))
	out := make(plan.Schema, len(in))
	for i, c := range in {
		groups[i] = c.Ref()
		out[i] = df.s.ids.NewColumn(c.Name, c.Table, c.Type, c.Nullable)
	}
	return df.s.frame(&plan.Aggregate{Input: df.plan, GroupBy: groups, Out: out})
}

// Union appends other's rows (UNION ALL); columns match by position and
// must have the same types.
func (df *DataFrame) Union(other *DataFrame) *DataFrame {
	if df.err != nil {
		return df
	}
	if other.err != nil {
		return other
	}
	ls, rs := df.plan.Schema(), other.plan.Schema()
	if len(ls) != len(rs) {
		return df.s.errFrame(fmt.Errorf("union: %d columns on the left, %d on the right", len(ls), len(rs)))
	}
	out := make(plan.Schema, len(ls))
	for i := range ls {
		if !arrow.TypeEqual(ls[i].Type, rs[i].Type) {
			return df.s.errFrame(fmt.Errorf("union: column %d (%s) is %s on the left and %s on the right", i+1, ls[i].Name, ls[i].Type, rs[i].Type))
		}
		out[i] = df.s.ids.NewColumn(ls[i].Name, "", ls[i].Type, ls[i].Nullable || rs[i].Nullable)
	}
	right := other.plan
	if right == df.plan {
		right, _ = plan.Clone(right, &df.s.ids)
	}
	return df.s.frame(&plan.Union{Inputs: []plan.Node{df.plan, right}, Out: out})
}

// Alias names the DataFrame for qualified column references: after
// a := df.Alias("a"), Col("a.x") is a's column x. It tells the two sides of
// a self-join apart, e.g.
//
//	p.Alias("a").Join(p.Alias("b"), Col("a.boss").Eq(Col("b.id")), "inner")
func (df *DataFrame) Alias(name string) *DataFrame {
	if df.err != nil {
		return df
	}
	in := df.plan.Schema()
	exprs := make([]plan.Expr, len(in))
	out := make(plan.Schema, len(in))
	for i, c := range in {
		exprs[i] = c.Ref()
		out[i] = df.s.ids.NewColumn(c.Name, name, c.Type, c.Nullable)
	}
	return df.s.frame(&plan.Project{Input: df.plan, Projections: exprs, Out: out})
}

// CreateTempView registers the DataFrame as a view usable from SQL.
func (df *DataFrame) CreateTempView(name string) error {
	if df.err != nil {
		return df.err
	}
	return df.s.registerView(name, df.plan, true)
}

// Collect runs the query and returns its batches; the caller must Release
// each one.
func (df *DataFrame) Collect(ctx context.Context) ([]arrow.RecordBatch, error) {
	_, batches, err := df.CollectWithSchema(ctx)
	return batches, err
}

// CollectWithSchema is Collect plus the result schema (useful when the
// result has no rows).
func (df *DataFrame) CollectWithSchema(ctx context.Context) (*arrow.Schema, []arrow.RecordBatch, error) {
	if df.err != nil {
		return nil, nil, df.err
	}
	return df.s.runWhere(ctx, df.plan, df.s.remote != nil && !df.local)
}

// Count runs the query and returns its number of rows.
func (df *DataFrame) Count(ctx context.Context) (int64, error) {
	batches, err := df.Collect(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, b := range batches {
		n += b.NumRows()
		b.Release()
	}
	return n, nil
}

// Show runs the query and prints up to n rows as a table to w.
func (df *DataFrame) Show(ctx context.Context, w io.Writer, n int64) error {
	schema, batches, err := df.Limit(n).CollectWithSchema(ctx)
	if err != nil {
		return err
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	return output.Write(w, output.Table, schema, batches)
}

// Explain returns the logical, optimized and physical plans and the stages.
func (df *DataFrame) Explain() (string, error) {
	if df.err != nil {
		return "", df.err
	}
	c, err := df.s.compile(df.plan)
	if err != nil {
		return "", err
	}
	return c.Explain(), nil
}

// WriteParquet runs the query and writes its result to one Parquet file at
// path (Snappy, statistics on, the Arrow schema stored so types read back
// unchanged). It collects the whole result first: it is for small
// results that must be one local file. Write().Save writes a dataset
// instead — from every task in parallel, streamed, to local or s3://
// targets, committed by a manifest. The file is written under a temporary name in the same
// directory and renamed over path only when complete: path never holds a
// half-written file, and on error it is left as it was.
func (df *DataFrame) WriteParquet(ctx context.Context, path string) error {
	schema, batches, err := df.CollectWithSchema(ctx)
	if err != nil {
		return err
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	// The writer COPY and Write().Save use, with their defaults (Snappy,
	// statistics, the Arrow schema stored).
	opts, err := connectors.ParseWriteOptions(connectors.Parquet, nil)
	if err != nil {
		return fail(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	fw, err := connectors.NewBatchWriter(compute.WithAllocator(ctx, df.s.cfg.mem), schema, bw, opts)
	if err != nil {
		return fail(err)
	}
	for _, b := range batches {
		if err := ctx.Err(); err != nil {
			fw.Close()
			return fail(err)
		}
		if err := fw.Write(b); err != nil {
			fw.Close()
			return fail(err)
		}
	}
	if err := fw.Close(); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	return nil
}
