// Command flint runs SQL over Parquet, CSV and JSON files in local mode,
// generates and times TPC-H, and (in cluster mode) starts drivers and
// executors.
//
// Exit status: 0 on success, 1 when a query or job fails (the error goes to
// stderr), 2 on a usage error; flint submit --wait also exits 3 when its
// job was cancelled and 4 when it timed out (exitCancelled, exitTimedOut).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	// Storage backends: the driver and executors this command starts open
	// s3:// locations too.
	_ "github.com/flint-engine/flint/connectors/s3"
)

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Exit statuses of flint submit --wait beyond 0 (succeeded), 1 (failed)
// and 2 (usage): an orchestrator tells a job that was stopped from one
// that failed, and one that ran out of time from both.
const (
	exitCancelled = 3
	exitTimedOut  = 4
)

// exitError is an error with its own exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	executorMemoryMode()
	// Commands that run queries in this process (a session opened
	// without --driver) pace the GC by the live heap (followLiveHeap);
	// the others keep Go's default, GOGC=100 (executors add a heap floor,
	// see newExecutorCmd). Collecting at 200% instead costs a fifth more
	// peak memory (TPC-H SF1) for no CPU saved.
	// SIGTERM is how orchestrators and container runtimes ask a process to
	// stop: treat it like Ctrl-C (cancel running work, shut down cleanly).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var x *exitError
	if errors.As(err, &x) {
		return x.code
	}
	return 1
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "flint",
		Short:         "Flint: a distributed, Arrow-native query engine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Flag parsing problems are usage errors.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	var cpuProfile, memProfile string
	var stopProfile func()
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to FILE")
	root.PersistentFlags().StringVar(&memProfile, "memprofile", "", "write a heap profile (allocations included) to FILE at exit")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if memProfile != "" {
			runtime.MemProfileRate = 64 << 10
		}
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(cmd *cobra.Command, args []string) {
		if stopProfile != nil {
			stopProfile()
		}
		if memProfile != "" {
			if f, err := os.Create(memProfile); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	}
	// A runnable root with its own argument check makes an unknown
	// subcommand a usage error (cobra's built-in check returns a plain
	// error before any Args validation runs).
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageError{errors.New(msg)}
	}
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	root.AddCommand(newSQLCmd(), newBenchCmd(), newDemoCmd(), newDriverCmd(), newExecutorCmd(),
		newSubmitCmd(), newStatusCmd(), newCancelCmd(), newJobsCmd(), newLogsCmd(), newPingCmd(), newDriversCmd())
	for _, c := range root.Commands() {
		c.Args = wrapArgs(c.Args)
	}
	return root
}

// wrapArgs turns argument validation failures into usage errors.
func wrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if v == nil {
			return nil
		}
		if err := v(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
