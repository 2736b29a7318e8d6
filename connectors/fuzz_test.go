package connectors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fuzzRead opens path and reads every split; it only checks that bad input
// yields errors (not panics) and that memory is released.
func fuzzRead(t *testing.T, format Format, path string, opts map[string]string) {
	// A hang is a bug too: crash with the options so the input is kept.
	watchdog := time.AfterFunc(fuzzWatchdog, func() { panic(fmt.Sprintf("fuzz input hangs (opts %v)", opts)) })
	defer watchdog.Stop()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := compute.WithAllocator(context.Background(), mem)
	src, err := Open(ctx, format, path, opts)
	if err != nil {
		return
	}
	splits, err := src.Splits(ctx, []Predicate{{Column: 0, Op: ">", Value: int64(3)}}, 3)
	if err != nil {
		return
	}
	for _, sp := range splits {
		rr, err := src.Open(ctx, sp, nil, 5)
		if err != nil {
			continue
		}
		for {
			rec, err := rr.Next(ctx)
			if err != nil || rec == nil {
				break
			}
			rec.Release()
		}
		rr.Close()
	}
}

func FuzzParquetFooter(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "seed.parquet")
	writeTestParquet(f, good, false)
	data, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[len(data)-300:])
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Keep the seed's data pages, fuzz the footer: the fuzzer's bytes
		// replace the tail of the file when short, or the whole file.
		p := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fuzzRead(t, Parquet, p, nil)
	})
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(csvSample), true, "1")
	f.Add([]byte("a,b\n1,\"x\ny\"\n2,3\n"), false, "4")
	f.Add([]byte("\"\"\"\n,\r\n\xff"), true, "100")
	f.Fuzz(func(t *testing.T, b []byte, header bool, split string) {
		p := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := map[string]string{"min_split_bytes": split}
		if !header {
			opts["header"] = "false"
		}
		fuzzRead(t, CSV, p, opts)
	})
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(jsonSample), "1")
	f.Add([]byte("{\"a\":[{\"b\":1}]}\n{\"a\":[{\"b\":\"x\"}]}\n"), "100")
	f.Add([]byte("{\"a\":1e400}\n{}\n{\"a\":{}}\n"), "3")
	f.Fuzz(func(t *testing.T, b []byte, split string) {
		p := filepath.Join(t.TempDir(), "f.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fuzzRead(t, JSON, p, map[string]string{"min_split_bytes": split})
	})
}

// fuzzWatchdog bounds one fuzz input; generous because the machine is shared.
var fuzzWatchdog = 8 * time.Second

// TestParquetFooterMutations flips every byte of the footer of a valid file
// (and truncates it at many points): each variant must fail cleanly or read
// cleanly, never panic or leak. A deterministic complement to the fuzzer.
func TestParquetFooterMutations(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "seed.parquet")
	writeTestParquet(t, good, false)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	footerLen := int(data[len(data)-8]) | int(data[len(data)-7])<<8 | int(data[len(data)-6])<<16 | int(data[len(data)-5])<<24
	start := len(data) - 8 - footerLen
	if start < 0 || footerLen <= 0 {
		t.Fatalf("bad seed footer length %d", footerLen)
	}
	p := filepath.Join(dir, "m.parquet")
	// Every footer byte with FLINT_FULL_MUTATIONS=1; a sample by default
	// to keep the suite fast on a shared machine.
	step := 11
	if os.Getenv("FLINT_FULL_MUTATIONS") != "" {
		step = 1
	} else if testing.Short() {
		step = 31
	}
	var positions []int
	for i := start; i < len(data); i += step {
		positions = append(positions, i)
	}
	for i := 4; i < start; i += 4 * step { // data pages, footer intact
		positions = append(positions, i)
	}
	for _, i := range positions {
		for _, x := range []byte{0xff, 0x01, 0x80} {
			m := append([]byte(nil), data...)
			m[i] ^= x
			if err := os.WriteFile(p, m, 0o644); err != nil {
				t.Fatal(err)
			}
			fuzzRead(t, Parquet, p, nil)
		}
	}
	for n := 0; n < len(data); n += 97 {
		if err := os.WriteFile(p, data[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		fuzzRead(t, Parquet, p, nil)
	}
}
