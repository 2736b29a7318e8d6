package types

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseTypeName(t *testing.T) {
	cases := []struct {
		name   string
		params []int
		want   string // TypeName of the result, or "error"
	}{
		{"integer", nil, "INTEGER"}, {"INT", nil, "INTEGER"}, {"int4", nil, "INTEGER"},
		{"bigint", nil, "BIGINT"}, {"INT8", nil, "BIGINT"}, {"smallint", nil, "SMALLINT"},
		{"tinyint", nil, "TINYINT"}, {"boolean", nil, "BOOLEAN"}, {"real", nil, "REAL"},
		{"float4", nil, "REAL"}, {"double", nil, "DOUBLE"}, {"float", nil, "DOUBLE"},
		{"double  precision", nil, "DOUBLE"}, {"decimal", nil, "DECIMAL(18,3)"},
		{"numeric", []int{15, 2}, "DECIMAL(15,2)"}, {"decimal", []int{7}, "DECIMAL(7,0)"},
		{"varchar", []int{25}, "VARCHAR"}, {"char", []int{1}, "VARCHAR"}, {"text", nil, "VARCHAR"},
		{"date", nil, "DATE"}, {"timestamp", nil, "TIMESTAMP"},
		{"decimal", []int{39, 2}, "error"}, {"decimal", []int{5, 6}, "error"},
		{"integer", []int{3}, "error"}, {"blobby", nil, "error"},
	}
	for _, c := range cases {
		got, err := ParseTypeName(c.name, c.params)
		if c.want == "error" {
			if err == nil {
				t.Errorf("ParseTypeName(%q,%v) = %s, want error", c.name, c.params, got)
			}
			continue
		}
		if err != nil || TypeName(got) != c.want {
			t.Errorf("ParseTypeName(%q,%v) = %v, %v; want %s", c.name, c.params, got, err, c.want)
		}
	}
	if ts, _ := ParseTypeName("timestamp", nil); ts.(*arrow.TimestampType).Unit != arrow.Microsecond {
		t.Error("TIMESTAMP must be microseconds")
	}
}

func TestComparisonType(t *testing.T) {
	cases := []struct {
		l, r arrow.DataType
		want string
	}{
		{Int32, Int64, "BIGINT"}, {Int8, Int16, "SMALLINT"},
		{Int32, Decimal(15, 2), "DECIMAL(15,2)"},
		{Int64, Decimal(15, 2), "DECIMAL(21,2)"},
		{Decimal(15, 2), Decimal(10, 4), "DECIMAL(17,4)"},
		{Decimal(38, 0), Decimal(38, 10), "DECIMAL(38,10)"},
		{Int32, Float32, "DOUBLE"}, {Float32, Float32, "REAL"}, {Decimal(15, 2), Float64, "DOUBLE"},
		{Date32, Timestamp, "TIMESTAMP"}, {String, Date32, "DATE"}, {Timestamp, String, "TIMESTAMP"},
		{Null, Int32, "INTEGER"}, {String, String, "VARCHAR"}, {Boolean, Boolean, "BOOLEAN"},
		{String, Int32, "error"}, {Boolean, Int32, "error"}, {Date32, Int32, "error"},
	}
	for _, c := range cases {
		got, err := ComparisonType(c.l, c.r)
		if c.want == "error" {
			if err == nil || !strings.Contains(err.Error(), TypeName(c.l)) || !strings.Contains(err.Error(), TypeName(c.r)) {
				t.Errorf("ComparisonType(%s,%s): want error naming both types, got %v, %v", TypeName(c.l), TypeName(c.r), got, err)
			}
			continue
		}
		if err != nil || TypeName(got) != c.want {
			t.Errorf("ComparisonType(%s,%s) = %v, %v; want %s", TypeName(c.l), TypeName(c.r), got, err, c.want)
		}
	}
}

