package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/connectors/s3"
)

// randomBytes is n bytes of incompressible data.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// readObject reads a whole object with the server's root client.
func readObject(t *testing.T, bucket, key string) ([]byte, error) {
	t.Helper()
	out, err := server(t).Client.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// writeInPieces writes data through w in uneven pieces.
func writeInPieces(t *testing.T, w fs.Writer, data []byte) error {
	t.Helper()
	for off, step := 0, 1; off < len(data); step = step*3 + 1 {
		end := min(off+step, len(data))
		if _, err := w.Write(data[off:end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}

func openUploads(t *testing.T, f *s3.FS, dir string) []s3.Upload {
	t.Helper()
	ups, err := f.ListUploads(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return ups
}

func TestCreateSmallAndMultipart(t *testing.T) {
	ctx := context.Background()
	f := newFS(t, s3.Options{PartSize: s3.MinPartSize})
	for _, tc := range []struct {
		name      string
		size      int
		minPuts   int64
		multipart bool
	}{
		{"empty", 0, 1, false},
		{"small", 1000, 1, false},
		{"one-part", s3.MinPartSize, 3, true}, // exactly one part: create, part, complete
		{"several", 2*s3.MinPartSize + 12345, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := "s3://misc/written/" + tc.name + ".bin"
			data := randomBytes(tc.size)
			before := f.Stats()
			w, err := f.Create(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			if err := writeInPieces(t, w, data); err != nil {
				t.Fatal(err)
			}
			if tc.size > 0 {
				// Nothing is visible before Close.
				if _, err := f.Stat(ctx, uri); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("before Close: Stat = %v, want not found", err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort after Close: %v", err)
			}
			got, err := readObject(t, "misc", "written/"+tc.name+".bin")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("object has %d bytes (%v), want %d", len(got), err, len(data))
			}
			st := f.Stats()
			if puts := st.PutRequests - before.PutRequests; puts < tc.minPuts || (!tc.multipart && puts != 1) {
				t.Errorf("%d PUT requests", puts)
			}
			if sent := st.BytesSent - before.BytesSent; sent != int64(tc.size) {
				t.Errorf("sent %d bytes, want %d", sent, tc.size)
			}
		})
	}
	if ups := openUploads(t, f, "s3://misc/written"); len(ups) != 0 {
		t.Errorf("uploads left open: %+v", ups)
	}
}

// TestAbortAndCancel: an upload given up on, by Abort or by a cancelled
// context, leaves no object and no open multipart upload.
func TestAbortAndCancel(t *testing.T) {
	f := newFS(t, s3.Options{PartSize: s3.MinPartSize, UploadConcurrency: 1})
	data := randomBytes(2*s3.MinPartSize + 1)

	w, err := f.Create(context.Background(), "s3://misc/aborted/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeInPieces(t, w, data); err != nil {
		t.Fatal(err)
	}
	if ups := openUploads(t, f, "s3://misc/aborted"); len(ups) != 1 || ups[0].Key != "aborted/a.bin" {
		t.Fatalf("mid-way, uploads are %+v; want the one of a.bin", ups)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after Abort must fail")
	}

	ctx, cancel := context.WithCancel(context.Background())
	w, err = f.Create(ctx, "s3://misc/aborted/b.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:s3.MinPartSize+10]); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := w.Write(data[:10]); !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort with a cancelled context: %v", err)
	}
	if ups := openUploads(t, f, "s3://misc/aborted"); len(ups) != 0 {
		t.Errorf("uploads left open: %+v", ups)
	}
	for _, k := range []string{"aborted/a.bin", "aborted/b.bin"} {
		if _, err := readObject(t, "misc", k); err == nil {
			t.Errorf("%s exists after Abort", k)
		}
	}
}

func TestSweepAndDelete(t *testing.T) {
	ctx := context.Background()
	s := server(t)
	f := newFS(t, s3.Options{PartSize: s3.MinPartSize})
	for _, k := range []string{"sweep/part-1-tok-a.csv", "sweep/k=1/part-2-tok-b.csv", "sweep/.hidden-tok-c", "sweep/keep.csv", "sweep/k=1/keep2.csv"} {
		if err := s.Put(ctx, "misc", k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	// A writer killed mid-upload: its upload stays open.
	w, err := f.Create(ctx, "s3://misc/sweep/k=2/part-3-tok-d.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeInPieces(t, w, randomBytes(s3.MinPartSize+1)); err != nil {
		t.Fatal(err)
	}
	w2, err := f.Create(ctx, "s3://misc/sweep/other-upload.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeInPieces(t, w2, randomBytes(s3.MinPartSize+1)); err != nil {
		t.Fatal(err)
	}
	n, err := f.Sweep(ctx, "s3://misc/sweep", func(name string) bool { return strings.Contains(name, "-tok-") })
	if err != nil || n != 4 {
		t.Errorf("Sweep removed %d, %v; want 3 objects and 1 upload", n, err)
	}
	list, err := f.List(ctx, "s3://misc/sweep")
	if err != nil {
		t.Fatal(err)
	}
	if got := pathsOf(list); len(got) != 2 || got[0] != "s3://misc/sweep/k=1/keep2.csv" || got[1] != "s3://misc/sweep/keep.csv" {
		t.Errorf("after Sweep: %v", got)
	}
	if _, err := readObject(t, "misc", "sweep/.hidden-tok-c"); err == nil {
		t.Error("the hidden object was not swept")
	}
	if ups := openUploads(t, f, "s3://misc/sweep"); len(ups) != 1 || ups[0].Key != "sweep/other-upload.csv" {
		t.Errorf("uploads after Sweep: %+v", ups)
	}
	if err := w2.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, []string{"s3://misc/sweep/keep.csv", "s3://misc/sweep/k=1/keep2.csv", "s3://misc/sweep/never-was.csv"}); err != nil {
		t.Fatal(err)
	}
	if list, err := f.List(ctx, "s3://misc/sweep"); err != nil || len(list) != 0 {
		t.Errorf("after Delete: %v %v", pathsOf(list), err)
	}
	if err := f.Delete(ctx, []string{"s3://misc/"}); err == nil {
		t.Error("deleting a bucket must be refused")
	}
}
