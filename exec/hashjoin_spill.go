package exec

// Grace hash join: what a hash join does when its build side does not fit
// in its memory reservation.
//
// Both inputs are partitioned by a hash of the join keys into
// hjFanout spill files each (the build rows buffered so far, then the rest
// of the build input, then the whole probe input), and every partition
// pair is then joined on its own: a table from the build file, probed by
// the probe file. A partition whose build side still does not fit is
// partitioned again with the next level's hash, up to hjMaxLevel. A build
// side that hashing cannot split — every row with the same key, or the
// levels used up — is joined by a block nested loop: the build file is
// read in chunks that fit, each chunk's table probed by the whole probe
// file; what a probe row's outcome depends on across chunks (matched or
// not, the mark) is kept in one byte per probe row and emitted in a last
// pass. Only when not even one batch of the build side fits with its
// table does the join fail, with the pool's *mempool.LimitError.
//
// Rows with a NULL key never match, so they are routed by what the join
// type does with them: build rows are dropped, or kept apart and emitted
// unmatched (right, full and right anti joins); probe rows are dropped
// (inner, semi, right joins) or partitioned like the others, where they
// come out unmatched. Null-aware joins (NOT IN, IN marks) also depend on
// the whole build side: whether it is empty and whether it has a NULL key
// are counted while partitioning and given to every partition's probe
// (hjBuildFacts). With a residual, a build row with a NULL key is a
// candidate of every probe row, so it is copied into every partition, and
// a probe row with a NULL key has every build row as candidate, so those
// probe rows are joined in a block nested loop against all partitions.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec/hashing"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

const (
	hjFanoutBits = 4
	// hjFanout is the number of partitions of one level.
	hjFanout = 1 << hjFanoutBits
	// hjMaxLevel bounds recursive partitioning: 16^4 = 65536 partitions,
	// beyond which a build side that still does not fit is one the hash
	// cannot split.
	hjMaxLevel = 4
	// hjPendingBytes bounds what one partition buffers before writing.
	hjPendingBytes = 1 << 20
)

// hjPartOf is the partition of a key hash at a partitioning level. Each
// level remixes the hash with its own salt, independent of the exchange
// partitioning (hashing.PartitionOf) that routed every row of a task to
// the same place, of the table slots (the hash's top bits) and of the
// other levels.
func hjPartOf(h uint64, level int) int {
	h ^= uint64(level+1) * 0x9E3779B97F4A7C15
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return int(h >> (64 - hjFanoutBits))
}

// hjNullRoute is where a partitioner sends rows with a NULL key.
type hjNullRoute int8

const (
	hjNullsHashed  hjNullRoute = iota // by their hash, like the others
	hjNullsDropped                    // nowhere
	hjNullsApart                      // to a partition of their own
)

// hjProbeKept reports join types that emit probe rows without a match.
func hjProbeKept(t JoinType) bool {
	switch t {
	case JoinLeft, JoinFull, JoinAnti, JoinMark:
		return true
	}
	return false
}

// hjBuildKept reports join types that emit build rows without a match.
func hjBuildKept(t JoinType) bool {
	return t == JoinRight || t == JoinFull || t == JoinRightAnti
}

// hjNeedsAcc reports join types whose probe rows' outcome depends on
// every build row (all but those emitting only matched pairs or build
// rows).
func hjNeedsAcc(t JoinType) bool { return hjProbeKept(t) || t == JoinSemi }

// hjBuildNulls and hjProbeNulls route NULL-key rows (see the file
// comment).
func hjBuildNulls(spec HashJoinSpec) hjNullRoute {
	if spec.NullAware && spec.Residual != nil || !spec.NullAware && hjBuildKept(spec.Type) {
		return hjNullsApart
	}
	return hjNullsDropped
}

func hjProbeNulls(spec HashJoinSpec) hjNullRoute {
	switch {
	case spec.NullAware && spec.Residual != nil:
		return hjNullsApart
	case spec.NullAware || hjProbeKept(spec.Type):
		return hjNullsHashed
	}
	return hjNullsDropped
}

// hjSpillPart is one partition being written.
type hjSpillPart struct {
	w         *spill.Writer
	file      *spill.File
	pending   []arrow.RecordBatch
	pendRows  int
	pendBytes int64
	rows      int64         // rows written or pending
	memBytes  int64         // what the written rows took in memory
	written   []hjBatchInfo // per written batch
	// hash is the key hash of the partition's rows while oneHash says
	// they all have the same.
	hash             uint64
	hashSet, oneHash bool
}

