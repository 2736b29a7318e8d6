package flint_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/resultcmp"
	"github.com/flint-engine/flint/tpch"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		clustertest.RemoveBinary()
		os.Exit(code)
	}))
}

const cliData = "testdata/cli/"

// The tiny tables of testdata/cli every test below reasons about:
//
//	people.csv: id,name,dept,salary,hired
//	  1 Ann eng  120.50 2020-01-15
//	  2 Bob eng  100.00 2019-03-01
//	  3 Cid ops   90.25 2021-07-30
//	  4 Dee NULL  80.00 2022-11-11
//	  5 Eve ops   NULL  2018-05-20
//	depts.csv: dept,floor
//	  eng 3 / ops 1 / hr 2

// batchSizes are the session batch sizes every DataFrame test runs under.
var batchSizes = []int{1, 2, 3, 16, 1024}

// forEachBatchSize runs f with a fresh session per batch size; the session
// allocates from a checked allocator that must be empty at the end.
func forEachBatchSize(t *testing.T, f func(t *testing.T, ctx context.Context, s *flint.Session)) {
	t.Helper()
	for _, bs := range batchSizes {
		t.Run(fmt.Sprintf("batch%d", bs), func(t *testing.T) {
			ctx := context.Background()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithPartitions(3),
				flint.WithBatchSize(bs), flint.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
			f(t, ctx, s)
			if err := s.Close(); err != nil {
				t.Error(err)
			}
			mem.AssertSize(t, 0)
		})
	}
}

func people(ctx context.Context, s *flint.Session) *flint.DataFrame {
	return s.ReadCSV(ctx, nil, cliData+"people.csv")
}

func depts(ctx context.Context, s *flint.Session) *flint.DataFrame {
	return s.ReadCSV(ctx, nil, cliData+"depts.csv")
}

// cellText renders one value the way the expectations below are written:
// decimals at their scale, dates YYYY-MM-DD, NULL as "NULL". It is written
// here, independently of the engine's own output package.
func cellText(a arrow.Array, i int) string {
	if a.DataType().ID() == arrow.NULL || a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).Format("2006-01-02 15:04:05.999999")
	case *array.Decimal64, *array.Decimal128:
		scale := int(a.DataType().(arrow.DecimalType).GetScale())
		var v *big.Int
		if d, ok := a.(*array.Decimal64); ok {
			v = big.NewInt(int64(d.Value(i)))
		} else {
			v = a.(*array.Decimal128).Value(i).BigInt()
		}
		neg := v.Sign() < 0
		digits := v.Abs(v).String()
		for len(digits) <= scale {
			digits = "0" + digits
		}
		if scale > 0 {
			digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
		}
		if neg {
			digits = "-" + digits
		}
		return digits
	}
	return fmt.Sprintf("<%s>", a.DataType())
}

// collect runs df and returns its column names and rows as text; every
// batch is released.
func collect(t *testing.T, ctx context.Context, df *flint.DataFrame) ([]string, [][]string) {
	t.Helper()
	schema, batches, err := df.CollectWithSchema(ctx)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	defer release(batches)
	var names []string
	for _, f := range schema.Fields() {
		names = append(names, f.Name)
	}
	var rows [][]string
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			row := make([]string, b.NumCols())
			for c := range row {
				row[c] = cellText(b.Column(c), r)
			}
			rows = append(rows, row)
		}
	}
	return names, rows
}

func release(batches []arrow.RecordBatch) {
	for _, b := range batches {
		b.Release()
	}
}

