package wire

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	pb "github.com/flint-engine/flint/proto/flintpb"
)

// Both decimal widths keep their width across the wire, and a Decimal64
// with a precision it cannot hold is rejected.
func TestDecimalTypesRoundTrip(t *testing.T) {
	for _, dt := range []arrow.DataType{
		&arrow.Decimal64Type{Precision: 15, Scale: 2},
		&arrow.Decimal64Type{Precision: 18, Scale: 18},
		&arrow.Decimal128Type{Precision: 15, Scale: 2},
		&arrow.Decimal128Type{Precision: 38, Scale: 6},
	} {
		p, err := EncodeType(dt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeType(p)
		if err != nil {
			t.Fatal(err)
		}
		if !arrow.TypeEqual(got, dt) {
			t.Errorf("%s came back as %s", dt, got)
		}
	}
	for _, p := range []*pb.DataType{
		{Id: pb.TypeId_TYPE_ID_DECIMAL64, Precision: 19, Scale: 2},
		{Id: pb.TypeId_TYPE_ID_DECIMAL64, Precision: 5, Scale: 6},
		{Id: pb.TypeId_TYPE_ID_DECIMAL64, Precision: 0},
	} {
		if dt, err := DecodeType(p); err == nil {
			t.Errorf("%v decoded as %s, want an error", p, dt)
		}
	}
}
