package optimizer

import (
	"strings"
	"testing"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/sql/parser"
)

func bindSQL(t *testing.T, sql string, ids *plan.IDGen) plan.Node {
	t.Helper()
	stmt, err := parser.ParseOne(sql)
	if err != nil {
		t.Fatalf("parse %q: %v", sql, err)
	}
	q, ok := stmt.(*ast.Query)
	if !ok {
		t.Fatalf("%q is not a query", sql)
	}
	p, err := binder.New(tpchCatalog{t}, ids).BindQuery(sql, q)
	if err != nil {
		t.Fatalf("bind %q: %v", sql, err)
	}
	return p
}

// TestSQLShapes optimizes binder output for shapes beyond TPC-H and checks
// the plan text for what must (and must not) be there.
func TestSQLShapes(t *testing.T) {
	tests := []struct {
		name     string
		sql      string
		want     []string // substrings of the optimized plan
		wantNot  []string
		errMatch string
	}{
		{
			name: "scalar count subquery in select (count bug)",
			sql:  "select c_custkey, (select count(*) from orders where o_custkey = c_custkey) as n from customer",
			want: []string{"Join Left on", "CASE WHEN", "THEN 0 ELSE"},
		},
		{
			name:    "correlated IN",
			sql:     "select o_orderkey from orders where o_custkey in (select c_custkey from customer where c_nationkey = o_orderkey)",
			want:    []string{"Join Semi on"},
			wantNot: []string{"subquery>", "Cross"}, // plan.Subquery prints as (... IN (<subquery>))
		},
		{
			name: "left join anti pattern keeps IS NULL above",
			sql:  "select c_custkey from customer left join orders on c_custkey = o_custkey where o_orderkey is null",
			// orders is bigger: the join is flipped to RIGHT to build on customer.
			want:    []string{"Filter (o_orderkey#", "Join Right on", "Scan customer"},
			wantNot: []string{"Join Inner", "Join Left"},
		},
		{
			name:    "left join with null-rejecting where becomes inner",
			sql:     "select c_custkey from customer left join orders on c_custkey = o_custkey where o_totalprice > 10",
			want:    []string{"Join Inner on"},
			wantNot: []string{"Join Left"},
		},
		{
			name: "filter through union all",
			sql:  "select k from (select n_nationkey as k from nation union all select r_regionkey as k from region) t where k < 3",
			want: []string{"Scan nation [n_nationkey] filters=", "Scan region [r_regionkey] filters="},
		},
		{
			name:    "filter on window partition column goes below the window",
			sql:     "select * from (select n_regionkey, row_number() over (partition by n_regionkey order by n_name) as rn from nation) t where n_regionkey = 1",
			want:    []string{"Scan nation [n_name, n_regionkey] filters=[(n_regionkey#"},
			wantNot: []string{"n_comment"},
		},
		{
			name: "filter on window result stays above",
			sql:  "select * from (select n_name, row_number() over (order by n_name) as rn from nation) t where rn <= 3",
			// The Filter sits right above the Window, and nothing of it
			// reaches the scan.
			want:    []string{"<= 3)\n    Window row_number("},
			wantNot: []string{"filters="},
		},
		{
			name:    "exists under or becomes a mark join",
			sql:     "select o_orderkey from orders where o_orderstatus = 'F' or exists (select * from lineitem where l_orderkey = o_orderkey)",
			want:    []string{"Join Mark on (l_orderkey#", "mark TRUE -> mark#", "Filter ((o_orderstatus#"},
			wantNot: []string{"Join Semi"},
		},
		{
			name:    "in in the select list becomes a mark join",
			sql:     "select c_custkey, c_custkey in (select o_custkey from orders where o_totalprice > 100) as big from customer",
			want:    []string{"Join Mark mark (c_custkey#", "-> mark#", "Scan orders [o_custkey, o_totalprice] filters="},
			wantNot: []string{"Join Semi", "Join Left"},
		},
		{
			name:    "quantified comparison becomes an aggregate",
			sql:     "select p_partkey from part where p_retailprice > all (select ps_supplycost from partsupp where ps_partkey = p_partkey)",
			want:    []string{"Aggregate group=[ps_partkey#", "count(*), count(ps_supplycost#", "max(ps_supplycost#", "NOT CASE WHEN"},
			wantNot: []string{"Join Mark"},
		},
		{
			name: "correlated scalar subquery without aggregate checks for one row per key",
			sql:  "select o_orderkey from orders where o_orderstatus = 'F' or 1 = (select l_linenumber from lineitem where l_orderkey = o_orderkey)",
			want: []string{"single_row_value(count_star()#", "Aggregate group=[o_orderkey#", "Join Left on (o_orderkey#"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := &plan.IDGen{}
			p := bindSQL(t, tc.sql, ids)
			out, _, err := OptimizeTrace(p, ids)
			if tc.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMatch) {
					t.Fatalf("want error containing %q, got %v", tc.errMatch, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("optimize: %v\n%s", err, plan.Format(p))
			}
			if !sameSchemaTypes(out.Schema(), p.Schema()) {
				t.Errorf("schema changed: %s -> %s", p.Schema(), out.Schema())
			}
			s := plan.Format(out)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("want %q in\n%s", w, s)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(s, w) {
					t.Errorf("do not want %q in\n%s", w, s)
				}
			}
		})
	}
}
