package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// NLJoinSpec describes a nested-loop join.
type NLJoinSpec struct {
	Type JoinType
	// Cond is an optional boolean expression over [left cols..., right
	// cols...]; pairs where it is false or NULL do not match. nil joins
	// every pair (cross join).
	Cond Expr
	// MarkCond, for JoinMark, is a boolean expression over the same pairs:
	// the mark of a left row is TRUE if MarkCond is TRUE for some pair
	// passing Cond, else NULL if it is NULL for some, else FALSE. nil: the
	// mark is TRUE exactly when some pair passes Cond (EXISTS).
	MarkCond Expr
	// MarkName names the mark column ("mark" when empty).
	MarkName string
}

// nljOp materializes the right input, then for each left batch walks the
// (left row, right row) pairs in row-major order, building candidate batches
// of up to BatchSize pairs and evaluating Cond on each whole batch.
type nljOp struct {
	left, right Operator
	spec        NLJoinSpec
	schema      *arrow.Schema
	pairSchema  *arrow.Schema
	semiAnti    bool // semi, anti and mark joins: no right columns out
	markJoin    bool

	built        bool
	rb           arrow.RecordBatch // materialized right side
	rightMatched []bool

	lb       arrow.RecordBatch // current left batch
	lMatched []bool
	lMark    []int8 // mark joins: markFalse, markNull or markTrue per row
	li, ri   int    // next pair to generate
	leftDone bool
	tailPos  int

	outL, outR   []int32 // pending output pairs (-1 = NULL side)
	outMark      []int8  // mark joins: the mark of each pending outL row
	candL, candR []int32
	finished     []nljFinished
}

var _ Operator = (*nljOp)(nil)

// nljFinished is a left row whose last pair ends at candidate pair end.
type nljFinished struct{ row, end int32 }

// NewNestedLoopJoin joins left and right on spec.Cond. Output columns are
// left's then right's (left's only for semi/anti joins, left's then the
// mark for mark joins); the side that outer joins pad with NULLs becomes
// nullable. The right input is fully materialized in memory.
func NewNestedLoopJoin(left, right Operator, spec NLJoinSpec) (Operator, error) {
	if (spec.Type < JoinInner || spec.Type > JoinAnti) && spec.Type != JoinMark {
		return nil, fmt.Errorf("nested loop join: unknown join type %d", int(spec.Type))
	}
	if spec.Cond != nil && spec.Cond.DataType().ID() != arrow.BOOL {
		return nil, fmt.Errorf("nested loop join: condition %s has type %s, not boolean", spec.Cond, spec.Cond.DataType())
	}
	if spec.MarkCond != nil && spec.Type != JoinMark {
		return nil, fmt.Errorf("nested loop join: MarkCond needs a mark join, got %s", spec.Type)
	}
	if spec.MarkCond != nil && spec.MarkCond.DataType().ID() != arrow.BOOL {
		return nil, fmt.Errorf("nested loop join: mark condition %s has type %s, not boolean", spec.MarkCond, spec.MarkCond.DataType())
	}
	ls, rs := left.Schema(), right.Schema()
	mark := spec.Type == JoinMark
	j := &nljOp{left: left, right: right, spec: spec, markJoin: mark,
		semiAnti: spec.Type == JoinSemi || spec.Type == JoinAnti || mark}
	var fields []arrow.Field
	for _, f := range ls.Fields() {
		if spec.Type == JoinRight || spec.Type == JoinFull {
			f.Nullable = true
		}
		fields = append(fields, f)
	}
	if !j.semiAnti {
		for _, f := range rs.Fields() {
			if spec.Type == JoinLeft || spec.Type == JoinFull {
				f.Nullable = true
			}
			fields = append(fields, f)
		}
	}
	if mark {
		name := spec.MarkName
		if name == "" {
			name = "mark"
		}
		fields = append(fields, arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true})
	}
	j.schema = arrow.NewSchema(fields, nil)
	j.pairSchema = arrow.NewSchema(append(append([]arrow.Field{}, ls.Fields()...), rs.Fields()...), nil)
	return j, nil
}

func (j *nljOp) Schema() *arrow.Schema { return j.schema }

func (j *nljOp) Open(ctx context.Context) error {
	j.release()
	if err := j.left.Open(ctx); err != nil {
		return err
	}
	return j.right.Open(ctx)
}

func (j *nljOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !j.built {
		rb, err := sortDrain(ctx, j.right)
		if err != nil {
			return nil, fmt.Errorf("nested loop join: right input: %w", err)
		}
		j.rb, j.built = rb, true
		if j.spec.Type == JoinRight || j.spec.Type == JoinFull {
			j.rightMatched = make([]bool, rb.NumRows())
		}
	}
	bs := BatchSize(ctx)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(j.outL) >= bs || (len(j.outL) > 0 && j.lb != nil && j.li >= int(j.lb.NumRows())) {
			return j.emit(ctx, bs)
		}
		if j.lb != nil && j.li >= int(j.lb.NumRows()) {
			j.lb.Release()
			j.lb = nil
		}
		if j.lb == nil {
			if j.leftDone {
				return j.tail(ctx, bs)
			}
			b, err := j.left.Next(ctx)
			if err != nil {
				return nil, err
			}
			if b == nil {
				j.leftDone = true
				continue
			}
			if b.NumRows() == 0 {
				b.Release()
				continue
			}
			j.lb, j.li, j.ri = b, 0, 0
			j.lMatched = append(j.lMatched[:0], make([]bool, b.NumRows())...)
			if j.markJoin {
				j.lMark = append(j.lMark[:0], make([]int8, b.NumRows())...)
			}
		}
		if err := j.step(ctx, bs); err != nil {
			return nil, err
		}
	}
}

