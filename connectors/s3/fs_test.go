package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/connectors/s3"
	"github.com/flint-engine/flint/internal/s3test"
)

func TestOpenStatReadAt(t *testing.T) {
	ctx := context.Background()
	f := newFS(t, s3.Options{})
	local, err := os.ReadFile(filepath.Join(sampleDir, "orders.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	const uri = "s3://tpch/sf-sample/orders.parquet"

	fi, err := f.Stat(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir || fi.Size != int64(len(local)) || fi.Path != uri || fi.ModTime.IsZero() {
		t.Errorf("Stat = %+v, want a %d-byte file", fi, len(local))
	}
	for _, dir := range []string{"s3://tpch", "s3://tpch/", "s3://tpch/sf-sample", "s3://tpch/sf-sample/"} {
		if fi, err := f.Stat(ctx, dir); err != nil || !fi.IsDir {
			t.Errorf("Stat(%s) = %+v, %v; want a directory", dir, fi, err)
		}
	}

	before := f.Stats()
	file, err := f.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if file.Size() != int64(len(local)) || file.Name() != uri {
		t.Fatalf("Open: size %d name %s", file.Size(), file.Name())
	}
	all := make([]byte, len(local))
	if n, err := file.ReadAt(all, 0); n != len(all) || (err != nil && err != io.EOF) || !bytes.Equal(all, local) {
		t.Fatalf("whole read: n=%d err=%v equal=%v", n, err, bytes.Equal(all, local))
	}
	// A read past the end returns what there is and io.EOF.
	tail := make([]byte, 100)
	n, err := file.ReadAt(tail, int64(len(local)-40))
	if n != 40 || err != io.EOF || !bytes.Equal(tail[:40], local[len(local)-40:]) {
		t.Errorf("read over the end: n=%d err=%v", n, err)
	}
	if n, err := file.ReadAt(tail, int64(len(local))); n != 0 || err != io.EOF {
		t.Errorf("read at the end: n=%d err=%v", n, err)
	}
	if _, err := file.ReadAt(tail, -1); err == nil {
		t.Error("negative offset must fail")
	}

	// Concurrent ranged reads, checked against the local bytes.
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 1))
			for i := 0; i < 10; i++ {
				off := rng.IntN(len(local) - 1)
				buf := make([]byte, 1+rng.IntN(min(50_000, len(local)-off)))
				if n, err := file.ReadAt(buf, int64(off)); n != len(buf) || err != nil || !bytes.Equal(buf, local[off:off+n]) {
					bad.Add(1)
				}
			}
		}(uint64(g))
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d concurrent reads returned wrong bytes", bad.Load())
	}
	st := f.Stats()
	if got := st.GetRequests - before.GetRequests; got != 82 {
		t.Errorf("GET requests = %d, want 82 (one per ReadAt that reaches the object)", got)
	}
	if st.HeadRequests-before.HeadRequests != 1 {
		t.Errorf("HEAD requests = %d, want 1", st.HeadRequests-before.HeadRequests)
	}
	if st.BytesFetched-before.BytesFetched < int64(len(local)) {
		t.Errorf("bytes fetched %d < object size %d", st.BytesFetched-before.BytesFetched, len(local))
	}

	// OpenSized trusts the given size and makes no request.
	before = f.Stats()
	sized, err := fs.OpenSized(ctx, f, uri, fi.Size)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := sized.ReadAt(buf, fi.Size-8); err != nil || !bytes.Equal(buf, local[len(local)-8:]) {
		t.Errorf("OpenSized read: %v", err)
	}
	if st := f.Stats(); st.HeadRequests != before.HeadRequests || st.GetRequests != before.GetRequests+1 {
		t.Errorf("OpenSized made %d HEAD and %d GET requests, want 0 and 1", st.HeadRequests-before.HeadRequests, st.GetRequests-before.GetRequests)
	}
}

