package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/connectors/s3"
	"github.com/flint-engine/flint/internal/resultcmp"
	"github.com/flint-engine/flint/internal/s3test"
	"github.com/flint-engine/flint/tpch"
)

// These tests go through the FS that package connectors registers for
// "s3://" (s3.Default), configured only by the standard AWS variables that
// TestMain sets, as a user's environment would.

const answersDir = "../../testdata/tpch/answers/sample"

func newSession(t *testing.T) (*flint.Session, context.Context) {
	t.Helper()
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		mem.AssertSize(t, 0)
	})
	return s, ctx
}

func registerTPCH(t *testing.T, ctx context.Context, s *flint.Session, base string) {
	t.Helper()
	for _, table := range tpch.Tables {
		// No format given: inferred from the .parquet name.
		if err := s.RegisterTable(ctx, table, "", base+"/"+table+".parquet", nil); err != nil {
			t.Fatal(err)
		}
	}
}

func collect(t *testing.T, ctx context.Context, s *flint.Session, sql string) []arrow.RecordBatch {
	t.Helper()
	got, err := s.SQL(ctx, sql).Collect(ctx)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	t.Cleanup(func() {
		for _, b := range got {
			b.Release()
		}
	})
	return got
}

// rows renders batches as text rows, for comparing two results.
func rows(batches []arrow.RecordBatch) []string {
	var out []string
	for _, b := range batches {
		for i := 0; i < int(b.NumRows()); i++ {
			var cells []string
			for c := 0; c < int(b.NumCols()); c++ {
				cells = append(cells, resultcmp.FormatValue(b.Column(c), i))
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

// TestTPCHOverS3 runs TPC-H queries on the sample uploaded to S3 and
// compares each result with DuckDB's answer and with the same query on the
// local files.
func TestTPCHOverS3(t *testing.T) {
	server(t)
	remote, ctx := newSession(t)
	registerTPCH(t, ctx, remote, "s3://tpch/sf-sample")
	local, _ := newSession(t)
	registerTPCH(t, ctx, local, sampleDir)
	for _, q := range []int{1, 3, 5, 6, 10, 12, 14, 19} {
		t.Run(fmt.Sprintf("q%02d", q), func(t *testing.T) {
			got := collect(t, ctx, remote, tpch.Query(q))
			want, err := os.Open(filepath.Join(answersDir, fmt.Sprintf("q%02d.csv", q)))
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			if err := resultcmp.CompareCSV(want, got, resultcmp.Options{Ordered: true, CheckNames: true}); err != nil {
				t.Errorf("Q%d over S3 vs DuckDB: %v", q, err)
			}
			l, r := rows(collect(t, ctx, local, tpch.Query(q))), rows(got)
			if strings.Join(l, "\n") != strings.Join(r, "\n") {
				t.Errorf("Q%d: S3 result differs from local files:\nS3:    %v\nlocal: %v", q, r, l)
			}
		})
	}
}

// TestProjectedScanFetchesLittle checks that reading 2 of lineitem's 16
// columns fetches the footer and those column chunks, not the object.
func TestProjectedScanFetchesLittle(t *testing.T) {
	server(t)
	s, ctx := newSession(t)
	st, err := os.Stat(filepath.Join(sampleDir, "lineitem.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	const query = "SELECT count(*) AS n, sum(l_quantity) AS q FROM lineitem WHERE l_shipdate >= DATE '1995-01-01'"

	before := s3.Default().Stats()
	if err := s.RegisterTable(ctx, "lineitem", "parquet", "s3://tpch/sf-sample/lineitem.parquet", nil); err != nil {
		t.Fatal(err)
	}
	got := rows(collect(t, ctx, s, query))
	after := s3.Default().Stats()
	fetched := after.BytesFetched - before.BytesFetched
	t.Logf("2 of 16 columns: %d of %d bytes (%.1f%%) in %d GETs, %d HEADs",
		fetched, size, 100*float64(fetched)/float64(size), after.GetRequests-before.GetRequests, after.HeadRequests-before.HeadRequests)
	if fetched >= size/4 {
		t.Errorf("fetched %d bytes of a %d-byte object for 2 of 16 columns; want under 25%%", fetched, size)
	}
	// The two column chunks (l_quantity 45,571 and l_shipdate 100,539
	// bytes) must have been read: the counter counts real traffic.
	if fetched < 45_571+100_539 {
		t.Errorf("fetched only %d bytes, less than the two column chunks", fetched)
	}

	local, _ := newSession(t)
	if err := local.RegisterTable(ctx, "lineitem", "parquet", filepath.Join(sampleDir, "lineitem.parquet"), nil); err != nil {
		t.Fatal(err)
	}
	if want := rows(collect(t, ctx, local, query)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("S3 %v, local %v", got, want)
	}

	// All columns: nearly the whole object.
	before = s3.Default().Stats()
	collect(t, ctx, s, "SELECT * FROM lineitem")
	if all := s3.Default().Stats().BytesFetched - before.BytesFetched; all < size*9/10 {
		t.Errorf("SELECT * fetched %d of %d bytes", all, size)
	}
}

// TestSQLLocationsAndExplain covers CREATE EXTERNAL TABLE … LOCATION with
// an object, a glob and a directory, and checks EXPLAIN shows no
// credentials.
func TestSQLLocationsAndExplain(t *testing.T) {
	srv := server(t)
	ctx := context.Background()
	nation := filepath.Join(sampleDir, "nation.parquet")
	for _, key := range []string{"nations/part-0.parquet", "nations/part-1.parquet", "nations/more/part-2.parquet"} {
		if err := srv.PutFile(ctx, "misc", key, nation); err != nil {
			t.Fatal(err)
		}
	}
	for i, body := range []string{"a,b\n1,x\n2,y\n", "a,b\n3,z\n"} {
		if err := srv.Put(ctx, "misc", fmt.Sprintf("csv/part-%d.csv", i), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := newSession(t)
	for sql, want := range map[string]string{
		"CREATE EXTERNAL TABLE csv STORED AS CSV LOCATION 's3://misc/csv/'":                       "3",
		"CREATE EXTERNAL TABLE one STORED AS PARQUET LOCATION 's3://misc/nations/part-0.parquet'": "25",
		"CREATE EXTERNAL TABLE glob STORED AS PARQUET LOCATION 's3://misc/nations/*.parquet'":     "50",
		"CREATE EXTERNAL TABLE dir STORED AS PARQUET LOCATION 's3://misc/nations/'":               "75",
	} {
		collect(t, ctx, s, sql)
		name := strings.Fields(sql)[3]
		if got := rows(collect(t, ctx, s, "SELECT count(*) FROM "+name)); len(got) != 1 || got[0] != want {
			t.Errorf("%s: count %v, want %s", name, got, want)
		}
	}
	df := s.ReadParquet(ctx, "s3://misc/nations/part-1.parquet").Where("n_regionkey = 1")
	if n, err := df.Count(ctx); err != nil || n != 5 {
		t.Errorf("ReadParquet over S3: %d rows, %v; want 5", n, err)
	}
	plan := strings.Join(rows(collect(t, ctx, s, "EXPLAIN SELECT count(*) FROM glob WHERE n_nationkey > 3")), "\n")
	for _, secret := range []string{s3test.AccessKey, s3test.SecretKey} {
		if strings.Contains(plan, secret) {
			t.Errorf("EXPLAIN shows a credential:\n%s", plan)
		}
	}
	if text, err := df.Explain(); err != nil || strings.Contains(text, s3test.SecretKey) || strings.Contains(text, s3test.AccessKey) {
		t.Errorf("Explain: %v\n%s", err, text)
	}
}

// TestQueryErrors checks that storage failures surface as errors naming
// the location, without credentials and without panics, at registration
// and in the middle of a query.
func TestQueryErrors(t *testing.T) {
	srv := server(t)
	s, ctx := newSession(t)
	secrets := []string{s3test.AccessKey, s3test.SecretKey}
	check := func(what string, err error, uri, word string, hide []string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		if !strings.Contains(err.Error(), uri) || !strings.Contains(err.Error(), word) {
			t.Errorf("%s: error %q should name %s and say %q", what, err, uri, word)
		}
		for _, sec := range hide {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("%s: error shows a credential: %v", what, err)
			}
		}
	}
	err := s.RegisterTable(ctx, "t", "parquet", "s3://tpch/sf-sample/missing.parquet", nil)
	check("missing object", err, "s3://tpch/sf-sample/missing.parquet", "does not exist", secrets)
	err = s.RegisterTable(ctx, "t", "parquet", "s3://no-such-bucket/t.parquet", nil)
	check("missing bucket", err, "s3://no-such-bucket/t.parquet", "bucket", secrets)
	err = s.SQL(ctx, "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 's3://tpch/nothing/*.parquet'").Err()
	if err == nil {
		_, err = s.SQL(ctx, "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 's3://tpch/nothing/*.parquet'").Collect(ctx)
	}
	check("empty glob", err, "s3://tpch/nothing/*.parquet", "no files match", secrets)

	// The object disappears between planning and reading.
	if err := srv.PutFile(ctx, "misc", "gone/orders.parquet", filepath.Join(sampleDir, "orders.parquet")); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterTable(ctx, "gone", "parquet", "s3://misc/gone/orders.parquet", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.DeleteObject(ctx, &sdk.DeleteObjectInput{Bucket: strp("misc"), Key: strp("gone/orders.parquet")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SQL(ctx, "SELECT sum(o_totalprice) FROM gone").Collect(ctx)
	check("object deleted mid-query", err, "s3://misc/gone/orders.parquet", "does not exist", secrets)

	// Wrong credentials: swap the registered FS for one with a bad secret.
	const wrong = "not-the-secret-4Hq9"
	fs.Register("s3", s3.New(s3.Options{
		Endpoint:    srv.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKey, wrong, ""),
	}))
	defer s3.Register()
	err = s.RegisterTable(ctx, "bad", "parquet", "s3://tpch/sf-sample/orders.parquet", nil)
	check("wrong secret", err, "s3://tpch/sf-sample/orders.parquet", "access denied", append(secrets, wrong))
}

func strp(s string) *string { return &s }

// TestCLI runs the flint binary as a user would, with only the standard
// AWS variables pointing it at the server.
func TestCLI(t *testing.T) {
	srv := server(t)
	if testing.Short() {
		t.Skip("builds the flint binary")
	}
	bin := filepath.Join(t.TempDir(), "flint")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, "../../cmd/flint")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building flint: %v\n%s", err, out)
	}
	env := os.Environ()
	for k, v := range srv.Env() {
		env = append(env, k+"="+v)
	}
	run := func(env []string, args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	start := time.Now()
	out, errOut, err := run(env, "sql", "--table", "li=s3://tpch/sf-sample/lineitem.parquet",
		"-e", "SELECT l_returnflag, l_linestatus, count(*) AS count_order FROM li WHERE l_shipdate <= DATE '1998-09-02' "+
			"GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus")
	if err != nil {
		t.Fatalf("flint sql: %v\n%s", err, errOut)
	}
	t.Logf("flint sql over S3 took %v", time.Since(start))
	// The count_order column of DuckDB's Q1 answer (testdata/tpch/answers/sample/q01.csv).
	want := "l_returnflag,l_linestatus,count_order\nA,F,14876\nN,F,348\nN,O,29181\nR,F,14902\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}

	bad := append(append([]string{}, env...), "AWS_SECRET_ACCESS_KEY=wrong-secret-7Yt3")
	_, errOut, err = run(bad, "sql", "--table", "li=s3://tpch/sf-sample/lineitem.parquet", "-e", "SELECT count(*) FROM li")
	if err == nil {
		t.Fatal("wrong secret: flint succeeded")
	}
	if !strings.Contains(errOut, "s3://tpch/sf-sample/lineitem.parquet") || !strings.Contains(errOut, "access denied") ||
		strings.Contains(errOut, "wrong-secret-7Yt3") || strings.Contains(errOut, "panic") {
		t.Errorf("wrong secret: stderr %q", errOut)
	}
}
