package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint/internal/progress"
)

// progressFlag is --progress: auto (on when stderr is a terminal),
// always or never.
type progressFlag struct{ mode string }

func (p *progressFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.mode, "progress", "auto", "show stages, tasks, rows and bytes done on stderr while waiting: auto (when stderr is a terminal), always or never")
}

// start begins the display on stderr, or returns a nil tracker when
// it is off; stop (never nil, safe to call twice) removes it and must
// run before anything else is printed.
// check fails on a --progress value that is none of the three.
func (p *progressFlag) check() error {
	switch p.mode {
	case "auto", "always", "never":
		return nil
	}
	return usagef("--progress wants auto, always or never, got %q", p.mode)
}

func (p *progressFlag) start(stderr io.Writer) (t *progress.Tracker, stop func(), err error) {
	f, _ := stderr.(*os.File)
	term := f != nil && isTerminal(f)
	switch p.mode {
	case "auto":
		if !term {
			return nil, func() {}, nil
		}
	case "always":
	case "never":
		return nil, func() {}, nil
	default:
		return nil, nil, usagef("--progress wants auto, always or never, got %q", p.mode)
	}
	t = progress.NewTracker()
	d := progress.Start(stderr, t, term)
	return t, d.Stop, nil
}
