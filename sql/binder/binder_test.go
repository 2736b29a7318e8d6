package binder

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
	"github.com/flint-engine/flint/types"
)

var (
	i32 = arrow.PrimitiveTypes.Int32
	i64 = arrow.PrimitiveTypes.Int64
	f64 = arrow.PrimitiveTypes.Float64
	bl  = arrow.FixedWidthTypes.Boolean
)

func dec(p, s int32) arrow.DataType { return types.Decimal(p, s) }

// days is the day number of a civil date, computed by a plain loop (not by
// the code under test).
func days(y, m, d int) arrow.Date32 {
	n := 0
	for yy := 1970; yy < y; yy++ {
		n += 365
		if yy%4 == 0 && (yy%100 != 0 || yy%400 == 0) {
			n++
		}
	}
	ml := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		ml[1] = 29
	}
	for mm := 1; mm < m; mm++ {
		n += ml[mm-1]
	}
	return arrow.Date32(n + d - 1)
}

func TestOutputNamesAndTypes(t *testing.T) {
	cases := []struct {
		sql   string
		names []string
		types []arrow.DataType
	}{
		{"select a, b as bee, a + 1, count(*), sum(a), t.c from t group by a, b, c",
			[]string{"a", "bee", "a + 1", "count_star()", "sum(a)", "c"},
			[]arrow.DataType{i32, tStr, i64, i64, i64, f64}},
		{"select 1, 3000000000, 1.50, 1e3, 'x', true, -5",
			[]string{"1", "3000000000", "1.50", "1e3", "'x'", "TRUE", "-5"},
			[]arrow.DataType{i32, i64, dec(3, 2), f64, tStr, bl, i32}},
		{"select * from u", []string{"a", "x"}, []arrow.DataType{i32, tStr}},
		{"select count() from u", []string{"count_star()"}, []arrow.DataType{i64}},
		{"select current_date, current_timestamp", []string{"CURRENT_DATE", "CURRENT_TIMESTAMP"}, []arrow.DataType{tDate, &arrow.TimestampType{Unit: arrow.Microsecond}}},
		{"select u.*, t.a as ta from t, u", []string{"a", "x", "ta"}, []arrow.DataType{i32, tStr, i32}},
		{"select * from (values (1, 'a'), (2, null)) v(x, y)", []string{"x", "y"}, []arrow.DataType{i32, tStr}},
		{"values (1, 2.5), (3000000000, 1)", []string{"col0", "col1"}, []arrow.DataType{i64, dec(11, 1)}},
		{"select avg(e), min(b), max(d), stddev(c), bool_or(f), count(distinct a) from t",
			[]string{"avg(e)", "min(b)", "max(d)", "stddev(c)", "bool_or(f)", "count(DISTINCT a)"},
			[]arrow.DataType{f64, tStr, tDate, f64, bl, i64}},
		{"select e * 2, e + 1, e / 2, a / 2, a % 2 from t",
			// (5,2)*(10,0) = (15,2); (5,2)+(10,0): s=2, p=max(3,10)+2+1 = 13;
			// "/" is always DOUBLE; int % int is BIGINT.
			[]string{"e * 2", "e + 1", "e / 2", "a / 2", "a % 2"},
			[]arrow.DataType{dec(15, 2), dec(13, 2), f64, f64, i64}},
		{"select a as x from t order by x desc limit 5 offset 2", []string{"x"}, []arrow.DataType{i32}},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			n := bindSQL(t, c.sql)
			checkPlan(t, n)
			if got := names(n); !reflect.DeepEqual(got, c.names) {
				t.Errorf("names %q, want %q", got, c.names)
			}
			for i, col := range n.Schema() {
				if i < len(c.types) && !typeIs(col.Type, c.types[i]) {
					t.Errorf("column %s: type %v, want %v", col.Name, col.Type, c.types[i])
				}
			}
		})
	}
}

// The literal side of a comparison is converted to the column's type when
// the value fits exactly, so no per-row cast of the column is needed.
func TestLiteralCastNotColumn(t *testing.T) {
	cases := []struct {
		sql     string
		wantTyp arrow.DataType
		want    any // literal value on the right
	}{
		// 24 at scale 2 is the unscaled 2400.
		{"select * from lineitem where l_quantity < 24", tMoney, decimal128.FromI64(2400)},
		{"select * from lineitem where l_discount >= 0.06 - 0.01", tMoney, decimal128.FromI64(5)},
		{"select * from lineitem where l_discount <= 0.06 + 0.01", tMoney, decimal128.FromI64(7)},
		{"select * from lineitem where l_shipdate <= date '1998-12-01' - interval '90' day", tDate, days(1998, 9, 2)},
		{"select * from orders where o_orderdate < date '1993-07-01' + interval '3' month", tDate, days(1993, 10, 1)},
		{"select * from orders where o_orderdate < date '1994-01-01' + interval '1' year", tDate, days(1995, 1, 1)},
		{"select * from orders where o_orderdate < '1995-03-15'", tDate, days(1995, 3, 15)},
		{"select * from t where d < date '2024-01-31' + interval '1' month", tDate, days(2024, 2, 29)},
		{"select * from t where g > 1", i64, int64(1)},
		{"select * from t where a = 7", i32, int64(7)},
		{"select * from t where e = 1", dec(5, 2), decimal128.FromI64(100)},
		{"select * from t where c > 2", f64, float64(2)},
		{"select * from t where a > '12'", i32, int64(12)},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			n := bindSQL(t, c.sql)
			cond := whereCond(t, n)
			bin, ok := cond.(*plan.Binary)
			if !ok {
				t.Fatalf("condition %s is not a comparison", cond)
			}
			if _, ok := bin.L.(*plan.ColRef); !ok {
				t.Errorf("left side %s should be the bare column (no cast)", bin.L)
			}
			l, ok := bin.R.(*plan.Literal)
			if !ok {
				t.Fatalf("right side %s is not a literal", bin.R)
			}
			if !typeIs(l.Typ, c.wantTyp) || l.Value != c.want {
				t.Errorf("literal %v (%T, %v), want %v (%T, %v)", l.Value, l.Value, l.Typ, c.want, c.want, c.wantTyp)
			}
		})
	}
}

