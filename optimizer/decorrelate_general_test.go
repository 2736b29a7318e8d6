package optimizer

import (
	"strings"
	"testing"

	"github.com/flint-engine/flint/plan"
)

// TestDecorrelateGeneral optimizes the correlated subqueries the fast
// paths reject and checks that the general rewrite produced the plan: the
// domain of the outer values (an Aggregate grouping a scan of the outer
// table by the correlated columns, with no aggregates) joined into the
// subquery, and the outer input joined back on those columns.
func TestDecorrelateGeneral(t *testing.T) {
	tests := []struct {
		name    string
		sql     string
		want    []string
		wantNot []string
	}{
		{
			name: "non-equality next to an equality under an aggregate",
			sql:  "select c_custkey, (select max(o_totalprice) from orders o where o.o_custkey = c.c_custkey and o.o_totalprice > c.c_acctbal) from customer c",
			want: []string{
				// The correlation predicates join orders with the domain:
				// a hash join on the equality, the rest its residual.
				"Join Inner on ((o_custkey#10 = c_custkey#", "(o_totalprice#12 > c_acctbal#",
				"aggs=[] -> [c_custkey#", "aggs=[max(o_totalprice#12)]",
				"Join Left on ((c_custkey#1 = c_custkey#",
			},
		},
		{
			// The domain of outer values is drawn from the WHERE's other
			// conjuncts applied first: a comma join's predicates make it
			// a join, not the cross product of the FROM list.
			name:    "domain over a filtered comma join",
			sql:     "select o_orderkey from orders o, customer c where o.o_custkey = c.c_custkey and c.c_acctbal > (select avg(l_quantity) from lineitem l where l.l_orderkey = o.o_orderkey and l.l_quantity < c.c_acctbal)",
			want:    []string{"aggs=[avg(l_quantity#"},
			wantNot: []string{"Join Cross"},
		},
		{
			name: "count over a non-equality only (count bug)",
			sql:  "select c_custkey, (select count(*) from orders o where o.o_totalprice > c.c_acctbal) from customer c",
			want: []string{
				"Join Inner on (o_totalprice#12 > c_acctbal#",
				// The grouped count is Left-joined to the domain: a value
				// without orders counts 0.
				"CASE WHEN (count_star()#", "IS NULL) THEN 0 ELSE count_star()#",
				"Aggregate group=[c_acctbal#", "Join Left on (c_acctbal#6 = c_acctbal#",
			},
		},
		{
			name: "avg of a <> correlation in WHERE",
			sql:  "select c_custkey from customer c where c_acctbal > (select avg(o_totalprice) / 100 from orders o where o.o_orderdate > date '1995-01-01' and o.o_custkey <> c.c_custkey)",
			// The comparison with the subquery's value rejects NULL: the
			// Left join became inner.
			want: []string{"(o_custkey#10 <> c_custkey#", "aggs=[avg(o_totalprice#12)]", "Join Inner on ((c_custkey#1 = c_custkey#"},
		},
		{
			name: "ORDER BY ... LIMIT 1",
			sql:  "select c_custkey, (select o_totalprice from orders o where o.o_custkey = c.c_custkey order by o_totalprice desc limit 1) from customer c",
			want: []string{
				"Window row_number([]) OVER (partition=[c_custkey#", "order=o_totalprice#", "(row_number()#", "<= 1)",
				"Join Inner on (o_custkey#10 = c_custkey#",
			},
			// LIMIT 1 gives one row per key: no check needed.
			wantNot: []string{"single_row_value"},
		},
		{
			name: "LIMIT with OFFSET",
			sql:  "select c_custkey, (select o_totalprice from orders o where o.o_custkey = c.c_custkey order by o_totalprice limit 1 offset 2) from customer c",
			want: []string{"Window row_number([]) OVER (partition=[c_custkey#", "(row_number()#", "> 2)", "<= 3)"},
		},
		{
			name: "scalar subquery without an aggregate",
			sql:  "select c_custkey, (select o_totalprice from orders o where o.o_custkey = c.c_custkey and o.o_totalprice > c.c_acctbal) from customer c",
			want: []string{"single_row_value(count_star()#", "first(o_totalprice)#", "Aggregate group=[c_custkey#"},
		},
		{
			name: "correlation inside the null-supplying side of an outer join",
			sql: "select c_custkey, (select count(s_suppkey) from nation n left join (select * from supplier s where s.s_acctbal > c.c_acctbal) s " +
				"on s.s_nationkey = n.n_nationkey) from customer c",
			// Both sides see the domain (nation once per outer value) and
			// are joined on it as well.
			want: []string{"Join Right on ((s_nationkey#23 = n_nationkey#9) AND (c_acctbal#", "Join Inner on (s_acctbal#18 > c_acctbal#", "Join Cross"},
		},
		{
			name: "outer column in the SELECT list of the subquery",
			sql:  "select c_custkey, (select max(o_totalprice) + c.c_acctbal from orders o where o.o_custkey = c.c_custkey) from customer c",
			want: []string{"(max(o_totalprice)#", "+ c_acctbal#", "Join Left on ((c_custkey#1 = c_custkey#"},
		},
		{
			name: "HAVING over a correlated global aggregate that keeps the empty group",
			sql:  "select c_custkey, (select count(*) from orders o where o.o_custkey = c.c_custkey having count(*) < 2) from customer c",
			want: []string{"Filter (CASE WHEN (count_star()#", "IS NULL) THEN 0 ELSE count_star()#", "< 2)", "Join Left on (c_custkey#"},
		},
		{
			name:    "EXISTS over an aggregate with HAVING and a non-equality",
			sql:     "select c_custkey from customer c where not exists (select count(*) from orders o where o.o_totalprice > c.c_acctbal * 20 having count(*) > 3)",
			want:    []string{"Join Anti on (c_acctbal#6 = c_acctbal#", "Filter (CASE WHEN (count_star()#", "> 3)"},
			wantNot: []string{"Join Semi"},
		},
		{
			name: "IN over a grouped subquery with a non-equality",
			sql:  "select c_custkey from customer c where c_custkey in (select o_custkey from orders o where o.o_totalprice > c.c_acctbal group by o_custkey having count(*) > 1)",
			want: []string{"Join Semi on (", "(c_custkey#1 = o_custkey#", "Aggregate group=[c_acctbal#", "o_custkey#"},
		},
		{
			name: "IN in the SELECT list over a correlated LIMIT",
			sql:  "select c_custkey, c_nationkey in (select o_orderkey from orders o where o.o_totalprice > c.c_acctbal * 20 limit 5) from customer c",
			want: []string{"Join Mark on (c_acctbal#6 = c_acctbal#", "mark (c_nationkey#4 = o_orderkey#", "Window row_number([]) OVER (partition=[c_acctbal#"},
		},
		{
			name: "nested: LIMIT reading only the outermost query",
			sql: "select c_custkey, (select count(*) from orders o where o.o_custkey = c.c_custkey and o.o_orderkey not in " +
				"(select l_partkey from lineitem l where l.l_quantity > c.c_acctbal order by l_partkey limit 50)) from customer c",
			// The middle level has no outer values of its own to take (a
			// one-row domain); the outer level partitions the LIMIT by
			// customer.
			want: []string{"Values rows=1", "Window row_number([]) OVER (partition=[c_", "order=l_partkey#"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := &plan.IDGen{}
			p := bindSQL(t, tc.sql, ids)
			out, trace, err := OptimizeTrace(p, ids)
			if err != nil {
				t.Fatal(err)
			}
			if !fired(trace, "decorrelate_subqueries") || hasSubqueryAnywhere(out) {
				t.Fatalf("not decorrelated (trace %v):\n%s", trace, plan.Format(out))
			}
			s := plan.Format(out)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("want %q in:\n%s", w, s)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(s, w) {
					t.Errorf("do not want %q in:\n%s", w, s)
				}
			}
		})
	}
}
