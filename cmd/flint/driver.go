package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/driver/replica"
	"github.com/flint-engine/flint/internal/metrics"
)

func newDriverCmd() *cobra.Command {
	var cfg cluster.Config
	var httpListen string
	var obs observeFlags
	var raftFlags raftFlags
	cmd := &cobra.Command{
		Use:   "driver --listen HOST:PORT",
		Short: "Run the cluster driver: executors register with it, clients submit jobs to it",
		Long: `Run the cluster driver until interrupted.

Executors (flint executor --driver HOST:PORT) register with the driver and
heartbeat; clients (flint sql --driver HOST:PORT, the Go API with
flint.WithDriver) submit jobs. The driver plans each job, splits its table
scans (the table files must be readable at the same paths by the driver and
every executor), schedules its tasks on the executors' slots, reruns the
work of executors that are lost, and keeps finished results for 10 minutes.

--models names the cluster's model store: sessions that name no store of
their own (flint sql --driver without --models or $FLINT_MODELS) create
and score models there. Executors read the models a job scores from the
store themselves (s3:// with their own S3 settings; a local path must be
the same on every machine).

--notify URL (repeatable) is where the driver POSTs the notifications of
jobs submitted without --notify of their own: a JSON message with a
top-level "text" (a Slack incoming webhook's shape) when a job succeeds,
fails, is cancelled or times out, when one of its tasks is retried, and
when it passes its --sla. Posting happens in the background, 5 seconds at
most each, and never holds up scheduling.

--http HOST:PORT also serves a small REST/JSON API for orchestrators that
speak HTTP only (errors are {"error": message} with a 4xx/5xx status):

  POST /jobs              {"sql": "CREATE EXTERNAL TABLE ...; SELECT ...",
                           "tables": {"NAME": "PATH"}, "name", "idempotency_key",
                           "rerun", "rerun_failed", "deadline_ms", "sla_ms", "labels", "notify"}
                          -> 201 {"job_id", "existing": false} (200 when the
                          idempotency key named an existing job)
  GET  /jobs[?limit=N]    {"jobs": [...]}, newest first (as flint jobs --format json)
  GET  /jobs/{id}         the job, with per-stage progress; 404 when unknown
  POST /jobs/{id}/cancel  cancel ({"reason"} optional); the job

--raft-id, --raft-dir and --peers make the driver one member of a
replicated group (usually three): the coordinator's state is replicated
over raft, one member leads and schedules, the others refuse calls and
name the leader, and when the leader dies another one takes over and
resumes the running jobs. --peers lists every member as
ID=RAFTHOST:PORT@HOST:PORT (its raft address, then its client address,
which must be its --listen); members whose --raft-dir is empty start the
group together. Give clients and executors every member: --driver
a:7077,b:7077,c:7077 (or $FLINT_DRIVER). flint drivers shows the group.
Each member snapshots its state (bounded: a finished job is kept ten
minutes, the newest 100 at most) and compacts its log on the schedule the
--raft-snapshot-* flags set; a member that was down catches up from the
leader's log, or from its snapshot once the log has moved on.

To add a member to a running group, start it with --join and --peers
listing the members and itself, then run flint drivers add
ID=RAFTHOST:PORT@HOST:PORT on the group; flint drivers remove ID takes one
out (a leader removing itself hands over first).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if cfg.Listen == "" {
				return usagef("flint driver needs --listen HOST:PORT")
			}
			if cfg.HeartbeatTimeout < 0 || cfg.NoExecutorTimeout < 0 {
				return usagef("--heartbeat-timeout and --no-executor-timeout must be positive")
			}
			if err := obs.check(); err != nil {
				return err
			}
			if cfg.Replica, err = raftFlags.config(cfg.Listen); err != nil {
				return err
			}
			cfg.Logger = obs.logger(os.Stderr)
			if cfg.Replica != nil {
				cfg.Replica.Logger = cfg.Logger
			}
			if obs.metrics != "" {
				cfg.Metrics = metrics.NewDriver()
			}
			stopMetrics, err := obs.serveMetrics(cfg.Logger, cfg.Metrics.Registry())
			if err != nil {
				return err
			}
			defer stopMetrics()
			var stopHTTP func() error
			if httpListen != "" {
				cfg.Started = func(addr string) error {
					if cfg.Replica != nil {
						// Any member's REST API reaches the leader.
						var all []string
						for _, p := range cfg.Replica.Peers {
							all = append(all, p.ClientAddr)
						}
						addr = strings.Join(all, ",")
					}
					at, stop, err := serveJobsAPI(cmd.Context(), httpListen, addr)
					if err != nil {
						return err
					}
					stopHTTP = stop
					cfg.Logger.Info("REST API listening", "addr", at)
					return nil
				}
			}
			err = cluster.Run(cmd.Context(), cfg)
			if stopHTTP != nil {
				if herr := stopHTTP(); herr != nil && err == nil {
					err = fmt.Errorf("--http: %w", herr)
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&cfg.Listen, "listen", "", "HOST:PORT to serve on (port 0: any free port)")
	cmd.Flags().DurationVar(&cfg.HeartbeatTimeout, "heartbeat-timeout", 5*time.Second, "declare an executor lost after this long without a heartbeat")
	cmd.Flags().DurationVar(&cfg.CommitDelay, "fault-commit-delay", 0, "fault tests: hold each write between its decision and its commit")
	cmd.Flags().MarkHidden("fault-commit-delay")
	cmd.Flags().DurationVar(&cfg.NoExecutorTimeout, "no-executor-timeout", 0, "fail a job that has had no live executor for this long (default: 2 × heartbeat timeout)")
	cmd.Flags().StringVar(&httpListen, "http", "", "also serve the REST/JSON jobs API on HOST:PORT")
	cmd.Flags().StringArrayVar(&cfg.Notify, "notify", nil, "POST job notifications to URL for jobs that name none (repeatable)")
	cmd.Flags().StringVar(&cfg.Models, "models", os.Getenv(modelsEnv), "the cluster's model store, used by clients that name none: a folder every executor and client can reach at the same path, or s3://bucket/prefix (default $"+modelsEnv+")")
	raftFlags.add(cmd)
	obs.add(cmd)
	return cmd
}

// raftFlags make a driver one member of a replicated group.
type raftFlags struct {
	id, listen, dir, peers string
	join                   bool
	// The snapshot schedule, as Consul's raft_snapshot_interval,
	// raft_snapshot_threshold and raft_trailing_logs.
	snapshotInterval                time.Duration
	snapshotThreshold, trailingLogs uint64
	electionTimeout                 time.Duration
}

func (f *raftFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.id, "raft-id", "", "this driver's ID in its replicated group (one of --peers)")
	cmd.Flags().StringVar(&f.listen, "raft-listen", "", "HOST:PORT the raft transport binds (default: this member's raft address in --peers)")
	cmd.Flags().StringVar(&f.dir, "raft-dir", "", "directory of this member's raft log and snapshots")
	cmd.Flags().StringVar(&f.peers, "peers", "", "every member of the group: ID=RAFTHOST:PORT@HOST:PORT,... (raft address @ client address)")
	cmd.Flags().BoolVar(&f.join, "join", false, "join a running group instead of starting one (--peers: its members and this driver); then run flint drivers add on it")
	cmd.Flags().DurationVar(&f.electionTimeout, "raft-election-timeout", 500*time.Millisecond, "how long a member goes without hearing from the leader before it stands for election (raft's heartbeat and election timeouts): the least time a group takes to replace a lost leader")
	cmd.Flags().DurationVar(&f.snapshotInterval, "raft-snapshot-interval", 2*time.Minute, "how often a member checks whether to snapshot its state and compact its log (each check waits between one and two intervals)")
	cmd.Flags().Uint64Var(&f.snapshotThreshold, "raft-snapshot-threshold", 4096, "log entries since the last snapshot that make the next check take one")
	cmd.Flags().Uint64Var(&f.trailingLogs, "raft-trailing-logs", 10240, "log entries kept after a snapshot, so that a lagging member catches up from the log rather than a whole snapshot")
}

// config is the group membership the flags describe (nil: none given).
func (f *raftFlags) config(listen string) (*replica.Config, error) {
	if f.id == "" && f.dir == "" && f.peers == "" && f.listen == "" && !f.join {
		return nil, nil
	}
	if f.snapshotInterval <= 0 || f.snapshotThreshold == 0 || f.trailingLogs == 0 {
		return nil, usagef("--raft-snapshot-interval, --raft-snapshot-threshold and --raft-trailing-logs must be positive")
	}
	if f.electionTimeout < 10*time.Millisecond {
		return nil, usagef("--raft-election-timeout must be at least 10ms")
	}
	if f.id == "" || f.dir == "" || f.peers == "" {
		return nil, usagef("a replicated driver needs --raft-id, --raft-dir and --peers")
	}
	peers, err := replica.ParsePeers(f.peers)
	if err != nil {
		return nil, usagef("--peers: %v", err)
	}
	self := -1
	for i, p := range peers {
		if p.ID == f.id {
			self = i
		}
	}
	if self < 0 {
		return nil, usagef("--raft-id %q is not one of --peers", f.id)
	}
	if peers[self].ClientAddr != listen {
		return nil, usagef("--peers gives %s the client address %s, but it listens on %s: they must be the same (clients are sent there)",
			f.id, peers[self].ClientAddr, listen)
	}
	return &replica.Config{ID: f.id, Listen: f.listen, Dir: f.dir, Peers: peers, Join: f.join,
		SnapshotInterval: f.snapshotInterval, SnapshotThreshold: f.snapshotThreshold, TrailingLogs: f.trailingLogs,
		HeartbeatTimeout: f.electionTimeout, ElectionTimeout: f.electionTimeout}, nil
}