// checkAnswer compares got, in order and with its column names, with the
// DuckDB answer in the CSV file at path.
func checkAnswer(t *testing.T, path string, got []arrow.RecordBatch) {
	t.Helper()
	want, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if err := resultcmp.CompareCSV(want, got, resultcmp.Options{Ordered: true, CheckNames: true}); err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

// rowsText joins each row's cells with "|" for compact expectations.
func rowsText(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	return out
}

func sortedCopy(rows []string) []string {
	out := append([]string(nil), rows...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// check compares a result with expected column names and rows ("a|b|c");
// ordered compares in order, otherwise as multisets.
func check(t *testing.T, ctx context.Context, df *flint.DataFrame, ordered bool, wantCols []string, wantRows ...string) {
	t.Helper()
	names, rows := collect(t, ctx, df)
	if wantCols != nil && strings.Join(names, ",") != strings.Join(wantCols, ",") {
		t.Errorf("columns: got %v, want %v", names, wantCols)
	}
	got := rowsText(rows)
	want := append([]string(nil), wantRows...)
	if !ordered {
		got, want = sortedCopy(got), sortedCopy(want)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\ngot:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func cols(names ...string) []string { return names }

func TestDataFrameRead(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		t.Run("csv", func(t *testing.T) {
			check(t, ctx, people(ctx, s), false, cols("id", "name", "dept", "salary", "hired"),
				"1|Ann|eng|120.50|2020-01-15",
				"2|Bob|eng|100.00|2019-03-01",
				"3|Cid|ops|90.25|2021-07-30",
				"4|Dee|NULL|80.00|2022-11-11",
				"5|Eve|ops|NULL|2018-05-20")
		})
		t.Run("csv-schema", func(t *testing.T) {
			df := s.ReadCSV(ctx, map[string]string{"schema": "dept VARCHAR, floor INT"}, cliData+"depts.csv")
			sc, err := df.Schema()
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.Field(1).Type.ID(); got != arrow.INT32 {
				t.Errorf("floor type: got %s, want int32", sc.Field(1).Type)
			}
			check(t, ctx, df, false, cols("dept", "floor"), "eng|3", "ops|1", "hr|2")
		})
		t.Run("csv-two-files", func(t *testing.T) {
			df := s.ReadCSV(ctx, nil, cliData+"events/part-1.csv", cliData+"events/part-2.csv")
			check(t, ctx, df, false, cols("day", "kind", "n"),
				"2024-01-01|click|3", "2024-01-02|view|5",
				"2024-01-02|click|7", "2024-01-03|view|11", "2024-01-03|click|13")
		})
		t.Run("csv-directory", func(t *testing.T) {
			n, err := s.ReadCSV(ctx, nil, cliData+"events").Count(ctx)
			if err != nil || n != 5 {
				t.Errorf("count: got %d, %v; want 5", n, err)
			}
		})
		t.Run("json", func(t *testing.T) {
			check(t, ctx, s.ReadJSON(ctx, nil, cliData+"scores.json"), false, cols("id", "name", "score"),
				"1|Ann|1.5", "2|Bob|NULL", "3|Cid|-2.25")
		})
		t.Run("parquet", func(t *testing.T) {
			df := s.ReadParquet(ctx, "testdata/tpch/sf-sample/region.parquet").
				Select(flint.Col("r_regionkey"), flint.Col("r_name"))
			check(t, ctx, df, false, cols("r_regionkey", "r_name"),
				"0|AFRICA", "1|AMERICA", "2|ASIA", "3|EUROPE", "4|MIDDLE EAST")
		})
	})
}

func TestDataFrameFilterSelect(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		p := people(ctx, s)
		t.Run("filter", func(t *testing.T) {
			df := p.Filter(flint.Col("salary").Gt(flint.Decimal("95"))).Select(flint.Col("name"))
			check(t, ctx, df, false, cols("name"), "Ann", "Bob")
		})
		t.Run("filter-null-is-not-true", func(t *testing.T) {
			// Eve's NULL salary makes both conditions NULL: she is in neither.
			lo := p.Filter(flint.Col("salary").Lt(flint.Decimal("100"))).Select(flint.Col("name"))
			hi := p.Filter(flint.Col("salary").GtEq(flint.Decimal("100"))).Select(flint.Col("name"))
			check(t, ctx, lo, false, nil, "Cid", "Dee")
			check(t, ctx, hi, false, nil, "Ann", "Bob")
		})
		t.Run("where", func(t *testing.T) {
			df := p.Where("dept = 'ops' AND hired >= DATE '2019-01-01'").Select(flint.Col("name"))
			check(t, ctx, df, false, cols("name"), "Cid")
		})
		t.Run("is-null-in-like-between", func(t *testing.T) {
			check(t, ctx, p.Filter(flint.Col("dept").IsNull()).Select(flint.Col("id")), false, nil, "4")
			check(t, ctx, p.Filter(flint.Col("name").In(flint.Lit("Bob"), flint.Lit("Eve"))).Select(flint.Col("id")), false, nil, "2", "5")
			check(t, ctx, p.Filter(flint.Col("name").Like("%e%")).Select(flint.Col("id")), false, nil, "4", "5")
			check(t, ctx, p.Filter(flint.Col("id").Between(flint.Lit(2), flint.Lit(4)).Not()).Select(flint.Col("id")), false, nil, "1", "5")
		})
		t.Run("select", func(t *testing.T) {
			df := p.Select(flint.Col("name"), flint.Col("salary").Mul(flint.Lit(2)).Alias("double"), flint.Col("id").Alias("key"))
			check(t, ctx, df, false, cols("name", "double", "key"),
				"Ann|241.00|1", "Bob|200.00|2", "Cid|180.50|3", "Dee|160.00|4", "Eve|NULL|5")
		})
		t.Run("select-expr", func(t *testing.T) {
			df := p.SelectExpr("upper(name) AS shout", "id + 10 AS id10", "salary IS NULL AS unpaid")
			check(t, ctx, df, false, cols("shout", "id10", "unpaid"),
				"ANN|11|false", "BOB|12|false", "CID|13|false", "DEE|14|false", "EVE|15|true")
		})
		t.Run("with-column-add", func(t *testing.T) {
			df := p.WithColumn("senior", flint.Col("hired").Lt(flint.Date("2020-01-01"))).
				Select(flint.Col("name"), flint.Col("senior"))
			check(t, ctx, df, false, cols("name", "senior"),
				"Ann|false", "Bob|true", "Cid|false", "Dee|false", "Eve|true")
		})
		t.Run("with-column-replace", func(t *testing.T) {
			df := p.WithColumn("salary", flint.Call("coalesce", flint.Col("salary"), flint.Decimal("0.00")))
			check(t, ctx, df, false, cols("id", "name", "dept", "salary", "hired"),
				"1|Ann|eng|120.50|2020-01-15",
				"2|Bob|eng|100.00|2019-03-01",
				"3|Cid|ops|90.25|2021-07-30",
				"4|Dee|NULL|80.00|2022-11-11",
				"5|Eve|ops|0.00|2018-05-20")
		})
		t.Run("cast", func(t *testing.T) {
			df := p.Filter(flint.Col("id").Eq(flint.Lit(3))).
				Select(flint.Col("salary").Cast("BIGINT").Alias("whole"), flint.Col("id").Cast("DECIMAL(10,3)").Alias("d"))
			check(t, ctx, df, true, cols("whole", "d"), "90|3.000")
		})
	})
}

func TestDataFrameAggregate(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		p := people(ctx, s)
		t.Run("group-by", func(t *testing.T) {
			df := p.GroupBy(flint.Col("dept")).Agg(
				flint.Sum(flint.Col("salary")).Alias("total"),
				flint.CountAll().Alias("n"),
				flint.Count(flint.Col("salary")).Alias("paid"),
				flint.Min(flint.Col("hired")).Alias("first"),
				flint.Max(flint.Col("name")).Alias("last_name"))
			check(t, ctx, df, false, cols("dept", "total", "n", "paid", "first", "last_name"),
				"eng|220.50|2|2|2019-03-01|Bob",
				"ops|90.25|2|1|2018-05-20|Eve",
				"NULL|80.00|1|1|2022-11-11|Dee")
		})
		t.Run("global", func(t *testing.T) {
			df := p.GroupBy().Agg(flint.Sum(flint.Col("salary")).Alias("total"), flint.CountDistinct(flint.Col("dept")).Alias("depts"))
			check(t, ctx, df, true, cols("total", "depts"), "390.75|2")
		})
		t.Run("expression-key", func(t *testing.T) {
			df := p.GroupBy(flint.Expr("id % 2").Alias("odd")).Agg(flint.CountAll().Alias("n"))
			check(t, ctx, df, false, cols("odd", "n"), "1|3", "0|2")
			// The key alias can be used by later steps.
			df = p.GroupBy(flint.Expr("upper(dept)").Alias("D"), flint.Col("dept")).Agg(flint.CountAll().Alias("n")).
				OrderBy(flint.Col("D").Desc().NullsFirst()).Select(flint.Col("D"), flint.Col("n"))
			check(t, ctx, df, true, cols("D", "n"), "NULL|1", "OPS|2", "ENG|2")
		})
		t.Run("avg", func(t *testing.T) {
			// avg over the four non-NULL salaries: 390.75 / 4 = 97.6875.
			df := p.GroupBy().Agg(flint.Avg(flint.Col("salary")).Alias("a"))
			_, rows := collect(t, ctx, df)
			if len(rows) != 1 {
				t.Fatalf("got %d rows", len(rows))
			}
			if v, err := strconv.ParseFloat(rows[0][0], 64); err != nil || v != 97.6875 {
				t.Errorf("avg: got %s, want 97.6875", rows[0][0])
			}
		})
		t.Run("distinct", func(t *testing.T) {
			check(t, ctx, p.Select(flint.Col("dept")).Distinct(), false, cols("dept"), "eng", "ops", "NULL")
		})
		t.Run("count", func(t *testing.T) {
			n, err := p.Count(ctx)
			if err != nil || n != 5 {
				t.Errorf("Count: got %d, %v; want 5", n, err)
			}
			n, err = p.Filter(flint.Col("id").Gt(flint.Lit(100))).Count(ctx)
			if err != nil || n != 0 {
				t.Errorf("Count of empty: got %d, %v; want 0", n, err)
			}
		})
	})
}

