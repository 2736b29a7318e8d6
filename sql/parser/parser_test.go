package parser

import (
	"strings"
	"testing"

	"github.com/flint-engine/flint/sql/ast"
)

// roundTrip parses sql as one statement, checks that String() equals want,
// and that want parses back to the same rendering (String is a fixpoint).
func roundTrip(t *testing.T, sql, want string) ast.Statement {
	t.Helper()
	st, err := ParseOne(sql)
	if err != nil {
		t.Fatalf("ParseOne(%q): %v", sql, err)
	}
	if got := st.String(); got != want {
		t.Fatalf("ParseOne(%q).String():\n got %s\nwant %s", sql, got, want)
	}
	st2, err := ParseOne(want)
	if err != nil {
		t.Fatalf("re-parse of %q: %v", want, err)
	}
	if got := st2.String(); got != want {
		t.Fatalf("String not a fixpoint:\n got %s\nwant %s", got, want)
	}
	return st
}

// stmtTests are statement round-trip cases: input, canonical String().
var stmtTests = []struct{ name, sql, want string }{
	{"simple", "select a, b from t", "SELECT a, b FROM t"},
	{"keywords any case", "SeLeCt A FrOm T wHeRe A>1", "SELECT a FROM t WHERE a > 1"},
	{"quoted ident keeps case", `select "MyCol", "a""b" from "T"`, `SELECT "MyCol", "a""b" FROM "T"`},
	{"quoted lower ident is bare", `select "abc" from t`, `SELECT abc FROM t`},
	{"reserved word quoted", `select "select" from t`, `SELECT "select" FROM t`},
	{"string escapes", "select 'it''s'", "SELECT 'it''s'"},
	{"comments", "select /* c1 /* nested */ */ a -- trailing\n from t -- x", "SELECT a FROM t"},
	{"numbers", "select 1, 0.06, 1e3, 1.5E-2, .5, 7.", "SELECT 1, 0.06, 1e3, 1.5E-2, .5, 7."},
	{"star", "select * from t", "SELECT * FROM t"},
	{"qualified star", "select t.*, s.t.*, x from s.t", "SELECT t.*, s.t.*, x FROM s.t"},
	{"aliases", "select a as x, b y, c AS \"Z\" from t as u, v w", `SELECT a AS x, b AS y, c AS "Z" FROM t AS u, v AS w`},
	{"alias after AS may be a keyword", "select a as from_ from t", "SELECT a AS from_ FROM t"},
	{"column aliases", "select * from t as u (a, b)", "SELECT * FROM t AS u (a, b)"},
	{"distinct", "select distinct a from t", "SELECT DISTINCT a FROM t"},
	{"select all", "select all a from t", "SELECT a FROM t"},
	{"no from", "select 1 + 2", "SELECT 1 + 2"},
	{"group having", "select a, count(*) from t group by a having count(*) > 1",
		"SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1"},
	{"group by all", "select a, sum(b) from t group by all", "SELECT a, sum(b) FROM t GROUP BY ALL"},
	{"rollup", "select a from t group by rollup(a, (b, c))", "SELECT a FROM t GROUP BY ROLLUP (a, (b, c))"},
	{"cube and grouping sets", "select a from t group by a, cube(b, c), grouping sets ((a, b), (a + 1) * 2, (), rollup(c))", "SELECT a FROM t GROUP BY a, CUBE (b, c), GROUPING SETS ((a, b), (a + 1) * 2, (), ROLLUP (c))"},
	{"empty group", "select count(*) from t group by ()", "SELECT count(*) FROM t GROUP BY ()"},
	{"rollup column", "select rollup from t group by rollup", "SELECT rollup FROM t GROUP BY rollup"},
	{"order by", "select a from t order by a desc nulls first, b asc, c nulls last",
		"SELECT a FROM t ORDER BY a DESC NULLS FIRST, b, c NULLS LAST"},
	{"limit offset", "select a from t limit 10 offset 5", "SELECT a FROM t LIMIT 10 OFFSET 5"},
	{"offset before limit", "select a from t offset 5 rows limit 10", "SELECT a FROM t LIMIT 10 OFFSET 5"},
	{"limit all", "select a from t limit all", "SELECT a FROM t"},
	{"fetch first", "select a from t fetch first 3 rows only", "SELECT a FROM t LIMIT 3"},
	{"fetch first row", "select a from t fetch next row only", "SELECT a FROM t LIMIT 1"},
	{"union", "select a from t union select b from u", "SELECT a FROM t UNION SELECT b FROM u"},
	{"union all distinct", "select 1 union all select 2 union distinct select 3",
		"SELECT 1 UNION ALL SELECT 2 UNION SELECT 3"},
	{"intersect binds tighter", "select 1 union select 2 intersect select 3",
		"SELECT 1 UNION SELECT 2 INTERSECT SELECT 3"},
	{"parens keep union right", "select 1 except (select 2 union select 3)",
		"SELECT 1 EXCEPT (SELECT 2 UNION SELECT 3)"},
	{"left assoc needs no parens", "(select 1 except select 2) except select 3",
		"SELECT 1 EXCEPT SELECT 2 EXCEPT SELECT 3"},
	{"order applies to set op", "select a from t union select a from u order by 1 limit 2",
		"SELECT a FROM t UNION SELECT a FROM u ORDER BY 1 LIMIT 2"},
	{"parenthesized operand with limit", "(select a from t order by a limit 1) union all (select b from u limit 2)",
		"(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT b FROM u LIMIT 2)"},
	{"redundant parens", "((select 1))", "SELECT 1"},
	{"values", "values (1, 'a'), (2, 'b')", "VALUES (1, 'a'), (2, 'b')"},
	{"values in from", "select * from (values (1), (2)) as v (x)", "SELECT * FROM (VALUES (1), (2)) AS v (x)"},
	{"cte", "with a as (select 1 as x), b (y) as (select x from a) select * from b",
		"WITH a AS (SELECT 1 AS x), b (y) AS (SELECT x FROM a) SELECT * FROM b"},
	{"cte materialized", "with a as materialized (select 1) select * from a", "WITH a AS (SELECT 1) SELECT * FROM a"},
	{"recursive cte", "with recursive r as (select 1) select * from r", "WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r"},
	{"joins", "select * from a join b on a.x = b.x inner join c using (y) left outer join d on true right join e on 1=1 full outer join f on false cross join g",
		"SELECT * FROM a JOIN b ON a.x = b.x JOIN c USING (y) LEFT JOIN d ON TRUE RIGHT JOIN e ON 1 = 1 FULL JOIN f ON FALSE CROSS JOIN g"},
	{"natural join", "select * from a natural join b natural left join c", "SELECT * FROM a NATURAL JOIN b NATURAL LEFT JOIN c"},
	{"join with extra on predicate", "select * from c left outer join o on c_custkey = o_custkey and o_comment not like '%x%'",
		"SELECT * FROM c LEFT JOIN o ON c_custkey = o_custkey AND o_comment NOT LIKE '%x%'"},
	{"parenthesized join", "select * from a join (b join c on b.x = c.x) on a.y = b.y",
		"SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.y = b.y"},
	{"parenthesized join first", "select * from (a join b on a.x = b.x) join c on c.y = a.y",
		"SELECT * FROM a JOIN b ON a.x = b.x JOIN c ON c.y = a.y"},
	{"derived table", "select * from (select 1 as x) t", "SELECT * FROM (SELECT 1 AS x) AS t"},
	{"derived union", "select * from ((select 1) union (select 2)) as u", "SELECT * FROM (SELECT 1 UNION SELECT 2) AS u"},
	{"derived no alias", "select * from (select 1)", "SELECT * FROM (SELECT 1)"},
	{"table function", "select * from read_parquet('s3://b/*.parquet') as p", "SELECT * FROM read_parquet('s3://b/*.parquet') AS p"},
	{"window clause", "select sum(x) over w from t window w as (partition by a order by b)",
		"SELECT sum(x) OVER w FROM t WINDOW w AS (PARTITION BY a ORDER BY b)"},
	{"qualify", "select a from t qualify row_number() over (order by a) = 1",
		"SELECT a FROM t QUALIFY row_number() OVER (ORDER BY a) = 1"},
	{"explain", "explain select 1", "EXPLAIN SELECT 1"},
	{"explain analyze verbose", "explain analyze verbose select 1", "EXPLAIN ANALYZE VERBOSE SELECT 1"},
	{"create external table", "create external table if not exists s.lineitem (l_orderkey bigint not null, l_price decimal(15,2), l_c varchar) stored as parquet location 's3://bucket/li/' options ('k1' 'v1', k2 'v2')",
		"CREATE EXTERNAL TABLE IF NOT EXISTS s.lineitem (l_orderkey BIGINT NOT NULL, l_price DECIMAL(15, 2), l_c VARCHAR) STORED AS PARQUET LOCATION 's3://bucket/li/' OPTIONS ('k1' 'v1', 'k2' 'v2')"},
	{"create external table with", "create external table t stored as csv location '/d/*.csv' with (header = true, delimiter = '|', 'format.quote' = '\"')",
		"CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/d/*.csv' OPTIONS ('delimiter' '|', 'format.quote' '\"', 'header' 'true')"},
	{"create external table clauses any order", "create external table t location '/x' partitioned by (y, m) stored as json with header row",
		"CREATE EXTERNAL TABLE t STORED AS JSON PARTITIONED BY (y, m) LOCATION '/x' OPTIONS ('header' 'true')"},
	{"create view", "create or replace view v (a) as select 1", "CREATE OR REPLACE VIEW v (a) AS SELECT 1"},
	{"copy query", "copy (select a, b from t) to 's3://out/' (format parquet, partition_by (a, b))",
		"COPY (SELECT a, b FROM t) TO 's3://out/' (format 'parquet', PARTITION_BY (a, b))"},
	{"copy table with options", "COPY t TO '/tmp/x.csv' WITH (FORMAT 'csv', HEADER, DELIMITER '|', PARTITION BY y)",
		"COPY t TO '/tmp/x.csv' (delimiter '|', format 'csv', header 'true', PARTITION_BY (y))"},
	{"copy stored as", "copy t to '/o' stored as parquet", "COPY t TO '/o' (format 'parquet')"},
	{"drop table", "drop table if exists a, s.b", "DROP TABLE IF EXISTS a, s.b"},
	{"drop view", "drop view v", "DROP VIEW v"},
	{"set", "set batch_size = 1024", "SET batch_size = '1024'"},
	{"show tables", "show tables", "SHOW TABLES"},
	{"show all", "SHOW ALL", "SHOW ALL"},
	{"show setting", "show Flint.Batch_Size", "SHOW flint.batch_size"},
	{"show quoted tables setting", `show "tables".x`, `SHOW "tables".x`},
	{"describe", "describe s.T", "DESCRIBE s.t"},
	{"desc", `desc "T"`, `DESCRIBE "T"`},
	{"set to", "SET flint.Mode TO 'Local'", "SET flint.mode = 'Local'"},
	{"keyword-ish column names", "select year, month, day, date, value, first, last, key, format, t.date, t.year from t",
		"SELECT year, month, day, date, value, first, last, key, format, t.date, t.year FROM t"},
	{"dotted reserved after dot", "select t.order, t.from from t", `SELECT t."order", t."from" FROM t`},
	{"trailing semicolon", "select 1;", "SELECT 1"},
	{"quoted function keyword", `select "left"(a, 1), "substring"(distinct a), "substring"(a), s."right"(b)`,
		`SELECT left(a, 1), "substring"(DISTINCT a), substring(a), s."right"(b)`},
	{"quoted type name", `select x::"my type", cast(y as "Varchar")`, `SELECT x::"MY TYPE", CAST(y AS VARCHAR)`},
	{"quoted extract field", `select extract("week day" from d)`, `SELECT EXTRACT('WEEK DAY' FROM d)`},
	{"set quoted", `set "Flint"."X" = 3`, `SET flint.x = '3'`},
	{"alias string", "select 1 as 'one'", "SELECT 1 AS one"},
	{"non-ascii identifiers", "select É, \"Ü\" from tàble", `SELECT "é", "Ü" FROM "tàble"`},
	{"typed literal time", "select time '10:00', time, timestamp", "SELECT TIME '10:00', time, timestamp"},
	{"create model", "create model m options (model_type = 'xgboost', MODEL_PATH='s3://b/m.json', feature_columns = ['a', 'B'], input_label_cols = [])",
		"CREATE MODEL m OPTIONS (model_type = 'xgboost', model_path = 's3://b/m.json', feature_columns = ['a', 'B'], input_label_cols = [])"},
	{"create or replace model", "create or replace model s.m options (model_type lightgbm)", "CREATE OR REPLACE MODEL s.m OPTIONS (model_type = 'lightgbm')"},
	{"create model if not exists", "create model if not exists m options ('model_type' = 'x')", "CREATE MODEL IF NOT EXISTS m OPTIONS (model_type = 'x')"},
	{"create model hparams", "create model m options (num_trials = 4, learn_rate = hparam_range(0.05, .5), Max_Tree_Depth = HPARAM_CANDIDATES([2, 6, 8]), l1_reg = Hparam_Range(-0, 1e1), l2_reg = hparam_candidates([-1]))",
		"CREATE MODEL m OPTIONS (num_trials = '4', learn_rate = HPARAM_RANGE(0.05, .5), max_tree_depth = HPARAM_CANDIDATES([2, 6, 8]), l1_reg = HPARAM_RANGE(-0, 1e1), l2_reg = HPARAM_CANDIDATES([-1]))"},
	{"create model hparam_range as a word", "create model m options (model_type = hparam_range)", "CREATE MODEL m OPTIONS (model_type = 'hparam_range')"},
	{"drop model", "drop model if exists a, b", "DROP MODEL IF EXISTS a, b"},
	{"show models", "show models", "SHOW models"},
	{"show models setting", "show models.x", "SHOW models.x"},
	{"ml.predict", "select * from ml.predict(model m, (select a from t)) as p where prediction > 0.5",
		"SELECT * FROM ml.predict(MODEL m, (SELECT a FROM t)) AS p WHERE prediction > 0.5"},
	{"ml.predict table", "select * from ml.predict(MODEL s.m, table s.t)", "SELECT * FROM ml.predict(MODEL s.m, TABLE s.t)"},
	{"model as a column in a table function", "select * from f(model, model + 1)", "SELECT * FROM f(model, model + 1)"},
	{"model as a column alias", "select model model from t", "SELECT model AS model FROM t"},
}

