package types

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

func mismatch(what string, l, r arrow.DataType) error {
	return fmt.Errorf("%s: cannot combine %s and %s", what, TypeName(l), TypeName(r))
}

// unifyDecimals returns the decimal that holds both (max integer digits +
// max scale), capped at precision 38 (comparisons stay exact for values
// that fit).
func unifyDecimals(l, r arrow.DataType) arrow.DataType {
	p1, s1 := asDecimal(l)
	p2, s2 := asDecimal(r)
	s := max(s1, s2)
	p := min(MaxDecimalPrecision, max(p1-s1, p2-s2)+s)
	return Decimal(p, s)
}

// superDecimal is the type of a value that is one of two decimals (UNION,
// CASE, COALESCE): like unifyDecimals, but when both need more than 38
// digits the integer digits are kept and the scale shrinks (DuckDB's
// rule): DECIMAL(18,4) and DECIMAL(38,2) give DECIMAL(38,2).
func superDecimal(l, r arrow.DataType) arrow.DataType {
	p1, s1 := asDecimal(l)
	p2, s2 := asDecimal(r)
	s := max(s1, s2)
	intDigits := max(p1-s1, p2-s2)
	if intDigits+s > MaxDecimalPrecision {
		return Decimal(MaxDecimalPrecision, max(0, MaxDecimalPrecision-intDigits))
	}
	return Decimal(intDigits+s, s)
}

// numericCommon is the common type of two numeric types.
func numericCommon(l, r arrow.DataType) arrow.DataType {
	switch {
	case IsInteger(l) && IsInteger(r):
		if intRank(l) >= intRank(r) {
			return l
		}
		return r
	case IsFloat(l) || IsFloat(r):
		if l.ID() == arrow.FLOAT32 && r.ID() == arrow.FLOAT32 {
			return Float32
		}
		return Float64
	default:
		return unifyDecimals(l, r)
	}
}

// ComparisonType is the type both sides of a comparison are cast to.
//
// Integers widen; integer vs decimal gives a decimal wide enough for both;
// decimal vs decimal keeps the max integer digits and the max scale; any
// number vs a float gives DOUBLE; DATE vs TIMESTAMP gives TIMESTAMP; a
// string vs DATE/TIMESTAMP/INTERVAL casts the string (string literals in
// date predicates). String vs number is an error: the binder must cast.
func ComparisonType(l, r arrow.DataType) (arrow.DataType, error) {
	if IsNull(l) {
		return r, nil
	}
	if IsNull(r) {
		return l, nil
	}
	if arrow.TypeEqual(l, r) {
		return l, nil
	}
	switch {
	case IsNumeric(l) && IsNumeric(r):
		return numericCommon(l, r), nil
	case IsTemporal(l) && IsTemporal(r):
		return Timestamp, nil
	case IsString(l) && (IsTemporal(r) || r.ID() == arrow.INTERVAL_MONTH_DAY_NANO || r.ID() == arrow.BOOL):
		return r, nil
	case IsString(r) && (IsTemporal(l) || l.ID() == arrow.INTERVAL_MONTH_DAY_NANO || l.ID() == arrow.BOOL):
		return l, nil
	}
	return nil, fmt.Errorf("cannot compare %s with %s; add an explicit CAST", TypeName(l), TypeName(r))
}

// CommonSuperType is the type every value of a CASE, COALESCE, UNION or IN
// list is cast to. NULL unifies with anything; an all-NULL list stays NULL.
// Unlike ComparisonType, string vs number unifies to VARCHAR (DuckDB does so
// for UNION and CASE).
func CommonSuperType(ts ...arrow.DataType) (arrow.DataType, error) {
	var acc arrow.DataType = Null
	for _, t := range ts {
		if t == nil {
			return nil, fmt.Errorf("common super type: nil type")
		}
		next, err := ComparisonType(acc, t)
		if err == nil && IsDecimal(next) && IsNumeric(acc) && IsNumeric(t) {
			next = superDecimal(acc, t)
		}
		if err != nil {
			if (IsString(acc) && (IsNumeric(t) || IsTemporal(t) || t.ID() == arrow.BOOL)) ||
				(IsString(t) && (IsNumeric(acc) || IsTemporal(acc) || acc.ID() == arrow.BOOL)) {
				next = String
			} else {
				return nil, fmt.Errorf("no common type for %s and %s", TypeName(acc), TypeName(t))
			}
		}
		acc = next
	}
	return acc, nil
}