// hjPartitioner splits batches into hjFanout partitions (plus one for
// NULL keys kept apart) and writes each to its own spill file, buffering
// small pieces so that files hold batches of about the batch size. Its
// buffers are held in res; when res is full every buffer is written out.
type hjPartitioner struct {
	what      string
	schema    *arrow.Schema
	keyCols   []int
	level     int
	nulls     hjNullRoute
	keep      []bool // nil: every partition; else rows of partition p go only if keep[p]
	res       *mempool.Reservation
	mgr       *spill.Manager
	mem       memory.Allocator
	flushRows int
	stats     *MemoryStats

	parts    [hjFanout + 1]hjSpillPart // [hjFanout]: NULL keys under hjNullsApart
	inRows   int64                     // rows added
	nullRows int64                     // rows added with a NULL key (counted unless hjNullsHashed)

	keys   []arrow.Array
	hashes []uint64
	idx    [hjFanout + 1][]int32
}

func newHJPartitioner(ctx context.Context, what string, schema *arrow.Schema, keyCols []int, level int, nulls hjNullRoute, keep []bool, res *mempool.Reservation, stats *MemoryStats) *hjPartitioner {
	return &hjPartitioner{what: what, schema: schema, keyCols: keyCols, level: level, nulls: nulls, keep: keep,
		res: res, mgr: spill.FromContext(ctx), mem: Allocator(ctx), flushRows: BatchSize(ctx), stats: stats}
}

// add partitions b (not released).
func (w *hjPartitioner) add(ctx context.Context, b arrow.RecordBatch) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	w.inRows += int64(n)
	w.keys = w.keys[:0]
	for _, c := range w.keyCols {
		w.keys = append(w.keys, b.Column(c))
	}
	if cap(w.hashes) < n {
		w.hashes = make([]uint64, n)
	}
	hashes := w.hashes[:n]
	if err := hashing.HashColumns(w.keys, hashes); err != nil {
		return fmt.Errorf("hash join: partition keys: %w", err)
	}
	var valids []hashing.Validity
	if w.nulls != hjNullsHashed {
		for _, k := range w.keys {
			if v, ok := hashing.ValidityOf(k); ok {
				valids = append(valids, v)
			}
		}
	}
	for p := range w.idx {
		w.idx[p] = w.idx[p][:0]
	}
rows:
	for r, h := range hashes {
		for _, v := range valids {
			if v.Valid(r) {
				continue
			}
			w.nullRows++
			if w.nulls == hjNullsApart {
				w.idx[hjFanout] = append(w.idx[hjFanout], int32(r))
			}
			continue rows
		}
		p := hjPartOf(h, w.level)
		if w.keep != nil && !w.keep[p] {
			continue
		}
		w.idx[p] = append(w.idx[p], int32(r))
		part := &w.parts[p]
		if !part.hashSet {
			part.hash, part.hashSet, part.oneHash = h, true, true
		} else if part.oneHash && h != part.hash {
			part.oneHash = false
		}
	}
	for p := range w.idx {
		rows := w.idx[p]
		if len(rows) == 0 {
			continue
		}
		var piece arrow.RecordBatch
		if len(rows) == n {
			b.Retain()
			piece = b
		} else {
			var err error
			if piece, err = TakeBatch(ctx, b, rows); err != nil {
				return fmt.Errorf("hash join: partition: %w", err)
			}
		}
		if err := w.push(p, piece); err != nil {
			return err
		}
	}
	return nil
}

// push buffers piece (taking it over) in partition p, writing the
// partition out once it holds a batch's worth. When res is full, every
// partition is written out, and piece too if it still does not fit.
func (w *hjPartitioner) push(p int, piece arrow.RecordBatch) error {
	part := &w.parts[p]
	bytes := spill.BatchBytes(piece)
	part.rows += piece.NumRows()
	if w.res.TryGrow(bytes) != nil {
		if err := w.flushAll(); err != nil {
			piece.Release()
			return err
		}
		if w.res.TryGrow(bytes) != nil {
			defer piece.Release()
			return w.write(p, piece)
		}
	}
	part.pending = append(part.pending, piece)
	part.pendRows += int(piece.NumRows())
	part.pendBytes += bytes
	if part.pendRows >= w.flushRows || part.pendBytes >= hjPendingBytes {
		return w.flush(p)
	}
	return nil
}

func (w *hjPartitioner) flushAll() error {
	for p := range w.parts {
		if err := w.flush(p); err != nil {
			return err
		}
	}
	return nil
}