func TestListAndResolve(t *testing.T) {
	ctx := context.Background()
	s := server(t)
	var want []string
	for i := 0; i < 23; i++ {
		key := fmt.Sprintf("many/part-%02d.csv", i)
		if i%5 == 0 {
			key = fmt.Sprintf("many/sub/part-%02d.csv", i)
		}
		want = append(want, "s3://misc/"+key)
	}
	hidden := []string{"many/_SUCCESS", "many/.part-01.csv.crc", "many/_tmp/x.csv", "many/sub/.hidden/y.csv"}
	for _, key := range append(keysOf(want), hidden...) {
		if err := s.Put(ctx, "misc", key, []byte("x\n"+key+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(want)
	f := newFS(t, s3.Options{ListPageSize: 4})
	before := f.Stats()
	got, err := f.List(ctx, "s3://misc/many")
	if err != nil {
		t.Fatal(err)
	}
	if paths := pathsOf(got); !reflect.DeepEqual(paths, want) {
		t.Fatalf("List = %v\nwant %v", paths, want)
	}
	// 27 keys at 4 a page.
	if n := f.Stats().ListRequests - before.ListRequests; n != 7 {
		t.Errorf("List made %d requests, want 7 pages of 4", n)
	}
	for _, fi := range got {
		if fi.Size != int64(len("x\n"+strings.TrimPrefix(fi.Path, "s3://misc/")+"\n")) {
			t.Errorf("%s: size %d", fi.Path, fi.Size)
		}
	}
	// The same paths with a trailing slash; nothing under a missing prefix.
	if got2, err := f.List(ctx, "s3://misc/many/"); err != nil || !reflect.DeepEqual(pathsOf(got2), want) {
		t.Errorf("List with slash: %v, %v", pathsOf(got2), err)
	}
	if got3, err := f.List(ctx, "s3://misc/nothing-here"); err != nil || len(got3) != 0 {
		t.Errorf("List of a missing prefix: %v, %v", got3, err)
	}

	// fs.Resolve drives globs and directories through Stat and List.
	fs.Register("s3", f)
	t.Cleanup(s3.Register)
	isCSV := func(p string) bool { return strings.HasSuffix(p, ".csv") }
	cases := map[string][]string{
		"s3://misc/many":                 want,
		"s3://misc/many/*.csv":           filter(want, func(p string) bool { return !strings.Contains(p, "/sub/") }),
		"s3://misc/many/*/*.csv":         filter(want, func(p string) bool { return strings.Contains(p, "/sub/") }),
		"s3://misc/many/part-1?.csv":     filter(want, func(p string) bool { return strings.Contains(p, "many/part-1") }),
		"s3://misc/many/sub/part-05.csv": {"s3://misc/many/sub/part-05.csv"},
	}
	for loc, w := range cases {
		fsys, err := fs.For(loc)
		if err != nil {
			t.Fatal(err)
		}
		res, err := fs.Resolve(ctx, fsys, loc, isCSV)
		if err != nil {
			t.Errorf("Resolve(%s): %v", loc, err)
			continue
		}
		if !reflect.DeepEqual(pathsOf(res), w) {
			t.Errorf("Resolve(%s) = %v\nwant %v", loc, pathsOf(res), w)
		}
	}
	for _, loc := range []string{"s3://misc/many/*.json", "s3://misc/nothing-here", "s3://misc/many/nope.csv"} {
		if _, err := fs.Resolve(ctx, f, loc, isCSV); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), loc) {
			t.Errorf("Resolve(%s): %v, want ErrNotExist naming it", loc, err)
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	good := newFS(t, s3.Options{})
	secrets := []string{s3test.SecretKey, s3test.AccessKey}

	notExist := map[string]string{
		"s3://tpch/sf-sample/missing.parquet": "",
		"s3://no-such-bucket/x.parquet":       "bucket",
	}
	for uri, word := range notExist {
		_, err := good.Open(ctx, uri)
		checkErr(t, "Open", err, fs.ErrNotExist, uri, word, secrets)
		_, err = good.Stat(ctx, uri)
		checkErr(t, "Stat", err, fs.ErrNotExist, uri, word, secrets)
	}
	_, err := good.List(ctx, "s3://no-such-bucket/dir")
	checkErr(t, "List", err, fs.ErrNotExist, "s3://no-such-bucket/dir", "bucket", secrets)
	_, err = good.Stat(ctx, "s3://no-such-bucket")
	checkErr(t, "Stat", err, fs.ErrNotExist, "s3://no-such-bucket", "bucket", secrets)

	// An unknown key, and a known key with the wrong secret.
	const wrongSecret = "wrong-secret-Zq81xKd0"
	for name, creds := range map[string]*s3.FS{
		"unknown key":  newFS(t, s3.Options{Credentials: credentials.NewStaticCredentialsProvider("FLINTNOSUCHKEY00", wrongSecret, "")}),
		"wrong secret": newFS(t, s3.Options{Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKey, wrongSecret, "")}),
	} {
		const uri = "s3://tpch/sf-sample/orders.parquet"
		t.Run(name, func(t *testing.T) {
			hide := append([]string{wrongSecret, "FLINTNOSUCHKEY00"}, secrets...)
			_, err := creds.Open(ctx, uri)
			checkErr(t, "Open", err, s3.ErrAccessDenied, uri, "access denied", hide)
			_, err = creds.Stat(ctx, uri)
			checkErr(t, "Stat", err, s3.ErrAccessDenied, uri, "access denied", hide)
			_, err = creds.List(ctx, "s3://tpch/sf-sample")
			checkErr(t, "List", err, s3.ErrAccessDenied, "s3://tpch/sf-sample", "access denied", hide)
			file, err := fs.OpenSized(ctx, creds, uri, 100)
			if err != nil {
				t.Fatal(err)
			}
			_, err = file.ReadAt(make([]byte, 10), 0)
			checkErr(t, "ReadAt", err, s3.ErrAccessDenied, uri, "access denied", hide)
		})
	}

	// Malformed locations.
	for uri, want := range map[string]string{
		"s3:///key": "no bucket",
		"s3://" + s3test.AccessKey + ":" + s3test.SecretKey + "@tpch/x": "credentials in the location",
		"s3://tpch":            "not an object",
		"s3://tpch/sf-sample/": "not an object",
	} {
		_, err := good.Open(ctx, uri)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error about %q", uri, err, want)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("Open(%q): error shows a credential: %v", uri, err)
			}
		}
	}

	// A bad FLINT_S3_PATH_STYLE names the variable.
	t.Setenv(s3.PathStyleEnv, "maybe")
	if _, err := newFS(t, s3.Options{}).Stat(ctx, "s3://tpch"); err == nil || !strings.Contains(err.Error(), s3.PathStyleEnv) {
		t.Errorf("bad %s: %v", s3.PathStyleEnv, err)
	}
}

