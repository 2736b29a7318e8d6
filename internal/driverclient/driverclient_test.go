package driverclient

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestError(t *testing.T) {
	c := &Conn{Addr: "h:1"}
	for _, tc := range []struct {
		what string
		err  error
		want string
		is   error
	}{
		{"", status.Error(codes.NotFound, "no job x"), "driver h:1: no job x", nil},
		{"job x", status.Error(codes.NotFound, "no job x"), "job x: no job x", nil},
		{"", status.Error(codes.Unavailable, "refused"), "driver h:1 unavailable: refused", nil},
		{"job x", status.Error(codes.Unavailable, "refused"), "job x: driver h:1 unavailable: refused", nil},
		{"", status.Error(codes.Canceled, "x"), "context canceled", context.Canceled},
		{"job x", status.Error(codes.DeadlineExceeded, "x"), "job x: context deadline exceeded", context.DeadlineExceeded},
		{"job x", context.Canceled, "job x: context canceled", context.Canceled},
		{"", errors.New("boom"), "driver h:1: boom", nil},
	} {
		got := c.Error(tc.what, tc.err)
		if got.Error() != tc.want {
			t.Errorf("Error(%q, %v) = %q, want %q", tc.what, tc.err, got, tc.want)
		}
		if tc.is != nil && !errors.Is(got, tc.is) {
			t.Errorf("Error(%q, %v) = %v, not %v", tc.what, tc.err, got, tc.is)
		}
	}
	if c.Error("x", nil) != nil {
		t.Error("Error of nil is not nil")
	}
}
