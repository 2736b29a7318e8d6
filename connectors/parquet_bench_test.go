package connectors

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// lineitemPath finds a TPC-H lineitem file: $FLINT_TPCH_DIR, else the
// committed SF0.01 sample.
func lineitemPath(b *testing.B) string {
	dirs := []string{os.Getenv("FLINT_TPCH_DIR"), "../testdata/tpch/sf-sample"}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "lineitem.parquet")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	b.Skip("no lineitem.parquet (set FLINT_TPCH_DIR)")
	return ""
}

// BenchmarkParquetQ1Scan decodes the 7 lineitem columns TPC-H Q1 needs with
// 2 goroutines pulling splits (row groups), as the engine's scan would.
// Bytes/op is the compressed size of those column chunks.
func BenchmarkParquetQ1Scan(b *testing.B) {
	path := lineitemPath(b)
	ctx := context.Background()
	src, err := Open(ctx, Parquet, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"l_quantity", "l_extendedprice", "l_discount", "l_tax", "l_returnflag", "l_linestatus", "l_shipdate"}
	var cols []int
	for _, n := range names {
		idx := src.Schema().FieldIndices(n)
		if len(idx) != 1 {
			b.Fatalf("no column %s", n)
		}
		cols = append(cols, idx[0])
	}
	ps := src.(*parquetSource)
	var colBytes int64
	for _, f := range ps.files {
		for rg := 0; rg < f.md.NumRowGroups(); rg++ {
			for _, c := range cols {
				cc, _ := f.md.RowGroup(rg).ColumnChunk(f.leaves[c][0])
				colBytes += cc.TotalCompressedSize()
			}
		}
	}
	splits, err := src.Splits(ctx, nil, 8)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(colBytes)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	var rows atomic.Int64
	for i := 0; i < b.N; i++ {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1)) - 1
					if k >= len(splits) {
						return
					}
					rr, err := src.Open(ctx, splits[k], cols, 8192)
					if err != nil {
						b.Error(err)
						return
					}
					for {
						rec, err := rr.Next(ctx)
						if err != nil {
							b.Error(err)
							break
						}
						if rec == nil {
							break
						}
						rows.Add(rec.NumRows())
						rec.Release()
					}
					rr.Close()
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(rows.Load())/b.Elapsed().Seconds(), "rows/s")
	// The machine is shared: CPU seconds per scan is the stabler figure.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
