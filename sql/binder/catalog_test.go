package binder

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/types"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	tInt   = arrow.PrimitiveTypes.Int64
	tMoney = types.Decimal(15, 2)
	tDate  = arrow.FixedWidthTypes.Date32
	tStr   = arrow.BinaryTypes.String
)

func fields(kv ...any) *arrow.Schema {
	var fs []arrow.Field
	for i := 0; i < len(kv); i += 2 {
		fs = append(fs, arrow.Field{Name: kv[i].(string), Type: kv[i+1].(arrow.DataType), Nullable: false})
	}
	return arrow.NewSchema(fs, nil)
}

// testCatalog is an in-memory catalog with the TPC-H tables, a small table
// t(a INTEGER, b VARCHAR, c DOUBLE, d DATE, e DECIMAL(5,2), f BOOLEAN,
// g BIGINT) with nullable columns, u(a INTEGER, x VARCHAR) and views.
type testCatalog struct {
	tables map[string]*plan.TableSource
	views  map[string]plan.Node
}

func (c *testCatalog) LookupTable(name string) (*plan.TableSource, plan.Node, bool) {
	n := strings.ToLower(name)
	if s, ok := c.tables[n]; ok {
		return s, nil, true
	}
	if v, ok := c.views[n]; ok {
		return nil, v, true
	}
	return nil, nil, false
}

func (c *testCatalog) TableNames() []string {
	var out []string
	for n := range c.tables {
		out = append(out, n)
	}
	for n := range c.views {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func newTestCatalog() *testCatalog {
	schemas := map[string]*arrow.Schema{
		"nation":   fields("n_nationkey", tInt, "n_name", tStr, "n_regionkey", tInt, "n_comment", tStr),
		"region":   fields("r_regionkey", tInt, "r_name", tStr, "r_comment", tStr),
		"part":     fields("p_partkey", tInt, "p_name", tStr, "p_mfgr", tStr, "p_brand", tStr, "p_type", tStr, "p_size", tInt, "p_container", tStr, "p_retailprice", tMoney, "p_comment", tStr),
		"supplier": fields("s_suppkey", tInt, "s_name", tStr, "s_address", tStr, "s_nationkey", tInt, "s_phone", tStr, "s_acctbal", tMoney, "s_comment", tStr),
		"partsupp": fields("ps_partkey", tInt, "ps_suppkey", tInt, "ps_availqty", tInt, "ps_supplycost", tMoney, "ps_comment", tStr),
		"customer": fields("c_custkey", tInt, "c_name", tStr, "c_address", tStr, "c_nationkey", tInt, "c_phone", tStr, "c_acctbal", tMoney, "c_mktsegment", tStr, "c_comment", tStr),
		"orders":   fields("o_orderkey", tInt, "o_custkey", tInt, "o_orderstatus", tStr, "o_totalprice", tMoney, "o_orderdate", tDate, "o_orderpriority", tStr, "o_clerk", tStr, "o_shippriority", tInt, "o_comment", tStr),
		"lineitem": fields("l_orderkey", tInt, "l_partkey", tInt, "l_suppkey", tInt, "l_linenumber", tInt, "l_quantity", tMoney, "l_extendedprice", tMoney, "l_discount", tMoney, "l_tax", tMoney, "l_returnflag", tStr, "l_linestatus", tStr, "l_shipdate", tDate, "l_commitdate", tDate, "l_receiptdate", tDate, "l_shipinstruct", tStr, "l_shipmode", tStr, "l_comment", tStr),
	}
	nullable := func(fs ...arrow.Field) *arrow.Schema {
		for i := range fs {
			fs[i].Nullable = true
		}
		return arrow.NewSchema(fs, nil)
	}
	schemas["t"] = nullable(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32},
		arrow.Field{Name: "b", Type: tStr},
		arrow.Field{Name: "c", Type: arrow.PrimitiveTypes.Float64},
		arrow.Field{Name: "d", Type: tDate},
		arrow.Field{Name: "e", Type: types.Decimal(5, 2)},
		arrow.Field{Name: "f", Type: arrow.FixedWidthTypes.Boolean},
		arrow.Field{Name: "g", Type: tInt},
	)
	schemas["u"] = nullable(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32},
		arrow.Field{Name: "x", Type: tStr},
	)
	c := &testCatalog{tables: map[string]*plan.TableSource{}, views: map[string]plan.Node{}}
	for n, s := range schemas {
		c.tables[n] = &plan.TableSource{Name: n, Format: "parquet", Location: "/data/" + n + ".parquet", Schema: s, RowCount: -1}
	}
	return c
}

// bindSQL parses and binds one query with a fresh catalog and ID generator.
func bindSQL(t *testing.T, sql string) plan.Node {
	t.Helper()
	n, err := tryBind(newTestCatalog(), &plan.IDGen{}, sql)
	if err != nil {
		t.Fatalf("bind %q: %v", sql, err)
	}
	return n
}

func tryBind(cat Catalog, ids *plan.IDGen, sql string) (plan.Node, error) {
	q, err := parser.ParseQuery(sql)
	if err != nil {
		return nil, err
	}
	return New(cat, ids).BindQuery(sql, q)
}

func bindErr(t *testing.T, sql string) *Error {
	t.Helper()
	_, err := tryBind(newTestCatalog(), &plan.IDGen{}, sql)
	if err == nil {
		t.Fatalf("bind %q: expected an error", sql)
	}
	be, ok := err.(*Error)
	if !ok {
		t.Fatalf("bind %q: error %T %v is not a *binder.Error", sql, err, err)
	}
	return be
}

func readQuery(t *testing.T, n int) string {
	t.Helper()
	b, err := os.ReadFile(tpchPath(n))
	if err != nil {
		t.Fatalf("TPC-H query text (committed under tpch/queries): %v", err)
	}
	return strings.TrimRight(strings.TrimSpace(string(b)), ";")
}
