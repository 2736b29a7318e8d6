package expr

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpNames = [...]string{"=", "<>", "<", "<=", ">", ">="}

// flip returns the operator with its operands swapped (a < b ⇔ b > a).
func (o cmpOp) flip() cmpOp {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

func decLess(a, b decimal128.Num) bool {
	ah, bh := a.HighBits(), b.HighBits()
	return ah < bh || (ah == bh && a.LowBits() < b.LowBits())
}

type compareExpr struct {
	op       cmpOp
	distinct int // 0: plain; 1: IS DISTINCT FROM; 2: IS NOT DISTINCT FROM
	l, r     exec.Expr
}

// Compare returns `l op r` for op in = <> != < <= > >= and "is distinct
// from" / "is not distinct from" (NULL-safe). Both sides must have the same
// type (the planner casts per types.ComparisonType).
func Compare(op string, l, r exec.Expr) (exec.Expr, error) {
	c := &compareExpr{l: l, r: r}
	switch strings.ToLower(strings.Join(strings.Fields(op), " ")) {
	case "=", "==":
		c.op = opEq
	case "<>", "!=":
		c.op = opNe
	case "<":
		c.op = opLt
	case "<=":
		c.op = opLe
	case ">":
		c.op = opGt
	case ">=":
		c.op = opGe
	case "is distinct from":
		c.op, c.distinct = opNe, 1
	case "is not distinct from":
		c.op, c.distinct = opEq, 2
	default:
		return nil, fmt.Errorf("unknown comparison operator %q", op)
	}
	lt, rt := l.DataType(), r.DataType()
	if !arrow.TypeEqual(lt, rt) && !types.IsNull(lt) && !types.IsNull(rt) {
		return nil, fmt.Errorf("comparison %s %s %s: operand types differ (%s vs %s); cast first", l, op, r, types.TypeName(lt), types.TypeName(rt))
	}
	t := lt
	if types.IsNull(t) {
		t = rt
	}
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DATE32, arrow.TIMESTAMP, arrow.DECIMAL64, arrow.DECIMAL128, arrow.STRING, arrow.BOOL, arrow.NULL:
	case arrow.INTERVAL_MONTH_DAY_NANO:
		if c.op != opEq && c.op != opNe {
			return nil, fmt.Errorf("comparison %s on INTERVAL is not supported", op)
		}
	default:
		return nil, fmt.Errorf("comparison %s on %s is not supported", op, types.TypeName(t))
	}
	return foldIfConst(c, l, r)
}

func (c *compareExpr) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (c *compareExpr) String() string {
	switch c.distinct {
	case 1:
		return fmt.Sprintf("(%s IS DISTINCT FROM %s)", c.l, c.r)
	case 2:
		return fmt.Sprintf("(%s IS NOT DISTINCT FROM %s)", c.l, c.r)
	}
	return fmt.Sprintf("(%s %s %s)", c.l, cmpNames[c.op], c.r)
}

func (c *compareExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	l, r, op := c.l, c.r, c.op
	if _, ok := isLit(l); ok {
		if _, ok := isLit(r); !ok {
			l, r, op = r, l, op.flip()
		}
	}
	la, err := l.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer la.Release()
	if lit, ok := isLit(r); ok && (!lit.null || c.distinct != 0) && la.DataType().ID() != arrow.NULL {
		if lit.null { // x IS [NOT] DISTINCT FROM NULL
			return isNullKernel(mem, la, c.distinct == 1), nil
		}
		return compareScalar(mem, op, la, lit, n, c.distinct != 0)
	}
	ra, err := r.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer ra.Release()
	return compareArrays(mem, op, la, ra, n, c.distinct)
}

