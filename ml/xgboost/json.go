package xgboost

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonDecoder decodes XGBoost's JSON text. It accepts what XGBoost's own
// reader accepts beyond strict JSON: the number literals NaN, Infinity and
// -Infinity, and a leading '+' on numbers.
type jsonDecoder struct {
	data []byte
	pos  int
}

func decodeJSON(data []byte) (value, error) {
	d := &jsonDecoder{data: data}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return value{}, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return value{}, d.errorf("unexpected data after the top-level value")
	}
	return v, nil
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return &syntaxError{format: "JSON", off: d.pos, msg: fmt.Sprintf(format, args...)}
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (value, error) {
	if depth > maxDepth {
		return value{}, d.errorf("nesting deeper than %d", maxDepth)
	}
	if d.pos >= len(d.data) {
		return value{}, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.string()
		return value{kind: kindString, str: s}, err
	case c == 't':
		return value{kind: kindBool, b: true}, d.literal("true")
	case c == 'f':
		return value{kind: kindBool}, d.literal("false")
	case c == 'n':
		return value{kind: kindNull}, d.literal("null")
	case c == '-' || c == '+' || c == 'N' || c == 'I' || (c >= '0' && c <= '9'):
		n, err := d.number()
		return value{kind: kindNumber, num: n}, err
	default:
		return value{}, d.errorf("unexpected character %q", c)
	}
}

func (d *jsonDecoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.errorf("invalid literal, want %q", word)
	}
	d.pos += len(word)
	return nil
}

func (d *jsonDecoder) object(depth int) (value, error) {
	d.pos++ // '{'
	v := value{kind: kindObject, obj: []keyValue{}}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return v, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return value{}, d.errorf("expected an object key")
		}
		key, err := d.string()
		if err != nil {
			return value{}, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return value{}, d.errorf("expected ':' after key %q", key)
		}
		d.pos++
		d.skipSpace()
		elem, err := d.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		v.obj = append(v.obj, keyValue{key: key, val: elem})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return value{}, d.errorf("unexpected end of input in an object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return v, nil
		default:
			return value{}, d.errorf("expected ',' or '}' in an object")
		}
	}
}

func (d *jsonDecoder) array(depth int) (value, error) {
	d.pos++ // '['
	var b arrayBuilder
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return b.value(), nil
	}
	for {
		d.skipSpace()
		elem, err := d.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		b.add(elem)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return value{}, d.errorf("unexpected end of input in an array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return b.value(), nil
		default:
			return value{}, d.errorf("expected ',' or ']' in an array")
		}
	}
}

// number reads a number literal. Integers are read exactly; a literal with
// a fraction or exponent is rounded once, straight to float32, as XGBoost
// reads it (its JSON numbers are float32).
func (d *jsonDecoder) number() (float64, error) {
	start := d.pos
	neg := false
	switch d.data[d.pos] {
	case '-':
		neg = true
		d.pos++
	case '+':
		d.pos++
	}
	rest := d.data[d.pos:]
	switch {
	case hasPrefix(rest, "NaN"):
		d.pos += 3
		return math.NaN(), nil
	case hasPrefix(rest, "Infinity"):
		d.pos += 8
		if neg {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	digits := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	if d.pos == digits {
		return 0, d.errorf("invalid number")
	}
	isFloat := false
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		isFloat = true
		d.pos++
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		isFloat = true
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		exp := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == exp {
			return 0, d.errorf("invalid number: expected exponent digits")
		}
	}
	text := string(d.data[start:d.pos])
	if text[0] == '+' {
		text = text[1:]
	}
	if !isFloat {
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return 0, &syntaxError{format: "JSON", off: start, msg: "integer out of range: " + text}
		}
		return float64(i), nil
	}
	f, err := strconv.ParseFloat(text, 32)
	if err != nil {
		// Out of float32 range: ParseFloat returns ±Inf or 0, as C's
		// strtof does; anything else is not a number.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, &syntaxError{format: "JSON", off: start, msg: "invalid number " + strconv.Quote(text)}
		}
	}
	return f, nil
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func (d *jsonDecoder) string() (string, error) {
	start := d.pos
	d.pos++ // opening quote
	// Fast path: no escapes.
	for i := d.pos; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			s := string(d.data[d.pos:i])
			d.pos = i + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var buf []byte
	for {
		if d.pos >= len(d.data) {
			return "", &syntaxError{format: "JSON", off: start, msg: "unterminated string"}
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		d.pos++ // backslash
		if d.pos >= len(d.data) {
			return "", &syntaxError{format: "JSON", off: start, msg: "unterminated string"}
		}
		e := d.data[d.pos]
		d.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", d.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					d.pos += 2
					r2, ok := d.hex4()
					if !ok {
						return "", d.errorf("invalid \\u escape")
					}
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", d.errorf("invalid escape \\%c", e)
		}
	}
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}