func TestParseStatements(t *testing.T) {
	for _, tc := range stmtTests {
		t.Run(tc.name, func(t *testing.T) { roundTrip(t, tc.sql, tc.want) })
	}
}

// exprTests are expression round-trip cases: input, canonical String().
var exprTests = []struct{ sql, want string }{
	{"x[1]", "x[1]"},
	{"f(x)[i + 1][2]", "f(x)[i + 1][2]"},
	{"-x[-1]", "-x[-1]"},
	{"(a + b)[1]", "(a + b)[1]"},
	{"a::int[1]", "(a::INTEGER)[1]"},
	{"t.p[1] * 2", "t.p[1] * 2"},
	{"a + b * c", "a + b * c"},
	{"(a + b) * c", "(a + b) * c"},
	{"a - (b - c)", "a - (b - c)"},
	{"(a - b) - c", "a - b - c"},
	{"a || b || c", "a || b || c"},
	{"a || b + c", "a || b + c"},
	{"(a || b) + c", "(a || b) + c"},
	{"a % b / c", "a % b / c"},
	{"a != b", "a <> b"},
	{"a == b", "a = b"},
	{"-a", "-a"},
	{"- -a", "-(-a)"},
	{"-(-5)", "-(-5)"},
	{"+a", "+a"},
	{"-a * b", "-a * b"},
	{"-(a * b)", "-(a * b)"},
	{"not a = b", "NOT a = b"},
	{"(not a) = b", "(NOT a) = b"},
	{"not not a", "NOT NOT a"},
	{"a is null", "a IS NULL"},
	{"a isnull or b notnull", "a IS NULL OR b IS NOT NULL"},
	{"a is not null", "a IS NOT NULL"},
	{"a is unknown", "a IS NULL"},
	{"a is true and b is not false", "a IS TRUE AND b IS NOT FALSE"},
	{"a is distinct from b", "a IS DISTINCT FROM b"},
	{"a is not distinct from b + 1", "a IS NOT DISTINCT FROM b + 1"},
	{"a = b is null", "a = b IS NULL"},
	{"a = (b is null)", "a = (b IS NULL)"},
	{"a between 1 and 2 and b", "a BETWEEN 1 AND 2 AND b"},
	{"a not between b + 1 and c * 2", "a NOT BETWEEN b + 1 AND c * 2"},
	{"a between asymmetric 1 and 2", "a BETWEEN 1 AND 2"},
	{"a in (1, 2, 3)", "a IN (1, 2, 3)"},
	{"a not in ('x')", "a NOT IN ('x')"},
	{"a in (select b from t)", "a IN (SELECT b FROM t)"},
	{"a not in ((select 1), 2)", "a NOT IN ((SELECT 1), 2)"},
	{"a in ((select 1) union (select 2))", "a IN (SELECT 1 UNION SELECT 2)"},
	{"a > any (select b from t)", "a > ANY (SELECT b FROM t)"},
	{"a <= some (select b from t)", "a <= ANY (SELECT b FROM t)"},
	{"a != all (select b from t) or c", "a <> ALL (SELECT b FROM t) OR c"},
	{"a + 1 = all ((select 1) union (select 2)) and not b", "a + 1 = ALL (SELECT 1 UNION SELECT 2) AND NOT b"},
	{"(a = any (select 1)) = true", "a = ANY (SELECT 1) = TRUE"},
	{"a = (b > all (select 1))", "a = (b > ALL (SELECT 1))"},
	{"a < any (values (1), (2))", "a < ANY (VALUES (1), (2))"},
	{"a like 'x%' escape '!'", "a LIKE 'x%' ESCAPE '!'"},
	{"a not ilike b || 'x'", "a NOT ILIKE b || 'x'"},
	{"exists (select 1)", "EXISTS (SELECT 1)"},
	{"not exists (select 1)", "NOT EXISTS (SELECT 1)"},
	{"(select max(x) from t) + 1", "(SELECT max(x) FROM t) + 1"},
	{"((select 1) + 1)", "(SELECT 1) + 1"},
	{"((select 1) union (select 2))", "(SELECT 1 UNION SELECT 2)"},
	{"case when a then 1 when b then 2 else 3 end", "CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END"},
	{"case x when 1 then 'a' end", "CASE x WHEN 1 THEN 'a' END"},
	{"cast(a as int)", "CAST(a AS INTEGER)"},
	{"try_cast(a as double precision)", "TRY_CAST(a AS DOUBLE)"},
	{"a::decimal(15, 2)", "a::DECIMAL(15, 2)"},
	{"a::int::text", "a::INTEGER::TEXT"},
	{"-a::int", "-a::INTEGER"},
	{"(a + b)::bigint", "(a + b)::BIGINT"},
	{"cast(x as character varying(10))", "CAST(x AS VARCHAR(10))"},
	{"cast(x as timestamp without time zone)", "CAST(x AS TIMESTAMP)"},
	{"cast(x as int8) + cast(y as float8) + cast(z as bool) + cast(w as int2)",
		"CAST(x AS BIGINT) + CAST(y AS DOUBLE) + CAST(z AS BOOLEAN) + CAST(w AS SMALLINT)"},
	{"count(*)", "count(*)"},
	{"count(distinct a)", "count(DISTINCT a)"},
	{"count(all a)", "count(a)"},
	{"f()", "f()"},
	{"s.f(a, b)", "s.f(a, b)"},
	{"sum(x) filter (where x > 0)", "sum(x) FILTER (WHERE x > 0)"},
	{"string_agg(a, ',' order by b desc)", "string_agg(a, ',' ORDER BY b DESC)"},
	{"rank() over (partition by a, b order by c)", "rank() OVER (PARTITION BY a, b ORDER BY c)"},
	{"sum(x) over ()", "sum(x) OVER ()"},
	{"sum(x) over (rows 3 preceding)", "sum(x) OVER (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)"},
	{"sum(x) over (order by d range between interval '1' day preceding and unbounded following)",
		"sum(x) OVER (ORDER BY d RANGE BETWEEN INTERVAL '1' DAY PRECEDING AND UNBOUNDED FOLLOWING)"},
	{"sum(x) over (w rows between current row and 2 following)", "sum(x) OVER (w ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING)"},
	{"extract(year from d)", "EXTRACT(YEAR FROM d)"},
	{"extract('dow' from d)", "EXTRACT(DOW FROM d)"},
	{"substring(s from 1 for 2)", "SUBSTRING(s FROM 1 FOR 2)"},
	{"substring(s for 2 from 1)", "SUBSTRING(s FROM 1 FOR 2)"},
	{"substring(s from 3)", "SUBSTRING(s FROM 3)"},
	{"substring(s, 1, 2)", "substring(s, 1, 2)"},
	{"trim(s)", "TRIM(BOTH FROM s)"},
	{"trim(leading 'x' from s)", "TRIM(LEADING 'x' FROM s)"},
	{"trim(trailing from s)", "TRIM(TRAILING FROM s)"},
	{"trim('x' from s)", "TRIM(BOTH 'x' FROM s)"},
	{"trim(s, 'x')", "TRIM(BOTH 'x' FROM s)"},
	{"position('a' in s)", "POSITION('a' IN s)"},
	{"left(s, 2) || right(s, 1)", "left(s, 2) || right(s, 1)"},
	{"date '1998-12-01'", "DATE '1998-12-01'"},
	{"timestamp '2020-01-01 10:00:00'", "TIMESTAMP '2020-01-01 10:00:00'"},
	{"date(x)", "date(x)"},
	{"interval '3' month", "INTERVAL '3' MONTH"},
	{"interval '90' days", "INTERVAL '90' DAY"},
	{"interval '3 months'", "INTERVAL '3 months'"},
	{"interval 3 day", "INTERVAL '3' DAY"},
	{"interval -3 day", "INTERVAL '-3' DAY"},
	{"interval '1-2' year to month", "INTERVAL '1-2' YEAR TO MONTH"},
	{"date '1998-12-01' - interval '90' day", "DATE '1998-12-01' - INTERVAL '90' DAY"},
	{"current_date + 1", "CURRENT_DATE + 1"},
	{"current_timestamp()", "CURRENT_TIMESTAMP"},
	{"coalesce(a, nullif(b, 0))", "coalesce(a, nullif(b, 0))"},
	{"null", "NULL"},
	{"true and false", "TRUE AND FALSE"},
	{"$1 + ? + ?", "$1 + $1 + $2"},
	{"a.b.c", "a.b.c"},
	{`"A".b`, `"A".b`},
	{"a or b and c", "a OR b AND c"},
	{"(a or b) and c", "(a OR b) AND c"},
	{"a and (b and c)", "a AND (b AND c)"},
	{"a < b = true", "a < b = TRUE"},
	{"a = (b < c)", "a = (b < c)"},
	{"1 - -1", "1 - -1"},
	{"(a between 1 and 2) between false and true", "a BETWEEN 1 AND 2 BETWEEN FALSE AND TRUE"},
	{"a between (b and c) and d", "a BETWEEN (b AND c) AND d"},
	{"a like (b like c)", "a LIKE (b LIKE c)"},
	{"position((a in (1)) in s)", "POSITION((a IN (1)) IN s)"},
}

