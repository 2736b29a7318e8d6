package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are extra seeds covering every statement kind and odd lexemes.
var fuzzSeeds = []string{
	"select a, b + 1 as c from t where x between 1 and 2 order by 1 desc nulls last limit 3",
	"with a as (select 1) select * from a union all (select 2 intersect select 3)",
	"select * from a left join (b join c using (k)) on a.k = b.k, (select 1) s (x)",
	"select count(distinct x) filter (where y) over (partition by z order by w rows between 1 preceding and current row)",
	"select case when a then b else c end, cast(x as decimal(15,2)), x::int, extract(year from d)",
	"select substring(s from 1 for 2), trim(leading 'x' from s), position('a' in s), interval '1-2' year to month",
	"select date '1998-12-01' - interval '90' day, timestamp '2020-01-01', $1, ?, -(-5), not not a",
	"select a in ((select 1) union (select 2)), ((select 1) + 1), x not in (1, 2), exists (select 1)",
	"create external table if not exists t (a int not null) stored as parquet location 's3://x' options ('k' 'v')",
	"copy (select 1) to 'x' (format parquet, partition_by (a, b)); copy t to 'y' with (header)",
	"explain analyze select 1; drop table if exists a, b; drop view v; set x = 'y'; create view v as select 1",
	"values (1, 'a''b'), (2, \"q\"\"x\")",
	"select 1e5, .5, 7., 1.5e-3 /* c /* nested */ */ -- tail",
	"select a\nFORM t",
	"select 'unterminated",
	"select \"ü\", é from t qualify rank() over w = 1 window w as (order by a)",
	`select "left"(a, 1), "substring"(distinct a), x::"my type", extract("week day" from d), 1 as 'one'`,
	`set "Flint"."X" = 3; select * from read_parquet('x') p (a, b) natural full join u`,
	"select a from t offset 1 rows fetch first 2 rows only",
	"create external table t stored as é location 'x'; copy t to 'y' stored as \"Pq\"",
	"show tables; show all; show flint.batch_size; describe s.t; desc \"T\"",
	"create or replace model m options (model_type = 'xgboost', feature_columns = ['a', 'b'], n = -1); drop model if exists m, n; show models",
	"select x[1][-1], p.prediction[i + 1] from ml.predict(model s.m, (select * from t)) p, f(model, table t)",
}

// FuzzParse checks that no input makes the parser panic or hang, and that
// for every input it accepts, String() output parses back to the same text.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, tc := range stmtTests {
		f.Add(tc.sql)
	}
	for _, tc := range exprTests {
		f.Add("select " + tc.sql)
	}
	for _, tc := range syntaxErrorTests {
		if len(tc.sql) < 1000 {
			f.Add(tc.sql)
		}
	}
	for n := 1; n <= 22; n++ {
		if b, err := os.ReadFile(filepath.Join(tpchDir, fmt.Sprintf("q%02d.sql", n))); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Parse(sql)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			_ = err.Error() // rendering must not panic either
			return
		}
		for _, st := range stmts {
			s := st.String()
			again, err := ParseOne(s)
			if err != nil {
				t.Fatalf("String() of accepted input does not parse:\ninput: %q\nString: %q\nerr: %v", sql, s, err)
			}
			if s2 := again.String(); s2 != s {
				t.Fatalf("String not a fixpoint:\ninput: %q\nfirst:  %q\nsecond: %q", sql, s, s2)
			}
		}
		if _, err := ParseExpr(sql); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ParseExpr error of type %T", err)
			}
		}
	})
}
