package exec

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/flint-engine/flint/exec/hashing"
)

// JoinType is the kind of a hash join. The left input is the probe side.
type JoinType int

// Join types.
const (
	JoinInner JoinType = iota
	JoinLeft           // all left rows; unmatched ones with NULL right columns
	JoinRight          // all right rows; unmatched ones with NULL left columns
	JoinFull           // both
	JoinSemi           // left rows with at least one match (left columns only)
	JoinAnti           // left rows without a match (left columns only)
	// JoinRightSemi and JoinRightAnti keep BUILD rows with (without) a
	// match, right columns only: a semi or anti join whose preserved side
	// is the smaller one builds on it and probes with the larger side.
	// They need build-side match tracking, so they cannot probe a shared
	// broadcast table.
	JoinRightSemi
	JoinRightAnti
	// JoinMark emits every left row once, in input order, with the
	// LeftOut columns and one BOOLEAN "mark" column that says whether the
	// row has a match, in SQL's three-valued logic (IN, EXISTS and
	// op ANY/ALL subqueries anywhere in an expression): see
	// HashJoinSpec.MarkCond and NullAware for how it is computed.
	JoinMark
)

var joinTypeNames = [...]string{"inner", "left", "right", "full", "semi", "anti", "right semi", "right anti", "mark"}

func (t JoinType) String() string {
	if t >= 0 && int(t) < len(joinTypeNames) {
		return joinTypeNames[t]
	}
	return fmt.Sprintf("JoinType(%d)", int(t))
}

// HashJoinSpec describes an equi-join; the RIGHT input is always the build
// side.
type HashJoinSpec struct {
	Type JoinType
	// LeftKeys[i] = RightKeys[i] are the equality conditions; both sides'
	// key columns must have identical types. NULL keys never match.
	LeftKeys, RightKeys []int
	// Residual, if set, is evaluated on a batch of [all left columns..., all
	// right columns...] for candidate pairs; pairs where it is false or
	// NULL do not match.
	Residual Expr
	// NullAware makes the (single) key comparison SQL's three-valued
	// equality instead of "NULL never matches". JoinAnti gets NOT IN
	// semantics: if the right side has a row with a NULL key no left row
	// qualifies, and a left row with a NULL key qualifies only when the
	// right side is empty. JoinMark gets IN semantics: the mark is TRUE
	// when a right row has an equal key; otherwise NULL when the left key
	// is NULL and the right side is not empty, or when the right side has a
	// NULL key; otherwise FALSE. With a Residual, "the right side" means the
	// right rows passing the residual for that left row.
	NullAware bool
	// MarkCond, for a JoinMark without NullAware, is a boolean expression
	// over the same pair batch as Residual. The candidates of a left row
	// are the right rows with equal keys (NULL never equal) passing the
	// residual; the mark is TRUE if MarkCond is TRUE for some candidate,
	// else NULL if it is NULL for some, else FALSE. With MarkCond nil the
	// mark is TRUE exactly when the row has a candidate (EXISTS).
	MarkCond Expr
	// MarkName names the mark column ("mark" when empty).
	MarkName string
	// LeftOut and RightOut list the emitted columns (nil = all). Semi,
	// anti and mark joins emit only LeftOut (mark: then the mark column).
	LeftOut, RightOut []int
}

// JoinTable is the build side of a hash join: the right input's columns
// concatenated, and a key table mapping each distinct non-NULL key to the
// build rows holding it. It is immutable after BuildJoinTable and safe for
// concurrent probes; Release frees it once no probe uses it.
type JoinTable struct {
	keyCols  []int
	schema   *arrow.Schema
	cols     []arrow.Array
	numRows  int
	keys     *hashing.Table
	start    []int32 // rows of key g: rows[start[g]:start[g+1]]
	rows     []int32
	nullRows []int32 // build rows with a NULL in some key column
	// unique: every key has one build row, uniqueRow[g] (-1: no key g).
	unique    bool
	uniqueRow []int32
	// dense: single integer key spanning few values; key ids are k-denseMin
	// and keys is nil.
	dense    bool
	denseMin int64
}

// numKeys is the number of key ids (distinct keys, or the dense span).
func (t *JoinTable) numKeys() int { return len(t.start) - 1 }

// NumRows is the number of build rows.
func (t *JoinTable) NumRows() int { return t.numRows }

// Release frees the build columns. The table must not be probed after.
func (t *JoinTable) Release() {
	for _, c := range t.cols {
		c.Release()
	}
	t.cols = nil
}

// hjInsertChunk bounds the scratch memory of one Table.Insert call.
const hjInsertChunk = 1 << 16

