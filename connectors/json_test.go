package connectors

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

const jsonSample = `{"id": 1, "name": "a", "score": 1.5, "ok": true, "tags": ["x", "y"], "pos": {"x": 1, "y": 2}}
{"id": 2, "name": null, "score": 2, "ok": false, "tags": [], "pos": {"x": 3}}

{"id": 3, "extra": "late field"}
  {"name": "d\u00e9j\u00e0 \"q\"", "id": -4, "score": -0.5, "tags": null, "pos": null}
`

func TestJSONInferAndRead(t *testing.T) {
	path := writeFile(t, t.TempDir(), "s.ndjson", jsonSample)
	wantSchema := "id:int64 name:utf8 score:float64 ok:bool tags:list<item: utf8, nullable> pos:struct<x: int64 nullable, y: int64 nullable> extra:utf8"
	want := [][]any{
		{int64(1), "a", 1.5, true, nil},
		{int64(2), nil, 2.0, false, nil},
		{int64(3), nil, nil, nil, "late field"},
		{int64(-4), `déjà "q"`, -0.5, nil, nil},
	}
	wantTags := []string{`["x","y"]`, `[]`, `(null)`, `(null)`}
	wantPos := []string{`{"x":1,"y":2}`, `{"x":3,"y":null}`, `(null)`, `(null)`}
	for _, batch := range []int{1, 2, 3, 16, 1024} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			ctx := checkedCtx(t)
			src, err := Open(ctx, JSON, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, f := range src.Schema().Fields() {
				types = append(types, f.Name+":"+f.Type.String())
			}
			if got := strings.Join(types, " "); got != wantSchema {
				t.Fatalf("schema %s\nwant   %s", got, wantSchema)
			}
			recs := readAll(t, ctx, src, []int{0, 1, 2, 3, 6}, batch, 1)
			defer release(recs)
			if got := rowsOf(recs); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
			nested := readAll(t, ctx, src, []int{4, 5}, batch, 1)
			defer release(nested)
			var tags, pos []string
			for _, r := range nested {
				for i := 0; i < int(r.NumRows()); i++ {
					tags = append(tags, r.Column(0).ValueStr(i))
					pos = append(pos, r.Column(1).ValueStr(i))
				}
			}
			if !reflect.DeepEqual(tags, wantTags) || !reflect.DeepEqual(pos, wantPos) {
				t.Fatalf("tags %v pos %v", tags, pos)
			}
		})
	}
}

func TestJSONExplicitSchema(t *testing.T) {
	ctx := checkedCtx(t)
	path := writeFile(t, t.TempDir(), "s.json", `{"a": "2024-01-02", "b": "12.34", "c": 7}
{"a": null, "b": 0.5}
`)
	src, err := Open(ctx, JSON, path, map[string]string{"schema": "a DATE, b DECIMAL(10,2), c INT"})
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, ctx, src, nil, 1024, 1)
	defer release(recs)
	want := [][]any{
		{arrow.Date32(19724), decimal128.FromI64(1234), int32(7)},
		{nil, decimal128.FromI64(50), nil},
	}
	if got := rowsOf(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestJSONErrors(t *testing.T) {
	cases := []struct {
		name, content string
		opts          map[string]string
		want          []string
	}{
		{"malformed in sample", "{\"a\": 1}\n{\"a\": }\n", nil, []string{"x.json", "line 2"}},
		{"malformed after sample", "{\"a\": 1}\n\n{\"a\": 1,\n", map[string]string{"infer_rows": "1"}, []string{"x.json", "line 3", "malformed"}},
		{"trailing garbage", "{\"a\": 1}\n{\"a\": 2} x\n", map[string]string{"infer_rows": "1"}, []string{"line 2"}},
		{"not an object", "{\"a\": 1}\n[1]\n", map[string]string{"infer_rows": "1"}, []string{"line 2", "expected an object"}},
		{"type mismatch", "{\"a\": 1}\n{\"a\": \"x\"}\n", map[string]string{"infer_rows": "1"}, []string{"line 2"}},
		{"invalid utf8", "{\"a\": \"x\"}\n{\"a\": \"\xff\"}\n", map[string]string{"infer_rows": "1"}, []string{"line 2", "UTF-8"}},
		{"empty", "\n\n", nil, []string{"x.json", "no objects"}},
		{"scalar line", "42\n", nil, []string{"line 1", "expected an object"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := checkedCtx(t)
			path := writeFile(t, t.TempDir(), "x.json", tc.content)
			src, err := Open(ctx, JSON, path, tc.opts)
			if err == nil {
				var recs []arrow.RecordBatch
				recs, err = readSplit(t, ctx, src, Split{Path: path, Length: -1}, nil, 1024)
				release(recs)
			}
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestJSONByteRangeSplits(t *testing.T) {
	var sb strings.Builder
	const n = 120
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "{\"k\": %d, \"pad\": %q}\n", i, strings.Repeat("z", i%9))
	}
	path := writeFile(t, t.TempDir(), "big.jsonl", sb.String())
	for _, split := range []int{1, 5, 64, 100000} {
		ctx := checkedCtx(t)
		src, err := Open(ctx, JSON, path, map[string]string{"min_split_bytes": fmt.Sprint(split)})
		if err != nil {
			t.Fatal(err)
		}
		splits, _ := src.Splits(ctx, nil, 1000)
		var keys []int64
		for _, sp := range splits {
			recs, err := readSplit(t, ctx, src, sp, []int{0}, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				keys = append(keys, r.Column(0).(*array.Int64).Int64Values()...)
			}
			release(recs)
		}
		if len(keys) != n {
			t.Fatalf("split %d: %d records", split, len(keys))
		}
		for i, k := range keys {
			if k != int64(i) {
				t.Fatalf("split %d: record %d key %d", split, i, k)
			}
		}
	}
}
