package slt

import (
	"bytes"
	"os"
	"testing"
)

// TestCopyInSync checks that tools/sltcomplete's copy of this package's
// code is identical, so DuckDB's answers are rendered by the same rules.
func TestCopyInSync(t *testing.T) {
	ours, err := os.ReadFile("slt.go")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := os.ReadFile("../../tools/sltcomplete/internal/slt/slt.go")
	if err != nil {
		t.Skipf("tools/sltcomplete not present: %v", err)
	}
	if !bytes.Equal(ours, theirs) {
		t.Fatal("tools/sltcomplete/internal/slt/slt.go differs from sqllogictest/slt/slt.go; copy it over")
	}
}