func TestDataFrameJoin(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		p, d := people(ctx, s), depts(ctx, s)
		on := flint.Col("people.dept").Eq(flint.Col("depts.dept"))
		t.Run("inner", func(t *testing.T) {
			df := p.Join(d, on, "inner").Select(flint.Col("name"), flint.Col("floor"))
			check(t, ctx, df, false, cols("name", "floor"), "Ann|3", "Bob|3", "Cid|1", "Eve|1")
		})
		t.Run("left", func(t *testing.T) {
			df := p.Join(d, on, "left").Select(flint.Col("name"), flint.Col("floor"))
			check(t, ctx, df, false, cols("name", "floor"), "Ann|3", "Bob|3", "Cid|1", "Dee|NULL", "Eve|1")
		})
		t.Run("right", func(t *testing.T) {
			df := p.Join(d, on, "right").Select(flint.Col("name"), flint.Col("depts.dept"))
			check(t, ctx, df, false, nil, "Ann|eng", "Bob|eng", "Cid|ops", "Eve|ops", "NULL|hr")
		})
		t.Run("full", func(t *testing.T) {
			df := p.Join(d, on, "full").Select(flint.Col("name"), flint.Col("floor"))
			check(t, ctx, df, false, nil, "Ann|3", "Bob|3", "Cid|1", "Dee|NULL", "Eve|1", "NULL|2")
		})
		t.Run("semi", func(t *testing.T) {
			df := p.Join(d, on, "semi")
			names, rows := collect(t, ctx, df)
			if strings.Join(names, ",") != "id,name,dept,salary,hired" {
				t.Errorf("semi join columns: %v", names)
			}
			var ids []string
			for _, r := range rows {
				ids = append(ids, r[0])
			}
			if got := strings.Join(sortedCopy(ids), ","); got != "1,2,3,5" {
				t.Errorf("semi join ids: got %s, want 1,2,3,5", got)
			}
		})
		t.Run("anti", func(t *testing.T) {
			check(t, ctx, p.Join(d, on, "anti").Select(flint.Col("name")), false, nil, "Dee")
			check(t, ctx, d.Join(p, on, "left_anti"), false, cols("dept", "floor"), "hr|2")
		})
		t.Run("non-equi-condition", func(t *testing.T) {
			// Each person with the departments on a higher floor number than 1.
			cond := on.And(flint.Col("floor").Gt(flint.Lit(1)))
			check(t, ctx, p.Join(d, cond, "inner").Select(flint.Col("name")), false, nil, "Ann", "Bob")
		})
		t.Run("cross", func(t *testing.T) {
			n, err := p.Join(d, flint.Column{}, "cross").Count(ctx)
			if err != nil || n != 15 {
				t.Errorf("cross join count: got %d, %v; want 15", n, err)
			}
		})
		t.Run("using", func(t *testing.T) {
			df := p.JoinUsing(d, []string{"dept"}, "inner")
			check(t, ctx, df, false, cols("id", "name", "dept", "salary", "hired", "floor"),
				"1|Ann|eng|120.50|2020-01-15|3",
				"2|Bob|eng|100.00|2019-03-01|3",
				"3|Cid|ops|90.25|2021-07-30|1",
				"5|Eve|ops|NULL|2018-05-20|1")
		})
		t.Run("using-full", func(t *testing.T) {
			df := p.JoinUsing(d, []string{"dept"}, "full").Select(flint.Col("dept"), flint.Col("name"))
			check(t, ctx, df, false, cols("dept", "name"),
				"eng|Ann", "eng|Bob", "ops|Cid", "ops|Eve", "NULL|Dee", "hr|NULL")
		})
		t.Run("self-join", func(t *testing.T) {
			// Pairs of colleagues in the same department, each pair once.
			other := p.Select(flint.Col("id").Alias("id2"), flint.Col("name").Alias("name2"), flint.Col("dept").Alias("dept2"))
			df := p.Join(other, flint.Col("dept").Eq(flint.Col("dept2")).And(flint.Col("id").Lt(flint.Col("id2"))), "inner").
				Select(flint.Col("name"), flint.Col("name2"))
			check(t, ctx, df, false, cols("name", "name2"), "Ann|Bob", "Cid|Eve")
		})
		t.Run("self-join-alias", func(t *testing.T) {
			a, b := p.Alias("a"), p.Alias("b")
			j := a.Join(b, flint.Col("a.dept").Eq(flint.Col("b.dept")).And(flint.Col("a.id").Lt(flint.Col("b.id"))), "inner")
			check(t, ctx, j.Select(flint.Col("a.name"), flint.Col("b.name").Alias("other")), false,
				cols("name", "other"), "Ann|Bob", "Cid|Eve")
			// A filter on one side must not leak into the other.
			check(t, ctx, j.Filter(flint.Col("b.id").Eq(flint.Lit(5))).Select(flint.Col("a.id"), flint.Col("b.id")), false,
				nil, "3|5")
			// Each person with the one hired right before them by id.
			prev := a.Join(b, flint.Col("a.id").Eq(flint.Col("b.id").Add(flint.Lit(1))), "left").
				Select(flint.Col("a.id"), flint.Col("b.name"))
			check(t, ctx, prev, false, nil, "1|NULL", "2|Ann", "3|Bob", "4|Cid", "5|Dee")
		})
		t.Run("self-join-using", func(t *testing.T) {
			n, err := p.JoinUsing(p, []string{"id"}, "inner").Count(ctx)
			if err != nil || n != 5 {
				t.Errorf("self join on id: got %d, %v; want 5", n, err)
			}
		})
	})
}

