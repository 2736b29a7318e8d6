package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/flint-engine/flint/ml/gbdt"
	"github.com/flint-engine/flint/ml/quantile"
)

// Worker is a DataSet, here (DataSet itself) or in another process
// (Remote): the three passes, then the gbdt worker over its shards.
type Worker interface {
	Scan(ctx context.Context, req *ScanRequest) (*ScanReply, error)
	Sketch(ctx context.Context, req *SketchRequest) (*SketchReply, error)
	Bin(ctx context.Context, req *BinRequest) (*BinReply, error)
	gbdt.Worker
}

// Rebuild returns a worker holding again the partitions of worker i, lost
// with err (an error wrapping gbdt.ErrWorkerLost): the same rows, read
// from wherever they were recomputed. Prepare brings it to where the
// others are.
type Rebuild func(ctx context.Context, i int, err error) (Worker, error)

// Spec is what the coordinator knows of a training's rows before it reads
// them.
type Spec struct {
	NumFeatures int
	Classifier  bool
	// NumericLabels orders a classifier's labels by value rather than by
	// their text.
	NumericLabels bool
	// Method is auto_split, random, seq or no_split; Fraction the eval
	// share of random and seq.
	Method   string
	Fraction float64
	Seed     uint64
	MaxBin   int
}

// Prepared is a training's rows binned on their workers, ready for any
// number of trainings (Train), at once or one after the other.
type Prepared struct {
	// Classes are a classifier's labels in class order.
	Classes []string
	// TrainRows and EvalRows count the rows on each side of the split.
	TrainRows, EvalRows int
	Cuts                *gbdt.Cuts

	sketch  *SketchRequest
	bin     *BinRequest
	rebuild Rebuild

	mu       sync.Mutex
	workers  []Worker
	replaced int
}

// maxRebuilds bounds the workers a preparation and its trainings rebuild,
// per worker.
const maxRebuilds = 3

