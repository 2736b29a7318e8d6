package flint

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/flint-engine/flint/internal/bufpool"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/driver"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/ml/store"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
)

// Option configures a Session.
type Option func(*config)

type config struct {
	slots          int
	partitions     int
	batchSize      int
	broadcastRows  float64
	broadcastSet   bool
	mem            memory.Allocator
	driver         string // cluster driver address; "" for local mode
	memoryLimit    int64  // bytes; 0 none, -1 default
	operatorMemory int64  // the pool's size, when WithOperatorMemory set it (≥ 0)
	workDir        string
	partitionsSet  bool   // partitions given by WithPartitions, not defaulted
	models         string // the model store (WithModels); "" for the default
}

// WithSlots sets how many tasks run at once in local mode (default: the
// number of cores).
func WithSlots(n int) Option { return func(c *config) { c.slots = n } }

// WithPartitions sets the number of partitions shuffles produce (default:
// twice the slots).
func WithPartitions(n int) Option { return func(c *config) { c.partitions = n } }

// WithBatchSize sets the number of rows per Arrow batch operators aim for.
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = n } }

// WithBroadcastThreshold sets the estimated row count at or below which
// the build side of a join is broadcast instead of shuffled. By default a
// cluster's driver uses a million rows, and local mode a share of the
// memory pool (see broadcastRows).
func WithBroadcastThreshold(rows float64) Option {
	return func(c *config) { c.broadcastRows, c.broadcastSet = rows, true }
}

// broadcastBytesPerRow is what the broadcast threshold assumes a build row
// costs once in a hash table, against the memory pool.
const broadcastBytesPerRow = 64

// localBroadcastMaxRows caps local mode's default broadcast threshold.
// Locally a broadcast costs no copies: its table is built once and shared
// by every task of the process, and the probe side is read where it is
// instead of shuffled, so it beats a partitioned join up to large builds
// (TPC-H SF10: Q5, Q7 and Q18 use a quarter to a half of the memory and
// take 20–40% less time at 16M rows than at 1M).
const localBroadcastMaxRows = 16_000_000

// unlimitedBroadcastRows is local mode's default threshold without a
// memory limit.
const unlimitedBroadcastRows = 1_000_000

// broadcastRows is the broadcast threshold of local queries: the one set
// or, by default, what lets a broadcast table (built once per process, it
// cannot spill) take at most an eighth of the memory pool, up to
// localBroadcastMaxRows; a set threshold is lowered to that share too.
func (s *Session) broadcastRows() float64 {
	rows := s.cfg.broadcastRows
	p := s.local.Memory
	limited := p != nil && !p.Unlimited()
	switch {
	case s.cfg.broadcastSet && limited:
		rows = min(rows, float64(p.Limit()/8/broadcastBytesPerRow))
	case !s.cfg.broadcastSet && limited:
		rows = min(localBroadcastMaxRows, float64(p.Limit()/8/broadcastBytesPerRow))
	case !s.cfg.broadcastSet:
		rows = unlimitedBroadcastRows
	}
	return rows
}

// WithAllocator makes every Arrow buffer of the session's queries come from
// mem (tests use a checked allocator). The default recycles freed buffers
// (internal/bufpool).
func WithAllocator(mem memory.Allocator) Option { return func(c *config) { c.mem = mem } }

// WithMemoryLimit bounds the memory of the session's queries in local
// mode to about limit bytes (0: no limit): operators reserve from a pool
// of mempool.PoolFraction of it and spill to the work dir beyond, and the
// Go GC's soft limit (debug.SetMemoryLimit) of the process follows it. A
// query that cannot fit even after spilling fails with an error naming
// the operator. Without this option a session's queries share
// mempool.DefaultLimit (a share of the machine's or container's memory),
// and the GC is left alone.
func WithMemoryLimit(limit int64) Option {
	return func(c *config) { c.memoryLimit, c.operatorMemory = limit, -1 }
}

// WithOperatorMemory sets the pool the session's operators reserve from to
// limit bytes (0: no limit) and leaves the Go GC alone: for tests, and for
// programs that set their own GOMEMLIMIT. WithMemoryLimit is the option
// for a process's whole budget.
func WithOperatorMemory(limit int64) Option {
	return func(c *config) { c.memoryLimit, c.operatorMemory = -1, limit }
}

