// Command sltcomplete fills in the expected results of the sqllogictest
// corpus (testdata/slt/*.slt) by running every query record in DuckDB, the
// independent reference engine. It lives in its own module because DuckDB
// comes in through cgo and static libraries that the engine must never
// depend on.
//
// For each file it opens a fresh in-memory DuckDB, runs the "statement ok"
// records in order (CREATE EXTERNAL TABLE is translated to a view over
// read_parquet / read_csv / read_json), runs each "query" record and
// replaces its "----" block with DuckDB's rows rendered as package
// sqllogictest/slt prescribes. Error records are not run: they test Flint's
// own messages (see the runner's -rewrite flag). Review the diff before
// committing: a changed block means DuckDB disagrees with the old answer.
// A query record preceded by "# duckdb: SQL" comment lines runs that SQL
// instead (for Flint functions DuckDB lacks, such as the ML transforms,
// written out by their definitions).
// Files with a "# sltcomplete: skip" line (their answers come from
// elsewhere, e.g. ml.slt's from XGBoost and LightGBM) are left out of the
// default set.
//
// Usage (from this directory):
//
//	go run . [FILE.slt ...]          # default: every ../../testdata/slt/*.slt
//	go run . -gendata                # run ../../testdata/slt/data/gen.sql
//	go run . -check FILE.slt         # report differences, write nothing
//	go run . -e "SELECT ..."         # run one query in DuckDB and print it
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/flint-engine/flint/sqllogictest/slt"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sltcomplete:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sltcomplete", flag.ContinueOnError)
	gendata := fs.Bool("gendata", false, "run testdata/slt/data/gen.sql in DuckDB (writes the Parquet data files)")
	check := fs.Bool("check", false, "only report records whose expected block differs from DuckDB")
	execSQL := fs.String("e", "", "run one SQL query in DuckDB and print its rows (rendered as in .slt files); __DATA__ is testdata/slt/data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := findCorpus()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if *gendata {
		return genData(ctx, filepath.Join(root, "data"))
	}
	if *execSQL != "" {
		return runOne(ctx, slt.ExpandSQL(*execSQL, filepath.Join(root, "data")), stdout)
	}
	files := fs.Args()
	if len(files) == 0 {
		all, err := filepath.Glob(filepath.Join(root, "*.slt"))
		if err != nil {
			return err
		}
		for _, f := range all {
			if b, err := os.ReadFile(f); err == nil && strings.Contains("\n"+string(b), "\n# sltcomplete: skip") {
				fmt.Fprintf(stdout, "%s: skipped (# sltcomplete: skip)\n", f)
				continue
			}
			files = append(files, f)
		}
	}
	var failed []string
	for _, f := range files {
		n, err := complete(ctx, f, *check, stdout)
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		fmt.Fprintf(stdout, "%s: %d queries\n", f, n)
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	return nil
}

// findCorpus walks up from the working directory to testdata/slt.
func findCorpus() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "testdata", "slt")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no testdata/slt directory above %s", wd)
		}
	}
}

// runOne runs ';'-separated statements and prints the last one's rows.
func runOne(ctx context.Context, text string, stdout io.Writer) error {
	db, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	stmts := strings.Split(text, ";")
	for _, st := range stmts[:len(stmts)-1] {
		q, err := translate(st)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	q, err := translate(stmts[len(stmts)-1])
	if err != nil {
		return err
	}
	rows, err := query(ctx, db, q, -1, "")
	if err != nil {
		return err
	}
	for _, line := range slt.Rows(rows, slt.NoSort) {
		fmt.Fprintln(stdout, line)
	}
	return nil
}

func openDB(ctx context.Context) (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	// One connection: views live in it.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "SET threads = 2"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func genData(ctx context.Context, dataDir string) error {
	b, err := os.ReadFile(filepath.Join(dataDir, "gen.sql"))
	if err != nil {
		return err
	}
	db, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, stmt := range strings.Split(slt.ExpandSQL(string(b), dataDir), ";") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("gen.sql: %w\n%s", err, stmt)
		}
	}
	return nil
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// complete runs one file and rewrites its expected blocks (or, with check,
// reports the records whose block would change).
func complete(ctx context.Context, path string, check bool, stdout io.Writer) (int, error) {
	f, err := slt.ParseFile(path)
	if err != nil {
		return 0, err
	}
	dataDir, err := slt.DataDir(path)
	if err != nil {
		return 0, err
	}
	db, err := openDB(ctx)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rw := slt.NewRewriter(f)
	var errs []string
	n := 0
	for _, r := range f.Records {
		if r.ExpectError {
			continue
		}
		where := fmt.Sprintf("%s:%d", path, r.Line)
		sql := r.SQL
		if r.Reference != "" {
			sql = r.Reference
		}
		q, err := translate(slt.ExpandSQL(sql, dataDir))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		if r.Kind == slt.Statement {
			if _, err := db.ExecContext(ctx, q); err != nil {
				errs = append(errs, fmt.Sprintf("%s: DuckDB: %v", where, err))
			}
			continue
		}
		rows, err := query(ctx, db, q, len(r.Types), r.Types)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: DuckDB: %v", where, err))
			continue
		}
		n++
		lines := slt.Rows(rows, r.Sort)
		if check {
			if strings.Join(lines, "\n") != strings.Join(r.Expected, "\n") {
				fmt.Fprintf(stdout, "%s: DuckDB gives:\n  %s\n", where, strings.Join(lines, "\n  "))
			}
			continue
		}
		rw.SetResults(r, lines)
	}
	if !check {
		if err := rw.WriteFile(); err != nil {
			return n, err
		}
	}
	if len(errs) > 0 {
		return n, errors.New(strings.Join(errs, "\n"))
	}
	return n, nil
}

