// Package output renders query results as an aligned text table, CSV or
// JSON lines, for the CLI and DataFrame.Show. Decimals print exactly at their
// scale, dates as YYYY-MM-DD, timestamps as YYYY-MM-DD HH:MM:SS[.ffffff].
package output

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/types"
)

// Format is an output format.
type Format string

// Output formats.
const (
	Table Format = "table"
	CSV   Format = "csv"
	JSON  Format = "json"
)

// ParseFormat validates a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Table, CSV, JSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q (want table, csv or json)", s)
}

// Write renders batches in format f.
func Write(w io.Writer, f Format, schema *arrow.Schema, batches []arrow.RecordBatch) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var err error
	switch f {
	case CSV:
		err = writeCSV(bw, schema, batches)
	case JSON:
		err = writeJSON(bw, schema, batches)
	default:
		err = writeTable(bw, schema, batches)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// Value formats row i of a column; ok is false for NULL.
func Value(a arrow.Array, i int) (s string, ok bool) {
	// An untyped NULL column (SELECT NULL) is an arrow Null array, whose
	// IsNull reports false because it has no validity bitmap.
	if a.DataType().ID() == arrow.NULL || a.IsNull(i) {
		return "", false
	}
	switch a := a.(type) {
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i)), true
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), true
	case *array.Uint8:
		return strconv.FormatUint(uint64(a.Value(i)), 10), true
	case *array.Uint16:
		return strconv.FormatUint(uint64(a.Value(i)), 10), true
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10), true
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10), true
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32), true
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64), true
	case *array.Decimal64:
		return string(types.AppendDecimal(nil, int64(a.Value(i)), a.DataType().(*arrow.Decimal64Type).Scale)), true
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale), true
	case *array.Date32:
		return a.Value(i).FormattedString(), true
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		t := a.Value(i).ToTime(unit)
		if t.Nanosecond() == 0 {
			return t.Format("2006-01-02 15:04:05"), true
		}
		return t.Format("2006-01-02 15:04:05.999999999"), true
	case *array.String:
		return a.Value(i), true
	case *array.LargeString:
		return a.Value(i), true
	case *array.MonthDayNanoInterval:
		return string(types.AppendInterval(nil, a.Value(i))), true
	case *array.List:
		// DuckDB's rendering: [1.5, NULL, 2.0].
		lo, hi := a.ValueOffsets(i)
		vals := a.ListValues()
		var b strings.Builder
		b.WriteByte('[')
		for j := lo; j < hi; j++ {
			if j > lo {
				b.WriteString(", ")
			}
			v, ok := Value(vals, int(j))
			if !ok {
				v = "NULL"
			}
			b.WriteString(v)
		}
		b.WriteByte(']')
		return b.String(), true
	}
	return a.ValueStr(i), true
}

func writeCSV(w io.Writer, schema *arrow.Schema, batches []arrow.RecordBatch) error {
	cw := csv.NewWriter(w)
	header := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		header[i] = f.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, schema.NumFields())
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			for c := range row {
				row[c], _ = Value(b.Column(c), r)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, schema *arrow.Schema, batches []arrow.RecordBatch) error {
	names := make([][]byte, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i], _ = json.Marshal(f.Name)
	}
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			io.WriteString(w, "{")
			for c := 0; c < int(b.NumCols()); c++ {
				if c > 0 {
					io.WriteString(w, ",")
				}
				w.Write(names[c])
				io.WriteString(w, ":")
				writeJSONValue(w, b.Column(c), r)
			}
			if _, err := io.WriteString(w, "}\n"); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeJSONValue writes row r of col as a JSON value: numbers and
// booleans bare (non-finite floats as strings), lists as arrays, the rest
// as strings.
func writeJSONValue(w io.Writer, col arrow.Array, r int) {
	if l, ok := col.(*array.List); ok && !l.IsNull(r) {
		lo, hi := l.ValueOffsets(r)
		io.WriteString(w, "[")
		for j := lo; j < hi; j++ {
			if j > lo {
				io.WriteString(w, ",")
			}
			writeJSONValue(w, l.ListValues(), int(j))
		}
		io.WriteString(w, "]")
		return
	}
	v, ok := Value(col, r)
	switch {
	case !ok:
		io.WriteString(w, "null")
	case isNumeric(col.DataType()):
		if col.DataType().ID() == arrow.FLOAT64 || col.DataType().ID() == arrow.FLOAT32 {
			if f, err := strconv.ParseFloat(v, 64); err != nil || f != f || f > 1e308 || f < -1e308 {
				q, _ := json.Marshal(v)
				w.Write(q)
				return
			}
		}
		io.WriteString(w, v)
	case col.DataType().ID() == arrow.BOOL:
		io.WriteString(w, v)
	default:
		q, _ := json.Marshal(v)
		w.Write(q)
	}
}

func isNumeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32,
		arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL64, arrow.DECIMAL128:
		return true
	}
	return false
}

func writeTable(w io.Writer, schema *arrow.Schema, batches []arrow.RecordBatch) error {
	n := schema.NumFields()
	var rows [][]string
	widths := make([]int, n)
	right := make([]bool, n)
	for i, f := range schema.Fields() {
		widths[i] = utf8.RuneCountInString(f.Name)
		right[i] = isNumeric(f.Type)
	}
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			row := make([]string, n)
			for c := range row {
				v, ok := Value(b.Column(c), r)
				if !ok {
					v = "NULL"
				}
				row[c] = v
				widths[c] = max(widths[c], utf8.RuneCountInString(v))
			}
			rows = append(rows, row)
		}
	}
	sep := "+"
	for _, wd := range widths {
		sep += strings.Repeat("-", wd+2) + "+"
	}
	line := func(cells []string, header bool) {
		var sb strings.Builder
		sb.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if right[i] && !header {
				sb.WriteString(" " + pad + c + " |")
			} else {
				sb.WriteString(" " + c + pad + " |")
			}
		}
		sb.WriteString("\n")
		io.WriteString(w, sb.String())
	}
	header := make([]string, n)
	for i, f := range schema.Fields() {
		header[i] = f.Name
	}
	io.WriteString(w, sep+"\n")
	line(header, true)
	io.WriteString(w, sep+"\n")
	for _, r := range rows {
		line(r, false)
	}
	io.WriteString(w, sep+"\n")
	_, err := fmt.Fprintf(w, "(%d rows)\n", len(rows))
	return err
}
