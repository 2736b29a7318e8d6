package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Outcome classifies one query run in DuckDB and in Flint.
type Outcome struct {
	// Kind is "ok", "both-error" (fine: neither engine can answer),
	// "slow" (a configuration with small batches timed out where the
	// first one did not: not a finding), "memory" (the spill
	// configuration ran out of its few MiB with a memory error naming
	// an operator that cannot spill: not a finding),
	// "mismatch", "flint-error", "duck-error", "unsupported" (Flint says
	// the feature is not supported), "leak" or "timeout".
	Kind   string
	Config string // the Flint configuration that showed it
	Detail string
	// Sig identifies the failure for the reducer: the kind and, for
	// errors, the message without positions and numbers.
	Sig string
	// Want is DuckDB's result (nil when DuckDB failed).
	Want *Result
}

// Failed reports whether the outcome is a finding.
func (o Outcome) Failed(strict bool) bool {
	switch o.Kind {
	case "ok", "both-error", "slow", "memory":
		return false
	case "unsupported":
		return strict
	}
	return true
}

// checker runs queries in DuckDB and in Flint under configurations.
type checker struct {
	duck    *duckEngine
	flints  []*flintEngine
	timeout time.Duration
	// maxRows, when > 0, makes queries whose DuckDB result has more rows
	// count as "both-error" (the reducer must not trade a small query
	// for a huge cross product).
	maxRows int
}

// check runs q (DuckDB once, then Flint in each configuration until one
// disagrees). only, when >= 0, restricts Flint to that configuration.
func (c *checker) check(ctx context.Context, q *Query, only int) Outcome {
	text := q.SQL()
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	want, derr := c.duck.Query(dctx, text)
	cancel()
	if derr != nil && dctx.Err() != nil {
		// DuckDB itself is too slow: the generator overdid it.
		return Outcome{Kind: "both-error", Detail: "DuckDB timeout"}
	}
	if c.maxRows > 0 && want != nil && len(want.Rows) > c.maxRows {
		return Outcome{Kind: "both-error", Detail: "too many rows"}
	}
	order := orderOf(q)
	for i, f := range c.flints {
		if only >= 0 && i != only {
			continue
		}
		got, leaked, ferr := f.Query(ctx, text, c.timeout)
		o := classify(want, derr, got, ferr, order)
		if o.Kind == "timeout" && i > 0 && only < 0 {
			// Small batches are slow on big intermediate results: only a
			// query that the first configuration cannot finish either is
			// a finding.
			if _, _, err := c.flints[0].Query(ctx, text, c.timeout); !errors.Is(err, errTimeout) {
				o.Kind, o.Sig = "slow", "slow"
			}
		}
		if o.Kind == "flint-error" && f.cfg.Name == "spill" && strings.Contains(ferr.Error(), "memory limit exceeded") {
			// The spill configuration's pool is a few MiB: a shape
			// that cannot spill (a window over one partition bigger
			// than the pool) fails with the memory error, as designed.
			o.Kind, o.Sig = "memory", "memory"
		}
		o.Config = f.cfg.Name
		o.Want = want
		if o.Kind == "ok" && leaked != 0 {
			o.Kind, o.Sig = "leak", "leak"
			o.Detail = fmt.Sprintf("the session's allocator holds %d bytes after the query", leaked)
			// Start over so that later queries are judged on their own.
			f.s.Close()
			if err := f.open(ctx); err != nil {
				o.Detail += "; reopening: " + err.Error()
			}
		}
		if o.Kind != "ok" {
			return o
		}
		if derr != nil {
			return o
		}
	}
	if derr != nil {
		return Outcome{Kind: "both-error", Detail: derr.Error()}
	}
	return Outcome{Kind: "ok", Want: want}
}

var (
	positions = regexp.MustCompile(`line \d+, column \d+|\d+`)
	caretLine = regexp.MustCompile(`(?m)^\s*\^.*$`)
)

// errSig is an error message without positions, numbers and the SQL
// excerpt under it (the reduced query's message differs only there).
func errSig(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	msg = caretLine.ReplaceAllString(msg, "")
	msg = positions.ReplaceAllString(msg, "N")
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

func classify(want *Result, derr error, got *Result, ferr error, order Order) Outcome {
	switch {
	case errors.Is(ferr, errTimeout):
		return Outcome{Kind: "timeout", Sig: "timeout", Detail: "Flint did not finish in time"}
	case derr != nil && ferr != nil:
		return Outcome{Kind: "both-error", Detail: "DuckDB: " + derr.Error() + "\nFlint: " + ferr.Error()}
	case derr != nil:
		return Outcome{Kind: "duck-error", Sig: "duck-error", Detail: "only DuckDB fails: " + derr.Error()}
	case ferr != nil:
		kind := "flint-error"
		if strings.Contains(ferr.Error(), "not supported") {
			kind = "unsupported"
		}
		return Outcome{Kind: kind, Sig: kind + ": " + errSig(ferr), Detail: "only Flint fails: " + ferr.Error()}
	}
	if d := compareResults(want, got, order); d != "" {
		return Outcome{Kind: "mismatch", Sig: "mismatch", Detail: d}
	}
	return Outcome{Kind: "ok"}
}