// BuildJoinTable opens right, reads it to the end, closes it and builds the
// join table on spec.RightKeys.
func BuildJoinTable(ctx context.Context, right Operator, spec HashJoinSpec) (*JoinTable, error) {
	if err := hjCheckKeys(nil, right.Schema(), spec.RightKeys, spec.RightKeys); err != nil {
		return nil, err
	}
	if err := right.Open(ctx); err != nil {
		right.Close()
		return nil, err
	}
	t, err := hjBuild(ctx, right, spec.RightKeys)
	if cerr := right.Close(); cerr != nil && err == nil {
		t.Release()
		return nil, cerr
	}
	return t, err
}

// hjBuild drains an opened operator into a JoinTable.
func hjBuild(ctx context.Context, right Operator, keyCols []int) (*JoinTable, error) {
	mem := Allocator(ctx)
	schema := right.Schema()
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	n := 0
	for {
		b, err := right.Next(ctx)
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		n += int(b.NumRows())
		batches = append(batches, b)
	}
	if n > 1<<31-1 {
		return nil, fmt.Errorf("hash join: build side has %d rows, more than a table holds", n)
	}
	t := &JoinTable{schema: schema, numRows: n, keyCols: slices.Clone(keyCols)}
	for c := 0; c < schema.NumFields(); c++ {
		var col arrow.Array
		switch len(batches) {
		case 0:
			col = array.MakeArrayOfNull(mem, schema.Field(c).Type, 0)
		case 1:
			col = batches[0].Column(c)
			col.Retain()
		default:
			parts := make([]arrow.Array, len(batches))
			for i, b := range batches {
				parts[i] = b.Column(c)
			}
			var err error
			if col, err = array.Concatenate(parts, mem); err != nil {
				t.Release()
				return nil, fmt.Errorf("hash join: build column %q: %w", schema.Field(c).Name, err)
			}
		}
		t.cols = append(t.cols, col)
	}
	keyTypes := make([]arrow.DataType, len(keyCols))
	keys := make([]arrow.Array, len(keyCols))
	for i, c := range keyCols {
		keyTypes[i] = schema.Field(c).Type
		keys[i] = t.cols[c]
	}
	var err error
	if t.keys, err = hashing.NewTable(keyTypes); err != nil {
		t.Release()
		return nil, fmt.Errorf("hash join: %w", err)
	}
	if n == 0 {
		t.start = []int32{0}
		return t, nil
	}
	hashes := make([]uint64, n)
	if err := hashing.HashColumns(keys, hashes); err != nil {
		t.Release()
		return nil, fmt.Errorf("hash join: build keys: %w", err)
	}
	sel := make([]int32, 0, n)
	var valids []hashing.Validity
	for _, k := range keys {
		if v, ok := hashing.ValidityOf(k); ok {
			valids = append(valids, v)
		}
	}
	for r := 0; r < n; r++ {
		null := false
		for _, v := range valids {
			if !v.Valid(r) {
				null = true
				break
			}
		}
		if null {
			t.nullRows = append(t.nullRows, int32(r))
		} else {
			sel = append(sel, int32(r))
		}
	}
	if len(keyCols) == 1 && hashing.IsIntKey(keyTypes[0]) && len(sel) > 0 {
		var scratch []int64
		if hjBuildDense(t, hashing.IntValues(keys[0], &scratch), sel) {
			return t, nil
		}
	}
	ids := make([]uint32, n)
	t.keys.Reserve(len(sel))
	for i := 0; i < len(sel); i += hjInsertChunk {
		if err := ctx.Err(); err != nil {
			t.Release()
			return nil, err
		}
		t.keys.Insert(keys, hashes, sel[i:min(i+hjInsertChunk, len(sel))], ids)
	}
	// Group build rows by key id (counting sort, stable in row order).
	g := t.keys.Len()
	t.start = make([]int32, g+1)
	for _, r := range sel {
		t.start[ids[r]+1]++
	}
	for i := 1; i <= g; i++ {
		t.start[i] += t.start[i-1]
	}
	fill := make([]int32, g)
	copy(fill, t.start[:g])
	t.rows = make([]int32, len(sel))
	for _, r := range sel {
		id := ids[r]
		t.rows[fill[id]] = r
		fill[id]++
	}
	t.unique = g == len(sel)
	if t.unique {
		t.uniqueRow = t.rows
	}
	return t, nil
}

// hjBuildDense indexes build rows directly by key offset when the non-NULL
// integer keys span few values (TPC-H keys are 1..N): no hashing, and the
// index is a fraction of a hash table's size.
func hjBuildDense(t *JoinTable, vals []int64, sel []int32) bool {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, r := range sel {
		lo, hi = min(lo, vals[r]), max(hi, vals[r])
	}
	if hi-lo < 0 || uint64(hi-lo) >= uint64(max(1<<16, 4*len(sel))) {
		return false
	}
	span := int(hi-lo) + 1
	t.dense, t.denseMin = true, lo
	t.keys = nil
	t.start = make([]int32, span+1)
	for _, r := range sel {
		t.start[vals[r]-lo+1]++
	}
	t.unique = true
	for i := 1; i <= span; i++ {
		if t.start[i] > 1 {
			t.unique = false
		}
		t.start[i] += t.start[i-1]
	}
	t.rows = make([]int32, len(sel))
	fill := make([]int32, span)
	copy(fill, t.start[:span])
	for _, r := range sel {
		off := vals[r] - lo
		t.rows[fill[off]] = r
		fill[off]++
	}
	if t.unique {
		t.uniqueRow = make([]int32, span)
		for i := range t.uniqueRow {
			t.uniqueRow[i] = -1
		}
		for _, r := range sel {
			t.uniqueRow[vals[r]-lo] = r
		}
	}
	return true
}

