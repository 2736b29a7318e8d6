package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	pb "github.com/flint-engine/flint/proto/flintpb"
)

// jobLine is one job of flint jobs --format json.
type jobLine struct {
	JobID      string            `json:"job_id"`
	Name       string            `json:"name,omitempty"`
	State      string            `json:"state"`
	Submitted  string            `json:"submitted"`
	Finished   string            `json:"finished,omitempty"`
	DurationMs int64             `json:"duration_ms"`
	Error      string            `json:"error,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

func toJobLine(st *pb.JobStatus, now time.Time) jobLine {
	return jobLine{JobID: st.GetJobId(), Name: st.GetName(), State: stateName(st.GetState()),
		Submitted: unixMs(st.GetSubmittedUnixMs()), Finished: unixMs(st.GetFinishedUnixMs()),
		DurationMs: jobDuration(st, now).Milliseconds(), Error: st.GetError(), Labels: st.GetLabels()}
}

// jobDuration is how long a job ran, or has been running by now.
func jobDuration(st *pb.JobStatus, now time.Time) time.Duration {
	end := now.UnixMilli()
	if ms := st.GetFinishedUnixMs(); ms > 0 {
		end = ms
	}
	return time.Duration(max(end-st.GetSubmittedUnixMs(), 0)) * time.Millisecond
}

func unixMs(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// labelText prints labels as k=v,k=v sorted by key.
func labelText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// parseListFormat reads --format of flint jobs and flint logs.
func parseListFormat(f string) (bool, error) {
	switch f {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, usagef("--format %q: want text or json", f)
}

func newJobsCmd() *cobra.Command {
	var driver, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "jobs --driver HOST:PORT",
		Short: "List a cluster's recent jobs, newest first",
		Long: `Jobs lists the jobs the driver keeps, running ones and those finished
within its result TTL, newest first: ID, name, state, submission time,
duration (so far, for a running job) and labels. --format json prints one
JSON object per line (job_id, name, state, submitted, finished,
duration_ms, error, labels).`,
		Example: `  flint jobs --driver localhost:7077
  flint jobs --format json | jq 'select(.state == "failed")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := parseListFormat(format)
			if err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			d, err := dialDriver(driver)
			if err != nil {
				return err
			}
			defer d.Close()
			resp, err := d.Client.ListJobs(cmd.Context(), &pb.ListJobsRequest{Limit: int32(limit)})
			if err != nil {
				return d.rpcError(err)
			}
			return printJobs(cmd.OutOrStdout(), resp.GetJobs(), asJSON, time.Now())
		},
	}
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the driver's HOST:PORT, or every member of a replicated group, comma-separated (default $"+driverEnv+")")
	cmd.Flags().StringVar(&format, "format", "text", "text or json (one object per line)")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most N jobs (0: all the driver keeps)")
	return cmd
}

func printJobs(w io.Writer, jobs []*pb.JobStatus, asJSON bool, now time.Time) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, st := range jobs {
			if err := enc.Encode(toJobLine(st, now)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tSUBMITTED\tDURATION\tLABELS")
	for _, st := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st.GetJobId(), st.GetName(), stateName(st.GetState()),
			time.UnixMilli(st.GetSubmittedUnixMs()).UTC().Format(time.RFC3339), jobDuration(st, now), labelText(st.GetLabels()))
	}
	return tw.Flush()
}

// logLine is one event of flint logs --format json.
type logLine struct {
	Time  string `json:"time"`
	JobID string `json:"job_id"`
	// Event is "job" (a status: submitted, or its end), "stage" or "task".
	Event    string `json:"event"`
	State    string `json:"state"`
	Stage    *int32 `json:"stage,omitempty"`
	Tasks    int32  `json:"tasks,omitempty"`
	Task     *int32 `json:"task,omitempty"`
	Attempt  *int32 `json:"attempt,omitempty"`
	Executor string `json:"executor,omitempty"`
	Error    string `json:"error,omitempty"`
}

