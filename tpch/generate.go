package tpch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/pingcap/go-tpc/tpch/dbgen"
)

// RowGroupRows is the number of rows per Parquet row group written by
// Generate (the last row group of a table may be smaller).
const RowGroupRows = 122880

// SampleScale is the scale factor of the committed CI dataset written by
// GenerateSample.
const SampleScale = 0.01

// Generate writes the TPC-H tables at integer scale factor sf (>= 1) to
// outDir/<table>.parquet. See GenerateScale.
func Generate(ctx context.Context, sf int, outDir string) error {
	if sf < 1 {
		return fmt.Errorf("tpch: scale factor %d must be >= 1 (use GenerateScale for fractions)", sf)
	}
	return GenerateScale(ctx, float64(sf), outDir)
}

// GenerateSample writes the SF0.01 dataset (the one committed under
// testdata/tpch/sf-sample) to outDir.
func GenerateSample(ctx context.Context, outDir string) error {
	return GenerateScale(ctx, SampleScale, outDir)
}

// GenerateScale writes the eight TPC-H tables at scale factor sf to
// outDir/<table>.parquet, creating outDir if needed. sf is either a whole
// number >= 1 or a fraction in (0, 1) with at most three decimals (0.01,
// 0.1, ...), with C dbgen semantics. Output is deterministic.
//
// Files are written under temporary names and renamed only after every
// table succeeded, so a failed or cancelled run leaves no partial files.
// Generations are serialised process-wide (dbgen keeps global state); the
// first one in a process spends several seconds building dbgen's 300 MB
// text pool, which stays resident. Arrow and Parquet buffers come from the
// allocator carried by ctx (compute.WithAllocator, as exec.WithAllocator
// sets it).
func GenerateScale(ctx context.Context, sf float64, outDir string) error {
	if !(sf > 0) || (sf >= 1 && sf != math.Trunc(sf)) || (sf < 1 && int64(1000*sf) < 1) || sf > 1e5 {
		return fmt.Errorf("tpch: invalid scale factor %v (want a whole number >= 1 or a fraction >= 0.001)", sf)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tpch: generation cancelled: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("tpch: create output directory: %w", err)
	}
	mem := compute.GetAllocator(ctx)
	genMu.Lock()
	defer genMu.Unlock()
	if err := resetDBGen(sf); err != nil {
		return err
	}

	sinks := make(map[string]*tableSink, len(Tables))
	abort := func() {
		for _, s := range sinks {
			s.abort()
		}
	}
	for _, t := range Tables {
		s, err := newTableSink(mem, t, outDir)
		if err != nil {
			abort()
			return err
		}
		sinks[t] = s
	}
	g := &genLoaders{ctx: ctx, sinks: sinks}
	loaders := map[dbgen.Table]dbgen.Loader{
		dbgen.TNation:    loaderFunc{g, g.loadNation},
		dbgen.TRegion:    loaderFunc{g, g.loadRegion},
		dbgen.TPartPsupp: loaderFunc{g, g.loadPart},
		dbgen.TSupp:      loaderFunc{g, g.loadSupplier},
		dbgen.TCust:      loaderFunc{g, g.loadCustomer},
		dbgen.TOrderLine: loaderFunc{g, g.loadOrder},
	}
	order := []dbgen.Table{dbgen.TNation, dbgen.TRegion, dbgen.TPartPsupp, dbgen.TSupp, dbgen.TCust, dbgen.TOrderLine}
	if err := dbgen.DbGen(loaders, order); err != nil {
		abort()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("tpch: generation cancelled: %w", ctxErr)
		}
		return fmt.Errorf("tpch: %w", err)
	}
	var firstErr error
	for _, t := range Tables {
		if err := sinks[t].finish(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		abort()
		return firstErr
	}
	for _, t := range Tables {
		if err := sinks[t].commit(); err != nil {
			abort()
			return err
		}
	}
	return nil
}

// tableSink accumulates rows of one table in Arrow builders and hands full
// batches to a goroutine that encodes them as Parquet row groups, so dbgen
// and the Parquet encoder run in parallel.
type tableSink struct {
	table string
	rb    *array.RecordBuilder
	// Typed views of rb's field builders, indexed by column (nil where the
	// column has another type), so appends are direct calls.
	ints     []*array.Int64Builder
	strs     []*array.StringBuilder
	decs     []*array.Decimal128Builder
	dates    []*array.Date32Builder
	rows     int
	recs     chan arrow.RecordBatch
	done     chan error
	closed   bool
	finished bool
	tmpPath  string
	path     string
}

