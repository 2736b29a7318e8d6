package flint

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
	"github.com/flint-engine/flint/sql/binder"
	"github.com/flint-engine/flint/types"
)

// DataFrameWriter writes a DataFrame's result as a dataset: a directory
// of files plus a _SUCCESS manifest (connectors.Manifest) that lists
// them. Every task of the query's last stage writes its own rows, in
// parallel, in local mode on the session's slots and on a cluster on the
// executors; nothing is collected in one place. The write commits
// atomically: the manifest, written last, lists exactly one successful
// attempt of every task, and until it is written the target's previous
// dataset (if any) stands. Readers of a Flint dataset read the files its
// manifest lists and nothing else.
//
// Obtain one with DataFrame.Write; configure it with chained calls; Save
// runs the query.
type DataFrameWriter struct {
	df          *DataFrame
	format      string
	mode        string
	partitionBy []string
	options     map[string]string
}

// Write starts describing a write of the DataFrame's result (Parquet,
// mode "error", unpartitioned, until told otherwise).
func (df *DataFrame) Write() *DataFrameWriter {
	return &DataFrameWriter{df: df, format: "parquet", mode: "error", options: map[string]string{}}
}

// Format sets the file format: "parquet" (default), "csv" or "json"
// (newline-delimited).
func (w *DataFrameWriter) Format(f string) *DataFrameWriter { w.format = f; return w }

// Mode says what happens when the target already holds data: "error"
// (default: fail), "overwrite" (replace the dataset; the old files are
// deleted after the new manifest is in place) or "append" (the new
// manifest lists the old files and the new ones).
func (w *DataFrameWriter) Mode(m string) *DataFrameWriter { w.mode = m; return w }

// PartitionBy writes Hive-style key=value/ folders, one level per column
// (outermost first); the files in them do not hold the partition columns.
// A NULL or empty value goes to __HIVE_DEFAULT_PARTITION__.
func (w *DataFrameWriter) PartitionBy(cols ...string) *DataFrameWriter {
	w.partitionBy = append(w.partitionBy, cols...)
	return w
}

// Option sets a format option (see connectors.ParseWriteOptions):
// compression, row_group_size, header, delimiter, null, max_open_files...
func (w *DataFrameWriter) Option(key, value string) *DataFrameWriter {
	w.options[strings.ToLower(key)] = value
	return w
}

// WriteResult is what a committed write wrote.
type WriteResult struct {
	// Location is the dataset directory as the write saw it (local paths
	// made absolute).
	Location string
	// Rows, Files and Bytes count what this write added (not the files
	// an append kept).
	Rows  int64
	Files int64
	Bytes int64
}

// Save runs the query and writes its result into the directory uri (a
// local path, file:// or s3://bucket/prefix), creating it as needed.
func (w *DataFrameWriter) Save(ctx context.Context, uri string) (WriteResult, error) {
	df := w.df
	if df.err != nil {
		return WriteResult{}, df.err
	}
	spec, err := writeSpec(df.plan, uri, w.format, w.mode, w.partitionBy, w.options)
	if err != nil {
		return WriteResult{}, err
	}
	return df.s.write(ctx, df.plan, spec, df.s.remote != nil && !df.local)
}

// Submit sends the write to the session's driver (WithDriver) as a job
// and returns the job ID at once, as DataFrame.Submit does; the driver
// commits the dataset when the job succeeds, as Save on a cluster.
// Session.JobWriteResult reads what it wrote.
func (w *DataFrameWriter) Submit(ctx context.Context, uri string, opts SubmitOptions) (jobID string, existing bool, err error) {
	df := w.df
	if df.err != nil {
		return "", false, df.err
	}
	if df.s.remote == nil {
		return "", false, errors.New("flint: Submit needs a session with a driver (WithDriver)")
	}
	spec, err := writeSpec(df.plan, uri, w.format, w.mode, w.partitionBy, w.options)
	if err != nil {
		return "", false, err
	}
	opts.write = spec
	return df.s.submit(ctx, df.plan, opts)
}

