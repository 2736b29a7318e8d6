package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// timeoutError is the error of a command whose --timeout expired. It
// wraps context.DeadlineExceeded.
type timeoutError struct {
	what  string // "query", "job ID"
	after time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s timed out after %s (--timeout)", e.what, e.after)
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// withTimeout bounds ctx by --timeout d (0: no bound). The context's
// cause names the timeout: a cluster job cancelled because of it says so.
func withTimeout(ctx context.Context, d time.Duration, what string) (context.Context, context.CancelFunc, error) {
	if d < 0 {
		return nil, nil, usagef("--timeout must not be negative")
	}
	if d == 0 {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, d, &timeoutError{what: what, after: d})
	return ctx, cancel, nil
}

// timedOut turns err, when it comes from ctx's --timeout expiring, into
// the timeout's own error, so the message names the flag.
func timedOut(ctx context.Context, err error) error {
	var te *timeoutError
	if err != nil && errors.Is(err, context.DeadlineExceeded) && errors.As(context.Cause(ctx), &te) {
		return te
	}
	return err
}
