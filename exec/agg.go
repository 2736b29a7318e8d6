package exec

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/flint-engine/flint/exec/hashing"
	"github.com/flint-engine/flint/mempool"
)

// AggFunc names an aggregate function.
type AggFunc int

// Aggregate functions supported by the hash aggregate.
const (
	AggCount      AggFunc = iota // count(x): non-null inputs
	AggCountStar                 // count(*): rows
	AggSum                       // sum(x)
	AggAvg                       // avg(x), DOUBLE result
	AggMin                       // min(x)
	AggMax                       // max(x)
	AggStddevSamp                // stddev_samp(x)
	AggStddevPop                 // stddev_pop(x)
	AggVarSamp                   // var_samp(x)
	AggVarPop                    // var_pop(x)
	AggBoolAnd                   // bool_and(x)
	AggBoolOr                    // bool_or(x)
	AggFirst                     // any_value(x): first non-null value seen
	// AggQuantileSketch is ml.quantile_sketch(x): a mergeable quantile
	// sketch (package ml/quantile) of the non-null, non-NaN DOUBLE values,
	// as BINARY; NULL when there are none.
	AggQuantileSketch
	// AggCategoryCounts is ml.category_counts(s): the distinct non-null
	// STRING values with their counts, as BINARY (AppendCategoryCounts'
	// encoding, read by DecodeCategoryCounts); NULL when there are none.
	AggCategoryCounts
)

var aggFuncNames = [...]string{"count", "count_star", "sum", "avg", "min", "max",
	"stddev_samp", "stddev_pop", "var_samp", "var_pop", "bool_and", "bool_or", "first",
	"ml.quantile_sketch", "ml.category_counts"}

func (f AggFunc) String() string {
	if f >= 0 && int(f) < len(aggFuncNames) {
		return aggFuncNames[f]
	}
	return fmt.Sprintf("AggFunc(%d)", int(f))
}

// AggSpec is one aggregate of a hash aggregate.
type AggSpec struct {
	Func AggFunc
	// Arg is the input column (-1 for count(*)). Ignored in AggFinal mode,
	// where states are located by position (see NewHashAggregate).
	Arg int
	// Distinct aggregates over distinct non-null values per group; only in
	// AggSingle mode.
	Distinct bool
	// Name of the output column (Partial mode: prefix of the state columns).
	Name string
	// Masked restricts the aggregate to the rows whose BOOLEAN input column
	// Mask is TRUE (FILTER (WHERE ...)); rows where it is FALSE or NULL are
	// skipped for this aggregate only. Ignored in AggFinal mode: the
	// partial phase applies the mask.
	Masked bool
	Mask   int
}

// AggMode is the phase a hash aggregate runs.
type AggMode int

const (
	// AggSingle turns raw input into final values.
	AggSingle AggMode = iota
	// AggPartial turns raw input into state columns (AggStateTypes).
	AggPartial
	// AggFinal merges state columns produced by AggPartial into final values.
	AggFinal
)

