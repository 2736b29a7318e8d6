package flint_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/flint-engine/flint"
)

// The examples read two small CSV files:
//
//	testdata/cli/people.csv         testdata/cli/depts.csv
//	id,name,dept,salary,hired       dept,floor
//	1,Ann,eng,120.50,2020-01-15     eng,3
//	2,Bob,eng,100.00,2019-03-01     ops,1
//	3,Cid,ops,90.25,2021-07-30      hr,2
//	4,Dee,,80.00,2022-11-11
//	5,Eve,ops,,2018-05-20
//
// Empty CSV fields are NULL; salary is inferred as an exact DECIMAL with two
// decimals and hired as a DATE.

func ExampleNewSession() {
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(2))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// Register a file (or a directory, or a glob) as a table for SQL.
	if err := s.RegisterTable(ctx, "people", "csv", "testdata/cli/people.csv", nil); err != nil {
		log.Fatal(err)
	}
	n, err := s.Table("people").Count(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows:", n)
	fmt.Println("columns:", s.Table("people").Columns())
	// Output:
	// rows: 5
	// columns: [id name dept salary hired]
}

func ExampleSession_SQL() {
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// DDL statements take effect at once; the last statement's DataFrame is
	// returned, and runs when an action such as Show is called.
	df := s.SQL(ctx, `
		CREATE EXTERNAL TABLE people STORED AS CSV LOCATION 'testdata/cli/people.csv';
		SELECT name, salary, hired
		FROM people
		WHERE hired < DATE '2021-01-01'
		ORDER BY hired`)
	if err := df.Show(ctx, os.Stdout, 10); err != nil {
		log.Fatal(err)
	}
	// Output:
	// +------+--------+------------+
	// | name | salary | hired      |
	// +------+--------+------------+
	// | Eve  |   NULL | 2018-05-20 |
	// | Bob  | 100.00 | 2019-03-01 |
	// | Ann  | 120.50 | 2020-01-15 |
	// +------+--------+------------+
	// (3 rows)
}

func ExampleDataFrame_GroupBy() {
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	people := s.ReadCSV(ctx, nil, "testdata/cli/people.csv")
	// sum and count skip NULLs; count(*) counts rows. NULL keys form a group.
	payroll := people.
		GroupBy(flint.Col("dept")).
		Agg(
			flint.CountAll().Alias("people"),
			flint.Count(flint.Col("salary")).Alias("paid"),
			flint.Sum(flint.Col("salary")).Alias("payroll")).
		OrderBy(flint.Col("payroll").Desc())
	if err := payroll.Show(ctx, os.Stdout, 10); err != nil {
		log.Fatal(err)
	}
	// Output:
	// +------+--------+------+---------+
	// | dept | people | paid | payroll |
	// +------+--------+------+---------+
	// | eng  |      2 |    2 |  220.50 |
	// | ops  |      2 |    1 |   90.25 |
	// | NULL |      1 |    1 |   80.00 |
	// +------+--------+------+---------+
	// (3 rows)
}

func ExampleDataFrame_Join() {
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	people := s.ReadCSV(ctx, nil, "testdata/cli/people.csv")
	depts := s.ReadCSV(ctx, nil, "testdata/cli/depts.csv")
	// A left join keeps Dee, whose department is NULL; columns are
	// qualified by the file's base name where both sides have them.
	df := people.
		Join(depts, flint.Col("people.dept").Eq(flint.Col("depts.dept")), "left").
		Select(flint.Col("name"), flint.Col("people.dept"), flint.Col("floor")).
		OrderBy(flint.Col("name").Asc())
	if err := df.Show(ctx, os.Stdout, 10); err != nil {
		log.Fatal(err)
	}
	// Departments nobody works in: an anti join.
	empty := depts.JoinUsing(people, []string{"dept"}, "anti")
	if err := empty.Show(ctx, os.Stdout, 10); err != nil {
		log.Fatal(err)
	}
	// Output:
	// +------+------+-------+
	// | name | dept | floor |
	// +------+------+-------+
	// | Ann  | eng  |     3 |
	// | Bob  | eng  |     3 |
	// | Cid  | ops  |     1 |
	// | Dee  | NULL |  NULL |
	// | Eve  | ops  |     1 |
	// +------+------+-------+
	// (5 rows)
	// +------+-------+
	// | dept | floor |
	// +------+-------+
	// | hr   |     2 |
	// +------+-------+
	// (1 rows)
}

func ExampleDataFrame_Show() {
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	df := s.ReadCSV(ctx, nil, "testdata/cli/people.csv").
		WithColumn("raise", flint.Col("salary").Mul(flint.Decimal("1.10"))).
		Where("dept = 'eng'").
		Select(flint.Col("name"), flint.Col("salary"), flint.Col("raise")).
		OrderBy(flint.Col("name").Asc())
	// Show prints at most n rows; decimals keep their exact scale.
	if err := df.Show(ctx, os.Stdout, 1); err != nil {
		log.Fatal(err)
	}
	// Output:
	// +------+--------+----------+
	// | name | salary | raise    |
	// +------+--------+----------+
	// | Ann  | 120.50 | 132.5500 |
	// +------+--------+----------+
	// (1 rows)
}

func ExampleDataFrame_Alias() {
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	people := s.ReadCSV(ctx, nil, "testdata/cli/people.csv")
	// A self-join: Alias gives each side its own qualifier.
	a, b := people.Alias("a"), people.Alias("b")
	pairs := a.Join(b, flint.Col("a.dept").Eq(flint.Col("b.dept")).And(flint.Col("a.id").Lt(flint.Col("b.id"))), "inner").
		Select(flint.Col("a.dept"), flint.Col("a.name"), flint.Col("b.name").Alias("colleague")).
		OrderBy(flint.Col("dept").Asc())
	if err := pairs.Show(ctx, os.Stdout, 10); err != nil {
		log.Fatal(err)
	}
	// Output:
	// +------+------+-----------+
	// | dept | name | colleague |
	// +------+------+-----------+
	// | eng  | Ann  | Bob       |
	// | ops  | Cid  | Eve       |
	// +------+------+-----------+
	// (2 rows)
}

func ExampleDataFrame_WriteParquet() {
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	dir, err := os.MkdirTemp("", "flint-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "paid.parquet")
	paid := s.ReadCSV(ctx, nil, "testdata/cli/people.csv").
		Where("salary IS NOT NULL").
		Select(flint.Col("name"), flint.Col("salary"))
	if err := paid.WriteParquet(ctx, path); err != nil {
		log.Fatal(err)
	}
	// Types survive the round trip: salary is still an exact decimal
	// (DECIMAL(18,2), which the engine holds as an Arrow Decimal64).
	back := s.ReadParquet(ctx, path)
	schema, err := back.Schema()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(schema.Field(1).Type)
	total := back.GroupBy().Agg(flint.Sum(flint.Col("salary")).Alias("total"))
	if err := total.Show(ctx, os.Stdout, 1); err != nil {
		log.Fatal(err)
	}
	// Output:
	// decimal64(18, 2)
	// +--------+
	// | total  |
	// +--------+
	// | 390.75 |
	// +--------+
	// (1 rows)
}
