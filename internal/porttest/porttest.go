// Package porttest helps tests that choose a free port before something
// binds it: between the two, another process's connection may take the
// port as its own, and the bind fails with the address in use.
package porttest

import (
	"errors"
	"strings"
	"syscall"
	"time"
)

// InUse reports whether err is a listener's address being taken.
func InUse(err error) bool {
	return err != nil && (errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use"))
}

// Retry calls start until it succeeds, fails otherwise than with an
// address in use, or has been called tries times, waiting wait between
// calls; it returns start's last error.
func Retry(tries int, wait time.Duration, start func() error) error {
	var err error
	for try := 0; try < tries; try++ {
		if err = start(); !InUse(err) {
			return err
		}
		time.Sleep(wait)
	}
	return err
}