func TestArithmeticType(t *testing.T) {
	name := func(t arrow.DataType) string {
		if t == nil {
			return "-"
		}
		return TypeName(t)
	}
	cases := []struct {
		op                  string
		l, r                arrow.DataType
		lcast, rcast, resul string
	}{
		{"+", Int32, Int32, "BIGINT", "BIGINT", "BIGINT"},
		{"*", Int8, Int64, "BIGINT", "BIGINT", "BIGINT"},
		{"/", Int32, Int32, "DOUBLE", "DOUBLE", "DOUBLE"},
		{"//", Int32, Int32, "BIGINT", "BIGINT", "BIGINT"},
		{"+", Decimal(15, 2), Decimal(15, 2), "DECIMAL(15,2)", "DECIMAL(15,2)", "DECIMAL(16,2)"},
		{"-", Int32, Decimal(15, 2), "DECIMAL(10,0)", "DECIMAL(15,2)", "DECIMAL(16,2)"},
		{"+", Decimal(1, 1), Decimal(15, 2), "DECIMAL(1,1)", "DECIMAL(15,2)", "DECIMAL(16,2)"},
		{"*", Decimal(15, 2), Decimal(16, 2), "DECIMAL(15,2)", "DECIMAL(16,2)", "DECIMAL(31,4)"},
		{"*", Decimal(30, 2), Decimal(16, 2), "DECIMAL(30,2)", "DECIMAL(16,2)", "DECIMAL(38,4)"},
		{"+", Decimal(38, 2), Decimal(38, 2), "DECIMAL(38,2)", "DECIMAL(38,2)", "DECIMAL(38,2)"},
		{"/", Decimal(15, 2), Decimal(15, 2), "DOUBLE", "DOUBLE", "DOUBLE"},
		{"%", Decimal(15, 2), Decimal(10, 0), "DECIMAL(15,2)", "DECIMAL(10,0)", "DECIMAL(15,2)"},
		{"+", Decimal(15, 2), Float32, "DOUBLE", "DOUBLE", "DOUBLE"},
		{"+", Date32, Interval, "TIMESTAMP", "INTERVAL", "TIMESTAMP"},
		{"-", Date32, Interval, "TIMESTAMP", "INTERVAL", "TIMESTAMP"},
		{"+", Interval, Date32, "INTERVAL", "TIMESTAMP", "TIMESTAMP"},
		{"-", Date32, Date32, "DATE", "DATE", "BIGINT"},
		{"+", Date32, Int64, "DATE", "INTEGER", "DATE"},
		{"+", Timestamp, Interval, "TIMESTAMP", "INTERVAL", "TIMESTAMP"},
		{"+", Null, Int32, "BIGINT", "BIGINT", "BIGINT"},
		{"+", String, Int32, "-", "-", "-"},
		{"*", Date32, Interval, "-", "-", "-"},
		{"//", Decimal(5, 1), Int32, "-", "-", "-"},
		{"^", Int32, Int32, "-", "-", "-"},
	}
	for _, c := range cases {
		lc, rc, res, err := ArithmeticType(c.op, c.l, c.r)
		if c.resul == "-" {
			if err == nil {
				t.Errorf("%s %s %s: want error", TypeName(c.l), c.op, TypeName(c.r))
			}
			continue
		}
		if err != nil || name(lc) != c.lcast || name(rc) != c.rcast || name(res) != c.resul {
			t.Errorf("%s %s %s = %s, %s, %s, %v; want %s, %s, %s", TypeName(c.l), c.op, TypeName(c.r),
				name(lc), name(rc), name(res), err, c.lcast, c.rcast, c.resul)
		}
	}
}