func aggIsInt(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

func aggIsFloat(dt arrow.DataType) bool {
	return dt.ID() == arrow.FLOAT32 || dt.ID() == arrow.FLOAT64
}

func aggIsNumeric(dt arrow.DataType) bool {
	return aggIsInt(dt) || aggIsFloat(dt) || aggIsDecimal(dt)
}

func aggIsDecimal(dt arrow.DataType) bool {
	return dt.ID() == arrow.DECIMAL64 || dt.ID() == arrow.DECIMAL128
}

// aggSumType is the type of sum(arg), or nil when unsupported.
func aggSumType(arg arrow.DataType) arrow.DataType {
	switch {
	case aggIsInt(arg):
		return arrow.PrimitiveTypes.Int64
	case aggIsFloat(arg):
		return arrow.PrimitiveTypes.Float64
	case aggIsDecimal(arg):
		return &arrow.Decimal128Type{Precision: 38, Scale: arg.(arrow.DecimalType).GetScale()}
	}
	return nil
}

func aggOrderable(dt arrow.DataType) bool {
	return hashing.SupportedKeyType(dt)
}

// AggResultType is the type of f applied to a column of type arg (arg may
// be nil for count(*)): count → Int64; sum(int*) → Int64;
// sum(decimal(p,s)) → Decimal128(38,s) (also from a Decimal64: the sum
// accumulates in 128 bits); sum(float*) → Float64; avg →
// Float64 (also for decimals, as in DuckDB); min/max/first → arg;
// stddev/var → Float64; bool_and/bool_or → Boolean.
func AggResultType(f AggFunc, arg arrow.DataType) (arrow.DataType, error) {
	if f == AggCountStar {
		return arrow.PrimitiveTypes.Int64, nil
	}
	if arg == nil {
		return nil, fmt.Errorf("aggregate %s needs an argument", f)
	}
	switch f {
	case AggCount:
		return arrow.PrimitiveTypes.Int64, nil
	case AggSum:
		if t := aggSumType(arg); t != nil {
			return t, nil
		}
	case AggAvg, AggStddevSamp, AggStddevPop, AggVarSamp, AggVarPop:
		if aggIsNumeric(arg) {
			return arrow.PrimitiveTypes.Float64, nil
		}
	case AggMin, AggMax, AggFirst:
		if aggOrderable(arg) {
			return arg, nil
		}
	case AggBoolAnd, AggBoolOr:
		if arg.ID() == arrow.BOOL {
			return arg, nil
		}
	case AggQuantileSketch:
		// BINARY: the final phase, which sees the state column.
		if arg.ID() == arrow.FLOAT64 || arg.ID() == arrow.BINARY {
			return arrow.BinaryTypes.Binary, nil
		}
	case AggCategoryCounts:
		if arg.ID() == arrow.STRING || arg.ID() == arrow.BINARY {
			return arrow.BinaryTypes.Binary, nil
		}
	default:
		return nil, fmt.Errorf("unknown aggregate function %d", int(f))
	}
	return nil, fmt.Errorf("aggregate %s does not support argument type %s", f, arg)
}

// AggStateTypes lists the state columns AggPartial emits for f over arg
// (nil when unsupported): count → [Int64]; sum → [sum type]; avg → [sum
// type, Int64 count]; min/max/first/bool_and/bool_or → [arg];
// stddev/var → [Int64 count, Float64 mean, Float64 M2] (Welford).
func AggStateTypes(f AggFunc, arg arrow.DataType) []arrow.DataType {
	rt, err := AggResultType(f, arg)
	if err != nil {
		return nil
	}
	switch f {
	case AggAvg:
		return []arrow.DataType{aggSumType(arg), arrow.PrimitiveTypes.Int64}
	case AggStddevSamp, AggStddevPop, AggVarSamp, AggVarPop:
		return []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Float64}
	}
	return []arrow.DataType{rt}
}

var aggStateSuffixes = map[AggFunc][]string{
	AggAvg:        {"sum", "count"},
	AggStddevSamp: {"count", "mean", "m2"},
	AggStddevPop:  {"count", "mean", "m2"},
	AggVarSamp:    {"count", "mean", "m2"},
	AggVarPop:     {"count", "mean", "m2"},
}

// hashAggregate implements NewHashAggregate.
//
// Memory: before each batch the operator reserves, from the query's pool
// (mempool), what its group table, aggregate states and DISTINCT value
// tables would hold if every row of the batch were a new group (agg_mem.go).
// When the reservation cannot grow, a partial aggregation emits its groups
// and starts a fresh table (the final phase merges the states anyway);
// single and final aggregations spill their groups as partial states,
// partitioned by key hash, and merge each partition at the end
// (agg_spill.go). A partial aggregation whose groups barely reduce its input
// stops grouping and passes rows through as states (skip-partial).
type hashAggregate struct {
	input     Operator
	groupCols []int
	aggs      []AggSpec
	mode      AggMode
	schema    *arrow.Schema
	keyTypes  []arrow.DataType
	argCols   [][]int // per aggregate: input columns read (update: arg; merge: states)
	argTypes  []arrow.DataType
	masks     []int // per aggregate: BOOLEAN mask column, -1 for none

	in aggLayout // how input batches are read

	kernels  []aggKernel
	distinct []*aggDistinct
	table    *hashing.Table
	live     bool // table, kernels and DISTINCT tables exist
	ngroups  int
	emitting bool // the table's groups are being returned
	emitted  int
	phase    aggPhase
	hashes   []uint64
	ids      []uint32
	presize  int // groups the spilled table held: the next one is sized alike
	keyCols  []arrow.Array
	states   []arrow.Array
	sel      []int32  // rows a mask keeps
	selIDs   []uint32 // their group ids

	aggMem   // reservation and size estimates (agg_mem.go)
	aggSpill // spill files and partitions (agg_spill.go)

	// Partial mode: a batch whose rows are not all consumed yet (the table
	// was full, or pass-through emits it in pieces), and the skip-partial
	// probe.
	pending     arrow.RecordBatch
	pendingOff  int
	passThrough bool
	probed      bool
	rowsIn      int64 // input rows fed to tables
	groupsOut   int64 // groups emitted early (the table was full)
	skipRows    int64 // rows after which the probe decides (tests lower it)
	identity    []uint32
	passKernels []aggKernel // reused batch to batch
}

