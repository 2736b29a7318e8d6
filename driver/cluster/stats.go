package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/optimizer"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
)

// statsOpenTimeout bounds the opening of a job's tables at submit for
// their row estimates, so that a table slow to list cannot hold the
// Submit call (whose client waits at most 30s) for long: past it the
// remaining scans are planned without the estimates, and their sources
// are opened when their stages are split.
const statsOpenTimeout = 10 * time.Second

// scanStats gives the planner the row estimates local sessions have
// (planner.ScanStats): a scan of a Hive-partitioned table is estimated
// at the rows of the files its filters leave. It opens the job's tables
// through the job's source cache, so splitting the scan stages later
// lists nothing again. A table that cannot be opened is not asked again
// (the split reports its error); once ctx ends, nothing more is opened.
func scanStats(ctx context.Context, sources *connectors.SourceCache) optimizer.ScanStats {
	failed := map[*plan.TableSource]bool{}
	return planner.ScanStats(func(t *plan.TableSource) (connectors.Source, error) {
		if failed[t] {
			return nil, errNoStats
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src, err := executor.OpenSource(ctx, sources, t)
		if err != nil {
			failed[t] = true
		}
		return src, err
	})
}

var errNoStats = errors.New("the table could not be opened")
