//go:build unix

package s3test

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLockFileExcludes: a second holder waits until the first unlocks
// (flock excludes separate opens even within one process).
func TestLockFileExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := lockFile(path)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case u := <-got:
		u()
		t.Fatal("second lockFile returned while the first held the lock")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(10 * time.Second):
		t.Fatal("second lockFile still waiting after the first unlocked")
	}
}
