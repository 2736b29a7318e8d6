package ast

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Interval is the value of an interval literal split like Arrow's
// MonthDayNanoInterval: calendar months, days and nanoseconds are kept apart
// because their lengths vary (a month is not 30 days, a day may not be 24h).
type Interval struct {
	Months      int32
	Days        int32
	Nanoseconds int64
}

const (
	nsPerMicro  = int64(1000)
	nsPerMilli  = int64(1000_000)
	nsPerSecond = int64(1000_000_000)
	nsPerMinute = 60 * nsPerSecond
	nsPerHour   = 60 * nsPerMinute
)

// Interval evaluates the literal. Accepted forms:
//
//	INTERVAL '3' MONTH, INTERVAL '-90' DAY, INTERVAL '1.5' HOUR
//	INTERVAL '3 months', '1 year 2 months 3 days', '2 hours 30 minutes'
//	INTERVAL '1 day 02:30:00', '02:30' (hh:mm[:ss[.fraction]])
//	INTERVAL '1-2' YEAR TO MONTH, INTERVAL '3 04:05:06' DAY TO SECOND
//
// Fractions are allowed only for units shorter than a day.
func (n *IntervalLit) Interval() (Interval, error) {
	var acc intervalAcc
	v := strings.TrimSpace(n.Value)
	var err error
	switch {
	case n.ToUnit != "":
		err = acc.parseRange(v, n.Unit, n.ToUnit)
	case n.Unit != "":
		err = acc.add(v, n.Unit)
	default:
		err = acc.parseText(v)
	}
	if err != nil {
		return Interval{}, errors.New("invalid interval " + n.String() + ": " + err.Error())
	}
	return acc.result()
}

type intervalAcc struct {
	// float64 is exact for every realistic literal (nanoseconds up to 2^53,
	// about 104 days); larger values round to the nearest representable one.
	months, days, nanos float64
}

func (a *intervalAcc) result() (Interval, error) {
	if math.Abs(a.months) > math.MaxInt32 || math.Abs(a.days) > math.MaxInt32 || math.Abs(a.nanos) >= math.MaxInt64 {
		return Interval{}, errors.New("interval out of range")
	}
	return Interval{Months: int32(a.months), Days: int32(a.days), Nanoseconds: int64(math.Round(a.nanos))}, nil
}

// normUnit maps singular/plural and short spellings to canonical units.
func normUnit(u string) string {
	u = strings.ToUpper(u)
	switch u {
	case "Y", "YR", "YRS", "YEAR", "YEARS":
		return "YEAR"
	case "QUARTER", "QUARTERS":
		return "QUARTER"
	case "MON", "MONS", "MONTH", "MONTHS":
		return "MONTH"
	case "W", "WEEK", "WEEKS":
		return "WEEK"
	case "D", "DAY", "DAYS":
		return "DAY"
	case "H", "HR", "HRS", "HOUR", "HOURS":
		return "HOUR"
	case "M", "MIN", "MINS", "MINUTE", "MINUTES":
		return "MINUTE"
	case "S", "SEC", "SECS", "SECOND", "SECONDS":
		return "SECOND"
	case "MS", "MSEC", "MSECS", "MILLISECOND", "MILLISECONDS":
		return "MILLISECOND"
	case "US", "USEC", "USECS", "MICROSECOND", "MICROSECONDS":
		return "MICROSECOND"
	}
	return ""
}

