package types

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// ParseDecimalLiteral parses a plain decimal literal such as "123.45",
// "-0.5" or "+7." into its unscaled value and the smallest precision and
// the scale that hold it exactly ("0.1" → 1, precision 1, scale 1).
func ParseDecimalLiteral(text string) (decimal128.Num, int32, int32, error) {
	s := strings.TrimSpace(text)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return decimal128.Num{}, 0, 0, fmt.Errorf("invalid decimal literal %q", text)
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return decimal128.Num{}, 0, 0, fmt.Errorf("invalid decimal literal %q", text)
			}
		}
	}
	_ = hasDot
	intPart = strings.TrimLeft(intPart, "0")
	digits := intPart + frac
	scale := int32(len(frac))
	prec := max(int32(len(digits)), scale, 1)
	if trimmed := strings.TrimLeft(digits, "0"); int32(len(trimmed)) > MaxDecimalPrecision {
		return decimal128.Num{}, 0, 0, fmt.Errorf("decimal literal %q has more than %d digits", text, MaxDecimalPrecision)
	} else if prec > MaxDecimalPrecision {
		// Leading zeros in the fraction only: still fits.
		prec = MaxDecimalPrecision
		if scale > prec {
			return decimal128.Num{}, 0, 0, fmt.Errorf("decimal literal %q has scale above %d", text, MaxDecimalPrecision)
		}
	}
	var n decimal128.Num
	if len(digits) <= 18 {
		var v int64
		for i := 0; i < len(digits); i++ {
			v = v*10 + int64(digits[i]-'0')
		}
		n = decimal128.FromI64(v)
	} else {
		b, _ := new(big.Int).SetString(digits, 10)
		n = decimal128.FromBigInt(b)
	}
	if neg {
		n = n.Negate()
	}
	return n, prec, scale, nil
}

// DaysFromCivil returns days since 1970-01-01 of the proleptic Gregorian
// date y-m-d (Howard Hinnant's algorithm; no range limits in practice).
func DaysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

// DaysInMonth returns the number of days of month m in year y.
func DaysInMonth(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func atoiRange(s string, lo, hi int, what, text string) (int, error) {
	if s == "" || len(s) > 9 {
		return 0, fmt.Errorf("invalid %s in %q", what, text)
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("invalid %s in %q", what, text)
		}
		v = v*10 + int(s[i]-'0')
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%s %d out of range in %q", what, v, text)
	}
	return v, nil
}

func parseYMD(s, text string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	ys, rest, ok1 := strings.Cut(s, "-")
	ms, ds, ok2 := strings.Cut(rest, "-")
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("invalid date %q: expected YYYY-MM-DD", text)
	}
	y, err := atoiRange(ys, 0, 294247, "year", text)
	if err != nil {
		return 0, err
	}
	if neg {
		y = -y
	}
	m, err := atoiRange(ms, 1, 12, "month", text)
	if err != nil {
		return 0, err
	}
	d, err := atoiRange(ds, 1, DaysInMonth(y, m), "day", text)
	if err != nil {
		return 0, err
	}
	return DaysFromCivil(y, m, d), nil
}

// ParseDate parses YYYY-MM-DD into days since the epoch.
func ParseDate(s string) (arrow.Date32, error) {
	days, err := parseYMD(strings.TrimSpace(s), s)
	if err != nil {
		return 0, err
	}
	if days < -(1<<31) || days >= 1<<31 {
		return 0, fmt.Errorf("date %q out of range", s)
	}
	return arrow.Date32(days), nil
}

// MicrosPerDay is the number of microseconds in a day.
const MicrosPerDay = int64(86400_000_000)