// flush writes partition p's buffered pieces as one batch.
func (w *hjPartitioner) flush(p int) error {
	part := &w.parts[p]
	if len(part.pending) == 0 {
		return nil
	}
	out, err := ConcatBatches(w.mem, w.schema, part.pending)
	batchReleaseAll(part.pending)
	part.pending = part.pending[:0]
	w.res.Shrink(part.pendBytes)
	part.pendRows, part.pendBytes = 0, 0
	if err != nil {
		return fmt.Errorf("hash join: spill: %w", err)
	}
	defer out.Release()
	return w.write(p, out)
}

// write appends b to partition p's file.
func (w *hjPartitioner) write(p int, b arrow.RecordBatch) error {
	part := &w.parts[p]
	if part.w == nil {
		var err error
		if part.w, err = w.mgr.Create(w.what, w.schema, w.mem); err != nil {
			return fmt.Errorf("hash join: %w", err)
		}
	}
	// The file's schema, whatever the pieces' field metadata.
	rb := array.NewRecordBatch(w.schema, b.Columns(), b.NumRows())
	defer rb.Release()
	if err := part.w.Write(rb); err != nil {
		return fmt.Errorf("hash join: %w", err)
	}
	info := hjBatchInfo{rows: int(rb.NumRows()), cols: make([]int64, rb.NumCols())}
	for c, col := range rb.Columns() {
		info.cols[c] = hjReadBytes(col.Data())
		info.bytes += info.cols[c]
	}
	part.memBytes += info.bytes
	part.written = append(part.written, info)
	return nil
}

// finish writes what is buffered and closes the files.
func (w *hjPartitioner) finish() error {
	if err := w.flushAll(); err != nil {
		return err
	}
	for p := range w.parts {
		part := &w.parts[p]
		if part.w == nil {
			continue
		}
		f, err := part.w.Finish()
		part.w = nil
		if err != nil {
			return fmt.Errorf("hash join: %w", err)
		}
		part.file = f
		w.stats.SpilledBytes += f.Size()
		w.stats.SpillFiles++
	}
	return nil
}

// abort drops everything, files included (those taken by jobs are nil).
func (w *hjPartitioner) abort() {
	for p := range w.parts {
		part := &w.parts[p]
		batchReleaseAll(part.pending)
		part.pending = nil
		w.res.Shrink(part.pendBytes)
		part.pendBytes = 0
		if part.w != nil {
			part.w.Abort()
			part.w = nil
		}
		part.file.Remove()
		part.file = nil
	}
}

// hjFileSource reads spill files in order as an Operator, in batches of at
// most the batch size (all of a file's batches when raw).
type hjFileSource struct {
	schema *arrow.Schema
	files  []*spill.File
	raw    bool
	next   int
	rd     *spill.Reader
	cur    arrow.RecordBatch // being cut into batches
	off    int64
}

var _ Operator = (*hjFileSource)(nil)

func (s *hjFileSource) Schema() *arrow.Schema      { return s.schema }
func (s *hjFileSource) Open(context.Context) error { return nil }

func (s *hjFileSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if s.cur != nil {
			n, lim := s.cur.NumRows(), int64(BatchSize(ctx))
			if s.off == 0 && n <= lim {
				b := s.cur
				s.cur = nil
				return b, nil
			}
			if s.off < n {
				b := s.cur.NewSlice(s.off, min(n, s.off+lim))
				s.off += b.NumRows()
				return b, nil
			}
			s.cur.Release()
			s.cur = nil
		}
		if s.rd == nil {
			if s.next >= len(s.files) {
				return nil, nil
			}
			rd, err := s.files[s.next].Open(Allocator(ctx))
			if err != nil {
				return nil, fmt.Errorf("hash join: %w", err)
			}
			s.rd = rd
			s.next++
		}
		b, err := s.rd.Next()
		if err != nil {
			return nil, fmt.Errorf("hash join: %w", err)
		}
		if b == nil {
			s.rd.Close()
			s.rd = nil
			continue
		}
		if s.raw {
			return b, nil
		}
		s.cur, s.off = b, 0
	}
}

func (s *hjFileSource) Close() error {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.rd != nil {
		s.rd.Close()
		s.rd = nil
	}
	return nil
}

// hjBatchInfo is the size of a batch written to a spill file: what it
// takes in memory once read back, known before reading it.
type hjBatchInfo struct {
	rows  int
	bytes int64
	cols  []int64 // bytes per column
}

// hjReadBytes bounds what an array written to a spill file takes when
// read back: spill.DataBytes with every buffer rounded up to 64 bytes (the
// IPC reader pads, and allocates validity bitmaps in 64-byte steps).
func hjReadBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += (int64(b.Len()) + 63) &^ 63
		}
	}
	for _, c := range d.Children() {
		n += hjReadBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		n += hjReadBytes(d.Dictionary())
	}
	return n
}

