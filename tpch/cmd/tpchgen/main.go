// Command tpchgen writes TPC-H tables as Parquet files.
//
//	go run ./tpch/cmd/tpchgen -sf 1 -out /tmp/tpch-sf1
//	go run ./tpch/cmd/tpchgen -sample   # regenerates testdata/tpch/sf-sample (SF0.01)
//
// Run it from the repository root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/flint-engine/flint/tpch"
)

func main() {
	sf := flag.Float64("sf", 1, "scale factor: a whole number >= 1 or a fraction such as 0.01")
	out := flag.String("out", "", "output directory (created if missing)")
	sample := flag.Bool("sample", false, "write the committed CI dataset (SF0.01) to testdata/tpch/sf-sample")
	flag.Parse()
	if *sample {
		*sf = tpch.SampleScale
		if *out == "" {
			*out = "testdata/tpch/sf-sample"
		}
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "tpchgen: -out is required")
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	if err := tpch.GenerateScale(ctx, *sf, *out); err != nil {
		fmt.Fprintln(os.Stderr, "tpchgen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "tpchgen: wrote SF%v to %s in %s\n", *sf, *out, time.Since(start).Round(time.Millisecond))
}