// step generates and evaluates one candidate batch of the current left
// batch, appending matches to the pending output.
func (j *nljOp) step(ctx context.Context, bs int) error {
	nL, nR := int(j.lb.NumRows()), int(j.rb.NumRows())
	j.candL, j.candR, j.finished = j.candL[:0], j.candR[:0], j.finished[:0]
	segments := 0
	// Without conditions a mark is just "the right side has rows".
	noConds := j.markJoin && j.spec.Cond == nil && j.spec.MarkCond == nil
	for len(j.candL) < bs && j.li < nL {
		if noConds && nR > 0 {
			j.lMark[j.li] = markTrue
		}
		if nR == 0 || noConds || (j.semiAnti && j.lMatched[j.li]) {
			j.finishRow(int32(j.li))
			j.li, j.ri = j.li+1, 0
			continue
		}
		take := min(nR-j.ri, bs-len(j.candL))
		for r := j.ri; r < j.ri+take; r++ {
			j.candL = append(j.candL, int32(j.li))
			j.candR = append(j.candR, int32(r))
		}
		segments++
		j.ri += take
		if j.ri == nR {
			j.finished = append(j.finished, nljFinished{int32(j.li), int32(len(j.candL))})
			j.li, j.ri = j.li+1, 0
		}
	}
	if len(j.candL) == 0 {
		return nil
	}
	match, markv, err := j.eval(ctx, segments == 1)
	if err != nil {
		return err
	}
	// Walk pairs in order, finishing each completed left row right after
	// its last pair so output stays in left-row order.
	fin := j.finished
	for p, l := range j.candL {
		if match == nil || bitutil.BitIsSet(match, p) {
			r := j.candR[p]
			if j.markJoin {
				v := markTrue
				if markv != nil {
					v = markv[p]
				}
				j.lMark[l] = max(j.lMark[l], v)
				// Only a TRUE mark settles the row (it skips the rest).
				j.lMatched[l] = j.lMark[l] == markTrue
			} else {
				j.lMatched[l] = true
			}
			if j.rightMatched != nil {
				j.rightMatched[r] = true
			}
			if !j.semiAnti {
				j.outL = append(j.outL, l)
				j.outR = append(j.outR, r)
			}
		}
		if len(fin) > 0 && int(fin[0].end) == p+1 {
			j.finishRow(fin[0].row)
			fin = fin[1:]
		}
	}
	return nil
}

// finishRow emits what a left row produces once all its pairs are known.
func (j *nljOp) finishRow(l int32) {
	m := j.lMatched[l]
	switch j.spec.Type {
	case JoinLeft, JoinFull:
		if !m {
			j.outL = append(j.outL, l)
			j.outR = append(j.outR, -1)
		}
	case JoinSemi:
		if m {
			j.outL = append(j.outL, l)
		}
	case JoinAnti:
		if !m {
			j.outL = append(j.outL, l)
		}
	case JoinMark:
		j.outL = append(j.outL, l)
		j.outMark = append(j.outMark, j.lMark[l])
	}
}

// eval returns a bitmap of candidate pairs satisfying Cond (nil = all)
// and, with a MarkCond, each pair's mark value (nil: TRUE for every pair).
// With one segment (one left row, a contiguous right range) the right
// columns are zero-copy slices.
func (j *nljOp) eval(ctx context.Context, oneSegment bool) ([]byte, []int8, error) {
	if j.spec.Cond == nil && j.spec.MarkCond == nil {
		return nil, nil, nil
	}
	mem := Allocator(ctx)
	n := len(j.candL)
	cols := make([]arrow.Array, 0, j.pairSchema.NumFields())
	for c := range int(j.lb.NumCols()) {
		a, err := batchTakeArray(ctx, mem, j.lb.Column(c), j.candL)
		if err != nil {
			batchReleaseAll(cols)
			return nil, nil, fmt.Errorf("nested loop join: left column %d: %w", c, err)
		}
		cols = append(cols, a)
	}
	for c := range int(j.rb.NumCols()) {
		var a arrow.Array
		if oneSegment {
			lo := int64(j.candR[0])
			a = array.NewSlice(j.rb.Column(c), lo, lo+int64(n))
		} else {
			var err error
			if a, err = batchTakeArray(ctx, mem, j.rb.Column(c), j.candR); err != nil {
				batchReleaseAll(cols)
				return nil, nil, fmt.Errorf("nested loop join: right column %d: %w", c, err)
			}
		}
		cols = append(cols, a)
	}
	pairs := batchNewOwned(j.pairSchema, cols, int64(n))
	defer pairs.Release()
	var match []byte
	if j.spec.Cond != nil {
		ba, err := nljEvalBool(ctx, j.spec.Cond, pairs, "condition")
		if err != nil {
			return nil, nil, err
		}
		match = make([]byte, bitutil.BytesForBits(int64(n)))
		for p := range n {
			if ba.IsValid(p) && ba.Value(p) {
				bitutil.SetBit(match, p)
			}
		}
		ba.Release()
	}
	var markv []int8
	if j.spec.MarkCond != nil {
		ba, err := nljEvalBool(ctx, j.spec.MarkCond, pairs, "mark condition")
		if err != nil {
			return nil, nil, err
		}
		markv = make([]int8, n)
		for p := range n {
			switch {
			case !ba.IsValid(p):
				markv[p] = markNull
			case ba.Value(p):
				markv[p] = markTrue
			}
		}
		ba.Release()
	}
	return match, markv, nil
}

