package binder

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/types"
)

func tpchPath(n int) string { return fmt.Sprintf("../../tpch/queries/q%02d.sql", n) }

// Output columns from the TPC-H specification (2.4.x.1 query texts). Q18's
// sum(l_quantity) is aliased sum_qty in tpch/queries/q18.sql.
var tpchColumns = map[int][]string{
	1:  {"l_returnflag", "l_linestatus", "sum_qty", "sum_base_price", "sum_disc_price", "sum_charge", "avg_qty", "avg_price", "avg_disc", "count_order"},
	2:  {"s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone", "s_comment"},
	3:  {"l_orderkey", "revenue", "o_orderdate", "o_shippriority"},
	4:  {"o_orderpriority", "order_count"},
	5:  {"n_name", "revenue"},
	6:  {"revenue"},
	7:  {"supp_nation", "cust_nation", "l_year", "revenue"},
	8:  {"o_year", "mkt_share"},
	9:  {"nation", "o_year", "sum_profit"},
	10: {"c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment"},
	11: {"ps_partkey", "value"},
	12: {"l_shipmode", "high_line_count", "low_line_count"},
	13: {"c_count", "custdist"},
	14: {"promo_revenue"},
	15: {"s_suppkey", "s_name", "s_address", "s_phone", "total_revenue"},
	16: {"p_brand", "p_type", "p_size", "supplier_cnt"},
	17: {"avg_yearly"},
	18: {"c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "sum_qty"},
	19: {"revenue"},
	20: {"s_name", "s_address"},
	21: {"s_name", "numwait"},
	22: {"cntrycode", "numcust", "totacctbal"},
}

func TestTPCH(t *testing.T) {
	for i := 1; i <= 22; i++ {
		t.Run(fmt.Sprintf("Q%02d", i), func(t *testing.T) {
			sql := readQuery(t, i)
			n := bindSQL(t, sql)
			checkPlan(t, n)
			if got := names(n); !reflect.DeepEqual(got, tpchColumns[i]) {
				t.Errorf("output columns %v, want %v", got, tpchColumns[i])
			}
			if testing.Verbose() {
				t.Logf("\n%s", plan.Format(n))
			}
		})
	}
}

func TestTPCHTypes(t *testing.T) {
	dec := types.Decimal
	f64, i64 := arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64
	// Q1: sum(decimal(15,2)) is decimal(38,2); l_extendedprice*(1-l_discount)
	// is (15,2)*(16,2) = (31,4), its sum (38,4); times (1+l_tax) (31,4)*(16,2)
	// = (38,6) hence sum (38,6); avg is DOUBLE, count BIGINT.
	want := []arrow.DataType{tStr, tStr, dec(38, 2), dec(38, 2), dec(38, 4), dec(38, 6), f64, f64, f64, i64}
	n := bindSQL(t, readQuery(t, 1))
	for i, c := range n.Schema() {
		if !typeIs(c.Type, want[i]) {
			t.Errorf("Q1 column %s: type %v, want %v", c.Name, c.Type, want[i])
		}
	}
	// Q7's l_year is extract(year ...) → BIGINT.
	n = bindSQL(t, readQuery(t, 7))
	if got := n.Schema()[2].Type; !typeIs(got, i64) {
		t.Errorf("Q7 l_year type %v, want BIGINT", got)
	}
}

// Q15 references its CTE twice: both copies must have their own IDs.
func TestTPCHQ15CTEClonedTwice(t *testing.T) {
	n := bindSQL(t, readQuery(t, 15))
	var scans []*plan.Scan
	var collect func(n plan.Node)
	collect = func(n plan.Node) {
		plan.WalkPlan(n, func(x plan.Node) bool {
			if s, ok := x.(*plan.Scan); ok && s.Source.Name == "lineitem" {
				scans = append(scans, s)
			}
			for _, e := range x.Exprs() {
				plan.WalkExpr(e, func(y plan.Expr) bool {
					if sq, ok := y.(*plan.Subquery); ok {
						collect(sq.Plan)
					}
					return true
				})
			}
			return true
		})
	}
	collect(n)
	if len(scans) != 2 {
		t.Fatalf("want 2 lineitem scans (CTE used twice), got %d", len(scans))
	}
	if scans[0].Out[0].ID == scans[1].Out[0].ID {
		t.Errorf("both CTE copies share column ID %d", scans[0].Out[0].ID)
	}
	checkPlan(t, n)
}