func TestCommonSuperTypeAndCasts(t *testing.T) {
	got, err := CommonSuperType(Null, Int32, Decimal(15, 2), Null)
	if err != nil || TypeName(got) != "DECIMAL(15,2)" {
		t.Errorf("super(NULL,INT,DEC(15,2)) = %v, %v", got, err)
	}
	if got, _ := CommonSuperType(Null, Null); TypeName(got) != "NULL" {
		t.Errorf("super(NULL,NULL) = %v", got)
	}
	if got, _ := CommonSuperType(String, Int32); TypeName(got) != "VARCHAR" {
		t.Errorf("super(VARCHAR,INT) = %v", got)
	}
	// More than 38 digits: the integer digits win, the scale shrinks
	// (DuckDB), while comparisons keep the scale.
	if got, _ := CommonSuperType(Decimal(18, 4), Decimal(38, 2)); TypeName(got) != "DECIMAL(38,2)" {
		t.Errorf("super(DEC(18,4),DEC(38,2)) = %v", got)
	}
	if got, _ := ComparisonType(Decimal(18, 4), Decimal(38, 2)); TypeName(got) != "DECIMAL(38,4)" {
		t.Errorf("comparison(DEC(18,4),DEC(38,2)) = %v", got)
	}
	if _, err := CommonSuperType(Boolean, Date32); err == nil {
		t.Error("super(BOOLEAN,DATE) should fail")
	}
	castCases := []struct {
		from, to          arrow.DataType
		canCast, implicit bool
	}{
		{Int32, Int64, true, true}, {Int64, Int32, true, false},
		{Int32, Decimal(10, 0), true, true}, {Int32, Decimal(9, 0), true, false},
		{Decimal(15, 2), Decimal(16, 3), true, true}, {Decimal(15, 2), Decimal(15, 3), true, false},
		{Decimal(15, 2), Float64, true, true}, {Float64, Decimal(15, 2), true, false},
		{String, Int32, true, false}, {String, Date32, true, true}, {Int32, String, true, false},
		{Date32, Timestamp, true, true}, {Timestamp, Date32, true, false},
		{Date32, Int32, false, false}, {Null, Date32, true, true}, {Boolean, Int32, true, false},
	}
	for _, c := range castCases {
		if CanCast(c.from, c.to) != c.canCast || ImplicitCast(c.from, c.to) != c.implicit {
			t.Errorf("%s -> %s: CanCast %v ImplicitCast %v, want %v %v", TypeName(c.from), TypeName(c.to),
				CanCast(c.from, c.to), ImplicitCast(c.from, c.to), c.canCast, c.implicit)
		}
	}
}

func TestFunctionType(t *testing.T) {
	cases := []struct {
		name  string
		args  []arrow.DataType
		want  string
		casts string
	}{
		{"substring", []arrow.DataType{String, Int32, Int32}, "VARCHAR", "VARCHAR,BIGINT,BIGINT"},
		{"SUBSTR", []arrow.DataType{String, Int64}, "VARCHAR", "VARCHAR,BIGINT"},
		{"upper", []arrow.DataType{String}, "VARCHAR", "VARCHAR"},
		{"length", []arrow.DataType{String}, "BIGINT", "VARCHAR"},
		{"concat", []arrow.DataType{String, Int32, Date32}, "VARCHAR", "VARCHAR,VARCHAR,VARCHAR"},
		{"coalesce", []arrow.DataType{Null, Int32, Decimal(15, 2)}, "DECIMAL(15,2)", "DECIMAL(15,2),DECIMAL(15,2),DECIMAL(15,2)"},
		{"abs", []arrow.DataType{Int32}, "INTEGER", "INTEGER"},
		{"round", []arrow.DataType{Decimal(15, 4), Int32}, "DECIMAL(15,4)", "DECIMAL(15,4),INTEGER"},
		{"round", []arrow.DataType{Decimal(15, 4)}, "DECIMAL(15,0)", "DECIMAL(15,4)"},
		{"floor", []arrow.DataType{Float32}, "DOUBLE", "DOUBLE"},
		{"sqrt", []arrow.DataType{Int32}, "DOUBLE", "DOUBLE"},
		{"extract", []arrow.DataType{String, Date32}, "BIGINT", "VARCHAR,DATE"},
		{"date_trunc", []arrow.DataType{String, Timestamp}, "TIMESTAMP", "VARCHAR,TIMESTAMP"},
		{"year", []arrow.DataType{Date32}, "BIGINT", "DATE"},
		{"greatest", []arrow.DataType{Int32, Int64}, "BIGINT", "BIGINT,BIGINT"},
	}
	for _, c := range cases {
		res, casts, err := FunctionType(c.name, c.args)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		names := make([]string, len(casts))
		for i, ct := range casts {
			names[i] = TypeName(ct)
		}
		if TypeName(res) != c.want || strings.Join(names, ",") != c.casts {
			t.Errorf("%s%v = %s (%s), want %s (%s)", c.name, c.args, TypeName(res), strings.Join(names, ","), c.want, c.casts)
		}
	}
	for _, c := range []struct {
		digits int64
		want   string
	}{{4, "DECIMAL(15,4)"}, {6, "DECIMAL(15,4)"}, {2, "DECIMAL(15,2)"}, {0, "DECIMAL(15,0)"}, {-1, "DECIMAL(15,0)"}} {
		if got := TypeName(RoundDecimalType(Decimal(15, 4), c.digits)); got != c.want {
			t.Errorf("RoundDecimalType(DECIMAL(15,4), %d) = %s, want %s", c.digits, got, c.want)
		}
	}
	for _, bad := range []struct {
		name string
		args []arrow.DataType
		msg  string
	}{
		{"substrng", []arrow.DataType{String, Int32}, "did you mean substring"},
		{"upper", []arrow.DataType{Int32}, "no function upper(INTEGER)"},
		{"length", []arrow.DataType{String, String}, "no function"},
		{"abs", []arrow.DataType{String}, "no function"},
	} {
		if _, _, err := FunctionType(bad.name, bad.args); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: want error containing %q, got %v", bad.name, bad.msg, err)
		}
	}
}