// hjBuildFile is a build-side spill file and what its batches hold.
type hjBuildFile struct {
	file    *spill.File
	rows    int64
	bytes   int64         // what the rows take in memory
	batches []hjBatchInfo // per batch, in order
}

// take hands the partition's file over as an hjBuildFile (nil: none).
func (p *hjSpillPart) take() *hjBuildFile {
	if p.file == nil {
		return nil
	}
	f := &hjBuildFile{file: p.file, rows: p.rows, bytes: p.memBytes, batches: p.written}
	p.file = nil
	return f
}

// hjJob is a partition pair to join: the build rows of its own files and
// of shared ones (which other jobs or the grace join own) against the
// probe rows of its probe files.
type hjJob struct {
	own, shared []*hjBuildFile
	probe       []*spill.File
	probeRows   int64
	level       int  // the partitioning level that made it
	splittable  bool // partitioning again can make its own build rows fewer
}

func (j *hjJob) buildFiles() []*hjBuildFile { return append(slices.Clip(j.own), j.shared...) }

func (j *hjJob) buildRows() (n int64) {
	for _, f := range j.buildFiles() {
		n += f.rows
	}
	return n
}

func (j *hjJob) ownRows() (n int64) {
	for _, f := range j.own {
		n += f.rows
	}
	return n
}

func (j *hjJob) buildBytes() (n int64) {
	for _, f := range j.buildFiles() {
		n += f.bytes
	}
	return n
}

func (j *hjJob) removeBuild() {
	for _, f := range j.own {
		f.file.Remove()
	}
	j.own, j.shared = nil, nil
}

func (j *hjJob) release() {
	j.removeBuild()
	for _, f := range j.probe {
		f.Remove()
	}
	j.probe = nil
}

func hjFiles(f *spill.File) []*spill.File {
	if f == nil {
		return nil
	}
	return []*spill.File{f}
}

// hjGrace runs a hash join whose build side spilled.
type hjGrace struct {
	spec        HashJoinSpec
	leftSchema  *arrow.Schema
	rightSchema *arrow.Schema
	res         *mempool.Reservation
	stats       *MemoryStats
	trace       *hjSpillTrace
	perRow      int64
	facts       hjBuildFacts

	jobs []*hjJob // a stack
	// nullBuild holds the NULL-key build rows of a null-aware join with a
	// residual: candidates of every probe row, read by every job.
	nullBuild *hjBuildFile
	// The pass running: a probe of one table, and the job to release when
	// it ends (nil within a block nested loop).
	pass     *hjProbe
	passSrc  *hjFileSource
	passJob  *hjJob
	bnl      *hjBNL
	building *hjPartitioner // being written (released by close on failure)
	probing  *hjPartitioner
}

// hjSpillTrace counts what a grace join did (for tests).
type hjSpillTrace struct {
	jobs     int // partition pairs started
	maxLevel int // deepest partitioning level
	loops    int // jobs joined by a block nested loop
	chunks   int // their build chunks
}

func newHJGrace(left, right *arrow.Schema, spec HashJoinSpec, res *mempool.Reservation, stats *MemoryStats, trace *hjSpillTrace) *hjGrace {
	return &hjGrace{spec: spec, leftSchema: left, rightSchema: right, res: res, stats: stats, trace: trace, perRow: hjProbeBytesPerBuildRow(spec)}
}

