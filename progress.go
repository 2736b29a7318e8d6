package flint

import (
	"context"

	"github.com/flint-engine/flint/driver"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// Progress receives the progress of the queries run with a context from
// WithProgress (flint sql's progress display): a local query reports its
// stages and tasks as driver.Progress says, a query on a cluster passes
// on its job's events. Calls may come from many goroutines at once and
// must be cheap.
type Progress interface {
	driver.Progress
	// JobEvent is an event of a cluster job's Watch stream, each once.
	JobEvent(*pb.JobEvent)
}

// WithProgress returns a context whose queries report to p. Not for
// concurrent queries.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return driverclient.WithEvents(driver.WithProgress(ctx, p), p.JobEvent)
}
