// Package train prepares a training's rows where they are and trains
// ml/gbdt boosters on them: the rows of each partition stay with the
// process that computed them (an executor, or the session in local mode),
// in a DataSet that is read again for each pass (labels and split,
// sketch, binning) and then holds only the binned shards. A coordinator
// (Prepare, then Prepared.Train) merges what the passes return — the
// distinct labels, the split column's quantiles, the feature sketches —
// and sends back the decisions: the classes, the split point, the cuts.
//
// The rows arrive as Arrow batches with the features first (REAL, NaN or
// NULL missing), then the label, then, for a sequential split, the split
// column.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/quantile"
)

// Stream is one partition's batches, read once (shuffle.Stream's shape).
type Stream interface {
	// Next returns the next batch, owned by the caller, or nil at the end.
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close()
}

// Source opens a partition's rows for one pass; every pass sees the same
// rows in the same order. last is set for the last pass (binning): a
// source that owns its rows may let them go as they are read.
type Source func(ctx context.Context, last bool) (Stream, error)

// ShardRows is the fewest rows a training shard gathers, when the
// partition has them: a shard is also the unit the trainer's goroutines
// share out.
const ShardRows = 64 << 10

// maxClasses bounds the distinct labels of a classifier.
const maxClasses = 1 << 16

// DataSet is the partitions of a training held by one process, and, once
// binned, the gbdt worker over them.
type DataSet struct {
	parts   []Source
	threads int

	mu     sync.Mutex
	nf     int
	labels [][]float32 // per partition, after Sketch: each row's label
	toEval [][]bool    // per partition, after Sketch: each row's side
	worker *gbdt.LocalWorker
	closed bool
}

// NewDataSet holds parts, working on up to threads goroutines (0:
// GOMAXPROCS).
func NewDataSet(parts []Source, threads int) *DataSet {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &DataSet{parts: parts, threads: threads}
}

// NumPartitions is the number of partitions held.
func (d *DataSet) NumPartitions() int { return len(d.parts) }

// ScanRequest asks for the first pass.
type ScanRequest struct {
	NumFeatures int
	Classifier  bool // return the distinct labels
	SplitKeys   bool // return a sketch of the split column's order keys
}

// ScanReply is what the first pass found.
type ScanReply struct {
	Rows   int
	Labels []Label // classifier: the distinct labels
	Keys   []byte  // a quantile.Sketch of the split column's order keys
}

// Label is a distinct label: its text (as the model stores it) and its
// order key (NaN for text).
type Label struct {
	Text string
	Key  float64
}

// SketchRequest carries the coordinator's decisions of the first pass.
type SketchRequest struct {
	NumFeatures int
	// Classes are a classifier's labels in class order (nil: regressor).
	Classes []string
	// Method is "random", "seq" or "no_split"; Fraction the eval share
	// of a random split; SeqCut the first split key of the eval rows.
	Method   string
	Fraction float64
	SeqCut   float64
	Seed     uint64
	MaxBin   int
}

// SketchReply is the training rows' sketch and the split's counts.
type SketchReply struct {
	Sketch      []byte // a gbdt.Sketch
	Train, Eval int
}

// BinRequest carries the cuts.
type BinRequest struct{ Cuts []byte }

// BinReply counts the shards built.
type BinReply struct{ Shards, EvalShards, Train, Eval int }

// eachPart runs fn for every partition, threads at a time, and returns the
// first error in partition order.
func (d *DataSet) eachPart(ctx context.Context, fn func(ctx context.Context, p int) error) error {
	errs := make([]error, len(d.parts))
	sem := make(chan struct{}, d.threads)
	var wg sync.WaitGroup
	for p := range d.parts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[p] = fn(ctx, p)
		})
	}
	wg.Wait()
	for p, err := range errs {
		if err != nil {
			return fmt.Errorf("partition %d: %w", p, err)
		}
	}
	return ctx.Err()
}