// partition writes both inputs to partition files: first the build
// batches held in res and over (a batch read but not held), then the rest
// of right, then all of left.
func (g *hjGrace) partition(ctx context.Context, left, right Operator, held []arrow.RecordBatch, over arrow.RecordBatch) error {
	bp := newHJPartitioner(ctx, "hashjoin-build", g.rightSchema, g.spec.RightKeys, 0, hjBuildNulls(g.spec), nil, g.res, g.stats)
	g.building = bp
	var err error
	for i, b := range held {
		if err == nil {
			err = bp.add(ctx, b)
		}
		g.res.Shrink(spill.BatchBytes(b))
		b.Release()
		held[i] = nil
	}
	if over != nil {
		if err == nil {
			err = bp.add(ctx, over)
		}
		over.Release()
	}
	if err == nil {
		err = g.drainInto(ctx, right, bp)
	}
	if err == nil {
		err = bp.finish()
	}
	if err != nil {
		return err
	}
	g.facts = hjBuildFacts{nonEmpty: bp.inRows > 0, nullKey: bp.nullRows > 0}
	pp := newHJPartitioner(ctx, "hashjoin-probe", g.leftSchema, g.spec.LeftKeys, 0, hjProbeNulls(g.spec), g.probeKeep(bp), g.res, g.stats)
	g.probing = pp
	if err := g.drainInto(ctx, left, pp); err != nil {
		return err
	}
	if err := pp.finish(); err != nil {
		return err
	}
	if g.spec.NullAware {
		g.nullBuild = bp.parts[hjFanout].take()
	}
	var shared []*hjBuildFile
	if g.nullBuild != nil {
		shared = []*hjBuildFile{g.nullBuild}
	}
	// NULL-key probe rows of a null-aware join with a residual have every
	// build row as a candidate: a job against all build files, run first
	// (pushed last), before the partitions' jobs remove their files.
	var all *hjJob
	if part := &pp.parts[hjFanout]; part.file != nil {
		all = &hjJob{probe: hjFiles(part.file), probeRows: part.rows, shared: slices.Clone(shared)}
		part.file = nil
		for p := range hjFanout {
			if f := &bp.parts[p]; f.file != nil {
				all.shared = append(all.shared, &hjBuildFile{file: f.file, rows: f.rows, bytes: f.memBytes, batches: f.written})
			}
		}
	}
	// NULL-key build rows kept apart by other joins are emitted unmatched
	// on their own.
	if f := bp.parts[hjFanout].take(); f != nil {
		g.jobs = append(g.jobs, &hjJob{own: []*hjBuildFile{f}})
	}
	g.pushJobs(bp, pp, 0, -1, shared)
	if all != nil {
		g.jobs = append(g.jobs, all)
	}
	g.building, g.probing = nil, nil
	return nil
}

// probeKeep says which probe partitions can produce output: with no build
// row, only those of joins that emit unmatched probe rows.
func (g *hjGrace) probeKeep(bp *hjPartitioner) []bool {
	if hjProbeKept(g.spec.Type) {
		return nil
	}
	keep := make([]bool, hjFanout)
	for p := range keep {
		keep[p] = bp.parts[p].rows > 0
	}
	return keep
}

// pushJobs makes a job of each partition pair, each also reading shared.
// parentRows (-1: none) is the build rows of the job they split: a
// partition that got all of them did not split.
func (g *hjGrace) pushJobs(bp, pp *hjPartitioner, level int, parentRows int64, shared []*hjBuildFile) {
	for p := hjFanout - 1; p >= 0; p-- {
		b, pr := &bp.parts[p], &pp.parts[p]
		if b.file == nil && pr.file == nil {
			continue
		}
		job := &hjJob{probe: hjFiles(pr.file), probeRows: pr.rows, shared: shared, level: level,
			splittable: !b.oneHash && b.rows != parentRows}
		pr.file = nil
		if f := b.take(); f != nil {
			job.own = []*hjBuildFile{f}
		}
		g.jobs = append(g.jobs, job)
	}
}

func (g *hjGrace) drainInto(ctx context.Context, op Operator, w *hjPartitioner) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := op.Next(ctx)
		if err != nil || b == nil {
			return err
		}
		err = w.add(ctx, b)
		b.Release()
		if err != nil {
			return err
		}
	}
}

// next returns the next output batch, running job after job.
func (g *hjGrace) next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if g.pass != nil {
			b, err := g.pass.next(ctx)
			if err != nil || b != nil {
				return b, err
			}
			g.endPass()
			continue
		}
		if g.bnl != nil {
			more, err := g.bnl.nextPass(ctx, g)
			if err != nil {
				return nil, err
			}
			if !more {
				g.bnl.close(g)
				g.bnl = nil
			}
			continue
		}
		if len(g.jobs) == 0 {
			g.close() // remove the files shared by jobs
			return nil, nil
		}
		job := g.jobs[len(g.jobs)-1]
		g.jobs = g.jobs[:len(g.jobs)-1]
		if err := g.startJob(ctx, job); err != nil {
			job.release()
			return nil, err
		}
	}
}

// startJob joins a partition pair in memory if its build side fits, else
// partitions it again or starts a block nested loop.
func (g *hjGrace) startJob(ctx context.Context, job *hjJob) error {
	g.trace.jobs++
	if (job.buildRows() == 0 && !hjProbeKept(g.spec.Type)) || (job.probeRows == 0 && !hjBuildKept(g.spec.Type)) {
		job.release()
		return nil
	}
	t, err := g.loadTable(ctx, job)
	if err != nil {
		return err
	}
	if t != nil {
		job.removeBuild()
		if err := g.startPass(t, job.probe, nil, false); err != nil {
			return err
		}
		g.passJob = job
		return nil
	}
	if job.splittable && job.level+1 < hjMaxLevel {
		return g.split(ctx, job)
	}
	return g.startBNL(job)
}