func TestLiterals(t *testing.T) {
	for _, c := range []struct {
		text       string
		val        int64
		prec, scal int32
	}{
		{"123.45", 12345, 5, 2}, {"-0.5", -5, 1, 1}, {"0.1", 1, 1, 1}, {"+7.", 7, 1, 0},
		{"0.001", 1, 3, 3}, {"100", 100, 3, 0}, {"007.50", 750, 3, 2},
	} {
		n, p, s, err := ParseDecimalLiteral(c.text)
		if err != nil || n != decimal128.FromI64(c.val) || p != c.prec || s != c.scal {
			t.Errorf("ParseDecimalLiteral(%q) = %v,%d,%d,%v; want %d,%d,%d", c.text, n, p, s, err, c.val, c.prec, c.scal)
		}
	}
	n, p, _, err := ParseDecimalLiteral("12345678901234567890.5")
	if err != nil || p != 21 || n.BigInt().String() != "123456789012345678905" {
		t.Errorf("wide literal: %v %d %v", n, p, err)
	}
	for _, bad := range []string{"", "1.2.3", "abc", "1e5", "123456789012345678901234567890123456789"} {
		if _, _, _, err := ParseDecimalLiteral(bad); err == nil {
			t.Errorf("ParseDecimalLiteral(%q) should fail", bad)
		}
	}
	// Dates: days since epoch computed by hand.
	for _, c := range []struct {
		s    string
		days int32
	}{{"1970-01-01", 0}, {"1970-01-02", 1}, {"1969-12-31", -1}, {"2000-03-01", 11017}, {"1998-12-01", 10561}, {"2020-02-29", 18321}} {
		d, err := ParseDate(c.s)
		if err != nil || int32(d) != c.days {
			t.Errorf("ParseDate(%q) = %d, %v; want %d", c.s, d, err, c.days)
		}
		y, m, dd := CivilFromDays(int64(c.days))
		if back := DaysFromCivil(y, m, dd); back != int64(c.days) {
			t.Errorf("civil round trip %d -> %d", c.days, back)
		}
	}
	for _, bad := range []string{"2021-02-29", "1998-13-01", "1998-1", "x"} {
		if _, err := ParseDate(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseDate(%q): want error naming the value, got %v", bad, err)
		}
	}
	ts, err := ParseTimestamp("1970-01-02 01:02:03.5")
	if err != nil || int64(ts) != 86400_000_000+3723_500_000 {
		t.Errorf("ParseTimestamp = %d, %v", ts, err)
	}
	if ts, _ := ParseTimestamp("1970-01-01T00:00:00.000001Z"); ts != 1 {
		t.Errorf("ParseTimestamp T/Z = %d", ts)
	}
	for _, c := range []struct {
		v, unit string
		want    arrow.MonthDayNanoInterval
	}{
		{"3", "month", arrow.MonthDayNanoInterval{Months: 3}},
		{"90", "DAY", arrow.MonthDayNanoInterval{Days: 90}},
		{"1", "year", arrow.MonthDayNanoInterval{Months: 12}},
		{"3 months", "", arrow.MonthDayNanoInterval{Months: 3}},
		{"1 year 2 days", "", arrow.MonthDayNanoInterval{Months: 12, Days: 2}},
		{"2 hours", "", arrow.MonthDayNanoInterval{Nanoseconds: 7200e9}},
		{"1 day 01:30:00", "", arrow.MonthDayNanoInterval{Days: 1, Nanoseconds: 5400e9}},
	} {
		got, err := ParseInterval(c.v, c.unit)
		if err != nil || got != c.want {
			t.Errorf("ParseInterval(%q,%q) = %+v, %v; want %+v", c.v, c.unit, got, err, c.want)
		}
	}
	for _, bad := range [][2]string{{"x", "day"}, {"3", "fortnight"}, {"", ""}, {"3", ""}} {
		if _, err := ParseInterval(bad[0], bad[1]); err == nil {
			t.Errorf("ParseInterval(%q,%q) should fail", bad[0], bad[1])
		}
	}
}