// aggPhase is where a hash aggregate's Next is.
type aggPhase uint8

const (
	aggPhaseInput aggPhase = iota // reading the input
	aggPhaseMerge                 // merging spilled partitions one by one
	aggPhaseDone
)

// Skip-partial (as DataFusion's skip_partial_aggregation_probe_*): once a
// partial aggregation has seen aggSkipProbeRows rows, it stops grouping if
// it holds more than aggSkipRatio groups per row: the table would cost
// memory and time without reducing what the exchange carries.
const (
	aggSkipProbeRows = 100_000
	aggSkipRatio     = 0.8
)

// aggLayout says where consumeBatch finds its inputs in a batch.
type aggLayout struct {
	keys  []int
	merge bool    // batches hold states (final input, spill files), not raw rows
	cols  [][]int // per aggregate: update: its argument (none for count(*)); merge: its state columns
	masks []int   // per aggregate: BOOLEAN mask column (update only), -1 for none
	vals  []int   // per aggregate: the column of a DISTINCT aggregate's values (merge only), -1 for none
	// String columns whose bytes a batch may copy into the table (keys,
	// min/max/first arguments, DISTINCT values); strKeys are the keys.
	strs, strKeys []int
}

var _ Operator = (*hashAggregate)(nil)

// NewHashAggregate groups input by groupCols and computes aggs per group.
//
// Output schema: the group columns (input names and types), then per
// aggregate either its result column (AggSingle/AggFinal, type
// AggResultType) or its state columns (AggPartial, types AggStateTypes,
// named Name_suffix). With no group columns the output is exactly one row,
// even for empty input. Group order is unspecified.
//
// In AggFinal mode input must have the AggPartial output layout: groupCols
// index the group columns (normally 0..k-1) and the state columns of
// aggs[i] start at column len(groupCols) + Σ_{j<i} len(states of aggs[j]),
// in AggSpec order; Arg is ignored. Pass the same AggSpecs (Func, Name) as
// to the partial phase. DISTINCT is only allowed in AggSingle mode.
func NewHashAggregate(input Operator, groupCols []int, aggs []AggSpec, mode AggMode) (Operator, error) {
	in := input.Schema()
	nf := in.NumFields()
	h := &hashAggregate{input: input, groupCols: groupCols, aggs: aggs, mode: mode}
	var fields []arrow.Field
	for _, c := range groupCols {
		if c < 0 || c >= nf {
			return nil, fmt.Errorf("hash aggregate: group column %d out of range (input has %d columns)", c, nf)
		}
		f := in.Field(c)
		if !hashing.SupportedKeyType(f.Type) {
			return nil, fmt.Errorf("hash aggregate: group column %q: unsupported key type %s", f.Name, f.Type)
		}
		h.keyTypes = append(h.keyTypes, f.Type)
		fields = append(fields, f)
	}
	next := len(groupCols)
	for i, a := range aggs {
		name := a.Name
		if name == "" {
			name = fmt.Sprintf("%s_%d", a.Func, i)
		}
		var argType arrow.DataType
		var cols []int
		switch mode {
		case AggSingle, AggPartial:
			if a.Distinct && mode != AggSingle {
				return nil, fmt.Errorf("hash aggregate: %s: DISTINCT aggregates only run in single mode", name)
			}
			if a.Func != AggCountStar {
				if a.Arg < 0 || a.Arg >= nf {
					return nil, fmt.Errorf("hash aggregate: %s: argument column %d out of range (input has %d columns)", name, a.Arg, nf)
				}
				argType = in.Field(a.Arg).Type
				cols = []int{a.Arg}
			} else if a.Distinct {
				return nil, fmt.Errorf("hash aggregate: %s: count(*) cannot be DISTINCT", name)
			}
		case AggFinal:
			if a.Distinct {
				return nil, fmt.Errorf("hash aggregate: %s: DISTINCT aggregates only run in single mode", name)
			}
			if next >= nf {
				return nil, fmt.Errorf("hash aggregate: %s: missing state columns (input has %d columns)", name, nf)
			}
			argType = in.Field(next).Type
			if a.Func == AggCountStar {
				argType = nil
			}
		default:
			return nil, fmt.Errorf("hash aggregate: unknown mode %d", int(mode))
		}
		rt, err := AggResultType(a.Func, argType)
		if err != nil {
			if mode != AggFinal && a.Arg >= 0 {
				return nil, fmt.Errorf("hash aggregate: %s over column %q: %w", name, in.Field(a.Arg).Name, err)
			}
			return nil, fmt.Errorf("hash aggregate: %s: %w", name, err)
		}
		states := AggStateTypes(a.Func, argType)
		if mode == AggFinal {
			for j, st := range states {
				c := next + j
				if c >= nf || !arrow.TypeEqual(in.Field(c).Type, st) {
					return nil, fmt.Errorf("hash aggregate: %s: state column %d should be %s, input has %v", name, c, st, aggFieldType(in, c))
				}
				cols = append(cols, c)
			}
			next += len(states)
		}
		mask := -1
		if a.Masked && mode != AggFinal {
			if a.Mask < 0 || a.Mask >= nf {
				return nil, fmt.Errorf("hash aggregate: %s: mask column %d out of range (input has %d columns)", name, a.Mask, nf)
			}
			if t := in.Field(a.Mask).Type; t.ID() != arrow.BOOL {
				return nil, fmt.Errorf("hash aggregate: %s: mask column %q is %s, not BOOLEAN", name, in.Field(a.Mask).Name, t)
			}
			mask = a.Mask
		}
		h.masks = append(h.masks, mask)
		k, err := newAggKernel(a.Func, argType, name)
		if err != nil {
			return nil, fmt.Errorf("hash aggregate: %w", err)
		}
		h.kernels = append(h.kernels, k)
		h.argCols = append(h.argCols, cols)
		h.argTypes = append(h.argTypes, argType)
		if mode == AggPartial {
			suffixes := aggStateSuffixes[a.Func]
			for j, st := range states {
				sfx := a.Func.String()
				if suffixes != nil {
					sfx = suffixes[j]
				}
				fields = append(fields, arrow.Field{Name: name + "_" + sfx, Type: st, Nullable: true})
			}
		} else {
			nullable := a.Func != AggCount && a.Func != AggCountStar
			fields = append(fields, arrow.Field{Name: name, Type: rt, Nullable: nullable})
		}
		var d *aggDistinct
		if a.Distinct {
			d = &aggDistinct{}
			if _, err = hashing.NewTable([]arrow.DataType{arrow.PrimitiveTypes.Uint32, argType}); err != nil {
				return nil, fmt.Errorf("hash aggregate: %s: DISTINCT over %s: %w", name, argType, err)
			}
		}
		h.distinct = append(h.distinct, d)
		h.hasDistinct = h.hasDistinct || d != nil
	}
	if mode == AggFinal && next != nf {
		return nil, fmt.Errorf("hash aggregate: final input has %d columns, expected %d (group + state columns)", nf, next)
	}
	h.schema = arrow.NewSchema(fields, nil)
	h.in = aggLayout{keys: groupCols, merge: mode == AggFinal, cols: h.argCols, masks: h.masks}
	for i, a := range aggs {
		h.in.vals = append(h.in.vals, -1)
		if len(h.argCols[i]) > 0 && aggCopiesStrings(a, h.argTypes[i]) {
			h.in.strs = append(h.in.strs, h.argCols[i][0])
		}
	}
	for i, c := range groupCols {
		if aggIsString(h.keyTypes[i]) {
			h.in.strKeys = append(h.in.strKeys, c)
		}
	}
	h.in.strs = append(h.in.strs, h.in.strKeys...)
	h.skipRows = aggSkipProbeRows
	h.initMem()
	return h, nil
}

