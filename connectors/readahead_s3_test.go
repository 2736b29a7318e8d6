package connectors

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/connectors/s3"
	"github.com/flint-engine/flint/internal/resultcmp"
	"github.com/flint-engine/flint/internal/s3test"
)

// TestLineFormatsOverS3: CSV, NDJSON and gzipped CSV files on a real S3
// server (versitygw), read split by split through the read-ahead path,
// give exactly the rows of the same files read locally, and the rows this
// test wrote.
func TestLineFormatsOverS3(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	if err := srv.CreateBucket(ctx, "lake"); err != nil {
		t.Fatal(err)
	}
	fsys := s3.New(s3.Options{Endpoint: srv.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKey, s3test.SecretKey, "")})
	fs.Register("s3", fsys)
	t.Cleanup(s3.Register)

	// n rows of id, a name that is sometimes quoted with a comma, an
	// amount, a date and a nullable note; lines of varying length so
	// split boundaries fall anywhere in them.
	const n = 60000
	var csvText, jsonText strings.Builder
	csvText.WriteString("id,name,amount,day,note\n")
	want := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("name %d%s", i, strings.Repeat("x", i%37))
		quoted := name
		if i%5 == 0 {
			name = "Smith, " + name
			quoted = `"` + name + `"`
		}
		amount := fmt.Sprintf("%d.%02d", i*13%100000, i%100)
		day := fmt.Sprintf("2024-%02d-%02d", 1+i%12, 1+i%28)
		note, jnote := "", "null"
		if i%3 != 0 {
			note = fmt.Sprintf("n%d", i%1000)
			jnote = `"` + note + `"`
		}
		fmt.Fprintf(&csvText, "%d,%s,%s,%s,%s\n", i, quoted, amount, day, note)
		fmt.Fprintf(&jsonText, `{"id": %d, "name": %q, "amount": %s, "day": %q, "note": %s}`+"\n", i, name, amount, day, jnote)
		want[i] = strings.Join([]string{fmt.Sprint(i), name, amount, day, note}, "|")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csvText.String()))
	zw.Close()

	dir := t.TempDir()
	files := map[string][]byte{"t.csv": []byte(csvText.String()), "t.ndjson": []byte(jsonText.String()), "t.csv.gz": gz.Bytes()}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := srv.Put(ctx, "lake", "in/"+name, data); err != nil {
			t.Fatal(err)
		}
	}
	const schema = "id BIGINT, name VARCHAR, amount DECIMAL(12,2), day DATE, note VARCHAR"
	for _, tc := range []struct {
		file    string
		format  Format
		opts    map[string]string
		target  int
		splits1 bool // one split (compressed)
	}{
		{"t.csv", CSV, map[string]string{"min_split_bytes": "100000"}, 1000, false}, // small splits: tail reads
		{"t.csv", CSV, map[string]string{"min_split_bytes": "1000000"}, 3, false},   // 1.5 MB splits: parallel parts
		{"t.ndjson", JSON, map[string]string{"min_split_bytes": "100000", "schema": schema}, 1000, false},
		{"t.ndjson", JSON, map[string]string{"min_split_bytes": "1000000", "schema": schema}, 3, false},
		{"t.csv.gz", CSV, nil, 4, true},
	} {
		t.Run(fmt.Sprintf("%s %v %d", tc.file, tc.opts, tc.target), func(t *testing.T) {
			read := func(loc string) ([]string, int) {
				ctx := checkedCtx(t)
				src, err := Open(ctx, tc.format, loc, tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				splits, err := src.Splits(ctx, nil, tc.target)
				if err != nil {
					t.Fatal(err)
				}
				var rows []string
				for _, sp := range splits {
					recs, err := readSplit(t, ctx, src, sp, nil, 4096)
					if err != nil {
						t.Fatalf("%s split %+v: %v", loc, sp, err)
					}
					rows = append(rows, renderRows(recs)...)
					release(recs)
				}
				return rows, len(splits)
			}
			before := fsys.Stats().GetRequests
			remote, nsplits := read("s3://lake/in/" + tc.file)
			gets := fsys.Stats().GetRequests - before
			local, _ := read(filepath.Join(dir, tc.file))
			if tc.splits1 != (nsplits == 1) {
				t.Fatalf("%d splits", nsplits)
			}
			if len(remote) != n {
				t.Fatalf("S3: %d rows, want %d", len(remote), n)
			}
			for i := range remote {
				if remote[i] != local[i] || remote[i] != want[i] {
					t.Fatalf("row %d: S3 %q, local %q, written %q", i, remote[i], local[i], want[i])
				}
			}
			t.Logf("%d splits, %d GETs for %d bytes", nsplits, gets, len(files[tc.file]))
		})
	}
}

// renderRows renders batches as "a|b|c" rows.
func renderRows(recs []arrow.RecordBatch) []string {
	var out []string
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			cells := make([]string, r.NumCols())
			for c := range cells {
				cells[c] = resultcmp.FormatValue(r.Column(c), i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}
