package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/shuffle"
)

// driverEnv names the environment variable that is the default of every
// --driver flag.
const driverEnv = "FLINT_DRIVER"

// driverConn is a client connection to a cluster driver.
type driverConn struct {
	addr   string
	conn   *grpc.ClientConn
	client pb.DriverClient
}

// dialDriver connects to the driver at addr (gRPC connects lazily: an
// unreachable driver shows in the first call).
func dialDriver(addr string) (*driverConn, error) {
	if addr == "" {
		return nil, usagef("--driver HOST:PORT (or $%s) is required", driverEnv)
	}
	conn, err := grpc.NewClient(addr, shuffle.DialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("driver %s: %w", addr, err)
	}
	return &driverConn{addr: addr, conn: conn, client: pb.NewDriverClient(conn)}, nil
}

func (d *driverConn) Close() error { return d.conn.Close() }

// rpcError turns a gRPC error into one carrying the driver's message.
func (d *driverConn) rpcError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("driver %s: %w", d.addr, err)
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("driver %s unavailable: %s", d.addr, st.Message())
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	}
	return fmt.Errorf("driver %s: %s", d.addr, st.Message())
}

// wait follows a job until a final status. A Watch stream that ends
// without one (the driver dropped it) is followed by Status and, while the
// job runs, a new Watch.
func (d *driverConn) wait(ctx context.Context, id string) (*pb.JobStatus, error) {
	for {
		st, err := d.watch(ctx, id)
		if err != nil {
			return nil, d.rpcError(err)
		}
		if st != nil && st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			return st, nil
		}
		if st, err = d.client.Status(ctx, &pb.StatusRequest{JobId: id}); err != nil {
			return nil, d.rpcError(err)
		}
		if st.GetState() != pb.JobState_JOB_STATE_RUNNING {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *driverConn) watch(ctx context.Context, id string) (*pb.JobStatus, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := d.client.Watch(ctx, &pb.WatchRequest{JobId: id})
	if err != nil {
		return nil, err
	}
	var last *pb.JobStatus
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return last, nil
		}
		if err != nil {
			return last, err
		}
		if st := ev.GetStatus(); st != nil {
			last = st
			if st.GetState() != pb.JobState_JOB_STATE_RUNNING {
				return last, nil
			}
		}
	}
}

// stateName is a job state as the CLI prints it: running, succeeded...
func stateName(s pb.JobState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "JOB_STATE_"))
}

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
			st, err := d.client.Status(cmd.Context(), &pb.StatusRequest{JobId: args[0]})
			if err != nil {
				return d.rpcError(err)
			}
			return printStatus(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the driver's HOST:PORT (default $"+driverEnv+")")
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
			if _, err := d.client.Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: reason}); err != nil {
				return d.rpcError(err)
			}
			st, err := d.client.Status(ctx, &pb.StatusRequest{JobId: id})
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
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the driver's HOST:PORT (default $"+driverEnv+")")
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the job's error)")
	return cmd
}