func aggFieldType(s *arrow.Schema, c int) any {
	if c < s.NumFields() {
		return s.Field(c).Type
	}
	return "nothing"
}

// Schema implements Operator.
func (h *hashAggregate) Schema() *arrow.Schema { return h.schema }

// Open implements Operator.
func (h *hashAggregate) Open(ctx context.Context) error {
	h.release() // a reopened operator starts over
	if err := h.input.Open(ctx); err != nil {
		return err
	}
	h.openMem(ctx)
	h.phase, h.emitting = aggPhaseInput, false
	h.passThrough, h.probed = false, false
	h.rowsIn, h.groupsOut = 0, 0
	return nil
}

// newTable starts an empty group table with fresh aggregate states.
func (h *hashAggregate) newTable() error {
	h.table, h.ngroups, h.emitted = nil, 0, 0
	h.tableReset()
	// After a spill the next table fills up alike: keep the kernels'
	// slices and size the slots for as many groups, if the pool grants it
	// now.
	presize := h.presize
	h.presize = 0
	if presize > 0 {
		keep := int64(aggSlotsAfter(aggInitialSlots, 0, presize)) * h.slotBytes
		for _, k := range h.kernels {
			if k != nil {
				keep += k.bytesFor(0)
			}
		}
		if h.res.TryGrow(keep) != nil {
			presize = 0
		}
	}
	if len(h.groupCols) > 0 {
		t, err := hashing.NewTable(h.keyTypes)
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		if presize > 0 {
			t.Reserve(presize)
			h.slots = aggSlotsAfter(aggInitialSlots, 0, presize)
		}
		h.table = t
	} else {
		h.ngroups = 1
	}
	for i, a := range h.aggs {
		if k := h.kernels[i]; k != nil && presize > 0 {
			k.reset()
		} else {
			var err error
			if h.kernels[i], err = newAggKernel(a.Func, h.argTypes[i], a.Name); err != nil {
				return err
			}
		}
		h.kernels[i].resize(h.ngroups)
		if d := h.distinct[i]; d != nil {
			dt, err := hashing.NewTable([]arrow.DataType{arrow.PrimitiveTypes.Uint32, h.argTypes[i]})
			if err != nil {
				return err
			}
			d.reset(dt)
		}
	}
	h.live = true
	return nil
}

