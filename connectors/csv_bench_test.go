package connectors

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCSVRead parses a lineitem-like CSV (ints, decimals, dates,
// short strings) of 100k rows.
func BenchmarkCSVRead(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("k,qty,price,disc,flag,ship,comment\n")
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&sb, "%d,%d,%d.%02d,0.0%d,%c,1995-%02d-%02d,comment number %d\n",
			i, i%50+1, 1000+i%90000, i%100, i%10, "ANR"[i%3], i%12+1, i%28+1, i)
	}
	path := writeFile(b, b.TempDir(), "li.csv", sb.String())
	ctx := context.Background()
	src, err := Open(ctx, CSV, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	splits, _ := src.Splits(ctx, nil, 1)
	b.SetBytes(int64(sb.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, sp := range splits {
			rr, err := src.Open(ctx, sp, nil, 8192)
			if err != nil {
				b.Fatal(err)
			}
			for {
				rec, err := rr.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if rec == nil {
					break
				}
				rec.Release()
			}
			rr.Close()
		}
	}
}
