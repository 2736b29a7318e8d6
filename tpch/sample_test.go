package tpch

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/internal/resultcmp"
)

const answersDir = "../testdata/tpch/answers/sample"

// lineitemRows is the part of lineitem the reference loops below need.
type lineitemRows struct {
	qty, price, disc, tax []int64 // unscaled, scale 2
	flag, status          []string
	ship                  []arrow.Date32
}

func readLineitem(t *testing.T, mem memory.Allocator) lineitemRows {
	t.Helper()
	tbl := readTable(t, mem, filepath.Join(sampleDir, "lineitem.parquet"))
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 1024)
	defer tr.Release()
	var li lineitemRows
	unscaled := func(a arrow.Array, i int) int64 { return int64(a.(*array.Decimal128).Value(i).LowBits()) }
	for tr.Next() {
		b := tr.RecordBatch()
		for i := 0; i < int(b.NumRows()); i++ {
			li.qty = append(li.qty, unscaled(b.Column(4), i))
			li.price = append(li.price, unscaled(b.Column(5), i))
			li.disc = append(li.disc, unscaled(b.Column(6), i))
			li.tax = append(li.tax, unscaled(b.Column(7), i))
			li.flag = append(li.flag, b.Column(8).(*array.String).Value(i))
			li.status = append(li.status, b.Column(9).(*array.String).Value(i))
			li.ship = append(li.ship, b.Column(10).(*array.Date32).Value(i))
		}
	}
	return li
}

func day(y int, m time.Month, d int) arrow.Date32 {
	return arrow.Date32FromTime(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// TestSampleAnswersQ1Q6 recomputes Q1 and Q6 on the committed sample with
// plain loops and checks them against the committed DuckDB answers through
// resultcmp: generator, answers and comparator must agree.
func TestSampleAnswersQ1Q6(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	li := readLineitem(t, mem)

	// Q1. Scales: qty/price 2, disc_price 4, charge 6.
	type agg struct{ qty, price, discPrice, charge, disc, n int64 }
	groups := map[[2]string]*agg{}
	cutoff := day(1998, 9, 2)
	for i := range li.qty {
		if li.ship[i] > cutoff {
			continue
		}
		k := [2]string{li.flag[i], li.status[i]}
		g := groups[k]
		if g == nil {
			g = &agg{}
			groups[k] = g
		}
		g.qty += li.qty[i]
		g.price += li.price[i]
		dp := li.price[i] * (100 - li.disc[i])
		g.discPrice += dp
		g.charge += dp * (100 + li.tax[i])
		g.disc += li.disc[i]
		g.n++
	}
	keys := make([][2]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	dec := func(s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: 38, Scale: s} }
	f64 := arrow.PrimitiveTypes.Float64
	q1Schema := arrow.NewSchema([]arrow.Field{
		{Name: "l_returnflag", Type: arrow.BinaryTypes.String}, {Name: "l_linestatus", Type: arrow.BinaryTypes.String},
		{Name: "sum_qty", Type: dec(2)}, {Name: "sum_base_price", Type: dec(2)},
		{Name: "sum_disc_price", Type: dec(4)}, {Name: "sum_charge", Type: dec(6)},
		{Name: "avg_qty", Type: f64}, {Name: "avg_price", Type: f64}, {Name: "avg_disc", Type: f64},
		{Name: "count_order", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	for _, batchSize := range []int{1, 3, 1024} {
		rb := array.NewRecordBuilder(mem, q1Schema)
		var batches []arrow.RecordBatch
		for i, k := range keys {
			g := groups[k]
			rb.Field(0).(*array.StringBuilder).Append(k[0])
			rb.Field(1).(*array.StringBuilder).Append(k[1])
			for c, v := range []int64{g.qty, g.price, g.discPrice, g.charge} {
				rb.Field(2 + c).(*array.Decimal128Builder).Append(decimal128.FromI64(v))
			}
			n := float64(g.n)
			rb.Field(6).(*array.Float64Builder).Append(float64(g.qty) / 100 / n)
			rb.Field(7).(*array.Float64Builder).Append(float64(g.price) / 100 / n)
			rb.Field(8).(*array.Float64Builder).Append(float64(g.disc) / 100 / n)
			rb.Field(9).(*array.Int64Builder).Append(g.n)
			if (i+1)%batchSize == 0 || i == len(keys)-1 {
				batches = append(batches, rb.NewRecordBatch())
			}
		}
		rb.Release()
		compareAnswer(t, 1, batches)
		for _, b := range batches {
			b.Release()
		}
	}

	// Q6: revenue at scale 4.
	var revenue int64
	lo, hi := day(1994, 1, 1), day(1995, 1, 1)
	for i := range li.qty {
		if li.ship[i] >= lo && li.ship[i] < hi && li.disc[i] >= 5 && li.disc[i] <= 7 && li.qty[i] < 2400 {
			revenue += li.price[i] * li.disc[i]
		}
	}
	q6Schema := arrow.NewSchema([]arrow.Field{{Name: "revenue", Type: dec(4), Nullable: true}}, nil)
	rb := array.NewRecordBuilder(mem, q6Schema)
	rb.Field(0).(*array.Decimal128Builder).Append(decimal128.FromI64(revenue))
	b := rb.NewRecordBatch()
	rb.Release()
	compareAnswer(t, 6, []arrow.RecordBatch{b})
	b.Release()
}

func compareAnswer(t *testing.T, q int, got []arrow.RecordBatch) {
	t.Helper()
	f, err := os.Open(filepath.Join(answersDir, fmt.Sprintf("q%02d.csv", q)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := resultcmp.CompareCSV(f, got, resultcmp.Options{Ordered: true, CheckNames: true}); err != nil {
		t.Errorf("q%02d: %v", q, err)
	}
}

// TestSampleAnswersPresent checks that every query has a committed answer.
func TestSampleAnswersPresent(t *testing.T) {
	for n := 1; n <= NumQueries; n++ {
		st, err := os.Stat(filepath.Join(answersDir, fmt.Sprintf("q%02d.csv", n)))
		if err != nil || st.Size() == 0 {
			t.Errorf("q%02d: missing or empty answer: %v", n, err)
		}
	}

}
