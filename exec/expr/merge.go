package expr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/types"
)

// mergeRows builds an array of type typ whose row i is row i of
// srcs[pick[i]], or NULL when pick[i] < 0 or srcs[pick[i]] is nil. All
// sources have n rows and type typ (or NULL type). It backs CASE,
// COALESCE, NULLIF and GREATEST/LEAST.
func mergeRows(mem memory.Allocator, typ arrow.DataType, n int, pick []int32, srcs []arrow.Array) (arrow.Array, error) {
	vbuf, valid := allocBits(mem, n)
	type vb struct {
		bits []byte
		off  int
		null bool
	}
	vs := make([]vb, len(srcs))
	for k, s := range srcs {
		if s == nil || s.DataType().ID() == arrow.NULL {
			vs[k].null = true
			continue
		}
		vs[k].bits, vs[k].off = bitsOf(s)
	}
	for i, p := range pick {
		if p >= 0 && !vs[p].null && isValid(vs[p].bits, vs[p].off, i) {
			valid[i>>3] |= 1 << (i & 7)
		}
	}
	// Sources with the NULL type are never picked for values.
	live := make([]arrow.Array, len(srcs))
	for k, s := range srcs {
		if !vs[k].null {
			live[k] = s
		}
	}
	var buf, obuf, dbuf *memory.Buffer
	switch typ.ID() {
	case arrow.INT8:
		buf = mergeFixed[int8](mem, n, pick, live)
	case arrow.INT16:
		buf = mergeFixed[int16](mem, n, pick, live)
	case arrow.INT32, arrow.DATE32, arrow.FLOAT32:
		buf = mergeFixed[int32](mem, n, pick, live)
	case arrow.INT64, arrow.TIMESTAMP, arrow.FLOAT64, arrow.DECIMAL64:
		buf = mergeFixed[int64](mem, n, pick, live)
	case arrow.DECIMAL128:
		buf = mergeFixed[decimal128.Num](mem, n, pick, live)
	case arrow.INTERVAL_MONTH_DAY_NANO:
		buf = mergeFixed[arrow.MonthDayNanoInterval](mem, n, pick, live)
	case arrow.BOOL:
		var out []byte
		buf, out = allocBits(mem, n)
		for i, p := range pick {
			if p >= 0 && live[p] != nil {
				bits, off := boolBits(live[p])
				if bitutil.BitIsSet(bits, off+i) {
					out[i>>3] |= 1 << (i & 7)
				}
			}
		}
	case arrow.STRING:
		type sd struct {
			offs []int32
			data []byte
		}
		ss := make([]sd, len(live))
		total := 0
		for k, s := range live {
			if s != nil {
				ss[k].offs, ss[k].data = strData(s)
			}
		}
		for i, p := range pick {
			if p >= 0 && live[p] != nil {
				total += int(ss[p].offs[i+1] - ss[p].offs[i])
			}
		}
		var offs []int32
		obuf, offs = allocFixed[int32](mem, n+1)
		dbuf = memory.NewResizableBuffer(mem)
		dbuf.Resize(total)
		data := dbuf.Bytes()
		pos := int32(0)
		offs[0] = 0
		for i, p := range pick {
			if p >= 0 && live[p] != nil {
				s := ss[p]
				pos += int32(copy(data[pos:], s.data[s.offs[i]:s.offs[i+1]]))
			}
			offs[i+1] = pos
		}
		return makeArray(typ, n, -1, vbuf, obuf, dbuf), nil
	case arrow.NULL:
		vbuf.Release()
		return nullArray(mem, typ, n), nil
	default:
		vbuf.Release()
		return nil, fmt.Errorf("type %s is not supported here", types.TypeName(typ))
	}
	return makeArray(typ, n, -1, vbuf, buf), nil
}

func mergeFixed[T any](mem memory.Allocator, n int, pick []int32, srcs []arrow.Array) *memory.Buffer {
	buf, out := allocFixed[T](mem, n)
	vals := make([][]T, len(srcs))
	for k, s := range srcs {
		if s != nil {
			vals[k] = values[T](s)
		}
	}
	var zero T
	for i, p := range pick {
		if p >= 0 && vals[p] != nil {
			out[i] = vals[p][i]
		} else {
			out[i] = zero
		}
	}
	return buf
}