// ParseTimestamp parses "YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]]" (an optional
// trailing "Z" or "+00" / "+00:00" is accepted) into microseconds since the
// epoch, no time zone.
func ParseTimestamp(s string) (arrow.Timestamp, error) {
	t := strings.TrimSpace(s)
	datePart, timePart := t, ""
	if i := strings.IndexAny(t, " T"); i >= 0 {
		datePart, timePart = t[:i], strings.TrimSpace(t[i+1:])
	}
	days, err := parseYMD(datePart, s)
	if err != nil {
		return 0, err
	}
	var micros int64
	if timePart != "" {
		timePart = strings.TrimSuffix(timePart, "Z")
		for _, z := range []string{"+00:00", "+00"} {
			timePart = strings.TrimSuffix(timePart, z)
		}
		parts := strings.Split(timePart, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return 0, fmt.Errorf("invalid timestamp %q: expected HH:MM[:SS[.ffffff]]", s)
		}
		h, err := atoiRange(parts[0], 0, 24, "hour", s)
		if err != nil {
			return 0, err
		}
		mi, err := atoiRange(parts[1], 0, 59, "minute", s)
		if err != nil {
			return 0, err
		}
		var sec, frac int
		if len(parts) == 3 {
			ss, fs, hasFrac := strings.Cut(parts[2], ".")
			if sec, err = atoiRange(ss, 0, 60, "second", s); err != nil {
				return 0, err
			}
			if hasFrac {
				if len(fs) == 0 || len(fs) > 9 {
					return 0, fmt.Errorf("invalid fractional seconds in %q", s)
				}
				if frac, err = atoiRange(fs, 0, 999999999, "fractional seconds", s); err != nil {
					return 0, err
				}
				for i := len(fs); i < 6; i++ {
					frac *= 10
				}
				for i := len(fs); i > 6; i-- {
					frac /= 10
				}
			}
		}
		micros = ((int64(h)*60+int64(mi))*60+int64(sec))*1_000_000 + int64(frac)
	}
	return arrow.Timestamp(days*MicrosPerDay + micros), nil
}

// ParseInterval parses an interval literal. With a unit (INTERVAL '3'
// MONTH) value is a number of that unit; without one (INTERVAL '3 months',
// '1 year 2 days', '1 day 02:30:00') value holds number-unit pairs and an
// optional HH:MM:SS part. Units: year, quarter, month, week, day, hour,
// minute, second, millisecond, microsecond (singular, plural, common
// abbreviations).
func ParseInterval(value string, unit string) (arrow.MonthDayNanoInterval, error) {
	var iv arrow.MonthDayNanoInterval
	fields := strings.Fields(strings.ToLower(value))
	if unit != "" {
		fields = append(fields, strings.ToLower(unit))
	}
	if len(fields) == 0 {
		return iv, fmt.Errorf("empty interval %q", value)
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			neg := strings.HasPrefix(f, "-")
			ts, err := ParseTimestamp("1970-01-01 " + strings.TrimLeft(f, "+-"))
			if err != nil {
				return iv, fmt.Errorf("invalid interval %q: bad time part %q", value, f)
			}
			ns := int64(ts) * 1000
			if neg {
				ns = -ns
			}
			iv.Nanoseconds += ns
			continue
		}
		num, err := strconv.ParseFloat(f, 64)
		if err != nil || i+1 >= len(fields) {
			return iv, fmt.Errorf("invalid interval %q: expected <number> <unit>", value)
		}
		i++
		u := fields[i]
		switch u {
		case "ms":
			u = "millisecond"
		case "us":
			u = "microsecond"
		}
		u = strings.TrimSuffix(u, "s")
		whole := num == float64(int64(num))
		switch u {
		case "year", "y", "yr":
			iv.Months += int32(num * 12)
		case "quarter":
			iv.Months += int32(num * 3)
		case "month", "mon":
			if !whole {
				return iv, fmt.Errorf("invalid interval %q: fractional months", value)
			}
			iv.Months += int32(num)
		case "week", "w":
			iv.Days += int32(num * 7)
		case "day", "d":
			if !whole {
				return iv, fmt.Errorf("invalid interval %q: fractional days", value)
			}
			iv.Days += int32(num)
		case "hour", "h", "hr":
			iv.Nanoseconds += int64(num * 3600e9)
		case "minute", "min", "m":
			iv.Nanoseconds += int64(num * 60e9)
		case "second", "sec", "":
			iv.Nanoseconds += int64(num * 1e9)
		case "millisecond", "msec":
			iv.Nanoseconds += int64(num * 1e6)
		case "microsecond", "usec":
			iv.Nanoseconds += int64(num * 1e3)
		default:
			return iv, fmt.Errorf("invalid interval %q: unknown unit %q", value, fields[i])
		}
	}
	return iv, nil
}

// AddMonths adds months to a day number, clamping the day of month to the
// target month's end (2024-01-31 + 1 month = 2024-02-29), as DuckDB and
// PostgreSQL do.
func AddMonths(days int64, months int32) int64 {
	if months == 0 {
		return days
	}
	y, m, d := CivilFromDays(days)
	total := int64(y)*12 + int64(m-1) + int64(months)
	ny := total / 12
	if total%12 < 0 {
		ny--
	}
	nm := int(total-ny*12) + 1
	return DaysFromCivil(int(ny), nm, min(d, DaysInMonth(int(ny), nm)))
}