func nljEvalBool(ctx context.Context, e Expr, pairs arrow.RecordBatch, what string) (*array.Boolean, error) {
	res, err := e.Eval(ctx, pairs)
	if err != nil {
		return nil, fmt.Errorf("nested loop join: %s %s: %w", what, e, err)
	}
	ba, ok := res.(*array.Boolean)
	if !ok || int64(ba.Len()) != pairs.NumRows() {
		res.Release()
		return nil, fmt.Errorf("nested loop join: %s %s returned %s of length %d, want boolean of length %d", what, e, res.DataType(), res.Len(), pairs.NumRows())
	}
	return ba, nil
}

// emit outputs up to bs pending pairs of the current left batch.
func (j *nljOp) emit(ctx context.Context, bs int) (arrow.RecordBatch, error) {
	n := min(bs, len(j.outL))
	var rIdx []int32
	if !j.semiAnti {
		rIdx = j.outR[:n]
	}
	out, err := j.gather(ctx, j.outL[:n], rIdx, n)
	j.outL = j.outL[:copy(j.outL, j.outL[n:])]
	if j.markJoin {
		j.outMark = j.outMark[:copy(j.outMark, j.outMark[n:])]
	}
	if !j.semiAnti {
		j.outR = j.outR[:copy(j.outR, j.outR[n:])]
	}
	return out, err
}

// tail emits unmatched right rows (right and full joins) after the left
// input is exhausted.
func (j *nljOp) tail(ctx context.Context, bs int) (arrow.RecordBatch, error) {
	var idx []int32
	for j.tailPos < len(j.rightMatched) && len(idx) < bs {
		if !j.rightMatched[j.tailPos] {
			idx = append(idx, int32(j.tailPos))
		}
		j.tailPos++
	}
	if len(idx) == 0 {
		return nil, nil
	}
	return j.gather(ctx, nil, idx, len(idx))
}

// gather builds output rows: left columns by lIdx (nil = all NULL), right
// columns by rIdx; -1 entries are NULL.
func (j *nljOp) gather(ctx context.Context, lIdx, rIdx []int32, n int) (arrow.RecordBatch, error) {
	mem := Allocator(ctx)
	cols := make([]arrow.Array, 0, j.schema.NumFields())
	ls := j.left.Schema()
	for c := range ls.NumFields() {
		var a arrow.Array
		if lIdx == nil {
			a = array.MakeArrayOfNull(mem, ls.Field(c).Type, n)
		} else {
			var err error
			if a, err = batchTakeArray(ctx, mem, j.lb.Column(c), lIdx); err != nil {
				batchReleaseAll(cols)
				return nil, fmt.Errorf("nested loop join: left column %d: %w", c, err)
			}
		}
		cols = append(cols, a)
	}
	if !j.semiAnti {
		for c := range int(j.rb.NumCols()) {
			a, err := batchTakeArray(ctx, mem, j.rb.Column(c), rIdx)
			if err != nil {
				batchReleaseAll(cols)
				return nil, fmt.Errorf("nested loop join: right column %d: %w", c, err)
			}
			cols = append(cols, a)
		}
	}
	if j.markJoin {
		bb := array.NewBooleanBuilder(mem)
		bb.Reserve(n)
		for _, m := range j.outMark[:n] {
			if m == markNull {
				bb.AppendNull()
			} else {
				bb.UnsafeAppend(m == markTrue)
			}
		}
		cols = append(cols, bb.NewArray())
		bb.Release()
	}
	return batchNewOwned(j.schema, cols, int64(n)), nil
}

func (j *nljOp) release() {
	if j.rb != nil {
		j.rb.Release()
		j.rb = nil
	}
	if j.lb != nil {
		j.lb.Release()
		j.lb = nil
	}
	j.built, j.leftDone, j.tailPos = false, false, 0
	j.rightMatched, j.outL, j.outR, j.outMark = nil, j.outL[:0], j.outR[:0], j.outMark[:0]
}

func (j *nljOp) Close() error {
	j.release()
	lerr := j.left.Close()
	if rerr := j.right.Close(); lerr == nil {
		lerr = rerr
	}
	return lerr
}