func TestParseExpressions(t *testing.T) {
	for _, tc := range exprTests {
		t.Run(tc.sql, func(t *testing.T) {
			e, err := ParseExpr(tc.sql)
			if err != nil {
				t.Fatalf("ParseExpr(%q): %v", tc.sql, err)
			}
			if got := e.String(); got != tc.want {
				t.Fatalf("ParseExpr(%q).String() = %s, want %s", tc.sql, got, tc.want)
			}
			e2, err := ParseExpr(tc.want)
			if err != nil {
				t.Fatalf("re-parse %q: %v", tc.want, err)
			}
			if got := e2.String(); got != tc.want {
				t.Fatalf("String not a fixpoint: %s -> %s", tc.want, got)
			}
		})
	}
}

func TestParseScript(t *testing.T) {
	stmts, err := Parse("select 1;; select 2 ; \n -- only a comment\n;explain select 3;")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stmts {
		got = append(got, s.String())
	}
	want := "SELECT 1|SELECT 2|EXPLAIN SELECT 3"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, "|"), want)
	}
	for _, empty := range []string{"", "  ", ";", "-- c\n;;"} {
		stmts, err := Parse(empty)
		if err != nil || len(stmts) != 0 {
			t.Fatalf("Parse(%q) = %v, %v; want no statements", empty, stmts, err)
		}
	}
	if _, err := ParseOne("select 1; select 2"); err == nil {
		t.Fatal("ParseOne accepted two statements")
	}
	if _, err := ParseOne(""); err == nil {
		t.Fatal("ParseOne accepted empty input")
	}
	q, err := ParseQuery("select 1 union select 2")
	if err != nil || q.String() != "SELECT 1 UNION SELECT 2" {
		t.Fatalf("ParseQuery: %v %v", q, err)
	}
	if _, err := ParseQuery("drop table t"); err == nil {
		t.Fatal("ParseQuery accepted DROP")
	}
}

