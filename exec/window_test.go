package exec

import (
	"math"
	"math/rand"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// winRef is a naive reference: partitions by linear grouping, frames by
// scanning every position, aggregates by direct loops.
func winRef(rows [][]any, s WindowSpec) []any {
	n := len(rows)
	out := make([]any, n)
	samePart := func(a, b []any) bool {
		for _, p := range s.PartitionBy {
			x, y := a[p], b[p]
			if (x == nil) != (y == nil) || (x != nil && sotCmpVal(x, y) != 0) {
				return false
			}
		}
		return true
	}
	done := make([]bool, n)
	for i := range rows {
		if done[i] {
			continue
		}
		var part []int
		for j := range rows {
			if !done[j] && samePart(rows[i], rows[j]) {
				part = append(part, j)
				done[j] = true
			}
		}
		sort.SliceStable(part, func(a, b int) bool { return sotCmpRows(rows[part[a]], rows[part[b]], s.OrderBy) < 0 })
		winRefPartition(rows, part, s, out)
	}
	return out
}

func winRefPartition(rows [][]any, part []int, s WindowSpec, out []any) {
	m := len(part)
	ocmp := func(a, b int) int { return sotCmpRows(rows[part[a]], rows[part[b]], s.OrderBy) }
	fr := WindowFrame{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: UnboundedFollowing}}
	if s.Frame != nil {
		fr = *s.Frame
	} else if len(s.OrderBy) > 0 {
		fr.End = FrameBound{Kind: CurrentRow}
	}
	// RANGE offset condition: does position p satisfy "value within off of
	// position i's value in direction dir (+1 following, -1 preceding)"?
	keyVal := func(p int) (float64, bool) {
		v := rows[part[p]][s.OrderBy[0].Col]
		switch x := v.(type) {
		case int64:
			return float64(x), true
		case int32:
			return float64(x), true
		case float64:
			return x, !math.IsNaN(x)
		}
		return 0, false
	}
	for i := range m {
		r := part[i]
		// Frame as a position range [lo, hi).
		lo, hi := 0, m
		startOK := func(p int) bool {
			b := fr.Start
			switch b.Kind {
			case UnboundedPreceding:
				return true
			case CurrentRow:
				if fr.Rows {
					return p >= i
				}
				return ocmp(p, i) >= 0
			case UnboundedFollowing:
				return false
			}
			if fr.Rows {
				if b.Kind == Preceding {
					return p >= i-int(b.Offset)
				}
				return p >= i+int(b.Offset)
			}
			vi, iok := keyVal(i)
			vp, pok := keyVal(p)
			if !iok { // NULL or NaN key: the frame is the peer group
				return ocmp(p, i) == 0
			}
			if !pok {
				return false
			}
			t := float64(b.Offset)
			if s.OrderBy[0].Col == 2 { // decimal(15,2) key: unscaled values
				t *= 100
			}
			if b.Kind == Preceding {
				t = -t
			}
			if s.OrderBy[0].Desc {
				return vp <= vi-t
			}
			return vp >= vi+t
		}
		endOK := func(p int) bool {
			b := fr.End
			switch b.Kind {
			case UnboundedFollowing:
				return true
			case CurrentRow:
				if fr.Rows {
					return p <= i
				}
				return ocmp(p, i) <= 0
			case UnboundedPreceding:
				return false
			}
			if fr.Rows {
				if b.Kind == Preceding {
					return p <= i-int(b.Offset)
				}
				return p <= i+int(b.Offset)
			}
			vi, iok := keyVal(i)
			vp, pok := keyVal(p)
			if !iok { // NULL or NaN key: the frame is the peer group
				return ocmp(p, i) == 0
			}
			if !pok {
				return false
			}
			t := float64(b.Offset)
			if s.OrderBy[0].Col == 2 { // decimal(15,2) key: unscaled values
				t *= 100
			}
			if b.Kind == Preceding {
				t = -t
			}
			if s.OrderBy[0].Desc {
				return vp >= vi-t
			}
			return vp <= vi+t
		}
		lo = m
		for p := range m {
			if startOK(p) {
				lo = p
				break
			}
		}
		hi = 0
		for p := m - 1; p >= 0; p-- {
			if endOK(p) {
				hi = p + 1
				break
			}
		}
		var frame []int // input rows in the frame, in order
		for p := lo; p < hi; p++ {
			frame = append(frame, part[p])
		}
		if s.Masked {
			var kept []int
			for _, row := range frame {
				if rows[row][s.Mask] == true {
					kept = append(kept, row)
				}
			}
			frame = kept
		}
		argOf := func(row int) any { return rows[row][s.Arg] }
		before, peersUpTo, distinctBefore := 0, 0, 0
		for p := range m {
			c := ocmp(p, i)
			if c < 0 {
				before++
				if p == 0 || ocmp(p-1, p) != 0 {
					distinctBefore++
				}
			}
			if c <= 0 {
				peersUpTo++
			}
		}
		switch s.Func {
		case WinRowNumber:
			out[r] = int64(i + 1)
		case WinRank:
			out[r] = int64(before + 1)
		case WinDenseRank:
			out[r] = int64(distinctBefore + 1)
		case WinPercentRank:
			out[r] = 0.0
			if m > 1 {
				out[r] = float64(before) / float64(m-1)
			}
		case WinCumeDist:
			out[r] = float64(peersUpTo) / float64(m)
		case WinNtile:
			// Hand out rows one bucket at a time; the first m%b buckets get one more.
			b := int(s.Offset)
			pos := 0
			for bucket := 1; bucket <= b; bucket++ {
				size := m / b
				if bucket <= m%b {
					size++
				}
				if i >= pos && i < pos+size {
					out[r] = int64(bucket)
				}
				pos += size
			}
		case WinLag, WinLead:
			p := i - int(s.Offset)
			if s.Func == WinLead {
				p = i + int(s.Offset)
			}
			if p >= 0 && p < m {
				out[r] = argOf(part[p])
			} else {
				out[r] = s.Default
			}
		case WinFirstValue:
			if len(frame) > 0 {
				out[r] = argOf(frame[0])
			}
		case WinLastValue:
			if len(frame) > 0 {
				out[r] = argOf(frame[len(frame)-1])
			}
		case WinNthValue:
			if int(s.Offset) <= len(frame) {
				out[r] = argOf(frame[s.Offset-1])
			}
		case WinCountStar:
			out[r] = int64(len(frame))
		case WinCount, WinSum, WinAvg, WinMin, WinMax:
			var vals []any
			for _, row := range frame {
				if v := argOf(row); v != nil {
					vals = append(vals, v)
				}
			}
			switch s.Func {
			case WinCount:
				out[r] = int64(len(vals))
				continue
			}
			if len(vals) == 0 {
				out[r] = nil
				continue
			}
			switch s.Func {
			case WinMin, WinMax:
				best := vals[0]
				for _, v := range vals[1:] {
					c := sotCmpVal(v, best)
					if (s.Func == WinMin && c < 0) || (s.Func == WinMax && c > 0) {
						best = v
					}
				}
				out[r] = best
			case WinSum, WinAvg:
				var si int64
				var sf float64
				isF := false
				for _, v := range vals {
					switch x := v.(type) {
					case int64:
						si += x
						sf += float64(x)
					case float64:
						sf += x
						isF = true
					}
				}
				if s.Func == WinAvg {
					if s.Arg == 2 { // decimal(15,2): unscaled values
						sf /= 100
					}
					out[r] = sf / float64(len(vals))
				} else if isF {
					out[r] = sf
				} else {
					out[r] = si
				}
			}
		}
	}
}

