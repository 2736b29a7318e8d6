package flint_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/connectors/s3"
	"github.com/flint-engine/flint/internal/s3test"
)

// s3Target starts versitygw with a bucket "lake" and makes "s3://" use
// it (with the smallest part size, so a few MB become a multipart
// upload) for the rest of the test.
func s3Target(t *testing.T) (*s3test.Server, *s3.FS) {
	t.Helper()
	srv := s3test.Start(t)
	if err := srv.CreateBucket(context.Background(), "lake"); err != nil {
		t.Fatal(err)
	}
	f := s3.New(s3.Options{Endpoint: srv.Endpoint, PartSize: s3.MinPartSize,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKey, s3test.SecretKey, "")})
	fs.Register("s3", f)
	t.Cleanup(s3.Register)
	return srv, f
}

// s3Committed checks that the objects under prefix are exactly the
// manifest and its files (nothing hidden, no leftovers) and that no
// multipart upload is open in the bucket.
func s3Committed(t *testing.T, srv *s3test.Server, f *s3.FS, prefix string) *connectors.Manifest {
	t.Helper()
	ctx := context.Background()
	dir := "s3://lake/" + prefix
	m, err := connectors.ReadManifest(ctx, f, dir)
	if err != nil || m == nil {
		t.Fatalf("manifest of %s: %v %v", dir, m, err)
	}
	out, err := srv.Client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String(prefix + "/")})
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	var keys []string
	for _, o := range out.Contents {
		k := strings.TrimPrefix(aws.ToString(o.Key), prefix+"/")
		keys = append(keys, k)
		sizes[k] = aws.ToInt64(o.Size)
	}
	want := []string{connectors.ManifestName}
	for _, fl := range m.Files {
		want = append(want, fl.Path)
		if sizes[fl.Path] != fl.Bytes {
			t.Errorf("%s: %d bytes, manifest says %d", fl.Path, sizes[fl.Path], fl.Bytes)
		}
	}
	sort.Strings(keys)
	sort.Strings(want)
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("%s holds %v\nthe manifest lists %v", dir, keys, want)
	}
	if ups, err := f.ListUploads(ctx, "s3://lake"); err != nil || len(ups) != 0 {
		t.Errorf("open multipart uploads: %+v, %v", ups, err)
	}
	return m
}

func TestWriteS3(t *testing.T) {
	srv, f := s3Target(t)
	s, ctx := writeSession(t)
	_, want := pqRows(t, filepath.Join(sampleDir, "lineitem.parquet"))

	t.Run("parquet-round-trip", func(t *testing.T) {
		res, err := s.Table("lineitem").Write().Save(ctx, "s3://lake/lineitem")
		if err != nil {
			t.Fatal(err)
		}
		m := s3Committed(t, srv, f, "lineitem")
		if res.Rows != int64(len(want)) || len(m.Files) < 3 || res.Location != "s3://lake/lineitem" {
			t.Errorf("result %+v, %d files", res, len(m.Files))
		}
		sameRows(t, "read back", collectRows(t, ctx, s.ReadParquet(ctx, "s3://lake/lineitem")), want)
	})

	t.Run("partitioned", func(t *testing.T) {
		rows := collectRows(t, ctx, s.SQL(ctx, "COPY (SELECT l_orderkey, l_linenumber, l_returnflag, l_linestatus FROM lineitem) TO 's3://lake/flags' (FORMAT json, PARTITION_BY (l_returnflag, l_linestatus))"))
		if len(rows) != 1 || !strings.HasPrefix(rows[0], fmt.Sprint(len(want))+"|") {
			t.Fatalf("COPY: %v", rows)
		}
		m := s3Committed(t, srv, f, "flags")
		folders := map[string]int64{}
		for _, fl := range m.Files {
			folders[fl.Path[:strings.LastIndex(fl.Path, "/")]] += fl.Rows
		}
		// From the source: flag/status combinations and their counts.
		wantFolders := map[string]int64{}
		for _, r := range want {
			c := strings.Split(r, "|")
			wantFolders["l_returnflag="+c[8]+"/l_linestatus="+c[9]]++
		}
		if !reflect.DeepEqual(folders, wantFolders) {
			t.Errorf("folders %v, want %v", folders, wantFolders)
		}
	})

	t.Run("fail-mid-multipart", func(t *testing.T) {
		// ORDER BY: one task writes all 7 MB of CSV, a multipart upload.
		// Its first attempt dies once a part has gone out.
		var sawUpload, failed atomic.Bool
		restore := connectors.SetWriteHook(func(ev connectors.WriteEvent) error {
			if ev.Attempt != 0 || ev.Point != "batch" || ev.Bytes < s3.MinPartSize+(1<<20) || failed.Load() {
				return nil
			}
			ups, err := f.ListUploads(context.Background(), "s3://lake/sorted")
			sawUpload.Store(err == nil && len(ups) == 1)
			failed.Store(true)
			return errors.New("injected: executor dies mid-upload")
		})
		defer restore()
		before := f.Stats()
		rows := collectRows(t, ctx, s.SQL(ctx, "COPY (SELECT * FROM lineitem ORDER BY l_orderkey, l_linenumber) TO 's3://lake/sorted' (FORMAT csv)"))
		if !failed.Load() || !sawUpload.Load() {
			t.Fatalf("the fault did not fire mid-upload (failed %v, upload open %v)", failed.Load(), sawUpload.Load())
		}
		if f.Stats().AbortRequests == before.AbortRequests {
			t.Error("no multipart upload was aborted")
		}
		m := s3Committed(t, srv, f, "sorted")
		if len(rows) != 1 || len(m.Files) != 1 || m.Files[0].Bytes < 2*s3.MinPartSize/2 || !strings.Contains(m.Files[0].Path, "-1-") {
			t.Fatalf("COPY %v; manifest %+v (want one file of attempt 1)", rows, m.Files)
		}
		back := collectRows(t, ctx, s.ReadCSV(ctx, map[string]string{"schema": lineitemSchema}, m.Paths("s3://lake/sorted")...))
		sameRows(t, "csv on s3", back, want)
	})

	t.Run("mode-error", func(t *testing.T) {
		err := s.SQL(ctx, "COPY lineitem TO 's3://lake/lineitem'").Err()
		if err == nil || !strings.Contains(err.Error(), "already holds data") {
			t.Errorf("COPY onto an s3 dataset: %v", err)
		}
	})
}

const lineitemSchema = "l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, l_linenumber BIGINT, l_quantity DECIMAL(15,2), " +
	"l_extendedprice DECIMAL(15,2), l_discount DECIMAL(15,2), l_tax DECIMAL(15,2), l_returnflag VARCHAR, l_linestatus VARCHAR, " +
	"l_shipdate DATE, l_commitdate DATE, l_receiptdate DATE, l_shipinstruct VARCHAR, l_shipmode VARCHAR, l_comment VARCHAR"
