package ast

import "testing"

func TestIntervalValue(t *testing.T) {
	const (
		sec  = int64(1_000_000_000)
		min  = 60 * sec
		hour = 60 * min
	)
	tests := []struct {
		lit     IntervalLit
		want    Interval
		wantErr bool
	}{
		{IntervalLit{Value: "3", Unit: "MONTH"}, Interval{Months: 3}, false},
		{IntervalLit{Value: "90", Unit: "DAY"}, Interval{Days: 90}, false},
		{IntervalLit{Value: "1", Unit: "YEAR"}, Interval{Months: 12}, false},
		{IntervalLit{Value: "2", Unit: "QUARTER"}, Interval{Months: 6}, false},
		{IntervalLit{Value: "2", Unit: "WEEK"}, Interval{Days: 14}, false},
		{IntervalLit{Value: "-3", Unit: "DAY"}, Interval{Days: -3}, false},
		{IntervalLit{Value: " 5 ", Unit: "HOUR"}, Interval{Nanoseconds: 5 * hour}, false},
		{IntervalLit{Value: "1.5", Unit: "HOUR"}, Interval{Nanoseconds: 90 * min}, false},
		{IntervalLit{Value: "250", Unit: "MILLISECOND"}, Interval{Nanoseconds: sec / 4}, false},
		{IntervalLit{Value: "7", Unit: "MICROSECOND"}, Interval{Nanoseconds: 7000}, false},
		{IntervalLit{Value: "1.5", Unit: "DAY"}, Interval{}, true},
		{IntervalLit{Value: "x", Unit: "DAY"}, Interval{}, true},
		{IntervalLit{Value: "3 months"}, Interval{Months: 3}, false},
		{IntervalLit{Value: "1 year 2 months 3 days"}, Interval{Months: 14, Days: 3}, false},
		{IntervalLit{Value: "2 hours 30 minutes"}, Interval{Nanoseconds: 2*hour + 30*min}, false},
		{IntervalLit{Value: "1 day 02:30:00"}, Interval{Days: 1, Nanoseconds: 2*hour + 30*min}, false},
		{IntervalLit{Value: "02:30"}, Interval{Nanoseconds: 2*hour + 30*min}, false},
		{IntervalLit{Value: "-01:00:00.5"}, Interval{Nanoseconds: -(hour + sec/2)}, false},
		{IntervalLit{Value: "10days"}, Interval{Days: 10}, false},
		{IntervalLit{Value: "-2 mons"}, Interval{Months: -2}, false},
		{IntervalLit{Value: "30"}, Interval{Nanoseconds: 30 * sec}, false},
		{IntervalLit{Value: ""}, Interval{}, true},
		{IntervalLit{Value: "3 parsecs"}, Interval{}, true},
		{IntervalLit{Value: "1 2"}, Interval{}, true},
		{IntervalLit{Value: "1:2:3:4"}, Interval{}, true},
		{IntervalLit{Value: "99999999999 years"}, Interval{}, true},
		{IntervalLit{Value: "1-2", Unit: "YEAR", ToUnit: "MONTH"}, Interval{Months: 14}, false},
		{IntervalLit{Value: "-1-2", Unit: "YEAR", ToUnit: "MONTH"}, Interval{Months: -14}, false},
		{IntervalLit{Value: "12", Unit: "YEAR", ToUnit: "MONTH"}, Interval{}, true},
		{IntervalLit{Value: "3 04:05:06", Unit: "DAY", ToUnit: "SECOND"}, Interval{Days: 3, Nanoseconds: 4*hour + 5*min + 6*sec}, false},
		{IntervalLit{Value: "3 04", Unit: "DAY", ToUnit: "HOUR"}, Interval{Days: 3, Nanoseconds: 4 * hour}, false},
		{IntervalLit{Value: "04:05", Unit: "HOUR", ToUnit: "MINUTE"}, Interval{Nanoseconds: 4*hour + 5*min}, false},
		{IntervalLit{Value: "05:06", Unit: "MINUTE", ToUnit: "SECOND"}, Interval{Nanoseconds: 5*min + 6*sec}, false},
	}
	for _, tc := range tests {
		got, err := tc.lit.Interval()
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: got %+v, want error", tc.lit.String(), got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.lit.String(), got, err, tc.want)
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"a_1$", "a_1$"},
		{"_x", "_x"},
		{"Abc", `"Abc"`},
		{"1a", `"1a"`},
		{"a b", `"a b"`},
		{`a"b`, `"a""b"`},
		{"select", `"select"`},
		{"year", "year"}, // non-reserved keyword stays bare
		{"é", `"é"`},
		{"", `""`},
	}
	for _, tc := range tests {
		if got := QuoteIdent(tc.in); got != tc.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := FormatName([]string{"s", "T", "order"}); got != `s."T"."order"` {
		t.Errorf("FormatName = %s", got)
	}
	if got := QuoteString("it's"); got != "'it''s'" {
		t.Errorf("QuoteString = %s", got)
	}
	if !IsReserved("select") || !IsReserved("SELECT") || IsReserved("year") {
		t.Error("IsReserved")
	}
}

