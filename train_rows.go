package flint

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/train"
)

// trainResult is a training's outcome: the booster and its report, a
// classifier's classes, and the rows on each side of the split.
type trainResult struct {
	classes       []string
	booster       *gbdt.Booster
	info          *gbdt.TrainInfo
	nTrain, nEval int
}

// columnType is the type of the i-th output column of df.
func (df *DataFrame) columnType(i int) (arrow.DataType, error) {
	if df.err != nil {
		return nil, df.err
	}
	sch := df.plan.Schema()
	if i >= len(sch) {
		return nil, fmt.Errorf("no column %d", i)
	}
	return sch[i].Type, nil
}

// trainRows trains on the rows of rows (the features as REAL, the label,
// maybe the split column). In local mode the query's result batches are
// the training's partitions, prepared (ml/train) and trained on here; on
// a cluster, the driver runs the query and the training on the executors
// that computed the rows.
func (s *Session) trainRows(ctx context.Context, rows *DataFrame, spec train.Spec, o *trainOptions) (*trainResult, error) {
	_, batches, err := rows.CollectWithSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("AS query: %w", err)
	}
	defer func() { releaseAll(batches) }()
	ds := train.NewDataSet(memorySources(batches, train.ShardRows), 0)
	defer ds.Close()
	prep, err := train.Prepare(ctx, spec, []train.Worker{ds}, nil)
	if err != nil {
		return nil, err
	}
	// The shards hold the rows now.
	releaseAll(batches)
	batches = nil
	return o.trainPrepared(ctx, prep)
}

// trainPrepared trains on prepared rows with the options' parameters.
func (o *trainOptions) trainPrepared(ctx context.Context, prep *train.Prepared) (*trainResult, error) {
	if o.classifier && len(prep.Classes) < 2 {
		return nil, fmt.Errorf("label %s has %d distinct value(s); a classifier needs at least two", o.label, len(prep.Classes))
	}
	if prep.TrainRows == 0 {
		return nil, fmt.Errorf("no training rows (the AS query gave %d rows with a label)", prep.TrainRows+prep.EvalRows)
	}
	params, err := prep.Params(o.params, o.classifier, o.classWeights)
	if err != nil {
		return nil, err
	}
	booster, info, err := prep.Train(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	return &trainResult{classes: prep.Classes, booster: booster, info: info, nTrain: prep.TrainRows, nEval: prep.EvalRows}, nil
}

// memorySources cuts batches, in order, into partitions of at least rows
// rows, each read from memory (the batches stay owned by the caller).
func memorySources(batches []arrow.RecordBatch, rows int) []train.Source {
	var out []train.Source
	start, n := 0, 0
	for i, b := range batches {
		n += int(b.NumRows())
		if n >= rows || i == len(batches)-1 {
			part := batches[start : i+1]
			out = append(out, func(context.Context) (train.Stream, error) { return &memoryStream{batches: part}, nil })
			start, n = i+1, 0
		}
	}
	return out
}

// memoryStream reads batches held in memory; each Next's batch is retained
// for the caller.
type memoryStream struct {
	batches []arrow.RecordBatch
	next    int
}

func (m *memoryStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.next >= len(m.batches) {
		return nil, nil
	}
	b := m.batches[m.next]
	m.next++
	b.Retain()
	return b, nil
}

func (m *memoryStream) Close() {}
