package flint_test

import (
	"context"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/internal/resultcmp"
)

// The tests of writes (COPY, DataFrame.Write) check what lands on storage
// with readers that are not Flint's: a Parquet file is read with arrow-go's
// pqarrow, the manifest is parsed as JSON by connectors.ReadManifest, and
// the expected rows come from the source Parquet file read the same way.

const sampleDir = "testdata/tpch/sf-sample"

// pqRows reads a Parquet file with arrow-go's reader and renders every
// row as "v1|v2|..." (resultcmp's canonical value text). extra is appended
// to every row (partition values that live in folder names).
func pqRows(t *testing.T, path string, extra ...string) (*arrow.Schema, []string) {
	t.Helper()
	tbl, err := resultcmp.ReadParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	rows := make([][]string, tbl.NumRows())
	for c := 0; c < int(tbl.NumCols()); c++ {
		r := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				rows[r] = append(rows[r], resultcmp.FormatValue(chunk, i))
				r++
			}
		}
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(append(r, extra...), "|")
	}
	return tbl.Schema(), out
}

// batchRows renders batches as pqRows does.
func batchRows(batches []arrow.RecordBatch) []string {
	var out []string
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			parts := make([]string, b.NumCols())
			for c := range parts {
				parts[c] = resultcmp.FormatValue(b.Column(c), r)
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	return out
}

func sortedRows(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// sameRows fails unless got and want hold the same rows, each as often.
func sameRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := sortedRows(got), sortedRows(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d rows, want %d", what, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("%s: row %d of the sorted rows is\n  %s\nwant\n  %s", what, i, g[i], w[i])
		}
	}
}