func compareScalar(mem memory.Allocator, op cmpOp, a arrow.Array, s *literal, n int, distinct bool) (arrow.Array, error) {
	valid, _ := andValidity(mem, n, a)
	vbuf, out := allocBits(mem, n)
	switch a.DataType().ID() {
	case arrow.INT8:
		cmpAS(op, values[int8](a), int8(s.i64), out)
	case arrow.INT16:
		cmpAS(op, values[int16](a), int16(s.i64), out)
	case arrow.INT32, arrow.DATE32:
		cmpAS(op, values[int32](a), int32(s.i64), out)
	case arrow.INT64, arrow.TIMESTAMP, arrow.DECIMAL64:
		cmpAS(op, values[int64](a), s.i64, out)
	case arrow.FLOAT32:
		cmpFloatScalar(op, values[float32](a), float32(s.f64), out, n)
	case arrow.FLOAT64:
		cmpFloatScalar(op, values[float64](a), s.f64, out, n)
	case arrow.DECIMAL128:
		decAS(op, values[decimal128.Num](a), s.dec, out)
	case arrow.STRING:
		offs, data := strData(a)
		cmpStringScalar(op, offs, data, []byte(s.str), out)
	case arrow.BOOL:
		bits, off := boolBits(a)
		for i := 0; i < n; i++ {
			out[i>>3] |= b2u(cmpResult(op, cmpBool(bitutil.BitIsSet(bits, off+i), s.b))) << (i & 7)
		}
	case arrow.INTERVAL_MONTH_DAY_NANO:
		vs := values[arrow.MonthDayNanoInterval](a)
		for i, v := range vs {
			out[i>>3] |= b2u((v == s.iv) == (op == opEq)) << (i & 7)
		}
	default:
		vbuf.Release()
		if valid != nil {
			valid.Release()
		}
		return nil, fmt.Errorf("comparison on %s is not supported", types.TypeName(a.DataType()))
	}
	if distinct && valid != nil {
		// A NULL row vs a non-NULL literal: distinct, never NULL.
		vb := valid.Bytes()
		want := op == opNe
		for i := 0; i < n; i++ {
			if !bitutil.BitIsSet(vb, i) {
				bitutil.SetBitTo(out, i, want)
			}
		}
		valid.Release()
		valid = nil
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, -1, valid, vbuf), nil
}

func cmpBool(a, b bool) int {
	return int(b2u(a)) - int(b2u(b))
}

