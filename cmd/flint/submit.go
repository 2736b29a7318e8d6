package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/driverclient"
	"github.com/flint-engine/flint/internal/output"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/sql/ast"
	"github.com/flint-engine/flint/sql/parser"
)

func newSubmitCmd() *cobra.Command {
	var sf sessionFlags
	var exprSQL, file, key, name, format string
	var vars, labels, notify []string
	var deadline, timeout, sla time.Duration
	var wait, rerun, rerunFailed bool
	var pf progressFlag
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

flint submit prints the job ID alone on stdout. With --wait it then follows
the job; once the job has succeeded, a query's result follows the ID on
stdout (--format: csv, the default, json or table), while a COPY job's
rows, files and bytes written go to stderr. The exit status tells how the
job ended:

  0  succeeded
  1  failed (the error on stderr), or flint itself failed
  2  usage error (no job was submitted)
  3  cancelled (flint cancel; the reason on stderr)
  4  timed out: the job's --deadline passed on the driver, or --timeout
     passed while waiting

Interrupting the wait leaves the job running: use flint cancel to stop it.

--idempotency-key K makes the submit safe to retry: while the driver keeps
a job submitted with K (running, or finished within its result TTL), a
submit with K prints that job's ID (saying so on stderr) instead of
starting another, and --wait reports how it ended; a finished job is run
again only with --rerun. --rerun-failed is an orchestrator's retry of a
step: it reruns the key's job only if that ended without succeeding
(failed, cancelled, timed out), and otherwise waits for the running job
or reports the succeeded one, so a retried step never runs twice at once
and never succeeds twice (give its task one key per run, not per try). --label k=v (repeatable) is kept with the job
and shown by flint status and flint jobs.

--notify URL (repeatable) makes the driver POST a JSON message (a Slack
incoming webhook's shape: {"text": ..., "job_id", "name", "state",
"event", "error", "labels"}) when the job succeeds, fails, is cancelled
or times out, and when one of its tasks is retried; without it, the
driver's own flint driver --notify URLs are used. --sla D posts one
"not finished after D" alert there if the job still runs D after it was
submitted; the job keeps running.

