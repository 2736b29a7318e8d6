// Command duckref runs the TPC-H queries in DuckDB over a directory of
// Parquet files. It produces the reference answers Flint is tested against
// and DuckDB timings Flint is benchmarked against. It lives in its own
// module because DuckDB comes in through cgo and static libraries that the
// engine itself must never depend on.
//
// Usage (from the repository root; paths are relative to the directory the
// command runs in, so -C needs absolute or tools/duckref-relative paths):
//
//	cd tools/duckref
//	go run . answers --dir ../../testdata/tpch/sf-sample --out ../../testdata/tpch/answers/sample
//	go run . bench --dir /tmp/tpch-sf1 --threads 2 [--runs 3] [--queries 1,6]
//	go run . time  --dir /tmp/tpch-sf1 --threads 2 --runs 3 --sql "select count(*) from lineitem"
//
// Answers are written as canonical CSV (see writeCanonicalCSV), one file per
// query: qNN.csv.
package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// tables are the eight TPC-H tables; each is exposed as a view over
// <dir>/<table>.parquet.
var tables = []string{"nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "duckref:", err)
		os.Exit(1)
	}
}

func usage() error {
	return errors.New(`usage:
  duckref answers --dir PARQUET_DIR --out ANSWER_DIR [--queries SQL_DIR] [--threads N]
  duckref bench   --dir PARQUET_DIR [--threads 2] [--runs 1] [--queries SQL_DIR] [--only 1,6,...]
  duckref time    --dir PARQUET_DIR --sql SQL [--threads 2] [--runs 1]   (prints the best wall seconds)`)
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usage()
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "directory holding <table>.parquet for the eight TPC-H tables")
	out := fs.String("out", "", "answers: directory to write qNN.csv into")
	queries := fs.String("queries", "", "directory of q01.sql..q22.sql (default: tpch/queries of the enclosing repository)")
	threads := fs.Int("threads", 2, "DuckDB worker threads")
	runs := fs.Int("runs", 1, "bench: runs per query; the fastest is reported")
	only := fs.String("only", "", "comma-separated query numbers to run (default all 22)")
	sqlText := fs.String("sql", "", "time: the statement to time")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return usage()
	}
	qdir := *queries
	if qdir == "" {
		var err error
		if qdir, err = findQueriesDir(); err != nil {
			return err
		}
	}
	nums, err := parseOnly(*only)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := openDB(ctx, *dir, *threads)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "answers":
		if *out == "" {
			return usage()
		}
		return writeAnswers(ctx, db, qdir, *out, nums, stdout)
	case "bench":
		return bench(ctx, db, qdir, nums, *runs, stdout)
	case "time":
		if *sqlText == "" {
			return usage()
		}
		best := time.Duration(-1)
		for r := 0; r < max(*runs, 1); r++ {
			start := time.Now()
			if _, err := drain(ctx, db, *sqlText); err != nil {
				return err
			}
			if d := time.Since(start); best < 0 || d < best {
				best = d
			}
		}
		fmt.Fprintf(stdout, "%.3f\n", best.Seconds())
		return nil
	default:
		return usage()
	}
}

func parseOnly(s string) ([]int, error) {
	if s == "" {
		nums := make([]int, 22)
		for i := range nums {
			nums[i] = i + 1
		}
		return nums, nil
	}
	var nums []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 22 {
			return nil, fmt.Errorf("bad query number %q in --only (want 1..22)", f)
		}
		nums = append(nums, n)
	}
	return nums, nil
}

// findQueriesDir walks up from the working directory to the repository
// root holding tpch/queries.
func findQueriesDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		q := filepath.Join(d, "tpch", "queries")
		if st, err := os.Stat(q); err == nil && st.IsDir() {
			return q, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no tpch/queries directory above %s; pass --queries", wd)
		}
	}
}