// ArithmeticType returns the types the operands are cast to and the result
// type of `l op r` for op in + - * / % //.
//
//   - integers: both to BIGINT, result BIGINT (overflow is a runtime error).
//   - decimal (or integer with decimal) + - %: operands keep their own scale
//     (integers become DECIMAL(w,0)); the kernel rescales to the result scale
//     s=max(s1,s2), p=min(38, max(p1-s1,p2-s2)+s+1).
//   - decimal *: p=min(38,p1+p2), s=s1+s2 (error when s > 38).
//   - every decimal type here is Decimal(p, s): the precision picks the
//     width (Decimal64 up to 18), the kernels handle mixed widths.
//   - /: always DOUBLE (DuckDB); // integer division on integers.
//   - any float operand: DOUBLE.
//   - DATE ± INTERVAL → TIMESTAMP, as in DuckDB and PostgreSQL (the date is
//     cast to midnight). Compared with a DATE column, a folded constant
//     that falls on midnight converts back to a DATE literal, so
//     l_shipdate <= date '1998-12-01' - interval '90' day still compares
//     dates. DATE - DATE → BIGINT days. DATE ± integer → DATE (integer
//     cast to INTEGER).
//   - TIMESTAMP ± INTERVAL → TIMESTAMP; INTERVAL * integer → INTERVAL
//     (each part multiplied: 3 * INTERVAL '1 month 2 days').
func ArithmeticType(op string, l, r arrow.DataType) (lcast, rcast, result arrow.DataType, err error) {
	switch op {
	case "+", "-", "*", "/", "%", "//":
	default:
		return nil, nil, nil, fmt.Errorf("unknown arithmetic operator %q", op)
	}
	// An untyped NULL takes the other side's type, or INTEGER (days) next
	// to a DATE or TIMESTAMP (DuckDB: DATE + NULL is a DATE).
	nullAs := func(other arrow.DataType) arrow.DataType {
		if IsTemporal(other) {
			return Int32
		}
		return other
	}
	if IsNull(l) && IsNull(r) {
		l, r = Int32, Int32
	} else if IsNull(l) {
		l = nullAs(r)
	} else if IsNull(r) {
		r = nullAs(l)
	}
	lid, rid := l.ID(), r.ID()
	const iv = arrow.INTERVAL_MONTH_DAY_NANO
	switch {
	case lid == arrow.DATE32 && rid == iv && (op == "+" || op == "-"):
		return Timestamp, r, Timestamp, nil
	case lid == iv && rid == arrow.DATE32 && op == "+":
		return l, Timestamp, Timestamp, nil
	case lid == arrow.TIMESTAMP && rid == iv && (op == "+" || op == "-"):
		return l, r, Timestamp, nil
	case lid == iv && rid == arrow.TIMESTAMP && op == "+":
		return l, r, Timestamp, nil
	case lid == arrow.DATE32 && rid == arrow.DATE32 && op == "-":
		return l, r, Int64, nil
	case lid == arrow.DATE32 && IsInteger(r) && (op == "+" || op == "-"):
		return l, Int32, Date32, nil
	case IsInteger(l) && rid == arrow.DATE32 && op == "+":
		return Int32, r, Date32, nil
	case lid == iv && rid == iv && (op == "+" || op == "-"):
		return l, r, Interval, nil
	case lid == iv && IsInteger(r) && op == "*":
		return l, Int64, Interval, nil
	case IsInteger(l) && rid == iv && op == "*":
		return Int64, r, Interval, nil
	}
	if !IsNumeric(l) || !IsNumeric(r) {
		return nil, nil, nil, fmt.Errorf("no operator %s for %s and %s", op, TypeName(l), TypeName(r))
	}
	if op == "/" || IsFloat(l) || IsFloat(r) {
		if op == "//" && !(IsInteger(l) && IsInteger(r)) {
			return nil, nil, nil, fmt.Errorf("integer division // needs integers, got %s and %s", TypeName(l), TypeName(r))
		}
		return Float64, Float64, Float64, nil
	}
	if IsInteger(l) && IsInteger(r) {
		return Int64, Int64, Int64, nil
	}
	if op == "//" {
		return nil, nil, nil, fmt.Errorf("integer division // needs integers, got %s and %s", TypeName(l), TypeName(r))
	}
	// Decimal arithmetic.
	p1, s1 := asDecimal(l)
	p2, s2 := asDecimal(r)
	lcast, rcast = Decimal(p1, s1), Decimal(p2, s2)
	switch op {
	case "*":
		s := s1 + s2
		if s > MaxDecimalPrecision {
			return nil, nil, nil, fmt.Errorf("%s * %s: result scale %d exceeds %d", TypeName(l), TypeName(r), s, MaxDecimalPrecision)
		}
		return lcast, rcast, Decimal(min(MaxDecimalPrecision, p1+p2), s), nil
	default: // + - %
		s := max(s1, s2)
		p := min(MaxDecimalPrecision, max(p1-s1, p2-s2)+s+1)
		if op == "%" {
			p = min(MaxDecimalPrecision, max(p1-s1, p2-s2)+s)
		}
		return lcast, rcast, Decimal(p, s), nil
	}
}