// When the literal does not fit the column's type, the column is widened.
func TestColumnCastWhenLiteralDoesNotFit(t *testing.T) {
	cases := []struct {
		sql    string
		castTo arrow.DataType
	}{
		{"select * from t where a < 3000000000", i64},
		{"select * from t where a = 2.5", dec(11, 1)},
		{"select * from t where e < 999.999", dec(6, 3)},
		{"select * from t where a = g", i64},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			bin := whereCond(t, bindSQL(t, c.sql)).(*plan.Binary)
			cast, ok := bin.L.(*plan.Cast)
			if !ok || !typeIs(cast.To, c.castTo) {
				t.Fatalf("left side %s, want CAST(col AS %v)", bin.L, c.castTo)
			}
			if !typeIs(bin.R.Type(), c.castTo) {
				t.Errorf("right side type %v, want %v", bin.R.Type(), c.castTo)
			}
		})
	}
}

func TestBetweenAndInList(t *testing.T) {
	n := bindSQL(t, "select * from lineitem where l_discount between 0.05 and 0.07")
	if got := shape(n); !strings.Contains(got, "Filter ((l_discount >= 0.05) AND (l_discount <= 0.07))") {
		t.Errorf("BETWEEN:\n%s", got)
	}
	n = bindSQL(t, "select * from t where a not between 1 and 2")
	mustContain(t, shape(n), "Filter ((a < 1) OR (a > 2))")

	in := whereCond(t, bindSQL(t, "select * from t where a in (1, 2, 3)")).(*plan.InList)
	if _, ok := in.E.(*plan.ColRef); !ok || len(in.List) != 3 || in.Negated {
		t.Fatalf("IN list: %s", in)
	}
	for i, l := range in.List {
		if !typeIs(l.Typ, i32) || l.Value != int64(i+1) {
			t.Errorf("item %d: %v %v", i, l.Value, l.Typ)
		}
	}
	in = whereCond(t, bindSQL(t, "select * from t where b not in ('x', null)")).(*plan.InList)
	if !in.Negated || in.List[1].Value != nil || !typeIs(in.List[1].Typ, tStr) {
		t.Errorf("NOT IN with NULL: %s %v", in, in.List[1].Typ)
	}
	// A literal that does not fit widens the operand.
	in = whereCond(t, bindSQL(t, "select * from t where a in (1, 3000000000)")).(*plan.InList)
	if c, ok := in.E.(*plan.Cast); !ok || !typeIs(c.To, i64) || !typeIs(in.List[0].Typ, i64) {
		t.Errorf("IN widening: %s", in)
	}
	// Non-constant members become ORs of equalities.
	mustContain(t, shape(bindSQL(t, "select * from t where a in (1, g)")),
		"Filter ((a = 1) OR (CAST(a AS int64) = g))")
	mustContain(t, shape(bindSQL(t, "select * from t where a not in (1, g)")),
		"Filter ((a <> 1) AND (CAST(a AS int64) <> g))")
}

func TestScalarExpressions(t *testing.T) {
	cases := []struct{ sql, want string }{
		{"select case a when 1 then 'one' when 2 then 'two' end from t", "CASE WHEN (a = 1) THEN 'one' WHEN (a = 2) THEN 'two' END"},
		{"select case when a > 1 then e else 0 end from t", "CASE WHEN (a > 1) THEN CAST(e AS decimal(12, 2)) ELSE 0.00 END"},
		{"select coalesce(a, g) from t", "coalesce(CAST(a AS int64), g)"},
		{"select b || 'x' from t", "concat_op(b, 'x')"},
		{"select substring(b from 2 for 3) from t", "substring(b, 2, 3)"},
		{"select substring(b, 2) from t", "substring(b, 2)"},
		{"select trim(leading 'x' from b), trim(b) from t", "ltrim(b, 'x')"},
		{"select position('a' in b) from t", "strpos(b, 'a')"},
		{"select extract(year from d) from t", "extract('year', d)"},
		{"select cast(a as varchar), a::bigint, cast('2020-01-02' as date) from t", "CAST(a AS utf8)"},
		{"select b like 'a!%%' escape '!' from t", "(b LIKE 'a!%%')"},
		{"select b not ilike 'A%' from t", "(b NOT ILIKE 'A%')"},
		{"select f is true, f is not false from t", "((f IS NOT NULL) AND f)"},
		{"select a is distinct from g from t", "(CAST(a AS int64) IS DISTINCT FROM g)"},
		{"select -a, -(-5), 2 * 3 + 1, 7 - 10 from t", "(-a)"},
		{"select date '1998-12-01' - interval '90' day", "TIMESTAMP '1998-09-02 00:00:00'"},
		{"select 0.1 + 0.2", "0.3"},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			mustContain(t, shape(bindSQL(t, c.sql)), c.want)
		})
	}
	// Folded literal arithmetic: 2*3+1 = 7 (BIGINT), 7-10 = -3, -(-5) = 5.
	p := find[*plan.Project](bindSQL(t, "select -(-5), 2 * 3 + 1, 7 - 10"))
	want := []any{int64(5), int64(7), int64(-3)}
	for i, w := range want {
		l, ok := p.Projections[i].(*plan.Literal)
		if !ok || l.Value != w {
			t.Errorf("projection %d = %s, want literal %v", i, p.Projections[i], w)
		}
	}
	// LIKE escape is recorded.
	like := find[*plan.Project](bindSQL(t, "select b like 'a!%%' escape '!' from t")).Projections[0].(*plan.Like)
	if like.Escape != '!' || like.Pattern != "a!%%" {
		t.Errorf("LIKE escape: %+v", like)
	}
}