func newLogsCmd() *cobra.Command {
	var driver, format string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs --driver HOST:PORT JOB_ID",
		Short: "Print a cluster job's events: stages, task failures and retries, its end",
		Long: `Logs prints the events the driver recorded for a job: its submission,
each stage starting and completing, task attempts that failed (with the
task's error), were lost with their executor or were retried, and the
job's end with its error. With --follow it keeps printing until the job
ends. --format json prints every event, successful task attempts too, as
one JSON object per line (time, job_id, event: job, stage or task, state,
stage, tasks, task, attempt, executor, error).`,
		Example: `  flint logs --driver localhost:7077 job-20250101T120000-1a2b-000001
  flint logs --follow --format json JOB_ID`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := parseListFormat(format)
			if err != nil {
				return err
			}
			d, err := dialDriver(driver)
			if err != nil {
				return err
			}
			defer d.Close()
			stream, err := d.Client.Watch(cmd.Context(), &pb.WatchRequest{JobId: args[0], Snapshot: !follow})
			if err != nil {
				return d.rpcError(err)
			}
			w := cmd.OutOrStdout()
			first := true
			for {
				ev, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return d.rpcError(err)
				}
				if err := printEvent(w, args[0], ev, asJSON, first); err != nil {
					return err
				}
				first = false
			}
		},
	}
	cmd.Flags().StringVar(&driver, "driver", os.Getenv(driverEnv), "the driver's HOST:PORT, or every member of a replicated group, comma-separated (default $"+driverEnv+")")
	cmd.Flags().StringVar(&format, "format", "text", "text or json (one object per line)")
	cmd.Flags().BoolVarP(&follow, "follow", "F", false, "keep printing events until the job ends")
	return cmd
}

// printEvent prints one job event; first is the job's first event (its
// status at submission).
func printEvent(w io.Writer, id string, ev *pb.JobEvent, asJSON, first bool) error {
	l := logLine{Time: unixMs(ev.GetUnixMs()), JobID: id}
	var text string
	switch {
	case ev.GetStatus() != nil:
		st := ev.GetStatus()
		l.Event, l.State, l.Error = "job", stateName(st.GetState()), st.GetError()
		switch {
		case st.GetState() != pb.JobState_JOB_STATE_RUNNING:
			text = "job " + stateText(st.GetState())
			if st.GetError() != "" {
				text += ": " + st.GetError()
			}
		case first:
			text = "job submitted"
			if st.GetName() != "" {
				text += " (" + st.GetName() + ")"
			}
			if len(st.GetLabels()) > 0 {
				text += " labels " + labelText(st.GetLabels())
			}
		}
	case ev.GetStage() != nil:
		se := ev.GetStage()
		stage := se.GetStage()
		l.Event, l.Stage, l.Tasks, l.State = "stage", &stage, se.GetTasks(), "started"
		if se.GetCompleted() {
			l.State = "completed"
		}
		text = fmt.Sprintf("stage %d %s", stage, l.State)
		if se.GetTasks() > 0 {
			text += fmt.Sprintf(" (%d tasks)", se.GetTasks())
		}
	case ev.GetTask() != nil:
		te := ev.GetTask()
		stage, task, attempt := te.GetId().GetStage(), te.GetId().GetTask(), te.GetId().GetAttempt()
		l.Event, l.Stage, l.Task, l.Attempt, l.Executor, l.Error = "task", &stage, &task, &attempt, te.GetExecutorId(), te.GetError()
		l.State = strings.ToLower(strings.TrimPrefix(te.GetState().String(), "TASK_STATE_"))
		what := fmt.Sprintf("stage %d task %d attempt %d", stage, task, attempt)
		switch te.GetState() {
		case pb.TaskState_TASK_STATE_RUNNING:
			if attempt > 0 {
				text = fmt.Sprintf("%s: retrying on %s", what, te.GetExecutorId())
			}
		case pb.TaskState_TASK_STATE_FAILED:
			text = fmt.Sprintf("%s failed on %s: %s", what, te.GetExecutorId(), te.GetError())
		case pb.TaskState_TASK_STATE_LOST:
			text = fmt.Sprintf("%s lost: %s", what, te.GetError())
		}
	default:
		return nil
	}
	if asJSON {
		return json.NewEncoder(w).Encode(l)
	}
	if text == "" {
		return nil
	}
	_, err := fmt.Fprintf(w, "%s  %s\n", l.Time, text)
	return err
}

// stateText is a state in a sentence: "timed out".
func stateText(s pb.JobState) string { return strings.ReplaceAll(stateName(s), "_", " ") }
