package xgboost

import (
	"math"
	"os"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load: it must return a model or an
// error, never panic, and a model it returns must keep the invariants
// Predict relies on and score rows.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(tinyModel))
	tiny, err := decodeJSON([]byte(tinyModel))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeUBJSON(&tiny))
	for _, name := range []string{"categorical_onehot.json", "categorical_onehot.ubj", "dart_reg.ubj", "reg_multi_target.ubj"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			if m != nil {
				t.Fatal("a model and an error")
			}
			return
		}
		checkInvariants(t, m)
		if m.numFeature > 64 {
			return
		}
		if len(m.Features()) != m.numFeature || m.Check(m.numFeature) != nil {
			t.Fatal("Features or Check disagree with num_feature")
		}
		rows := []float64{math.NaN(), 0, -1, 1, 1e30, 3, math.Inf(-1)}
		cols := make([][]float64, m.numFeature)
		for j := range cols {
			cols[j] = rows
		}
		out := make([]float64, len(rows)*m.NumOutputs())
		m.Predict(cols, out)
	})
}

// encodeUBJSON writes a decoded document as UBJSON, the way XGBoost lays
// it out: "L" lengths, arrays of numbers as typed arrays (int32 when all
// are integers, float32 otherwise), other arrays counted.
func encodeUBJSON(v *value) []byte {
	var out []byte
	var enc func(v *value)
	be := func(x uint64, n int) {
		for i := n - 1; i >= 0; i-- {
			out = append(out, byte(x>>(8*i)))
		}
	}
	str := func(s string) {
		out = append(out, 'L')
		be(uint64(len(s)), 8)
		out = append(out, s...)
	}
	enc = func(v *value) {
		switch v.kind {
		case kindNull:
			out = append(out, 'Z')
		case kindBool:
			if v.b {
				out = append(out, 'T')
			} else {
				out = append(out, 'F')
			}
		case kindNumber:
			if v.num == math.Trunc(v.num) && math.Abs(v.num) < 1<<62 {
				out = append(out, 'L')
				be(uint64(int64(v.num)), 8)
			} else {
				out = append(out, 'd')
				be(uint64(math.Float32bits(float32(v.num))), 4)
			}
		case kindString:
			out = append(out, 'S')
			str(v.str)
		case kindArray:
			if v.arr == nil {
				ints := true
				for _, n := range v.nums {
					ints = ints && n == math.Trunc(n) && math.Abs(n) < 1<<31
				}
				if ints {
					out = append(out, '[', '$', 'l', '#', 'L')
					be(uint64(len(v.nums)), 8)
					for _, n := range v.nums {
						be(uint64(uint32(int32(n))), 4)
					}
				} else {
					out = append(out, '[', '$', 'd', '#', 'L')
					be(uint64(len(v.nums)), 8)
					for _, n := range v.nums {
						be(uint64(math.Float32bits(float32(n))), 4)
					}
				}
				return
			}
			out = append(out, '[', '#', 'L')
			be(uint64(len(v.arr)), 8)
			for i := range v.arr {
				enc(&v.arr[i])
			}
		case kindObject:
			out = append(out, '{')
			for i := range v.obj {
				str(v.obj[i].key)
				enc(&v.obj[i].val)
			}
			out = append(out, '}')
		}
	}
	enc(v)
	return out
}
