package s3_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/connectors/s3"
	"github.com/flint-engine/flint/internal/hivetest"
)

// requestLog is a reverse proxy in front of versitygw that records every
// request it forwards ("GET bucket/key", "HEAD bucket/key", "LIST
// bucket/prefix delimiter=/"): what a scan read, seen on the wire.
type requestLog struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []string
}

func newRequestLog(t *testing.T, endpoint string) *requestLog {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	// The Host header is kept, so the client's signatures stay valid.
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = tr
	l := &requestLog{}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		q := r.URL.Query()
		entry := r.Method + " " + p
		if r.Method == http.MethodGet && q.Has("list-type") {
			entry = "LIST " + strings.TrimSuffix(p, "/") + "/" + q.Get("prefix") + " delimiter=" + q.Get("delimiter")
		}
		l.mu.Lock()
		l.log = append(l.log, entry)
		l.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		l.srv.Close()
		tr.CloseIdleConnections()
	})
	return l
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.log = nil
	l.mu.Unlock()
}

// matching returns the logged requests containing sub.
func (l *requestLog) matching(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.log {
		if strings.Contains(e, sub) {
			out = append(out, e)
		}
	}
	return out
}

// useFS makes f the FS for "s3://" locations for the rest of the test.
func useFS(t *testing.T, f *s3.FS) {
	fs.Register("s3", f)
	t.Cleanup(func() { fs.Register("s3", s3.Default()) })
}