func TestParseLists(t *testing.T) {
	items, err := ParseSelectItems("a, b + 1 AS c, t.*, count(*) n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.String())
	}
	if want := "a|b + 1 AS c|t.*|count(*) AS n"; strings.Join(got, "|") != want {
		t.Fatalf("got %q want %q", strings.Join(got, "|"), want)
	}
	if _, err := ParseSelectItems("a b c"); err == nil {
		t.Fatal("ParseSelectItems accepted trailing garbage")
	}
	order, err := ParseOrderBy("a desc nulls last, b")
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || !order[0].Desc || order[0].NullsFirst == nil || *order[0].NullsFirst || order[1].Desc || order[1].NullsFirst != nil {
		t.Fatalf("ParseOrderBy: %v", order)
	}
	if _, err := ParseOrderBy("a desc desc"); err == nil {
		t.Fatal("ParseOrderBy accepted garbage")
	}
	if e, err := ParseExpr("\uFEFFa + 1"); err != nil || e.String() != "a + 1" {
		t.Fatalf("BOM: %v %v", e, err)
	}
	if _, err := ParseExpr(""); err == nil {
		t.Fatal("ParseExpr accepted empty input")
	}
}

// TestParseHParam: the search space of a tuned option as the DataFrame
// API takes it, a value on its own.
func TestParseHParam(t *testing.T) {
	for _, tc := range []struct {
		in    string
		rng   bool
		vals  []string
		wantS string
	}{
		{"HPARAM_RANGE(0.05, 0.3)", true, []string{"0.05", "0.3"}, "HPARAM_RANGE(0.05, 0.3)"},
		{" hparam_candidates([4,6]) ", false, []string{"4", "6"}, "HPARAM_CANDIDATES([4, 6])"},
		{"hparam_range(-2, -2)", true, []string{"-2", "-2"}, "HPARAM_RANGE(-2, -2)"},
	} {
		h, err := ParseHParam("k", tc.in)
		if err != nil {
			t.Fatalf("ParseHParam(%q): %v", tc.in, err)
		}
		if h.Range != tc.rng || strings.Join(h.Values, ",") != strings.Join(tc.vals, ",") || h.String() != tc.wantS {
			t.Fatalf("ParseHParam(%q) = %+v (%s), want range %v, values %v", tc.in, h, h, tc.rng, tc.vals)
		}
		if len(h.Pos) != len(h.Values) || !h.At.IsValid() {
			t.Fatalf("ParseHParam(%q): positions %v at %v", tc.in, h.Pos, h.At)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"0.3", "expected HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([a, b, ...]), found \"0.3\""},
		{"HPARAM_RANGE(0.3, 0.05)", "option learn_rate: HPARAM_RANGE: the lower bound 0.3 is above the upper bound 0.05"},
		{"HPARAM_RANGE(0.05, 0.3) x", "expected end of input, found \"x\""},
		{"HPARAM_CANDIDATES([4, 4])", "option learn_rate: HPARAM_CANDIDATES: candidate 4 is given twice"},
	} {
		_, err := ParseHParam("learn_rate", tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Fatalf("ParseHParam(%q) = %v, want an error containing %q", tc.in, err, tc.msg)
		}
	}
}
