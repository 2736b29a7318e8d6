package connectors

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

func TestParseInt64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"+17", 17, true}, {"-42", -42, true},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"00000000000000000000001", 1, true}, {"", 0, false}, {"-", 0, false}, {"1.0", 0, false},
		{"1e3", 0, false}, {" 1", 0, false}, {"18446744073709551616", 0, false},
	} {
		got, ok := parseInt64([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseInt64(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	big, _ := decimal128.FromString("-12345678901234567890.123", 38, 3)
	for _, tc := range []struct {
		in   string
		p, s int32
		want decimal128.Num
		ok   bool
	}{
		{"1.5", 5, 2, decimal128.FromI64(150), true},
		{"-1.5", 5, 2, decimal128.FromI64(-150), true},
		{"007", 3, 0, decimal128.FromI64(7), true},
		{".5", 3, 1, decimal128.FromI64(5), true},
		{"5.", 3, 1, decimal128.FromI64(50), true},
		{"1.005", 5, 2, decimal128.FromI64(101), true},   // half away from zero
		{"-1.005", 5, 2, decimal128.FromI64(-101), true}, // half away from zero
		{"1.004", 5, 2, decimal128.FromI64(100), true},
		{"999.99", 5, 2, decimal128.FromI64(99999), true},
		{"999.995", 5, 2, decimal128.Num{}, false}, // rounds past precision
		{"1000", 5, 2, decimal128.Num{}, false},
		{"-12345678901234567890.123", 38, 3, big, true},
		{"1e5", 10, 0, decimal128.Num{}, false},
		{"", 10, 0, decimal128.Num{}, false},
		{".", 10, 0, decimal128.Num{}, false},
		{"1.2.3", 10, 2, decimal128.Num{}, false},
	} {
		got, ok := parseDecimal([]byte(tc.in), tc.p, tc.s)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseDecimal(%q, %d, %d) = %v, %v; want %v, %v", tc.in, tc.p, tc.s, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseDateTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int32
		ok   bool
	}{
		{"1970-01-01", 0, true}, {"1970-01-02", 1, true}, {"1969-12-31", -1, true},
		{"2000-03-01", 11017, true}, {"2024-02-29", 19782, true}, {"2023-02-29", 0, false},
		{"1900-02-29", 0, false}, {"0001-01-01", -719162, true}, {"9999-12-31", 2932896, true},
		{"2020-13-01", 0, false}, {"2020-1-01", 0, false}, {"2020/01/01", 0, false},
	} {
		got, ok := parseDate([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseDate(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	const day = 86_400_000_000
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01 00:00:00", 0, true},
		{"1970-01-01T00:00:01", 1_000_000, true},
		{"1970-01-01 00:01", 60_000_000, true},
		{"1970-01-02 01:02:03.5", day + 3723_500_000, true},
		{"1970-01-01 00:00:00.1234567", 123456, true},
		{"1969-12-31 23:59:59Z", -1_000_000, true},
		{"2000-03-01", 11017 * day, true},
		{"1970-01-01 24:00:00", 0, false},
		{"1970-01-01 00:00:00.", 0, false},
		{"1970-01-01 00:00:00+01:00", 0, false},
	} {
		got, ok := parseTimestamp([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSchema(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"a INT, b DECIMAL(15,2), c DATE", "a:int32 b:decimal64(15, 2) c:date32", ""},
		{"b DECIMAL(18,2), c DECIMAL(19,2)", "b:decimal64(18, 2) c:decimal(19, 2)", ""},
		{`"x y" varchar(10), z timestamp, w double precision, v bool`, "x y:utf8 z:timestamp[us] w:float64 v:bool", ""},
		{"n NUMERIC", "n:decimal(38, 0)", ""},
		{"a INT, a INT", "", "duplicate"},
		{"a", "", "missing type"},
		{"a DECIMAL(40,2)", "", "out of range"},
		{"a DECIMAL(2,3)", "", "out of range"},
		{"a BLOB", "", "unsupported type"},
		{"", "", "empty"},
	} {
		sc, err := ParseSchema(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSchema(%q): error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSchema(%q): %v", tc.in, err)
			continue
		}
		var parts []string
		for _, f := range sc.Fields() {
			parts = append(parts, f.Name+":"+f.Type.String())
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("ParseSchema(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecFromBigEndian(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want decimal128.Num
	}{
		{[]byte{0x01}, decimal128.FromI64(1)},
		{[]byte{0xff}, decimal128.FromI64(-1)},
		{[]byte{0x00, 0xff}, decimal128.FromI64(255)},
		{[]byte{0xff, 0x00}, decimal128.FromI64(-256)},
		{[]byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0}, decimal128.New(1, 0)},
		{append(make([]byte, 16), 0x05), decimal128.FromI64(5)}, // 17 bytes, fits
	} {
		got, ok := decFromBigEndian(tc.in)
		if !ok || got != tc.want {
			t.Errorf("decFromBigEndian(%x) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
}