// TestStringHandBuilt renders trees built by hand (no parser involved).
func TestStringHandBuilt(t *testing.T) {
	col := func(parts ...string) *ColumnRef { return &ColumnRef{Parts: parts} }
	num := func(s string) *NumberLit { return &NumberLit{Text: s} }
	yes := true
	q := &Query{
		With: []*CTE{{Name: "c", Columns: []string{"x"}, Query: &Query{Body: &Values{Rows: [][]Expr{{num("1")}}}}}},
		Body: &SetOp{Op: Union, All: true,
			Left: &SelectCore{
				Distinct: true,
				Items: []*SelectItem{
					{Star: true, StarTable: []string{"t"}},
					{Expr: &FuncCall{Name: []string{"sum"}, Args: []Expr{&Binary{Op: OpMul, Left: col("a"), Right: &Binary{Op: OpSub, Left: num("1"), Right: col("b")}}}}, Alias: "s"},
					{Expr: &FuncCall{Name: []string{"count"}, Star: true}},
				},
				From: []TableExpr{&Join{Type: LeftJoin, Left: &TableName{Name: []string{"t"}},
					Right: &TableName{Name: []string{"u"}, Alias: "v"},
					On:    &Binary{Op: OpEq, Left: col("t", "k"), Right: col("v", "k")}}},
				Where:   &Between{Expr: col("a"), Low: num("1"), High: num("2"), Not: true},
				GroupBy: []Expr{col("a")},
				Having:  &IsNull{Expr: col("a"), Not: true},
			},
			Right: &SelectCore{Items: []*SelectItem{{Star: true}}, From: []TableExpr{&TableName{Name: []string{"c"}}}},
		},
		OrderBy: []*OrderItem{{Expr: num("1"), Desc: true, NullsFirst: &yes}},
		Limit:   num("5"),
	}
	want := "WITH c (x) AS (VALUES (1)) SELECT DISTINCT t.*, sum(a * (1 - b)) AS s, count(*) FROM t LEFT JOIN u AS v ON t.k = v.k " +
		"WHERE a NOT BETWEEN 1 AND 2 GROUP BY a HAVING a IS NOT NULL UNION ALL SELECT * FROM c ORDER BY 1 DESC NULLS FIRST LIMIT 5"
	if got := q.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	stmts := []struct {
		s    Statement
		want string
	}{
		{&Explain{Analyze: true, Stmt: &Query{Body: &SelectCore{Items: []*SelectItem{{Expr: num("1")}}}}}, "EXPLAIN ANALYZE SELECT 1"},
		{&DropTable{Names: [][]string{{"a"}, {"s", "B"}}, IfExists: true}, `DROP TABLE IF EXISTS a, s."B"`},
		{&Set{Name: "batch_size", Value: "16"}, "SET batch_size = '16'"},
		{&CreateExternalTable{Name: []string{"t"}, Format: "CSV", Location: "/x", Options: map[string]string{"b": "2", "a": "1"}},
			"CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/x' OPTIONS ('a' '1', 'b' '2')"},
		{&Copy{Query: &Query{Body: &SelectCore{Items: []*SelectItem{{Expr: num("1")}}}}, To: "o", PartitionBy: []string{"p"}},
			"COPY (SELECT 1) TO 'o' (PARTITION_BY (p))"},
	}
	for _, tc := range stmts {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
