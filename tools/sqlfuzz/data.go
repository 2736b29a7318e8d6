package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// genSQL writes the tpchn data set (see tpchn.sql).
//
//go:embed tpchn.sql
var genSQL string

// tableNames are the eight TPC-H tables of the tpchn data set.
var tableNames = []string{"nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"}

// genData writes the tpchn data set into out from
// <root>/testdata/tpch/sf-sample; salt 0 is the committed
// testdata/slt/data/tpchn, other salts sample other orders and put the
// NULLs elsewhere. The output is byte-identical for a given DuckDB version
// (one thread, ordered rows).
func genData(ctx context.Context, root, out string, salt int) error {
	src := filepath.Join(root, "testdata", "tpch", "sf-sample")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	db, err := openDuck(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	text := strings.NewReplacer("__SRC__", filepath.ToSlash(src), "__OUT__", filepath.ToSlash(out), "__SALT__", fmt.Sprint(salt)).Replace(genSQL)
	for _, stmt := range strings.Split(text, ";\n") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("tpchn.sql: %w\n%s", err, stmt)
		}
	}
	return nil
}

// dataDir is where the tpchn Parquet files live.
func dataDir(root string) string {
	return filepath.Join(root, "testdata", "slt", "data", "tpchn")
}

// findRoot walks up from the working directory to the repository root
// (the directory holding testdata/slt).
func findRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "testdata", "slt")); err == nil && st.IsDir() {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no testdata/slt directory above %s", wd)
		}
	}
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

// createTables are the statements that declare the tpchn tables, as an
// .slt file spells them (__DATA__ is testdata/slt/data).
func createTables() []string {
	out := make([]string, len(tableNames))
	for i, t := range tableNames {
		out[i] = fmt.Sprintf("CREATE EXTERNAL TABLE %s STORED AS PARQUET LOCATION '__DATA__/tpchn/%s.parquet'", t, t)
	}
	return out
}
