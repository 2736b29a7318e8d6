package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestUpToDate fails when a committed generated file of package expr is
// not exactly what the generator writes: edit the generator, not its
// output, then run go generate ./exec/expr.
func TestUpToDate(t *testing.T) {
	fs, err := files()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("generator writes %d files, want compare_gen.go and arith_dec_gen.go", len(fs))
	}
	for name, want := range fs {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("exec/expr/%s differs from the generator's output; run go generate ./exec/expr", name)
		}
	}
}