func TestDataFrameOrderLimitUnion(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		p := people(ctx, s)
		name := flint.Col("name")
		t.Run("desc-nulls-last", func(t *testing.T) {
			df := p.OrderBy(flint.Col("salary").Desc()).Select(name)
			check(t, ctx, df, true, nil, "Ann", "Bob", "Cid", "Dee", "Eve")
		})
		t.Run("desc-nulls-first", func(t *testing.T) {
			df := p.OrderBy(flint.Col("salary").Desc().NullsFirst()).Select(name)
			check(t, ctx, df, true, nil, "Eve", "Ann", "Bob", "Cid", "Dee")
		})
		t.Run("asc-nulls-first-two-keys", func(t *testing.T) {
			df := p.OrderBy(flint.Col("dept").Asc().NullsFirst(), name.Desc()).Select(name)
			check(t, ctx, df, true, nil, "Dee", "Bob", "Ann", "Eve", "Cid")
		})
		t.Run("asc-nulls-last", func(t *testing.T) {
			df := p.OrderBy(flint.Col("dept").Asc().NullsLast(), flint.Col("hired").Asc()).Select(name)
			check(t, ctx, df, true, nil, "Bob", "Ann", "Eve", "Cid", "Dee")
		})
		t.Run("limit", func(t *testing.T) {
			df := p.OrderBy(flint.Col("hired").Desc()).Limit(2).Select(name)
			check(t, ctx, df, true, nil, "Dee", "Cid")
			n, err := p.Limit(3).Count(ctx)
			if err != nil || n != 3 {
				t.Errorf("Limit(3).Count: got %d, %v", n, err)
			}
			n, err = p.Limit(0).Count(ctx)
			if err != nil || n != 0 {
				t.Errorf("Limit(0).Count: got %d, %v", n, err)
			}
		})
		t.Run("union", func(t *testing.T) {
			df := p.Select(name).Union(depts(ctx, s).Select(flint.Col("dept")))
			check(t, ctx, df, false, cols("name"), "Ann", "Bob", "Cid", "Dee", "Eve", "eng", "ops", "hr")
		})
		t.Run("union-self", func(t *testing.T) {
			n, err := p.Union(p).Count(ctx)
			if err != nil || n != 10 {
				t.Errorf("self union: got %d, %v; want 10", n, err)
			}
		})
	})
}