func writerProps(mem memory.Allocator, schema *arrow.Schema) (*parquet.WriterProperties, pqarrow.ArrowWriterProperties) {
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithCreatedBy("flint tpch generator"),
	}
	for _, f := range schema.Fields() {
		if plainColumns[f.Name] {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties()
}

func newTableSink(mem memory.Allocator, table, outDir string) (*tableSink, error) {
	schema := fileSchema(schemas[table])
	f, err := os.CreateTemp(outDir, "."+table+".parquet.*.tmp")
	if err != nil {
		return nil, fmt.Errorf("tpch: create temporary file for %s: %w", table, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	props, arrProps := writerProps(mem, schema)
	fw, err := pqarrow.NewFileWriter(schema, bw, props, arrProps)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("tpch: open parquet writer for %s: %w", table, err)
	}
	s := &tableSink{
		table:   table,
		rb:      array.NewRecordBuilder(mem, schema),
		recs:    make(chan arrow.RecordBatch, 1),
		done:    make(chan error, 1),
		tmpPath: f.Name(),
		path:    filepath.Join(outDir, table+".parquet"),
	}
	n := len(schema.Fields())
	s.ints = make([]*array.Int64Builder, n)
	s.strs = make([]*array.StringBuilder, n)
	s.decs = make([]*array.Decimal128Builder, n)
	s.dates = make([]*array.Date32Builder, n)
	for i, b := range s.rb.Fields() {
		switch b := b.(type) {
		case *array.Int64Builder:
			s.ints[i] = b
		case *array.StringBuilder:
			s.strs[i] = b
		case *array.Decimal128Builder:
			s.decs[i] = b
		case *array.Date32Builder:
			s.dates[i] = b
		}
	}
	go func() {
		var werr error
		for rec := range s.recs {
			if werr == nil {
				if err := fw.Write(rec); err != nil {
					werr = fmt.Errorf("tpch: write %s: %w", table, err)
				}
			}
			rec.Release()
		}
		if err := fw.Close(); err != nil && werr == nil {
			werr = fmt.Errorf("tpch: close parquet writer for %s: %w", table, err)
		}
		if err := bw.Flush(); err != nil && werr == nil {
			werr = fmt.Errorf("tpch: write %s: %w", s.tmpPath, err)
		}
		if err := f.Sync(); err != nil && werr == nil {
			werr = fmt.Errorf("tpch: sync %s: %w", s.tmpPath, err)
		}
		if err := f.Close(); err != nil && werr == nil {
			werr = fmt.Errorf("tpch: close %s: %w", s.tmpPath, err)
		}
		s.done <- werr
	}()
	return s, nil
}

// rowDone counts one appended row and ships a batch when it is full.
func (s *tableSink) rowDone() {
	s.rows++
	if s.rows >= RowGroupRows {
		s.flush()
	}
}

func (s *tableSink) flush() {
	if s.rows == 0 {
		return
	}
	s.recs <- s.rb.NewRecordBatch()
	s.rows = 0
}

func (s *tableSink) closeWriter() error {
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.recs)
	err := <-s.done
	s.rb.Release()
	return err
}

// finish writes the last batch and closes the file (still under its
// temporary name).
func (s *tableSink) finish() error {
	s.flush()
	err := s.closeWriter()
	s.finished = err == nil
	return err
}

// commit renames the finished temporary file to its final name.
func (s *tableSink) commit() error {
	if !s.finished {
		return fmt.Errorf("tpch: %s not finished", s.table)
	}
	if err := os.Chmod(s.tmpPath, 0o644); err != nil {
		return fmt.Errorf("tpch: chmod %s: %w", s.tmpPath, err)
	}
	if err := os.Rename(s.tmpPath, s.path); err != nil {
		return fmt.Errorf("tpch: rename %s: %w", s.path, err)
	}
	s.tmpPath = ""
	return nil
}

// abort stops the writer and removes the temporary file.
func (s *tableSink) abort() {
	_ = s.closeWriter()
	if s.tmpPath != "" {
		os.Remove(s.tmpPath)
		s.tmpPath = ""
	}
}

var errCancelled = errors.New("generation cancelled")

// loaderFunc adapts a method to dbgen.Loader.
type loaderFunc struct {
	g    *genLoaders
	load func(item any) error
}

func (l loaderFunc) Load(item any) error {
	l.g.calls++
	if l.g.calls&1023 == 0 && l.g.ctx.Err() != nil {
		return errCancelled
	}
	return l.load(item)
}

func (l loaderFunc) Flush() error { return nil }

// genLoaders turns dbgen rows into builder appends.
type genLoaders struct {
	ctx   context.Context
	sinks map[string]*tableSink
	calls int
}

func money(v int64) decimal128.Num { return decimal128.FromI64(v) }

// flagStrings holds one-byte strings so flag columns append without
// allocating.
var flagStrings = func() (t [256]string) {
	for i := range t {
		t[i] = string([]byte{byte(i)})
	}
	return
}()

// parseDate converts dbgen's "YYYY-MM-DD" to days since 1970-01-01.
func parseDate(s string) (arrow.Date32, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("tpch: bad dbgen date %q", s)
	}
	d2 := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	y, m, d := d2(0)*100+d2(2), d2(5), d2(8)
	return arrow.Date32(daysFromCivil(y, m, d)), nil
}

// daysFromCivil is Howard Hinnant's days_from_civil algorithm.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func (g *genLoaders) loadNation(item any) error {
	n := item.(*dbgen.Nation)
	s := g.sinks["nation"]
	s.ints[0].Append(int64(n.Code))
	s.strs[1].Append(n.Text)
	s.ints[2].Append(int64(n.Join))
	s.strs[3].Append(n.Comment)
	s.rowDone()
	return nil
}