var createExternal = regexp.MustCompile(`(?is)^\s*CREATE\s+EXTERNAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*(?:\((.*?)\))?\s*STORED\s+AS\s+(\w+)\s+LOCATION\s+'([^']*)'\s*(?:OPTIONS\s*\((.*)\))?\s*;?\s*$`)

var optionPair = regexp.MustCompile(`(?s)^\s*'?([\w.]+)'?\s*=?\s*'([^']*)'\s*$`)

// translate rewrites Flint-only statements into DuckDB SQL: CREATE
// EXTERNAL TABLE becomes a view over DuckDB's file readers. Everything else
// passes through unchanged (the corpus sticks to SQL both engines accept).
func translate(q string) (string, error) {
	m := createExternal.FindStringSubmatch(q)
	if m == nil {
		if regexp.MustCompile(`(?i)^\s*CREATE\s+EXTERNAL`).MatchString(q) {
			return "", fmt.Errorf("cannot translate %q (supported: CREATE EXTERNAL TABLE name [(cols)] STORED AS fmt LOCATION '...' [OPTIONS (k 'v', ...)])", q)
		}
		return q, nil
	}
	name, cols, format, loc, optText := m[1], m[2], strings.ToLower(m[3]), m[4], m[5]
	opts := map[string]string{}
	if strings.TrimSpace(optText) != "" {
		for _, kv := range strings.Split(optText, ",") {
			p := optionPair.FindStringSubmatch(kv)
			if p == nil {
				return "", fmt.Errorf("cannot translate option %q", kv)
			}
			opts[strings.ToLower(p[1])] = p[2]
		}
	}
	if st, err := os.Stat(loc); err == nil && st.IsDir() {
		loc = filepath.Join(loc, "*."+format)
	}
	args := []string{quote(loc)}
	if cols != "" {
		var defs []string
		for _, c := range splitTop(cols) {
			f := strings.Fields(c)
			if len(f) < 2 {
				return "", fmt.Errorf("cannot translate column %q", c)
			}
			defs = append(defs, quote(f[0])+": "+quote(strings.Join(f[1:], " ")))
		}
		args = append(args, "columns = {"+strings.Join(defs, ", ")+"}")
	}
	var fn string
	switch format {
	case "parquet":
		fn = "read_parquet"
	case "csv":
		fn = "read_csv"
		header := "true"
		if v, ok := opts["header"]; ok {
			header = v
		}
		// Flint reads a quoted empty field ("") as the empty string and
		// only an unquoted empty field as NULL.
		args = append(args, "header = "+header, "allow_quoted_nulls = false")
		if v, ok := opts["delimiter"]; ok {
			args = append(args, "delim = "+quote(v))
		}
		if v, ok := opts["null"]; ok {
			args = append(args, "nullstr = "+quote(v))
		}
	case "json":
		fn = "read_json"
		args = append(args, "format = 'newline_delimited'")
	default:
		return "", fmt.Errorf("unknown format %q", format)
	}
	return fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM %s(%s)", name, fn, strings.Join(args, ", ")), nil
}

// splitTop splits a column list on commas outside parentheses.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// query runs q and renders its rows; ncols (unless negative) is the
// number of columns the record declares and letters (unless empty) their
// type letters, checked against DuckDB's column types.
func query(ctx context.Context, db *sql.DB, q string, ncols int, letters string) ([][]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	if ncols >= 0 && len(types) != ncols {
		return nil, fmt.Errorf("query declares %d columns but returns %d", ncols, len(types))
	}
	if letters != "" {
		for i, ct := range types {
			if !letterFits(letters[i], ct.DatabaseTypeName()) {
				return nil, fmt.Errorf("column %d is %s in DuckDB but declared %c", i+1, ct.DatabaseTypeName(), letters[i])
			}
		}
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out [][]string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			s, err := render(v, types[i].DatabaseTypeName())
			if err != nil {
				return nil, fmt.Errorf("row %d column %d: %w", len(out)+1, i+1, err)
			}
			row[i] = s
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// letterFits reports whether a column of DuckDB type dbType may be
// declared with the .slt type letter (see package slt).
func letterFits(letter byte, dbType string) bool {
	t := strings.ToUpper(dbType)
	switch {
	case t == "NULL" || t == `"NULL"`:
		return true
	case strings.HasPrefix(t, "DECIMAL") || t == "DOUBLE" || t == "FLOAT":
		return letter == 'R'
	case strings.HasSuffix(t, "INT") || t == "INTEGER" || t == "HUGEINT" || t == "UHUGEINT":
		return letter == 'I'
	case t == "VARCHAR":
		return letter == 'T'
	case t == "BOOLEAN":
		return letter == 'B'
	case t == "DATE":
		return letter == 'D'
	}
	// Other types (TIMESTAMP, ...) are compared as text.
	return letter == 'T'
}

// render formats a DuckDB value as package slt prescribes.
func render(v any, dbType string) (string, error) {
	switch x := v.(type) {
	case nil:
		return slt.Null, nil
	case duckdb.Decimal:
		return formatDecimal(x.Value, int(x.Scale)), nil
	case float64:
		return slt.FormatFloat(x), nil
	case float32:
		return slt.FormatFloat(float64(x)), nil
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int:
		return fmt.Sprint(x), nil
	case *big.Int:
		return x.String(), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case string:
		return slt.FormatText(x), nil
	case []byte:
		return slt.FormatText(string(x)), nil
	case time.Time:
		if dbType == "DATE" {
			return x.Format("2006-01-02"), nil
		}
		if x.Nanosecond() == 0 {
			return x.Format("2006-01-02 15:04:05"), nil
		}
		return x.Format("2006-01-02 15:04:05.999999999"), nil
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