// loadTable builds the table of a job's whole build side, or returns nil
// when it does not fit.
func (g *hjGrace) loadTable(ctx context.Context, job *hjJob) (*JoinTable, error) {
	if g.res.TryGrow(job.buildBytes()) != nil {
		return nil, nil
	}
	rd := g.buildReader(job)
	defer rd.close()
	var batches []arrow.RecordBatch
	drop := func() {
		for _, b := range batches {
			g.res.Shrink(spill.BatchBytes(b))
			b.Release()
		}
	}
	left := job.buildBytes() // reserved for the batches not read yet
	for _, info := range rd.info {
		if err := ctx.Err(); err != nil {
			drop()
			g.res.Shrink(left)
			return nil, err
		}
		left -= info.bytes
		b, err := rd.read(ctx, g.res)
		if err != nil {
			drop()
			g.res.Shrink(left)
			return nil, err
		}
		batches = append(batches, b)
	}
	t, err := hjBuild(ctx, g.rightSchema, batches, g.spec.RightKeys, g.res, g.perRow, 0)
	var le *mempool.LimitError
	if errors.As(err, &le) {
		drop()
		return nil, nil
	}
	return t, err
}

// hjBuildReader reads a job's build batches, whose sizes are known before
// they are read.
type hjBuildReader struct {
	src  *hjFileSource
	info []hjBatchInfo
	next int
}

func (g *hjGrace) buildReader(job *hjJob) *hjBuildReader {
	rd := &hjBuildReader{src: &hjFileSource{schema: g.rightSchema, raw: true}}
	for _, f := range job.buildFiles() {
		rd.src.files = append(rd.src.files, f.file)
		rd.info = append(rd.info, f.batches...)
	}
	return rd
}

// peek is the size of the next batch; false at the end.
func (r *hjBuildReader) peek() (hjBatchInfo, bool) {
	if r.next >= len(r.info) {
		return hjBatchInfo{}, false
	}
	return r.info[r.next], true
}

// read reads the next batch, whose peeked size the caller holds in res;
// res is set to its actual size.
func (r *hjBuildReader) read(ctx context.Context, res *mempool.Reservation) (arrow.RecordBatch, error) {
	want := r.info[r.next].bytes
	r.next++
	b, err := r.src.Next(ctx)
	if err == nil && b == nil {
		err = errors.New("hash join: spill file ended early")
	}
	if err != nil {
		res.Shrink(want)
		return nil, err
	}
	if got := spill.BatchBytes(b); got > want {
		res.Grow(got - want) // a decoder's rounding, not worth failing for
	} else {
		res.Shrink(want - got)
	}
	return b, nil
}

func (r *hjBuildReader) close() { r.src.Close() }

// startPass starts probing t with the probe files (acc and finish: see
// hjProbe).
func (g *hjGrace) startPass(t *JoinTable, probe []*spill.File, acc []int8, finish bool) error {
	src := &hjFileSource{schema: g.leftSchema, files: probe}
	p, err := newHJProbe(src, g.rightSchema, g.spec)
	if err != nil {
		t.Release()
		g.res.Shrink(t.memBytes)
		return err
	}
	p.reset(t)
	p.facts = &g.facts
	p.acc, p.finish = acc, finish
	g.pass, g.passSrc = p, src
	return nil
}

func (g *hjGrace) endPass() {
	if g.pass == nil {
		return
	}
	g.pass.releaseBatch()
	g.passSrc.Close()
	t := g.pass.table
	t.Release()
	g.res.Shrink(t.memBytes)
	g.pass, g.passSrc = nil, nil
	if g.passJob != nil {
		g.passJob.release()
		g.passJob = nil
	}
}

// split partitions a job's both sides with the next level's hash.
func (g *hjGrace) split(ctx context.Context, job *hjJob) error {
	level := job.level + 1
	g.trace.maxLevel = max(g.trace.maxLevel, level)
	bp := newHJPartitioner(ctx, "hashjoin-build", g.rightSchema, g.spec.RightKeys, level, hjBuildNulls(g.spec), nil, g.res, g.stats)
	g.building = bp
	var own []*spill.File
	for _, f := range job.own {
		own = append(own, f.file)
	}
	if err := g.copyInto(ctx, own, bp); err != nil {
		return err
	}
	if err := bp.finish(); err != nil {
		return err
	}
	shared, parentRows := job.shared, job.ownRows()
	job.removeBuild()
	pp := newHJPartitioner(ctx, "hashjoin-probe", g.leftSchema, g.spec.LeftKeys, level, hjProbeNulls(g.spec), g.probeKeep(bp), g.res, g.stats)
	g.probing = pp
	if err := g.copyInto(ctx, job.probe, pp); err != nil {
		return err
	}
	if err := pp.finish(); err != nil {
		return err
	}
	job.release()
	g.pushJobs(bp, pp, level, parentRows, shared)
	g.building, g.probing = nil, nil
	return nil
}