// find maps probe keys to key ids (-1: no match or NULL key).
func (t *JoinTable) find(keys []arrow.Array, hashes []uint64, gids []int32, sc *hashing.Scratch, ints *[]int64) error {
	if !t.dense {
		if err := hashing.HashColumns(keys, hashes); err != nil {
			return err
		}
		t.keys.Find(keys, hashes, gids, sc)
		return nil
	}
	vals := hashing.IntValues(keys[0], ints)[:len(gids)]
	span := uint64(len(t.start) - 1)
	start, base := t.start, t.denseMin
	for r, k := range vals {
		gids[r] = -1
		if off := uint64(k - base); k >= base && off < span && start[off+1] > start[off] {
			gids[r] = int32(off)
		}
	}
	if v, ok := hashing.ValidityOf(keys[0]); ok {
		for r := range gids {
			if !v.Valid(r) {
				gids[r] = -1
			}
		}
	}
	return nil
}

func hjTypesMatch(a, b arrow.DataType) bool {
	if a.ID() == arrow.DECIMAL128 && b.ID() == arrow.DECIMAL128 {
		return a.(*arrow.Decimal128Type).Scale == b.(*arrow.Decimal128Type).Scale
	}
	return arrow.TypeEqual(a, b)
}

// hjCheckKeys validates key columns; left may be nil (build-only check).
func hjCheckKeys(left, right *arrow.Schema, leftKeys, rightKeys []int) error {
	if len(rightKeys) == 0 || len(leftKeys) != len(rightKeys) {
		return fmt.Errorf("hash join: need the same non-zero number of left and right keys (got %d and %d)", len(leftKeys), len(rightKeys))
	}
	for i, rk := range rightKeys {
		if rk < 0 || rk >= right.NumFields() {
			return fmt.Errorf("hash join: right key %d: column %d out of range (right has %d columns)", i, rk, right.NumFields())
		}
		rt := right.Field(rk).Type
		if !hashing.SupportedKeyType(rt) {
			return fmt.Errorf("hash join: right key column %q: unsupported key type %s", right.Field(rk).Name, rt)
		}
		if left == nil {
			continue
		}
		lk := leftKeys[i]
		if lk < 0 || lk >= left.NumFields() {
			return fmt.Errorf("hash join: left key %d: column %d out of range (left has %d columns)", i, lk, left.NumFields())
		}
		if lt := left.Field(lk).Type; !hjTypesMatch(lt, rt) {
			return fmt.Errorf("hash join: key %d: left column %q is %s but right column %q is %s", i, left.Field(lk).Name, lt, right.Field(rk).Name, rt)
		}
	}
	return nil
}