func TestAggregation(t *testing.T) {
	// GROUP BY ordinal, alias and expression; SELECT expressions over group
	// keys match structurally.
	n := bindSQL(t, "select extract(year from d) as y, b as bee, a + 1, count(*) from t group by y, 2, a + 1 order by 1")
	checkPlan(t, n)
	agg := find[*plan.Aggregate](n)
	if len(agg.GroupBy) != 3 || len(agg.Aggs) != 1 || agg.Aggs[0].Func != "count_star" {
		t.Fatalf("aggregate: %s", agg)
	}
	mustContain(t, shape(n), "Aggregate group=[extract('year', d), b, (CAST(a AS int64) + 1)] aggs=[count(*)]")

	// A derived-table alias grouped by name (TPC-H Q7/Q8/Q9 shape).
	n = bindSQL(t, "select o_year, sum(v) from (select extract(year from d) as o_year, e as v from t) as s group by o_year")
	checkPlan(t, n)

	// Equal aggregates are computed once; HAVING and ORDER BY may use new ones.
	n = bindSQL(t, "select b, sum(a) from t group by b having sum(a) > 1 and count(*) > 2 order by max(c)")
	checkPlan(t, n)
	agg = find[*plan.Aggregate](n)
	var funcs []string
	for _, a := range agg.Aggs {
		funcs = append(funcs, a.Func)
	}
	if !reflect.DeepEqual(funcs, []string{"sum", "max", "count_star"}) && !reflect.DeepEqual(funcs, []string{"sum", "count_star", "max"}) {
		t.Errorf("aggs %v, want sum, count_star, max once each", funcs)
	}
	if !reflect.DeepEqual(names(n), []string{"b", "sum(a)"}) {
		t.Errorf("hidden ORDER BY column leaked: %v", names(n))
	}

	// DISTINCT and FILTER.
	agg = find[*plan.Aggregate](bindSQL(t, "select count(distinct a), sum(a) filter (where a > 1) from t"))
	if !agg.Aggs[0].Distinct || agg.Aggs[1].Filter == nil || agg.Aggs[1].Filter.String() == "" {
		t.Errorf("aggs: %s", agg)
	}
	// A filtered aggregate is its own call: count(*) FILTER in HAVING is
	// not the plain count(*) of the SELECT list, and equal filtered calls
	// are shared.
	n = bindSQL(t, "select b, count(*), count(distinct a) filter (where c > 0) from t group by b having count(*) filter (where a > 1) > 0 and count(distinct a) filter (where c > 0) > 1")
	checkPlan(t, n)
	agg = find[*plan.Aggregate](n)
	if len(agg.Aggs) != 3 || agg.Aggs[0].Filter != nil || agg.Aggs[1].Filter == nil || !agg.Aggs[1].Distinct || agg.Aggs[2].Filter == nil {
		t.Errorf("filtered aggregates: %s", agg)
	}
	mustContain(t, shape(n), "count(*) FILTER (WHERE (a > 1))")
	// Aggregate without GROUP BY, HAVING without GROUP BY.
	agg = find[*plan.Aggregate](bindSQL(t, "select 1 from t having count(*) > 0"))
	if len(agg.GroupBy) != 0 || len(agg.Aggs) != 1 {
		t.Errorf("HAVING without GROUP BY: %s", agg)
	}
	// GROUP BY ALL groups by the non-aggregate items.
	agg = find[*plan.Aggregate](bindSQL(t, "select a, b, sum(c) from t group by all"))
	if len(agg.GroupBy) != 2 {
		t.Errorf("GROUP BY ALL: %s", agg)
	}
	// SELECT DISTINCT is a group-only aggregate above the projection.
	n = bindSQL(t, "select distinct b, a from t")
	if agg, ok := n.(*plan.Aggregate); !ok || len(agg.GroupBy) != 2 || len(agg.Aggs) != 0 {
		t.Errorf("DISTINCT:\n%s", plan.Format(n))
	}
	// A subquery correlated on a group key refers to the group output.
	n = bindSQL(t, "select b, (select count(*) from u where u.x = t.b) from t group by b")
	checkPlan(t, n)
	agg = find[*plan.Aggregate](n)
	sq := find[*plan.Project](n).Projections[1].(*plan.Subquery)
	if !plan.ReferencedColumns(sq).Has(agg.Out[0].ID) {
		t.Errorf("correlated reference should use the group column %s:\n%s", agg.Out[0], plan.Format(sq.Plan))
	}
	// Uncorrelated subqueries are fine in an aggregating SELECT/HAVING.
	checkPlan(t, bindSQL(t, "select b, (select count(*) from u) from t group by b having sum(a) > (select max(a) from u)"))
	// Outer references are constants inside an aggregating subquery.
	checkPlan(t, bindSQL(t, "select a from t where c > (select avg(u.a) + t.a from u where u.x = t.b)"))
}

