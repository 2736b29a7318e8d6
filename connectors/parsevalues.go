package connectors

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Text-to-value parsers used by CSV. They work on byte slices without
// allocating and report ok=false instead of erroring; callers add context.

func bytesToString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func parseInt64(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	i := 0
	switch b[0] {
	case '-':
		neg, i = true, 1
	case '+':
		i = 1
	}
	if i == len(b) || len(b)-i > 19 {
		if len(b)-i > 19 {
			// Leading zeros or overflow: take the slow path.
			v, err := strconv.ParseInt(bytesToString(b), 10, 64)
			return v, err == nil
		}
		return 0, false
	}
	var u uint64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			return 0, false
		}
		u = u*10 + uint64(c)
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func parseFloat(b []byte, bits int) (float64, bool) {
	v, err := strconv.ParseFloat(bytesToString(b), bits)
	return v, err == nil
}

func parseBool(b []byte) (bool, bool) {
	switch string(b) { // no allocation: the compiler optimizes string(b) in switch
	case "true", "TRUE", "True", "t", "T":
		return true, true
	case "false", "FALSE", "False", "f", "F":
		return false, true
	}
	return false, false
}

// decimalShape describes a plain decimal literal: sign? digits ('.' digits)?
// It reports the number of integer and fractional digits (leading zeros of
// the integer part excluded), or ok=false.
func decimalShape(b []byte) (intDigits, fracDigits int, hasPoint, ok bool) {
	i := 0
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		i = 1
	}
	start, lead := i, true
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if lead && b[i] == '0' {
			continue
		}
		lead = false
		intDigits++
	}
	sawInt := i > start
	if i < len(b) && b[i] == '.' {
		hasPoint = true
		i++
		fs := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
		fracDigits = i - fs
		if !sawInt && fracDigits == 0 {
			return 0, 0, false, false
		}
	} else if !sawInt {
		return 0, 0, false, false
	}
	return intDigits, fracDigits, hasPoint, i == len(b)
}

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return
}()

// parseDecimal parses a plain decimal literal into an unscaled value at
// scale, rounding extra fractional digits half away from zero, and checks
// that it fits precision digits.
func parseDecimal(b []byte, precision, scale int32) (decimal128.Num, bool) {
	if _, _, _, ok := decimalShape(b); !ok {
		return decimal128.Num{}, false
	}
	neg := b[0] == '-'
	if b[0] == '-' || b[0] == '+' {
		b = b[1:]
	}
	intPart, fracPart := b, []byte(nil)
	for i, c := range b {
		if c == '.' {
			intPart, fracPart = b[:i], b[i+1:]
			break
		}
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	if len(intPart) > int(precision-scale) {
		return decimal128.Num{}, false
	}
	roundUp := len(fracPart) > int(scale) && fracPart[scale] >= '5'
	if len(fracPart) > int(scale) {
		fracPart = fracPart[:scale]
	}
	pad := int(scale) - len(fracPart)
	if precision <= 18 {
		var v int64
		for _, c := range intPart {
			v = v*10 + int64(c-'0')
		}
		for _, c := range fracPart {
			v = v*10 + int64(c-'0')
		}
		v *= pow10[pad]
		if roundUp {
			v++
		}
		if v >= pow10[precision] {
			return decimal128.Num{}, false
		}
		if neg {
			v = -v
		}
		return decimal128.FromI64(v), true
	}
	ten := decimal128.FromU64(10)
	var n decimal128.Num
	for _, c := range intPart {
		n = n.Mul(ten).Add(decimal128.FromU64(uint64(c - '0')))
	}
	for _, c := range fracPart {
		n = n.Mul(ten).Add(decimal128.FromU64(uint64(c - '0')))
	}
	if pad > 0 {
		n = n.IncreaseScaleBy(int32(pad))
	}
	if roundUp {
		n = n.Add(decimal128.FromU64(1))
	}
	if !n.FitsInPrecision(precision) {
		return decimal128.Num{}, false
	}
	if neg {
		n = n.Negate()
	}
	return n, true
}

// daysFromCivil converts a proleptic Gregorian date to days since
// 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func digits(b []byte, n int) (int64, bool) {
	if len(b) < n {
		return 0, false
	}
	var v int64
	for i := 0; i < n; i++ {
		c := b[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	return v, true
}

var monthDays = [13]int64{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// parseDate parses YYYY-MM-DD into days since the epoch.
func parseDate(b []byte) (int32, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(b, 4)
	m, ok2 := digits(b[5:], 2)
	d, ok3 := digits(b[8:], 2)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > monthDays[m] || (m == 2 && d == 29 && !isLeap(y)) {
		return 0, false
	}
	return int32(daysFromCivil(y, m, d)), true
}

// parseTimestamp parses "YYYY-MM-DD[ T]HH:MM[:SS[.fraction]][Z]" (or a bare
// date) into microseconds since the epoch; digits past µs are truncated.
func parseTimestamp(b []byte) (int64, bool) {
	if len(b) == 10 {
		d, ok := parseDate(b)
		return int64(d) * 86_400_000_000, ok
	}
	if len(b) < 16 || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' {
		return 0, false
	}
	d, ok := parseDate(b[:10])
	if !ok {
		return 0, false
	}
	if b[len(b)-1] == 'Z' {
		b = b[:len(b)-1]
	}
	hh, ok1 := digits(b[11:], 2)
	mm, ok2 := digits(b[14:], 2)
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0, false
	}
	var ss, us int64
	rest := b[16:]
	if len(rest) > 0 {
		if rest[0] != ':' {
			return 0, false
		}
		var ok bool
		if ss, ok = digits(rest[1:], 2); !ok || ss > 59 || len(rest) < 3 {
			return 0, false
		}
		rest = rest[3:]
		if len(rest) > 0 {
			if rest[0] != '.' || len(rest) == 1 {
				return 0, false
			}
			frac := rest[1:]
			for i, c := range frac {
				if c < '0' || c > '9' {
					return 0, false
				}
				if i < 6 {
					us = us*10 + int64(c-'0')
				}
			}
			for i := len(frac); i < 6; i++ {
				us *= 10
			}
		}
	}
	return int64(d)*86_400_000_000 + ((hh*60+mm)*60+ss)*1_000_000 + us, true
}
