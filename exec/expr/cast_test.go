package expr

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

func TestCasts(t *testing.T) {
	d := func(s string) int64 { v, _ := types.ParseDate(s); return int64(v) }
	ts := func(s string) int64 { v, _ := types.ParseTimestamp(s); return int64(v) }
	cases := []struct {
		name     string
		from, to arrow.DataType
		in, want []any
	}{
		{"int widen", tI32, tI64, []any{int64(1), nil, int64(-7)}, []any{int64(1), nil, int64(-7)}},
		{"int narrow", tI64, types.Int8, []any{int64(127), nil, int64(-128)}, []any{int64(127), nil, int64(-128)}},
		{"int to decimal", tI32, types.Decimal(12, 2), []any{int64(3), nil, int64(-4)}, []any{dec(300), nil, dec(-400)}},
		{"int to double", tI64, tF64, []any{int64(3), nil}, []any{3.0, nil}},
		{"double to int rounds half to even", tF64, tI32, []any{2.5, -2.5, 3.5, 2.6, nil}, []any{int64(2), int64(-2), int64(4), int64(3), nil}},
		{"double to decimal", tF64, types.Decimal(10, 2), []any{1.005, -0.125, nil}, []any{dec(100), dec(-13), nil}},
		{"decimal rescale down rounds half away", types.Decimal(10, 2), types.Decimal(10, 1), []any{dec(125), dec(-125), dec(124), nil}, []any{dec(13), dec(-13), dec(12), nil}},
		{"decimal rescale up", types.Decimal(10, 1), types.Decimal(12, 3), []any{dec(15), nil}, []any{dec(1500), nil}},
		{"decimal to int rounds", types.Decimal(10, 2), tI64, []any{dec(150), dec(-150), dec(149), nil}, []any{int64(2), int64(-2), int64(1), nil}},
		{"decimal to double", types.Decimal(10, 2), tF64, []any{dec(150), nil}, []any{1.5, nil}},
		{"decimal to string", types.Decimal(10, 2), tStr, []any{dec(150), dec(-5), dec(0), nil}, []any{"1.50", "-0.05", "0.00", nil}},
		{"string to int", tStr, tI32, []any{" 42 ", "-7", nil}, []any{int64(42), int64(-7), nil}},
		{"string to decimal", tStr, types.Decimal(10, 2), []any{"1.005", "-3", "0.1", nil}, []any{dec(101), dec(-300), dec(10), nil}},
		{"string to double", tStr, tF64, []any{"1.5", "-2e3", nil}, []any{1.5, -2000.0, nil}},
		{"string to date", tStr, tDate, []any{"1998-12-01", nil}, []any{d("1998-12-01"), nil}},
		{"string to timestamp", tStr, tTS, []any{"1998-12-01 10:11:12.5", nil}, []any{ts("1998-12-01 10:11:12.5"), nil}},
		{"string to bool", tStr, tBool, []any{"true", "F", nil}, []any{true, false, nil}},
		{"date to string", tDate, tStr, []any{d("1998-12-01"), d("0001-01-01"), nil}, []any{"1998-12-01", "0001-01-01", nil}},
		{"timestamp to string", tTS, tStr, []any{ts("1998-12-01 10:11:12.5"), ts("2000-01-01")}, []any{"1998-12-01 10:11:12.5", "2000-01-01 00:00:00"}},
		{"date to timestamp", tDate, tTS, []any{d("1970-01-02"), nil}, []any{ts("1970-01-02"), nil}},
		{"timestamp to date floors", tTS, tDate, []any{ts("1969-12-31 23:00:00"), ts("2000-01-01 12:00:00")}, []any{d("1969-12-31"), d("2000-01-01")}},
		{"int to string", tI64, tStr, []any{int64(-12), nil}, []any{"-12", nil}},
		{"double to string", tF64, tStr, []any{1.5, 2.0, nil}, []any{"1.5", "2.0", nil}},
		{"bool to int", tBool, tI32, []any{true, false, nil}, []any{int64(1), int64(0), nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, off := range []int{0, 2} {
				mem := newMem(t)
				rb := mkBatch(t, mem, off, colSpec{tc.from, tc.in})
				e := must[exec.Expr](t)(Cast(Col(0, tc.from, "x"), tc.to))
				got := must[[]any](t)(evalAny(t, mem, e, rb))
				rb.Release()
				mustEqual(t, tc.name, got, tc.want)
			}
		})
	}
}