func TestGroupingSets(t *testing.T) {
	// ROLLUP(a, b): a UNION ALL of three aggregates, each projected to the
	// keys (NULL for the rolled-up ones), the aggregates and grouping().
	n := bindSQL(t, "select a, b, sum(c), grouping(a, b) from t group by rollup(a, b) having sum(c) > 0 order by 4")
	checkPlan(t, n)
	u := find[*plan.Union](n)
	if len(u.Inputs) != 3 {
		t.Fatalf("ROLLUP(a, b) needs 3 grouping sets:\n%s", plan.Format(n))
	}
	var groups []int
	var consts []string
	for _, in := range u.Inputs {
		p := in.(*plan.Project)
		groups = append(groups, len(find[*plan.Aggregate](p).GroupBy))
		consts = append(consts, p.Projections[3].String())
		if len(p.Out) != len(u.Out) {
			t.Fatalf("branch schema %s, want %s", p.Out, u.Out)
		}
	}
	if !reflect.DeepEqual(groups, []int{2, 1, 0}) || strings.Join(consts, " ") != "0 1 3" {
		t.Errorf("sets %v, grouping() %v:\n%s", groups, consts, plan.Format(n))
	}
	if !u.Out[0].Nullable || !u.Out[1].Nullable || u.Out[3].Nullable {
		t.Errorf("rolled-up keys must be nullable, grouping() not: %s", u.Out)
	}
	mustContain(t, shape(n), "Project NULL AS a, NULL AS b, sum(c) AS sum(c), 3 AS grouping(a, b)")
	// The aggregates of other branches run over copies of the input.
	if scans := strings.Count(shape(n), "Scan t"); scans != 3 {
		t.Errorf("%d scans, want 3:\n%s", scans, plan.Format(n))
	}

	// CUBE, GROUPING SETS with (), and a plain key crossed with them.
	for _, c := range []struct {
		sql  string
		sets int
	}{
		{"select a, b, count(*) from t group by cube(a, b)", 4},
		{"select a, b, count(*) from t group by grouping sets ((a, b), (a), ())", 3},
		{"select a, b, c, count(*) from t group by a, rollup(b, c)", 3},
		{"select a, b, c, count(*) from t group by cube(a, b), rollup(c)", 8},
		{"select a, b, count(*) from t group by rollup((a, b))", 2},
		{"select a, count(*) from t group by grouping sets (a, a)", 2},
		{"select a as x, count(*), grouping(x) from t group by rollup(1)", 2},
	} {
		n := bindSQL(t, c.sql)
		checkPlan(t, n)
		if got := len(find[*plan.Union](n).Inputs); got != c.sets {
			t.Errorf("%s: %d sets, want %d", c.sql, got, c.sets)
		}
	}
	// One set holding every key is a plain aggregate; grouping() is 0.
	for _, q := range []string{"select a, grouping(a) from t group by grouping sets ((a))", "select count(*) from t group by ()", "select a, grouping(a) from t group by a"} {
		n := bindSQL(t, q)
		checkPlan(t, n)
		plan.WalkPlan(n, func(x plan.Node) bool {
			if _, ok := x.(*plan.Union); ok {
				t.Errorf("%s: no union expected:\n%s", q, plan.Format(n))
			}
			return true
		})
	}
}

func TestOrderBy(t *testing.T) {
	// Expression over a non-projected column: hidden column, sorted, dropped.
	n := bindSQL(t, "select a from t order by c desc nulls first")
	checkPlan(t, n)
	want := "Project a AS a\n  Sort __order0 DESC NULLS FIRST\n    Project a AS a, c AS __order0\n      Scan t [a, b, c, d, e, f, g]\n"
	if got := shape(n); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Alias, ordinal and an expression equal to a projection add nothing.
	n = bindSQL(t, "select a as x, a + 1 from t order by x, 2, a + 1 desc")
	s := find[*plan.Sort](n)
	if len(s.Keys) != 3 || len(find[*plan.Project](n).Projections) != 2 {
		t.Fatalf("\n%s", plan.Format(n))
	}
	if s.Keys[0].Desc || s.Keys[0].NullsFirst || !s.Keys[2].Desc || s.Keys[2].NullsFirst {
		t.Errorf("defaults: ASC NULLS LAST and DESC NULLS LAST expected: %v", s.Keys)
	}
	// LIMIT/OFFSET.
	n = bindSQL(t, "select a from t order by a limit 10 offset 5")
	l, ok := n.(*plan.Limit)
	if !ok || l.Count != 10 || l.Offset != 5 {
		t.Fatalf("limit:\n%s", plan.Format(n))
	}
	if l, ok := bindSQL(t, "select a from t offset 3").(*plan.Limit); !ok || l.Count != -1 || l.Offset != 3 {
		t.Errorf("offset only: %v", l)
	}
}

func TestJoins(t *testing.T) {
	n := bindSQL(t, "select * from t join u using (a)")
	checkPlan(t, n)
	if got := names(n); !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e", "f", "g", "x"}) {
		t.Errorf("USING columns: %v", got)
	}
	j := find[*plan.Join](n)
	if j.Type != plan.JoinInner || j.Cond == nil {
		t.Errorf("join: %s", j)
	}
	// u.a stays reachable qualified.
	checkPlan(t, bindSQL(t, "select u.a, t.a, a from t join u using (a)"))

	n = bindSQL(t, "select a, x from t full join u using (a)")
	checkPlan(t, n)
	mustContain(t, shape(n), "coalesce(a, a) AS a", "Join Full on (a = a)")

	n = bindSQL(t, "select * from t natural join u")
	if got := names(n); !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e", "f", "g", "x"}) {
		t.Errorf("NATURAL columns: %v", got)
	}
	// Outer joins make the other side nullable.
	n = bindSQL(t, "select o_orderkey, c_custkey from customer left join orders on c_custkey = o_custkey")
	if !n.Schema()[0].Nullable || n.Schema()[1].Nullable {
		t.Errorf("LEFT JOIN nullability: %v", n.Schema())
	}
	// Comma joins are cross joins with the predicate left in WHERE.
	n = bindSQL(t, "select * from t, u where t.a = u.a")
	if j := find[*plan.Join](n); j.Type != plan.JoinCross || j.Cond != nil {
		t.Errorf("comma join: %s", j)
	}
	for _, sql := range []string{
		"select * from t cross join u",
		"select * from t right join u on t.a = u.a",
		"select * from t join u on t.a = u.a join nation on n_nationkey = t.g",
		"select * from t join u using (a) join u as u2 using (a)",
		"select s.a from (select a from t) as s(a) join u on s.a = u.a",
	} {
		checkPlan(t, bindSQL(t, sql))
	}
}