// ensureTable creates the table unless it exists.
func (h *hashAggregate) ensureTable() error {
	if h.live {
		return nil
	}
	return h.newTable()
}

// dropTable lets go of the table and states and gives their memory back.
func (h *hashAggregate) dropTable() {
	h.table, h.ngroups, h.emitted, h.live, h.presize = nil, 0, 0, false, 0
	for i := range h.kernels {
		h.kernels[i] = nil
		if d := h.distinct[i]; d != nil {
			d.reset(nil)
		}
	}
	h.freeTableMem()
}

// Next implements Operator.
func (h *hashAggregate) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if h.emitting {
			if h.emitted < h.ngroups {
				return h.emitBatch(ctx)
			}
			h.emitting = false
			h.dropTable()
		}
		switch h.phase {
		case aggPhaseInput:
			if h.passThrough {
				b, err := h.passBatch(ctx)
				if b == nil && err == nil {
					h.phase = aggPhaseDone
					continue
				}
				return b, err
			}
			if err := h.ensureTable(); err != nil {
				return nil, err
			}
			full, err := h.consumeInput(ctx)
			if err != nil {
				return nil, err
			}
			switch {
			case full:
				// Partial mode: emit the groups, then go on with a fresh
				// table (or pass rows through).
				h.groupsOut += int64(h.ngroups)
			case h.runFiles != nil:
				// Spilled: the rest of the table joins its partitions.
				if err := h.endRun(ctx); err != nil {
					return nil, err
				}
				h.phase = aggPhaseMerge
				continue
			default:
				h.phase = aggPhaseDone
			}
			h.emitting = true
		case aggPhaseMerge:
			if len(h.parts) == 0 {
				h.phase = aggPhaseDone
				if len(h.groupCols) == 0 {
					// A global aggregate's one row, once every
					// partition of its DISTINCT values is folded in.
					h.finishGlobal()
					h.emitting = true
				}
				continue
			}
			spilled, err := h.mergeNext(ctx)
			if err != nil {
				return nil, err
			}
			h.emitting = !spilled && len(h.groupCols) > 0
		case aggPhaseDone:
			return nil, nil
		}
	}
}

