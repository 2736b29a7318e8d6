package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

func newSubmitCmd() *cobra.Command {
	var sf sessionFlags
	var exprSQL, file, key, name string
	var vars []string
	var deadline, timeout time.Duration
	var wait bool
	cmd := &cobra.Command{
		Use:   "submit --driver HOST:PORT -f job.sql",
		Short: "Submit a SQL job to a cluster and print its job ID",
		Long: `Submit sends the last statement of the script, a query or a COPY, to the
cluster as a job and prints the job ID. Earlier statements (CREATE EXTERNAL
TABLE, CREATE VIEW, DROP) are applied first, here, as flint sql does; table
paths are sent absolute and must be readable by the executors.

A COPY job writes its dataset on the executors; the driver commits it (the
_SUCCESS manifest last) when the job succeeds, exactly as flint sql --driver
does for COPY. A target its mode refuses (mode error, the default, and data
already there) fails the submit: no job is started. The target's path is
sent absolute and must be writable by the executors.

With --wait it follows the job and exits 0 when it succeeds, 1 when it fails
or is cancelled (the error on stderr); a COPY job's rows, files and bytes
written go to stderr, so stdout holds only the job ID. Interrupting the wait
leaves the job running: use flint cancel to stop it.

--deadline D fails the job on the driver D after it was submitted, whether
anyone waits for it or not. --timeout D bounds the command itself and the
job with it: the job's deadline is what is left of D when it is submitted
(so it replaces --deadline), and with --wait, once D has passed, the job is
cancelled and flint exits 1 with "job ID timed out after D (--timeout)".
Without --wait, flint only submits within D and the driver enforces the rest.`,
		Example: `  flint submit --driver localhost:7077 --tables ./tpch -f q1.sql --wait
  flint submit -f nightly.sql --idempotency-key nightly-2025-01-01 --deadline 30m
  flint submit --tables ./tpch -f q21.sql --wait --timeout 5m
  flint submit --tables ./tpch --wait -e "COPY lineitem TO 's3://lake/li' (FORMAT parquet)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (exprSQL == "") == (file == "") {
				return usagef("give exactly one of -f FILE or -e SQL")
			}
			if deadline < 0 {
				return usagef("--deadline must not be negative")
			}
			if deadline > 0 && timeout > 0 {
				return usagef("give --timeout or --deadline, not both: --timeout is the job's deadline too")
			}
			if sf.driver == "" {
				return usagef("--driver HOST:PORT (or $%s) is required", driverEnv)
			}
			text := exprSQL
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				text = string(b)
			}
			text, err := expandVars(text, vars)
			if err != nil {
				return err
			}
			ctx, cancel, err := withTimeout(cmd.Context(), timeout, "job")
			if err != nil {
				return err
			}
			defer cancel()
			s, err := sf.open(ctx)
			if err != nil {
				return timedOut(ctx, err)
			}
			defer s.Close()
			job, err := jobStatement(ctx, s, text)
			if err != nil {
				return timedOut(ctx, err)
			}
			opts := flint.SubmitOptions{Name: name, IdempotencyKey: key, Deadline: deadline}
			if dl, ok := ctx.Deadline(); ok && timeout > 0 {
				if opts.Deadline = time.Until(dl); opts.Deadline <= 0 {
					return timedOut(ctx, context.DeadlineExceeded)
				}
			}
			var id string
			var existing bool
			if job.copy {
				id, existing, err = s.SubmitSQL(ctx, job.text, opts)
			} else {
				id, existing, err = job.df.Submit(ctx, opts)
			}
			if err != nil {
				return timedOut(ctx, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), id)
			if existing {
				fmt.Fprintf(cmd.ErrOrStderr(), "job %s was already submitted with idempotency key %q\n", id, key)
			}
			if !wait {
				return nil
			}
			d, err := dialDriver(sf.driver)
			if err != nil {
				return err
			}
			defer d.Close()
			jobTimedOut := func() error {
				return &timeoutError{what: "job " + id, after: timeout}
			}
			st, err := d.wait(ctx, id)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) && timedOut(ctx, err) != err {
					// The job's deadline is ours: stop it now rather
					// than when the driver notices.
					d.Abandon(ctx, id)
					return jobTimedOut()
				}
				if errors.Is(err, context.Canceled) {
					return fmt.Errorf("stopped waiting; job %s keeps running (flint cancel --driver %s %s stops it)", id, sf.driver, id)
				}
				return err
			}
			if st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
				if st.GetState() == pb.JobState_JOB_STATE_FAILED && timeout > 0 && ctx.Err() != nil {
					return jobTimedOut() // the driver failed it at our deadline
				}
				return jobFailed(st)
			}
			if job.copy {
				res, err := s.JobWriteResult(ctx, id)
				if err != nil {
					return timedOut(ctx, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "job %s succeeded: wrote %d rows in %d files (%d bytes)\n", id, res.Rows, res.Files, res.Bytes)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "file with the job's SQL")
	cmd.Flags().StringVarP(&exprSQL, "execute", "e", "", "the job's SQL")
	cmd.Flags().StringArrayVar(&vars, "var", nil, varsHelp())
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job to end; exit 1 if it does not succeed")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "a second submit with the same key returns the first job's ID")
	cmd.Flags().DurationVar(&deadline, "deadline", 0, "fail the job if it runs longer than this (e.g. 10m)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after DURATION: the job's deadline, and with --wait, cancel it and exit 1 when it passes")
	cmd.Flags().StringVar(&name, "name", "", "a label for the job (status, driver logs)")
	sf.register(cmd)
	return cmd
}

// jobStmt is the statement a job runs: a query's DataFrame, or a COPY's
// text (bound and submitted by Session.SubmitSQL: running it through
// Session.SQL would write at once, here).
type jobStmt struct {
	df   *flint.DataFrame
	copy bool
	text string
}

// jobStatement applies every statement of a script but the last, which
// must be a query or a COPY, and returns that one.
func jobStatement(ctx context.Context, s *flint.Session, text string) (jobStmt, error) {
	stmts, err := parser.Parse(text)
	if err != nil {
		return jobStmt{}, err
	}
	if len(stmts) == 0 {
		return jobStmt{}, usagef("no SQL statement given")
	}
	last := stmts[len(stmts)-1]
	for _, st := range stmts[:len(stmts)-1] {
		switch st.(type) {
		case *ast.Query, *ast.Explain, *ast.Copy:
			return jobStmt{}, usagef("line %d: only the last statement of a job may be a query or a COPY; earlier ones must be CREATE or DROP statements", st.Pos().Line)
		}
		if err := s.SQL(ctx, statementText(text, st, stmts)).Err(); err != nil {
			return jobStmt{}, err
		}
	}
	switch last.(type) {
	case *ast.Query:
	case *ast.Copy:
		return jobStmt{copy: true, text: statementText(text, last, stmts)}, nil
	case *ast.Explain:
		return jobStmt{}, usagef("EXPLAIN is not a job: run it with flint sql --driver")
	default:
		return jobStmt{}, usagef("line %d: the last statement of a job must be a query or a COPY", last.Pos().Line)
	}
	df := s.SQL(ctx, statementText(text, last, stmts))
	return jobStmt{df: df}, df.Err()
}
