package expr

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

type logicExpr struct {
	or   bool
	l, r exec.Expr
}

// And returns `l AND r` with SQL three-valued logic: FALSE wins over NULL.
// Non-boolean operands give an error at Eval (constructors of the planner
// check types; use AndChecked to check early).
func And(l, r exec.Expr) exec.Expr { return &logicExpr{l: l, r: r} }

// Or returns `l OR r` with SQL three-valued logic: TRUE wins over NULL.
func Or(l, r exec.Expr) exec.Expr { return &logicExpr{or: true, l: l, r: r} }

func (e *logicExpr) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (e *logicExpr) String() string {
	if e.or {
		return fmt.Sprintf("(%s OR %s)", e.l, e.r)
	}
	return fmt.Sprintf("(%s AND %s)", e.l, e.r)
}

// what is formatted only on error: Eval runs per batch, and rendering an
// expression tree costs more than evaluating a comparison.
func checkBool(what fmt.Stringer, a arrow.Array) error {
	if id := a.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
		return fmt.Errorf("%s: operand must be BOOLEAN, got %s", what.String(), types.TypeName(a.DataType()))
	}
	return nil
}

// boolPlanes returns offset-0 copies of a boolean array's value and
// validity bitmaps, as uint64 words (padded).
func boolPlanes(a arrow.Array, n int) (vals, valid []uint64) {
	words := (n + 63) / 64
	vals = make([]uint64, words)
	valid = make([]uint64, words)
	vbytes := wordsAsBytes(vals)
	mbytes := wordsAsBytes(valid)
	if a.DataType().ID() != arrow.NULL {
		bits, off := boolBits(a)
		bitutil.CopyBitmap(bits, off, n, vbytes, 0)
		if nb, noff := bitsOf(a); nb != nil {
			bitutil.CopyBitmap(nb, noff, n, mbytes, 0)
		} else {
			for i := range valid {
				valid[i] = ^uint64(0)
			}
		}
	}
	return vals, valid
}

func wordsAsBytes(w []uint64) []byte {
	if len(w) == 0 {
		return nil
	}
	return castSlice[byte](unsafeBytes(w))
}

func (e *logicExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	la, err := e.l.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	if err := checkBool(e, la); err != nil {
		la.Release()
		return nil, err
	}
	// Short-circuit: a NULL-free left side that is all FALSE (AND) or all
	// TRUE (OR) decides every row.
	if la.NullN() == 0 && la.DataType().ID() == arrow.BOOL {
		bits, off := boolBits(la)
		set := bitutil.CountSetBits(bits, off, n)
		if (!e.or && set == 0) || (e.or && set == n) {
			return la, nil
		}
	}
	defer la.Release()
	ra, err := e.r.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer ra.Release()
	if err := checkBool(e, ra); err != nil {
		return nil, err
	}
	lv, lm := boolPlanes(la, n)
	rv, rm := boolPlanes(ra, n)
	vbuf, vout := allocFixed[uint64](mem, len(lv)) // whole words; the tail is ignored
	mbuf, mout := allocFixed[uint64](mem, len(lv))
	allValid := ^uint64(0)
	for i := range lv {
		if e.or {
			known := (lm[i] & lv[i]) | (rm[i] & rv[i])
			mout[i] = (lm[i] & rm[i]) | known
			vout[i] = lv[i] | rv[i]
		} else {
			known := (lm[i] &^ lv[i]) | (rm[i] &^ rv[i])
			mout[i] = (lm[i] & rm[i]) | known
			vout[i] = lv[i] & rv[i]
		}
		allValid &= mout[i] | lastWordMask(i, len(lv), n)
	}
	if allValid == ^uint64(0) {
		mbuf.Release()
		mbuf = nil
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, -1, mbuf, vbuf), nil
}

// lastWordMask has the bits beyond n set in the last word (so they do not
// count as NULLs), zero elsewhere.
func lastWordMask(i, words, n int) uint64 {
	if i != words-1 || n%64 == 0 {
		return 0
	}
	return ^uint64(0) << (n % 64)
}

type notExpr struct{ e exec.Expr }

// Not returns `NOT e` (NULL stays NULL).
func Not(e exec.Expr) exec.Expr { return &notExpr{e} }

func (e *notExpr) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e *notExpr) String() string           { return fmt.Sprintf("(NOT %s)", e.e) }

func (e *notExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.e.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	if err := checkBool(e, a); err != nil {
		return nil, err
	}
	mem := exec.Allocator(ctx)
	n := a.Len()
	if a.DataType().ID() == arrow.NULL {
		return nullArray(mem, arrow.FixedWidthTypes.Boolean, n), nil
	}
	bits, off := boolBits(a)
	vbuf, out := allocBits(mem, n)
	bitutil.InvertBitmap(bits, off, n, out, 0)
	valid, _ := andValidity(mem, n, a)
	return makeArray(arrow.FixedWidthTypes.Boolean, n, -1, valid, vbuf), nil
}

type isNullExpr struct {
	e       exec.Expr
	negated bool
}

// IsNull returns `e IS NULL` (or `e IS NOT NULL` when negated); never NULL.
func IsNull(e exec.Expr, negated bool) exec.Expr { return &isNullExpr{e, negated} }

func (e *isNullExpr) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e *isNullExpr) String() string {
	if e.negated {
		return fmt.Sprintf("(%s IS NOT NULL)", e.e)
	}
	return fmt.Sprintf("(%s IS NULL)", e.e)
}

func (e *isNullExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	a, err := e.e.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	return isNullKernel(exec.Allocator(ctx), a, e.negated), nil
}

// isNullKernel returns a non-NULL boolean array: a IS NULL, or IS NOT NULL
// when notNull.
func isNullKernel(mem memory.Allocator, a arrow.Array, notNull bool) arrow.Array {
	n := a.Len()
	if a.DataType().ID() == arrow.NULL {
		return fillBool(mem, n, !notNull)
	}
	bits, off := bitsOf(a)
	if bits == nil {
		return fillBool(mem, n, notNull)
	}
	vbuf, out := allocBits(mem, n)
	if notNull {
		bitutil.CopyBitmap(bits, off, n, out, 0)
	} else {
		bitutil.InvertBitmap(bits, off, n, out, 0)
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, 0, nil, vbuf)
}