func hjOutCols(out []int, s *arrow.Schema, side string) ([]int, error) {
	if out == nil {
		out = make([]int, s.NumFields())
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	for _, c := range out {
		if c < 0 || c >= s.NumFields() {
			return nil, fmt.Errorf("hash join: %s output column %d out of range (%s has %d columns)", side, c, side, s.NumFields())
		}
	}
	return out, nil
}

// hjProbe is the probe side shared by the hash join operators.
type hjProbe struct {
	spec       HashJoinSpec
	left       Operator
	table      *JoinTable
	schema     *arrow.Schema
	pairSchema *arrow.Schema
	leftOut    []int
	rightOut   []int

	// per probe batch
	batch    arrow.RecordBatch
	keyCols  []arrow.Array
	hashes   []uint64
	gids     []int32
	keyNull  []bool // only for null-aware joins
	mark     []int8 // mark joins: markFalse, markNull or markTrue per row
	scratch  hashing.Scratch
	ints     []int64
	row, pos int
	matched  []bool
	inTail   bool
	tail     []int32
	tailPos  int
	allRows  []int32

	// right/full joins and right semi/anti joins
	trackBuild   bool
	buildMatched []bool
	// keyMatched marks build keys hit by some probe row: right semi/anti
	// joins without a residual need no per-pair work.
	keyMatched []bool
	buildDone  bool
	buildTail  []int32
	buildPos   int

	pIdx, bIdx []int32
	leftDone   bool

	// buildNull marks build rows with a NULL key (null-aware mark joins
	// with a residual), built on first use.
	buildNull []bool
}

// Mark states of a left row, ordered so that max combines them.
const (
	markFalse int8 = iota
	markNull
	markTrue
)

func newHJProbe(left Operator, rightSchema *arrow.Schema, spec HashJoinSpec) (*hjProbe, error) {
	ls := left.Schema()
	if spec.Type < JoinInner || spec.Type > JoinMark {
		return nil, fmt.Errorf("hash join: unknown join type %d", int(spec.Type))
	}
	if err := hjCheckKeys(ls, rightSchema, spec.LeftKeys, spec.RightKeys); err != nil {
		return nil, err
	}
	if spec.NullAware && spec.Type != JoinAnti && spec.Type != JoinMark {
		return nil, fmt.Errorf("hash join: NullAware needs an anti or mark join, got %s", spec.Type)
	}
	if spec.NullAware && spec.Type == JoinMark && (len(spec.LeftKeys) != 1 || spec.MarkCond != nil) {
		return nil, fmt.Errorf("hash join: a null-aware mark join compares one key and has no MarkCond (got %d keys)", len(spec.LeftKeys))
	}
	if spec.Residual != nil && spec.Residual.DataType().ID() != arrow.BOOL {
		return nil, fmt.Errorf("hash join: residual %s is %s, not boolean", spec.Residual, spec.Residual.DataType())
	}
	if spec.MarkCond != nil && spec.Type != JoinMark {
		return nil, fmt.Errorf("hash join: MarkCond needs a mark join, got %s", spec.Type)
	}
	if spec.MarkCond != nil && spec.MarkCond.DataType().ID() != arrow.BOOL {
		return nil, fmt.Errorf("hash join: mark condition %s is %s, not boolean", spec.MarkCond, spec.MarkCond.DataType())
	}
	p := &hjProbe{spec: spec, left: left}
	var err error
	rightSemiAnti := spec.Type == JoinRightSemi || spec.Type == JoinRightAnti
	if rightSemiAnti {
		p.leftOut = nil
	} else if p.leftOut, err = hjOutCols(spec.LeftOut, ls, "left"); err != nil {
		return nil, err
	}
	semiAnti := spec.Type == JoinSemi || spec.Type == JoinAnti || spec.Type == JoinMark
	if semiAnti {
		p.rightOut = nil
	} else if p.rightOut, err = hjOutCols(spec.RightOut, rightSchema, "right"); err != nil {
		return nil, err
	}
	var fields []arrow.Field
	for _, c := range p.leftOut {
		f := ls.Field(c)
		if spec.Type == JoinRight || spec.Type == JoinFull {
			f.Nullable = true
		}
		fields = append(fields, f)
	}
	for _, c := range p.rightOut {
		f := rightSchema.Field(c)
		if spec.Type == JoinLeft || spec.Type == JoinFull {
			f.Nullable = true
		}
		fields = append(fields, f)
	}
	if spec.Type == JoinMark {
		name := spec.MarkName
		if name == "" {
			name = "mark"
		}
		fields = append(fields, arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true})
	}
	p.schema = arrow.NewSchema(fields, nil)
	pf := append(append([]arrow.Field{}, ls.Fields()...), rightSchema.Fields()...)
	p.pairSchema = arrow.NewSchema(pf, nil)
	p.trackBuild = spec.Type == JoinRight || spec.Type == JoinFull || rightSemiAnti
	return p, nil
}

func (p *hjProbe) reset(t *JoinTable) {
	p.table = t
	p.releaseBatch()
	p.leftDone, p.buildDone = false, false
	p.buildTail, p.buildPos = nil, 0
	p.buildNull, p.allRows = nil, nil
	if p.trackBuild {
		p.buildMatched = make([]bool, t.numRows)
	}
	p.keyMatched = nil
	if p.rightSemiAntiNoResidual() {
		p.keyMatched = make([]bool, t.numKeys())
	}
}

func (p *hjProbe) rightSemiAntiNoResidual() bool {
	return (p.spec.Type == JoinRightSemi || p.spec.Type == JoinRightAnti) && p.spec.Residual == nil
}

func (p *hjProbe) releaseBatch() {
	if p.batch != nil {
		p.batch.Release()
		p.batch = nil
	}
}