func TestSetOperations(t *testing.T) {
	n := bindSQL(t, "select a from t union all select g from t")
	u, ok := n.(*plan.Union)
	if !ok || !typeIs(u.Out[0].Type, i64) || u.Out[0].Name != "a" {
		t.Fatalf("UNION ALL:\n%s", plan.Format(n))
	}
	if c, ok := u.Inputs[0].(*plan.Project).Projections[0].(*plan.Cast); !ok || !typeIs(c.To, i64) {
		t.Errorf("left side should be cast to BIGINT:\n%s", plan.Format(n))
	}
	n = bindSQL(t, "select a from t union select a from u order by 1 limit 3")
	checkPlan(t, n)
	mustContain(t, shape(n), "Limit offset=0 count=3\n  Sort a NULLS LAST\n    Aggregate group=[a] aggs=[] -> [a]\n      Union all")

	for _, c := range []struct{ sql, cond string }{
		{"select a from t intersect select a from u", "Filter ((__min_side = 0) AND (__max_side = 1))"},
		{"select a from t except select a from u", "Filter (__min_side = 1)"},
	} {
		n := bindSQL(t, c.sql)
		checkPlan(t, n)
		mustContain(t, shape(n), c.cond, "Aggregate group=[a] aggs=[min(__side), max(__side)]", "1 AS __side", "0 AS __side")
		if !reflect.DeepEqual(names(n), []string{"a"}) {
			t.Errorf("%s: names %v", c.sql, names(n))
		}
	}
	checkPlan(t, bindSQL(t, "(select a from t order by a limit 1) union all select a from u"))

	// INTERSECT ALL / EXCEPT ALL number the copies of each row per side and
	// group by the copy number too.
	for _, c := range []struct{ sql, cond string }{
		{"select a, b from t intersect all select a, x from u", "Filter ((__min_side = 0) AND (__max_side = 1))"},
		{"select a, b from t except all select a, x from u", "Filter (__min_side = 1)"},
	} {
		n := bindSQL(t, c.sql)
		checkPlan(t, n)
		mustContain(t, shape(n), c.cond, "Aggregate group=[a, b, __copy] aggs=[min(__side), max(__side)]",
			"Window row_number([]) OVER (partition=[a, b])", "1 AS __side", "0 AS __side")
		if !reflect.DeepEqual(names(n), []string{"a", "b"}) {
			t.Errorf("%s: names %v", c.sql, names(n))
		}
	}
	// INTERSECT [ALL] binds tighter than UNION and EXCEPT.
	n = bindSQL(t, "select a from t except all select a from u intersect all select a from u")
	checkPlan(t, n)
	if !strings.HasPrefix(shape(n), "Project a AS a\n  Filter (__min_side = 1)\n") {
		t.Errorf("EXCEPT ALL should be the top operation:\n%s", plan.Format(n))
	}
}

func TestSubqueries(t *testing.T) {
	n := bindSQL(t, "select a from t where exists (select 1 from u where u.a = t.a) and not exists (select * from u)")
	checkPlan(t, n)
	var subs []*plan.Subquery
	plan.WalkExpr(whereCond(t, n), func(e plan.Expr) bool {
		if s, ok := e.(*plan.Subquery); ok {
			subs = append(subs, s)
		}
		return true
	})
	if len(subs) != 2 || subs[0].Kind != plan.SubExists || subs[0].Negated || !subs[1].Negated {
		t.Fatalf("subqueries: %v", subs)
	}
	// The correlated reference t.a is a ColRef to the outer scan's column.
	scan := find[*plan.Scan](n)
	outerA := scan.Out[0].ID
	if !plan.ReferencedColumns(subs[0]).Has(outerA) {
		t.Errorf("EXISTS subquery does not reference outer t.a#%d:\n%s", outerA, plan.Format(subs[0].Plan))
	}

	n = bindSQL(t, "select a, (select max(x) from u where u.a = t.a) as mx from t where a in (select g from t)")
	checkPlan(t, n)
	p := find[*plan.Project](n)
	if s, ok := p.Projections[1].(*plan.Subquery); !ok || s.Kind != plan.SubScalar || !typeIs(s.Typ, tStr) {
		t.Errorf("scalar subquery in SELECT: %s", p.Projections[1])
	}
	in := whereCond(t, n).(*plan.Subquery)
	if in.Kind != plan.SubIn || in.E == nil || !typeIs(in.E.Type(), i64) {
		t.Errorf("IN subquery: %s", in)
	}
	// NOT IN keeps its negation.
	in = whereCond(t, bindSQL(t, "select a from t where a not in (select a from u)")).(*plan.Subquery)
	if !in.Negated {
		t.Error("NOT IN lost its negation")
	}
}