func checkErr(t *testing.T, op string, err, is error, uri, word string, secrets []string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s(%s): no error", op, uri)
		return
	}
	msg := err.Error()
	if !errors.Is(err, is) {
		t.Errorf("%s(%s): %v does not wrap %v", op, uri, err, is)
	}
	if !strings.Contains(msg, uri) || !strings.Contains(msg, word) {
		t.Errorf("%s(%s): error %q should name the location and say %q", op, uri, msg, word)
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("%s(%s): error shows a credential: %s", op, uri, msg)
		}
	}
}

// TestEndpointFromEnvironment checks that an FS with no options finds the
// server through the SDK's standard variables (AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL) and picks path-style requests for it on its own.
func TestEndpointFromEnvironment(t *testing.T) {
	ctx := context.Background()
	s := server(t)
	for _, variable := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		t.Run(variable, func(t *testing.T) {
			for k, v := range s.Env() {
				t.Setenv(k, v)
			}
			t.Setenv("AWS_ENDPOINT_URL_S3", "")
			os.Unsetenv("AWS_ENDPOINT_URL_S3")
			t.Setenv(variable, s.Endpoint)
			f := s3.New(s3.Options{})
			fi, err := f.Stat(ctx, "s3://tpch/sf-sample/nation.parquet")
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size != 2580 {
				t.Errorf("size %d, want 2580", fi.Size)
			}
		})
	}
}

