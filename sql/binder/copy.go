package binder

import (
	"sort"
	"strings"
	"time"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
)

// Copy is a bound COPY ... TO statement: the query whose rows are written
// and where and how to write them.
type Copy struct {
	Query plan.Node
	// To is the target location as written.
	To string
	// Format is parquet, csv or json: the FORMAT option, else the
	// target's extension (.parquet, .csv, .json/.ndjson), else parquet.
	Format string
	// Mode is error, overwrite or append: the MODE option, or the
	// DuckDB-style flags OVERWRITE / APPEND; default error.
	Mode string
	// PartitionBy are the PARTITION_BY columns, named as in the query's
	// output.
	PartitionBy []string
	// Options are the remaining options, for the file format.
	Options map[string]string
}

// BindCopy binds a COPY statement: the query, its format, mode and
// partition columns (which must be output columns of the query).
func (b *Binder) BindCopy(sql string, c *ast.Copy) (*Copy, error) {
	n, err := b.BindQuery(sql, c.Query)
	if err != nil {
		return nil, err
	}
	b.sql = sql
	b.stmtTime = time.Time{}
	out := &Copy{Query: n, To: c.To, Options: map[string]string{}}
	if c.To == "" {
		return nil, b.errf(c.At, "COPY needs a target location")
	}
	mode := ""
	setMode := func(m string) error {
		if mode != "" && mode != m {
			return b.errf(c.At, "COPY options ask for both %s and %s", mode, m)
		}
		mode = m
		return nil
	}
	keys := make([]string, 0, len(c.Options))
	for k := range c.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := c.Options[k]
		switch k {
		case "format":
			f := strings.ToLower(v)
			switch f {
			case "parquet", "csv", "json":
			case "ndjson", "jsonl":
				f = "json"
			default:
				return nil, b.errf(c.At, "COPY FORMAT %s is not supported (want parquet, csv or json)", v)
			}
			out.Format = f
		case "mode":
			m := strings.ToLower(v)
			switch m {
			case "error", "errorifexists", "error_if_exists":
				m = "error"
			case "overwrite", "append":
			default:
				return nil, b.errf(c.At, "COPY MODE %s is not supported (want error, overwrite or append)", v)
			}
			if err := setMode(m); err != nil {
				return nil, err
			}
		case "overwrite", "append":
			on, ok := boolOption(v)
			if !ok {
				return nil, b.errf(c.At, "COPY option %s=%s: want true or false", strings.ToUpper(k), v)
			}
			if on {
				if err := setMode(k); err != nil {
					return nil, err
				}
			}
		default:
			out.Options[k] = v
		}
	}
	if mode == "" {
		mode = "error"
	}
	out.Mode = mode
	if out.Format == "" {
		out.Format = formatOfTarget(c.To)
	}
	cols := n.Schema()
	for _, p := range c.PartitionBy {
		var found []string
		for _, col := range cols {
			if strings.EqualFold(col.Name, p) {
				found = append(found, col.Name)
			}
		}
		switch len(found) {
		case 0:
			names := make([]string, len(cols))
			for i, col := range cols {
				names[i] = col.Name
			}
			return nil, b.errf(c.At, "PARTITION_BY column %s is not a column of the COPY query (%s)", p, strings.Join(names, ", "))
		case 1:
			out.PartitionBy = append(out.PartitionBy, found[0])
		default:
			return nil, b.errf(c.At, "PARTITION_BY column %s is ambiguous: the COPY query has %d columns of that name", p, len(found))
		}
	}
	if len(out.Options) == 0 {
		out.Options = nil
	}
	return out, nil
}

func boolOption(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1", "on", "yes":
		return true, true
	case "false", "0", "off", "no":
		return false, true
	}
	return false, false
}

// formatOfTarget guesses the format from the target's extension.
func formatOfTarget(to string) string {
	p := strings.ToLower(strings.TrimSuffix(to, "/"))
	p = strings.TrimSuffix(strings.TrimSuffix(p, ".gz"), ".zst")
	switch {
	case strings.HasSuffix(p, ".csv"), strings.HasSuffix(p, ".tsv"):
		return "csv"
	case strings.HasSuffix(p, ".json"), strings.HasSuffix(p, ".ndjson"), strings.HasSuffix(p, ".jsonl"):
		return "json"
	}
	return "parquet"
}