func TestQuantifiedSubqueries(t *testing.T) {
	for _, c := range []struct {
		sql  string
		kind plan.SubqueryKind
		op   plan.BinaryOp
		neg  bool
		str  string
	}{
		{"select a from t where a > any (select a from u)", plan.SubAny, plan.OpGt, false, "ANY"},
		{"select a from t where a <= some (select a from u)", plan.SubAny, plan.OpLtEq, false, "ANY"},
		// x op ALL (q) is NOT (x <negated op> ANY (q)).
		{"select a from t where a >= all (select a from u)", plan.SubAny, plan.OpLt, true, ">= ALL"},
		{"select a from t where a = all (select a from u)", plan.SubAny, plan.OpNotEq, true, "= ALL"},
		{"select a from t where a <> any (select a from u)", plan.SubAny, plan.OpNotEq, false, "<> ANY"},
		// = ANY is IN, <> ALL is NOT IN.
		{"select a from t where a = any (select a from u)", plan.SubIn, "", false, "IN"},
		{"select a from t where a != all (select a from u)", plan.SubIn, "", true, "NOT IN"},
	} {
		t.Run(c.sql, func(t *testing.T) {
			n := bindSQL(t, c.sql)
			checkPlan(t, n)
			s, ok := whereCond(t, n).(*plan.Subquery)
			if !ok || s.Kind != c.kind || s.Op != c.op || s.Negated != c.neg || !strings.Contains(s.String(), c.str) {
				t.Fatalf("got %v, want kind %d op %q negated %v", whereCond(t, n), c.kind, c.op, c.neg)
			}
		})
	}
	// Grouping by subquery expressions: by position, by repeating the text,
	// and two different ones stay two groups (bound subqueries print alike).
	for q, groups := range map[string]int{
		"select a in (select a from u), count(*) from t group by 1":                                            1,
		"select a in (select a from u), count(*) from t group by a in (select a from u)":                       1,
		"select a in (select a from u), a in (select a from u where u.x = 'y'), count(*) from t group by 1, 2": 2,
	} {
		n := bindSQL(t, q)
		checkPlan(t, n)
		if ag := find[*plan.Aggregate](n); len(ag.GroupBy) != groups {
			t.Errorf("%s: %d groups, want %d:\n%s", q, len(ag.GroupBy), groups, plan.Format(n))
		}
	}
	// Operands are cast to a common type: the INTEGER column compared with
	// a BIGINT subquery column.
	s := whereCond(t, bindSQL(t, "select a from t where a > all (select g from t)")).(*plan.Subquery)
	if !typeIs(s.E.Type(), i64) || !typeIs(s.Plan.Schema()[0].Type, i64) {
		t.Errorf("operand %s (%s), subquery column %s", s.E, s.E.Type(), s.Plan.Schema()[0].Type)
	}
}

func TestWindows(t *testing.T) {
	n := bindSQL(t, "select a, row_number() over (partition by b order by c desc), sum(a) over w as s from t window w as (order by d rows between 2 preceding and current row)")
	checkPlan(t, n)
	w := find[*plan.Window](n)
	if w == nil || len(w.Funcs) != 2 {
		t.Fatalf("\n%s", plan.Format(n))
	}
	rn, sum := w.Funcs[0], w.Funcs[1]
	if rn.Func != "row_number" || len(rn.PartitionBy) != 1 || !rn.OrderBy[0].Desc || !typeIs(rn.Typ, i64) {
		t.Errorf("row_number: %s", rn)
	}
	if sum.Func != "sum" || sum.Frame == nil || !sum.Frame.Rows || sum.Frame.Start.Kind != plan.Preceding || sum.Frame.Start.Offset != 2 || sum.Frame.End.Kind != plan.CurrentRow {
		t.Errorf("sum over w: %s frame %+v", sum, sum.Frame)
	}
	if got := names(n); got[2] != "s" {
		t.Errorf("names %v", got)
	}
	// Windows over aggregates sit above the Aggregate.
	n = bindSQL(t, "select b, rank() over (order by sum(g) desc) from t group by b")
	checkPlan(t, n)
	mustContain(t, shape(n), "Window rank([]) OVER (partition=[] order=sum(g) DESC NULLS LAST)\n    Aggregate group=[b]")
	// QUALIFY filters on a window result above the Window node.
	n = bindSQL(t, "select a from t qualify row_number() over (partition by b order by a) = 1")
	checkPlan(t, n)
	mustContain(t, shape(n), "Project a AS a\n  Filter (row_number() OVER (PARTITION BY b ORDER BY a) = 1)\n    Window row_number([])")
	// A named window refined with ORDER BY.
	checkPlan(t, bindSQL(t, "select sum(a) over (w order by c) from t window w as (partition by b)"))
	// lag with a default value cast to the argument type.
	checkPlan(t, bindSQL(t, "select lag(e, 1, 0) over (order by a), count(*) over () from t"))
	// Window aggregates with FILTER: the filter is part of the call, so a
	// filtered count(*) is not shared with the plain one.
	n = bindSQL(t, "select count(*) filter (where a > 1) over (partition by b), count(*) over (partition by b), sum(a) filter (where c > 0) over () from t")
	checkPlan(t, n)
	w = find[*plan.Window](n)
	if len(w.Funcs) != 3 || w.Funcs[0].Filter == nil || w.Funcs[1].Filter != nil || w.Funcs[2].Filter == nil {
		t.Fatalf("window FILTERs:\n%s", plan.Format(n))
	}
	mustContain(t, shape(n), "count_star([]) FILTER (WHERE (a > 1)) OVER (partition=[b])")
	if c, _ := plan.Clone(n, &plan.IDGen{}); !strings.Contains(plan.Format(c), "FILTER (WHERE") {
		t.Errorf("clone lost the window FILTER:\n%s", plan.Format(c))
	}
}