func (p *hjProbe) startBatch(b arrow.RecordBatch) error {
	p.batch = b
	n := int(b.NumRows())
	p.keyCols = p.keyCols[:0]
	for _, c := range p.spec.LeftKeys {
		p.keyCols = append(p.keyCols, b.Column(c))
	}
	if cap(p.hashes) < n {
		p.hashes = make([]uint64, n)
		p.gids = make([]int32, n)
		p.matched = make([]bool, n)
	}
	p.hashes, p.gids, p.matched = p.hashes[:n], p.gids[:n], p.matched[:n]
	clear(p.matched)
	if err := p.table.find(p.keyCols, p.hashes, p.gids, &p.scratch, &p.ints); err != nil {
		return fmt.Errorf("hash join: probe keys: %w", err)
	}
	if p.spec.NullAware {
		p.keyNull = aggGrow(p.keyNull[:0], n)
		for _, k := range p.keyCols {
			if v, ok := hashing.ValidityOf(k); ok {
				for i := range n {
					if !v.Valid(i) {
						p.keyNull[i] = true
					}
				}
			}
		}
	}
	p.row, p.pos, p.inTail, p.tail, p.tailPos = 0, 0, false, p.tail[:0], 0
	if p.rightSemiAntiNoResidual() {
		km := p.keyMatched
		for _, g := range p.gids {
			if g >= 0 {
				km[g] = true
			}
		}
		p.row = n
		p.startTail() // empty: probe rows are never emitted
		return nil
	}
	if p.spec.Residual == nil && (p.spec.Type == JoinSemi || p.spec.Type == JoinAnti) {
		for i, g := range p.gids {
			p.matched[i] = g >= 0
		}
		p.startTail()
	}
	if p.spec.Type == JoinMark {
		p.mark = aggGrow(p.mark[:0], n)
		if p.spec.Residual == nil && p.spec.MarkCond == nil {
			p.markFromKeys()
			p.startTail()
		}
	}
	return nil
}

// markFromKeys sets the marks of a batch when keys alone decide them (no
// residual, no mark condition).
func (p *hjProbe) markFromKeys() {
	t := p.table
	// What a row without an equal key gets: under IN semantics NULL when
	// the build side has a NULL key (or, for a NULL probe key, any row).
	noMatch, noMatchNullKey := markFalse, markFalse
	if p.spec.NullAware {
		if len(t.nullRows) > 0 {
			noMatch = markNull
		}
		if t.numRows > 0 {
			noMatchNullKey = markNull
		}
	}
	for i, g := range p.gids {
		switch {
		case g >= 0:
			p.mark[i] = markTrue
		case p.spec.NullAware && p.keyNull[i]:
			p.mark[i] = noMatchNullKey
		default:
			p.mark[i] = noMatch
		}
	}
}

// lists returns the candidate build rows of probe row r.
func (p *hjProbe) lists(r int) (a, b []int32) {
	t := p.table
	if p.spec.NullAware && p.spec.Residual != nil && t.numRows > 0 {
		if p.keyNull[r] {
			if p.allRows == nil {
				p.allRows = make([]int32, t.numRows)
				for i := range p.allRows {
					p.allRows[i] = int32(i)
				}
			}
			return p.allRows, nil
		}
		b = t.nullRows
	}
	if g := p.gids[r]; g >= 0 {
		a = t.rows[t.start[g]:t.start[g+1]]
	}
	return a, b
}

// nextPairs fills pIdx/bIdx with up to limit candidate pairs.
func (p *hjProbe) nextPairs(limit int) {
	p.pIdx, p.bIdx = p.pIdx[:0], p.bIdx[:0]
	n := len(p.gids)
	if p.table.unique && !p.spec.NullAware {
		// At most one match per probe row: no per-row list handling.
		rows := p.table.uniqueRow
		for ; p.row < n && len(p.pIdx) < limit; p.row++ {
			if g := p.gids[p.row]; g >= 0 {
				p.pIdx = append(p.pIdx, int32(p.row))
				p.bIdx = append(p.bIdx, rows[g])
			}
		}
		return
	}
	mark := p.spec.Type == JoinMark
	for p.row < n && len(p.pIdx) < limit {
		r := p.row
		// A row already marked TRUE needs no more candidates.
		if (p.spec.NullAware || p.gids[r] >= 0) && !(mark && p.mark[r] == markTrue) {
			a, b := p.lists(r)
			total := len(a) + len(b)
			for p.pos < total && len(p.pIdx) < limit {
				var src []int32
				if p.pos < len(a) {
					src = a[p.pos:]
				} else {
					src = b[p.pos-len(a):]
				}
				take := min(len(src), limit-len(p.pIdx))
				p.bIdx = append(p.bIdx, src[:take]...)
				for range take {
					p.pIdx = append(p.pIdx, int32(r))
				}
				p.pos += take
			}
			if p.pos < total {
				return
			}
		}
		p.row++
		p.pos = 0
	}
}

// pairBatch gathers the candidate pairs pIdx/bIdx into one batch of [all
// left columns..., all right columns...], the layout Residual and MarkCond
// are compiled against.
func (p *hjProbe) pairBatch(ctx context.Context) (arrow.RecordBatch, error) {
	mem := Allocator(ctx)
	nl := int(p.batch.NumCols())
	cols := make([]arrow.Array, 0, p.pairSchema.NumFields())
	for c := 0; c < nl; c++ {
		a, err := hashing.Take(mem, p.batch.Column(c), p.pIdx)
		if err != nil {
			batchReleaseAll(cols)
			return nil, fmt.Errorf("hash join: %w", err)
		}
		cols = append(cols, a)
	}
	for _, col := range p.table.cols {
		a, err := hashing.Take(mem, col, p.bIdx)
		if err != nil {
			batchReleaseAll(cols)
			return nil, fmt.Errorf("hash join: %w", err)
		}
		cols = append(cols, a)
	}
	return batchNewOwned(p.pairSchema, cols, int64(len(p.pIdx))), nil
}

