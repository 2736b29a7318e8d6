package types

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestAggregateType(t *testing.T) {
	dec := Decimal(15, 2)
	cases := []struct {
		name string
		arg  arrow.DataType
		want arrow.DataType
		err  bool
	}{
		{"count", String, Int64, false},
		{"count_star", nil, Int64, false},
		{"COUNT", Int32, Int64, false},
		{"sum", Int32, Int64, false},
		{"sum", Int64, Int64, false},
		{"sum", dec, Decimal(38, 2), false},
		{"sum", Float32, Float64, false},
		{"sum", String, nil, true},
		{"sum", Date32, nil, true},
		{"avg", dec, Float64, false},
		{"avg", Int8, Float64, false},
		{"avg", String, nil, true},
		{"min", String, String, false},
		{"max", Date32, Date32, false},
		{"max", dec, dec, false},
		{"first", Int16, Int16, false},
		{"stddev", Float64, Float64, false},
		{"var_pop", Int32, Float64, false},
		{"variance", dec, Float64, false},
		{"bool_and", Boolean, Boolean, false},
		{"bool_or", Int32, nil, true},
		{"median_x", Int32, nil, true},
	}
	for _, c := range cases {
		got, err := AggregateType(c.name, c.arg)
		if c.err {
			if err == nil {
				t.Errorf("%s(%v): want error, got %v", c.name, c.arg, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s(%v): %v", c.name, c.arg, err)
			continue
		}
		if !arrow.TypeEqual(got, c.want) {
			t.Errorf("%s(%v) = %v, want %v", c.name, c.arg, got, c.want)
		}
	}
}

func TestAggregateName(t *testing.T) {
	for in, want := range map[string]string{"stddev": "stddev_samp", "variance": "var_samp", "SUM": "sum", "mean": "avg"} {
		got, ok := AggregateName(in)
		if !ok || got != want {
			t.Errorf("AggregateName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := AggregateName("upper"); ok {
		t.Error("upper is not an aggregate")
	}
	if !IsWindowFunction("ROW_NUMBER") || IsWindowFunction("sum") {
		t.Error("IsWindowFunction")
	}
}

func TestWindowFunctionType(t *testing.T) {
	cases := []struct {
		name string
		args []arrow.DataType
		want arrow.DataType
		err  bool
	}{
		{"row_number", nil, Int64, false},
		{"rank", nil, Int64, false},
		{"dense_rank", nil, Int64, false},
		{"ntile", []arrow.DataType{Int32}, Int64, false},
		{"ntile", []arrow.DataType{String}, nil, true},
		{"percent_rank", nil, Float64, false},
		{"cume_dist", nil, Float64, false},
		{"lag", []arrow.DataType{Date32, Int32}, Date32, false},
		{"lead", []arrow.DataType{String}, String, false},
		{"lead", nil, nil, true},
		{"first_value", []arrow.DataType{Decimal(15, 2)}, Decimal(15, 2), false},
		{"last_value", []arrow.DataType{Int8}, Int8, false},
		{"nth_value", []arrow.DataType{Float64, Int64}, Float64, false},
		{"row_number", []arrow.DataType{Int32}, nil, true},
		{"sum", []arrow.DataType{Decimal(15, 2)}, Decimal(38, 2), false},
		{"count_star", nil, Int64, false},
		{"nope", nil, nil, true},
	}
	for _, c := range cases {
		got, err := WindowFunctionType(c.name, c.args)
		if c.err {
			if err == nil {
				t.Errorf("%s%v: want error, got %v", c.name, c.args, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s%v: %v", c.name, c.args, err)
			continue
		}
		if !arrow.TypeEqual(got, c.want) {
			t.Errorf("%s%v = %v, want %v", c.name, c.args, got, c.want)
		}
	}
}