--deadline D ends the job on the driver (timed out) D after it was
submitted, whether anyone waits for it or not. --timeout D bounds the
command itself and the job with it: the job's deadline is what is left of
D when it is submitted (so it replaces --deadline), and with --wait, once
D has passed, the job is ended (timed out) and flint exits 4 with "job ID timed
out after D (--timeout)".
Without --wait, flint only submits within D and the driver enforces the rest.`,
		Example: `  flint submit --driver localhost:7077 --tables ./tpch -f q1.sql --wait
  flint submit -f nightly.sql --idempotency-key nightly-2025-01-01 --deadline 30m --label dag=nightly
  flint submit -f step.sql --wait --timeout 25m --idempotency-key nightly-2025-01-01-step --rerun-failed
  flint submit -f nightly.sql --wait --sla 20m --notify https://hooks.slack.com/services/T0/B0/XXX
  flint submit --tables ./tpch -f q21.sql --wait --timeout 5m
  flint submit --tables ./tpch --wait -e "COPY lineitem TO 's3://lake/li' (FORMAT parquet)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (exprSQL == "") == (file == "") {
				return usagef("give exactly one of -f FILE or -e SQL")
			}
			if err := pf.check(); err != nil {
				return err
			}
			if deadline < 0 {
				return usagef("--deadline must not be negative")
			}
			if deadline > 0 && timeout > 0 {
				return usagef("give --timeout or --deadline, not both: --timeout is the job's deadline too")
			}
			if sla < 0 {
				return usagef("--sla must not be negative")
			}
			if (rerun || rerunFailed) && key == "" {
				return usagef("--rerun and --rerun-failed need --idempotency-key: they rerun the job the key names")
			}
			if rerun && rerunFailed {
				return usagef("give --rerun (whatever the job's end) or --rerun-failed (unless it succeeded), not both")
			}
			labelMap, err := parseLabels(labels)
			if err != nil {
				return err
			}
			f := output.CSV
			if format != "" {
				if f, err = output.ParseFormat(format); err != nil {
					return usageError{err}
				}
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
			text, err = expandVars(text, vars)
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
			opts := flint.SubmitOptions{Name: name, IdempotencyKey: key, Deadline: deadline, Rerun: rerun,
				RerunFailed: rerunFailed, Labels: labelMap, Notify: notify, SLA: sla}
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
				return &exitError{exitTimedOut, &timeoutError{what: "job " + id, after: timeout}}
			}
			tracker, stopProgress, err := pf.start(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			wctx := ctx
			if tracker != nil {
				wctx = driverclient.WithEvents(ctx, tracker.JobEvent)
			}
			st, err := d.wait(wctx, id)
			stopProgress()
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
			switch st.GetState() {
			case pb.JobState_JOB_STATE_SUCCEEDED:
			case pb.JobState_JOB_STATE_TIMED_OUT:
				if timeout > 0 && ctx.Err() != nil {
					return jobTimedOut() // the driver ended it at our deadline
				}
				return &exitError{exitTimedOut, jobFailed(st)}
			case pb.JobState_JOB_STATE_CANCELLED:
				return &exitError{exitCancelled, jobFailed(st)}
			default:
				return jobFailed(st)
			}
			if job.copy {
				res, err := s.JobWriteResult(ctx, id)
				if err != nil {
					return timedOut(ctx, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "job %s succeeded: wrote %d rows in %d files (%d bytes)\n", id, res.Rows, res.Files, res.Bytes)
				return nil
			}
			schema, batches, err := s.JobResult(ctx, id)
			if err != nil {
				return timedOut(ctx, err)
			}
			defer func() {
				for _, b := range batches {
					b.Release()
				}
			}()
			return output.Write(cmd.OutOrStdout(), f, schema, batches)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "file with the job's SQL")
	cmd.Flags().StringVarP(&exprSQL, "execute", "e", "", "the job's SQL")
	cmd.Flags().StringArrayVar(&vars, "var", nil, varsHelp())
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job to end and print its result; exit 1 failed, 3 cancelled, 4 timed out")
	cmd.Flags().StringVar(&format, "format", "", "with --wait, the result's format: csv (default), json or table")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "a second submit with the same key returns the first job's ID, also once it has finished")
	cmd.Flags().BoolVar(&rerun, "rerun", false, "run the job of --idempotency-key again if it has finished")
	cmd.Flags().BoolVar(&rerunFailed, "rerun-failed", false, "run the job of --idempotency-key again if it failed, was cancelled or timed out (an orchestrator's retry)")
	cmd.Flags().StringArrayVar(&labels, "label", nil, "a KEY=VALUE label kept with the job (repeatable)")
	cmd.Flags().StringArrayVar(&notify, "notify", nil, "POST a JSON message to URL when the job ends, a task is retried or --sla passes (repeatable)")
	cmd.Flags().DurationVar(&sla, "sla", 0, "alert the --notify URLs once if the job still runs after DURATION")
	cmd.Flags().DurationVar(&deadline, "deadline", 0, "end the job (timed out) if it runs longer than this (e.g. 10m)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after DURATION: the job's deadline, and with --wait, end it (timed out) and exit 4 when it passes")
	cmd.Flags().StringVar(&name, "name", "", "a label for the job (status, driver logs)")
	sf.register(cmd)
	pf.register(cmd)
	return cmd
}

// parseLabels reads --label KEY=VALUE flags.
func parseLabels(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(flags))
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usagef("--label %q: want KEY=VALUE", f)
		}
		if _, dup := m[k]; dup {
			return nil, usagef("--label %s given twice", k)
		}
		m[k] = v
	}
	return m, nil
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