// consumeInput feeds input batches to the table until the input ends
// (false) or, in partial mode, the table must be emitted first (true).
func (h *hashAggregate) consumeInput(ctx context.Context) (bool, error) {
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		b, off := h.pending, h.pendingOff
		h.pending = nil
		if b == nil {
			var err error
			if b, err = h.input.Next(ctx); err != nil || b == nil {
				return false, err
			}
			off = 0
		}
		done, err := h.feed(ctx, b, &h.in, off)
		if err != nil {
			b.Release()
			return false, err
		}
		if done < int(b.NumRows()) {
			h.pending, h.pendingOff = b, done
			return true, nil
		}
		b.Release()
		if h.mode == AggPartial && h.table != nil && !h.probed && h.rowsIn >= h.skipRows {
			h.probed = true
			if float64(h.groupsOut+int64(h.ngroups)) > aggSkipRatio*float64(h.rowsIn) {
				h.passThrough = true
				return true, nil
			}
		}
	}
}

// feed aggregates rows off.. of b, read as lay says, reserving memory
// first. It returns how far it got: all rows, or fewer in partial mode when
// the table is full and must be emitted before the rest (or rows must
// pass through).
func (h *hashAggregate) feed(ctx context.Context, b arrow.RecordBatch, lay *aggLayout, off int) (int, error) {
	if err := h.ensureTable(); err != nil {
		return off, err
	}
	n := int(b.NumRows())
	for off < n {
		m := n - off
		if h.step > 0 {
			m = min(m, h.step)
		}
		if need, err := h.reserve(b, lay, off, m); err != nil {
			var le *mempool.LimitError
			if !errors.As(err, &le) {
				return off, err
			}
			held := h.res.Size()
			switch {
			case m > 1 && need-held > held:
				// The rows could add more than the table holds: feed
				// fewer at a time before giving up on the table.
				h.step = (m + 1) / 2
			case h.canFlush():
				if h.mode == AggPartial {
					return off, nil
				}
				if err := h.spillTable(ctx); err != nil {
					return off, err
				}
				if err := h.ensureTable(); err != nil {
					return off, err
				}
			case m > 1:
				h.step = (m + 1) / 2
			case h.mode == AggPartial && !lay.merge:
				// Not even an empty table fits: pass rows through as
				// states, which needs no table (the final phase
				// aggregates them).
				h.passThrough = true
				return off, nil
			default:
				return off, fmt.Errorf("hash aggregate: %w", err)
			}
			continue
		}
		part := b
		if m < n {
			part = b.NewSlice(int64(off), int64(off+m))
		}
		before := h.ngroups
		err := h.consumeBatch(ctx, part, lay)
		if err == nil {
			h.grew(part, lay, before, m)
		}
		if part != b {
			part.Release()
		}
		if err != nil {
			return off, err
		}
		if !lay.merge {
			h.rowsIn += int64(m)
		}
		off += m
		if h.step > 0 {
			// Memory may have come back: try larger slices again.
			if h.step *= 2; h.step >= n {
				h.step = 0
			}
		}
	}
	return n, nil
}

// canFlush reports whether emitting (partial) or spilling the table would
// free memory that later rows can use.
func (h *hashAggregate) canFlush() bool {
	switch {
	case h.table == nil:
		// A global aggregate holds O(1) state but for DISTINCT values,
		// which spill partitioned by value.
		return h.hasDistinct && h.level <= aggSpillMaxLevel && h.distinctValues() > 0
	case h.ngroups == 0:
		return false
	case h.mode == AggPartial:
		return true
	case h.level > aggSpillMaxLevel:
		return false // the hash has no bits left to split on
	}
	// A partition being merged that holds one group cannot be split
	// further: that group alone does not fit.
	return h.level == 0 || h.ngroups > 1
}

func (h *hashAggregate) consumeBatch(ctx context.Context, b arrow.RecordBatch, lay *aggLayout) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	if cap(h.ids) < n {
		h.ids = make([]uint32, n)
		h.hashes = make([]uint64, n)
	}
	ids := h.ids[:n]
	if h.table != nil {
		h.keyCols = h.keyCols[:0]
		for _, c := range lay.keys {
			h.keyCols = append(h.keyCols, b.Column(c))
		}
		if err := hashing.HashColumns(h.keyCols, h.hashes[:n]); err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		h.table.Insert(h.keyCols, h.hashes[:n], nil, ids)
		h.ngroups = h.table.Len()
	} else {
		clear(ids)
	}
	for i, k := range h.kernels {
		k.resize(h.ngroups)
		var err error
		switch {
		case !lay.merge:
			err = h.updateAgg(ctx, i, k, b, lay, ids)
		case h.distinct[i] != nil:
			err = h.distinct[i].update(ctx, k, b.Column(lay.vals[i]), ids)
		case len(lay.cols[i]) == 0:
			// Not in this layout: global spill files hold DISTINCT
			// values only.
		default:
			h.states = h.states[:0]
			for _, c := range lay.cols[i] {
				h.states = append(h.states, b.Column(c))
			}
			err = k.merge(h.states, ids)
		}
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
	}
	return nil
}