func TestViewsAndCTEs(t *testing.T) {
	cat := newTestCatalog()
	ids := &plan.IDGen{}
	view, err := tryBind(cat, ids, "select a, b from t where a > 1")
	if err != nil {
		t.Fatal(err)
	}
	cat.views["v"] = view
	n, err := tryBind(cat, ids, "select v1.a, v2.b from v v1 join v as v2 on v1.a = v2.a")
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, n)
	if scans := findAll[*plan.Scan](n); len(scans) != 2 || scans[0].Out[0].ID == scans[1].Out[0].ID || scans[0].Out[0].ID == find[*plan.Scan](view).Out[0].ID {
		t.Errorf("view references must be fresh clones:\n%s", plan.Format(n))
	}
	n = bindSQL(t, "with x(k, v) as (select a, b from t), y as (select k from x) select x.v, y.k from x, y where x.k = y.k")
	checkPlan(t, n)
	if !reflect.DeepEqual(names(n), []string{"v", "k"}) {
		t.Errorf("CTE names %v", names(n))
	}
	if len(findAll[*plan.Scan](n)) != 2 {
		t.Errorf("each CTE reference gets its own copy:\n%s", plan.Format(n))
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		sql  string
		col  int // 1-based column of the caret
		msgs []string
	}{
		{"select l_quantty from lineitem", 8, []string{"unknown column l_quantty", "did you mean l_quantity"}},
		// SELECT aliases do not reach themselves, nor WHERE.
		{"select x + 1 as y, y + 1 as x from t", 8, []string{"unknown column x"}},
		{"select count(*) as x from t where x > 1", 8, []string{"aggregate functions are not allowed in WHERE"}},
		{"select a from t, u", 8, []string{`column reference "a" is ambiguous`, "t.a", "u.a"}},
		{"select * from lineitm", 15, []string{"unknown table lineitm", "did you mean lineitem"}},
		{"select b from t group by a", 8, []string{"column b must appear in the GROUP BY clause"}},
		{"select 'abc' + 1", 14, []string{"'abc' (VARCHAR)", "1 (INTEGER)"}},
		{"select sum(b) from t", 8, []string{"sum(b)", "VARCHAR"}},
		{"select * from t where d = 1", 25, []string{"cannot compare d (DATE) with 1 (INTEGER)"}},
		{"select * from t where b = 5", 25, []string{"cannot compare b (VARCHAR) with 5 (INTEGER)"}},
		{"select * from t where b in (1, 2)", 29, []string{"cannot compare b (VARCHAR) with IN list value 1 (INTEGER)"}},
		{"select * from t where a", 23, []string{"WHERE condition must be BOOLEAN", "INTEGER"}},
		{"select (select a, b from u) from t", 8, []string{"scalar subquery must return one column"}},
		{"select a > all (select a, b from u) from t", 10, []string{"subquery of ALL must return one column, got 2"}},
		{"select b < any (select a from u) from t", 10, []string{"cannot compare b (VARCHAR) with the ANY subquery's column (INTEGER)"}},
		{"with recursive x as (select 1) select * from x", 1, []string{"WITH RECURSIVE is not supported"}},
		{"select sum(a) filter (where sum(a) > 1) from t", 29, []string{"cannot be nested"}},
		{"select count(*) filter (where b) from t", 31, []string{"FILTER condition must be BOOLEAN", "VARCHAR"}},
		{"select sum(a) filter (where b) over () from t", 29, []string{"FILTER condition must be BOOLEAN"}},
		{"select row_number() filter (where a > 1) over () from t", 8, []string{"invalid call of window function row_number"}},
		{"select a from t where count(*) filter (where a > 1) > 0", 23, []string{"aggregate functions are not allowed in WHERE"}},
		{"select a from t intersect all select a, x from u", 17, []string{"same number of columns"}},
		{"select a from t union select a, x from u", 17, []string{"same number of columns"}},
		{"select * from t where sum(a) > 1", 23, []string{"aggregate functions are not allowed in WHERE"}},
		{"select sum(sum(a)) from t", 12, []string{"cannot be nested"}},
		{"select row_number() from t", 8, []string{"requires an OVER clause"}},
		{"select zz.a from t", 8, []string{"unknown table or alias"}},
		{"select a from t limit 'x'", 23, []string{"LIMIT must be"}},
		{"select upperr(b) from t", 8, []string{"unknown function upperr", "upper"}},
		{"select cast(d as integer) from t", 8, []string{"cannot cast d (DATE) to INTEGER"}},
		{"select distinct b from t order by a", 35, []string{"ORDER BY expressions must appear in the select list"}},
		{"select a from t order by 3", 26, []string{"position 3 is not in the select list"}},
		{"select date 'x'", 8, []string{"invalid DATE literal"}},
		{"select sum(a) over w from t", 20, []string{"unknown window w"}},
		{"select a from t where row_number() over () > 1", 23, []string{"window functions are not allowed in WHERE"}},
		{"select b, (select count(*) from u where u.a = t.a) from t group by b", 11, []string{"may not refer to columns of the outer FROM"}},
		{"select a, x from t join u using (zz)", 20, []string{"zz in USING does not exist"}},
		{"select grouping(a) from t", 8, []string{"grouping() needs a GROUP BY", "SELECT"}},
		{"select a from t where grouping(a) = 0 group by rollup(a)", 23, []string{"grouping() needs a GROUP BY", "WHERE"}},
		{"select a, grouping(b) from t group by rollup(a)", 20, []string{"grouping() argument b must be a GROUP BY key"}},
		{"select a, sum(grouping(a)) from t group by rollup(a)", 15, []string{"not allowed inside an aggregate"}},
		{"select a, grouping() from t group by rollup(a)", 11, []string{"needs at least one argument"}},
		{"select a from t group by rollup(a, grouping(a))", 36, []string{"grouping() is not allowed in GROUP BY"}},
		{"select a from t group by cube(a, sum(c))", 34, []string{"aggregate functions are not allowed in GROUP BY"}},
		{"select a from t group by rollup(a, zz)", 36, []string{"unknown column zz"}},
		{"select 1 from t group by cube(a, a, a, a, a, a, a, a, a, a, a)", 26, []string{"CUBE takes at most 10"}},
		{"select 1 from t group by cube(a, b, c, d, e), cube(a, b, c, d, e), cube(a, b)", 68, []string{"too many grouping sets"}},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			e := bindErr(t, c.sql)
			for _, m := range c.msgs {
				if !strings.Contains(e.Msg, m) {
					t.Errorf("message %q lacks %q", e.Msg, m)
				}
			}
			if e.Pos.Line != 1 || e.Pos.Col != c.col {
				t.Errorf("position %d:%d, want 1:%d (%s)", e.Pos.Line, e.Pos.Col, c.col, e.Msg)
			}
			// The rendered error shows the caret under the position.
			lines := strings.Split(e.Error(), "\n")
			caret := lines[len(lines)-1]
			if strings.Index(caret, "^") != strings.Index(lines[len(lines)-2], c.sql)+c.col-1 {
				t.Errorf("caret misplaced:\n%s", e.Error())
			}
		})
	}
}

