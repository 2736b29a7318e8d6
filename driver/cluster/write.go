package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/proto"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/coordinator"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/wire"
)

// A write job (SubmitRequest.write) runs its query with a physical.Write
// at the root of the final stage: every final task writes its rows into
// files of the target and reports them in RunTaskResponse.written. The
// driver keeps the files of the attempt the coordinator counts as the
// task's success and deletes those of stale or duplicate attempts. When
// the job ends it first ends the job on every executor (so their attempts
// have stopped and cleaned up after themselves), then commits
// (connectors.WriteJob: sweep, manifest last) or aborts, and only then
// shows the job's final state. The result of a committed write is one
// row: rows, files and bytes written.

// writeResultSchema is the schema of a write job's result.
var writeResultSchema = arrow.NewSchema([]arrow.Field{
	{Name: "rows", Type: arrow.PrimitiveTypes.Int64},
	{Name: "files", Type: arrow.PrimitiveTypes.Int64},
	{Name: "bytes", Type: arrow.PrimitiveTypes.Int64},
}, nil)

const (
	// beginWriteTimeout bounds the check of a write's target at submit.
	beginWriteTimeout = time.Minute
	// commitTimeout bounds a write's commit or clean-up.
	commitTimeout = 5 * time.Minute
)

// submittedWrite decodes the write of a submit request (nil when the job
// is a query). The driver names the write itself (a fresh write ID).
func submittedWrite(req *pb.SubmitRequest) (*connectors.WriteSpec, error) {
	p := req.GetWrite()
	if p == nil {
		return nil, nil
	}
	p = proto.Clone(p).(*pb.WriteSpec)
	p.WriteId = connectors.NewWriteID()
	spec, err := wire.DecodeWriteSpec(p)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(spec.Location, "://") && !filepath.IsAbs(spec.Location) {
		return nil, fmt.Errorf("write location %s must be absolute (executors run in other directories)", spec.Location)
	}
	if spec.Mode == "" {
		spec.Mode = connectors.ModeError
	}
	return spec, nil
}

// beginWrite checks the write's target against its mode.
func (d *Driver) beginWrite(spec *connectors.WriteSpec, jobID string) (*connectors.WriteJob, error) {
	ctx, cancel := context.WithTimeout(d.ctx, beginWriteTimeout)
	defer cancel()
	return connectors.BeginWrite(ctx, *spec, jobID)
}

func writtenFiles(resp *pb.RunTaskResponse) []connectors.WrittenFile {
	out := make([]connectors.WrittenFile, 0, len(resp.GetWritten()))
	for _, f := range resp.GetWritten() {
		out = append(out, connectors.WrittenFile{Path: f.GetPath(), Rows: f.GetRows(), Bytes: f.GetBytes()})
	}
	return out
}

// dropStaleWriteLocked deletes, in the background and best effort, the
// files of a successful attempt that is not the task's current one: a
// duplicate, or the late report of an attempt already given up on.
func (d *Driver) dropStaleWriteLocked(j *job, k attemptKey, resp *pb.RunTaskResponse) {
	if j.write == nil {
		return
	}
	files := writtenFiles(resp)
	d.log.Info("discarding the files of a stale write attempt", "job", j.id, "stage", k.stage, "task", k.task,
		"attempt", k.attempt-1, "files", len(files))
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		ctx, cancel := context.WithTimeout(d.endCtx, commitTimeout)
		defer cancel()
		if err := j.write.Discard(ctx, files); err != nil {
			d.log.Warn("discarding a stale write attempt's files failed", "job", j.id, "err", err)
		}
	}()
}