// inOrder calls merge(p) for p = 0, 1, … as each partition is done
// (done(p)), so that what the partitions produce is folded in partition
// order — the result does not depend on timing — while only the
// partitions done ahead of their turn wait in memory.
type inOrder struct {
	mu    sync.Mutex
	next  int
	ready map[int]bool
	merge func(p int) error
	err   error
}

func newInOrder(merge func(p int) error) *inOrder {
	return &inOrder{ready: map[int]bool{}, merge: merge}
}

func (o *inOrder) done(p int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ready[p] = true
	for o.ready[o.next] {
		delete(o.ready, o.next)
		if o.err == nil {
			o.err = o.merge(o.next)
		}
		o.next++
	}
}

// read runs fn on every batch of partition p, in order, releasing each.
func (d *DataSet) read(ctx context.Context, p, nf int, last bool, fn func(b arrow.RecordBatch, feats []*array.Float32) error) error {
	s, err := d.parts[p](ctx, last)
	if err != nil {
		return err
	}
	defer s.Close()
	feats := make([]*array.Float32, nf)
	for {
		b, err := s.Next(ctx)
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		if int(b.NumCols()) < nf+1 {
			b.Release()
			return fmt.Errorf("a batch of %d columns; the training rows have %d features and a label", b.NumCols(), nf)
		}
		for j := range feats {
			f, ok := b.Column(j).(*array.Float32)
			if !ok {
				t := b.Column(j).DataType()
				b.Release()
				return fmt.Errorf("feature %d arrived as %s, not REAL", j, t)
			}
			feats[j] = f
		}
		err = fn(b, feats)
		b.Release()
		if err != nil {
			return err
		}
	}
}

