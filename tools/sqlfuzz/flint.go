package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/bufpool"
	"github.com/flint-engine/flint/internal/output"
	"github.com/flint-engine/flint/sqllogictest/slt"
)

// flintConfig is one session configuration; they mirror
// sqllogictest.Configs (less the cluster) and add batch sizes 1, 2 and
// 1024, whose batch boundaries fall in different places.
type flintConfig struct {
	Name string
	Opts []flint.Option
}

var flintConfigs = []flintConfig{
	{"local", []flint.Option{flint.WithSlots(2)}},
	{"one-slot", []flint.Option{flint.WithSlots(1), flint.WithPartitions(1)}},
	{"partitions-3", []flint.Option{flint.WithSlots(2), flint.WithPartitions(3), flint.WithBroadcastThreshold(0)}},
	{"batch-1", []flint.Option{flint.WithSlots(2), flint.WithBatchSize(1)}},
	{"batch-2", []flint.Option{flint.WithSlots(1), flint.WithPartitions(2), flint.WithBatchSize(2)}},
	{"batch-3", []flint.Option{flint.WithSlots(2), flint.WithPartitions(3), flint.WithBroadcastThreshold(0), flint.WithBatchSize(3)}},
	{"batch-1024", []flint.Option{flint.WithSlots(2), flint.WithBatchSize(1024)}},
	{"spill", []flint.Option{flint.WithSlots(2), flint.WithOperatorMemory(2 << 20), flint.WithBatchSize(16)}},
}

// errTimeout is returned when a query does not finish in time.
var errTimeout = errors.New("timeout")

// flintEngine is a Flint session with the tpchn tables, run in-process.
type flintEngine struct {
	cfg flintConfig
	dir string
	s   *flint.Session
	mem *memory.CheckedAllocator
}

func newFlintEngine(ctx context.Context, cfg flintConfig, dir string) (*flintEngine, error) {
	f := &flintEngine{cfg: cfg, dir: dir}
	return f, f.open(ctx)
}

func (f *flintEngine) open(ctx context.Context) error {
	f.mem = memory.NewCheckedAllocator(bufpool.NewPoisoning())
	s, err := flint.NewSession(ctx, append(append([]flint.Option(nil), f.cfg.Opts...), flint.WithAllocator(f.mem))...)
	if err != nil {
		return err
	}
	for _, t := range tableNames {
		if err := s.RegisterTable(ctx, t, "parquet", filepath.Join(f.dir, t+".parquet"), nil); err != nil {
			s.Close()
			return err
		}
	}
	f.s = s
	return nil
}

func (f *flintEngine) Close() error { return f.s.Close() }

// Query runs q. A query that outlives timeout is abandoned (its
// goroutine may leak) and the session replaced. leaked is the number of
// bytes the session's allocator still holds afterwards.
func (f *flintEngine) Query(ctx context.Context, q string, timeout time.Duration) (res *Result, leaked int, err error) {
	type out struct {
		res *Result
		err error
	}
	ch := make(chan out, 1)
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	go func() {
		r, err := f.run(qctx, q)
		ch <- out{r, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil && qctx.Err() != nil {
			return nil, 0, errTimeout
		}
		held := f.mem.CurrentAlloc()
		if o.err != nil && held != 0 {
			// A failed query (a recovered panic) may not release
			// everything: start over so the next query is judged alone.
			f.s.Close()
			if err := f.open(ctx); err != nil {
				return nil, 0, err
			}
			held = 0
		}
		return o.res, held, o.err
	case <-time.After(timeout + 5*time.Second):
		// The query ignores cancellation: start over with a new session.
		if err := f.open(ctx); err != nil {
			return nil, 0, err
		}
		return nil, 0, errTimeout
	}
}

func (f *flintEngine) run(ctx context.Context, q string) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	df := f.s.SQL(ctx, q)
	if err := df.Err(); err != nil {
		return nil, err
	}
	schema, batches, err := df.CollectWithSchema(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	res = &Result{}
	for _, fl := range schema.Fields() {
		res.Cols = append(res.Cols, arrowKind(fl.Type))
	}
	for _, b := range batches {
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]string, b.NumCols())
			for c := range row {
				row[c] = renderArrow(b.Column(c), i)
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res, nil
}

func arrowKind(t arrow.DataType) Kind {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return KInt
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return KDecimal
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return KFloat
	case arrow.STRING, arrow.LARGE_STRING:
		return KText
	case arrow.DATE32:
		return KDate
	case arrow.BOOL:
		return KBool
	}
	return KOther
}

// renderArrow formats one value as the sqllogictest runner does.
func renderArrow(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return slt.Null
	}
	switch a := a.(type) {
	case *array.MonthDayNanoInterval:
		// As renderDuck prints DuckDB's intervals.
		v := a.Value(i)
		return fmt.Sprintf("interval(%d months %d days %d us)", v.Months, v.Days, v.Nanoseconds/1000)
	case interface{ Value(int) float64 }:
		return slt.FormatFloat(a.Value(i))
	case interface{ Value(int) float32 }:
		return slt.FormatFloat(float64(a.Value(i)))
	}
	s, ok := output.Value(a, i)
	if !ok {
		return slt.Null
	}
	s = strings.Clone(s) // s may alias a's buffers, recycled once the batch is released
	if id := a.DataType().ID(); id == arrow.STRING || id == arrow.LARGE_STRING {
		return slt.FormatText(s)
	}
	return s
}
