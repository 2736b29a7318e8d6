package planner

import (
	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/optimizer"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/plan"
)

// ScanStats is the optimizer.ScanStats of tables whose connector sources
// open returns: a scan of a Hive-partitioned table is estimated at the
// rows of the files its filters leave once they prune partition folders
// (connectors.RowPruner, from what opening the source listed; no further
// I/O). A table open cannot give, or that is not partitioned, gets no
// estimate here, so the optimizer falls back to its row count.
//
// Local sessions pass the sources they registered; the cluster driver
// the job's source cache, which later splits the same sources. The
// planner itself never opens anything: open is the caller's, called only
// for scans with filters, and maybe more than once per table.
func ScanStats(open func(*plan.TableSource) (connectors.Source, error)) optimizer.ScanStats {
	return func(sc *plan.Scan) (int64, []bool, bool) {
		if sc.Source == nil || len(sc.Filters) == 0 {
			return 0, nil, false // nothing to prune with: do not open
		}
		src, err := open(sc.Source)
		if err != nil {
			return 0, nil, false
		}
		rp, ok := src.(connectors.RowPruner)
		if !ok || !rp.Partitioned() {
			return 0, nil, false
		}
		preds, from := physical.ScanPredicates(sc)
		rows, used, ok := rp.PrunedRows(preds)
		if !ok {
			return 0, nil, false
		}
		filters := make([]bool, len(sc.Filters))
		for i, u := range used {
			filters[from[i]] = u
		}
		return rows, filters, true
	}
}