func (g *hjGrace) copyInto(ctx context.Context, files []*spill.File, w *hjPartitioner) error {
	src := &hjFileSource{schema: w.schema, files: files, raw: true}
	defer src.Close()
	return g.drainInto(ctx, src, w)
}

// hjBNL is a block nested loop over one job: each chunk of its build side
// that fits is a table probed by all of its probe side. A build batch too
// large for a chunk of its own is held and cut into copies that fit.
type hjBNL struct {
	job      *hjJob
	rd       *hjBuildReader
	cur      arrow.RecordBatch // being cut, held in res
	off      int64             // its rows before off are joined
	acc      []int8            // per probe row, see hjProbe.acc
	done     bool              // the build side is read
	finished bool              // the pass emitting acc's probe rows ran
}

func (g *hjGrace) startBNL(job *hjJob) error {
	b := &hjBNL{job: job, rd: g.buildReader(job)}
	if hjNeedsAcc(g.spec.Type) && job.probeRows > 0 {
		if err := g.res.TryGrow(job.probeRows); err != nil {
			b.rd.close()
			return fmt.Errorf("hash join: the outcomes of %d probe rows of a build side that cannot be split: %w", job.probeRows, err)
		}
		b.acc = make([]int8, job.probeRows)
	}
	g.bnl = b
	g.trace.loops++
	return nil
}

// nextPass starts the loop's next pass; false when the job is done.
func (b *hjBNL) nextPass(ctx context.Context, g *hjGrace) (bool, error) {
	if !b.done {
		t, err := b.nextTable(ctx, g)
		if err != nil {
			return false, err
		}
		if t != nil {
			g.trace.chunks++
			return true, g.startPass(t, b.job.probe, b.acc, false)
		}
		b.done = true
	}
	if b.acc != nil && !b.finished {
		b.finished = true
		t, err := hjBuild(ctx, g.rightSchema, nil, g.spec.RightKeys, g.res, g.perRow, 0)
		if err != nil {
			return false, err
		}
		return true, g.startPass(t, b.job.probe, b.acc, true)
	}
	return false, nil
}

// nextTable builds the table of the next chunk; nil at the end.
func (b *hjBNL) nextTable(ctx context.Context, g *hjGrace) (*JoinTable, error) {
	if b.cur != nil {
		return b.piece(ctx, g)
	}
	batches, prepaid, err := b.chunk(ctx, g)
	if err != nil {
		return nil, err
	}
	if b.cur != nil {
		return b.piece(ctx, g) // a batch too large for a chunk
	}
	if len(batches) == 0 {
		return nil, nil
	}
	t, err := hjBuild(ctx, g.rightSchema, batches, g.spec.RightKeys, g.res, g.perRow, prepaid)
	var le *mempool.LimitError
	if errors.As(err, &le) {
		for _, x := range batches {
			g.res.Shrink(spill.BatchBytes(x))
			x.Release()
		}
		g.res.Shrink(prepaid)
	}
	if err != nil {
		return nil, fmt.Errorf("hash join: a chunk of a build side that cannot be split: %w", err)
	}
	return t, nil
}

// chunk reads the build batches that fit with their table, or when not
// even one does, holds it as b.cur for piece. The batches are held in res,
// and prepaid more bytes for building their table.
func (b *hjBNL) chunk(ctx context.Context, g *hjGrace) (batches []arrow.RecordBatch, prepaid int64, err error) {
	var size hjBuildSize
	intKey := g.intKey()
	fail := func(err error) ([]arrow.RecordBatch, int64, error) {
		for _, x := range batches {
			g.res.Shrink(spill.BatchBytes(x))
			x.Release()
		}
		g.res.Shrink(prepaid)
		return nil, 0, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		info, ok := b.rd.peek()
		if !ok {
			break
		}
		next := size.with(info.rows, info.cols)
		nextExtra := next.extra(g.spec.RightKeys, intKey, next.rows, g.perRow)
		if err := g.res.TryGrow(info.bytes + nextExtra - prepaid); err != nil {
			if len(batches) > 0 {
				break
			}
			if err := g.res.TryGrow(info.bytes); err != nil {
				return fail(fmt.Errorf("hash join: not even one build batch fits in memory: %w", err))
			}
			nb, err := b.rd.read(ctx, g.res)
			if err != nil {
				return fail(err)
			}
			b.cur, b.off = nb, 0
			return nil, 0, nil
		}
		nb, err := b.rd.read(ctx, g.res)
		if err != nil {
			g.res.Shrink(nextExtra - prepaid)
			return fail(err)
		}
		batches = append(batches, nb)
		size, prepaid = next, nextExtra
	}
	return batches, prepaid, nil
}