// evalPairs evaluates a boolean expression over a pair batch.
func evalPairs(ctx context.Context, e Expr, rb arrow.RecordBatch, what string) (*array.Boolean, error) {
	res, err := e.Eval(ctx, rb)
	if err != nil {
		return nil, fmt.Errorf("hash join: %s %s: %w", what, e, err)
	}
	ba, ok := res.(*array.Boolean)
	if !ok || int64(ba.Len()) != rb.NumRows() {
		res.Release()
		return nil, fmt.Errorf("hash join: %s %s returned %s of %d rows for %d pairs", what, e, res.DataType(), res.Len(), rb.NumRows())
	}
	return ba, nil
}

// filterResidual keeps only pairs passing the residual.
func (p *hjProbe) filterResidual(ctx context.Context) error {
	rb, err := p.pairBatch(ctx)
	if err != nil {
		return err
	}
	defer rb.Release()
	ba, err := evalPairs(ctx, p.spec.Residual, rb, "residual")
	if err != nil {
		return err
	}
	defer ba.Release()
	k := 0
	for i := range p.pIdx {
		if ba.IsValid(i) && ba.Value(i) {
			p.pIdx[k], p.bIdx[k] = p.pIdx[i], p.bIdx[i]
			k++
		}
	}
	p.pIdx, p.bIdx = p.pIdx[:k], p.bIdx[:k]
	return nil
}

// markPairs folds the candidate pairs pIdx/bIdx into the marks of their
// probe rows: a pair failing the residual counts for nothing; one passing
// it counts TRUE, or under NullAware NULL when either key is NULL, or as
// MarkCond says.
func (p *hjProbe) markPairs(ctx context.Context) error {
	var resid, cond *array.Boolean
	if p.spec.Residual != nil || p.spec.MarkCond != nil {
		rb, err := p.pairBatch(ctx)
		if err != nil {
			return err
		}
		defer rb.Release()
		if p.spec.Residual != nil {
			if resid, err = evalPairs(ctx, p.spec.Residual, rb, "residual"); err != nil {
				return err
			}
			defer resid.Release()
		}
		if p.spec.MarkCond != nil {
			if cond, err = evalPairs(ctx, p.spec.MarkCond, rb, "mark condition"); err != nil {
				return err
			}
			defer cond.Release()
		}
	}
	if p.spec.NullAware && p.buildNull == nil {
		p.buildNull = make([]bool, p.table.numRows)
		for _, r := range p.table.nullRows {
			p.buildNull[r] = true
		}
	}
	for i, r := range p.pIdx {
		if resid != nil && !(resid.IsValid(i) && resid.Value(i)) {
			continue
		}
		v := markTrue
		switch {
		case p.spec.NullAware:
			if p.keyNull[r] || p.buildNull[p.bIdx[i]] {
				v = markNull
			}
		case cond != nil:
			if !cond.IsValid(i) {
				v = markNull
			} else if !cond.Value(i) {
				continue
			}
		}
		p.mark[r] = max(p.mark[r], v)
	}
	return nil
}

// markOutput emits the next chunk of a mark join's probe batch: the
// LeftOut columns (zero-copy slices) and the mark column.
func (p *hjProbe) markOutput(ctx context.Context, limit int) arrow.RecordBatch {
	n := int(p.batch.NumRows())
	lo, hi := p.tailPos, min(p.tailPos+limit, n)
	p.tailPos = hi
	cols := make([]arrow.Array, 0, len(p.leftOut)+1)
	for _, c := range p.leftOut {
		cols = append(cols, array.NewSlice(p.batch.Column(c), int64(lo), int64(hi)))
	}
	bb := array.NewBooleanBuilder(Allocator(ctx))
	bb.Reserve(hi - lo)
	for _, m := range p.mark[lo:hi] {
		if m == markNull {
			bb.AppendNull()
		} else {
			bb.UnsafeAppend(m == markTrue)
		}
	}
	cols = append(cols, bb.NewArray())
	bb.Release()
	return batchNewOwned(p.schema, cols, int64(hi-lo))
}

