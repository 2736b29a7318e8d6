package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/flint-engine/flint/exec/hashing"
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
)

var aggFuncNames = [...]string{"count", "count_star", "sum", "avg", "min", "max",
	"stddev_samp", "stddev_pop", "var_samp", "var_pop", "bool_and", "bool_or", "first"}

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
	return aggIsInt(dt) || aggIsFloat(dt) || dt.ID() == arrow.DECIMAL128
}

// aggSumType is the type of sum(arg), or nil when unsupported.
func aggSumType(arg arrow.DataType) arrow.DataType {
	switch {
	case aggIsInt(arg):
		return arrow.PrimitiveTypes.Int64
	case aggIsFloat(arg):
		return arrow.PrimitiveTypes.Float64
	case arg.ID() == arrow.DECIMAL128:
		return &arrow.Decimal128Type{Precision: 38, Scale: arg.(*arrow.Decimal128Type).Scale}
	}
	return nil
}

func aggOrderable(dt arrow.DataType) bool {
	return hashing.SupportedKeyType(dt)
}

// AggResultType is the type of f applied to a column of type arg (arg may
// be nil for count(*)): count → Int64; sum(int*) → Int64;
// sum(decimal(p,s)) → Decimal128(38,s); sum(float*) → Float64; avg →
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

	kernels  []aggKernel
	distinct []*aggDistinct
	table    *hashing.Table
	ngroups  int
	consumed bool
	emitted  int
	hashes   []uint64
	ids      []uint32
	sel      []int32  // rows a mask keeps
	selIDs   []uint32 // their group ids
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
			if d.table, err = hashing.NewTable([]arrow.DataType{arrow.PrimitiveTypes.Uint32, argType}); err != nil {
				return nil, fmt.Errorf("hash aggregate: %s: DISTINCT over %s: %w", name, argType, err)
			}
		}
		h.distinct = append(h.distinct, d)
	}
	if mode == AggFinal && next != nf {
		return nil, fmt.Errorf("hash aggregate: final input has %d columns, expected %d (group + state columns)", nf, next)
	}
	h.schema = arrow.NewSchema(fields, nil)
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
	if err := h.input.Open(ctx); err != nil {
		return err
	}
	h.consumed, h.emitted, h.ngroups = false, 0, 0
	h.table = nil
	if len(h.groupCols) > 0 {
		t, err := hashing.NewTable(h.keyTypes)
		if err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		h.table = t
	} else {
		h.ngroups = 1
	}
	for i, a := range h.aggs {
		k, err := newAggKernel(a.Func, h.argTypes[i], a.Name)
		if err != nil {
			return err
		}
		k.resize(h.ngroups)
		h.kernels[i] = k
		if h.distinct[i] != nil {
			dt, err := hashing.NewTable([]arrow.DataType{arrow.PrimitiveTypes.Uint32, h.argTypes[i]})
			if err != nil {
				return err
			}
			h.distinct[i].table = dt
		}
	}
	return nil
}

func (h *hashAggregate) consume(ctx context.Context) error {
	cols := make([]arrow.Array, len(h.groupCols))
	states := make([]arrow.Array, 0, 3)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := h.input.Next(ctx)
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		err = h.consumeBatch(ctx, b, cols, states)
		b.Release()
		if err != nil {
			return err
		}
	}
}

func (h *hashAggregate) consumeBatch(ctx context.Context, b arrow.RecordBatch, cols, states []arrow.Array) error {
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
		for i, c := range h.groupCols {
			cols[i] = b.Column(c)
		}
		if err := hashing.HashColumns(cols, h.hashes[:n]); err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
		h.table.Insert(cols, h.hashes[:n], nil, ids)
		h.ngroups = h.table.Len()
	} else {
		clear(ids)
	}
	for i, k := range h.kernels {
		k.resize(h.ngroups)
		if h.mode == AggFinal {
			states = states[:0]
			for _, c := range h.argCols[i] {
				states = append(states, b.Column(c))
			}
			if err := k.merge(states, ids); err != nil {
				return fmt.Errorf("hash aggregate: %w", err)
			}
			continue
		}
		if err := h.updateAgg(ctx, i, b, ids); err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
	}
	return nil
}

// updateAgg feeds the rows of b (group ids ids) to aggregate i, only those
// its mask keeps when it has one.
func (h *hashAggregate) updateAgg(ctx context.Context, i int, b arrow.RecordBatch, ids []uint32) error {
	var arg arrow.Array
	if len(h.argCols[i]) > 0 {
		arg = b.Column(h.argCols[i][0])
	}
	if m := h.masks[i]; m >= 0 {
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
	k := h.kernels[i]
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

// Next implements Operator.
func (h *hashAggregate) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !h.consumed {
		if err := h.consume(ctx); err != nil {
			return nil, err
		}
		h.consumed = true
	}
	if h.emitted >= h.ngroups {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
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

// Close implements Operator.
func (h *hashAggregate) Close() error {
	h.table = nil
	for _, d := range h.distinct {
		if d != nil {
			d.table = nil
		}
	}
	// Also when Open failed or never ran: the input may hold resources
	// from its construction (an exchange source's batches).
	return h.input.Close()
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
}

func (d *aggDistinct) update(ctx context.Context, k aggKernel, arg arrow.Array, ids []uint32) error {
	n := len(ids)
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
	newFrom := d.table.Insert(cols, d.hashes[:n], d.sel, d.pair[:n])
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
	vals, err := hashing.Take(Allocator(ctx), arg, d.keep)
	if err != nil {
		return err
	}
	defer vals.Release()
	return k.update(vals, d.groups)
}