// faultProxy forwards requests to the server and, while cut > 0, ends the
// body of each ranged GET after half of it, as a dropped connection would.
type faultProxy struct {
	*httptest.Server
	cut atomic.Int32
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{}
	rp := &httputil.ReverseProxy{
		// Keep the Host the client signed.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.Request.Method == http.MethodGet && resp.Request.Header.Get("Range") != "" && p.cut.Load() > 0 {
				p.cut.Add(-1)
				resp.Body = &halfBody{rc: resp.Body, left: resp.ContentLength / 2}
			}
			return nil
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.Server = httptest.NewServer(rp)
	t.Cleanup(p.Close)
	return p
}

type halfBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *halfBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *halfBody) Close() error { return b.rc.Close() }

func TestShortReads(t *testing.T) {
	ctx := context.Background()
	s := server(t)
	proxy := newFaultProxy(t, s.Endpoint)
	f := newFS(t, s3.Options{Endpoint: proxy.URL})
	local, err := os.ReadFile(filepath.Join(sampleDir, "part.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	const uri = "s3://tpch/sf-sample/part.parquet"
	file, err := f.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 40_000)
	const off = 1000

	// One cut body: the read is repeated and succeeds.
	proxy.cut.Store(1)
	before := f.Stats()
	if n, err := file.ReadAt(buf, off); n != len(buf) || err != nil || !bytes.Equal(buf, local[off:off+len(buf)]) {
		t.Fatalf("read after one cut body: n=%d err=%v", n, err)
	}
	if st := f.Stats(); st.Retries-before.Retries != 1 || st.GetRequests-before.GetRequests != 2 {
		t.Errorf("retries %d, GETs %d; want 1 and 2", st.Retries-before.Retries, st.GetRequests-before.GetRequests)
	}

	// Every body cut: an error naming the object and the offset.
	proxy.cut.Store(1000)
	_, err = file.ReadAt(buf, off)
	proxy.cut.Store(0)
	if err == nil || !strings.Contains(err.Error(), uri) || !strings.Contains(err.Error(), "offset 1000") || !strings.Contains(err.Error(), "short read") {
		t.Errorf("persistent short reads: %v", err)
	}
}

func keysOf(uris []string) []string {
	var out []string
	for _, u := range uris {
		out = append(out, strings.TrimPrefix(u, "s3://misc/"))
	}
	return out
}

func pathsOf(fis []fs.FileInfo) []string {
	var out []string
	for _, fi := range fis {
		out = append(out, fi.Path)
	}
	return out
}

func filter(in []string, keep func(string) bool) []string {
	var out []string
	for _, s := range in {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// TestObjectReplacedWhileOpen checks that reads of an object opened with
// Open fail, naming it, once it is overwritten (GETs carry If-Match).
func TestObjectReplacedWhileOpen(t *testing.T) {
	ctx := context.Background()
	s := server(t)
	f := newFS(t, s3.Options{})
	if err := s.Put(ctx, "misc", "replaced.bin", bytes.Repeat([]byte("a"), 1000)); err != nil {
		t.Fatal(err)
	}
	file, err := f.Open(ctx, "s3://misc/replaced.bin")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := file.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "misc", "replaced.bin", bytes.Repeat([]byte("b"), 1000)); err != nil {
		t.Fatal(err)
	}
	_, err = file.ReadAt(buf, 10)
	if err == nil || !strings.Contains(err.Error(), "s3://misc/replaced.bin") || !strings.Contains(err.Error(), "changed") {
		t.Errorf("read after the object was replaced: %v (read %q)", err, buf)
	}
}