// piece builds the table of the largest run of b.cur's rows (a copy)
// that fits.
func (b *hjBNL) piece(ctx context.Context, g *hjGrace) (*JoinTable, error) {
	cur := b.cur
	n := cur.NumRows()
	var err error
	for m := n - b.off; m > 0; m /= 2 {
		bytes := spill.BatchBytes(cur)*m/n + 64*cur.NumCols()
		if err = g.res.TryGrow(bytes); err != nil {
			continue
		}
		idx := make([]int32, m)
		for i := range idx {
			idx[i] = int32(b.off) + int32(i)
		}
		p, terr := TakeBatch(ctx, cur, idx)
		if terr != nil {
			g.res.Shrink(bytes)
			return nil, fmt.Errorf("hash join: %w", terr)
		}
		if got := spill.BatchBytes(p); got > bytes {
			g.res.Grow(got - bytes)
		} else {
			g.res.Shrink(bytes - got)
		}
		var t *JoinTable
		if t, err = hjBuild(ctx, g.rightSchema, []arrow.RecordBatch{p}, g.spec.RightKeys, g.res, g.perRow, 0); err != nil {
			var le *mempool.LimitError
			if !errors.As(err, &le) {
				return nil, err
			}
			g.res.Shrink(spill.BatchBytes(p))
			p.Release()
			continue
		}
		b.off += m
		if b.off == n {
			g.res.Shrink(spill.BatchBytes(cur))
			cur.Release()
			b.cur = nil
		}
		return t, nil
	}
	return nil, fmt.Errorf("hash join: not even one build row fits in memory with its hash table: %w", err)
}

func (g *hjGrace) intKey() bool {
	return len(g.spec.RightKeys) == 1 && hashing.IsIntKey(g.rightSchema.Field(g.spec.RightKeys[0]).Type)
}

func (b *hjBNL) close(g *hjGrace) {
	if b.cur != nil {
		g.res.Shrink(spill.BatchBytes(b.cur))
		b.cur.Release()
		b.cur = nil
	}
	b.rd.close()
	if b.acc != nil {
		g.res.Shrink(int64(len(b.acc)))
		b.acc = nil
	}
	b.job.release()
}

// close frees everything the grace join holds.
func (g *hjGrace) close() {
	g.endPass()
	if g.bnl != nil {
		g.bnl.close(g)
		g.bnl = nil
	}
	for _, j := range g.jobs {
		j.release()
	}
	g.jobs = nil
	if g.nullBuild != nil {
		g.nullBuild.file.Remove()
		g.nullBuild = nil
	}
	for _, w := range []*hjPartitioner{g.building, g.probing} {
		if w != nil {
			w.abort()
		}
	}
	g.building, g.probing = nil, nil
}

// accumulate folds the outcomes of the probe batch's rows into acc.
func (p *hjProbe) accumulate() {
	n := int(p.batch.NumRows())
	st := p.acc[p.accBase : p.accBase+n]
	p.accBase += n
	if p.spec.Type == JoinMark {
		for i, m := range p.mark[:n] {
			st[i] = max(st[i], m)
		}
		p.tailPos = n // nothing to emit now
		return
	}
	for i, m := range p.matched {
		if m {
			st[i] = 1
		}
	}
}

// finishBatch takes the probe batch's outcomes from acc and starts
// emitting its rows as the join type says.
func (p *hjProbe) finishBatch(n int) error {
	st := p.acc[p.accBase : p.accBase+n]
	p.accBase += n
	if p.spec.NullAware {
		p.setKeyNull(n)
	}
	if p.spec.Type == JoinMark {
		p.mark = aggGrow(p.mark[:0], n)
		copy(p.mark, st)
	} else {
		for i, v := range st {
			p.matched[i] = v != 0
		}
	}
	p.row, p.pos = n, 0
	p.startTail()
	return nil
}
