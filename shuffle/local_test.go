package shuffle

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/mempool"
)

// TestLocalStoreSpills: outputs past the in-memory share stream to files
// in segments and read back the same, in task order; Close leaves no file.
func TestLocalStoreSpills(t *testing.T) {
	defer func(s int, b int64) { segmentBytes, bufferBytes = s, b }(segmentBytes, bufferBytes)
	segmentBytes, bufferBytes = 512, 2048 // many segments per partition
	for _, memLimit := range []int64{0, 4 << 10, 1 << 30} {
		t.Run(fmt.Sprintf("mem=%d", memLimit), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx := compute.WithAllocator(context.Background(), mem)
			dir := t.TempDir()
			pool := mempool.New(0)
			s, err := NewLocalStore(dir, "q", pool, memLimit)
			if err != nil {
				t.Fatal(err)
			}
			want := [][][]arrow.RecordBatch{testParts(mem, 0, 3), testParts(mem, 1, 16), testParts(mem, 2, 1024)}
			defer func() {
				for _, w := range want {
					releaseParts(w)
				}
			}()
			for task := range want {
				if err := PutAll(ctx, s, 4, task, testParts(mem, task, []int{3, 16, 1024}[task])); err != nil {
					t.Fatal(err)
				}
			}
			// An aborted writer leaves nothing behind.
			w, _ := s.Create(ctx, 4, 3, 5)
			w.Write(ctx, 1, makeBatch(mem, 0, 10))
			w.Abort()
			for p := range 5 {
				got, err := ReadAll(ctx, s, 4, p)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("partition %d: %d streams, want %d", p, len(got), len(want))
				}
				for task := range got {
					assertBatchesEqual(t, fmt.Sprintf("partition %d task %d", p, task), want[task][p], got[task])
				}
				releaseParts(got)
			}
			spilled := s.SpilledBytes()
			if (memLimit < 1<<30) != (spilled > 0) {
				t.Fatalf("memory share %d: %d bytes spilled", memLimit, spilled)
			}
			if memLimit == 1<<30 && pool.Used() == 0 {
				t.Fatal("in-memory outputs reserved nothing")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if pool.Used() != 0 {
				t.Fatalf("%d bytes still reserved", pool.Used())
			}
			if _, err := os.Stat(JobDir(dir, "q")); !os.IsNotExist(err) {
				t.Fatalf("files left: %v", err)
			}
		})
	}
}

// TestLocalStoreReadOnce: an exchange read once hands each partition's
// batches to its stream, which gives back their reservation as it reads
// them; a partition never opened (2) is freed by Drop, with everything else.
func TestLocalStoreReadOnce(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := compute.WithAllocator(context.Background(), mem)
	pool := mempool.New(0)
	s, err := NewLocalStore(t.TempDir(), "q", pool, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ReadOnce(7)
	want := [][][]arrow.RecordBatch{testParts(mem, 0, 16), testParts(mem, 1, 16)}
	defer func() {
		for _, w := range want {
			releaseParts(w)
		}
	}()
	for task := range want {
		if err := PutAll(ctx, s, 7, task, testParts(mem, task, 16)); err != nil {
			t.Fatal(err)
		}
	}
	full := pool.Used()
	if full == 0 {
		t.Fatal("outputs reserved nothing")
	}
	got, err := ReadAll(ctx, s, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	for task := range got {
		assertBatchesEqual(t, fmt.Sprintf("partition 1 task %d", task), want[task][1], got[task])
	}
	releaseParts(got)
	afterRead := pool.Used()
	if afterRead >= full {
		t.Fatalf("reading partition 1 left the reservation at %d of %d", afterRead, full)
	}
	// A second Open of it finds nothing: the data was handed over.
	again, err := ReadAll(ctx, s, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	for task := range again {
		if len(again[task]) != 0 {
			t.Fatalf("partition 1 read twice: task %d gave %d batches", task, len(again[task]))
		}
	}
	// An opened stream closed unread gives its batches back too.
	streams, err := s.Open(ctx, 7, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		st.Close()
	}
	if pool.Used() >= afterRead {
		t.Fatalf("closing partition 3's streams unread left %d reserved", pool.Used())
	}
	s.Drop(7)
	if pool.Used() != 0 {
		t.Fatalf("%d bytes still reserved after Drop", pool.Used())
	}
}