func TestDataFrameAndSQL(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		paid := people(ctx, s).Filter(flint.Col("salary").IsNotNull())
		if err := paid.CreateTempView("paid"); err != nil {
			t.Fatal(err)
		}
		if err := depts(ctx, s).CreateTempView("depts"); err != nil {
			t.Fatal(err)
		}
		sqlDF := s.SQL(ctx, `SELECT coalesce(d.floor, 0) AS floor, sum(p.salary) AS total
			FROM paid p LEFT JOIN depts d ON p.dept = d.dept GROUP BY 1`)
		check(t, ctx, sqlDF, false, cols("floor", "total"), "3|220.50", "1|90.25", "0|80.00")
		// DataFrame operations on a SQL result.
		df := sqlDF.Filter(flint.Col("total").Gt(flint.Decimal("85"))).OrderBy(flint.Col("floor").Asc())
		check(t, ctx, df, true, nil, "1|90.25", "3|220.50")
		// Session.Table over a view.
		n, err := s.Table("paid").Count(ctx)
		if err != nil || n != 4 {
			t.Errorf("Table(paid).Count: got %d, %v; want 4", n, err)
		}
		// A SQL-created view read as a DataFrame.
		if err := s.SQL(ctx, "CREATE VIEW eng AS SELECT name FROM paid WHERE dept = 'eng'").Err(); err != nil {
			t.Fatal(err)
		}
		check(t, ctx, s.Table("eng"), false, cols("name"), "Ann", "Bob")
	})
}

