package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flint-engine/flint/executor/service"
	"github.com/flint-engine/flint/internal/bufpool"
	"github.com/flint-engine/flint/internal/gctune"
	"github.com/flint-engine/flint/internal/metrics"
	"github.com/flint-engine/flint/mempool"
)

func newExecutorCmd() *cobra.Command {
	var cfg service.Config
	var minHeapMiB int
	var memLimit, opMemory string
	var obs observeFlags
	cmd := &cobra.Command{
		Use:   "executor --driver HOST:PORT --listen HOST:PORT",
		Short: "Run a cluster executor: it registers with the driver and runs its tasks",
		Long: `Run a cluster executor until interrupted (SIGINT or SIGTERM).

The executor registers with the driver (retrying while the driver is
unreachable) and sends it heartbeats, runs the task attempts the driver
sends on --slots slots, keeps their shuffle output under --work-dir and
serves it to other executors over Arrow Flight on the --listen address.
Table files must be readable at the same paths as on the driver.

The work dir must belong to this executor alone: what earlier runs left
there is removed at start. By default a fresh folder under the system temp
dir is used and removed at exit.`,
		Example: `  flint executor --driver 10.0.0.1:7070 --listen 0.0.0.0:7071 --advertise 10.0.0.2:7071
  flint executor --driver 127.0.0.1:7070 --listen 127.0.0.1:0 --slots 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Driver == "" || cfg.Listen == "" {
				return usagef("flint executor needs --driver HOST:PORT and --listen HOST:PORT")
			}
			if cfg.Slots < 0 {
				return usagef("--slots must be positive")
			}
			if err := obs.check(); err != nil {
				return err
			}
			if minHeapMiB < 0 {
				return usagef("--gc-min-heap must not be negative")
			}
			cfg.MemoryLimit = mempool.DefaultLimit()
			if memLimit != "" {
				var err error
				if cfg.MemoryLimit, err = mempool.ParseBytes(memLimit); err != nil {
					return usagef("--memory-limit: %v", err)
				}
			}
			if opMemory != "" {
				var err error
				if cfg.OperatorMemory, err = mempool.ParseBytes(opMemory); err != nil {
					return usagef("--operator-memory: %v", err)
				}
			}
			if cfg.MemoryLimit > 0 && !cmd.Flags().Changed("gc-min-heap") {
				// The ballast counts against the GC's soft limit.
				minHeapMiB = min(minHeapMiB, int(cfg.MemoryLimit>>20)/4)
			}
			if minHeapMiB > 0 {
				// Tasks allocate hundreds of MB of short-lived buffers
				// over a live heap of tens of MB: without a floor the
				// executor collects every few MB (see gctune).
				gctune.MinHeap(uint64(minHeapMiB) << 20)
			}
			if cfg.WorkDir == "" {
				dir, err := os.MkdirTemp("", "flint-executor-")
				if err != nil {
					return fmt.Errorf("work dir: %w", err)
				}
				defer os.RemoveAll(dir)
				cfg.WorkDir = dir
			}
			cfg.Log = obs.logger(os.Stderr)
			if obs.metrics != "" {
				cfg.Metrics = metrics.NewExecutor()
			}
			stopMetrics, err := obs.serveMetrics(cfg.Log, cfg.Metrics.Registry())
			if err != nil {
				return err
			}
			defer stopMetrics()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM)
			defer stop()
			cfg.Allocator = bufpool.Shared()
			return service.Run(ctx, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Driver, "driver", "", "the driver's HOST:PORT, or every member of a replicated driver group, comma-separated (it follows the leader)")
	f.StringVar(&cfg.Listen, "listen", "", "HOST:PORT to serve tasks and shuffle data on (port 0: any free port)")
	f.StringVar(&cfg.Advertise, "advertise", "", "HOST:PORT the driver and other executors reach this one at (default: the listen address; an unspecified host becomes the host name)")
	f.IntVar(&cfg.Slots, "slots", 0, "tasks run at once (default: all cores)")
	f.StringVar(&cfg.WorkDir, "work-dir", "", "folder for shuffle files, used by this executor alone (default: a new folder under the temp dir)")
	f.IntVar(&minHeapMiB, "gc-min-heap", 768, "MiB the heap may reach before the Go GC collects (0: Go's default pacing); keep it well below the memory the executor may use")
	f.StringVar(&memLimit, "memory-limit", "", "memory the executor may use, e.g. 4GiB; its tasks spill to the work dir beyond it (default: 75% of the machine's or container's memory; 0: no limit)")
	f.StringVar(&opMemory, "operator-memory", "", "size the operators' memory pool directly, leaving the GC alone (tests)")
	f.MarkHidden("operator-memory")
	f.DurationVar(&cfg.StopTimeout, "stop-timeout", 10*time.Second, "on interrupt, let running tasks finish for this long before cancelling them")
	obs.add(cmd)
	return cmd
}