// CanCast reports whether an explicit CAST from → to exists.
func CanCast(from, to arrow.DataType) bool {
	if IsNull(from) || arrow.TypeEqual(from, to) {
		return true
	}
	f, t := from.ID(), to.ID()
	switch {
	case IsString(from) && (IsNumeric(to) || IsTemporal(to) || t == arrow.BOOL || t == arrow.INTERVAL_MONTH_DAY_NANO || IsString(to)):
		return true
	case IsString(to) && (IsNumeric(from) || IsTemporal(from) || f == arrow.BOOL || f == arrow.INTERVAL_MONTH_DAY_NANO):
		return true
	case IsNumeric(from) && IsNumeric(to):
		return true
	case IsTemporal(from) && IsTemporal(to):
		return true
	case f == arrow.BOOL && IsNumeric(to), IsNumeric(from) && t == arrow.BOOL:
		return true
	}
	return false
}

// ImplicitCast reports whether the binder may insert a cast from → to
// silently: NULL to anything, integer widening, integer to a decimal that
// holds it, integer/decimal to float, decimal widening without losing
// integer digits or scale, REAL to DOUBLE, DATE to TIMESTAMP, and string
// (literals) to DATE/TIMESTAMP/INTERVAL.
func ImplicitCast(from, to arrow.DataType) bool {
	if IsNull(from) || arrow.TypeEqual(from, to) {
		return true
	}
	switch {
	case IsInteger(from) && IsInteger(to):
		return intRank(to) >= intRank(from)
	case (IsInteger(from) || IsDecimal(from)) && IsDecimal(to):
		p1, s1 := asDecimal(from)
		p2, s2 := DecimalParams(to)
		return s2 >= s1 && p2-s2 >= p1-s1
	case IsNumeric(from) && to.ID() == arrow.FLOAT64:
		return true
	case (IsInteger(from) || IsDecimal(from)) && to.ID() == arrow.FLOAT32:
		return true
	case from.ID() == arrow.DATE32 && to.ID() == arrow.TIMESTAMP:
		return true
	case IsString(from) && (IsTemporal(to) || to.ID() == arrow.INTERVAL_MONTH_DAY_NANO):
		return true
	}
	return false
}

// editDistance is the Levenshtein distance, for "did you mean" hints.
func editDistance(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
