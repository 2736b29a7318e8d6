package connectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestPartitionGroupsMatchesPerRow compares partitionGroups with folders
// formatted row by row: NULL and "" share the default partition, NaNs of
// any payload one folder, and every folder keeps its rows in order.
func TestPartitionGroupsMatchesPerRow(t *testing.T) {
	mem := memory.NewGoAllocator()
	r := rand.New(rand.NewPCG(3, 4))
	const n = 3000
	s := array.NewStringBuilder(mem)
	i64 := array.NewInt64Builder(mem)
	f64 := array.NewFloat64Builder(mem)
	for range n {
		switch r.IntN(6) {
		case 0:
			s.AppendNull()
		case 1:
			s.Append("")
		default:
			s.Append([]string{"a/b", "x", "y=z"}[r.IntN(3)])
		}
		if r.IntN(9) == 0 {
			i64.AppendNull()
		} else {
			i64.Append(int64(r.IntN(4)) - 2)
		}
		switch r.IntN(5) {
		case 0:
			f64.Append(math.Float64frombits(0x7ff8000000000000 | uint64(r.IntN(100))))
		case 1:
			f64.Append(math.Copysign(0, -1))
		default:
			f64.Append(float64(r.IntN(3)))
		}
	}
	cols := []arrow.Array{s.NewArray(), i64.NewArray(), f64.NewArray()}
	fields := []arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64}}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, n)
	defer rec.Release()
	for _, parts := range [][]int{{0}, {1}, {2}, {0, 1}, {2, 0, 1}} {
		w := &TaskWriter{partCols: parts}
		for _, c := range parts {
			w.spec.PartitionBy = append(w.spec.PartitionBy, PartitionColumn{Name: fields[c].Name})
		}
		folders, groups := w.partitionGroups(rec)
		// Per row, as the folders were formatted before.
		var want []string
		wantRows := map[string][]int32{}
		for row := range n {
			var segs []string
			for _, c := range parts {
				segs = append(segs, fields[c].Name+"="+partitionValue(rec.Column(c), row))
			}
			f := strings.Join(segs, "/")
			if _, ok := wantRows[f]; !ok {
				want = append(want, f)
			}
			wantRows[f] = append(wantRows[f], int32(row))
		}
		if fmt.Sprint(folders) != fmt.Sprint(want) {
			t.Fatalf("%v: folders %q, want %q", parts, folders, want)
		}
		for i, f := range folders {
			if fmt.Sprint(groups[i]) != fmt.Sprint(wantRows[f]) {
				t.Fatalf("%v: rows of %s differ", parts, f)
			}
		}
	}
}
