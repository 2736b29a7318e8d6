package binder

import (
	"reflect"
	"strings"
	"testing"

	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

func bindCopy(t *testing.T, sql string) (*Copy, error) {
	t.Helper()
	st, err := parser.ParseOne(sql)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := st.(*ast.Copy)
	if !ok {
		t.Fatalf("%s: not a COPY", sql)
	}
	return New(newTestCatalog(), nil).BindCopy(sql, c)
}

func TestBindCopy(t *testing.T) {
	for _, tc := range []struct {
		sql                  string
		format, mode, partBy string
		opts                 map[string]string
	}{
		{"COPY t TO '/x/out'", "parquet", "error", "", nil},
		{"COPY t TO 's3://b/out.csv.gz'", "csv", "error", "", nil},
		{"COPY t TO '/x/out.ndjson' (OVERWRITE)", "json", "overwrite", "", nil},
		{"COPY (SELECT a, b AS Bee FROM t) TO '/x' (FORMAT 'JSONL', PARTITION_BY (BEE), APPEND true, compression zstd)", "json", "append", "bee", map[string]string{"compression": "zstd"}},
		{"COPY t TO '/x' (FORMAT csv, MODE errorifexists, OVERWRITE false, HEADER false, DELIMITER '|')", "csv", "error", "", map[string]string{"header": "false", "delimiter": "|"}},
		{"COPY t TO '/x' WITH (PARTITION BY (A, b), FORMAT parquet)", "parquet", "error", "a,b", nil},
	} {
		c, err := bindCopy(t, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if c.Format != tc.format || c.Mode != tc.mode || strings.Join(c.PartitionBy, ",") != tc.partBy || !reflect.DeepEqual(c.Options, tc.opts) {
			t.Errorf("%s: format %s mode %s partition %v options %v", tc.sql, c.Format, c.Mode, c.PartitionBy, c.Options)
		}
	}
	for _, tc := range []struct{ sql, want string }{
		{"COPY t TO '/x' (FORMAT avro)", "COPY FORMAT avro is not supported"},
		{"COPY t TO '/x' (MODE merge)", "COPY MODE merge is not supported"},
		{"COPY t TO '/x' (OVERWRITE, APPEND)", "both"},
		{"COPY t TO '/x' (OVERWRITE maybe)", "want true or false"},
		{"COPY t TO '/x' (PARTITION_BY (zz))", "PARTITION_BY column zz is not a column of the COPY query (a, b, c, d, e, f, g)"},
		{"COPY (SELECT a, a FROM t) TO '/x' (PARTITION_BY (a))", "ambiguous"},
		{"COPY nope TO '/x'", "nope"},
	} {
		_, err := bindCopy(t, tc.sql)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.sql, err, tc.want)
		}
	}
}