// committed reads the manifest of dir and checks that the directory holds
// exactly its files (hidden leftovers included) and the manifest itself.
func committed(t *testing.T, dir string) *connectors.Manifest {
	t.Helper()
	m, err := connectors.ReadManifest(context.Background(), fs.Local{}, dir)
	if err != nil || m == nil {
		t.Fatalf("manifest of %s: %v, %v", dir, m, err)
	}
	var listed []string
	err = filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			listed = append(listed, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{connectors.ManifestName}
	for _, f := range m.Files {
		want = append(want, f.Path)
		st, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil || st.Size() != f.Bytes {
			t.Errorf("%s: %v; manifest says %d bytes", f.Path, err, f.Bytes)
		}
	}
	if !reflect.DeepEqual(sortedRows(listed), sortedRows(want)) {
		t.Errorf("%s holds %v\nbut the manifest lists %v", dir, sortedRows(listed), sortedRows(want))
	}
	return m
}

// writeSession is a local session whose lineitem and orders tables are
// cut into several splits, so that writes run as several tasks.
func writeSession(t *testing.T, opts ...flint.Option) (*flint.Session, context.Context) {
	t.Helper()
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	s, err := flint.NewSession(ctx, append([]flint.Option{flint.WithSlots(3), flint.WithPartitions(4), flint.WithAllocator(mem)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, tbl := range []string{"lineitem", "orders"} {
		if err := s.RegisterTable(ctx, tbl, "parquet", filepath.Join(sampleDir, tbl+".parquet"), map[string]string{"min_split_rows": "4000"}); err != nil {
			t.Fatal(err)
		}
	}
	return s, ctx
}

func collectRows(t *testing.T, ctx context.Context, df *flint.DataFrame) []string {
	t.Helper()
	batches, err := df.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	return batchRows(batches)
}

// TestWriteRoundTrip writes TPC-H lineitem in each format, from several
// tasks, and reads it back: every source row, exactly once.
func TestWriteRoundTrip(t *testing.T) {
	schema, want := pqRows(t, filepath.Join(sampleDir, "lineitem.parquet"))
	var defs []string
	for _, f := range schema.Fields() {
		defs = append(defs, f.Name+" "+map[arrow.Type]string{arrow.INT64: "BIGINT", arrow.INT32: "INTEGER", arrow.STRING: "VARCHAR",
			arrow.DATE32: "DATE", arrow.DECIMAL128: "DECIMAL(15,2)"}[f.Type.ID()])
	}
	schemaOpt := strings.Join(defs, ", ")

	t.Run("parquet-dataframe", func(t *testing.T) {
		s, ctx := writeSession(t)
		dir := filepath.Join(t.TempDir(), "out")
		res, err := s.Table("lineitem").Write().Option("row_group_size", "5000").Save(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		m := committed(t, dir)
		if res.Rows != int64(len(want)) || res.Files != int64(len(m.Files)) || res.Files < 3 || m.Rows != res.Rows {
			t.Errorf("result %+v, manifest %d files %d rows; want %d rows from several tasks", res, len(m.Files), m.Rows, len(want))
		}
		var got []string
		for _, p := range m.Paths(dir) {
			_, rows := pqRows(t, p)
			got = append(got, rows...)
		}
		sameRows(t, "parquet files", got, want)
		// And Flint reads the dataset back the same.
		sameRows(t, "read back", collectRows(t, ctx, s.ReadParquet(ctx, dir)), want)
	})
	for _, tc := range []struct{ format, opts string }{
		{"csv", ""},
		{"csv", ", DELIMITER '|', HEADER false, COMPRESSION gzip"},
		{"json", ", COMPRESSION zstd"},
	} {
		t.Run(tc.format+"-copy"+tc.opts, func(t *testing.T) {
			s, ctx := writeSession(t)
			dir := filepath.Join(t.TempDir(), "out")
			// DISTINCT over every column: the rows are unique, so nothing
			// changes, but they arrive through a hash exchange into 4 tasks.
			got := collectRows(t, ctx, s.SQL(ctx, fmt.Sprintf("COPY (SELECT DISTINCT * FROM lineitem) TO '%s' (FORMAT %s%s)", dir, tc.format, tc.opts)))
			m := committed(t, dir)
			if len(got) != 1 || got[0] != fmt.Sprintf("%d|%d|%d", len(want), len(m.Files), manifestBytes(m)) || len(m.Files) != 4 {
				t.Errorf("COPY returned %v; manifest lists %d files", got, len(m.Files))
			}
			opts := map[string]string{"schema": schemaOpt}
			if strings.Contains(tc.opts, "DELIMITER") {
				opts["delimiter"], opts["header"] = "|", "false"
			}
			var back []string
			for _, p := range m.Paths(dir) {
				var df *flint.DataFrame
				if tc.format == "csv" {
					df = s.ReadCSV(ctx, opts, p)
				} else {
					df = s.ReadJSON(ctx, opts, p)
				}
				back = append(back, collectRows(t, ctx, df)...)
			}
			sameRows(t, tc.format+" files", back, want)
		})
	}
}

func manifestBytes(m *connectors.Manifest) int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Bytes
	}
	return n
}

// TestWritePartitioned: key=value folders, NULL as
// __HIVE_DEFAULT_PARTITION__, the partition columns only in folder names.
func TestWritePartitioned(t *testing.T) {
	_, src := pqRows(t, filepath.Join(sampleDir, "orders.parquet"))
	// Expected: per (orderstatus, priority-or-NULL) folder, the rows of
	// the other columns. o_orderpriority is NULL where o_orderkey % 7 = 0.
	want := map[string][]string{}
	for _, r := range src {
		c := strings.Split(r, "|") // o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment
		var key int64
		fmt.Sscan(c[0], &key)
		prio := c[5]
		if key%7 == 0 {
			prio = connectors.HiveDefaultPartition
		}
		folder := "o_orderstatus=" + c[2] + "/prio=" + connectors.EscapePartitionValue(prio)
		rest := append(append([]string{}, c[:2]...), c[3], c[4], c[6], c[7], c[8])
		want[folder] = append(want[folder], strings.Join(rest, "|"))
	}
	s, ctx := writeSession(t)
	dir := filepath.Join(t.TempDir(), "orders")
	df := s.SQL(ctx, "SELECT o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, "+
		"CASE WHEN o_orderkey % 7 = 0 THEN NULL ELSE o_orderpriority END AS prio, o_clerk, o_shippriority, o_comment FROM orders")
	res, err := df.Write().PartitionBy("O_ORDERSTATUS", "prio").Save(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	m := committed(t, dir)
	if len(m.PartitionBy) != 2 || m.PartitionBy[0] != (connectors.PartitionColumn{Name: "o_orderstatus", Type: "VARCHAR"}) || m.PartitionBy[1].Name != "prio" {
		t.Errorf("manifest partition columns %+v", m.PartitionBy)
	}
	got := map[string][]string{}
	for _, f := range m.Files {
		folder := f.Path[:strings.LastIndex(f.Path, "/")]
		sch, rows := pqRows(t, filepath.Join(dir, f.Path))
		if sch.NumFields() != 7 {
			t.Fatalf("%s has columns %v; the partition columns must not be in the files", f.Path, sch)
		}
		if int64(len(rows)) != f.Rows {
			t.Errorf("%s: %d rows, manifest says %d", f.Path, len(rows), f.Rows)
		}
		got[folder] = append(got[folder], rows...)
	}
	if len(got) != len(want) {
		t.Fatalf("folders %d, want %d: %v", len(got), len(want), keys(got))
	}
	for folder, rows := range want {
		sameRows(t, folder, got[folder], rows)
	}
	if res.Rows != int64(len(src)) {
		t.Errorf("result %+v, want %d rows", res, len(src))
	}
	if _, ok := got["o_orderstatus=F/prio="+connectors.HiveDefaultPartition]; !ok {
		t.Errorf("no NULL folder among %v", keys(got))
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestWriteModes: COPY into a target with data fails by default,
// overwrite replaces it (old files go once the new manifest is in), and
// append keeps the old files next to the new ones.
func TestWriteModes(t *testing.T) {
	s, ctx := writeSession(t)
	dir := filepath.Join(t.TempDir(), "nations")
	copySQL := func(q, opts string) *flint.DataFrame {
		return s.SQL(ctx, fmt.Sprintf("CREATE EXTERNAL TABLE IF NOT EXISTS nation STORED AS PARQUET LOCATION '%s/nation.parquet'; COPY (%s) TO '%s' %s", sampleDir, q, dir, opts))
	}
	if rows := collectRows(t, ctx, copySQL("SELECT * FROM nation", "")); len(rows) != 1 || !strings.HasPrefix(rows[0], "25|1|") {
		t.Fatalf("first COPY: %v", rows)
	}
	first := committed(t, dir)

	df := copySQL("SELECT * FROM nation", "")
	if err := df.Err(); err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Fatalf("COPY onto a dataset: %v", err)
	}
	if m := committed(t, dir); !reflect.DeepEqual(m, first) {
		t.Error("a refused COPY changed the dataset")
	}

	if rows := collectRows(t, ctx, copySQL("SELECT * FROM nation WHERE n_regionkey = 1", "(APPEND)")); len(rows) != 1 || !strings.HasPrefix(rows[0], "5|1|") {
		t.Fatalf("append: %v", rows)
	}
	m := committed(t, dir)
	if len(m.Files) != 2 || m.Rows != 30 || !containsFile(m, first.Files[0].Path) {
		t.Errorf("after append: %+v", m)
	}

	if rows := collectRows(t, ctx, copySQL("SELECT n_name FROM nation WHERE n_nationkey < 3", "(MODE 'overwrite', FORMAT csv)")); len(rows) != 1 || !strings.HasPrefix(rows[0], "3|1|") {
		t.Fatalf("overwrite: %v", rows)
	}
	m = committed(t, dir) // the old Parquet files are gone
	if len(m.Files) != 1 || m.Format != connectors.CSV || m.Rows != 3 {
		t.Errorf("after overwrite: %+v", m)
	}
	sameRows(t, "overwritten dataset", collectRows(t, ctx, s.ReadCSV(ctx, nil, m.Paths(dir)[0])), []string{"ALGERIA", "ARGENTINA", "BRAZIL"})

	// DataFrame modes, and an append of another format is refused.
	if _, err := s.Table("nation").Write().Mode("append").Save(ctx, dir); err == nil || !strings.Contains(err.Error(), "cannot append parquet files to a csv dataset") {
		t.Errorf("append parquet to csv: %v", err)
	}
	if _, err := s.Table("nation").Write().Mode("sometimes").Save(ctx, dir); err == nil || !strings.Contains(err.Error(), "unknown write mode") {
		t.Errorf("bad mode: %v", err)
	}
}

func containsFile(m *connectors.Manifest, p string) bool {
	for _, f := range m.Files {
		if f.Path == p {
			return true
		}
	}
	return false
}

// TestWriteErrors: mistakes are reported before anything is written,
// naming what is wrong.
func TestWriteErrors(t *testing.T) {
	s, ctx := writeSession(t)
	dir := filepath.Join(t.TempDir(), "x")
	for _, tc := range []struct{ sql, want string }{
		{"COPY lineitem TO '" + dir + "' (PARTITION_BY (nope))", "PARTITION_BY column nope is not a column of the COPY query"},
		{"COPY lineitem TO '" + dir + "' (FORMAT orc)", "COPY FORMAT orc is not supported"},
		{"COPY lineitem TO '" + dir + "' (FORMAT csv, ROW_GROUP_SIZE 10)", "option row_group_size does not apply to csv"},
		{"COPY lineitem TO '" + dir + "' (MODE 'overwrite', APPEND)", "both"},
		{"COPY (SELECT l_orderkey, l_orderkey FROM lineitem) TO '" + dir + "'", "two columns are named l_orderkey"},
		{"COPY (SELECT l_orderkey FROM lineitem) TO '" + dir + "' (PARTITION_BY (l_orderkey))", "every column is a partition column"},
		{"COPY nothing TO '" + dir + "'", "nothing"},
	} {
		err := s.SQL(ctx, tc.sql).Err()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.sql, err, tc.want)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		entries, _ := os.ReadDir(dir)
		if len(entries) > 0 {
			t.Errorf("failed writes left %v", entries)
		}
	}
	// EXPLAIN COPY plans without writing.
	rows := collectRows(t, ctx, s.SQL(ctx, "EXPLAIN COPY lineitem TO '"+dir+"' (PARTITION_BY (l_shipmode))"))
	if !strings.Contains(strings.Join(rows, "\n"), `Write parquet to "`+filepath.ToSlash(dir)+`" mode=error partition_by=[l_shipmode]`) {
		t.Errorf("EXPLAIN COPY:\n%s", strings.Join(rows, "\n"))
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("EXPLAIN COPY wrote something")
	}
}
