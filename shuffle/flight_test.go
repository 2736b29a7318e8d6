package shuffle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
)

func TestFlightRemoteRead(t *testing.T) {
	for _, bs := range []int{1, 3, 1024} {
		t.Run(fmt.Sprintf("batch=%d", bs), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx := compute.WithAllocator(context.Background(), mem)
			dir := t.TempDir()
			s, err := NewFileStore(dir, "job")
			if err != nil {
				t.Fatal(err)
			}
			const tasks = 3
			want := make([][][]arrow.RecordBatch, tasks)
			for task := range tasks {
				want[task] = testParts(mem, task, bs)
				if err := PutAll(ctx, s, 2, task, testParts(mem, task, bs)); err != nil {
					t.Fatal(err)
				}
			}
			defer func() {
				for _, w := range want {
					releaseParts(w)
				}
			}()
			srv := NewFlightServer(dir)
			if err := srv.Serve("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			defer srv.Stop()

			// Task 1 is "local" (read from disk), tasks 0 and 2 go through Flight.
			// Locations are given out of order; results come in task order.
			rr := NewRemoteReader(dir, "job", "local:1")
			defer rr.Close()
			locs := []MapOutputLocation{{srv.Addr(), 2, 0}, {"local:1", 1, 0}, {srv.Addr(), 0, 0}}
			for p := 0; p < 5; p++ {
				got, err := rr.Read(ctx, 2, p, locs)
				if err != nil {
					t.Fatal(err)
				}
				for task := range tasks {
					assertBatchesEqual(t, fmt.Sprintf("partition %d task %d", p, task), want[task][p], got[task])
				}
				releaseParts(got)
			}
			if len(rr.conns) != 1 {
				t.Fatalf("%d connections cached, want 1", len(rr.conns))
			}

			// Fetch directly, checking the schema of an empty and a full partition.
			cc, err := grpc.NewClient(srv.Addr(), DialOptions()...)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			client := flight.NewFlightServiceClient(cc)
			for p, wantSchema := range []*arrow.Schema{nil, testSchema} {
				st, err := Fetch(ctx, client, Ticket{MapOutputID{"job", 2, 0, 0}, p})
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Schema(); (got == nil) != (wantSchema == nil) || (got != nil && !got.Equal(wantSchema)) {
					t.Fatalf("partition %d schema %v", p, got)
				}
				n := 0
				for {
					b, err := st.Next()
					if err != nil {
						t.Fatal(err)
					}
					if b == nil {
						break
					}
					n++
					b.Release()
				}
				if n != len(want[0][p]) {
					t.Fatalf("partition %d: %d batches want %d", p, n, len(want[0][p]))
				}
				st.Close()
				st.Close()
			}
			// Abandon a stream midway: Close must cancel it cleanly.
			st, err := Fetch(ctx, client, Ticket{MapOutputID{"job", 2, 1, 0}, 3})
			if err != nil {
				t.Fatal(err)
			}
			b, err := st.Next()
			if err != nil || b == nil {
				t.Fatalf("first batch: %v %v", b, err)
			}
			b.Release()
			st.Close()
		})
	}
}

func TestFetchFailures(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := compute.WithAllocator(context.Background(), mem)
	dir := t.TempDir()
	s, err := NewFileStore(dir, "job")
	if err != nil {
		t.Fatal(err)
	}
	for task := range 2 {
		if err := PutAll(ctx, s, 0, task, testParts(mem, task, 4)); err != nil {
			t.Fatal(err)
		}
	}
	srv := NewFlightServer(dir)
	if err := srv.Serve("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	rr := NewRemoteReader(dir, "job", "local")
	defer rr.Close()

	// Missing output (wrong attempt) on a live server and a lost local file.
	_, err = rr.Read(ctx, 0, 1, []MapOutputLocation{{addr, 0, 0}, {addr, 1, 5}, {"local", 0, 9}})
	fails := FetchFailures(err)
	if len(fails) != 2 {
		t.Fatalf("want 2 fetch failures, got %v", err)
	}
	// In map task order.
	if f := fails[1]; f.Address != addr || f.Exchange != 0 || f.MapTask != 1 || f.Attempt != 5 {
		t.Fatalf("failure %+v", f)
	}
	if f := fails[0]; f.Address != "local" || f.MapTask != 0 || f.Attempt != 9 {
		t.Fatalf("failure %+v", f)
	}

	// Server gone.
	srv.Stop()
	srv.Stop()
	_, err = rr.Read(ctx, 0, 1, []MapOutputLocation{{addr, 1, 0}})
	var ff *FetchFailedError
	if !errors.As(err, &ff) || ff.Address != addr || ff.MapTask != 1 || ff.Attempt != 0 || ff.Exchange != 0 {
		t.Fatalf("stopped server: %v", err)
	}

	// Cancellation is not a fetch failure.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = rr.Read(cctx, 0, 1, []MapOutputLocation{{"local", 0, 0}})
	if !errors.Is(err, context.Canceled) || FetchFailures(err) != nil {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestCorruptDataFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"garbage", func(b []byte) []byte {
			for i := range b {
				b[i] = byte(i * 31)
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx := compute.WithAllocator(context.Background(), mem)
			dir := t.TempDir()
			s, err := NewFileStore(dir, "job", WithCodec(CodecNone))
			if err != nil {
				t.Fatal(err)
			}
			if err := PutAll(ctx, s, 0, 0, testParts(mem, 0, 16)); err != nil {
				t.Fatal(err)
			}
			path := DataPath(dir, MapOutputID{"job", 0, 0, 0})
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			failed := false
			for p := 0; p < 5; p++ {
				got, err := ReadAll(ctx, s, 0, p)
				releaseParts(got)
				failed = failed || err != nil
			}
			if !failed {
				t.Fatal("corrupt file read without error")
			}
			srv := NewFlightServer(dir)
			if err := srv.Serve("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			defer srv.Stop()
			rr := NewRemoteReader(dir, "job", "")
			defer rr.Close()
			failed = false
			for p := 0; p < 5; p++ {
				got, err := rr.Read(ctx, 0, p, []MapOutputLocation{{srv.Addr(), 0, 0}})
				releaseParts(got)
				if err != nil {
					if len(FetchFailures(err)) != 1 {
						t.Fatalf("partition %d: %v is not a fetch failure", p, err)
					}
					failed = true
				}
			}
			if !failed {
				t.Fatal("corrupt file fetched without error")
			}
		})
	}
}