// Prepare reads the rows of the workers in three passes: the rows' count,
// labels and split keys; each row's side and the training rows' sketch;
// the binning with the cuts of the merged sketch. A worker lost on the way
// is rebuilt (when rebuild is given) and caught up.
func Prepare(ctx context.Context, spec Spec, workers []Worker, rebuild Rebuild) (*Prepared, error) {
	if len(workers) == 0 {
		return nil, errors.New("no training rows")
	}
	p := &Prepared{workers: append([]Worker(nil), workers...), rebuild: rebuild}
	seq := spec.Method == "seq"
	scans := make([]*ScanReply, len(workers))
	err := p.each(ctx, 0, func(i int, w Worker) error {
		var err error
		scans[i], err = w.Scan(ctx, &ScanRequest{NumFeatures: spec.NumFeatures, Classifier: spec.Classifier, SplitKeys: seq})
		return err
	})
	if err != nil {
		return nil, err
	}
	total := 0
	labels := map[string]float64{}
	var keys quantile.Sketch
	for _, s := range scans {
		total += s.Rows
		for _, l := range s.Labels {
			labels[l.Text] = l.Key
		}
		if seq {
			var k quantile.Sketch
			if err := k.UnmarshalBinary(s.Keys); err != nil {
				return nil, fmt.Errorf("split keys: %w", err)
			}
			keys.Merge(&k)
		}
	}
	method := spec.Method
	if method == "auto_split" {
		// BigQuery ML: no evaluation rows below 500 rows.
		method = "random"
		if total < 500 {
			method = "no_split"
		}
	}
	req := &SketchRequest{NumFeatures: spec.NumFeatures, Method: method, Fraction: spec.Fraction, Seed: spec.Seed, MaxBin: spec.MaxBin}
	if spec.Classifier {
		if len(labels) > maxClasses {
			return nil, fmt.Errorf("the label has more than %d distinct values; is it a class?", maxClasses)
		}
		ls := make([]Label, 0, len(labels))
		for t, k := range labels {
			ls = append(ls, Label{t, k})
		}
		p.Classes = SortLabels(ls, spec.NumericLabels)
		req.Classes = p.Classes
		if len(p.Classes) < 2 {
			return p, nil // the caller says why a classifier needs two
		}
	}
	if seq {
		// The last fraction of the rows by the split column evaluate: the
		// eval rows start at the (k+1)-th smallest key.
		n := keys.Count()
		k := int64(math.Ceil(float64(n) * (1 - spec.Fraction)))
		req.SeqCut = math.Inf(1)
		if k < n {
			req.SeqCut, _ = keys.Quantile((float64(k) + 0.5) / float64(n))
		}
	}
	p.sketch = req
	// The workers' sketches (megabytes each) are merged in worker order
	// as they arrive, a few workers at a time.
	sketches := make([]*SketchReply, len(workers))
	var merged *gbdt.Sketch
	order := newInOrder(func(i int) error {
		s := sketches[i]
		if s == nil {
			return nil
		}
		p.TrainRows += s.Train
		p.EvalRows += s.Eval
		if s.Sketch == nil {
			return nil
		}
		var sk gbdt.Sketch
		if err := sk.UnmarshalBinary(s.Sketch); err != nil {
			return err
		}
		s.Sketch = nil
		if merged == nil {
			merged = &sk
			return nil
		}
		return merged.Merge(&sk)
	})
	if err := p.eachN(ctx, 1, sketchWindow, func(i int, w Worker) error {
		var err error
		sketches[i], err = w.Sketch(ctx, req)
		return err
	}, order.done); err != nil {
		return nil, err
	}
	if order.err != nil {
		return nil, order.err
	}
	if p.TrainRows == 0 || merged == nil {
		return p, nil
	}
	p.Cuts = merged.Cuts()
	cb, err := p.Cuts.MarshalBinary()
	if err != nil {
		return nil, err
	}
	p.bin = &BinRequest{Cuts: cb}
	if err := p.each(ctx, 2, func(i int, w Worker) error {
		_, err := w.Bin(ctx, p.bin)
		return err
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// sketchWindow bounds the workers sketching at once, so that few of
// their sketches wait for their turn to be merged.
const sketchWindow = 8

// each runs fn on every worker at once (pass: 0 scan, 1 sketch, 2 bin);
// a lost worker is rebuilt, caught up to the pass, and fn run again on it.
func (p *Prepared) each(ctx context.Context, pass int, fn func(i int, w Worker) error) error {
	return p.eachN(ctx, pass, 0, fn, nil)
}

// eachN is each with at most n workers at once, started in order (0: all),
// calling after(i) once worker i is done (succeeded, or failed for good).
func (p *Prepared) eachN(ctx context.Context, pass, n int, fn func(i int, w Worker) error, after func(i int)) error {
	p.mu.Lock()
	workers := append([]Worker(nil), p.workers...)
	p.mu.Unlock()
	if n <= 0 {
		n = len(workers)
	}
	sem := make(chan struct{}, n)
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if after != nil {
				defer after(i)
			}
			for {
				err := fn(i, w)
				if err == nil || !errors.Is(err, gbdt.ErrWorkerLost) || p.rebuild == nil || ctx.Err() != nil {
					errs[i] = err
					return
				}
				if w, err = p.replace(ctx, i, w, err, pass); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// replace rebuilds worker i (unless another training did already: failed
// is the worker that failed) and catches the new one up to pass (the
// passes before it: a scan needs nothing; a sketch nothing; a bin the
// sketch; a training both).
func (p *Prepared) replace(ctx context.Context, i int, failed Worker, cause error, pass int) (Worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workers[i] != failed {
		return p.workers[i], nil
	}
	if p.replaced >= maxRebuilds*len(p.workers) {
		return nil, fmt.Errorf("gave up after rebuilding %d workers: %w", p.replaced, cause)
	}
	p.replaced++
	w, err := p.rebuild(ctx, i, cause)
	if err != nil {
		return nil, fmt.Errorf("rebuilding worker %d (%v): %w", i, cause, err)
	}
	if pass >= 2 {
		if _, err := w.Sketch(ctx, p.sketch); err != nil {
			return nil, fmt.Errorf("rebuilt worker %d: %w", i, err)
		}
	}
	if pass >= 3 {
		if _, err := w.Bin(ctx, p.bin); err != nil {
			return nil, fmt.Errorf("rebuilt worker %d: %w", i, err)
		}
	}
	p.workers[i] = w
	return w, nil
}

// Train trains a booster with params on the prepared rows; trainings may
// run at once (their workers keep their states apart). A worker lost
// during the training is rebuilt and the training goes on from the step it
// was in.
func (p *Prepared) Train(ctx context.Context, params gbdt.Params) (*gbdt.Booster, *gbdt.TrainInfo, error) {
	if p.Cuts == nil {
		return nil, nil, errors.New("no training rows")
	}
	p.mu.Lock()
	mine := append([]gbdt.Worker(nil), toGBDT(p.workers)...)
	own := append([]Worker(nil), p.workers...)
	p.mu.Unlock()
	var recover gbdt.Recover
	if p.rebuild != nil {
		recover = func(ctx context.Context, i int, err error) (gbdt.Worker, error) {
			w, rerr := p.replace(ctx, i, own[i], err, 3)
			if rerr != nil {
				return nil, rerr
			}
			own[i] = w
			return w, nil
		}
	}
	return gbdt.TrainWorkers(ctx, params, p.Cuts, mine, recover)
}

func toGBDT(ws []Worker) []gbdt.Worker {
	out := make([]gbdt.Worker, len(ws))
	for i, w := range ws {
		out[i] = w
	}
	return out
}

// Gradients and the rest make a DataSet a gbdt.Worker once binned.
func (d *DataSet) gbdtWorker() (*gbdt.LocalWorker, error) {
	if w := d.Worker(); w != nil {
		return w, nil
	}
	return nil, errors.New("train: the data set is not binned")
}

// Begin implements gbdt.Worker.
func (d *DataSet) Begin(ctx context.Context, req *gbdt.BeginRequest) (*gbdt.BeginReply, error) {
	w, err := d.gbdtWorker()
	if err != nil {
		return nil, err
	}
	return w.Begin(ctx, req)
}

// Gradients implements gbdt.Worker.
func (d *DataSet) Gradients(ctx context.Context, training uint64) ([]gbdt.LossSum, error) {
	w, err := d.gbdtWorker()
	if err != nil {
		return nil, err
	}
	return w.Gradients(ctx, training)
}

// Level implements gbdt.Worker.
func (d *DataSet) Level(ctx context.Context, req *gbdt.LevelRequest, out []*gbdt.Histogram) error {
	w, err := d.gbdtWorker()
	if err != nil {
		return err
	}
	return w.Level(ctx, req, out)
}

// AddTree implements gbdt.Worker.
func (d *DataSet) AddTree(ctx context.Context, req *gbdt.TreeRequest) ([]gbdt.LossSum, error) {
	w, err := d.gbdtWorker()
	if err != nil {
		return nil, err
	}
	return w.AddTree(ctx, req)
}

// Loss implements gbdt.Worker.
func (d *DataSet) Loss(ctx context.Context, training uint64) ([]gbdt.LossSum, error) {
	w, err := d.gbdtWorker()
	if err != nil {
		return nil, err
	}
	return w.Loss(ctx, training)
}

// End implements gbdt.Worker.
func (d *DataSet) End(ctx context.Context, training uint64) error {
	w, err := d.gbdtWorker()
	if err != nil {
		return nil // nothing begun
	}
	return w.End(ctx, training)
}

var _ Worker = (*DataSet)(nil)

// Params completes base for the prepared rows: a classifier's objective
// (binary:logistic for two classes, else multi:softprob with num_class)
// and its class weights, given by label (a label absent is 1; a weight
// for no label is an error).
func (p *Prepared) Params(base gbdt.Params, classifier bool, classWeights map[string]float64) (gbdt.Params, error) {
	if !classifier {
		return base, nil
	}
	if len(p.Classes) == 2 {
		base.Objective, base.NumClass = gbdt.Logistic, 0
	} else {
		base.Objective, base.NumClass = gbdt.Softprob, len(p.Classes)
	}
	if classWeights != nil {
		base.ClassWeights = make([]float64, len(p.Classes))
		known := map[string]bool{}
		for i, l := range p.Classes {
			known[l] = true
			base.ClassWeights[i] = 1
			if w, ok := classWeights[l]; ok {
				base.ClassWeights[i] = w
			}
		}
		for l := range classWeights {
			if !known[l] {
				return base, fmt.Errorf("class_weights names %q, which is not a label (labels: %s)", l, strings.Join(p.Classes, ", "))
			}
		}
	}
	return base, nil
}