// Scan is the first pass: rows, distinct labels, split keys.
func (d *DataSet) Scan(ctx context.Context, req *ScanRequest) (*ScanReply, error) {
	if err := d.open(); err != nil {
		return nil, err
	}
	nf := req.NumFeatures
	rows := make([]int, len(d.parts))
	seen := make([]map[string]float64, len(d.parts))
	keys := make([]*quantile.Sketch, len(d.parts))
	mergedKeys := newInOrder(func(p int) error {
		if p > 0 && keys[p] != nil {
			keys[0].Merge(keys[p])
			keys[p] = nil
		}
		return nil
	})
	err := d.eachPart(ctx, func(ctx context.Context, p int) error {
		seen[p], keys[p] = map[string]float64{}, &quantile.Sketch{}
		defer mergedKeys.done(p)
		return d.read(ctx, p, nf, false, func(b arrow.RecordBatch, _ []*array.Float32) error {
			n := int(b.NumRows())
			rows[p] += n
			if req.Classifier {
				c := b.Column(nf)
				for i := 0; i < n; i++ {
					if c.IsNull(i) {
						continue
					}
					if l := LabelText(c, i); !hasKey(seen[p], l) {
						if len(seen[p]) >= maxClasses {
							return fmt.Errorf("the label has more than %d distinct values; is it a class?", maxClasses)
						}
						seen[p][string([]byte(l))] = OrderKey(c, i)
					}
				}
			}
			if req.SplitKeys {
				if int(b.NumCols()) < nf+2 {
					return errors.New("the rows have no split column")
				}
				c := b.Column(nf + 1)
				for i := 0; i < n; i++ {
					keys[p].Add(OrderKey(c, i))
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	reply := &ScanReply{}
	all := map[string]float64{}
	for p := range d.parts {
		reply.Rows += rows[p]
		for l, k := range seen[p] {
			all[l] = k
		}
	}
	if len(all) > maxClasses {
		return nil, fmt.Errorf("the label has more than %d distinct values; is it a class?", maxClasses)
	}
	for l, k := range all {
		reply.Labels = append(reply.Labels, Label{l, k})
	}
	if req.SplitKeys && len(keys) > 0 {
		reply.Keys = keys[0].AppendBinary(nil)
	}
	return reply, nil
}

// Sketch is the second pass: each row's label (its class for a
// classifier) and side, and a sketch of the training rows' features.
func (d *DataSet) Sketch(ctx context.Context, req *SketchRequest) (*SketchReply, error) {
	if err := d.open(); err != nil {
		return nil, err
	}
	nf := req.NumFeatures
	var classOf map[string]int
	if req.Classes != nil {
		classOf = make(map[string]int, len(req.Classes))
		for i, c := range req.Classes {
			classOf[c] = i
		}
	}
	labels := make([][]float32, len(d.parts))
	toEval := make([][]bool, len(d.parts))
	sketches := make([]*gbdt.Sketch, len(d.parts))
	counts := make([][2]int, len(d.parts))
	// Each partition's sketch is folded into the first as soon as its
	// turn comes: a sketch holds megabytes per feature.
	merged := newInOrder(func(p int) error {
		if p == 0 || sketches[p] == nil {
			return nil
		}
		err := sketches[0].Merge(sketches[p])
		sketches[p] = nil
		return err
	})
	err := d.eachPart(ctx, func(ctx context.Context, p int) error {
		sk, err := gbdt.NewSketch(nf, req.MaxBin)
		if err != nil {
			return err
		}
		sketches[p] = sk
		defer merged.done(p)
		cols := make([][]float32, nf)
		return d.read(ctx, p, nf, false, func(b arrow.RecordBatch, feats []*array.Float32) error {
			n := int(b.NumRows())
			lab := b.Column(nf)
			for j := range cols {
				cols[j] = cols[j][:0]
			}
			for i := 0; i < n; i++ {
				var y float64
				if classOf != nil {
					c, ok := classOf[LabelText(lab, i)]
					if !ok {
						return fmt.Errorf("label %s is not among the classes", LabelText(lab, i))
					}
					y = float64(c)
				} else {
					y = NumberAt(lab, i)
				}
				eval := false
				switch req.Method {
				case "random":
					eval = RowHash(req.Seed, feats, i, y) < req.Fraction
				case "seq":
					eval = OrderKey(b.Column(nf+1), i) >= req.SeqCut
				}
				labels[p] = append(labels[p], float32(y))
				toEval[p] = append(toEval[p], eval)
				if eval {
					counts[p][1]++
				} else {
					counts[p][0]++
				}
			}
			// The training rows' features, a column at a time.
			side := toEval[p][len(toEval[p])-n:]
			all := !slices.Contains(side, true)
			for j, f := range feats {
				cols[j] = appendFeature(cols[j], f, side, false, all)
			}
			if len(cols[0]) == 0 {
				return nil
			}
			return sk.AddFloat32(cols)
		})
	})
	if err != nil {
		return nil, err
	}
	if merged.err != nil {
		return nil, merged.err
	}
	reply := &SketchReply{}
	for p := range d.parts {
		reply.Train += counts[p][0]
		reply.Eval += counts[p][1]
	}
	if len(sketches) > 0 {
		b, err := sketches[0].MarshalBinary()
		if err != nil {
			return nil, err
		}
		reply.Sketch = b
	}
	d.mu.Lock()
	d.nf, d.labels, d.toEval = nf, labels, toEval
	d.mu.Unlock()
	return reply, nil
}

// Bin is the last pass: the training rows binned with the cuts into
// shards of at least ShardRows rows (within a partition), the eval rows
// kept as eval shards; then the data set is a gbdt worker.
func (d *DataSet) Bin(ctx context.Context, req *BinRequest) (*BinReply, error) {
	if err := d.open(); err != nil {
		return nil, err
	}
	var cuts gbdt.Cuts
	if err := cuts.UnmarshalBinary(req.Cuts); err != nil {
		return nil, err
	}
	d.mu.Lock()
	nf, labels, toEval := d.nf, d.labels, d.toEval
	d.mu.Unlock()
	if labels == nil {
		return nil, errors.New("train: Bin before Sketch")
	}
	if nf != cuts.NumFeatures() {
		return nil, fmt.Errorf("train: cuts of %d features for rows of %d", cuts.NumFeatures(), nf)
	}
	shards := make([][]*gbdt.Shard, len(d.parts))
	evals := make([][]*gbdt.EvalShard, len(d.parts))
	err := d.eachPart(ctx, func(ctx context.Context, p int) error {
		var td, ed gbdt.Data
		flush := func(last bool) error {
			if len(td.Label) > 0 && (last || len(td.Label) >= ShardRows) {
				sh, err := gbdt.NewShard(&cuts, td)
				if err != nil {
					return err
				}
				shards[p], td = append(shards[p], sh), gbdt.Data{}
			}
			if len(ed.Label) > 0 && (last || len(ed.Label) >= ShardRows) {
				e, err := gbdt.NewEvalShard(ed)
				if err != nil {
					return err
				}
				evals[p], ed = append(evals[p], e), gbdt.Data{}
			}
			return nil
		}
		row := 0
		err := d.read(ctx, p, nf, true, func(b arrow.RecordBatch, feats []*array.Float32) error {
			n := int(b.NumRows())
			if row+n > len(labels[p]) {
				return errors.New("the rows changed between passes")
			}
			side := toEval[p][row : row+n]
			for _, dd := range []*gbdt.Data{&td, &ed} {
				eval := dd == &ed
				before := len(dd.Label)
				if dd.Label == nil && slices.Contains(side, eval) {
					// A shard gathers ShardRows rows and then some: room
					// for them at once, not by doubling.
					dd.Label = make([]float64, 0, ShardRows+n)
				}
				for i, e := range side {
					if e == eval {
						dd.Label = append(dd.Label, float64(labels[p][row+i]))
					}
				}
				if len(dd.Label) == before {
					continue
				}
				if dd.Features32 == nil {
					dd.Features32 = make([][]float32, nf)
					for j := range dd.Features32 {
						dd.Features32[j] = make([]float32, 0, cap(dd.Label))
					}
				}
				all := len(dd.Label)-before == len(side)
				for j, f := range feats {
					dd.Features32[j] = appendFeature(dd.Features32[j], f, side, eval, all)
				}
			}
			row += n
			return flush(false)
		})
		if err != nil {
			return err
		}
		if row != len(labels[p]) {
			return errors.New("the rows changed between passes")
		}
		return flush(true)
	})
	if err != nil {
		return nil, err
	}
	var all []*gbdt.Shard
	var allEval []*gbdt.EvalShard
	reply := &BinReply{}
	for p := range d.parts {
		all = append(all, shards[p]...)
		allEval = append(allEval, evals[p]...)
	}
	for _, s := range all {
		reply.Train += s.NumRows()
	}
	for _, e := range allEval {
		reply.Eval += e.NumRows()
	}
	reply.Shards, reply.EvalShards = len(all), len(allEval)
	w, err := gbdt.NewLocalWorker(all, allEval, d.threads)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.worker, d.labels, d.toEval = w, nil, nil
	d.mu.Unlock()
	return reply, nil
}

// Worker is the gbdt worker over the binned shards (nil before Bin).
func (d *DataSet) Worker() *gbdt.LocalWorker {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.worker
}

// Close drops what the data set holds; its partitions are not read again.
func (d *DataSet) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed, d.worker, d.labels, d.toEval = true, nil, nil, nil
}

func (d *DataSet) open() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("train: the data set is closed")
	}
	return nil
}

func hasKey(m map[string]float64, k string) bool { _, ok := m[k]; return ok }

// appendFeature appends to dst the values of f (NaN where NULL) of the
// rows whose side is eval; all says every row's side is eval (then, with
// no NULL, the values go in one copy).
func appendFeature(dst []float32, f *array.Float32, side []bool, eval, all bool) []float32 {
	vals := f.Float32Values()
	nulls := f.NullN() > 0
	if all && !nulls {
		return append(dst, vals...)
	}
	for i, v := range vals {
		if side[i] != eval {
			continue
		}
		if nulls && f.IsNull(i) {
			v = float32(math.NaN())
		}
		dst = append(dst, v)
	}
	return dst
}
