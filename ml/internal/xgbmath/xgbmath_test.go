package xgbmath

import (
	"math"
	"os"
	"runtime"
	"sync"
	"testing"
)

// expRef is the definition Expf must equal bit for bit.
func expRef(x float32) float32 { return float32(math.Exp(float64(x))) }

// TestExpfEqualsMathExp sweeps float32s over every exponent: every 61st
// bit pattern (all of them with FLINT_EXHAUSTIVE=1, some 4·10⁹ values),
// and the specials, comparing bits with math.Exp's float32.
func TestExpfEqualsMathExp(t *testing.T) {
	stride := uint64(61)
	if os.Getenv("FLINT_EXHAUSTIVE") != "" {
		stride = 1
	}
	for _, x := range []float32{0, float32(math.Copysign(0, -1)), 1, -1, 88.7, 88.72, -87, -87.0001, -103.9, -150,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32, 1e-45} {
		got, want := Expf(x), expRef(x)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Errorf("Expf(%v) = %v, want %v", x, got, want)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for b := uint64(w) * stride; b < 1<<32; b += uint64(workers) * stride {
				x := math.Float32frombits(uint32(b))
				got, want := Expf(x), expRef(x)
				if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
					if n < 5 {
						t.Errorf("Expf(%v) = %v, want %v", x, got, want)
					}
					n++
				}
			}
			mu.Lock()
			bad += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if bad > 0 {
		t.Errorf("%d values differ", bad)
	}
}

// TestExpfFastPathTaken checks that the sweep above exercises the
// polynomial, not only math.Exp: in range, Expf's value is its own.
func TestExpfFastPathTaken(t *testing.T) {
	slow := 0
	for b := uint32(0); b < 1<<20; b++ {
		x := float32(b)/(1<<20)*170 - 85
		xd := float64(x)
		y := expApprox(xd)
		if rel := math.Abs(y-math.Exp(xd)) / math.Exp(xd); rel > 1.2e-15 {
			t.Fatalf("exp(%v): polynomial %v, math.Exp %v: relative error %g", x, y, math.Exp(xd), rel)
		}
		if uint64(math.Float64bits(y)&(1<<29-1)-(1<<28-expGuard)) < 2*expGuard {
			slow++
		}
	}
	if slow > 10 {
		t.Errorf("%d of 2^20 values near a midpoint; want a handful", slow)
	}
}

func BenchmarkExpf(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = float32(i)/256 - 8
	}
	var s float32
	for b.Loop() {
		for _, x := range xs {
			s += Expf(x)
		}
	}
	_ = s
}

func BenchmarkExpfMath(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = float32(i)/256 - 8
	}
	var s float32
	for b.Loop() {
		for _, x := range xs {
			s += expRef(x)
		}
	}
	_ = s
}

// TestSigmoidsEqualsSigmoid compares the batch sigmoid, in Go and with
// AVX2 where the processor has it, with Sigmoid bit for bit over a sweep
// of float32s (every one with FLINT_EXHAUSTIVE=1) and the specials.
func TestSigmoidsEqualsSigmoid(t *testing.T) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	stride := uint64(257)
	if os.Getenv("FLINT_EXHAUSTIVE") != "" {
		stride = 1
	}
	specials := []float32{0, 87, -87, 88.7, -88.7, 87.0001, -88.70001, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	const chunk = 1 << 20
	m := make([]float32, 0, chunk+len(specials))
	p := make([]float32, cap(m))
	for _, avx := range []bool{false, true} {
		if avx && !hasAVX2 {
			t.Log("no AVX2 here")
			continue
		}
		useAVX2 = avx
		bad := 0
		for b := uint64(0); b < 1<<32; {
			m = m[:0]
			for ; b < 1<<32 && len(m) < chunk; b += stride {
				m = append(m, math.Float32frombits(uint32(b)))
			}
			if b >= 1<<32 {
				m = append(m, specials...)
			}
			Sigmoids(p, m)
			for i, x := range m {
				want := Sigmoid(x)
				if math.Float32bits(p[i]) != math.Float32bits(want) && !(want != want && p[i] != p[i]) {
					if bad < 5 {
						t.Errorf("AVX2 %v: Sigmoids: %v → %v, Sigmoid %v", avx, x, p[i], want)
					}
					bad++
				}
			}
		}
		if bad > 0 {
			t.Errorf("AVX2 %v: %d differ", avx, bad)
		}
	}
}

func BenchmarkSigmoids(b *testing.B) {
	m := make([]float32, 4096)
	for i := range m {
		m[i] = float32(i)/256 - 8
	}
	p := make([]float32, len(m))
	for b.Loop() {
		Sigmoids(p, m)
	}
}

func BenchmarkSigmoid(b *testing.B) {
	m := make([]float32, 4096)
	for i := range m {
		m[i] = float32(i)/256 - 8
	}
	p := make([]float32, len(m))
	for b.Loop() {
		for i, x := range m {
			p[i] = Sigmoid(x)
		}
	}
}