func TestDataFrameShowExplain(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		p := people(ctx, s).OrderBy(flint.Col("id").Asc())
		var buf bytes.Buffer
		if err := p.Show(ctx, &buf, 3); err != nil {
			t.Fatal(err)
		}
		want := `+----+------+------+--------+------------+
| id | name | dept | salary | hired      |
+----+------+------+--------+------------+
|  1 | Ann  | eng  | 120.50 | 2020-01-15 |
|  2 | Bob  | eng  | 100.00 | 2019-03-01 |
|  3 | Cid  | ops  |  90.25 | 2021-07-30 |
+----+------+------+--------+------------+
(3 rows)
`
		if buf.String() != want {
			t.Errorf("Show:\n%s\nwant:\n%s", buf.String(), want)
		}
		buf.Reset()
		if err := people(ctx, s).Filter(flint.Col("id").Gt(flint.Lit(3))).OrderBy(flint.Col("id").Asc()).
			Select(flint.Col("dept"), flint.Col("salary")).Show(ctx, &buf, 10); err != nil {
			t.Fatal(err)
		}
		want = `+------+--------+
| dept | salary |
+------+--------+
| NULL |  80.00 |
| ops  |   NULL |
+------+--------+
(2 rows)
`
		if buf.String() != want {
			t.Errorf("Show with NULLs:\n%s\nwant:\n%s", buf.String(), want)
		}
		text, err := p.GroupBy(flint.Col("dept")).Agg(flint.CountAll()).Explain()
		if err != nil {
			t.Fatal(err)
		}
		for _, section := range []string{"Logical plan", "Optimized plan", "Physical plan", "Stages"} {
			if !strings.Contains(text, section) {
				t.Errorf("Explain has no %q section:\n%s", section, text)
			}
		}
	})
}