func TestWindow(t *testing.T) {
	schema := sortTestSchema() // i int64, s string, d decimal(15,2), dt date32, f float64, b bool
	const (
		cI, cS, cD, cDT, cF, cB = 0, 1, 2, 3, 4, 5
	)
	rows2 := func(k int64) *WindowFrame {
		return &WindowFrame{Rows: true, Start: FrameBound{Kind: Preceding, Offset: k}, End: FrameBound{Kind: CurrentRow}}
	}
	whole := &WindowFrame{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: UnboundedFollowing}}
	byI := []SortKey{{Col: cI}}
	byDTdesc := []SortKey{{Col: cDT, Desc: true, NullsFirst: true}}
	byS := []SortKey{{Col: cS}, {Col: cI, Desc: true}}
	tests := []struct {
		name string
		spec WindowSpec
	}{
		{"row_number part b order i", WindowSpec{Func: WinRowNumber, Arg: -1, PartitionBy: []int{cB}, OrderBy: byI}},
		{"row_number no partition", WindowSpec{Func: WinRowNumber, Arg: -1, OrderBy: byS}},
		{"rank", WindowSpec{Func: WinRank, Arg: -1, PartitionBy: []int{cB}, OrderBy: byI}},
		{"rank no order", WindowSpec{Func: WinRank, Arg: -1, PartitionBy: []int{cB}}},
		{"dense_rank", WindowSpec{Func: WinDenseRank, Arg: -1, PartitionBy: []int{cS}, OrderBy: byDTdesc}},
		{"percent_rank", WindowSpec{Func: WinPercentRank, Arg: -1, PartitionBy: []int{cB}, OrderBy: byI}},
		{"cume_dist", WindowSpec{Func: WinCumeDist, Arg: -1, PartitionBy: []int{cB, cS}, OrderBy: byI}},
		{"ntile 3", WindowSpec{Func: WinNtile, Arg: -1, Offset: 3, PartitionBy: []int{cB}, OrderBy: byI}},
		{"ntile 7", WindowSpec{Func: WinNtile, Arg: -1, Offset: 7, OrderBy: byS}},
		{"lag 1", WindowSpec{Func: WinLag, Arg: cS, Offset: 1, PartitionBy: []int{cB}, OrderBy: byI}},
		{"lag 2 default", WindowSpec{Func: WinLag, Arg: cI, Offset: 2, Default: int64(-99), PartitionBy: []int{cB}, OrderBy: byDTdesc}},
		{"lead 1 decimal", WindowSpec{Func: WinLead, Arg: cD, Offset: 1, PartitionBy: []int{cB}, OrderBy: byI}},
		{"lead 3 string default", WindowSpec{Func: WinLead, Arg: cS, Offset: 3, Default: "none", OrderBy: byS}},
		{"first_value default frame", WindowSpec{Func: WinFirstValue, Arg: cS, PartitionBy: []int{cB}, OrderBy: byI}},
		{"last_value default frame (peers)", WindowSpec{Func: WinLastValue, Arg: cF, PartitionBy: []int{cB}, OrderBy: byI}},
		{"last_value whole", WindowSpec{Func: WinLastValue, Arg: cD, PartitionBy: []int{cB}, OrderBy: byI, Frame: whole}},
		{"nth_value 2", WindowSpec{Func: WinNthValue, Arg: cI, Offset: 2, PartitionBy: []int{cB}, OrderBy: byS}},
		{"nth_value 3 rows 2 preceding", WindowSpec{Func: WinNthValue, Arg: cS, Offset: 3, OrderBy: byS, Frame: rows2(2)}},
		{"count running", WindowSpec{Func: WinCount, Arg: cD, PartitionBy: []int{cB}, OrderBy: byI}},
		{"count(*) whole", WindowSpec{Func: WinCountStar, Arg: -1, PartitionBy: []int{cS}}},
		{"count(*) rows 2 preceding", WindowSpec{Func: WinCountStar, Arg: -1, PartitionBy: []int{cB}, OrderBy: byI, Frame: rows2(2)}},
		{"sum int running", WindowSpec{Func: WinSum, Arg: cI, PartitionBy: []int{cB}, OrderBy: byDTdesc}},
		{"sum int rows 2 preceding", WindowSpec{Func: WinSum, Arg: cI, PartitionBy: []int{cB}, OrderBy: byS, Frame: rows2(2)}},
		{"sum decimal running", WindowSpec{Func: WinSum, Arg: cD, PartitionBy: []int{cB}, OrderBy: byI}},
		{"sum decimal rows 1 preceding..1 following", WindowSpec{Func: WinSum, Arg: cD, OrderBy: byS,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: Following, Offset: 1}}}},
		{"sum float whole", WindowSpec{Func: WinSum, Arg: cF, PartitionBy: []int{cB}}},
		{"sum float current..unbounded following", WindowSpec{Func: WinSum, Arg: cF, PartitionBy: []int{cB}, OrderBy: byS,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: CurrentRow}, End: FrameBound{Kind: UnboundedFollowing}}}},
		{"sum float rows 2 preceding", WindowSpec{Func: WinSum, Arg: cF, OrderBy: byS, Frame: rows2(2)}},
		{"avg int running", WindowSpec{Func: WinAvg, Arg: cI, PartitionBy: []int{cB}, OrderBy: byS}},
		{"avg decimal rows 3 preceding", WindowSpec{Func: WinAvg, Arg: cD, PartitionBy: []int{cB}, OrderBy: byS, Frame: rows2(3)}},
		{"avg float rows 1 following..3 following", WindowSpec{Func: WinAvg, Arg: cF, OrderBy: byS,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: Following, Offset: 1}, End: FrameBound{Kind: Following, Offset: 3}}}},
		{"min string running", WindowSpec{Func: WinMin, Arg: cS, PartitionBy: []int{cB}, OrderBy: byI}},
		{"max decimal rows 2 preceding", WindowSpec{Func: WinMax, Arg: cD, PartitionBy: []int{cB}, OrderBy: byS, Frame: rows2(2)}},
		{"max date whole", WindowSpec{Func: WinMax, Arg: cDT, PartitionBy: []int{cS}}},
		{"min int current..unbounded following", WindowSpec{Func: WinMin, Arg: cI, OrderBy: byS,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: CurrentRow}, End: FrameBound{Kind: UnboundedFollowing}}}},
		{"sum range 1 preceding..1 following int key", WindowSpec{Func: WinSum, Arg: cD, PartitionBy: []int{cB}, OrderBy: byI,
			Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: Following, Offset: 1}}}},
		{"count range 2 preceding..current date desc", WindowSpec{Func: WinCountStar, Arg: -1, OrderBy: byDTdesc,
			Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 2}, End: FrameBound{Kind: CurrentRow}}}},
		{"count range unbounded..1 following", WindowSpec{Func: WinCountStar, Arg: -1, PartitionBy: []int{cB}, OrderBy: byI,
			Frame: &WindowFrame{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: Following, Offset: 1}}}},
		{"count(*) rows 2 following..5 following", WindowSpec{Func: WinCountStar, Arg: -1, PartitionBy: []int{cB}, OrderBy: byS,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: Following, Offset: 2}, End: FrameBound{Kind: Following, Offset: 5}}}},
		{"sum float rows 3 preceding..1 preceding", WindowSpec{Func: WinSum, Arg: cF, PartitionBy: []int{cB}, OrderBy: byS,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: Preceding, Offset: 3}, End: FrameBound{Kind: Preceding, Offset: 1}}}},
		{"min string rows 1 following..unbounded", WindowSpec{Func: WinMin, Arg: cS, PartitionBy: []int{cB}, OrderBy: byI,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: Following, Offset: 1}, End: FrameBound{Kind: UnboundedFollowing}}}},
		{"count range float key", WindowSpec{Func: WinCountStar, Arg: -1, PartitionBy: []int{cB}, OrderBy: []SortKey{{Col: cF, NullsFirst: true}},
			Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: Following, Offset: 1}}}},
		{"sum range decimal key desc", WindowSpec{Func: WinSum, Arg: cI, OrderBy: []SortKey{{Col: cD, Desc: true}},
			Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 2}, End: FrameBound{Kind: CurrentRow}}}},
		{"count range int key nulls last", WindowSpec{Func: WinCountStar, Arg: -1, PartitionBy: []int{cB}, OrderBy: []SortKey{{Col: cI}},
			Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 3}, End: FrameBound{Kind: Following, Offset: 2}}}},
		{"sum range float key nulls last desc", WindowSpec{Func: WinSum, Arg: cI, OrderBy: []SortKey{{Col: cF, Desc: true}},
			Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: CurrentRow}}}},
		{"max range 1 following..3 following", WindowSpec{Func: WinMax, Arg: cS, OrderBy: []SortKey{{Col: cI, Desc: true}},
			Frame: &WindowFrame{Start: FrameBound{Kind: Following, Offset: 1}, End: FrameBound{Kind: Following, Offset: 3}}}},
		// FILTER (WHERE b): rows where b is FALSE or NULL do not count.
		{"count(*) filter whole", WindowSpec{Func: WinCountStar, Arg: -1, PartitionBy: []int{cS}, Masked: true, Mask: cB}},
		{"count(*) filter rows 2 preceding", WindowSpec{Func: WinCountStar, Arg: -1, OrderBy: byS, Frame: rows2(2), Masked: true, Mask: cB}},
		{"count filter running", WindowSpec{Func: WinCount, Arg: cD, OrderBy: byI, Masked: true, Mask: cB}},
		{"sum int filter running", WindowSpec{Func: WinSum, Arg: cI, PartitionBy: []int{cS}, OrderBy: byDTdesc, Masked: true, Mask: cB}},
		{"sum decimal filter rows 1 preceding..1 following", WindowSpec{Func: WinSum, Arg: cD, OrderBy: byS, Masked: true, Mask: cB,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: Following, Offset: 1}}}},
		{"avg float filter whole", WindowSpec{Func: WinAvg, Arg: cF, PartitionBy: []int{cS}, Masked: true, Mask: cB}},
		{"min string filter running", WindowSpec{Func: WinMin, Arg: cS, OrderBy: byI, Masked: true, Mask: cB}},
		{"max date filter range", WindowSpec{Func: WinMax, Arg: cDT, OrderBy: []SortKey{{Col: cI}}, Masked: true, Mask: cB,
			Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 3}, End: FrameBound{Kind: Following, Offset: 2}}}},
	}
	r := rand.New(rand.NewSource(11))
	for _, n := range []int{0, 1, 3, 4, 7, 120} {
		rows := sortTestRows(r, n)
		for _, tc := range tests {
			want := winRef(rows, tc.spec)
			for _, bs := range sortTestBatchSizes {
				t.Run(tc.name, func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					// Two specs: the tested one and row_number, so several result
					// columns (with different sorts) are exercised together.
					op, err := NewWindow(sotSource(t, mem, schema, rows, bs), []WindowSpec{tc.spec, {Func: WinRowNumber, Arg: -1, OrderBy: []SortKey{{Col: cF}}}})
					if err != nil {
						t.Fatal(err)
					}
					got := sotRun(t, op, mem, bs, true)
					if len(got) != len(rows) {
						t.Fatalf("got %d rows, want %d", len(got), len(rows))
					}
					var gotCol, wantCol [][]any
					for i := range got {
						sotEqualRows(t, [][]any{got[i][:6]}, [][]any{rows[i]})
						gotCol = append(gotCol, []any{got[i][6]})
						wantCol = append(wantCol, []any{want[i]})
					}
					sotEqualRows(t, gotCol, wantCol)
				})
			}
		}
	}
}

