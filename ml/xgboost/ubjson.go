package xgboost

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ubjDecoder decodes Universal Binary JSON as XGBoost writes it
// (save_model("m.ubj")): big-endian scalars, 'd' for float32 and 'D' for
// float64, optimized arrays "[$<type>#<count>" for the per-node arrays of
// each tree and "[#<count>" for the others. Counts and lengths are checked
// against the bytes left before anything is allocated, so a short input
// cannot ask for a large allocation.
type ubjDecoder struct {
	data []byte
	pos  int
}

func decodeUBJSON(data []byte) (value, error) {
	d := &ubjDecoder{data: data}
	v, err := d.value(0)
	if err != nil {
		return value{}, err
	}
	// XGBoost writes nothing after the top-level object; tolerate trailing
	// no-op markers, which UBJSON allows anywhere.
	for d.pos < len(d.data) && d.data[d.pos] == 'N' {
		d.pos++
	}
	if d.pos != len(d.data) {
		return value{}, d.errorf("unexpected data after the top-level value")
	}
	return v, nil
}

func (d *ubjDecoder) errorf(format string, args ...any) error {
	return &syntaxError{format: "UBJSON", off: d.pos, msg: fmt.Sprintf(format, args...)}
}

func (d *ubjDecoder) need(n int) error {
	if n < 0 || len(d.data)-d.pos < n {
		return d.errorf("unexpected end of input (need %d more bytes, %d left)", n, len(d.data)-d.pos)
	}
	return nil
}

// marker reads the next type marker, skipping no-op markers.
func (d *ubjDecoder) marker() (byte, error) {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		d.pos++
		if c != 'N' {
			return c, nil
		}
	}
	return 0, d.errorf("unexpected end of input")
}

func (d *ubjDecoder) peek() (byte, error) {
	for d.pos < len(d.data) && d.data[d.pos] == 'N' {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return 0, d.errorf("unexpected end of input")
	}
	return d.data[d.pos], nil
}

// scalarSize is the payload size of a fixed-size scalar type, or 0.
func scalarSize(t byte) int {
	switch t {
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return 0
}

// scalar reads the payload of a numeric scalar of type t (size checked by
// the caller or here).
func (d *ubjDecoder) scalar(t byte) (float64, error) {
	size := scalarSize(t)
	if size == 0 {
		return 0, d.errorf("%q is not a numeric type", t)
	}
	if err := d.need(size); err != nil {
		return 0, err
	}
	b := d.data[d.pos : d.pos+size]
	d.pos += size
	switch t {
	case 'i':
		return float64(int8(b[0])), nil
	case 'U', 'C':
		return float64(b[0]), nil
	case 'I':
		return float64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return float64(int32(binary.BigEndian.Uint32(b))), nil
	case 'L':
		return float64(int64(binary.BigEndian.Uint64(b))), nil
	case 'd':
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	default: // 'D'
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	}
}

// count reads an integer used as a length or element count.
func (d *ubjDecoder) count() (int, error) {
	t, err := d.marker()
	if err != nil {
		return 0, err
	}
	switch t {
	case 'i', 'U', 'I', 'l', 'L':
	default:
		return 0, d.errorf("expected an integer length, found marker %q", t)
	}
	n, err := d.scalar(t)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > float64(len(d.data)) {
		return 0, d.errorf("length %v does not fit in the %d-byte input", n, len(d.data))
	}
	return int(n), nil
}

func (d *ubjDecoder) string() (string, error) {
	n, err := d.count()
	if err != nil {
		return "", err
	}
	if err := d.need(n); err != nil {
		return "", err
	}
	s := string(d.data[d.pos : d.pos+n])
	d.pos += n
	return s, nil
}

func (d *ubjDecoder) value(depth int) (value, error) {
	t, err := d.marker()
	if err != nil {
		return value{}, err
	}
	return d.valueOf(t, depth)
}

func (d *ubjDecoder) valueOf(t byte, depth int) (value, error) {
	if depth > maxDepth {
		return value{}, d.errorf("nesting deeper than %d", maxDepth)
	}
	switch t {
	case '{':
		return d.object(depth)
	case '[':
		return d.array(depth)
	case 'Z':
		return value{kind: kindNull}, nil
	case 'T':
		return value{kind: kindBool, b: true}, nil
	case 'F':
		return value{kind: kindBool}, nil
	case 'S':
		s, err := d.string()
		return value{kind: kindString, str: s}, err
	case 'i', 'U', 'I', 'l', 'L', 'd', 'D', 'C':
		n, err := d.scalar(t)
		return value{kind: kindNumber, num: n}, err
	case 'H':
		return value{}, d.errorf("high-precision numbers are not supported")
	default:
		return value{}, d.errorf("unknown type marker %q", t)
	}
}

func (d *ubjDecoder) object(depth int) (value, error) {
	v := value{kind: kindObject, obj: []keyValue{}}
	c, err := d.peek()
	if err != nil {
		return value{}, err
	}
	if c == '$' || c == '#' {
		return value{}, d.errorf("optimized objects are not supported")
	}
	for {
		c, err := d.peek()
		if err != nil {
			return value{}, err
		}
		if c == '}' {
			d.pos++
			return v, nil
		}
		key, err := d.string()
		if err != nil {
			return value{}, err
		}
		elem, err := d.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		v.obj = append(v.obj, keyValue{key: key, val: elem})
	}
}

func (d *ubjDecoder) array(depth int) (value, error) {
	c, err := d.peek()
	if err != nil {
		return value{}, err
	}
	if c == '$' { // typed: "[$<type>#<count><payload>"
		d.pos++
		if err := d.need(1); err != nil {
			return value{}, err
		}
		t := d.data[d.pos]
		d.pos++
		size := scalarSize(t)
		if size == 0 {
			return value{}, d.errorf("typed arrays of %q are not supported", t)
		}
		if err := d.need(1); err != nil {
			return value{}, err
		}
		if d.data[d.pos] != '#' {
			return value{}, d.errorf("typed array without a count")
		}
		d.pos++
		n, err := d.count()
		if err != nil {
			return value{}, err
		}
		if err := d.need(n * size); err != nil {
			return value{}, err
		}
		nums := make([]float64, n)
		for i := range nums {
			nums[i], _ = d.scalar(t) // size checked above
		}
		return value{kind: kindArray, nums: nums}, nil
	}
	var b arrayBuilder
	if c == '#' { // counted: "[#<count>" then count values, no ']'
		d.pos++
		n, err := d.count()
		if err != nil {
			return value{}, err
		}
		// Every element takes at least one byte, so count is bounded by
		// the input already; grow as elements arrive all the same.
		for range n {
			elem, err := d.value(depth + 1)
			if err != nil {
				return value{}, err
			}
			b.add(elem)
		}
		return b.value(), nil
	}
	for {
		c, err := d.peek()
		if err != nil {
			return value{}, err
		}
		if c == ']' {
			d.pos++
			return b.value(), nil
		}
		elem, err := d.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		b.add(elem)
	}
}