// updateAgg feeds the rows of b (group ids ids) to aggregate i's kernel k,
// only those its mask keeps when it has one.
func (h *hashAggregate) updateAgg(ctx context.Context, i int, k aggKernel, b arrow.RecordBatch, lay *aggLayout, ids []uint32) error {
	var arg arrow.Array
	if len(lay.cols[i]) > 0 {
		arg = b.Column(lay.cols[i][0])
	}
	if m := lay.masks[i]; m >= 0 {
		h.sel = maskRows(b.Column(m), h.sel[:0])
		if len(h.sel) == 0 {
			return nil
		}
		if len(h.sel) < len(ids) {
			h.selIDs = h.selIDs[:0]
			for _, r := range h.sel {
				h.selIDs = append(h.selIDs, ids[r])
			}
			ids = h.selIDs
			if arg != nil {
				taken, err := hashing.Take(Allocator(ctx), arg, h.sel)
				if err != nil {
					return err
				}
				defer taken.Release()
				arg = taken
			}
		}
	}
	switch {
	case h.distinct[i] != nil:
		return h.distinct[i].update(ctx, k, arg, ids)
	default:
		return k.update(arg, ids)
	}
}

// maskRows appends to sel the rows where the BOOLEAN column mask is TRUE.
func maskRows(mask arrow.Array, sel []int32) []int32 {
	bm := mask.(*array.Boolean)
	hasNulls := bm.NullN() > 0
	for r := range bm.Len() {
		if bm.Value(r) && (!hasNulls || bm.IsValid(r)) {
			sel = append(sel, int32(r))
		}
	}
	return sel
}

// emitBatch returns the next batch of the table's groups: final values, or
// states in partial mode.
func (h *hashAggregate) emitBatch(ctx context.Context) (arrow.RecordBatch, error) {
	from := h.emitted
	to := min(from+BatchSize(ctx), h.ngroups)
	mem := Allocator(ctx)
	cols := make([]arrow.Array, 0, h.schema.NumFields())
	fail := func(err error) (arrow.RecordBatch, error) {
		for _, c := range cols {
			c.Release()
		}
		return nil, fmt.Errorf("hash aggregate: %w", err)
	}
	if h.table != nil {
		keys, err := h.table.Keys(mem, from, to)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, keys...)
	}
	for _, k := range h.kernels {
		if h.mode == AggPartial {
			st, err := k.partial(mem, from, to)
			if err != nil {
				return fail(err)
			}
			cols = append(cols, st...)
		} else {
			a, err := k.final(mem, from, to)
			if err != nil {
				return fail(err)
			}
			cols = append(cols, a)
		}
	}
	h.emitted = to
	rb := array.NewRecordBatch(h.schema, cols, int64(to-from))
	for _, c := range cols {
		c.Release()
	}
	return rb, nil
}

// passBatch returns the next input rows (at most a batch) turned into
// partial states, one state row per input row, without grouping
// (skip-partial). nil at the end of the input.
func (h *hashAggregate) passBatch(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		b, off := h.pending, h.pendingOff
		h.pending = nil
		if b == nil {
			var err error
			if b, err = h.input.Next(ctx); err != nil || b == nil {
				return nil, err
			}
			off = 0
		}
		n := int(b.NumRows())
		m := min(n-off, BatchSize(ctx))
		if m <= 0 {
			b.Release()
			continue
		}
		part := b
		if m < n {
			part = b.NewSlice(int64(off), int64(off+m))
		}
		if off+m < n {
			h.pending, h.pendingOff = b, off+m
		} else if part != b {
			b.Release()
		}
		out, err := h.statesOf(ctx, part)
		part.Release()
		return out, err
	}
}

