package types

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Text forms of values, shared by the cast kernels and the binder's
// constant folding so that CAST(x AS VARCHAR) reads the same either way
// (and as in DuckDB).

// AppendDate appends days since the epoch as YYYY-MM-DD.
func AppendDate(b []byte, days int64) []byte {
	y, m, d := CivilFromDays(days)
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	b = appendPadded(b, int64(y), 4)
	b = append(b, '-')
	b = appendPadded(b, int64(m), 2)
	b = append(b, '-')
	return appendPadded(b, int64(d), 2)
}

func appendPadded(b []byte, v int64, width int) []byte {
	s := strconv.FormatInt(v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// AppendTimestamp appends microseconds since the epoch as
// YYYY-MM-DD HH:MM:SS[.ffffff].
func AppendTimestamp(b []byte, us int64) []byte {
	day := us / MicrosPerDay
	if us%MicrosPerDay < 0 {
		day--
	}
	rem := us - day*MicrosPerDay
	b = AppendDate(b, day)
	b = append(b, ' ')
	return appendTime(b, rem)
}

func appendTime(b []byte, us int64) []byte {
	secs := us / 1_000_000
	frac := us % 1_000_000
	b = appendPadded(b, secs/3600, 2)
	b = append(b, ':')
	b = appendPadded(b, secs/60%60, 2)
	b = append(b, ':')
	b = appendPadded(b, secs%60, 2)
	if frac != 0 {
		f := []byte(fmt.Sprintf("%06d", frac))
		for len(f) > 0 && f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		b = append(b, '.')
		b = append(b, f...)
	}
	return b
}

// AppendDecimal appends the DECIMAL with unscaled value x and scale s
// (s >= 0; a Decimal64's int64) as DuckDB prints it: 1.50, -0.05, 7.
func AppendDecimal(b []byte, x int64, s int32) []byte {
	u := uint64(x)
	if x < 0 {
		b = append(b, '-')
		u = -u
	}
	if s <= 0 {
		return strconv.AppendUint(b, u, 10)
	}
	var digits [24]byte
	ds := strconv.AppendUint(digits[:0], u, 10)
	if len(ds) <= int(s) {
		b = append(b, '0', '.')
		for range int(s) - len(ds) {
			b = append(b, '0')
		}
		return append(b, ds...)
	}
	cut := len(ds) - int(s)
	b = append(b, ds[:cut]...)
	b = append(b, '.')
	return append(b, ds[cut:]...)
}

// AppendFloat appends v as DuckDB prints a DOUBLE (2.0, 1e+20, inf, nan).
func AppendFloat(b []byte, v float64, bitSize int) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		return append(b, "-inf"...)
	case math.IsNaN(v):
		return append(b, "nan"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, bitSize)
	if !strings.ContainsAny(string(b[start:]), ".e") {
		b = append(b, ".0"...)
	}
	return b
}

// AppendInterval appends iv as DuckDB prints an INTERVAL
// (1 year 2 months 3 days 01:02:03).
func AppendInterval(b []byte, iv arrow.MonthDayNanoInterval) []byte {
	parts := 0
	add := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if parts > 0 {
			b = append(b, ' ')
		}
		parts++
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ' ')
		b = append(b, unit...)
		if v != 1 && v != -1 {
			b = append(b, 's')
		}
	}
	add(int64(iv.Months/12), "year")
	add(int64(iv.Months%12), "month")
	add(int64(iv.Days), "day")
	if iv.Nanoseconds != 0 || parts == 0 {
		if parts > 0 {
			b = append(b, ' ')
		}
		us := iv.Nanoseconds / 1000
		if us < 0 {
			b = append(b, '-')
			us = -us
		}
		b = appendTime(b, us)
	}
	return b
}