// endWriteLocked ends a write job that the coordinator has finished:
// executors drop the job first, then the write is committed (a succeeded
// job) or aborted, then the job's final state is shown.
func (d *Driver) endWriteLocked(j *job, cj *coordinator.Job) {
	succeeded := cj.Status == coordinator.StatusSucceeded
	state, errText := endState(cj.Status), cj.Error
	var files [][]connectors.WrittenFile
	if succeeded {
		final := cj.Stages[len(cj.Stages)-1]
		if len(j.written) != len(final.Tasks) {
			succeeded, errText = false, fmt.Sprintf("internal error: %d of %d write tasks reported their files", len(j.written), len(final.Tasks))
		}
		files = writtenInOrder(j)
	}
	calls := d.endJobOnExecutorsLocked(j.id)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		waitTimeout(calls, endJobTimeout+time.Second)
		ctx, cancel := context.WithTimeout(d.endCtx, commitTimeout)
		defer cancel()
		// A replicated driver that no longer leads leaves the write to
		// its successor, which carries out the same decision.
		if !d.stillLeads(j) {
			return
		}
		var data []byte
		landed := false
		if succeeded && d.rep != nil {
			// A former leader may have committed it already.
			landed, _ = j.write.Landed(ctx)
		}
		if landed {
			d.log.Info("write already committed by a former leader", "job", j.id, "location", j.write.Spec.Location)
		}
		if succeeded && !landed {
			d.log.Info("committing the write", "job", j.id, "location", j.write.Spec.Location)
			if d.cfg.CommitDelay > 0 {
				select {
				case <-time.After(d.cfg.CommitDelay):
				case <-d.endCtx.Done():
				}
				if !d.stillLeads(j) {
					return
				}
			}
			m, err := j.write.Commit(ctx, files)
			if err != nil && d.rep != nil && (ctx.Err() != nil || !d.stillLeads(j)) {
				d.log.Warn("the write's commit was interrupted; the next leader commits it", "job", j.id, "err", err)
				return
			}
			if err != nil {
				succeeded, errText = false, fmt.Sprintf("committing the write: %v", err)
			} else {
				d.log.Info("write committed", "job", j.id, "location", j.write.Spec.Location, "files", len(m.Files))
				if j.write.CleanupErr != nil {
					d.log.Warn("write committed, but cleaning up failed", "job", j.id, "err", j.write.CleanupErr)
				}
			}
		}
		if succeeded {
			var err error
			if data, err = writeResult(files); err != nil {
				succeeded, errText = false, fmt.Sprintf("encoding the result: %v", err)
			}
		}
		if !succeeded {
			// Replicated: the group learns first that this write is
			// given up, so that no successor commits what is swept now.
			if d.rep != nil && cj.Status == coordinator.StatusSucceeded {
				d.mu.Lock()
				ok := d.writeEndedLocked(j, "failed: "+errText)
				d.mu.Unlock()
				if !ok {
					return
				}
			}
			if err := j.write.Abort(ctx); err != nil {
				d.log.Warn("cleaning up a failed write", "job", j.id, "err", err)
			}
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if !succeeded {
			d.finishLocked(j, state, errText)
			return
		}
		d.writeEndedLocked(j, committedOK)
		j.result = data
		d.finishLocked(j, pb.JobState_JOB_STATE_SUCCEEDED, "")
	}()
}

// stillLeads reports whether the driver may carry out j's end: always
// when it is not replicated.
func (d *Driver) stillLeads(j *job) bool {
	if d.rep == nil {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.leading && !j.gone
}

// writtenInOrder are the files of a write's final tasks, in task order.
func writtenInOrder(j *job) [][]connectors.WrittenFile {
	tasks := make([]int, 0, len(j.written))
	for t := range j.written {
		tasks = append(tasks, t)
	}
	sort.Ints(tasks)
	files := make([][]connectors.WrittenFile, 0, len(tasks))
	for _, t := range tasks {
		files = append(files, j.written[t])
	}
	return files
}

// writeResult is the one-row result of a committed write.
func writeResult(files [][]connectors.WrittenFile) ([]byte, error) {
	var rows, n, bytes int64
	for _, task := range files {
		for _, f := range task {
			rows += max(f.Rows, 0)
			bytes += f.Bytes
			n++
		}
	}
	cols := make([]arrow.Array, 3)
	for i, v := range []int64{rows, n, bytes} {
		b := array.NewInt64Builder(memoryPool)
		b.Append(v)
		cols[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(writeResultSchema, cols, 1)
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	return encodeIPC(writeResultSchema, []arrow.RecordBatch{rec})
}

// waitTimeout waits for wg, at most d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
