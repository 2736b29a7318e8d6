package expr

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

// argv is one evaluated function argument: an array, or a literal that is
// never materialized.
type argv struct {
	arr  arrow.Array
	lit  *literal
	litB []byte
	offs []int32
	data []byte
	i64  []int64 // integer arguments, widened
	f64  []float64
}

func (a *argv) isNull(i int) bool {
	if a.lit != nil {
		return a.lit.null
	}
	return a.arr.IsNull(i)
}

func (a *argv) str(i int) []byte {
	if a.lit != nil {
		return a.litB
	}
	return a.data[a.offs[i]:a.offs[i+1]]
}

func (a *argv) int(i int) int64 {
	if a.lit != nil {
		return a.lit.i64
	}
	return a.i64[i]
}

func (a *argv) float(i int) float64 {
	if a.lit != nil {
		return a.lit.f64
	}
	return a.f64[i]
}

// funcImpl computes a function over evaluated arguments; valid is the AND
// of the arguments' validity (nil: all valid).
type funcImpl func(k *funcCall) (arrow.Array, error)

type funcCall struct {
	f     *funcExpr
	mem   memory.Allocator
	n     int
	args  []*argv
	valid *memory.Buffer // AND of argument validity, owned by the impl
	vb    []byte
}

func (k *funcCall) releaseValid() {
	if k.valid != nil {
		k.valid.Release()
		k.valid = nil
	}
}

type funcExpr struct {
	name   string
	args   []exec.Expr
	result arrow.DataType
	impl   funcImpl
	// skipNullCheck: the impl handles NULL arguments itself (coalesce...).
	ownNulls bool
	digits   int64 // round: constant number of digits
}

// Call returns the scalar function name applied to args. Signatures come
// from types.FunctionType; arguments whose type differs from the cast it
// asks for are cast here. Calls with only literal arguments are folded.
func Call(name string, args []exec.Expr) (exec.Expr, error) {
	lname := strings.ToLower(name)
	ts := make([]arrow.DataType, len(args))
	for i, a := range args {
		ts[i] = a.DataType()
	}
	res, casts, err := types.FunctionType(lname, ts)
	if err != nil {
		return nil, err
	}
	if lname == types.ListExtract || lname == "list_element" {
		return newListExtract(args[0], args[1])
	}
	if e, ok, err := mlCall(lname, args, res, casts); ok {
		return e, err
	}
	cargs := make([]exec.Expr, len(args))
	for i, a := range args {
		if !arrow.TypeEqual(casts[i], a.DataType()) {
			if a, err = Cast(a, casts[i]); err != nil {
				return nil, fmt.Errorf("%s argument %d: %w", lname, i+1, err)
			}
		}
		cargs[i] = a
	}
	f := &funcExpr{name: lname, args: cargs, result: res}
	if err := f.bind(); err != nil {
		return nil, err
	}
	return foldIfConst(f, cargs...)
}

func (f *funcExpr) DataType() arrow.DataType { return f.result }

func (f *funcExpr) String() string {
	parts := make([]string, len(f.args))
	for i, a := range f.args {
		parts[i] = a.String()
	}
	return fmt.Sprintf("%s(%s)", f.name, strings.Join(parts, ", "))
}