func TestCastErrors(t *testing.T) {
	cases := []struct {
		name     string
		from, to arrow.DataType
		in       []any
		msg      string
	}{
		{"bad int", tStr, tI32, []any{"12", "abc"}, `"abc"`},
		{"bad date", tStr, tDate, []any{"1998-13-01"}, "1998-13-01"},
		{"int overflow", tI64, types.Int8, []any{int64(128)}, "out of range"},
		{"decimal overflow", types.Decimal(10, 2), types.Decimal(3, 2), []any{dec(1000)}, "out of range"},
		{"int to small decimal", tI64, types.Decimal(3, 1), []any{int64(100)}, "out of range"},
		{"double to int overflow", tF64, tI32, []any{3e10}, "out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMem(t)
			rb := mkBatch(t, mem, 0, colSpec{tc.from, tc.in})
			defer rb.Release()
			e := must[exec.Expr](t)(Cast(Col(0, tc.from, "x"), tc.to))
			_, err := evalAny(t, mem, e, rb)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("want error containing %q, got %v", tc.msg, err)
			}
		})
	}
	if _, err := Cast(Col(0, tDate, "d"), tI64); err == nil {
		t.Fatal("DATE -> BIGINT should not be castable")
	}
}

func TestTryCast(t *testing.T) {
	d := func(s string) int64 { v, _ := types.ParseDate(s); return int64(v) }
	cases := []struct {
		name     string
		from, to arrow.DataType
		in, want []any
	}{
		{"all convert", tStr, tI32, []any{"1", nil, "-2"}, []any{int64(1), nil, int64(-2)}},
		{"bad strings", tStr, tI32, []any{"12", "abc", nil, "7", "", "x", "x", "9"}, []any{int64(12), nil, nil, int64(7), nil, nil, nil, int64(9)}},
		{"bad dates", tStr, tDate, []any{"1998-13-01", "1998-12-01", "1998-02-30"}, []any{nil, d("1998-12-01"), nil}},
		{"overflow", tI64, types.Int8, []any{int64(1), int64(128), int64(-128), int64(-129)}, []any{int64(1), nil, int64(-128), nil}},
		{"decimal overflow", types.Decimal(10, 2), types.Decimal(3, 2), []any{dec(999), dec(1000), nil}, []any{dec(999), nil, nil}},
		{"all fail", tStr, tI64, []any{"a", "b"}, []any{nil, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, off := range []int{0, 2} {
				mem := newMem(t)
				rb := mkBatch(t, mem, off, colSpec{tc.from, tc.in})
				e := must[exec.Expr](t)(TryCast(Col(0, tc.from, "x"), tc.to))
				got := must[[]any](t)(evalAny(t, mem, e, rb))
				rb.Release()
				mustEqual(t, tc.name, got, tc.want)
			}
		})
	}
}

func TestDecimalCastSameScaleSharesBuffers(t *testing.T) {
	mem := newMem(t)
	rb := mkBatch(t, mem, 1, colSpec{types.Decimal(10, 2), []any{dec(1), nil, dec(3)}})
	defer rb.Release()
	for _, to := range []arrow.DataType{types.Decimal(12, 2), types.Decimal128(10, 2), types.Decimal(20, 2)} {
		e := must[exec.Expr](t)(Cast(Col(0, types.Decimal(10, 2), "x"), to))
		a, err := e.Eval(exec.WithAllocator(t.Context(), mem), rb)
		if err != nil {
			t.Fatal(err)
		}
		// Only a cast that keeps the width can share the values.
		if shared := a.Data().Buffers()[1] == rb.Column(0).Data().Buffers()[1]; shared != (to.ID() == arrow.DECIMAL64) {
			t.Errorf("cast to %s: shared buffers %v", to, shared)
		}
		mustEqual(t, "shared", toAny(t, a), []any{dec(1), nil, dec(3)})
		a.Release()
	}
}
