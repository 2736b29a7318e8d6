package connectors

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flint-engine/flint/connectors/fs"
)

// parquetFile is what Open learns from one footer.
type parquetFile struct {
	info fs.FileInfo
	md   *metadata.FileMetaData
	// leaves[i] are the parquet leaf column indices of top-level field i.
	leaves [][]int
	// fileTypes[i] is the Arrow type pqarrow decodes field i to.
	fileTypes []arrow.DataType
	// schema is the file's own schema in engine types.
	schema *arrow.Schema
	// toFile[c] is the field of this file holding column c of the
	// source's merged schema, or -1 when the file lacks it (all NULL).
	toFile []int
}

type parquetSource struct {
	base
	files []*parquetFile // as listed by Open
	flat  bool           // no nested columns: row-range splits are allowed
	// colIndex finds a merged column by name.
	colIndex map[string]int
	// origin[c] is the first file that has column c, for error messages.
	origin []string

	mu sync.RWMutex
	// byPath caches footers: those read by Open, and those of files
	// that appeared later (Splits lists the location per query).
	byPath map[string]*parquetFile
}

var _ Source = (*parquetSource)(nil)

func openParquet(ctx context.Context, b base) (*parquetSource, error) {
	s := &parquetSource{base: b, byPath: map[string]*parquetFile{}}
	s.files = make([]*parquetFile, len(b.files))
	err := parallel(ctx, len(b.files), func(i int) error {
		var err error
		s.files[i], err = readParquetFooter(ctx, b.fsys, b.files[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.mergeSchemas(); err != nil {
		return nil, err
	}
	s.fileRows = make([]int64, len(s.files))
	for i, pf := range s.files {
		s.byPath[pf.info.Path] = pf
		s.rowCount += pf.md.NumRows
		s.fileRows[i] = pf.md.NumRows
	}
	s.flat = true
	for _, f := range s.schema.Fields() {
		s.flat = s.flat && !arrow.IsNested(f.Type.ID())
	}
	return s, nil
}

// mergeSchemas unites the files' schemas by column name: columns keep the
// order of the first file that has them, a column missing from some file
// is NULL there, integer columns of different widths widen to the widest;
// any other difference in type is an error naming both files.
func (s *parquetSource) mergeSchemas() error {
	var fields []arrow.Field
	s.colIndex = map[string]int{}
	for fi, pf := range s.files {
		seen := make([]bool, len(fields))
		for _, g := range pf.schema.Fields() {
			c, ok := s.colIndex[g.Name]
			if !ok {
				s.colIndex[g.Name] = len(fields)
				g.Nullable = g.Nullable || fi > 0 // earlier files lack it
				fields = append(fields, g)
				s.origin = append(s.origin, pf.info.Path)
				seen = append(seen, true)
				continue
			}
			if seen[c] {
				return fmt.Errorf("parquet %s: column name %q appears twice", pf.info.Path, g.Name)
			}
			seen[c] = true
			t, ok := mergeTypes(fields[c].Type, g.Type)
			if !ok {
				return fmt.Errorf("parquet %s: column %q has type %s, expected %s (as in %s)", pf.info.Path, g.Name, g.Type, fields[c].Type, s.origin[c])
			}
			fields[c].Type = t
			fields[c].Nullable = fields[c].Nullable || g.Nullable
		}
		for c := range seen {
			if !seen[c] {
				fields[c].Nullable = true
			}
		}
	}
	s.schema = arrow.NewSchema(fields, nil)
	for _, pf := range s.files {
		s.mapColumns(pf)
	}
	return nil
}

// mergeTypes returns the type that holds values of both a and b: a when
// they are equal, the wider of two signed integer types; ok is false for
// anything else.
func mergeTypes(a, b arrow.DataType) (arrow.DataType, bool) {
	if arrow.TypeEqual(a, b) {
		return a, true
	}
	width := func(t arrow.DataType) int {
		switch t.ID() {
		case arrow.INT8:
			return 1
		case arrow.INT16:
			return 2
		case arrow.INT32:
			return 3
		case arrow.INT64:
			return 4
		}
		return 0
	}
	wa, wb := width(a), width(b)
	if wa == 0 || wb == 0 {
		return nil, false
	}
	if wa >= wb {
		return a, true
	}
	return b, true
}

// mapColumns fills pf.toFile for the merged schema.
func (s *parquetSource) mapColumns(pf *parquetFile) {
	pf.toFile = make([]int, s.schema.NumFields())
	for c := range pf.toFile {
		pf.toFile[c] = -1
	}
	for i, f := range pf.schema.Fields() {
		if c, ok := s.colIndex[f.Name]; ok {
			pf.toFile[c] = i
		}
	}
}

// accept checks a file that was not among those Open merged against the
// merged schema (its columns must fit the merged types; columns the table
// does not have are ignored) and maps its columns.
func (s *parquetSource) accept(pf *parquetFile) error {
	seen := map[string]bool{}
	for _, g := range pf.schema.Fields() {
		if seen[g.Name] {
			return fmt.Errorf("parquet %s: column name %q appears twice", pf.info.Path, g.Name)
		}
		seen[g.Name] = true
		c, ok := s.colIndex[g.Name]
		if !ok {
			continue
		}
		want := s.schema.Field(c).Type
		if t, ok := mergeTypes(want, g.Type); !ok || !arrow.TypeEqual(t, want) {
			return fmt.Errorf("parquet %s: column %q has type %s, expected %s (as in %s)", pf.info.Path, g.Name, g.Type, want, s.origin[c])
		}
	}
	s.mapColumns(pf)
	return nil
}

// readParquetFooter parses and sanity-checks one footer and derives the
// engine schema of the file.
func readParquetFooter(ctx context.Context, fsys fs.FS, fi fs.FileInfo) (pf *parquetFile, err error) {
	defer recoverErr(&err, "parquet %s", fi.Path)
	f, err := fs.OpenSized(ctx, fsys, fi.Path, fi.Size)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	defer f.Close()
	var ra io.ReaderAt = f
	if !fs.IsLocal(fsys) {
		ra = newTailReader(f)
	}
	rdr, err := file.NewParquetReader(io.NewSectionReader(ra, 0, f.Size()))
	if err != nil {
		return nil, fmt.Errorf("parquet %s: %w", fi.Path, err)
	}
	md := rdr.MetaData()
	rdr.Close()
	fi.Size = f.Size()
	pf = &parquetFile{info: fi, md: md}
	if err := validateFooter(md, f.Size()); err != nil {
		return nil, fmt.Errorf("parquet %s: %w", fi.Path, err)
	}
	props := pqarrow.ArrowReadProperties{}
	man, err := pqarrow.NewSchemaManifest(md.Schema, md.KeyValueMetadata(), &props)
	if err != nil {
		return nil, fmt.Errorf("parquet %s: schema: %w", fi.Path, err)
	}
	fields := make([]arrow.Field, len(man.Fields))
	for i := range man.Fields {
		mf := &man.Fields[i]
		pf.leaves = append(pf.leaves, collectLeaves(mf, nil))
		pf.fileTypes = append(pf.fileTypes, mf.Field.Type)
		et, err := engineType(mf.Field.Type)
		if err != nil {
			return nil, fmt.Errorf("parquet %s: column %q: %w", fi.Path, mf.Field.Name, err)
		}
		fields[i] = arrow.Field{Name: mf.Field.Name, Type: et, Nullable: mf.Field.Nullable}
	}
	pf.schema = arrow.NewSchema(fields, nil)
	return pf, nil
}

func collectLeaves(f *pqarrow.SchemaField, out []int) []int {
	if f.IsLeaf() {
		return append(out, f.ColIndex)
	}
	for i := range f.Children {
		out = collectLeaves(&f.Children[i], out)
	}
	return out
}

// validateFooter rejects footers whose column chunks point outside the file,
// so a corrupt footer cannot make the decoder allocate absurd buffers.
func validateFooter(md *metadata.FileMetaData, size int64) error {
	if md.NumRows < 0 {
		return fmt.Errorf("corrupt footer: negative row count %d", md.NumRows)
	}
	var total int64
	for rg := 0; rg < md.NumRowGroups(); rg++ {
		r := md.RowGroup(rg)
		if r.NumRows() < 0 {
			return fmt.Errorf("corrupt footer: row group %d has negative row count", rg)
		}
		total += r.NumRows()
		if r.NumColumns() != md.NumColumns() {
			return fmt.Errorf("corrupt footer: row group %d has %d columns, schema has %d", rg, r.NumColumns(), md.NumColumns())
		}
		for c := 0; c < r.NumColumns(); c++ {
			cc, err := r.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("row group %d column %d: %w", rg, c, err)
			}
			// Checked here because arrow-go leaks page buffers when it
			// meets an unknown codec while opening a column.
			if _, err := compress.GetCodec(cc.Compression()); err != nil {
				return fmt.Errorf("row group %d column %s: unsupported compression: %w", rg, cc.PathInSchema(), err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			n := cc.TotalCompressedSize()
			if start < 0 || n < 0 || start > size || n > size-start {
				return fmt.Errorf("corrupt footer: row group %d column %d chunk [%d, +%d) lies outside the file (%d bytes)", rg, c, start, n, size)
			}
		}
	}
	if total != md.NumRows {
		return fmt.Errorf("corrupt footer: row groups hold %d rows, footer says %d", total, md.NumRows)
	}
	return nil
}

func (s *parquetSource) Stats() Stats {
	return Stats{RowCount: s.rowCount, TotalBytes: s.totalBytes()}
}

// Splits implements Source. Row groups whose statistics refute preds are
// dropped; the rest give one split per row group, several consecutive row
// groups of one file per split when there are more than 4×targetSplits of
// them, or row ranges of at least min_split_rows rows when there are fewer
// than targetSplits (flat schemas).
func (s *parquetSource) Splits(ctx context.Context, preds []Predicate, targetSplits int) (splits []Split, err error) {
	defer recoverErr(&err, "parquet %s", s.location)
	if targetSplits < 1 {
		targetSplits = 1
	}
	files, preds, err := s.currentFiles(ctx, preds)
	if err != nil {
		return nil, err
	}
	pfs, err := s.footers(ctx, files)
	if err != nil {
		return nil, err
	}
	type rgRef struct {
		f  *parquetFile
		rg int
	}
	var keep []rgRef
	for _, f := range pfs {
		for rg := 0; rg < f.md.NumRowGroups(); rg++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if f.md.RowGroup(rg).NumRows() == 0 {
				continue
			}
			if s.canSkip(f, rg, preds) {
				continue
			}
			keep = append(keep, rgRef{f, rg})
		}
	}
	// Few row groups: cut the largest into row ranges so that every core
	// gets work (flat schemas only; seeking nested readers is not needed).
	// Not on object stores: each row range would fetch its row group's
	// whole column chunks again.
	if len(keep) > 0 && len(keep) < targetSplits && s.flat && fs.IsLocal(s.fsys) {
		pieces := (targetSplits + len(keep) - 1) / len(keep)
		for _, k := range keep {
			n := k.f.md.RowGroup(k.rg).NumRows()
			np := int64(max(1, min(int64(pieces), n/s.opts.minSplitRows)))
			step := (n + np - 1) / np
			for off := int64(0); off < n; off += step {
				cnt := min(step, n-off)
				splits = append(splits, Split{Path: k.f.info.Path, RowGroups: []int{k.rg}, Offset: off, Length: cnt, Rows: cnt})
			}
		}
		return splits, nil
	}
	// Else about four splits per target split, for balance when tasks
	// finish unevenly: the row groups are dealt into that many runs of
	// nearly equal length (a run never spans two files), so no split is a
	// straggler much larger or smaller than the others.
	n := min(len(keep), 4*targetSplits)
	for c := range n {
		lo, hi := c*len(keep)/n, (c+1)*len(keep)/n
		for i := lo; i < hi; {
			f := keep[i].f
			sp := Split{Path: f.info.Path, Length: -1}
			for ; i < hi && keep[i].f == f; i++ {
				sp.RowGroups = append(sp.RowGroups, keep[i].rg)
				sp.Rows += f.md.RowGroup(keep[i].rg).NumRows()
			}
			splits = append(splits, sp)
		}
	}
	return splits, nil
}

// footers returns the footers of files: cached when the file is unchanged
// (same size and, when both are known, modification time), else read (in
// parallel) and checked against the merged schema.
func (s *parquetSource) footers(ctx context.Context, files []fs.FileInfo) ([]*parquetFile, error) {
	out := make([]*parquetFile, len(files))
	var missing []int
	s.mu.RLock()
	for i, fi := range files {
		pf := s.byPath[fi.Path]
		if pf != nil && pf.info.Size == fi.Size && (fi.ModTime.IsZero() || pf.info.ModTime.IsZero() || pf.info.ModTime.Equal(fi.ModTime)) {
			out[i] = pf
		} else {
			missing = append(missing, i)
		}
	}
	s.mu.RUnlock()
	err := parallel(ctx, len(missing), func(j int) error {
		i := missing[j]
		pf, err := readParquetFooter(ctx, s.fsys, files[i])
		if err != nil {
			return err
		}
		if err := s.accept(pf); err != nil {
			return err
		}
		out[i] = pf
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	for _, i := range missing {
		s.byPath[files[i].Path] = out[i]
	}
	s.mu.Unlock()
	return out, nil
}

// fileFor returns the footer of a split's file, reading it when this
// process has not seen the file (an executor given a split by the driver).
func (s *parquetSource) fileFor(ctx context.Context, path string) (*parquetFile, error) {
	s.mu.RLock()
	f, ok := s.byPath[path]
	s.mu.RUnlock()
	if ok {
		return f, nil
	}
	fi, err := s.fsys.Stat(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	pfs, err := s.footers(ctx, []fs.FileInfo{fi})
	if err != nil {
		return nil, err
	}
	return pfs[0], nil
}

// Open implements Source.
func (s *parquetSource) Open(ctx context.Context, split Split, columns []int, batchSize int) (RecordReader, error) {
	return s.openTable(ctx, split, columns, batchSize, s.openFile)
}

// openFile reads the file columns (of the merged schema) of a split.
func (s *parquetSource) openFile(ctx context.Context, split Split, columns []int, batchSize int) (RecordReader, error) {
	return s.openFileDict(ctx, split, columns, nil, batchSize)
}

// openFileDict is openFile that reads the merged columns in wantDict as
// dictionaries where readAsDict allows (see DictOpener).
func (s *parquetSource) openFileDict(ctx context.Context, split Split, columns []int, wantDict map[int]bool, batchSize int) (rr RecordReader, err error) {
	defer recoverErr(&err, "parquet %s", split.Path)
	columns, err = s.checkColumns(columns)
	if err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("parquet %s: batch size %d must be positive", split.Path, batchSize)
	}
	pf, err := s.fileFor(ctx, split.Path)
	if err != nil {
		return nil, err
	}
	rowGroups := split.RowGroups
	if rowGroups == nil {
		rowGroups = make([]int, pf.md.NumRowGroups())
		for i := range rowGroups {
			rowGroups[i] = i
		}
	}
	var rows int64
	groupRows := make([]int64, len(rowGroups))
	for i, rg := range rowGroups {
		if rg < 0 || rg >= pf.md.NumRowGroups() {
			return nil, fmt.Errorf("parquet %s: split names row group %d, file has %d", split.Path, rg, pf.md.NumRowGroups())
		}
		groupRows[i] = pf.md.RowGroup(rg).NumRows()
		rows += groupRows[i]
	}
	if split.Offset < 0 || split.Offset > rows {
		return nil, fmt.Errorf("parquet %s: split row offset %d outside the %d rows of row groups %v", split.Path, split.Offset, rows, rowGroups)
	}
	skip := split.Offset
	rows -= skip
	if split.Length >= 0 {
		rows = min(rows, split.Length)
	}
	mem := compute.GetAllocator(ctx)
	r := &parquetReader{
		path: split.Path, mem: mem, remaining: rows, batchSize: int64(batchSize),
		schema: projectSchema(s.schema, columns),
	}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	// Columns the file lacks are NULL; the others are decoded once each.
	var present []int // file fields to decode, distinct
	slot := map[int]int{}
	for _, c := range columns {
		fc := pf.toFile[c]
		if fc < 0 {
			r.outSlot = append(r.outSlot, -1)
			continue
		}
		j, ok := slot[fc]
		if !ok {
			j = len(present)
			slot[fc] = j
			present = append(present, fc)
			r.names = append(r.names, s.schema.Field(c).Name)
			r.types = append(r.types, s.schema.Field(c).Type)
			r.dict = append(r.dict, wantDict[c] && s.readAsDict(pf, c, fc, rowGroups, batchSize))
		}
		r.outSlot = append(r.outSlot, j)
	}
	if len(present) == 0 || rows == 0 {
		return r, nil
	}
	var ra io.ReaderAt
	if fs.IsLocal(s.fsys) {
		if r.f, err = s.fsys.Open(ctx, split.Path); err != nil {
			return nil, fmt.Errorf("parquet: %w", err)
		}
		ra = r.f
	} else {
		// Object store: fetch the projected column chunks ahead, several
		// at a time (see prefetch.go). Closing the reader cancels fctx and
		// with it the requests in flight.
		var leaves []int
		for _, fc := range present {
			leaves = append(leaves, pf.leaves[fc]...)
		}
		ranges, err := parquetChunkRanges(pf, leaves, rowGroups)
		if err != nil {
			return nil, fmt.Errorf("parquet %s: %w", split.Path, err)
		}
		fctx, cancel := context.WithCancel(ctx)
		if r.f, err = fs.OpenSized(fctx, s.fsys, split.Path, pf.info.Size); err != nil {
			cancel()
			return nil, fmt.Errorf("parquet: %w", err)
		}
		r.prefetch = newPrefetcher(r.f, ranges, cancel)
		ra = r.prefetch
	}
	props := parquet.NewReaderProperties(mem)
	if r.prefetch == nil {
		// A local file: read each column chunk a buffer at a time rather
		// than whole, so that a task holds a few MiB per column instead
		// of its row group's chunks (tens of MiB per column at a million
		// rows); local reads are cheap and the OS reads ahead.
		props.BufferedStreamEnabled = true
		props.BufferSize = localReadBuffer
	}
	r.pf, err = file.NewParquetReader(io.NewSectionReader(ra, 0, r.f.Size()), file.WithReadProps(props), file.WithMetadata(pf.md))
	if err != nil {
		return nil, fmt.Errorf("parquet %s: %w", split.Path, err)
	}
	arrowProps := pqarrow.ArrowReadProperties{BatchSize: int64(batchSize)}
	for j, fc := range present {
		if r.dict[j] {
			arrowProps.SetReadDict(pf.leaves[fc][0], true)
		}
	}
	fr, err := pqarrow.NewFileReader(r.pf, arrowProps, mem)
	if err != nil {
		return nil, fmt.Errorf("parquet %s: %w", split.Path, err)
	}
	r.dictLayout(fr, present, groupRows, skip)
	r.decodeDecimalsAsInts(fr, pf, present)
	for j, fc := range present {
		leaves := map[int]bool{}
		for _, l := range pf.leaves[fc] {
			leaves[l] = true
		}
		cr, err := fr.GetFieldReader(ctx, fc, leaves, rowGroups)
		if err != nil {
			return nil, fmt.Errorf("parquet %s: column %q: %w", split.Path, r.names[j], err)
		}
		if skip > 0 {
			if err := cr.SeekToRow(skip); err != nil {
				cr.Release()
				return nil, fmt.Errorf("parquet %s: column %q: seeking to row %d: %w", split.Path, r.names[j], skip, err)
			}
		}
		r.readers = append(r.readers, cr)
	}
	return r, nil
}

// parquetReader decodes the projected columns of a split batch by batch.
// Each distinct column has its own pqarrow column reader, which walks the
// split's row groups and decodes only that column's pages.
type parquetReader struct {
	path     string
	mem      memory.Allocator
	f        fs.File
	prefetch *prefetcher // object stores only
	pf       *file.Reader
	readers  []*pqarrow.ColumnReader
	names    []string
	types    []arrow.DataType // engine (merged) type per reader, or DictStringType
	dict     []bool           // reader i returns DictStringType dictionaries
	// intDec marks readers of a DECIMAL(p <= 18) stored as INT32/INT64
	// that decode the plain integers (see decodeDecimalsAsInts).
	intDec    []bool
	outSlot   []int // output column -> reader index, -1 for NULL
	schema    *arrow.Schema
	batchSize int64
	remaining int64
	// groupLeft are the rows left in each row group of the split, when
	// batches must not cross row groups (dictionary columns: a batch
	// spanning two would need its two dictionaries merged).
	groupLeft []int64
	closed    bool
}

// dictLayout settles which readers return dictionaries (those pqarrow
// types as DictStringType), sets their types in r.types and r.schema, and
// aligns batches to row groups when there is one.
func (r *parquetReader) dictLayout(fr *pqarrow.FileReader, present []int, groupRows []int64, skip int64) {
	anyDict := false
	for j, fc := range present {
		if !r.dict[j] {
			continue
		}
		if fc >= len(fr.Manifest.Fields) || !arrow.TypeEqual(fr.Manifest.Fields[fc].Field.Type, DictStringType) {
			// Not what OpenDict promises; toEngine makes it dense.
			r.dict[j] = false
			continue
		}
		r.types[j] = DictStringType
		anyDict = true
	}
	if !anyDict {
		return
	}
	fields := r.schema.Fields()
	for i, j := range r.outSlot {
		if j >= 0 && r.dict[j] {
			fields[i].Type = DictStringType
		}
	}
	r.schema = arrow.NewSchema(fields, nil)
	for _, n := range groupRows {
		d := min(n, skip)
		skip -= d
		r.groupLeft = append(r.groupLeft, n-d)
	}
}

// decodeDecimalsAsInts makes the readers of engine Decimal64 columns that
// the file stores as INT32/INT64 decimals of the same scale decode plain
// integers: pqarrow would widen every value to a Decimal128 (its only
// decimal) for the scan to narrow it again, while an INT64 column
// becomes a Decimal64 without a copy. It retypes the leaf in fr's own
// schema manifest, before the column readers are made from it. Like the
// Decimal128 path before, values are trusted to fit the precision.
func (r *parquetReader) decodeDecimalsAsInts(fr *pqarrow.FileReader, pf *parquetFile, present []int) {
	r.intDec = make([]bool, len(present))
	for j, fc := range present {
		want, ok := r.types[j].(*arrow.Decimal64Type)
		if !ok || r.dict[j] || fc >= len(fr.Manifest.Fields) {
			continue
		}
		mf := &fr.Manifest.Fields[fc]
		ft, ok := mf.Field.Type.(arrow.DecimalType)
		if !ok || !mf.IsLeaf() || ft.GetScale() != want.Scale || ft.GetPrecision() > want.Precision {
			continue
		}
		switch pf.md.Schema.Column(mf.ColIndex).PhysicalType() {
		case parquet.Types.Int64:
			mf.Field.Type = arrow.PrimitiveTypes.Int64
		case parquet.Types.Int32:
			mf.Field.Type = arrow.PrimitiveTypes.Int32
		default:
			continue
		}
		r.intDec[j] = true
	}
}

func (r *parquetReader) Next(ctx context.Context) (rec arrow.RecordBatch, err error) {
	if r.closed || r.remaining <= 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer recoverErr(&err, "parquet %s", r.path)
	n := min(r.batchSize, r.remaining)
	if r.groupLeft != nil {
		for len(r.groupLeft) > 0 && r.groupLeft[0] == 0 {
			r.groupLeft = r.groupLeft[1:]
		}
		if len(r.groupLeft) == 0 {
			return nil, fmt.Errorf("parquet %s: split's row groups hold fewer rows than it says (corrupt footer?)", r.path)
		}
		n = min(n, r.groupLeft[0])
		r.groupLeft[0] -= n
	}
	cols := make([]arrow.Array, len(r.readers))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, cr := range r.readers {
		ch, err := cr.NextBatch(n)
		if err != nil {
			return nil, fmt.Errorf("parquet %s: column %q: %w", r.path, r.names[i], err)
		}
		arr, err := singleChunk(ch, r.mem)
		ch.Release()
		if err != nil {
			return nil, fmt.Errorf("parquet %s: column %q: %w", r.path, r.names[i], err)
		}
		if int64(arr.Len()) != n {
			arr.Release()
			return nil, fmt.Errorf("parquet %s: column %q: decoded %d rows, expected %d (corrupt file?)", r.path, r.names[i], arr.Len(), n)
		}
		if r.intDec[i] {
			cols[i], err = intsToDecimal64(r.mem, arr, r.types[i])
			if err != nil {
				return nil, fmt.Errorf("parquet %s: column %q: %w", r.path, r.names[i], err)
			}
			continue
		}
		if r.dict[i] {
			if !arrow.TypeEqual(arr.DataType(), DictStringType) {
				arr.Release()
				return nil, fmt.Errorf("parquet %s: column %q: decoded %s, expected %s", r.path, r.names[i], arr.DataType(), DictStringType)
			}
			cols[i] = arr
			continue
		}
		cols[i], err = toEngine(ctx, arr, r.types[i])
		if err != nil {
			return nil, fmt.Errorf("parquet %s: column %q: converting to %s: %w", r.path, r.names[i], r.types[i], err)
		}
	}
	out := make([]arrow.Array, len(r.outSlot))
	for i, j := range r.outSlot {
		if j >= 0 {
			out[i] = cols[j]
			continue
		}
		null := array.MakeArrayOfNull(r.mem, r.schema.Field(i).Type, int(n))
		defer null.Release()
		out[i] = null
	}
	r.remaining -= n
	return array.NewRecordBatch(r.schema, out, n), nil
}

func singleChunk(ch *arrow.Chunked, mem memory.Allocator) (arrow.Array, error) {
	chunks := ch.Chunks()
	switch len(chunks) {
	case 0:
		return array.MakeArrayOfNull(mem, ch.DataType(), 0), nil
	case 1:
		chunks[0].Retain()
		return chunks[0], nil
	}
	return array.Concatenate(chunks, mem)
}

func (r *parquetReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	for _, cr := range r.readers {
		cr.Release()
	}
	r.readers = nil
	var err error
	if r.pf != nil {
		// The file.Reader does not own r.f's lifetime beyond Close of the
		// section reader; closing it releases its buffers.
		_ = r.pf.Close()
	}
	if r.prefetch != nil {
		r.prefetch.Close()
	}
	if r.f != nil {
		err = r.f.Close()
	}
	return err
}