// TestHivePartitionsOverS3 queries Hive-partitioned copies of orders
// (written by arrow-go alone, see hivetest) on versitygw and checks each
// answer against the same question asked of the original file, and that a
// filter on a partition column sends no request — LIST, HEAD or GET — for
// a pruned partition.
func TestHivePartitionsOverS3(t *testing.T) {
	srv := server(t)
	ctx := context.Background()
	dir := t.TempDir()
	orders := filepath.Join(sampleDir, "orders.parquet")
	if _, err := hivetest.Write(orders, filepath.Join(dir, "prio"), hivetest.ByString("o_orderpriority"), []string{"o_orderpriority"}, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := hivetest.Write(orders, filepath.Join(dir, "ym"), hivetest.ByYearMonth("o_orderdate"), nil, 1); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"prio", "ym"} {
		if err := srv.PutDir(ctx, "misc", "hive/"+d, filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	proxy := newRequestLog(t, srv.Endpoint)
	f := newFS(t, s3.Options{Endpoint: proxy.srv.URL, ListPageSize: 5})
	useFS(t, f)

	// The format of a directory location is found by listing it (what
	// --table NAME=s3://… and LOCATION without STORED AS rely on).
	if format, err := flint.InferFormat("s3://misc/hive/ym/"); err != nil || format != "parquet" {
		t.Fatalf("InferFormat: %q, %v", format, err)
	}
	s, _ := newSession(t)
	if err := s.RegisterTable(ctx, "orders", "parquet", orders, nil); err != nil {
		t.Fatal(err)
	}
	collect(t, ctx, s, "CREATE EXTERNAL TABLE prio LOCATION 's3://misc/hive/prio/'")
	if err := s.RegisterTable(ctx, "ym", "", "s3://misc/hive/ym", nil); err != nil {
		t.Fatal(err)
	}

	years := []string{"1992", "1993", "1994", "1995", "1996", "1997", "1998"}
	othersThan := func(keep ...string) []string {
		var out []string
		for _, y := range years {
			if !containsString(keep, y) {
				out = append(out, "year="+y+"/")
			}
		}
		return out
	}
	prios := []string{"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"}
	prioFolders := func(keep ...string) (pruned, kept []string) {
		for _, p := range prios {
			if containsString(keep, p) {
				kept = append(kept, "o_orderpriority="+p+"/")
			} else {
				pruned = append(pruned, "o_orderpriority="+p+"/")
			}
		}
		return pruned, kept
	}
	urgentPruned, urgentKept := prioFolders("1-URGENT")
	inPruned, inKept := prioFolders("2-HIGH", "5-LOW")
	cases := []struct {
		name, part, base string
		pruned, kept     []string
		lists            int // LIST requests of the query, 0: not checked
	}{
		{name: "priority =",
			part:   "SELECT count(*), sum(o_totalprice) FROM prio WHERE o_orderpriority = '1-URGENT'",
			base:   "SELECT count(*), sum(o_totalprice) FROM orders WHERE o_orderpriority = '1-URGENT'",
			pruned: urgentPruned, kept: urgentKept,
			lists: 2}, // the root and 1-URGENT's folder (one page each at 5 a page)
		{name: "priority in",
			part:   "SELECT o_orderpriority, count(*), max(o_comment) FROM prio WHERE o_orderpriority IN ('2-HIGH', '5-LOW') GROUP BY 1 ORDER BY 1",
			base:   "SELECT o_orderpriority, count(*), max(o_comment) FROM orders WHERE o_orderpriority IN ('2-HIGH', '5-LOW') GROUP BY 1 ORDER BY 1",
			pruned: inPruned, kept: inKept},
		{name: "year =",
			part:   "SELECT count(*), sum(o_totalprice) FROM ym WHERE year = 1995",
			base:   "SELECT count(*), sum(o_totalprice) FROM orders WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'",
			pruned: othersThan("1995"), kept: []string{"year=1995/"},
			// root (7 years: 2 pages), year=1995 (12 months: 3 pages), and
			// one page in each of its month folders.
			lists: 2 + 3 + 12},
		{name: "year range and month",
			part:   "SELECT year, month, count(*) FROM ym WHERE year >= 1997 AND month = 6 GROUP BY 1, 2 ORDER BY 1, 2",
			base:   "SELECT year(o_orderdate), month(o_orderdate), count(*) FROM orders WHERE o_orderdate >= DATE '1997-01-01' AND month(o_orderdate) = 6 GROUP BY 1, 2 ORDER BY 1, 2",
			pruned: append(othersThan("1997", "1998"), "year=1997/month=5/", "year=1998/month=1/"),
			kept:   []string{"year=1997/month=6/", "year=1998/month=6/"}},
		{name: "no filter reads everything",
			part: "SELECT year, count(*) FROM ym GROUP BY 1 ORDER BY 1",
			base: "SELECT year(o_orderdate), count(*) FROM orders GROUP BY 1 ORDER BY 1",
			kept: othersThan()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy.reset()
			got := rows(collect(t, ctx, s, tc.part))
			lists := len(proxy.matching("LIST "))
			want := rows(collect(t, ctx, s, tc.base))
			if len(want) == 0 {
				t.Fatal("the reference query returned nothing")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("partitioned %v\noriginal file %v", got, want)
			}
			for _, p := range tc.pruned {
				if reqs := proxy.matching(p); len(reqs) > 0 {
					t.Errorf("requests for pruned partition %s: %v", p, reqs)
				}
			}
			for _, k := range tc.kept {
				if len(proxy.matching(k)) == 0 {
					t.Errorf("no request for surviving partition %s (the log misses reads)", k)
				}
			}
			if tc.lists > 0 && lists != tc.lists {
				t.Errorf("%d LIST requests, want %d: %v", lists, tc.lists, proxy.matching("LIST "))
			}
			for _, e := range proxy.matching("LIST ") {
				if !strings.HasSuffix(e, "delimiter=/") {
					t.Errorf("a query listed without a delimiter: %s", e)
				}
			}
		})
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestListDir checks the delimited listing against versitygw: files and
// folders of one level, hidden names kept, pages followed.
func TestListDir(t *testing.T) {
	srv := server(t)
	ctx := context.Background()
	for _, key := range []string{"ld/a.csv", "ld/_SUCCESS", "ld/.x.crc", "ld/k=1/b.csv", "ld/k=2/c.csv", "ld/k=2/deeper/d.csv", "ld/z/e.csv", "ld2/other.csv"} {
		if err := srv.Put(ctx, "misc", key, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	f := newFS(t, s3.Options{ListPageSize: 2})
	before := f.Stats()
	got, err := f.ListDir(ctx, "s3://misc/ld")
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, fi := range got {
		e := fi.Path
		if fi.IsDir {
			e += "/"
		} else if fi.Size != 1 {
			t.Errorf("%s: size %d", fi.Path, fi.Size)
		}
		entries = append(entries, e)
	}
	want := []string{"s3://misc/ld/.x.crc", "s3://misc/ld/_SUCCESS", "s3://misc/ld/a.csv", "s3://misc/ld/k=1/", "s3://misc/ld/k=2/", "s3://misc/ld/z/"}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("ListDir = %v\nwant %v", entries, want)
	}
	if n := f.Stats().ListRequests - before.ListRequests; n != 3 {
		t.Errorf("%d LIST requests, want 3 pages of 2 for 6 entries", n)
	}
	for loc, want := range map[string]int{"s3://misc/ld/k=2/": 2, "s3://misc/nothing": 0, "s3://misc": 3} {
		got, err := f.ListDir(ctx, loc)
		if err != nil || len(got) < want || (want == 0 && len(got) != 0) {
			t.Errorf("ListDir(%s) = %d entries, %v; want %d", loc, len(got), err, want)
		}
	}
	if _, err := f.ListDir(ctx, "s3://no-such-bucket/x"); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("missing bucket: %v", err)
	}
}
