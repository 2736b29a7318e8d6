package executor

import (
	"fmt"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
)

var windowFuncs = map[string]exec.WindowFunc{
	"row_number": exec.WinRowNumber, "rank": exec.WinRank, "dense_rank": exec.WinDenseRank,
	"percent_rank": exec.WinPercentRank, "cume_dist": exec.WinCumeDist, "ntile": exec.WinNtile,
	"lag": exec.WinLag, "lead": exec.WinLead, "first_value": exec.WinFirstValue,
	"last_value": exec.WinLastValue, "nth_value": exec.WinNthValue, "count": exec.WinCount,
	"count_star": exec.WinCountStar, "sum": exec.WinSum, "avg": exec.WinAvg, "min": exec.WinMin, "max": exec.WinMax,
}

var frameKinds = map[plan.FrameBoundKind]int{
	plan.UnboundedPreceding: exec.UnboundedPreceding, plan.Preceding: exec.Preceding,
	plan.CurrentRow: exec.CurrentRow, plan.Following: exec.Following, plan.UnboundedFollowing: exec.UnboundedFollowing,
}

func (b *builder) buildWindow(n *physical.Window) (exec.Operator, error) {
	inSchema := n.Input.Schema()
	specs := make([]exec.WindowSpec, len(n.Funcs))
	for i, f := range n.Funcs {
		fn, ok := windowFuncs[f.Func]
		if !ok {
			return nil, fmt.Errorf("window function %s is not supported", f.Func)
		}
		s := exec.WindowSpec{Func: fn, Arg: -1, Name: n.Out[len(inSchema)+i].Name}
		// Column arguments come first; constant arguments are offsets
		// (lag/lead/ntile/nth_value) and defaults.
		var consts []*plan.Literal
		for _, a := range f.Args {
			switch a := a.(type) {
			case *plan.ColRef:
				if s.Arg >= 0 {
					return nil, fmt.Errorf("window function %s: too many column arguments", f.Func)
				}
				s.Arg = inSchema.Index(a.ID)
			case *plan.Literal:
				consts = append(consts, a)
			default:
				return nil, fmt.Errorf("internal error: window argument %s is not a column or constant", a)
			}
		}
		if fn == exec.WinLag || fn == exec.WinLead {
			s.Offset = 1
		}
		if len(consts) > 0 {
			off, ok := consts[0].Value.(int64)
			if !ok {
				return nil, fmt.Errorf("window function %s: offset must be an integer constant, got %s", f.Func, consts[0])
			}
			s.Offset = off
		}
		if len(consts) > 1 {
			s.Default = consts[1].Value
		}
		for _, p := range f.PartitionBy {
			s.PartitionBy = append(s.PartitionBy, inSchema.Index(p.(*plan.ColRef).ID))
		}
		for _, k := range f.OrderBy {
			s.OrderBy = append(s.OrderBy, exec.SortKey{Col: inSchema.Index(k.E.(*plan.ColRef).ID), Desc: k.Desc, NullsFirst: k.NullsFirst})
		}
		if f.Filter != nil {
			r, ok := f.Filter.(*plan.ColRef)
			if !ok {
				return nil, fmt.Errorf("internal error: window FILTER %s is not a column", f.Filter)
			}
			s.Masked, s.Mask = true, inSchema.Index(r.ID)
		}
		if f.Frame != nil {
			s.Frame = &exec.WindowFrame{Rows: f.Frame.Rows,
				Start: execFrameBound(f.Frame.Start), End: execFrameBound(f.Frame.End)}
		}
		specs[i] = s
	}
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	op, err := exec.NewWindow(in, specs)
	if err != nil {
		in.Close()
	}
	return op, err
}

func execFrameBound(b plan.FrameBound) exec.FrameBound {
	return exec.FrameBound{Kind: frameKinds[b.Kind], Offset: b.Offset, Scale: b.Scale,
		Interval: b.Interval, Months: b.Months, Days: b.Days}
}