// writeSpec checks a write's settings against the plan's output and
// builds its spec with a fresh write ID.
func writeSpec(n plan.Node, uri, format, mode string, partitionBy []string, opts map[string]string) (*connectors.WriteSpec, error) {
	f := strings.ToLower(format)
	if f == "ndjson" || f == "jsonl" {
		f = "json"
	}
	if uri == "" {
		return nil, fmt.Errorf("write: no target location")
	}
	m, err := connectors.ParseWriteMode(mode)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", uri, err)
	}
	if _, err := connectors.ParseWriteOptions(connectors.Format(f), opts); err != nil {
		return nil, fmt.Errorf("write %s: %w", uri, err)
	}
	cols := n.Schema()
	seen := map[string]bool{}
	for _, c := range cols {
		k := strings.ToLower(c.Name)
		if seen[k] {
			return nil, fmt.Errorf("write %s: two columns are named %s; give them distinct names (AS)", uri, c.Name)
		}
		seen[k] = true
	}
	loc := uri
	if !strings.Contains(loc, "://") {
		if loc, err = filepath.Abs(loc); err != nil {
			return nil, fmt.Errorf("write %s: %w", uri, err)
		}
		loc = filepath.ToSlash(loc)
	}
	spec := &connectors.WriteSpec{Format: connectors.Format(f), Location: loc, Mode: m, Options: opts,
		WriteID: connectors.NewWriteID()}
	if len(spec.Options) == 0 {
		spec.Options = nil
	}
	for _, p := range partitionBy {
		i := -1
		for k, c := range cols {
			if strings.EqualFold(c.Name, p) {
				i = k
			}
		}
		if i < 0 {
			names := make([]string, len(cols))
			for k, c := range cols {
				names[k] = c.Name
			}
			return nil, fmt.Errorf("write %s: partition column %s is not a column of the result (%s)", uri, p, strings.Join(names, ", "))
		}
		if !connectors.Partitionable(cols[i].Type) {
			return nil, fmt.Errorf("write %s: cannot partition by column %s of type %s", uri, cols[i].Name, types.TypeName(cols[i].Type))
		}
		spec.PartitionBy = append(spec.PartitionBy, connectors.PartitionColumn{Name: cols[i].Name, Type: types.TypeName(cols[i].Type)})
	}
	if len(spec.PartitionBy) > 0 && len(spec.PartitionBy) >= len(cols) {
		return nil, fmt.Errorf("write %s: every column is a partition column; no data would remain in the files", uri)
	}
	if err := spec.Check(); err != nil {
		return nil, err
	}
	return spec, nil
}

// write runs n as a write of spec, on the cluster or in-process.
func (s *Session) write(ctx context.Context, n plan.Node, spec *connectors.WriteSpec, onCluster bool) (WriteResult, error) {
	res := WriteResult{Location: spec.Location}
	if onCluster {
		batches, err := s.runRemoteJob(ctx, n, SubmitOptions{write: spec})
		if err != nil {
			return res, err
		}
		defer releaseBatches(batches)
		return writeResultOf(res, "write "+res.Location, batches)
	}
	c, err := s.compileWrite(n, spec)
	if err != nil {
		return res, err
	}
	ctx = exec.WithBatchSize(exec.WithAllocator(ctx, s.cfg.mem), s.cfg.batchSize)
	m, err := s.local.ExecuteWrite(ctx, c.Stages)
	if err != nil {
		return res, err
	}
	for _, f := range m.FilesOf(spec.WriteID) {
		res.Files++
		res.Bytes += f.Bytes
		res.Rows += max(f.Rows, 0)
	}
	return res, nil
}

func (s *Session) compileWrite(n plan.Node, spec *connectors.WriteSpec) (*planner.Compiled, error) {
	return planner.Compile(n, &s.ids, planner.Options{Partitions: s.cfg.partitions, BroadcastRows: s.broadcastRows(), Write: spec})
}

// writeResultOf reads the one-row result of a cluster write job; what
// names the write in errors.
func writeResultOf(res WriteResult, what string, batches []arrow.RecordBatch) (WriteResult, error) {
	var rows int64
	for _, b := range batches {
		if b.NumCols() != 3 {
			return res, fmt.Errorf("%s: the driver answered with %d columns, want rows, files, bytes", what, b.NumCols())
		}
		for r := 0; r < int(b.NumRows()); r++ {
			vals := [3]int64{}
			for c := range 3 {
				col, ok := b.Column(c).(*array.Int64)
				if !ok {
					return res, fmt.Errorf("%s: the driver answered with a %s column", what, b.Column(c).DataType())
				}
				vals[c] = col.Value(r)
			}
			res.Rows, res.Files, res.Bytes = vals[0], vals[1], vals[2]
			rows++
		}
	}
	if rows != 1 {
		return res, fmt.Errorf("%s: the driver answered with %d result rows, want 1", what, rows)
	}
	return res, nil
}

// copyTo runs a bound COPY statement.
func (s *Session) copyTo(ctx context.Context, c *binder.Copy) (WriteResult, error) {
	spec, err := writeSpec(c.Query, c.To, c.Format, c.Mode, c.PartitionBy, c.Options)
	if err != nil {
		return WriteResult{}, err
	}
	return s.write(ctx, c.Query, spec, s.remote != nil)
}

// explainCopy plans a COPY without running it.
func (s *Session) explainCopy(c *binder.Copy) (string, error) {
	spec, err := writeSpec(c.Query, c.To, c.Format, c.Mode, c.PartitionBy, c.Options)
	if err != nil {
		return "", err
	}
	compiled, err := s.compileWrite(c.Query, spec)
	if err != nil {
		return "", err
	}
	return compiled.Explain(), nil
}

// writeResultFrame is the one-row result of COPY: rows, files, bytes.
func (s *Session) writeResultFrame(r WriteResult) *DataFrame {
	var out plan.Schema
	var row []plan.Expr
	for _, c := range []struct {
		name string
		v    int64
	}{{"rows", r.Rows}, {"files", r.Files}, {"bytes", r.Bytes}} {
		out = append(out, s.ids.NewColumn(c.name, "", arrow.PrimitiveTypes.Int64, false))
		row = append(row, &plan.Literal{Value: c.v, Typ: arrow.PrimitiveTypes.Int64})
	}
	df := s.frame(&plan.Values{Rows: [][]plan.Expr{row}, Out: out})
	df.local = true // the result is known: nothing to run on a cluster
	return df
}
