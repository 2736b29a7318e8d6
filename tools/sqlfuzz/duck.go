package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/flint-engine/flint/sqllogictest/slt"
)

// openDuck opens an in-memory DuckDB on one connection (views live in it).
func openDuck(ctx context.Context) (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "SET threads = 1"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// duckEngine is the oracle: DuckDB with a view per tpchn table.
type duckEngine struct {
	db *sql.DB
}

func newDuckEngine(ctx context.Context, dir string) (*duckEngine, error) {
	db, err := openDuck(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tableNames {
		q := fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet('%s')", t, filepath.ToSlash(filepath.Join(dir, t+".parquet")))
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &duckEngine{db: db}, nil
}

func (d *duckEngine) Close() error { return d.db.Close() }

// Query runs q and returns its rows rendered as package slt prescribes.
func (d *duckEngine) Query(ctx context.Context, q string) (*Result, error) {
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, ct := range cts {
		res.Cols = append(res.Cols, duckKind(ct.DatabaseTypeName()))
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			s, err := renderDuck(v, cts[i].DatabaseTypeName())
			if err != nil {
				return nil, fmt.Errorf("row %d column %d: %w", len(res.Rows)+1, i+1, err)
			}
			row[i] = s
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// duckKind classifies a DuckDB column type.
func duckKind(dbType string) Kind {
	t := strings.ToUpper(dbType)
	switch {
	case strings.HasPrefix(t, "DECIMAL"):
		return KDecimal
	case t == "DOUBLE" || t == "FLOAT":
		return KFloat
	case strings.HasSuffix(t, "INT") || t == "INTEGER" || t == "HUGEINT" || t == "UHUGEINT":
		return KInt
	case t == "VARCHAR":
		return KText
	case t == "BOOLEAN":
		return KBool
	case t == "DATE":
		return KDate
	}
	return KOther
}

// renderDuck formats a DuckDB value as package slt prescribes (the same
// rendering tools/sltcomplete uses).
func renderDuck(v any, dbType string) (string, error) {
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
	case duckdb.Interval:
		return fmt.Sprintf("interval(%d months %d days %d us)", x.Months, x.Days, x.Micros), nil
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