func TestAddMonths(t *testing.T) {
	d := func(s string) int64 {
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return int64(v)
	}
	for _, c := range []struct {
		from   string
		months int32
		want   string
	}{
		{"2024-01-31", 1, "2024-02-29"}, {"2023-01-31", 1, "2023-02-28"}, {"2024-03-31", -1, "2024-02-29"},
		{"1995-03-15", 0, "1995-03-15"}, {"1995-03-15", -15, "1993-12-15"}, {"1969-12-31", 2, "1970-02-28"},
		{"1970-01-15", -1, "1969-12-15"}, {"1998-12-01", 12, "1999-12-01"},
	} {
		if got := AddMonths(d(c.from), c.months); got != d(c.want) {
			t.Errorf("AddMonths(%s, %d) = day %d, want %s (day %d)", c.from, c.months, got, c.want, d(c.want))
		}
	}
}

func TestAppendDecimal(t *testing.T) {
	for _, c := range []struct {
		x    int64
		s    int32
		want string
	}{
		{150, 2, "1.50"}, {-5, 2, "-0.05"}, {7, 0, "7"}, {0, 3, "0.000"}, {-7, 0, "-7"},
		{999999999999999999, 18, "0.999999999999999999"}, {-999999999999999999, 2, "-9999999999999999.99"},
		{math.MinInt64, 4, "-922337203685477.5808"}, {math.MaxInt64, 0, "9223372036854775807"},
	} {
		if got := string(AppendDecimal([]byte("x"), c.x, c.s)); got != "x"+c.want {
			t.Errorf("AppendDecimal(%d, %d) = %q, want %q", c.x, c.s, got[1:], c.want)
		}
	}
}

// DECIMAL(p <= 18) is a Decimal64, wider ones a Decimal128, and the result
// precision of a rule picks the width.
func TestDecimalWidths(t *testing.T) {
	if Decimal(18, 2).ID() != arrow.DECIMAL64 || Decimal(19, 2).ID() != arrow.DECIMAL128 || Decimal(1, 0).ID() != arrow.DECIMAL64 {
		t.Fatal("Decimal picks the wrong width")
	}
	for _, c := range []struct {
		op   string
		l, r arrow.DataType
		want arrow.Type
	}{
		{"+", Decimal(15, 2), Decimal(15, 2), arrow.DECIMAL64},  // DECIMAL(16,2)
		{"+", Decimal(18, 2), Decimal(18, 2), arrow.DECIMAL128}, // DECIMAL(19,2)
		{"*", Decimal(15, 2), Decimal(15, 2), arrow.DECIMAL128}, // DECIMAL(30,4)
		{"*", Decimal(9, 2), Decimal(9, 2), arrow.DECIMAL64},    // DECIMAL(18,4)
		{"%", Decimal(18, 2), Decimal(18, 2), arrow.DECIMAL64},
		{"-", Int32, Decimal(5, 2), arrow.DECIMAL64},  // DECIMAL(13,2)
		{"-", Int64, Decimal(5, 2), arrow.DECIMAL128}, // DECIMAL(22,2)
	} {
		_, _, res, err := ArithmeticType(c.op, c.l, c.r)
		if err != nil || res.ID() != c.want {
			t.Errorf("%s %s %s = %v (%v), want %s", TypeName(c.l), c.op, TypeName(c.r), res, err, c.want)
		}
	}
	if got, _ := AggregateType("sum", Decimal(15, 2)); got.ID() != arrow.DECIMAL128 || TypeName(got) != "DECIMAL(38,2)" {
		t.Errorf("sum(DECIMAL(15,2)) = %v", got)
	}
	if got, _ := AggregateType("max", Decimal(15, 2)); !arrow.TypeEqual(got, Decimal(15, 2)) {
		t.Errorf("max(DECIMAL(15,2)) = %v", got)
	}
}
