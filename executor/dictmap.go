package executor

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
)

// scanMaps are the expressions a dictionary decode computes per
// dictionary entry (exec.NewDictDecodeMapped), and the STRING columns
// only they read.
type scanMaps struct {
	maps []exec.DictMap
	skip []int
}

// buildMappedScan builds scan n for an operator right above it that
// computes exprs over its rows (a projection's expressions, a
// prediction's features). Where the scan reads Parquet, the expressions
// of a single STRING column (ml.label_index(ship_mode, …), a comparison,
// a string function: deterministic, no subquery) are computed once per
// dictionary entry by the decode and gathered by the rows' indices, and
// the STRING columns nothing else reads are never decoded. It returns
// the operator and exprs compiled over its output (the scan's columns,
// then one per mapped expression); ok is false when no expression
// qualifies or the scan cannot (its filter reads a STRING column).
func (b *builder) buildMappedScan(n *physical.Scan, exprs []plan.Expr) (op exec.Operator, compiled []exec.Expr, ok bool, err error) {
	if !decodeLate {
		return nil, nil, false, nil
	}
	if n.Filter != nil {
		for _, c := range plan.SplitConjuncts(n.Filter) {
			if readsString(c, n.Out) || plan.HasSubquery(c) || plan.Volatile(c) {
				return nil, nil, false, nil
			}
		}
	}
	mapped := make([]int, len(exprs)) // the map computing exprs[i], or -1
	dense := make([]bool, len(n.Out)) // STRING columns read by other expressions
	var m scanMaps
	for i, e := range exprs {
		mapped[i] = -1
		if _, isCol := e.(*plan.ColRef); !isCol {
			if col := singleStringColumn(e, n.Out); col >= 0 {
				ce, err := CompileExpr(e, plan.Schema{n.Out[col]})
				if err != nil {
					return nil, nil, false, err
				}
				mapped[i] = len(m.maps)
				m.maps = append(m.maps, exec.DictMap{Col: col, Expr: ce, Name: fmt.Sprintf("$dict%d", len(m.maps))})
				continue
			}
		}
		for id := range plan.ReferencedColumns(e) {
			if j := n.Out.Index(id); j >= 0 {
				dense[j] = true
			}
		}
	}
	if len(m.maps) == 0 {
		return nil, nil, false, nil
	}
	for j, c := range n.Out {
		if c.Type.ID() == arrow.STRING && !dense[j] {
			m.skip = append(m.skip, j)
		}
	}
	src, schema, err := b.openScan(n)
	if err != nil {
		return nil, nil, false, err
	}
	if op, ok, err = b.buildDictDecode(src, n, schema, &m); !ok || err != nil {
		return nil, nil, false, err
	}
	compiled = make([]exec.Expr, len(exprs))
	for i, e := range exprs {
		if k := mapped[i]; k >= 0 {
			compiled[i] = expr.Col(len(n.Out)+k, m.maps[k].Expr.DataType(), m.maps[k].Name)
			continue
		}
		if compiled[i], err = CompileExpr(e, n.Out); err != nil {
			op.Close()
			return nil, nil, false, err
		}
	}
	return op, compiled, true, nil
}

// buildDictCounts builds the partial aggregation n as
// exec.NewDictCategoryCounts when it is what a TRANSFORM's encoder fit
// asks for: ml.category_counts of STRING columns, no GROUP BY, over
// renaming projections of a Parquet scan whose filter reads no STRING
// column. The counts then come from the dictionary indices, and no string
// is decoded. ok is false for any other aggregation.
func (b *builder) buildDictCounts(n *physical.HashAgg) (op exec.Operator, ok bool, err error) {
	if !decodeLate || n.Mode != physical.AggPartial || len(n.Groups) > 0 || len(n.Aggs) == 0 {
		return nil, false, nil
	}
	ids := make([]plan.ColumnID, len(n.Aggs))
	for i, a := range n.Aggs {
		if f, known := aggFuncs[a.Func]; !known || f != exec.AggCategoryCounts || a.Distinct || a.Filter != nil || len(a.Args) != 1 {
			return nil, false, nil
		}
		r, isCol := a.Args[0].(*plan.ColRef)
		if !isCol {
			return nil, false, nil
		}
		ids[i] = r.ID
	}
	node := n.Input
	for {
		p, isProj := node.(*physical.Project)
		if !isProj {
			break
		}
		for i, id := range ids {
			j := p.Out.Index(id)
			if j < 0 {
				return nil, false, nil
			}
			r, isCol := p.Exprs[j].(*plan.ColRef)
			if !isCol {
				return nil, false, nil
			}
			ids[i] = r.ID
		}
		node = p.Input
	}
	sc, isScan := node.(*physical.Scan)
	if !isScan {
		return nil, false, nil
	}
	cols := make([]int, len(ids))
	for i, id := range ids {
		if cols[i] = sc.Out.Index(id); cols[i] < 0 || sc.Out[cols[i]].Type.ID() != arrow.STRING {
			return nil, false, nil
		}
	}
	var cond exec.Expr
	if sc.Filter != nil {
		for _, c := range plan.SplitConjuncts(sc.Filter) {
			if readsString(c, sc.Out) || plan.HasSubquery(c) || plan.Volatile(c) {
				return nil, false, nil
			}
		}
		if cond, err = CompileExpr(sc.Filter, sc.Out); err != nil {
			return nil, false, err
		}
	}
	src, schema, err := b.openScan(sc)
	if err != nil {
		return nil, false, err
	}
	if _, can := src.(connectors.DictOpener); !can {
		return nil, false, nil
	}
	// The output is the partial aggregation's own: its state columns as
	// exec.NewHashAggregate names them.
	in := n.Input.Schema()
	specs := make([]exec.AggSpec, len(n.Aggs))
	for i, a := range n.Aggs {
		specs[i] = exec.AggSpec{Func: exec.AggCategoryCounts, Arg: in.Index(a.Args[0].(*plan.ColRef).ID), Name: fmt.Sprintf("agg%d", i)}
	}
	shape, err := exec.NewHashAggregate(schemaOnly{in.Arrow()}, nil, specs, exec.AggPartial)
	if err != nil {
		return nil, false, err
	}
	dict := make([]bool, len(sc.Out))
	for i, f := range schema.Fields() {
		dict[i] = f.Type.ID() == arrow.STRING
	}
	scan, err := exec.NewDictScan(src, b.task.Splits, sc.Cols, dict, schema)
	if err != nil {
		return nil, false, err
	}
	if op, err = exec.NewDictCategoryCounts(scan, cond, cols, shape.Schema()); err != nil {
		scan.Close()
		return nil, false, err
	}
	return op, true, nil
}

// schemaOnly is an operator that is never run: what an operator built
// over it only to learn its output schema reads.
type schemaOnly struct{ schema *arrow.Schema }

func (s schemaOnly) Schema() *arrow.Schema    { return s.schema }
func (schemaOnly) Open(context.Context) error { return fmt.Errorf("internal error: schemaOnly opened") }
func (schemaOnly) Next(context.Context) (arrow.RecordBatch, error) {
	return nil, fmt.Errorf("internal error: schemaOnly read")
}
func (schemaOnly) Close() error { return nil }
