package exec

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestAggCategoryCounts counts categories per group in one phase and in
// two (partial states from small batches, merged by a final phase), and
// compares the decoded counts with counts kept by hand: NULL values are
// not counted, a group with none gives NULL, values are copied out of
// their batches.
func TestAggCategoryCounts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	r := rand.New(rand.NewPCG(7, 8))
	vals := []string{"AIR", "", "REG AIR", "DELIVER IN PERSON", "x\x00y", strings.Repeat("long", 20)}
	want := map[any]map[string]int64{}
	var rows [][]any
	for range 3000 {
		var k any = int64(r.IntN(4))
		if r.IntN(10) == 0 {
			k = nil
		}
		var s any
		if r.IntN(8) != 0 && k != int64(3) { // group 3 sees only NULLs
			s = vals[r.IntN(len(vals))]
		}
		rows = append(rows, []any{k, s})
		if want[k] == nil {
			want[k] = map[string]int64{}
		}
		if s != nil {
			want[k][s.(string)]++
		}
	}
	check := func(t *testing.T, got [][]any) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%d groups, want %d", len(got), len(want))
		}
		for _, row := range got {
			w := want[row[0]]
			if len(w) == 0 {
				if row[1] != nil {
					t.Errorf("group %v: %q, want NULL", row[0], row[1])
				}
				continue
			}
			counts := map[string]int64{}
			if err := DecodeCategoryCounts([]byte(row[1].(string)), func(v string, c int64) { counts[v] += c }); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(counts, w) {
				t.Errorf("group %v: %v, want %v", row[0], counts, w)
			}
		}
	}
	spec := []AggSpec{{Func: AggCategoryCounts, Arg: 1, Name: "c"}}
	t.Run("single", func(t *testing.T) {
		op, err := NewHashAggregate(hatSrc(t, mem, schema, rows, 256), []int{0}, spec, AggSingle)
		if err != nil {
			t.Fatal(err)
		}
		check(t, hatRun(t, op, mem, 1024))
	})
	t.Run("partial+final", func(t *testing.T) {
		part, err := NewHashAggregate(hatSrc(t, mem, schema, rows, 37), []int{0}, spec, AggPartial)
		if err != nil {
			t.Fatal(err)
		}
		fin, err := NewHashAggregate(part, []int{0}, []AggSpec{{Func: AggCategoryCounts, Arg: 1, Name: "c"}}, AggFinal)
		if err != nil {
			t.Fatal(err)
		}
		check(t, hatRun(t, fin, mem, 1024))
	})
}

// TestDecodeCategoryCountsBad reports truncated or garbled bytes.
func TestDecodeCategoryCountsBad(t *testing.T) {
	good := AppendCategoryCounts(nil, []string{"b", "a"}, []int64{2, 5})
	var got []string
	if err := DecodeCategoryCounts(good, func(v string, c int64) { got = append(got, fmt.Sprint(v, c)) }); err != nil || fmt.Sprint(got) != "[a5 b2]" {
		t.Fatalf("decoded %v, %v", got, err)
	}
	for _, b := range [][]byte{good[:len(good)-1], {0x80}, {5, 1, 'a'}} {
		if err := DecodeCategoryCounts(b, func(string, int64) {}); err == nil {
			t.Errorf("%q decoded", b)
		}
	}
}
