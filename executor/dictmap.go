package executor

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

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
