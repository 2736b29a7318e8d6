package mempool

import (
	"errors"
	"strings"
	"testing"
)

func TestFairShare(t *testing.T) {
	p := New(1000)
	a := p.Register("A", true)
	b := p.Register("B", true)
	if err := a.TryGrow(500); err != nil {
		t.Fatal(err)
	}
	if err := a.TryGrow(1); err == nil {
		t.Fatal("A grew past its half")
	}
	if err := b.TryGrow(500); err != nil {
		t.Fatal(err)
	}
	u := p.Register("exchange buffer", false)
	if err := u.TryGrow(1); err == nil {
		t.Fatal("pool full, unspillable still grew")
	}
	a.Shrink(300)
	if err := u.TryGrow(200); err != nil {
		t.Fatal(err)
	}
	// Now the spillers share 800: B holds 500 > 400, it may not grow.
	var le *LimitError
	if err := b.TryGrow(1); !errors.As(err, &le) || le.Operator != "B" {
		t.Fatalf("err = %v, want a LimitError naming B", err)
	}
	if !strings.Contains(le.Error(), "B needs 1 B more") {
		t.Fatalf("message %q", le.Error())
	}
	a.Free()
	a.Free()
	b.Free()
	u.Free()
	if p.Used() != 0 || p.Peak() != 1000 {
		t.Fatalf("used %d peak %d", p.Used(), p.Peak())
	}
	// With A and B gone the unspillable reservation may take everything.
	u = p.Register("u", false)
	if err := u.TryGrow(1000); err != nil {
		t.Fatal(err)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "512mib": 512 << 20, "2G": 2 << 30, "300MB": 300 << 20,
		"65536": 65536, "0": 0, "1.5GiB": 3 << 29, " 4 KiB ": 4096} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "1XB", "-1G", "abc"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) accepted", in)
		}
	}
}

func TestSystemMemory(t *testing.T) {
	if SystemMemory() <= 0 {
		t.Skip("no /proc/meminfo")
	}
	if DefaultLimit() >= SystemMemory() {
		t.Fatal("default limit is not a share")
	}
}
