// Package hivetest writes Hive-partitioned copies of a Parquet file for
// tests: one folder per partition (key=value/…), files holding the rows of
// that partition. It uses only arrow-go's Parquet reader and writer, never
// Flint's scan code, so a query over the copy can be checked against the
// same query over the original file.
package hivetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Folder returns the partition folder of one row of rec, e.g.
// "year=1995/month=3".
type Folder func(rec arrow.RecordBatch, row int) string

// Write copies the Parquet file src into dir, one folder per distinct
// Folder value, leaving out the columns named in drop (partition columns
// that only the folder names carry). Each folder gets filesPer files, the
// rows dealt round-robin by batch. It returns the folders written.
func Write(src, dir string, folder Folder, drop []string, filesPer int) ([]string, error) {
	ctx := context.Background()
	mem := memory.NewGoAllocator()
	rdr, err := file.OpenParquetFile(src, false)
	if err != nil {
		return nil, fmt.Errorf("hivetest: %w", err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 1000}, mem)
	if err != nil {
		return nil, fmt.Errorf("hivetest: %w", err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("hivetest: %w", err)
	}
	defer rr.Release()
	var keepCols []int
	for i, f := range rr.Schema().Fields() {
		if !contains(drop, f.Name) {
			keepCols = append(keepCols, i)
		}
	}
	fields := make([]arrow.Field, len(keepCols))
	for i, c := range keepCols {
		fields[i] = rr.Schema().Field(c)
	}
	outSchema := arrow.NewSchema(fields, nil)

	type target struct {
		writers []*pqarrow.FileWriter
		next    int
	}
	targets := map[string]*target{}
	defer func() {
		for _, t := range targets {
			for _, w := range t.writers {
				w.Close()
			}
		}
	}()
	open := func(name string) (*target, error) {
		if t, ok := targets[name]; ok {
			return t, nil
		}
		t := &target{}
		for i := 0; i < filesPer; i++ {
			p := filepath.Join(dir, filepath.FromSlash(name), fmt.Sprintf("part-%d.parquet", i))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			f, err := os.Create(p)
			if err != nil {
				return nil, err
			}
			w, err := pqarrow.NewFileWriter(outSchema, f, parquet.NewWriterProperties(parquet.WithStats(true)), pqarrow.DefaultWriterProps())
			if err != nil {
				f.Close()
				return nil, err
			}
			t.writers = append(t.writers, w)
		}
		targets[name] = t
		return t, nil
	}
	for rr.Next() {
		rec := rr.RecordBatch()
		byFolder := map[string][]bool{}
		for row := 0; row < int(rec.NumRows()); row++ {
			name := folder(rec, row)
			if byFolder[name] == nil {
				byFolder[name] = make([]bool, rec.NumRows())
			}
			byFolder[name][row] = true
		}
		for name, mask := range byFolder {
			t, err := open(name)
			if err != nil {
				return nil, fmt.Errorf("hivetest: %w", err)
			}
			part, err := filterColumns(ctx, mem, rec, mask, keepCols, outSchema)
			if err != nil {
				return nil, err
			}
			err = t.writers[t.next%len(t.writers)].Write(part)
			part.Release()
			if err != nil {
				return nil, fmt.Errorf("hivetest: %w", err)
			}
			t.next++
		}
	}
	if err := rr.Err(); err != nil {
		return nil, fmt.Errorf("hivetest: reading %s: %w", src, err)
	}
	var names []string
	for name, t := range targets {
		names = append(names, name)
		for _, w := range t.writers {
			if err := w.Close(); err != nil {
				return nil, fmt.Errorf("hivetest: %w", err)
			}
		}
		t.writers = nil
	}
	sort.Strings(names)
	return names, nil
}

func filterColumns(ctx context.Context, mem memory.Allocator, rec arrow.RecordBatch, mask []bool, cols []int, sc *arrow.Schema) (arrow.RecordBatch, error) {
	mb := array.NewBooleanBuilder(mem)
	defer mb.Release()
	mb.AppendValues(mask, nil)
	m := mb.NewArray()
	defer m.Release()
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		arrs[i] = rec.Column(c)
	}
	proj := array.NewRecordBatch(sc, arrs, rec.NumRows())
	defer proj.Release()
	out, err := compute.FilterRecordBatch(ctx, proj, m, compute.DefaultFilterOptions())
	if err != nil {
		return nil, fmt.Errorf("hivetest: filter: %w", err)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Escape escapes a partition value the way Hive does for folder names
// (%XX for '/', '=', '%', ':' and other unsafe bytes).
func Escape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Column returns the column of rec named name.
func Column(rec arrow.RecordBatch, name string) arrow.Array {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		panic(fmt.Sprintf("hivetest: no column %q", name))
	}
	return rec.Column(idx[0])
}

// ByString partitions by a string column: "name=<escaped value>".
func ByString(name string) Folder {
	return func(rec arrow.RecordBatch, row int) string {
		col := Column(rec, name)
		if col.IsNull(row) {
			return name + "=__HIVE_DEFAULT_PARTITION__"
		}
		return name + "=" + Escape(col.(*array.String).Value(row))
	}
}

// ByYearMonth partitions by a date column: "year=YYYY/month=M".
func ByYearMonth(dateCol string) Folder {
	return func(rec arrow.RecordBatch, row int) string {
		d := Column(rec, dateCol).(*array.Date32).Value(row).ToTime()
		return fmt.Sprintf("year=%d/month=%d", d.Year(), int(d.Month()))
	}
}