func (p *hjProbe) startTail() {
	p.inTail = true
	p.tail, p.tailPos = p.tail[:0], 0
	t := p.spec.Type
	switch t {
	case JoinMark:
		// Every row is emitted, by markOutput.
	case JoinLeft, JoinFull:
		for i, m := range p.matched {
			if !m {
				p.tail = append(p.tail, int32(i))
			}
		}
	case JoinSemi:
		for i, m := range p.matched {
			if m {
				p.tail = append(p.tail, int32(i))
			}
		}
	case JoinAnti:
		tb := p.table
		naaj := p.spec.NullAware && tb.numRows > 0
		if naaj && p.spec.Residual == nil && len(tb.nullRows) > 0 {
			return
		}
		for i, m := range p.matched {
			if m || (naaj && p.spec.Residual == nil && p.keyNull[i]) {
				continue
			}
			p.tail = append(p.tail, int32(i))
		}
	}
}

// output gathers LeftOut by lIdx and RightOut by rIdx (-1 = NULL); lIdx nil
// means all-NULL left columns.
func (p *hjProbe) output(ctx context.Context, lIdx, rIdx []int32, n int) (arrow.RecordBatch, error) {
	mem := Allocator(ctx)
	cols := make([]arrow.Array, 0, p.schema.NumFields())
	fail := func(err error) (arrow.RecordBatch, error) {
		for _, c := range cols {
			c.Release()
		}
		return nil, fmt.Errorf("hash join: %w", err)
	}
	for _, c := range p.leftOut {
		var a arrow.Array
		if lIdx == nil {
			a = array.MakeArrayOfNull(mem, p.left.Schema().Field(c).Type, n)
		} else {
			var err error
			if a, err = hashing.Take(mem, p.batch.Column(c), lIdx); err != nil {
				return fail(err)
			}
		}
		cols = append(cols, a)
	}
	for _, c := range p.rightOut {
		a, err := hashing.Take(mem, p.table.cols[c], rIdx)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, a)
	}
	rb := array.NewRecordBatch(p.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rb, nil
}

// next produces the next output batch; (nil, nil) at end.
func (p *hjProbe) next(ctx context.Context) (arrow.RecordBatch, error) {
	limit := BatchSize(ctx)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p.batch == nil {
			if p.leftDone {
				return p.nextBuildTail(ctx, limit)
			}
			b, err := p.left.Next(ctx)
			if err != nil {
				return nil, err
			}
			if b == nil {
				p.leftDone = true
				continue
			}
			if b.NumRows() == 0 {
				b.Release()
				continue
			}
			if err := p.startBatch(b); err != nil {
				return nil, err
			}
		}
		if !p.inTail {
			p.nextPairs(limit)
			done := p.row >= len(p.gids)
			var out arrow.RecordBatch
			if len(p.pIdx) > 0 && p.spec.Type == JoinMark {
				if err := p.markPairs(ctx); err != nil {
					return nil, err
				}
			} else if len(p.pIdx) > 0 {
				if p.spec.Residual != nil {
					if err := p.filterResidual(ctx); err != nil {
						return nil, err
					}
				}
				for _, r := range p.pIdx {
					p.matched[r] = true
				}
				if p.trackBuild {
					for _, r := range p.bIdx {
						p.buildMatched[r] = true
					}
				}
				if !p.noPairOutput() && len(p.pIdx) > 0 {
					var err error
					if out, err = p.output(ctx, p.pIdx, p.bIdx, len(p.pIdx)); err != nil {
						return nil, err
					}
				}
			}
			if done {
				p.startTail() // after this chunk's matches are recorded
			}
			if out != nil {
				return out, nil
			}
			continue
		}
		if p.spec.Type == JoinMark {
			if p.tailPos >= int(p.batch.NumRows()) {
				p.releaseBatch()
				continue
			}
			return p.markOutput(ctx, limit), nil
		}
		if p.tailPos >= len(p.tail) {
			p.releaseBatch()
			continue
		}
		chunk := p.tail[p.tailPos:min(p.tailPos+limit, len(p.tail))]
		p.tailPos += len(chunk)
		if p.spec.Type == JoinSemi || p.spec.Type == JoinAnti {
			if len(chunk) == int(p.batch.NumRows()) {
				// Every probe row qualifies (tail rows are ascending and
				// distinct): pass the columns through without copying.
				cols := make([]arrow.Array, len(p.leftOut))
				for i, c := range p.leftOut {
					cols[i] = p.batch.Column(c)
				}
				return array.NewRecordBatch(p.schema, cols, p.batch.NumRows()), nil
			}
			return p.output(ctx, chunk, nil, len(chunk))
		}
		p.bIdx = aggGrow(p.bIdx[:0], len(chunk))
		for i := range p.bIdx {
			p.bIdx[i] = -1
		}
		return p.output(ctx, chunk, p.bIdx, len(chunk))
	}
}