func (f *funcExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	n := int(batch.NumRows())
	k := &funcCall{f: f, mem: mem, n: n, args: make([]*argv, len(f.args))}
	var arrs []arrow.Array
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	for i, e := range f.args {
		av := &argv{}
		if l, ok := isLit(e); ok && !(f.ownNulls && l.null) && len(f.args) > 0 && !allLit(f.args...) {
			av.lit = l
			av.litB = []byte(l.str)
			if l.null && !f.ownNulls {
				return nullArray(mem, f.result, n), nil
			}
		} else {
			a, err := e.Eval(ctx, batch)
			if err != nil {
				return nil, err
			}
			arrs = append(arrs, a)
			if a.DataType().ID() == arrow.NULL && !f.ownNulls {
				return nullArray(mem, f.result, n), nil
			}
			av.arr = a
			switch a.DataType().ID() {
			case arrow.STRING:
				av.offs, av.data = strData(a)
			case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
				av.i64 = intsAsI64(a)
			case arrow.FLOAT64:
				av.f64 = values[float64](a)
			}
		}
		k.args[i] = av
	}
	if !f.ownNulls {
		k.valid, k.vb = andValidity(mem, n, arrs...)
	}
	out, err := f.impl(k)
	if err != nil {
		k.releaseValid()
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	return out, nil
}

// ---- output helpers ----

func (k *funcCall) strings(hint int, fn func(i int, dst []byte) []byte) arrow.Array {
	sb := newStrBuilder(k.n, hint)
	for i := 0; i < k.n; i++ {
		if !isValid(k.vb, 0, i) {
			sb.end()
			continue
		}
		sb.data = fn(i, sb.data)
		sb.end()
	}
	v := k.valid
	k.valid = nil
	return sb.finish(k.mem, v)
}

func (k *funcCall) int64s(fn func(i int) int64) arrow.Array {
	buf, out := allocFixed[int64](k.mem, k.n)
	for i := range out {
		if isValid(k.vb, 0, i) {
			out[i] = fn(i)
		} else {
			out[i] = 0
		}
	}
	v := k.valid
	k.valid = nil
	return makeArray(types.Int64, k.n, -1, v, buf)
}

func (k *funcCall) float64s(fn func(x float64) float64) arrow.Array {
	a := k.args[0]
	buf, out := allocFixed[float64](k.mem, k.n)
	for i := range out {
		out[i] = fn(a.float(i))
	}
	v := k.valid
	k.valid = nil
	return makeArray(types.Float64, k.n, -1, v, buf)
}

func (k *funcCall) bools(fn func(i int) bool) arrow.Array {
	buf, out := allocBits(k.mem, k.n)
	for i := 0; i < k.n; i++ {
		if isValid(k.vb, 0, i) {
			out[i>>3] |= b2u(fn(i)) << (i & 7)
		}
	}
	v := k.valid
	k.valid = nil
	return makeArray(types.Boolean, k.n, -1, v, buf)
}

// ---- binding ----

func (f *funcExpr) bind() error {
	switch f.name {
	case "upper", "ucase":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.strings(0, func(i int, dst []byte) []byte { return appendUpper(dst, a.str(i)) }), nil
		}
	case "lower", "lcase":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.strings(0, func(i int, dst []byte) []byte { return appendLower(dst, a.str(i)) }), nil
		}
	case "reverse":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.strings(0, func(i int, dst []byte) []byte {
				s := a.str(i)
				for len(s) > 0 {
					r, w := utf8.DecodeLastRune(s)
					dst = utf8.AppendRune(dst, r)
					s = s[:len(s)-w]
				}
				return dst
			}), nil
		}
	case "trim", "ltrim", "rtrim":
		left, right := f.name != "rtrim", f.name != "ltrim"
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.strings(0, func(i int, dst []byte) []byte {
				cut := " "
				if len(k.args) > 1 {
					cut = string(k.args[1].str(i))
				}
				s := a.str(i)
				if left {
					s = bytes.TrimLeft(s, cut)
				}
				if right {
					s = bytes.TrimRight(s, cut)
				}
				return append(dst, s...)
			}), nil
		}
	case "substring", "substr":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.strings(0, func(i int, dst []byte) []byte {
				length := int64(math.MaxInt32)
				if len(k.args) > 2 {
					length = k.args[2].int(i)
				}
				return append(dst, substring(a.str(i), k.args[1].int(i), length)...)
			}), nil
		}
	case "left", "right":
		isLeft := f.name == "left"
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.strings(0, func(i int, dst []byte) []byte {
				s := a.str(i)
				nc := int64(utf8.RuneCount(s))
				c := k.args[1].int(i)
				if c < 0 {
					c = max(0, nc+c)
				}
				c = min(c, nc)
				if isLeft {
					return append(dst, substring(s, 1, c)...)
				}
				return append(dst, substring(s, nc-c+1, c)...)
			}), nil
		}
	case "replace":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a, from, to := k.args[0], k.args[1], k.args[2]
			return k.strings(0, func(i int, dst []byte) []byte {
				s, o := a.str(i), from.str(i)
				if len(o) == 0 {
					return append(dst, s...)
				}
				r := to.str(i)
				for {
					j := bytes.Index(s, o)
					if j < 0 {
						return append(dst, s...)
					}
					dst = append(dst, s[:j]...)
					dst = append(dst, r...)
					s = s[j+len(o):]
				}
			}), nil
		}
	case "concat_op":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			return k.strings(0, func(i int, dst []byte) []byte {
				return append(append(dst, k.args[0].str(i)...), k.args[1].str(i)...)
			}), nil
		}
	case "concat":
		f.ownNulls = true
		f.impl = func(k *funcCall) (arrow.Array, error) {
			return k.strings(0, func(i int, dst []byte) []byte {
				for _, a := range k.args {
					if (a.lit == nil && a.arr.DataType().ID() == arrow.NULL) || a.isNull(i) {
						continue
					}
					dst = append(dst, a.str(i)...)
				}
				return dst
			}), nil
		}
	case "concat_ws":
		// NULL separator: NULL; NULL arguments are skipped (DuckDB).
		f.ownNulls = true
		f.impl = func(k *funcCall) (arrow.Array, error) {
			sep := k.args[0]
			if sep.lit == nil && sep.arr.DataType().ID() == arrow.NULL {
				return nullArray(k.mem, f.result, k.n), nil
			}
			k.valid, k.vb = andValidity(k.mem, k.n, argArrays(k.args[:1])...)
			return k.strings(0, func(i int, dst []byte) []byte {
				if sep.isNull(i) {
					return dst
				}
				first := true
				for _, a := range k.args[1:] {
					if (a.lit == nil && a.arr.DataType().ID() == arrow.NULL) || a.isNull(i) {
						continue
					}
					if !first {
						dst = append(dst, sep.str(i)...)
					}
					first = false
					dst = append(dst, a.str(i)...)
				}
				return dst
			}), nil
		}
	case "lpad", "rpad":
		left := f.name == "lpad"
		f.impl = func(k *funcCall) (arrow.Array, error) {
			s, width, pad := k.args[0], k.args[1], k.args[2]
			var err error
			out := k.strings(0, func(i int, dst []byte) []byte {
				r, e := padString(dst, s.str(i), width.int(i), pad.str(i), left)
				if e != nil && err == nil {
					err = e
				}
				return r
			})
			if err != nil {
				out.Release()
				return nil, err
			}
			return out, nil
		}
	case "repeat":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			s, times := k.args[0], k.args[1]
			var err error
			out := k.strings(0, func(i int, dst []byte) []byte {
				str, n := s.str(i), times.int(i)
				if n <= 0 || len(str) == 0 {
					return dst
				}
				if n*int64(len(str)) > maxStringResult {
					if err == nil {
						err = fmt.Errorf("result of %d × %d bytes is too large", n, len(str))
					}
					return dst
				}
				for ; n > 0; n-- {
					dst = append(dst, str...)
				}
				return dst
			})
			if err != nil {
				out.Release()
				return nil, err
			}
			return out, nil
		}
	case "split_part":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			s, delim, idx := k.args[0], k.args[1], k.args[2]
			return k.strings(0, func(i int, dst []byte) []byte {
				return append(dst, splitPart(s.str(i), delim.str(i), idx.int(i))...)
			}), nil
		}
	case "length", "char_length", "character_length":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.int64s(func(i int) int64 { return int64(utf8.RuneCount(a.str(i))) }), nil
		}
	case "octet_length":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.int64s(func(i int) int64 { return int64(len(a.str(i))) }), nil
		}
	case "strpos", "position", "instr":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a, b := k.args[0], k.args[1]
			return k.int64s(func(i int) int64 {
				s := a.str(i)
				j := bytes.Index(s, b.str(i))
				if j < 0 {
					return 0
				}
				return int64(utf8.RuneCount(s[:j])) + 1
			}), nil
		}
	case "like", "ilike":
		fold := f.name == "ilike"
		f.impl = func(k *funcCall) (arrow.Array, error) {
			s, pat := k.args[0], k.args[1]
			// Patterns repeat (a column of a few distinct values): compile
			// each once per batch.
			cache := map[string]*likeMatcher{}
			var err error
			var scratch []byte
			out := k.bools(func(i int) bool {
				var esc rune
				if len(k.args) > 2 {
					e := []rune(string(k.args[2].str(i)))
					if len(e) > 1 {
						if err == nil {
							err = fmt.Errorf("LIKE ESCAPE must be a single character, got %q at row %d", string(e), i)
						}
						return false
					}
					if len(e) == 1 {
						esc = e[0]
					}
				}
				p := pat.str(i)
				if fold {
					p = bytes.ToLower(p)
				}
				key := string(p) + string(esc)
				m, ok := cache[key]
				if !ok {
					var e error
					if m, e = compileLike(string(p), esc); e != nil {
						if err == nil {
							err = fmt.Errorf("row %d: %w", i, e)
						}
						return false
					}
					if len(cache) < 4096 {
						cache[key] = m
					}
				}
				v := s.str(i)
				if fold {
					scratch = appendLower(scratch[:0], v)
					v = scratch
				}
				return m.match(v)
			})
			if err != nil {
				out.Release()
				return nil, err
			}
			return out, nil
		}
	case "starts_with", "ends_with", "contains":
		fn := map[string]func(s, t []byte) bool{"starts_with": bytes.HasPrefix, "ends_with": bytes.HasSuffix, "contains": bytes.Contains}[f.name]
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a, b := k.args[0], k.args[1]
			return k.bools(func(i int) bool { return fn(a.str(i), b.str(i)) }), nil
		}
	case "coalesce", "ifnull":
		f.ownNulls = true
		f.impl = func(k *funcCall) (arrow.Array, error) {
			srcs, release := k.materialized()
			defer release()
			pick := make([]int32, k.n)
			for i := range pick {
				pick[i] = -1
				for j, s := range srcs {
					if s.DataType().ID() != arrow.NULL && s.IsValid(i) {
						pick[i] = int32(j)
						break
					}
				}
			}
			return mergeRows(k.mem, k.f.result, k.n, pick, srcs)
		}
	case types.SingleRowValue:
		f.ownNulls = true
		f.impl = func(k *funcCall) (arrow.Array, error) {
			srcs, release := k.materialized()
			defer release()
			cnt, ok := srcs[0].(*array.Int64)
			if !ok {
				return nil, fmt.Errorf("%s: row count is %s, not BIGINT", types.SingleRowValue, srcs[0].DataType())
			}
			pick := make([]int32, k.n)
			for i := range pick {
				if cnt.IsValid(i) && cnt.Value(i) > 1 {
					return nil, errors.New(types.ErrSubqueryRows)
				}
			}
			return mergeRows(k.mem, k.f.result, k.n, pick, srcs[1:])
		}
	case "nullif":
		f.ownNulls = true
		f.impl = func(k *funcCall) (arrow.Array, error) {
			srcs, release := k.materialized()
			defer release()
			eq, err := compareArrays(k.mem, opEq, srcs[0], srcs[1], k.n, 0)
			if err != nil {
				return nil, err
			}
			defer eq.Release()
			pick := make([]int32, k.n)
			be := eq.(interface{ Value(int) bool })
			for i := range pick {
				if eq.IsValid(i) && be.Value(i) {
					pick[i] = -1
				}
			}
			return mergeRows(k.mem, k.f.result, k.n, pick, srcs[:1])
		}
	case "greatest", "least":
		f.ownNulls = true
		greatest := f.name == "greatest"
		f.impl = func(k *funcCall) (arrow.Array, error) {
			srcs, release := k.materialized()
			defer release()
			pick, err := pickExtreme(k.f.result, srcs, k.n, greatest)
			if err != nil {
				return nil, err
			}
			return mergeRows(k.mem, k.f.result, k.n, pick, srcs)
		}
	case "abs", "round", "floor", "ceil", "ceiling":
		if len(f.args) > 1 {
			l, ok := isLit(f.args[1])
			if !ok || l.null {
				return fmt.Errorf("%s: the number of digits must be a constant integer", f.name)
			}
			f.digits = l.i64
			if types.IsDecimal(f.args[0].DataType()) && f.name == "round" {
				f.result = types.RoundDecimalType(f.args[0].DataType(), f.digits)
			}
		}
		f.impl = numericFunc
	case "sign":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a := k.args[0]
			return k.int64s(func(i int) int64 {
				x := a.float(i)
				switch {
				case x > 0:
					return 1
				case x < 0:
					return -1
				}
				return 0
			}), nil
		}
	case "sqrt", "exp", "ln", "log", "log10", "log2":
		fn := map[string]func(float64) float64{"sqrt": math.Sqrt, "exp": math.Exp, "ln": math.Log, "log": math.Log10, "log10": math.Log10, "log2": math.Log2}[f.name]
		f.impl = func(k *funcCall) (arrow.Array, error) { return k.float64s(fn), nil }
	case "power", "pow":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a, b := k.args[0], k.args[1]
			buf, out := allocFixed[float64](k.mem, k.n)
			for i := range out {
				out[i] = math.Pow(a.float(i), b.float(i))
			}
			v := k.valid
			k.valid = nil
			return makeArray(types.Float64, k.n, -1, v, buf), nil
		}
	case "extract", "date_part", "date_trunc":
		unitLit, ok := isLit(f.args[0])
		if !ok || unitLit.null {
			return fmt.Errorf("%s: the unit must be a constant string", f.name)
		}
		unit := strings.ToLower(strings.TrimSpace(unitLit.str))
		if f.name == "date_trunc" {
			if _, ok := truncUnits[unit]; !ok {
				return fmt.Errorf("%s: unknown unit %q (want one of year, quarter, month, week, day, hour, minute, second)", f.name, unit)
			}
			f.impl = func(k *funcCall) (arrow.Array, error) { return dateTrunc(k, unit) }
			return nil
		}
		part, ok := partFuncs[unit]
		if !ok {
			return fmt.Errorf("%s: unknown part %q (want one of %s)", f.name, unit, strings.Join(types.DatePartUnits, ", "))
		}
		f.impl = func(k *funcCall) (arrow.Array, error) { return datePartKernel(k, 1, part) }
	case "date_diff", "datediff":
		unitLit, ok := isLit(f.args[0])
		if !ok || unitLit.null {
			return fmt.Errorf("%s: the unit must be a constant string", f.name)
		}
		unit := strings.ToLower(strings.TrimSpace(unitLit.str))
		idx, ok := diffUnits[unit]
		if !ok {
			return fmt.Errorf("%s: unknown unit %q (want one of year, quarter, month, week, day, hour, minute, second)", f.name, unit)
		}
		f.impl = func(k *funcCall) (arrow.Array, error) { return dateDiffKernel(k, idx) }
	case "last_day":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			a, rel := temporalArg(k, 0)
			defer rel()
			split := splitTemporal(a)
			buf, out := allocFixed[int32](k.mem, k.n)
			for i := range out {
				d, _ := split(i)
				y, m, _ := types.CivilFromDays(d)
				out[i] = int32(types.DaysFromCivil(y, m, types.DaysInMonth(y, m)))
			}
			v := k.valid
			k.valid = nil
			return makeArray(types.Date32, k.n, -1, v, buf), nil
		}
	case "make_date":
		f.impl = func(k *funcCall) (arrow.Array, error) {
			buf, out := allocFixed[int32](k.mem, k.n)
			for i := range out {
				if !isValid(k.vb, 0, i) {
					continue
				}
				y, m, d := k.args[0].int(i), k.args[1].int(i), k.args[2].int(i)
				if m < 1 || m > 12 || d < 1 || y < -290000 || y > 290000 || d > int64(types.DaysInMonth(int(y), int(m))) {
					buf.Release()
					return nil, fmt.Errorf("date out of range: %d-%d-%d at row %d", y, m, d, i)
				}
				out[i] = int32(types.DaysFromCivil(int(y), int(m), int(d)))
			}
			v := k.valid
			k.valid = nil
			return makeArray(types.Date32, k.n, -1, v, buf), nil
		}
	case "year", "month", "day", "quarter", "dayofweek", "dayofyear", "dayofmonth", "week", "weekofyear", "hour", "minute", "second":
		unit := map[string]string{"dayofweek": "dow", "dayofyear": "doy", "dayofmonth": "day", "weekofyear": "week"}[f.name]
		if unit == "" {
			unit = f.name
		}
		part := partFuncs[unit]
		f.impl = func(k *funcCall) (arrow.Array, error) { return datePartKernel(k, 0, part) }
	default:
		if impl, own, ok := mlKernel(f.name); ok {
			f.impl, f.ownNulls = impl, own
			return nil
		}
		return fmt.Errorf("function %s has a signature but no kernel", f.name)
	}
	return nil
}

