package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestUpToDate fails when a committed generated file of package gbdt is
// not exactly what the generator writes: edit the generator, not its
// output, then run go generate ./ml/gbdt.
func TestUpToDate(t *testing.T) {
	fs, err := files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range fs {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("ml/gbdt/%s differs from the generator's output; run go generate ./ml/gbdt", name)
		}
	}
}
