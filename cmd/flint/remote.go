package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// driverEnv names the environment variable that is the default of every
// --driver flag.
const driverEnv = "FLINT_DRIVER"

// driverConn is a client connection to a cluster driver.
type driverConn struct{ *driverclient.Conn }

// dialDriver connects to the driver at addr (gRPC connects lazily: an
// unreachable driver shows in the first call).
func dialDriver(addr string) (*driverConn, error) {
	if addr == "" {
		return nil, usagef("--driver HOST:PORT (or $%s) is required", driverEnv)
	}
	c, err := driverclient.Dial(addr)
	if err != nil {
		return nil, err
	}
	return &driverConn{c}, nil
}

// rpcError turns a gRPC error into one carrying the driver's message.
func (d *driverConn) rpcError(err error) error { return d.Error("", err) }

// wait follows a job until a final status.
func (d *driverConn) wait(ctx context.Context, id string) (*pb.JobStatus, error) {
	st, err := d.Wait(ctx, id)
	if driverclient.IsNoQuorum(err) {
		return nil, fmt.Errorf("%w; job %s stays with the group and resumes once enough drivers are back", d.rpcError(err), id)
	}
	if err != nil {
		return nil, d.rpcError(err)
	}
	return st, nil
}

// stateName is a job state as the CLI prints it: running, succeeded,
// failed, cancelled, timed_out.
func stateName(s pb.JobState) string { return driverclient.StateName(s) }

// jobFailed is the error of a job that ended in another state than
// succeeded.
func jobFailed(st *pb.JobStatus) error {
	if st.GetError() == "" {
		return fmt.Errorf("job %s %s", st.GetJobId(), stateName(st.GetState()))
	}
	return fmt.Errorf("job %s %s: %s", st.GetJobId(), stateName(st.GetState()), st.GetError())
}

// printStatus writes a job's state and per-stage progress.
func printStatus(w io.Writer, st *pb.JobStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "job:\t%s\n", st.GetJobId())
	if st.GetName() != "" {
		fmt.Fprintf(tw, "name:\t%s\n", st.GetName())
	}
	fmt.Fprintf(tw, "state:\t%s\n", stateName(st.GetState()))
	if len(st.GetLabels()) > 0 {
		fmt.Fprintf(tw, "labels:\t%s\n", labelText(st.GetLabels()))
	}
	if ms := st.GetSubmittedUnixMs(); ms > 0 {
		fmt.Fprintf(tw, "submitted:\t%s\n", time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
	}
	if ms := st.GetFinishedUnixMs(); ms > 0 {
		fmt.Fprintf(tw, "finished:\t%s\n", time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
		if sub := st.GetSubmittedUnixMs(); sub > 0 {
			fmt.Fprintf(tw, "duration:\t%s\n", time.Duration(ms-sub)*time.Millisecond)
		}
	}
	if st.GetError() != "" {
		fmt.Fprintf(tw, "error:\t%s\n", st.GetError())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.GetStages()) == 0 {
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\ttasks\tsucceeded\trunning\t")
	for _, sp := range st.GetStages() {
		tasks := "?"
		if sp.GetTasks() > 0 {
			tasks = fmt.Sprint(sp.GetTasks())
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t\n", sp.GetStage(), tasks, sp.GetSucceeded(), sp.GetRunning())
	}
	return tw.Flush()
}

func newStatusCmd() *cobra.Command {
	var driver string
	cmd := &cobra.Command{
		Use:     "status --driver HOST:PORT JOB_ID",
		Short:   "Print a cluster job's state and stage progress",
		Example: `  flint status --driver localhost:7077 job-20250101T120000-000001`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := dialDriver(driver)
			if err != nil {
				return err
			}
			defer d.Close()
			st, err := d.Client.Status(cmd.Context(), &pb.StatusRequest{JobId: args[0]})
			if err != nil {
				return d.rpcError(err)
			}
			return printStatus(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the driver's HOST:PORT, or every member of a replicated group, comma-separated (default $"+driverEnv+")")
	return cmd
}

func newCancelCmd() *cobra.Command {
	var driver, reason string
	cmd := &cobra.Command{
		Use:   "cancel --driver HOST:PORT JOB_ID",
		Short: "Cancel a cluster job (a finished job is left as it is)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := dialDriver(driver)
			if err != nil {
				return err
			}
			defer d.Close()
			ctx, id := cmd.Context(), args[0]
			if _, err := d.Client.Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: reason}); err != nil {
				return d.rpcError(err)
			}
			st, err := d.Client.Status(ctx, &pb.StatusRequest{JobId: id})
			if err != nil {
				return d.rpcError(err)
			}
			msg := stateName(st.GetState())
			if st.GetState() == pb.JobState_JOB_STATE_RUNNING {
				msg = "cancelling"
			} else if st.GetState() != pb.JobState_JOB_STATE_CANCELLED {
				msg += " (it had already finished)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s: %s\n", id, msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the driver's HOST:PORT, or every member of a replicated group, comma-separated (default $"+driverEnv+")")
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the job's error)")
	return cmd
}