// maxStringResult bounds one value built by repeat/lpad/rpad.
const maxStringResult = 1 << 28

// argArrays returns the array arguments among args (literals have none).
func argArrays(args []*argv) []arrow.Array {
	var out []arrow.Array
	for _, a := range args {
		if a.arr != nil {
			out = append(out, a.arr)
		}
	}
	return out
}

// padString appends s padded (on the left for lpad) with pad to width
// characters, or cut to width characters when longer (DuckDB).
func padString(dst, s []byte, width int64, pad []byte, left bool) ([]byte, error) {
	if width <= 0 {
		return dst, nil
	}
	if width > maxStringResult {
		return dst, fmt.Errorf("pad width %d is too large", width)
	}
	n := int64(utf8.RuneCount(s))
	if n >= width {
		return append(dst, substring(s, 1, width)...), nil
	}
	if len(pad) == 0 {
		return dst, fmt.Errorf("insufficient padding: the pad string is empty")
	}
	fill := func(dst []byte, count int64) []byte {
		for p := pad; count > 0; count-- {
			if len(p) == 0 {
				p = pad
			}
			_, w := utf8.DecodeRune(p)
			dst = append(dst, p[:w]...)
			p = p[w:]
		}
		return dst
	}
	if left {
		dst = fill(dst, width-n)
		return append(dst, s...), nil
	}
	dst = append(dst, s...)
	return fill(dst, width-n), nil
}