func TestDataFrameErrors(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := flint.NewSession(ctx, flint.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, d := people(ctx, s), depts(ctx, s)
	tests := []struct {
		name string
		df   *flint.DataFrame
		want []string // substrings of the error
	}{
		{"filter unknown column", p.Filter(flint.Col("nmae").Eq(flint.Lit("Ann"))), []string{"nmae", "name"}},
		{"select unknown column", p.Select(flint.Col("wage")), []string{"wage"}},
		{"filter not boolean", p.Filter(flint.Col("id")), []string{"BOOLEAN", "BIGINT"}},
		{"where syntax", p.Where("salary >"), []string{"syntax"}},
		{"where type", p.Where("name + 1 > 2"), []string{"name"}},
		{"bad join type", p.Join(d, flint.Col("people.dept").Eq(flint.Col("depts.dept")), "sideways"), []string{"sideways"}},
		{"ambiguous join column", p.Join(d, flint.Col("dept").Eq(flint.Lit("eng")), "inner"), []string{"dept"}},
		{"join using missing", p.JoinUsing(d, []string{"floor"}, "inner"), []string{"floor", "left"}},
		{"union width", p.Union(d), []string{"union", "5", "2"}},
		{"union types", p.Select(flint.Col("id")).Union(d.Select(flint.Col("dept"))), []string{"union"}},
		{"missing file", s.ReadCSV(ctx, nil, cliData+"nope.csv"), []string{"nope.csv"}},
		{"no path", s.ReadParquet(ctx), []string{"no path"}},
		{"unknown table", s.Table("nope"), []string{"nope"}},
		{"ambiguous after self-join", p.Alias("a").Join(p.Alias("b"), flint.Col("a.id").Eq(flint.Col("b.id")), "inner").Select(flint.Col("name")), []string{"ambiguous"}},
		{"old qualifier after alias", p.Alias("a").Select(flint.Col("people.name")), []string{"people"}},
		{"bad literal", p.Filter(flint.Col("id").Eq(flint.Lit(struct{}{}))), []string{"Lit"}},
		{"bad cast type", p.Select(flint.Col("id").Cast("NOT A TYPE")), []string{"NOT A TYPE"}},
		{"agg unknown column", p.GroupBy(flint.Col("dept")).Agg(flint.Sum(flint.Col("pay"))), []string{"pay"}},
		{"sql unknown table", s.SQL(ctx, "SELECT 1 FROM peeple"), []string{"peeple"}},
		{"error propagates", p.Filter(flint.Col("nope")).Select(flint.Col("id")).Limit(1), []string{"nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			batches, err := tc.df.Collect(ctx)
			release(batches)
			if err == nil {
				t.Fatalf("Collect succeeded, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, err := tc.df.Count(ctx); err == nil {
				t.Error("Count succeeded")
			}
			if _, err := tc.df.Explain(); err == nil {
				t.Error("Explain succeeded")
			}
			if err := tc.df.Show(ctx, &bytes.Buffer{}, 5); err == nil {
				t.Error("Show succeeded")
			}
		})
	}
}

// TestDataFrameTPCH expresses TPC-H Q1, Q3 and Q6 with the DataFrame API and
// compares the results with DuckDB's answers.
func TestDataFrameTPCH(t *testing.T) {
	const dir = "testdata/tpch/sf-sample/"
	ctx := context.Background()
	for _, bs := range []int{3, 1024} {
		t.Run(fmt.Sprintf("batch%d", bs), func(t *testing.T) {
			if bs < 1024 && testing.Short() {
				t.Skip("small batches are slow")
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithBatchSize(bs), flint.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c, d, lit := flint.Col, flint.Decimal, flint.Lit
			lineitem := s.ReadParquet(ctx, dir+"lineitem.parquet")
			orders := s.ReadParquet(ctx, dir+"orders.parquet")
			customer := s.ReadParquet(ctx, dir+"customer.parquet")
			discPrice := c("l_extendedprice").Mul(d("1").Sub(c("l_discount")))

			q1 := lineitem.
				Filter(c("l_shipdate").LtEq(flint.Date("1998-09-02"))).
				GroupBy(c("l_returnflag"), c("l_linestatus")).
				Agg(
					flint.Sum(c("l_quantity")).Alias("sum_qty"),
					flint.Sum(c("l_extendedprice")).Alias("sum_base_price"),
					flint.Sum(discPrice).Alias("sum_disc_price"),
					flint.Sum(discPrice.Mul(d("1").Add(c("l_tax")))).Alias("sum_charge"),
					flint.Avg(c("l_quantity")).Alias("avg_qty"),
					flint.Avg(c("l_extendedprice")).Alias("avg_price"),
					flint.Avg(c("l_discount")).Alias("avg_disc"),
					flint.CountAll().Alias("count_order")).
				OrderBy(c("l_returnflag").Asc(), c("l_linestatus").Asc())

			q3 := customer.Filter(c("c_mktsegment").Eq(lit("BUILDING"))).
				Join(orders.Filter(c("o_orderdate").Lt(flint.Date("1995-03-15"))), c("c_custkey").Eq(c("o_custkey")), "inner").
				Join(lineitem.Filter(c("l_shipdate").Gt(flint.Date("1995-03-15"))), c("l_orderkey").Eq(c("o_orderkey")), "inner").
				GroupBy(c("l_orderkey"), c("o_orderdate"), c("o_shippriority")).
				Agg(flint.Sum(discPrice).Alias("revenue")).
				OrderBy(c("revenue").Desc(), c("o_orderdate").Asc()).
				Limit(10).
				Select(c("l_orderkey"), c("revenue"), c("o_orderdate"), c("o_shippriority"))

			q6 := lineitem.
				Filter(c("l_shipdate").GtEq(flint.Date("1994-01-01")).
					And(c("l_shipdate").Lt(flint.Date("1995-01-01"))).
					And(c("l_discount").Between(d("0.05"), d("0.07"))).
					And(c("l_quantity").Lt(lit(24)))).
				GroupBy().
				Agg(flint.Sum(c("l_extendedprice").Mul(c("l_discount"))).Alias("revenue"))

			for _, q := range []struct {
				n  int
				df *flint.DataFrame
			}{{1, q1}, {3, q3}, {6, q6}} {
				t.Run(fmt.Sprintf("q%02d", q.n), func(t *testing.T) {
					got, err := q.df.Collect(ctx)
					if err != nil {
						t.Fatalf("Q%d: %v", q.n, err)
					}
					defer release(got)
					checkAnswer(t, fmt.Sprintf("testdata/tpch/answers/sample/q%02d.csv", q.n), got)
				})
			}
		})
	}
}

// TestConcurrentQueries runs queries from several goroutines on one
// session, which is documented as safe for concurrent use.
func TestConcurrentQueries(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithBatchSize(2), flint.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RegisterTable(ctx, "people", "", cliData+"people.csv", nil); err != nil {
		t.Fatal(err)
	}
	const workers = 4
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			var err error
			for i := 0; i < 5 && err == nil; i++ {
				var df *flint.DataFrame
				var want int64
				if (w+i)%2 == 0 {
					df = s.SQL(ctx, "SELECT dept, sum(salary) FROM people GROUP BY dept")
					want = 3
				} else {
					p := s.Table("people")
					df = p.Join(depts(ctx, s), flint.Col("people.dept").Eq(flint.Col("depts.dept")), "inner")
					want = 4
				}
				var n int64
				if n, err = df.Count(ctx); err == nil && n != want {
					err = fmt.Errorf("worker %d: got %d rows, want %d", w, n, want)
				}
			}
			errs <- err
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestWriteParquet(t *testing.T) {
	forEachBatchSize(t, func(t *testing.T, ctx context.Context, s *flint.Session) {
		dir := t.TempDir()
		path := dir + "/people.parquet"
		src := people(ctx, s).WithColumn("ts", flint.Expr("CAST(hired AS TIMESTAMP)")).
			WithColumn("ok", flint.Col("salary").Gt(flint.Decimal("95"))).
			WithColumn("score", flint.Expr("CAST(id AS DOUBLE) / 4"))
		if err := src.WriteParquet(ctx, path); err != nil {
			t.Fatal(err)
		}
		assertDir(t, dir, "people.parquet")
		back := s.ReadParquet(ctx, path)
		wantSchema, err := src.Schema()
		if err != nil {
			t.Fatal(err)
		}
		gotSchema, err := back.Schema()
		if err != nil {
			t.Fatal(err)
		}
		if len(gotSchema.Fields()) != len(wantSchema.Fields()) {
			t.Fatalf("schema: got %s, want %s", gotSchema, wantSchema)
		}
		for i, f := range wantSchema.Fields() {
			g := gotSchema.Field(i)
			if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
				t.Errorf("column %d: got %s %s, want %s %s", i, g.Name, g.Type, f.Name, f.Type)
			}
		}
		check(t, ctx, back, false, cols("id", "name", "dept", "salary", "hired", "ts", "ok", "score"),
			"1|Ann|eng|120.50|2020-01-15|2020-01-15 00:00:00|true|0.25",
			"2|Bob|eng|100.00|2019-03-01|2019-03-01 00:00:00|true|0.5",
			"3|Cid|ops|90.25|2021-07-30|2021-07-30 00:00:00|false|0.75",
			"4|Dee|NULL|80.00|2022-11-11|2022-11-11 00:00:00|false|1",
			"5|Eve|ops|NULL|2018-05-20|2018-05-20 00:00:00|NULL|1.25")
		ts := back.Select(flint.Col("id"), flint.Expr("CAST(ts AS DATE) = hired").Alias("same"))
		check(t, ctx, ts, false, nil, "1|true", "2|true", "3|true", "4|true", "5|true")

		// Overwrite with a smaller result.
		if err := people(ctx, s).Filter(flint.Col("id").Eq(flint.Lit(2))).Select(flint.Col("name")).WriteParquet(ctx, path); err != nil {
			t.Fatal(err)
		}
		check(t, ctx, s.ReadParquet(ctx, path), false, cols("name"), "Bob")

		// An empty result is a valid file with the schema.
		empty := dir + "/empty.parquet"
		if err := people(ctx, s).Filter(flint.Col("id").Gt(flint.Lit(99))).WriteParquet(ctx, empty); err != nil {
			t.Fatal(err)
		}
		check(t, ctx, s.ReadParquet(ctx, empty), false, cols("id", "name", "dept", "salary", "hired"))

		// A failing query writes nothing and keeps the old file.
		before, _ := os.ReadFile(path)
		if err := people(ctx, s).Select(flint.Col("name").Cast("INT")).WriteParquet(ctx, path); err == nil {
			t.Error("a failing query wrote a file")
		}
		if err := people(ctx, s).Filter(flint.Col("nope")).WriteParquet(ctx, dir+"/never.parquet"); err == nil {
			t.Error("an invalid query wrote a file")
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Error("the old file changed")
		}
		assertDir(t, dir, "empty.parquet", "people.parquet")
		if err := people(ctx, s).WriteParquet(ctx, dir+"/no/such/dir/x.parquet"); err == nil || !strings.Contains(err.Error(), "x.parquet") {
			t.Errorf("missing directory: got %v", err)
		}
	})
}

// assertDir checks that dir holds exactly the named files (sorted).
func assertDir(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

// TestWriteParquetTPCH writes TPC-H Q1's result with WriteParquet, reads it
// back and compares it with DuckDB's answer.
func TestWriteParquetTPCH(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, table := range []string{"lineitem"} {
		if err := s.RegisterTable(ctx, table, "parquet", "testdata/tpch/sf-sample/"+table+".parquet", nil); err != nil {
			t.Fatal(err)
		}
	}
	path := t.TempDir() + "/q01.parquet"
	if err := s.SQL(ctx, tpch.Query(1)).WriteParquet(ctx, path); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadParquet(ctx, path).Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release(got)
	checkAnswer(t, "testdata/tpch/answers/sample/q01.csv", got)
}
