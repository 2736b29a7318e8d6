package expr

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// When is one WHEN cond THEN value branch of a CASE.
type When struct {
	Cond, Value exec.Expr
}

type caseExpr struct {
	whens []When
	els   exec.Expr
	typ   arrow.DataType
}

// Case returns a searched CASE: the value of the first branch whose Cond is
// TRUE (NULL counts as not true), else els (nil → NULL). Values must have
// type typ or the NULL type (the planner casts per types.CommonSuperType).
// A branch's value is evaluated only when some row selects it.
func Case(whens []When, els exec.Expr, typ arrow.DataType) (exec.Expr, error) {
	if len(whens) == 0 {
		return nil, fmt.Errorf("CASE needs at least one WHEN")
	}
	check := func(what string, e exec.Expr) error {
		if t := e.DataType(); !arrow.TypeEqual(t, typ) && !types.IsNull(t) {
			return fmt.Errorf("CASE %s %s has type %s, expected %s", what, e, types.TypeName(t), types.TypeName(typ))
		}
		return nil
	}
	for i, w := range whens {
		if w.Cond == nil || w.Value == nil {
			return nil, fmt.Errorf("CASE branch %d: missing condition or value", i+1)
		}
		if t := w.Cond.DataType(); t.ID() != arrow.BOOL && t.ID() != arrow.NULL {
			return nil, fmt.Errorf("CASE condition %s has type %s, expected BOOLEAN", w.Cond, types.TypeName(t))
		}
		if err := check("value", w.Value); err != nil {
			return nil, err
		}
	}
	if els != nil {
		if err := check("ELSE value", els); err != nil {
			return nil, err
		}
	}
	return &caseExpr{whens: whens, els: els, typ: typ}, nil
}

func (c *caseExpr) DataType() arrow.DataType { return c.typ }

func (c *caseExpr) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range c.whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", w.Cond, w.Value)
	}
	if c.els != nil {
		fmt.Fprintf(&b, " ELSE %s", c.els)
	}
	b.WriteString(" END")
	return b.String()
}

func (c *caseExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	nb := len(c.whens)
	pick := make([]int32, n)
	for i := range pick {
		pick[i] = -1
	}
	remaining := n
	for k, w := range c.whens {
		if remaining == 0 {
			break
		}
		cond, err := w.Cond.Eval(ctx, batch)
		if err != nil {
			return nil, err
		}
		if cond.DataType().ID() == arrow.BOOL {
			bits, off := boolBits(cond)
			nbits, noff := bitsOf(cond)
			for i := range pick {
				if pick[i] < 0 && bitutil.BitIsSet(bits, off+i) && isValid(nbits, noff, i) {
					pick[i] = int32(k)
					remaining--
				}
			}
		}
		cond.Release()
	}
	if c.els != nil && remaining > 0 {
		for i := range pick {
			if pick[i] < 0 {
				pick[i] = int32(nb)
			}
		}
	}
	used := make([]bool, nb+1)
	for _, p := range pick {
		if p >= 0 {
			used[p] = true
		}
	}
	srcs := make([]arrow.Array, nb+1)
	defer func() {
		for _, s := range srcs {
			if s != nil {
				s.Release()
			}
		}
	}()
	for k := 0; k <= nb; k++ {
		if !used[k] {
			continue
		}
		e := c.els
		if k < nb {
			e = c.whens[k].Value
		}
		a, err := e.Eval(ctx, batch)
		if err != nil {
			return nil, err
		}
		srcs[k] = a
	}
	return mergeRows(mem, c.typ, n, pick, srcs)
}