func cmpResult(op cmpOp, c int) bool {
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

func cmpStringScalar(op cmpOp, offs []int32, data, s []byte, out []byte) {
	n := len(offs) - 1
	switch op {
	case opEq, opNe:
		want := op == opEq
		for i := 0; i < n; i++ {
			v := data[offs[i]:offs[i+1]]
			out[i>>3] |= b2u((len(v) == len(s) && bytes.Equal(v, s)) == want) << (i & 7)
		}
	default:
		for i := 0; i < n; i++ {
			out[i>>3] |= b2u(cmpResult(op, bytes.Compare(data[offs[i]:offs[i+1]], s))) << (i & 7)
		}
	}
}

func cmpStringArrays(op cmpOp, lo []int32, ld []byte, ro []int32, rd []byte, out []byte) {
	n := len(lo) - 1
	switch op {
	case opEq, opNe:
		want := op == opEq
		for i := 0; i < n; i++ {
			a, b := ld[lo[i]:lo[i+1]], rd[ro[i]:ro[i+1]]
			out[i>>3] |= b2u((len(a) == len(b) && bytes.Equal(a, b)) == want) << (i & 7)
		}
	default:
		for i := 0; i < n; i++ {
			out[i>>3] |= b2u(cmpResult(op, bytes.Compare(ld[lo[i]:lo[i+1]], rd[ro[i]:ro[i+1]]))) << (i & 7)
		}
	}
}

func compareArrays(mem memory.Allocator, op cmpOp, a, b arrow.Array, n int, distinct int) (arrow.Array, error) {
	if a.DataType().ID() == arrow.NULL || b.DataType().ID() == arrow.NULL {
		if distinct == 0 {
			return nullArray(mem, arrow.FixedWidthTypes.Boolean, n), nil
		}
		other := a
		if a.DataType().ID() == arrow.NULL {
			other = b
		}
		if other.DataType().ID() == arrow.NULL {
			return fillBool(mem, n, distinct == 2), nil
		}
		return isNullKernel(mem, other, distinct == 1), nil
	}
	vbuf, out := allocBits(mem, n)
	switch a.DataType().ID() {
	case arrow.INT8:
		cmpAA(op, values[int8](a), values[int8](b), out)
	case arrow.INT16:
		cmpAA(op, values[int16](a), values[int16](b), out)
	case arrow.INT32, arrow.DATE32:
		cmpAA(op, values[int32](a), values[int32](b), out)
	case arrow.INT64, arrow.TIMESTAMP, arrow.DECIMAL64:
		cmpAA(op, values[int64](a), values[int64](b), out)
	case arrow.FLOAT32:
		cmpAA(op, values[float32](a), values[float32](b), out)
		nanFixAA(op, values[float32](a), values[float32](b), out)
	case arrow.FLOAT64:
		cmpAA(op, values[float64](a), values[float64](b), out)
		nanFixAA(op, values[float64](a), values[float64](b), out)
	case arrow.DECIMAL128:
		decAA(op, values[decimal128.Num](a), values[decimal128.Num](b), out)
	case arrow.STRING:
		lo, ld := strData(a)
		ro, rd := strData(b)
		cmpStringArrays(op, lo, ld, ro, rd, out)
	case arrow.BOOL:
		ab, ao := boolBits(a)
		bb, bo := boolBits(b)
		for i := 0; i < n; i++ {
			out[i>>3] |= b2u(cmpResult(op, cmpBool(bitutil.BitIsSet(ab, ao+i), bitutil.BitIsSet(bb, bo+i)))) << (i & 7)
		}
	case arrow.INTERVAL_MONTH_DAY_NANO:
		av, bv := values[arrow.MonthDayNanoInterval](a), values[arrow.MonthDayNanoInterval](b)
		for i := range av {
			out[i>>3] |= b2u((av[i] == bv[i]) == (op == opEq)) << (i & 7)
		}
	default:
		vbuf.Release()
		return nil, fmt.Errorf("comparison on %s is not supported", types.TypeName(a.DataType()))
	}
	valid, _ := andValidity(mem, n, a, b)
	if distinct != 0 && valid != nil {
		ab, ao := bitsOf(a)
		bb, bo := bitsOf(b)
		for i := 0; i < n; i++ {
			av, bv := isValid(ab, ao, i), isValid(bb, bo, i)
			if av && bv {
				continue
			}
			same := av == bv // both NULL: not distinct
			bitutil.SetBitTo(out, i, same == (distinct == 2))
		}
		valid.Release()
		valid = nil
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, -1, valid, vbuf), nil
}

func fillBool(mem memory.Allocator, n int, v bool) arrow.Array {
	var buf *memory.Buffer
	if v {
		buf, _ = allocSetBits(mem, n)
	} else {
		buf, _ = allocBits(mem, n)
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, 0, nil, buf)
}

// NaN compares as in DuckDB and PostgreSQL, not as in IEEE 754: equal to
// itself and greater than every other value, +Infinity included (the
// order ORDER BY, GROUP BY and DISTINCT use too). The generated kernels
// compare IEEE-wise; these passes correct the rows where a NaN is
// involved, and cost one scan when there is none.

// nanCmp is the three-way comparison of x and y when one of them is NaN.
func nanCmp(x, y float64) int {
	nx, ny := x != x, y != y
	switch {
	case nx && ny:
		return 0
	case nx:
		return 1
	case ny:
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func setBit(out []byte, i int, v bool) {
	out[i>>3] = out[i>>3]&^(1<<(i&7)) | b2u(v)<<(i&7)
}

// cmpFloatScalar compares a column with a constant in SQL order. Against
// a number, NaN rows compare false for =, <, <= and true for <> in IEEE
// and SQL alike; > and >= are computed as NOT <= and NOT <, which is SQL
// order too (NaN > 1 holds), so no pass looks for NaN.
func cmpFloatScalar[T float32 | float64](op cmpOp, a []T, s T, out []byte, n int) {
	if s != s {
		for i, x := range a {
			setBit(out, i, cmpResult(op, nanCmp(float64(x), float64(s))))
		}
		return
	}
	switch op {
	case opGt, opGe:
		inv := opLe
		if op == opGe {
			inv = opLt
		}
		cmpAS(inv, a, s, out)
		for i := range out {
			out[i] = ^out[i]
		}
		if r := n & 7; r != 0 {
			out[len(out)-1] &= byte(1)<<r - 1
		}
	default:
		cmpAS(op, a, s, out)
	}
}

func nanFixAA[T float32 | float64](op cmpOp, a, b []T, out []byte) {
	if !anyNaN(a) && !anyNaN(b) {
		return
	}
	for i, x := range a {
		if y := b[i]; x != x || y != y {
			setBit(out, i, cmpResult(op, nanCmp(float64(x), float64(y))))
		}
	}
}

// anyNaN reports whether a holds a NaN, branch-free over the bits: NaN is
// the only value whose magnitude bits exceed +Inf's, so adding the mantissa
// mask to the magnitude carries into the sign bit exactly for NaN. The
// common no-NaN batch costs one pass of and/add/or.
func anyNaN[T float32 | float64](a []T) bool {
	if len(a) == 0 {
		return false
	}
	if _, ok := any(a[0]).(float64); ok {
		u := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(a))), len(a))
		const mag, man = 1<<63 - 1, 1<<52 - 1
		var m0, m1, m2, m3 uint64
		i := 0
		for ; i+4 <= len(u); i += 4 {
			m0 |= u[i]&mag + man
			m1 |= u[i+1]&mag + man
			m2 |= u[i+2]&mag + man
			m3 |= u[i+3]&mag + man
		}
		for ; i < len(u); i++ {
			m0 |= u[i]&mag + man
		}
		return (m0|m1|m2|m3)>>63 != 0
	}
	u := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(a))), len(a))
	const mag, man = 1<<31 - 1, 1<<23 - 1
	var m uint32
	for _, x := range u {
		m |= x&mag + man
	}
	return m>>31 != 0
}
