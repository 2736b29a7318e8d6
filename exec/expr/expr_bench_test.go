package expr

import (
	"context"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

const benchRows = 8192

// lineitemBatch holds TPC-H-like l_extendedprice, l_discount (DECIMAL(15,2))
// and l_shipdate (DATE) columns.
func lineitemBatch(b *testing.B) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	r := rand.New(rand.NewSource(1))
	d152 := types.Decimal(15, 2)
	pb, db := array.NewBuilder(mem, d152), array.NewBuilder(mem, d152)
	sb := array.NewDate32Builder(mem)
	appendDec := func(b array.Builder, v int64) {
		switch b := b.(type) {
		case *array.Decimal64Builder:
			b.Append(decimal.Decimal64(v))
		case *array.Decimal128Builder:
			b.Append(decimal128.FromI64(v))
		}
	}
	for i := 0; i < benchRows; i++ {
		appendDec(pb, int64(90000+r.Intn(10000000)))
		appendDec(db, int64(r.Intn(11)))
		sb.Append(arrow.Date32(8000 + r.Intn(2500)))
	}
	cols := []arrow.Array{pb.NewArray(), db.NewArray(), sb.NewArray()}
	schema := arrow.NewSchema([]arrow.Field{{Name: "l_extendedprice", Type: d152}, {Name: "l_discount", Type: d152}, {Name: "l_shipdate", Type: types.Date32}}, nil)
	rb := array.NewRecordBatch(schema, cols, benchRows)
	for _, c := range cols {
		c.Release()
	}
	return rb
}

// poolAllocator recycles buffers by size, as a pooling executor allocator
// would; with it the benchmarks measure the kernels rather than Go's GC
// (memory.GoAllocator spends most of the time zeroing and collecting the
// 128 KiB result buffers).
type poolAllocator struct{ free map[int][][]byte }

func (p *poolAllocator) Allocate(size int) []byte {
	if l := p.free[size]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[size] = l[:len(l)-1]
		return b
	}
	return make([]byte, size)
}

func (p *poolAllocator) Reallocate(size int, b []byte) []byte {
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) { p.free[cap(b)] = append(p.free[cap(b)], b[:cap(b)]) }

func benchExpr(b *testing.B, e exec.Expr) {
	for _, alloc := range []struct {
		name string
		mem  memory.Allocator
	}{{"go", memory.NewGoAllocator()}, {"pool", &poolAllocator{free: map[int][][]byte{}}}} {
		b.Run(alloc.name, func(b *testing.B) { benchExprWith(b, e, alloc.mem) })
	}
}

func benchExprWith(b *testing.B, e exec.Expr, mem memory.Allocator) {
	rb := lineitemBatch(b)
	defer rb.Release()
	ctx := exec.WithAllocator(context.Background(), mem)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := e.Eval(ctx, rb)
		if err != nil {
			b.Fatal(err)
		}
		a.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

// BenchmarkDiscountedPrice is l_extendedprice * (1 - l_discount).
func BenchmarkDiscountedPrice(b *testing.B) {
	d152 := types.Decimal(15, 2)
	one, _ := Lit(1, types.Int32)
	sub, err := Arith("-", one, Col(1, d152, "l_discount"), nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := Arith("*", Col(0, d152, "l_extendedprice"), sub, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchExpr(b, e)
}

// BenchmarkShipdateCompare is l_shipdate <= date '1998-09-02'.
func BenchmarkShipdateCompare(b *testing.B) {
	d, _ := types.ParseDate("1998-09-02")
	lit, _ := Lit(d, types.Date32)
	e, err := Compare("<=", Col(2, types.Date32, "l_shipdate"), lit)
	if err != nil {
		b.Fatal(err)
	}
	benchExpr(b, e)
}

// BenchmarkDecimalCompare is l_discount BETWEEN 0.05 AND 0.07 (two compares and AND).
func BenchmarkDecimalCompare(b *testing.B) {
	d152 := types.Decimal(15, 2)
	lo, _ := Lit(decimal128.FromI64(5), d152)
	hi, _ := Lit(decimal128.FromI64(7), d152)
	c1, _ := Compare(">=", Col(1, d152, "l_discount"), lo)
	c2, _ := Compare("<=", Col(1, d152, "l_discount"), hi)
	benchExpr(b, And(c1, c2))
}

// BenchmarkDoubleCompare is x <= 0.5 and x < y over DOUBLE columns without
// NaN: the generated IEEE loop plus the scan that corrects NaN rows.
func BenchmarkDoubleCompare(b *testing.B) {
	mem := memory.NewGoAllocator()
	r := rand.New(rand.NewSource(1))
	xb, yb := array.NewFloat64Builder(mem), array.NewFloat64Builder(mem)
	for i := 0; i < benchRows; i++ {
		xb.Append(r.Float64())
		yb.Append(r.Float64())
	}
	cols := []arrow.Array{xb.NewArray(), yb.NewArray()}
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: types.Float64}, {Name: "y", Type: types.Float64}}, nil)
	rb := array.NewRecordBatch(schema, cols, benchRows)
	defer rb.Release()
	for _, c := range cols {
		c.Release()
	}
	lit, _ := Lit(0.5, types.Float64)
	scalar, _ := Compare("<=", Col(0, types.Float64, "x"), lit)
	arrays, _ := Compare("<", Col(0, types.Float64, "x"), Col(1, types.Float64, "y"))
	for _, c := range []struct {
		name string
		e    exec.Expr
	}{{"scalar", scalar}, {"arrays", arrays}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := exec.WithAllocator(context.Background(), &poolAllocator{free: map[int][][]byte{}})
			for i := 0; i < b.N; i++ {
				a, err := c.e.Eval(ctx, rb)
				if err != nil {
					b.Fatal(err)
				}
				a.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
		})
	}
}