// splitPart is the idx-th (1-based; negative counts from the end) field of
// s split on delim, or "" when there is no such field. An empty delimiter
// splits s into characters (DuckDB's string_split).
func splitPart(s, delim []byte, idx int64) []byte {
	var parts [][]byte
	if len(delim) == 0 {
		for len(s) > 0 {
			_, w := utf8.DecodeRune(s)
			parts = append(parts, s[:w])
			s = s[w:]
		}
	} else {
		parts = bytes.Split(s, delim)
	}
	switch {
	case idx > 0 && idx <= int64(len(parts)):
		return parts[idx-1]
	case idx < 0 && -idx <= int64(len(parts)):
		return parts[int64(len(parts))+idx]
	}
	return nil
}

// materialized returns every argument as an array (literals expanded).
func (k *funcCall) materialized() ([]arrow.Array, func()) {
	out := make([]arrow.Array, len(k.args))
	var owned []arrow.Array
	for i, a := range k.args {
		if a.lit != nil {
			out[i] = a.lit.materialize(k.mem, k.n)
			owned = append(owned, out[i])
		} else {
			out[i] = a.arr
		}
	}
	return out, func() {
		for _, a := range owned {
			a.Release()
		}
	}
}

func appendUpper(dst, s []byte) []byte {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return append(dst, bytes.ToUpper(s)...)
		}
	}
	for _, c := range s {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// substring is SQL substring with 1-based character positions (DuckDB):
// start 0 or negative counts positions before the string (start < 0 counts
// from the end), a negative length gives the empty string.
func substring(s []byte, start, length int64) []byte {
	var nc int64
	ascii := isASCII(s)
	if ascii {
		nc = int64(len(s))
	} else {
		nc = int64(utf8.RuneCount(s))
	}
	if length < 0 {
		return nil
	}
	var begin int64
	switch {
	case start > 0:
		begin = start - 1
	case start == 0:
		begin, length = 0, length-1
	default:
		begin = nc + start
		if begin < 0 {
			length += begin
			begin = 0
		}
	}
	if length <= 0 || begin >= nc {
		return nil
	}
	end := min(nc, begin+length)
	if ascii {
		return s[begin:end]
	}
	// Walk runes to byte positions.
	bi, ci := 0, int64(0)
	var bb, be int
	for ci < end {
		if ci == begin {
			bb = bi
		}
		_, w := utf8.DecodeRune(s[bi:])
		bi += w
		ci++
	}
	be = bi
	if begin == end {
		return nil
	}
	return s[bb:be]
}

func pickExtreme(t arrow.DataType, srcs []arrow.Array, n int, greatest bool) ([]int32, error) {
	pick := make([]int32, n)
	for i := range pick {
		pick[i] = -1
	}
	better := func(c int) bool { return (c > 0) == greatest && c != 0 }
	type cmpFn func(j, p, i int) int
	var c cmpFn
	switch t.ID() {
	case arrow.INT8:
		c = fixedCmp[int8](srcs)
	case arrow.INT16:
		c = fixedCmp[int16](srcs)
	case arrow.INT32, arrow.DATE32:
		c = fixedCmp[int32](srcs)
	case arrow.INT64, arrow.TIMESTAMP, arrow.DECIMAL64:
		c = fixedCmp[int64](srcs)
	case arrow.FLOAT32:
		c = fixedCmp[float32](srcs)
	case arrow.FLOAT64:
		c = fixedCmp[float64](srcs)
	case arrow.DECIMAL128:
		vs := make([][]decimal128.Num, len(srcs))
		for j, s := range srcs {
			if s.DataType().ID() != arrow.NULL {
				vs[j] = values[decimal128.Num](s)
			}
		}
		c = func(j, p, i int) int { return vs[j][i].Cmp(vs[p][i]) }
	case arrow.STRING:
		type sd struct {
			o []int32
			d []byte
		}
		ss := make([]sd, len(srcs))
		for j, s := range srcs {
			if s.DataType().ID() != arrow.NULL {
				ss[j].o, ss[j].d = strData(s)
			}
		}
		c = func(j, p, i int) int {
			return bytes.Compare(ss[j].d[ss[j].o[i]:ss[j].o[i+1]], ss[p].d[ss[p].o[i]:ss[p].o[i+1]])
		}
	default:
		return nil, fmt.Errorf("greatest/least on %s is not supported", types.TypeName(t))
	}
	for j, s := range srcs {
		if s.DataType().ID() == arrow.NULL {
			continue
		}
		bits, off := bitsOf(s)
		for i := 0; i < n; i++ {
			if !isValid(bits, off, i) {
				continue
			}
			if p := pick[i]; p < 0 || better(c(j, int(p), i)) {
				pick[i] = int32(j)
			}
		}
	}
	return pick, nil
}

func fixedCmp[T cmp.Ordered](srcs []arrow.Array) func(j, p, i int) int {
	vs := make([][]T, len(srcs))
	for j, s := range srcs {
		if s.DataType().ID() != arrow.NULL {
			vs[j] = values[T](s)
		}
	}
	return func(j, p, i int) int { return sqlCompare(vs[j][i], vs[p][i]) }
}

// sqlCompare is cmp.Compare with NaN greater than every other value, as SQL
// orders floats (cmp.Compare puts NaN first).
func sqlCompare[T cmp.Ordered](x, y T) int {
	if xn, yn := x != x, y != y; xn || yn {
		switch {
		case xn && yn:
			return 0
		case xn:
			return 1
		}
		return -1
	}
	return cmp.Compare(x, y)
}

// numericFunc implements abs, round, floor and ceil.
func numericFunc(k *funcCall) (arrow.Array, error) {
	f := k.f
	a := k.args[0]
	in := a.arr
	if in == nil {
		in = a.lit.materialize(k.mem, k.n)
		defer in.Release()
	}
	digits := f.digits
	n := k.n
	var buf *memory.Buffer
	switch in.DataType().ID() {
	case arrow.FLOAT64:
		vals := values[float64](in)
		var out []float64
		buf, out = allocFixed[float64](k.mem, n)
		scale := math.Pow10(int(digits))
		for i, x := range vals {
			switch f.name {
			case "abs":
				out[i] = math.Abs(x)
			case "floor":
				out[i] = math.Floor(x)
			case "ceil", "ceiling":
				out[i] = math.Ceil(x)
			default:
				if digits == 0 {
					out[i] = math.Round(x)
				} else {
					out[i] = math.Round(x*scale) / scale
				}
			}
		}
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		vals := intsAsI64(in)
		res := make([]int64, n)
		for i, x := range vals {
			switch {
			case f.name == "abs":
				if x == math.MinInt64 && isValid(k.vb, 0, i) {
					return nil, fmt.Errorf("overflow in abs at row %d", i)
				}
				res[i] = max(x, -x)
			case f.name == "round" && digits < 0:
				r, _ := rescaleDec(decFromI64(x), int32(digits))
				r, _ = rescaleDec(r, int32(-digits))
				res[i] = int64(r.LowBits())
			default:
				res[i] = x
			}
		}
		b, err := castFromI64(k.mem, res, types.Int64, f.result, k.vb)
		if err != nil {
			return nil, err
		}
		buf = b
	case arrow.DECIMAL64, arrow.DECIMAL128:
		// Either width in and out (round keeps the precision, so the width
		// too); computed in 128 bits, whose fast paths stay in int64.
		_, s := types.DecimalParams(in.DataType())
		_, rs := types.DecimalParams(f.result)
		vals := decAsI128(in)
		out := make([]decimal128.Num, n)
		for i, x := range vals {
			switch f.name {
			case "abs":
				out[i] = x.Abs()
			case "floor", "ceil", "ceiling":
				q, _ := rescaleDec(x, -s) // rounded; fix up to floor/ceil
				back, _ := rescaleDec(q, s)
				c := back.Cmp(x)
				if f.name == "floor" && c > 0 {
					q = q.Sub(decimal128.FromI64(1))
				} else if f.name != "floor" && c < 0 {
					q = q.Add(decimal128.FromI64(1))
				}
				out[i] = q
			default: // round half away from zero to `digits` places, at scale rs
				d := min(int32(max(digits, -38)), s)
				q, _ := rescaleDec(x, d-s)
				out[i], _ = rescaleDec(q, rs-d)
			}
		}
		b, bad, ok := decBuffer(k.mem, out, f.result, k.vb)
		if !ok {
			return nil, fmt.Errorf("%s: result %s out of range for %s at row %d", f.name, out[bad].ToString(rs), types.TypeName(f.result), bad)
		}
		buf = b
	default:
		return nil, fmt.Errorf("%s on %s is not supported", f.name, types.TypeName(in.DataType()))
	}
	v := k.valid
	k.valid = nil
	return makeArray(f.result, n, -1, v, buf), nil
}

// ---- dates ----

type partFn func(days, micros int64) int64

var partFuncs = map[string]partFn{
	"year": func(d, _ int64) int64 { y, _, _ := types.CivilFromDays(d); return int64(y) },
	"month": func(d, _ int64) int64 {
		_, m, _ := types.CivilFromDays(d)
		return int64(m)
	},
	"day": func(d, _ int64) int64 { _, _, dd := types.CivilFromDays(d); return int64(dd) },
	"quarter": func(d, _ int64) int64 {
		_, m, _ := types.CivilFromDays(d)
		return int64((m-1)/3 + 1)
	},
	"dow": func(d, _ int64) int64 { return ((d+4)%7 + 7) % 7 }, // Sunday = 0
	"doy": func(d, _ int64) int64 {
		y, _, _ := types.CivilFromDays(d)
		return d - types.DaysFromCivil(y, 1, 1) + 1
	},
	"week":        isoWeek,
	"hour":        func(_, us int64) int64 { return us / 3_600_000_000 },
	"minute":      func(_, us int64) int64 { return us / 60_000_000 % 60 },
	"second":      func(_, us int64) int64 { return us / 1_000_000 % 60 },
	"millisecond": func(_, us int64) int64 { return us / 1000 % 60000 },
	"microsecond": func(_, us int64) int64 { return us % 60_000_000 },
	"epoch":       func(d, us int64) int64 { return d*86400 + us/1_000_000 },
}

func isoWeek(d, _ int64) int64 {
	wd := ((d+3)%7+7)%7 + 1 // Monday = 1
	thu := d - (wd - 1) + 3
	y, _, _ := types.CivilFromDays(thu)
	return (thu-types.DaysFromCivil(y, 1, 1))/7 + 1
}

var truncUnits = map[string]struct{}{"year": {}, "quarter": {}, "month": {}, "week": {}, "day": {}, "hour": {}, "minute": {}, "second": {}}

// splitTemporal returns (days, micros within the day) of row i.
func splitTemporal(a arrow.Array) func(i int) (int64, int64) {
	if a.DataType().ID() == arrow.DATE32 {
		v := values[int32](a)
		return func(i int) (int64, int64) { return int64(v[i]), 0 }
	}
	v := values[int64](a)
	return func(i int) (int64, int64) {
		d := floorDiv(v[i], types.MicrosPerDay)
		return d, v[i] - d*types.MicrosPerDay
	}
}

func temporalArg(k *funcCall, idx int) (arrow.Array, func()) {
	a := k.args[idx]
	if a.arr != nil {
		return a.arr, func() {}
	}
	m := a.lit.materialize(k.mem, k.n)
	return m, m.Release
}

func datePartKernel(k *funcCall, idx int, part partFn) (arrow.Array, error) {
	a, rel := temporalArg(k, idx)
	defer rel()
	split := splitTemporal(a)
	return k.int64s(func(i int) int64 { return part(split(i)) }), nil
}

// diffUnits maps date_diff's units to an index of diffOrdinal.
var diffUnits = map[string]int{"year": 0, "years": 0, "quarter": 1, "quarters": 1, "month": 2, "months": 2, "day": 3, "days": 3, "week": 7, "weeks": 7, "hour": 4, "hours": 4, "minute": 5, "minutes": 5, "second": 6, "seconds": 6}

// diffOrdinal numbers the unit boundaries on the time line, so that
// date_diff(unit, a, b) = ordinal(b) - ordinal(a) counts the boundaries
// crossed (DuckDB: date_diff('month', '1992-09-30', '1992-10-01') = 1).
func diffOrdinal(unit int, d, us int64) int64 {
	switch unit {
	case 0, 1, 2:
		y, m, _ := types.CivilFromDays(d)
		switch unit {
		case 0:
			return int64(y)
		case 1:
			return int64(y)*4 + int64(m-1)/3
		}
		return int64(y)*12 + int64(m-1)
	case 3:
		return d
	case 4:
		return d*24 + us/3_600_000_000
	case 5:
		return d*1440 + us/60_000_000
	}
	return d*86400 + us/1_000_000
}

func dateDiffKernel(k *funcCall, unit int) (arrow.Array, error) {
	a, relA := temporalArg(k, 1)
	defer relA()
	b, relB := temporalArg(k, 2)
	defer relB()
	sa, sb := splitTemporal(a), splitTemporal(b)
	if unit == 7 {
		// Weeks are whole 7-day spans between the two dates (the time of
		// day ignored), truncated toward zero as in DuckDB, not week
		// boundaries crossed.
		return k.int64s(func(i int) int64 {
			d0, _ := sa(i)
			d1, _ := sb(i)
			return (d1 - d0) / 7
		}), nil
	}
	return k.int64s(func(i int) int64 {
		d0, u0 := sa(i)
		d1, u1 := sb(i)
		return diffOrdinal(unit, d1, u1) - diffOrdinal(unit, d0, u0)
	}), nil
}

func dateTrunc(k *funcCall, unit string) (arrow.Array, error) {
	a, rel := temporalArg(k, 1)
	defer rel()
	split := splitTemporal(a)
	trunc := func(i int) (int64, int64) {
		d, us := split(i)
		y, m, _ := types.CivilFromDays(d)
		switch unit {
		case "year":
			return types.DaysFromCivil(y, 1, 1), 0
		case "quarter":
			return types.DaysFromCivil(y, (m-1)/3*3+1, 1), 0
		case "month":
			return types.DaysFromCivil(y, m, 1), 0
		case "week":
			return d - ((d+3)%7+7)%7, 0
		case "day":
			return d, 0
		case "hour":
			return d, us - us%3_600_000_000
		case "minute":
			return d, us - us%60_000_000
		}
		return d, us - us%1_000_000
	}
	n := k.n
	v := k.valid
	k.valid = nil
	if a.DataType().ID() == arrow.DATE32 {
		buf, out := allocFixed[int32](k.mem, n)
		for i := range out {
			d, _ := trunc(i)
			out[i] = int32(d)
		}
		return makeArray(k.f.result, n, -1, v, buf), nil
	}
	buf, out := allocFixed[int64](k.mem, n)
	for i := range out {
		d, us := trunc(i)
		out[i] = d*types.MicrosPerDay + us
	}
	return makeArray(k.f.result, n, -1, v, buf), nil
}