// statesOf computes the partial states of every row of b on its own.
func (h *hashAggregate) statesOf(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(b.NumRows())
	for len(h.identity) < n {
		h.identity = append(h.identity, uint32(len(h.identity)))
	}
	ids := h.identity[:n]
	mem := Allocator(ctx)
	cols := make([]arrow.Array, 0, h.schema.NumFields())
	fail := func(err error) (arrow.RecordBatch, error) {
		for _, c := range cols {
			c.Release()
		}
		return nil, fmt.Errorf("hash aggregate: %w", err)
	}
	for _, c := range h.groupCols {
		col := b.Column(c)
		col.Retain()
		cols = append(cols, col)
	}
	if h.passKernels == nil {
		h.passKernels = make([]aggKernel, len(h.aggs))
	}
	for i, a := range h.aggs {
		k := h.passKernels[i]
		if k == nil {
			var err error
			if k, err = newAggKernel(a.Func, h.argTypes[i], a.Name); err != nil {
				return fail(err)
			}
			h.passKernels[i] = k
		}
		k.reset()
		k.resize(n)
		if err := h.updateAgg(ctx, i, k, b, &h.in, ids); err != nil {
			return fail(err)
		}
		st, err := k.partial(mem, 0, n)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, st...)
	}
	rb := array.NewRecordBatch(h.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rb, nil
}

// Close implements Operator.
func (h *hashAggregate) Close() error {
	h.release()
	// Also when Open failed or never ran: the input may hold resources
	// from its construction (an exchange source's batches).
	return h.input.Close()
}

// release drops everything the operator holds: batches, tables, spill
// files, its reservation. Idempotent.
func (h *hashAggregate) release() {
	if h.pending != nil {
		h.pending.Release()
		h.pending = nil
	}
	h.passKernels = nil
	h.removeSpills()
	h.dropTable()
	h.closeMem()
}

// aggDistinct filters a DISTINCT aggregate's input to the first occurrence
// of every (group, value) pair, using a key table over both.
type aggDistinct struct {
	table  *hashing.Table
	hashes []uint64
	pair   []uint32
	sel    []int32
	keep   []int32
	groups []uint32
	fresh  []bool

	// Memory estimate (agg_mem.go).
	slots    int   // slots of table (mirrors its growth)
	pairSize int64 // bytes per stored pair (key columns, hash)
	strBytes int64 // bytes of string values stored
}

// reset makes t (nil: none) the pair table.
func (d *aggDistinct) reset(t *hashing.Table) {
	d.table, d.slots, d.strBytes = t, aggInitialSlots, 0
}

func (d *aggDistinct) update(ctx context.Context, k aggKernel, arg arrow.Array, ids []uint32) error {
	n := len(ids)
	if arg.NullN() == n {
		return nil
	}
	gcol := hashing.Uint32Array(ids)
	defer gcol.Release()
	cols := []arrow.Array{gcol, arg}
	if cap(d.hashes) < n {
		d.hashes = make([]uint64, n)
		d.pair = make([]uint32, n)
	}
	if err := hashing.HashColumns(cols, d.hashes[:n]); err != nil {
		return err
	}
	d.sel = d.sel[:0]
	v, hasNulls := hashing.ValidityOf(arg)
	for i := 0; i < n; i++ {
		if !hasNulls || v.Valid(i) {
			d.sel = append(d.sel, int32(i))
		}
	}
	before := d.table.Len()
	newFrom := d.table.Insert(cols, d.hashes[:n], d.sel, d.pair[:n])
	d.slots = aggSlotsAfter(d.slots, before, len(d.sel))
	d.fresh = d.fresh[:0]
	for range d.table.Len() - newFrom {
		d.fresh = append(d.fresh, true)
	}
	d.keep, d.groups = d.keep[:0], d.groups[:0]
	for _, r := range d.sel {
		p := int(d.pair[r]) - newFrom
		if p >= 0 && d.fresh[p] {
			d.fresh[p] = false
			d.keep = append(d.keep, r)
			d.groups = append(d.groups, ids[r])
		}
	}
	if len(d.keep) == 0 {
		return nil
	}
	if aggIsString(arg.DataType()) {
		offs, _ := hashing.StringData(arg)
		for _, r := range d.keep {
			d.strBytes += int64(offs[r+1] - offs[r])
		}
	}
	vals, err := hashing.Take(Allocator(ctx), arg, d.keep)
	if err != nil {
		return err
	}
	defer vals.Release()
	return k.update(vals, d.groups)
}
