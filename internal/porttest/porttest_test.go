package porttest

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestRetry: a bind to a taken address is in use, and Retry calls again
// until the address is free; other errors end it at once.
func TestRetry(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_, err = net.Listen("tcp", addr)
	if !InUse(err) {
		t.Fatalf("binding a taken address: %v, not in use", err)
	}
	calls := 0
	err = Retry(50, 10*time.Millisecond, func() error {
		calls++
		if calls == 3 {
			l.Close()
		}
		l2, err := net.Listen("tcp", addr)
		if err == nil {
			l2.Close()
		}
		return err
	})
	if err != nil || calls < 3 {
		t.Fatalf("Retry: %v after %d calls", err, calls)
	}
	other := errors.New("other")
	calls = 0
	if err := Retry(5, time.Millisecond, func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("another error: %v after %d calls", err, calls)
	}
	if InUse(nil) || InUse(fmt.Errorf("x")) {
		t.Fatal("InUse of nil or another error")
	}
}

// TestFreeDistinct: ports from Free never repeat, though the system may
// offer a port again as soon as its finder closes.
func TestFreeDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if seen[addr] {
			t.Fatalf("FreeAddr returned %s twice", addr)
		}
		seen[addr] = true
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("FreeAddr's %s: %v", addr, err)
		}
		l.Close()
	}
}
