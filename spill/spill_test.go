package spill

import (
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestRoundTripAndCleanup(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewManager(t.TempDir())
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	w, err := m.Create("test", schema, mem)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		bld := array.NewInt64Builder(mem)
		for j := range 1000 {
			bld.Append(int64(i*1000 + j))
		}
		arr := bld.NewArray()
		b := array.NewRecordBatch(schema, []arrow.Array{arr}, 1000)
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		b.Release()
		arr.Release()
		bld.Release()
	}
	f, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows() != 3000 || m.BytesWritten() == 0 {
		t.Fatalf("rows %d bytes %d", f.Rows(), m.BytesWritten())
	}
	r, err := f.Open(mem)
	if err != nil {
		t.Fatal(err)
	}
	next := int64(0)
	for {
		b, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			break
		}
		for _, v := range b.Column(0).(*array.Int64).Int64Values() {
			if v != next {
				t.Fatalf("got %d want %d", v, next)
			}
			next++
		}
		b.Release()
	}
	r.Close()
	if next != 3000 {
		t.Fatalf("read %d rows", next)
	}
	dir := m.Dir()
	w2, _ := m.Create("aborted", schema, mem)
	w2.Abort()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("spill dir %s left behind: %v", dir, err)
	}
	if _, err := m.Create("late", schema, mem); err == nil {
		t.Fatal("create after close")
	}
}

func TestBatchBytesOfSlices(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "b", Type: arrow.FixedWidthTypes.Boolean}}, nil)
	rb := array.NewRecordBuilder(mem, schema)
	for i := range 1000 {
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		rb.Field(1).(*array.StringBuilder).Append("0123456789")
		rb.Field(2).(*array.BooleanBuilder).Append(i%2 == 0)
	}
	b := rb.NewRecordBatch()
	rb.Release()
	defer b.Release()
	whole := BatchBytes(b)
	var sum int64
	for i := int64(0); i < 1000; i += 100 {
		s := b.NewSlice(i, i+100)
		sum += BatchBytes(s)
		s.Release()
	}
	// The ten slices add up to about the batch (offsets overlap by one
	// entry per slice; padding is not charged).
	if sum > whole+1000 || sum < whole/2 {
		t.Fatalf("slices charged %d bytes, the batch %d", sum, whole)
	}
	if min := int64(1000*8 + 1000*10); whole < min {
		t.Fatalf("batch charged %d bytes, less than its data %d", whole, min)
	}
}
