package service

import (
	"context"
	"fmt"

	"github.com/flint-engine/flint/executor"
	pb "github.com/flint-engine/flint/proto/flintpb"
	"github.com/flint-engine/flint/wire"
)

// runWrite runs an attempt of a write task: its rows go into files of
// the dataset (named with the attempt number), which the response lists
// for the driver to commit. Nothing is kept for the driver to fetch.
func (s *Service) runWrite(ctx context.Context, j *job, spec *wire.TaskSpec, store *taskStore, resp *pb.RunTaskResponse) (*pb.RunTaskResponse, error) {
	t := spec.Task
	t.Attempt = spec.Attempt
	files, err := executor.RunWrite(ctx, j.env.WithStore(store), t)
	m := resp.Metrics
	m.ShuffleReadRows, m.ShuffleReadBytes = store.readRows.Load(), store.readBytes.Load()
	if err != nil {
		return resp, err
	}
	for _, f := range files {
		resp.Written = append(resp.Written, &pb.WrittenFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes})
		m.RowsOut += f.Rows
		m.BytesOut += f.Bytes
	}
	schema, ok := j.env.ExchangeSchema(t.Stage.ID)
	if !ok {
		return resp, fmt.Errorf("internal error: stage %d recorded no output schema", t.Stage.ID)
	}
	if resp.OutputSchema, err = wire.EncodeArrowSchema(schema); err != nil {
		return resp, fmt.Errorf("output schema: %w", err)
	}
	resp.Ok = true
	return resp, nil
}