func (g *genLoaders) loadRegion(item any) error {
	r := item.(*dbgen.Region)
	s := g.sinks["region"]
	s.ints[0].Append(int64(r.Code))
	s.strs[1].Append(r.Text)
	s.strs[2].Append(r.Comment)
	s.rowDone()
	return nil
}

func (g *genLoaders) loadPart(item any) error {
	p := item.(*dbgen.Part)
	s := g.sinks["part"]
	s.ints[0].Append(int64(p.PartKey))
	s.strs[1].Append(p.Name)
	s.strs[2].Append(p.Mfgr)
	s.strs[3].Append(p.Brand)
	s.strs[4].Append(p.Type)
	s.ints[5].Append(int64(p.Size))
	s.strs[6].Append(p.Container)
	s.decs[7].Append(money(int64(p.RetailPrice)))
	s.strs[8].Append(p.Comment)
	s.rowDone()

	ps := g.sinks["partsupp"]
	pk, sk, qty, cost, cmt := ps.ints[0], ps.ints[1], ps.ints[2], ps.decs[3], ps.strs[4]
	for i := range p.S {
		x := &p.S[i]
		pk.Append(int64(x.PartKey))
		sk.Append(int64(x.SuppKey))
		qty.Append(int64(x.Qty))
		cost.Append(money(int64(x.SCost)))
		cmt.Append(x.Comment)
		ps.rowDone()
	}
	return nil
}

func (g *genLoaders) loadSupplier(item any) error {
	x := item.(*dbgen.Supp)
	s := g.sinks["supplier"]
	s.ints[0].Append(int64(x.SuppKey))
	s.strs[1].Append(x.Name)
	s.strs[2].Append(x.Address)
	s.ints[3].Append(int64(x.NationCode))
	s.strs[4].Append(x.Phone)
	s.decs[5].Append(money(int64(x.Acctbal)))
	s.strs[6].Append(x.Comment)
	s.rowDone()
	return nil
}

func (g *genLoaders) loadCustomer(item any) error {
	x := item.(*dbgen.Cust)
	s := g.sinks["customer"]
	s.ints[0].Append(int64(x.CustKey))
	s.strs[1].Append(x.Name)
	s.strs[2].Append(x.Address)
	s.ints[3].Append(int64(x.NationCode))
	s.strs[4].Append(x.Phone)
	s.decs[5].Append(money(int64(x.Acctbal)))
	s.strs[6].Append(x.MktSegment)
	s.strs[7].Append(x.Comment)
	s.rowDone()
	return nil
}

func (g *genLoaders) loadOrder(item any) error {
	o := item.(*dbgen.Order)
	s := g.sinks["orders"]
	od, err := parseDate(o.Date)
	if err != nil {
		return fmt.Errorf("order %d: %w", o.OKey, err)
	}
	s.ints[0].Append(int64(o.OKey))
	s.ints[1].Append(int64(o.CustKey))
	s.strs[2].Append(flagStrings[o.Status])
	s.decs[3].Append(money(int64(o.TotalPrice)))
	s.dates[4].Append(od)
	s.strs[5].Append(o.OrderPriority)
	s.strs[6].Append(o.Clerk)
	s.ints[7].Append(o.ShipPriority)
	s.strs[8].Append(o.Comment)
	s.rowDone()

	ls := g.sinks["lineitem"]
	okey, pkey, skey, lnum := ls.ints[0], ls.ints[1], ls.ints[2], ls.ints[3]
	qty, price, disc, tax := ls.decs[4], ls.decs[5], ls.decs[6], ls.decs[7]
	rflag, lstatus := ls.strs[8], ls.strs[9]
	ship, commit, receipt := ls.dates[10], ls.dates[11], ls.dates[12]
	instr, mode, cmt := ls.strs[13], ls.strs[14], ls.strs[15]
	for i := range o.Lines {
		l := &o.Lines[i]
		sd, err1 := parseDate(l.SDate)
		cd, err2 := parseDate(l.CDate)
		rd, err3 := parseDate(l.RDate)
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("lineitem %d/%d: %w", l.OKey, l.LCnt, err)
		}
		okey.Append(int64(l.OKey))
		pkey.Append(int64(l.PartKey))
		skey.Append(int64(l.SuppKey))
		lnum.Append(int64(l.LCnt))
		qty.Append(money(int64(l.Quantity) * 100))
		price.Append(money(int64(l.EPrice)))
		disc.Append(money(int64(l.Discount)))
		tax.Append(money(int64(l.Tax)))
		rflag.Append(flagStrings[l.RFlag])
		lstatus.Append(flagStrings[l.LStatus])
		ship.Append(sd)
		commit.Append(cd)
		receipt.Append(rd)
		instr.Append(l.ShipInstruct)
		mode.Append(l.ShipMode)
		cmt.Append(l.Comment)
		ls.rowDone()
	}
	return nil
}