// add adds number (text) units of unit.
func (a *intervalAcc) add(number, unit string) error {
	unit = normUnit(unit)
	if unit == "" {
		return errors.New("unknown unit")
	}
	f, err := strconv.ParseFloat(number, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return errors.New("bad number " + strconv.Quote(number))
	}
	whole := f == math.Trunc(f)
	switch unit {
	case "YEAR", "QUARTER", "MONTH", "WEEK", "DAY":
		if !whole {
			return errors.New("fractional " + strings.ToLower(unit) + "s are not supported")
		}
	}
	switch unit {
	case "YEAR":
		a.months += 12 * f
	case "QUARTER":
		a.months += 3 * f
	case "MONTH":
		a.months += f
	case "WEEK":
		a.days += 7 * f
	case "DAY":
		a.days += f
	case "HOUR":
		a.nanos += f * float64(nsPerHour)
	case "MINUTE":
		a.nanos += f * float64(nsPerMinute)
	case "SECOND":
		a.nanos += f * float64(nsPerSecond)
	case "MILLISECOND":
		a.nanos += f * float64(nsPerMilli)
	case "MICROSECOND":
		a.nanos += f * float64(nsPerMicro)
	}
	return nil
}

// parseText parses "1 year 2 months", "-3 days", "1 day 02:00:00", "02:00".
func (a *intervalAcc) parseText(v string) error {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return errors.New("empty interval")
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			if err := a.parseClock(f); err != nil {
				return err
			}
			continue
		}
		// "3days" or "3 days"
		j := 0
		for j < len(f) && (f[j] >= '0' && f[j] <= '9' || f[j] == '.' || f[j] == '-' || f[j] == '+') {
			j++
		}
		num, unit := f[:j], f[j:]
		if num == "" {
			return errors.New("expected a number, found " + strconv.Quote(f))
		}
		if unit == "" {
			if i+1 >= len(fields) {
				if len(fields) == 1 {
					return a.add(num, "SECOND") // PostgreSQL: a bare number is seconds
				}
				return errors.New("missing unit after " + strconv.Quote(num))
			}
			i++
			unit = fields[i]
		}
		if err := a.add(num, unit); err != nil {
			return err
		}
	}
	return nil
}

// parseClock parses [-]hh:mm[:ss[.fraction]].
func (a *intervalAcc) parseClock(s string) error {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return errors.New("bad time " + strconv.Quote(s))
	}
	var ns float64
	units := []float64{float64(nsPerHour), float64(nsPerMinute), float64(nsPerSecond)}
	for i, p := range parts {
		if p == "" {
			return errors.New("bad time " + strconv.Quote(s))
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 || (i < 2 && f != math.Trunc(f)) {
			return errors.New("bad time " + strconv.Quote(s))
		}
		ns += f * units[i]
	}
	if neg {
		ns = -ns
	}
	a.nanos += ns
	return nil
}

// parseRange parses the SQL-standard range forms: 'y-m' YEAR TO MONTH,
// '[d ]hh[:mm[:ss]]' DAY/HOUR/MINUTE TO HOUR/MINUTE/SECOND.
func (a *intervalAcc) parseRange(v, from, to string) error {
	if from == "YEAR" && to == "MONTH" {
		neg := strings.HasPrefix(v, "-")
		y, m, ok := strings.Cut(strings.TrimLeft(v, "+-"), "-")
		if !ok {
			return errors.New("expected 'years-months'")
		}
		yi, err1 := strconv.Atoi(y)
		mi, err2 := strconv.Atoi(m)
		if err1 != nil || err2 != nil || yi < 0 || mi < 0 {
			return errors.New("expected 'years-months'")
		}
		months := float64(yi*12 + mi)
		if neg {
			months = -months
		}
		a.months += months
		return nil
	}
	if from == "DAY" {
		d, rest, ok := strings.Cut(v, " ")
		if !ok {
			return a.add(v, "DAY")
		}
		if err := a.add(d, "DAY"); err != nil {
			return err
		}
		v = strings.TrimSpace(rest)
	}
	if strings.Contains(v, ":") {
		// Minute-first ranges ("MINUTE TO SECOND": 'mm:ss') shift by one.
		if from == "MINUTE" && strings.Count(v, ":") == 1 {
			v = "0:" + v
		}
		return a.parseClock(v)
	}
	unit := from
	if unit == "DAY" {
		unit = "HOUR"
	}
	return a.add(v, unit)
}
