package shuffle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "d", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
	{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
}, nil)

// makeBatch builds rows [start, start+n) of a deterministic table; row r is
// null in column c when (r+c)%7 == 0.
func makeBatch(mem memory.Allocator, start, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	for r := start; r < start+n; r++ {
		null := func(c int) bool { return (r+c)%7 == 0 }
		for c, fb := range b.Fields() {
			if null(c) {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.Int8Builder:
				fb.Append(int8(r % 100))
			case *array.Int16Builder:
				fb.Append(int16(-r))
			case *array.Int32Builder:
				fb.Append(int32(r * 3))
			case *array.Int64Builder:
				fb.Append(int64(r) << 33)
			case *array.Float32Builder:
				fb.Append(float32(r) / 4)
			case *array.Float64Builder:
				fb.Append(float64(r) * 1.5)
			case *array.BooleanBuilder:
				fb.Append(r%3 == 0)
			case *array.StringBuilder:
				fb.Append(strings.Repeat("x", r%5) + fmt.Sprint(r))
			case *array.Decimal128Builder:
				fb.Append(decimal128.FromI64(int64(r)*101 - 5000))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(9000 + r))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(int64(r) * 1_000_003))
			default:
				panic(fmt.Sprintf("no case for %T", fb))
			}
		}
	}
	return b.NewRecordBatch()
}

// testParts builds one map task's output over 5 partitions: 0 and 4 empty,
// 2 starting with a zero-row batch, the others split into batchSize rows.
func testParts(mem memory.Allocator, task, batchSize int) [][]arrow.RecordBatch {
	parts := make([][]arrow.RecordBatch, 5)
	for p := 1; p <= 3; p++ {
		if p == 2 {
			parts[p] = append(parts[p], makeBatch(mem, 0, 0))
		}
		rows := 2*batchSize + 1
		for off := 0; off < rows; off += batchSize {
			parts[p] = append(parts[p], makeBatch(mem, task*100000+p*10000+off, min(batchSize, rows-off)))
		}
	}
	return parts
}

// assertBatchesEqual compares batches, ignoring zero-row ones (writers
// drop them).
func assertBatchesEqual(t *testing.T, what string, want, got []arrow.RecordBatch) {
	t.Helper()
	nonEmpty := func(bs []arrow.RecordBatch) (out []arrow.RecordBatch) {
		for _, b := range bs {
			if b.NumRows() > 0 {
				out = append(out, b)
			}
		}
		return out
	}
	want, got = nonEmpty(want), nonEmpty(got)
	if len(want) != len(got) {
		t.Fatalf("%s: %d batches, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !array.RecordEqual(want[i], got[i]) {
			t.Fatalf("%s batch %d differs:\nwant %v\ngot  %v", what, i, want[i], got[i])
		}
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	for _, codec := range []Codec{CodecLZ4, CodecZstd, CodecNone} {
		for _, bs := range []int{1, 2, 3, 16, 1024} {
			t.Run(fmt.Sprintf("%s/batch=%d", codec, bs), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				ctx := compute.WithAllocator(context.Background(), mem)
				s, err := NewFileStore(t.TempDir(), "job-1", WithCodec(codec))
				if err != nil {
					t.Fatal(err)
				}
				// Expected batches are built independently of what the store keeps.
				want := [][][]arrow.RecordBatch{testParts(mem, 0, bs), testParts(mem, 1, bs)}
				defer func() {
					for _, w := range want {
						releaseParts(w)
					}
				}()
				for task := range want {
					if err := PutAll(ctx, s, 7, task, testParts(mem, task, bs)); err != nil {
						t.Fatal(err)
					}
				}
				for p := 0; p < 5; p++ {
					got, err := ReadAll(ctx, s, 7, p)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != 2 {
						t.Fatalf("partition %d: %d task groups, want 2", p, len(got))
					}
					for task := range got {
						assertBatchesEqual(t, fmt.Sprintf("partition %d task %d", p, task), want[task][p], got[task])
					}
					releaseParts(got)
				}
				if _, err := ReadAll(ctx, s, 7, 5); err == nil || !strings.Contains(err.Error(), "partition 5") {
					t.Fatalf("read of partition 5 of 5: err %v", err)
				}
				if got, err := ReadAll(ctx, s, 8, 0); err != nil || len(got) != 0 {
					t.Fatalf("unknown exchange: %v, %v", got, err)
				}
				s.Drop(7)
				if _, err := os.Stat(ExchangeDir(s.WorkDir(), "job-1", 7)); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("Drop left exchange dir: %v", err)
				}
			})
		}
	}
}

func TestIndexEncoding(t *testing.T) {
	x := Index{Partitions: []PartitionRange{{}, {Segments: []Segment{{0, 1234}}, Rows: 17},
		{Segments: []Segment{{1234, 1 << 40}, {1<<40 + 1234, 5}}, Rows: 1 << 33}}}
	b, _ := x.MarshalBinary()
	if len(b) != 12+3*12+3*16+4 {
		t.Fatalf("index is %d bytes", len(b))
	}
	var y Index
	if err := y.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(x) != fmt.Sprint(y) {
		t.Fatalf("got %v want %v", y, x)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"magic", append([]byte("XXXX"), b[4:]...)},
		{"truncated", b[:len(b)-1]},
		{"flipped", func() []byte { c := append([]byte(nil), b...); c[20] ^= 1; return c }()},
	} {
		if err := y.UnmarshalBinary(tc.b); err == nil {
			t.Errorf("%s: corrupt index accepted", tc.name)
		}
	}
}