func (p *hjProbe) nextBuildTail(ctx context.Context, limit int) (arrow.RecordBatch, error) {
	if !p.trackBuild {
		return nil, nil
	}
	if !p.buildDone {
		p.buildDone = true
		if p.keyMatched != nil {
			p.markKeyRows()
		}
		want := p.spec.Type == JoinRightSemi // emit matched rows; others emit unmatched
		for r, m := range p.buildMatched {
			if m == want {
				p.buildTail = append(p.buildTail, int32(r))
			}
		}
	}
	if p.buildPos >= len(p.buildTail) {
		return nil, nil
	}
	chunk := p.buildTail[p.buildPos:min(p.buildPos+limit, len(p.buildTail))]
	p.buildPos += len(chunk)
	return p.output(ctx, nil, chunk, len(chunk))
}

// noPairOutput reports join types that emit nothing per matching pair.
func (p *hjProbe) noPairOutput() bool {
	switch p.spec.Type {
	case JoinSemi, JoinAnti, JoinRightSemi, JoinRightAnti, JoinMark:
		return true
	}
	return false
}

// markKeyRows turns keyMatched into buildMatched.
func (p *hjProbe) markKeyRows() {
	t := p.table
	for g, m := range p.keyMatched {
		if !m {
			continue
		}
		for _, r := range t.rows[t.start[g]:t.start[g+1]] {
			p.buildMatched[r] = true
		}
	}
}

// hashJoin implements NewHashJoin.
type hashJoin struct {
	left, right Operator
	probe       *hjProbe
	table       *JoinTable
}

var _ Operator = (*hashJoin)(nil)

// NewHashJoin joins left (probe) with right (build) on equal keys.
// Output: LeftOut columns then RightOut columns (semi/anti: LeftOut only);
// for left/full joins the right columns become nullable, for right/full the
// left columns. Output batches hold at most exec.BatchSize(ctx) rows.
func NewHashJoin(left, right Operator, spec HashJoinSpec) (Operator, error) {
	p, err := newHJProbe(left, right.Schema(), spec)
	if err != nil {
		return nil, err
	}
	return &hashJoin{left: left, right: right, probe: p}, nil
}

// Schema implements Operator.
func (j *hashJoin) Schema() *arrow.Schema { return j.probe.schema }

// Open implements Operator: it opens both inputs and builds the table from
// the whole right input.
func (j *hashJoin) Open(ctx context.Context) error {
	if err := j.right.Open(ctx); err != nil {
		return err
	}
	if err := j.left.Open(ctx); err != nil {
		return err
	}
	t, err := hjBuild(ctx, j.right, j.probe.spec.RightKeys)
	if err != nil {
		return err
	}
	if j.table != nil {
		j.table.Release()
	}
	j.table = t
	j.probe.reset(t)
	return nil
}

// Next implements Operator.
func (j *hashJoin) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if j.table == nil {
		return nil, fmt.Errorf("hash join: Next before Open")
	}
	return j.probe.next(ctx)
}

// Close implements Operator.
func (j *hashJoin) Close() error {
	j.probe.releaseBatch()
	if j.table != nil {
		j.table.Release()
		j.table = nil
	}
	// Inputs are closed also when Open failed or never ran: they may
	// hold resources from their construction (exchange batches).
	err := j.left.Close()
	if rerr := j.right.Close(); err == nil {
		err = rerr
	}
	return err
}

// hashJoinProbe implements NewHashJoinProbe.
type hashJoinProbe struct {
	probe *hjProbe
	table *JoinTable
}

var _ Operator = (*hashJoinProbe)(nil)

// NewHashJoinProbe probes a shared, prebuilt table (broadcast join) with
// left. Only join types that need no build-side match tracking are allowed:
// inner, left, semi, anti and mark. The caller keeps ownership of table and
// releases it after every probe is closed.
func NewHashJoinProbe(left Operator, table *JoinTable, spec HashJoinSpec) (Operator, error) {
	switch spec.Type {
	case JoinInner, JoinLeft, JoinSemi, JoinAnti, JoinMark:
	default:
		return nil, fmt.Errorf("hash join probe: %s join needs build-side match tracking; use NewHashJoin", spec.Type)
	}
	if table == nil {
		return nil, fmt.Errorf("hash join probe: nil table")
	}
	if !slices.Equal(table.keyCols, spec.RightKeys) {
		return nil, fmt.Errorf("hash join probe: table was built on right columns %v, spec says %v", table.keyCols, spec.RightKeys)
	}
	p, err := newHJProbe(left, table.schema, spec)
	if err != nil {
		return nil, err
	}
	return &hashJoinProbe{probe: p, table: table}, nil
}

// Schema implements Operator.
func (j *hashJoinProbe) Schema() *arrow.Schema { return j.probe.schema }

// Open implements Operator.
func (j *hashJoinProbe) Open(ctx context.Context) error {
	j.probe.reset(j.table)
	return j.probe.left.Open(ctx)
}

// Next implements Operator.
func (j *hashJoinProbe) Next(ctx context.Context) (arrow.RecordBatch, error) {
	return j.probe.next(ctx)
}

// Close implements Operator.
func (j *hashJoinProbe) Close() error {
	j.probe.releaseBatch()
	return j.probe.left.Close()
}