func openDB(ctx context.Context, dir string, threads int) (*sql.DB, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	// One connection: views and settings live in it.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads)); err != nil {
		db.Close()
		return nil, fmt.Errorf("set threads: %w", err)
	}
	for _, t := range tables {
		p := filepath.Join(abs, t+".parquet")
		if _, err := os.Stat(p); err != nil {
			db.Close()
			return nil, fmt.Errorf("table %s: %w", t, err)
		}
		stmt := fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet('%s')", t, strings.ReplaceAll(p, "'", "''"))
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("create view %s: %w", t, err)
		}
	}
	return db, nil
}

func readQuery(qdir string, n int) (string, error) {
	b, err := os.ReadFile(filepath.Join(qdir, fmt.Sprintf("q%02d.sql", n)))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(strings.TrimSpace(string(b)), ";"), nil
}

func writeAnswers(ctx context.Context, db *sql.DB, qdir, out string, nums []int, stdout io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, n := range nums {
		q, err := readQuery(qdir, n)
		if err != nil {
			return err
		}
		path := filepath.Join(out, fmt.Sprintf("q%02d.csv", n))
		rows, err := runToCSV(ctx, db, q, path)
		if err != nil {
			return fmt.Errorf("q%02d: %w", n, err)
		}
		fmt.Fprintf(stdout, "q%02d: %d rows -> %s\n", n, rows, path)
	}
	return nil
}

// runToCSV runs q and writes its result to path (via a temporary file).
func runToCSV(ctx context.Context, db *sql.DB, q, path string) (int, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	n, err := queryCSV(ctx, db, q, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return n, os.Rename(tmp, path)
}

// queryCSV writes the canonical CSV of q's result to w:
//   - a header row of column names;
//   - DECIMAL printed exactly at its scale ("12.30"), integers in decimal,
//     floating point with the shortest exact representation
//     (strconv.FormatFloat(f, 'g', -1, 64)), DATE as YYYY-MM-DD, TIMESTAMP
//     as "YYYY-MM-DD HH:MM:SS[.ffffff]", BOOLEAN as true/false;
//   - NULL as an empty field; strings quoted only when CSV needs it
//     (TPC-H answers contain no empty strings, so "" never means NULL's
//     sibling).
func queryCSV(ctx context.Context, db *sql.DB, q string, w io.Writer) (int, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			s, err := formatValue(v, types[i].DatabaseTypeName())
			if err != nil {
				return n, fmt.Errorf("row %d column %s: %w", n+1, cols[i], err)
			}
			rec[i] = s
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}

func formatValue(v any, dbType string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case duckdb.Decimal:
		return formatDecimal(x.Value, int(x.Scale)), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), nil
	case *big.Int:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case time.Time:
		if dbType == "DATE" {
			return x.Format("2006-01-02"), nil
		}
		return x.Format("2006-01-02 15:04:05.999999"), nil
	default:
		return "", fmt.Errorf("unsupported value %T for DuckDB type %s", v, dbType)
	}
}

// formatDecimal prints unscaled*10^-scale with exactly scale fraction digits.
func formatDecimal(unscaled *big.Int, scale int) string {
	s := new(big.Int).Abs(unscaled).String()
	neg := unscaled.Sign() < 0
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func bench(ctx context.Context, db *sql.DB, qdir string, nums []int, runs int, stdout io.Writer) error {
	if runs < 1 {
		runs = 1
	}
	var total time.Duration
	fmt.Fprintf(stdout, "query\tseconds\trows\n")
	for _, n := range nums {
		q, err := readQuery(qdir, n)
		if err != nil {
			return err
		}
		var times []time.Duration
		rowsOut := 0
		for r := 0; r < runs; r++ {
			start := time.Now()
			k, err := drain(ctx, db, q)
			if err != nil {
				return fmt.Errorf("q%02d: %w", n, err)
			}
			times = append(times, time.Since(start))
			rowsOut = k
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		total += times[0]
		fmt.Fprintf(stdout, "q%02d\t%.3f\t%d\n", n, times[0].Seconds(), rowsOut)
	}
	fmt.Fprintf(stdout, "total\t%.3f\n", total.Seconds())
	return nil
}

// drain runs q and reads every row, as a client would.
func drain(ctx context.Context, db *sql.DB, q string) (int, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}