// WithWorkDir sets where local mode writes exchange and spill files
// (default: the system temp dir). Each query uses a folder of its own and
// removes it when it ends.
func WithWorkDir(dir string) Option { return func(c *config) { c.workDir = dir } }

// Session is the entry point: it owns the catalog and runs queries. It is
// safe for concurrent use.
type Session struct {
	cfg   config
	ids   plan.IDGen
	local *driver.Local
	// remote is the cluster driver connection (WithDriver), nil in local
	// mode.
	remote *remote

	mu     sync.RWMutex
	tables map[string]*plan.TableSource
	views  map[string]plan.Node

	storeMu sync.Mutex
	store   *store.Store // the model store, opened on first use
}

// NewSession starts a session: in local mode, or on a cluster with
// WithDriver.
func NewSession(ctx context.Context, opts ...Option) (*Session, error) {
	cfg := config{slots: runtime.GOMAXPROCS(0), batchSize: 8192, mem: bufpool.Shared(),
		memoryLimit: -1, operatorMemory: -1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.slots <= 0 {
		return nil, fmt.Errorf("flint: slots must be positive, got %d", cfg.slots)
	}
	if cfg.partitions <= 0 {
		cfg.partitions = 2 * cfg.slots
	} else {
		cfg.partitionsSet = true
	}
	if cfg.batchSize <= 0 {
		return nil, fmt.Errorf("flint: batch size must be positive, got %d", cfg.batchSize)
	}
	s := &Session{cfg: cfg, local: driver.NewLocal(cfg.slots),
		tables: map[string]*plan.TableSource{}, views: map[string]plan.Node{}}
	switch {
	case cfg.operatorMemory >= 0:
		s.local.Memory = mempool.New(cfg.operatorMemory)
	case cfg.memoryLimit < 0:
		s.local.Memory = mempool.New(int64(float64(mempool.DefaultLimit()) * mempool.PoolFraction))
	default:
		s.local.Memory = mempool.ForProcess(cfg.memoryLimit)
	}
	s.local.WorkDir = cfg.workDir
	if cfg.driver != "" {
		r, err := dialDriver(cfg.driver)
		if err != nil {
			return nil, err
		}
		s.remote = r
	}
	return s, nil
}

// Close releases the session's resources (the driver connection).
func (s *Session) Close() error {
	if s.remote != nil {
		return s.remote.close()
	}
	return nil
}

// RegisterTable makes the files at location (a file, directory or glob)
// queryable as name. format is "parquet", "csv" or "json"; empty means
// infer it from the file names.
func (s *Session) RegisterTable(ctx context.Context, name, format, location string, opts map[string]string) error {
	src, err := s.openSource(ctx, name, format, location, opts)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	delete(s.views, key)
	s.tables[key] = src
	return nil
}

func (s *Session) openSource(ctx context.Context, name, format, location string, opts map[string]string) (*plan.TableSource, error) {
	if format == "" {
		f, err := inferFormat(ctx, location)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		format = f
	}
	format = strings.ToLower(format)
	if format == "ndjson" {
		format = "json"
	}
	src, err := connectors.Open(ctx, connectors.Format(format), location, opts)
	if err != nil {
		return nil, err
	}
	ts := &plan.TableSource{Name: name, Format: format, Location: location, Options: opts,
		Schema: src.Schema(), RowCount: src.Stats().RowCount}
	s.local.Sources.Put(executor.SourceKey(ts), src)
	return ts, nil
}

// scanStats implements optimizer.ScanStats for the session's tables
// (planner.ScanStats): a scan of a Hive-partitioned table is estimated at
// the rows of the files its filters leave.
func (s *Session) scanStats(sc *plan.Scan) (int64, []bool, bool) {
	return planner.ScanStats(func(t *plan.TableSource) (connectors.Source, error) {
		// Registration put the source in the cache: this does no I/O.
		return executor.OpenSource(context.Background(), s.local.Sources, t)
	})(sc)
}

// InferFormat guesses a table's format from its location: the extension of
// a file or glob, or of the first data file found listing a directory
// (local or on an object store, Hive partition folders included).
func InferFormat(location string) (string, error) {
	return inferFormat(context.Background(), location)
}

func inferFormat(ctx context.Context, location string) (string, error) {
	f, err := connectors.DetectFormat(ctx, location)
	return string(f), err
}

// LookupTable implements the binder's catalog.
func (s *Session) LookupTable(name string) (*plan.TableSource, plan.Node, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	key := strings.ToLower(name)
	if t, ok := s.tables[key]; ok {
		return t, nil, true
	}
	if v, ok := s.views[key]; ok {
		return nil, v, true
	}
	return nil, nil, false
}

// TableNames implements the binder's catalog: every table and view name.
func (s *Session) TableNames() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var names []string
	for n := range s.tables {
		names = append(names, n)
	}
	for n := range s.views {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Session) registerView(name string, n plan.Node, replace bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	if !replace {
		if _, ok := s.tables[key]; ok {
			return fmt.Errorf("table %s already exists", name)
		}
		if _, ok := s.views[key]; ok {
			return fmt.Errorf("view %s already exists", name)
		}
	}
	delete(s.tables, key)
	s.views[key] = n
	return nil
}

func (s *Session) drop(name string, ifExists bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	_, t := s.tables[key]
	_, v := s.views[key]
	if !t && !v && !ifExists {
		return fmt.Errorf("table %s does not exist", name)
	}
	delete(s.tables, key)
	delete(s.views, key)
	return nil
}

// Table returns a DataFrame over a registered table or view.
func (s *Session) Table(name string) *DataFrame {
	t, v, ok := s.LookupTable(name)
	switch {
	case !ok:
		return s.errFrame(fmt.Errorf("table %s does not exist", name))
	case t != nil:
		return s.frame(s.scanAll(t, name))
	}
	n, _ := plan.Clone(v, &s.ids)
	return s.frame(n)
}

func (s *Session) scanAll(t *plan.TableSource, alias string) plan.Node {
	sc := &plan.Scan{Source: t}
	for i, f := range t.Schema.Fields() {
		sc.Cols = append(sc.Cols, i)
		sc.Out = append(sc.Out, s.ids.NewColumn(f.Name, alias, f.Type, f.Nullable))
	}
	return sc
}

// ReadParquet returns a DataFrame over Parquet files (files, directories or
// globs; all must share one schema).
func (s *Session) ReadParquet(ctx context.Context, paths ...string) *DataFrame {
	return s.read(ctx, "parquet", nil, paths)
}

// ReadCSV returns a DataFrame over CSV files; opts are the CSV options
// (header, delimiter, null, schema, ...).
func (s *Session) ReadCSV(ctx context.Context, opts map[string]string, paths ...string) *DataFrame {
	return s.read(ctx, "csv", opts, paths)
}

// ReadJSON returns a DataFrame over newline-delimited JSON files.
func (s *Session) ReadJSON(ctx context.Context, opts map[string]string, paths ...string) *DataFrame {
	return s.read(ctx, "json", opts, paths)
}

func (s *Session) read(ctx context.Context, format string, opts map[string]string, paths []string) *DataFrame {
	if len(paths) == 0 {
		return s.errFrame(fmt.Errorf("read %s: no path given", format))
	}
	var df *DataFrame
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		t, err := s.openSource(ctx, name, format, p, opts)
		if err != nil {
			return s.errFrame(err)
		}
		part := s.frame(s.scanAll(t, name))
		if df == nil {
			df = part
		} else {
			df = df.Union(part)
		}
	}
	return df
}

func (s *Session) frame(n plan.Node) *DataFrame { return &DataFrame{s: s, plan: n} }

func (s *Session) errFrame(err error) *DataFrame { return &DataFrame{s: s, err: err} }

// schemaOf builds the Arrow schema of a result from the plan's names and
// the produced column types.
func schemaOf(n plan.Node, batches []arrow.RecordBatch) *arrow.Schema {
	cols := n.Schema()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
		if len(batches) > 0 && i < int(batches[0].NumCols()) {
			fields[i].Type = batches[0].Column(i).DataType()
		}
	}
	return arrow.NewSchema(fields, nil)
}