func TestWindowErrors(t *testing.T) {
	schema := sortTestSchema()
	src := NewBatchSource(schema, nil)
	for _, s := range []WindowSpec{
		{Func: WinSum, Arg: 1},  // sum(string)
		{Func: WinSum, Arg: -1}, // no argument
		{Func: WinNtile, Arg: -1, Offset: 0},
		{Func: WinRowNumber, Arg: -1, PartitionBy: []int{9}},
		{Func: WinCountStar, Arg: -1, OrderBy: []SortKey{{Col: 1}}, Frame: &WindowFrame{Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: CurrentRow}}},
		{Func: WinLag, Arg: 0, Offset: 1, Default: "x"},
		{Func: WinSum, Arg: 0, Masked: true, Mask: 0},        // mask not BOOLEAN
		{Func: WinSum, Arg: 0, Masked: true, Mask: 9},        // mask out of range
		{Func: WinRowNumber, Arg: -1, Masked: true, Mask: 5}, // FILTER on a non-aggregate
	} {
		if _, err := NewWindow(src, []WindowSpec{s}); err == nil {
			t.Errorf("spec %+v accepted", s)
		}
	}
	src.Close()
}

func TestWindowDefaultConversion(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tests := []struct {
		dt   arrow.DataType
		v    any
		want string
		ok   bool
	}{
		{&arrow.Decimal128Type{Precision: 15, Scale: 2}, 7, "7", true},
		{&arrow.Decimal128Type{Precision: 15, Scale: 2}, decimal128.FromI64(123), "1.23", true},
		{&arrow.Decimal64Type{Precision: 15, Scale: 2}, 7, "7", true},
		{&arrow.Decimal64Type{Precision: 15, Scale: 2}, decimal128.FromI64(-123), "-1.23", true},
		{&arrow.Decimal64Type{Precision: 3, Scale: 2}, 10, "", false},
		{arrow.PrimitiveTypes.Int8, 300, "", false},
		{arrow.PrimitiveTypes.Int32, int64(-5), "-5", true},
		{arrow.PrimitiveTypes.Float64, 2, "2", true},
		{arrow.FixedWidthTypes.Date32, arrow.Date32(19000), "2022-01-08", true},
		{arrow.BinaryTypes.String, "z", "z", true},
		{arrow.BinaryTypes.String, 1, "", false},
		{arrow.FixedWidthTypes.Boolean, true, "true", true},
	}
	for _, tc := range tests {
		a, err := winDefaultArray(mem, tc.dt, tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("%s %v: err %v, want ok=%v", tc.dt, tc.v, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		if got := a.ValueStr(0); got != tc.want {
			t.Errorf("%s %v: got %s want %s", tc.dt, tc.v, got, tc.want)
		}
		a.Release()
	}
}