func TestBindExprAndAggregate(t *testing.T) {
	cat := newTestCatalog()
	ids := &plan.IDGen{}
	input, err := tryBind(cat, ids, "select a, b, e from t")
	if err != nil {
		t.Fatal(err)
	}
	b := New(cat, ids)
	parse := func(s string) ast.Expr {
		e, err := parser.ParseExpr(s)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e, err := b.BindExpr("e > 1 and b like 'x%'", parse("e > 1 and b like 'x%'"), input)
	if err != nil {
		t.Fatal(err)
	}
	if want := "((e#"; !strings.HasPrefix(e.String(), want) || !typeIs(e.Type(), bl) {
		t.Errorf("BindExpr: %s", e)
	}
	if _, err := b.BindExpr("nope + 1", parse("nope + 1"), input); err == nil || !strings.Contains(err.Error(), "unknown column nope") {
		t.Errorf("BindExpr unknown column: %v", err)
	}
	if _, err := b.BindExpr("sum(a)", parse("sum(a)"), input); err == nil {
		t.Error("BindExpr must reject aggregates")
	}
	n, err := b.BindAggregate("", input, []ast.Expr{parse("b")}, []ast.Expr{parse("sum(e)"), parse("count(*)"), parse("sum(a) / count(*)")}, []string{"total", "", "mean"})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, n)
	if got := names(n); !reflect.DeepEqual(got, []string{"b", "total", "count_star()", "mean"}) {
		t.Errorf("BindAggregate names %v", got)
	}
	if agg := find[*plan.Aggregate](n); len(agg.Aggs) != 3 {
		t.Errorf("aggs: %s", agg)
	}
	if _, err := b.BindAggregate("", input, []ast.Expr{parse("b")}, []ast.Expr{parse("a")}, nil); err == nil {
		t.Error("BindAggregate must reject non-grouped columns")
	}
}

// Odd but parseable inputs must give a plan or a *binder.Error, never a
// panic, and every plan must satisfy the invariants.
func TestNoPanics(t *testing.T) {
	queries := []string{
		"select", "select *", "select * from t, t", "select t.* from t, t as t2",
		"select count() from t", "select count(*) filter (where a) from t",
		"select sum(a) over (order by b rows between unbounded preceding and unbounded following) from t",
		"select sum(a) over (rows between current row and unbounded preceding) from t",
		"select lag(a, 'x') over () from t", "select ntile(b) over () from t",
		"select a from t group by rollup(a)", "select a from t group by 0",
		"select grouping(a) from t group by ()", "select a from t group by rollup(0)", "select grouping(1) from t group by cube(a)",
		"select a, grouping(a) over () from t group by rollup(a)", "select grouping(a) filter (where true) from t group by cube(a)",
		"select a from t order by 0", "select a from t limit -1", "select a from t limit 1.5",
		"select a from t where a in ()", "select a from t where a in (select a, x from u)",
		"select * from t join u on a", "select * from t join u using (x)",
		"select * from (select 1) join (select 2) on true",
		"select * from (select 1 as a) x(b, c)", "with x(a, b) as (select 1) select * from x",
		"select interval '1-2' year to month", "select interval 'abc'", "select timestamp '2020-01-01 10:00:00'",
		"select time '10:00'", "select cast(1 as decimal(50, 2))", "select try_cast('1' as int)",
		"select $1", "select current_date", "select b like a from t", "select b like 'x' escape 'ab' from t",
		"select case when 1 then 2 end", "select case 1 when 'a' then 2 end", "select case when true then 1 else 'x' end",
		"select coalesce()", "select nullif(1)", "select extract(century from d) from t",
		"select date_part('nope', d) from t", "select -b from t", "select not a from t", "select +b from t",
		"select a from t where exists (select 1) or not exists (select 2)",
		"select (select 1) + 1", "select 1 union select 'a'", "select 1 intersect select 2 except select 3",
		"values (1), (2, 3)", "values (1), ('a')", "select * from read_parquet('x')",
		"select 99999999999999999999999999999999999999999", "select 1e999", "select 0.1e1",
		"select a from t order by sum(a)", "select distinct on (a) a from t",
		"select sum(a) from t group by all", "select * from t group by all", "select * from t group by a, b, c, d, e, f, g",
		"select a, sum(c) over (partition by a) from t group by a",
		"select first_value(sum(c)) over (order by a) from t group by a",
		"select a from t qualify a > 1", "select a from t window w as (order by a), w2 as (w) ",
		"select x.a from (select a from t) x natural join (select a from u) y",
		"select a from t full join u using (a) full join t as t3 using (a)",
		"select 1 from t where d between '2020-01-01' and date '2020-02-01' + interval '1' day",
		"select 1 from t where d + 1 > d - 1 and d - d > 0",
		"select 1 from t where c = 1.5e0 and e = 1.005 and g = 1.0",
		"select bool_and(a) from t", "select stddev_pop(b) from t", "select min(f), max(f) from t",
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			qq, err := parser.ParseQuery(q)
			if err != nil {
				return
			}
			n, err := New(newTestCatalog(), &plan.IDGen{}).BindQuery(q, qq)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Errorf("error %T is not *binder.Error: %v", err, err)
				}
				return
			}
			checkPlan(t, n)
		})
	}
}