func TestTicketEncoding(t *testing.T) {
	tk := Ticket{MapOutputID: MapOutputID{Job: "q_1.a-b", Exchange: 3, MapTask: 300, Attempt: 2}, Partition: 199}
	b, err := tk.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{'F', 1, 3, 0xac, 0x02, 2, 199, 1, 7, 'q', '_', '1', '.', 'a', '-', 'b'}
	if string(b) != string(want) {
		t.Fatalf("encoding %v want %v", b, want)
	}
	var got Ticket
	if err := got.UnmarshalBinary(b); err != nil || got != tk {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	for _, job := range []string{"", ".", "..", "../etc", "a/b", `a\b`, strings.Repeat("j", 129)} {
		bad := tk
		bad.Job = job
		if _, err := bad.MarshalBinary(); err == nil {
			t.Errorf("job %q accepted", job)
		}
		raw := append([]byte{'F', 1, 0, 0, 0, 0, byte(len(job))}, job...)
		if err := got.UnmarshalBinary(raw); err == nil {
			t.Errorf("ticket with job %q accepted", job)
		}
	}
	if err := got.UnmarshalBinary(b[:len(b)-1]); err == nil {
		t.Error("truncated ticket accepted")
	}
}

func TestFileStoreAttempts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := compute.WithAllocator(context.Background(), mem)
	dir := t.TempDir()
	s, err := NewFileStore(dir, "j")
	if err != nil {
		t.Fatal(err)
	}
	one := func(start int) [][]arrow.RecordBatch {
		return [][]arrow.RecordBatch{{makeBatch(mem, start, 3)}}
	}
	if err := PutAll(ctx, s, 1, 0, one(0)); err != nil {
		t.Fatal(err)
	}
	if err := PutAll(ctx, s, 1, 0, one(100)); err != nil { // retry: attempt 1 replaces attempt 0
		t.Fatal(err)
	}
	if _, err := os.Stat(DataPath(dir, MapOutputID{"j", 1, 0, 0})); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("replaced attempt's file still there: %v", err)
	}
	stale, err := s.CreateAttempt(ctx, 1, 0, 0, 1) // stale attempt: ignored
	if err != nil {
		t.Fatal(err)
	}
	stale.Write(ctx, 0, one(200)[0][0])
	if err := stale.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Outputs(1); len(got) != 1 || got[0].Attempt != 1 {
		t.Fatalf("outputs %v", got)
	}
	got, err := ReadAll(ctx, s, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := makeBatch(mem, 100, 3)
	assertBatchesEqual(t, "task 0", []arrow.RecordBatch{want}, got[0])
	want.Release()
	releaseParts(got)
}

func TestCleanStaleAndRemoveJob(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := compute.WithAllocator(context.Background(), mem)
	dir := t.TempDir()
	// A crashed attempt: only temp files.
	w, err := CreateMapOutput(dir, MapOutputID{"old", 0, 0, 0}, 2, CodecLZ4, mem)
	if err != nil {
		t.Fatal(err)
	}
	b := makeBatch(mem, 0, 4)
	if err := w.WritePartition(1, []arrow.RecordBatch{b}); err != nil {
		t.Fatal(err)
	}
	b.Release()
	w.f.Close() // simulate the process dying before Commit
	if err := os.WriteFile(filepath.Join(dir, "stray.tmp"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keep me"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A committed job that never ended.
	s, err := NewFileStore(dir, "old2")
	if err != nil {
		t.Fatal(err)
	}
	if err := PutAll(ctx, s, 0, 0, [][]arrow.RecordBatch{{makeBatch(mem, 0, 2)}}); err != nil {
		t.Fatal(err)
	}
	if err := CleanStale(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "keep me" {
		t.Fatalf("after CleanStale: %v", entries)
	}
	if err := CleanStale(filepath.Join(dir, "missing")); err != nil {
		t.Fatal(err)
	}

	s, err = NewFileStore(dir, "live")
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; x < 2; x++ {
		if err := PutAll(ctx, s, x, 0, [][]arrow.RecordBatch{{makeBatch(mem, 0, 2)}, nil}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveJob("live"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(JobDir(dir, "live")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("RemoveJob left %v", err)
	}
	if got, err := ReadAll(ctx, s, 0, 0); err != nil || len(got) != 0 {
		t.Fatalf("read after RemoveJob: %v %v", got, err)
	}
}

func TestWriterErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	if _, err := CreateMapOutput(dir, MapOutputID{"../x", 0, 0, 0}, 1, CodecLZ4, mem); err == nil {
		t.Fatal("bad job accepted")
	}
	w, err := CreateMapOutput(dir, MapOutputID{"j", 0, 0, 0}, 3, CodecLZ4, mem)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePartition(2, nil); err != nil {
		t.Fatal(err)
	}
	b0 := makeBatch(mem, 0, 1)
	if err := w.Write(3, b0); err == nil {
		t.Fatal("out of range partition accepted")
	}
	b0.Release()
	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	ob := array.NewRecordBuilder(mem, other)
	ob.Field(0).(*array.Int64Builder).Append(1)
	b2 := ob.NewRecordBatch()
	ob.Release()
	w.Abort()
	w, _ = CreateMapOutput(dir, MapOutputID{"j", 0, 0, 1}, 1, CodecLZ4, mem)
	b1 := makeBatch(mem, 0, 1)
	if err := w.WritePartition(0, []arrow.RecordBatch{b1, b2}); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("mixed schemas: %v", err)
	}
	w.Abort()
	b1.Release()
	b2.Release()
	entries, _ := os.ReadDir(ExchangeDir(dir, "j", 0))
	if len(entries) != 0 {
		t.Fatalf("abort left %v", entries)
	}
}
