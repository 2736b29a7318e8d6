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
	var deadline time.Duration
	var wait bool
	cmd := &cobra.Command{
		Use:   "submit --driver HOST:PORT -f job.sql",
		Short: "Submit a SQL job to a cluster and print its job ID",
		Long: `Submit sends the last statement of the script, a query, to the cluster as a
job and prints the job ID. Earlier statements (CREATE EXTERNAL TABLE, CREATE
VIEW, DROP) are applied first, here, as flint sql does; table paths are sent
absolute and must be readable by the executors.

With --wait it follows the job and exits 0 when it succeeds, 1 when it fails
or is cancelled (the error on stderr). Interrupting the wait leaves the job
running: use flint cancel to stop it.`,
		Example: `  flint submit --driver localhost:7077 --tables ./tpch -f q1.sql --wait
  flint submit -f nightly.sql --idempotency-key nightly-2025-01-01 --deadline 30m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (exprSQL == "") == (file == "") {
				return usagef("give exactly one of -f FILE or -e SQL")
			}
			if deadline < 0 {
				return usagef("--deadline must not be negative")
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
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			df, err := jobFrame(ctx, s, text)
			if err != nil {
				return err
			}
			id, existing, err := df.Submit(ctx, flint.SubmitOptions{Name: name, IdempotencyKey: key, Deadline: deadline})
			if err != nil {
				return err
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
			st, err := d.wait(ctx, id)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return fmt.Errorf("stopped waiting; job %s keeps running (flint cancel --driver %s %s stops it)", id, sf.driver, id)
				}
				return err
			}
			if st.GetState() != pb.JobState_JOB_STATE_SUCCEEDED {
				return jobFailed(st)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "file with the job's SQL")
	cmd.Flags().StringVarP(&exprSQL, "execute", "e", "", "the job's SQL")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job to end; exit 1 if it does not succeed")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "a second submit with the same key returns the first job's ID")
	cmd.Flags().DurationVar(&deadline, "deadline", 0, "fail the job if it runs longer than this (e.g. 10m)")
	cmd.Flags().StringVar(&name, "name", "", "a label for the job (status, driver logs)")
	sf.register(cmd)
	return cmd
}

// jobFrame applies every statement of a script but the last, which must be
// a query, and returns the DataFrame of that query.
func jobFrame(ctx context.Context, s *flint.Session, text string) (*flint.DataFrame, error) {
	stmts, err := parser.Parse(text)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, usagef("no SQL statement given")
	}
	last := stmts[len(stmts)-1]
	for _, st := range stmts[:len(stmts)-1] {
		switch st.(type) {
		case *ast.Query, *ast.Explain:
			return nil, usagef("line %d: only the last statement of a job may be a query; earlier ones must be CREATE or DROP statements", st.Pos().Line)
		}
		if err := s.SQL(ctx, statementText(text, st, stmts)).Err(); err != nil {
			return nil, err
		}
	}
	switch last.(type) {
	case *ast.Query:
	case *ast.Explain:
		return nil, usagef("EXPLAIN is not a job: run it with flint sql --driver")
	default:
		return nil, usagef("line %d: the last statement of a job must be a query", last.Pos().Line)
	}
	df := s.SQL(ctx, statementText(text, last, stmts))
	return df, df.Err()
}
