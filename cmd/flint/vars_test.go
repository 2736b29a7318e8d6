package main

import (
	"strings"
	"testing"
)

func TestExpandVars(t *testing.T) {
	got, err := expandVars("COPY (SELECT * FROM t WHERE d = '${DAY}') TO '${OUT}/x' -- $HOME ${", []string{"DAY=2026-12-06", "OUT=/tmp/a=b"})
	if err != nil || got != "COPY (SELECT * FROM t WHERE d = '2026-12-06') TO '/tmp/a=b/x' -- $HOME ${" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, tc := range []struct {
		text string
		vars []string
		want string
	}{
		{"SELECT '${X}'", nil, "give --var X=VALUE"},
		{"SELECT 1", []string{"no-equals"}, "want NAME=VALUE"},
		{"SELECT 1", []string{"A B=1"}, "want NAME=VALUE"},
	} {
		if _, err := expandVars(tc.text, tc.vars); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: error %v, want %q", tc.text, tc.vars, err, tc.want)
		}
	}
}
