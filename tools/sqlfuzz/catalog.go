package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Catalog describes the tpchn tables for the generator: columns with
// types, primary keys, foreign-key edges, row counts, and sample values
// (so literals in predicates hit real data).
type Catalog struct {
	Tables map[string]*Table
	Names  []string // sorted as tableNames
	Edges  []Edge
}

// Table is one tpchn table.
type Table struct {
	Name string
	Cols []*Col
	PK   []string
	Rows int
}

// Col is a column with sample literals (SQL text, sorted, distinct).
type Col struct {
	Name    string
	T       Type
	Samples []string
}

// Edge is an equality that joins two tables (a foreign key or a shared
// domain, such as nation keys of customers and suppliers).
type Edge struct {
	A, ACol, B, BCol string
}

// schema lists the tpchn columns; decimals are DECIMAL(15,2).
var schema = []struct {
	name string
	pk   []string
	cols string // name:kind pairs
}{
	{"nation", []string{"n_nationkey"}, "n_nationkey:i n_name:t n_regionkey:i n_comment:t"},
	{"region", []string{"r_regionkey"}, "r_regionkey:i r_name:t r_comment:t"},
	{"part", []string{"p_partkey"}, "p_partkey:i p_name:t p_mfgr:t p_brand:t p_type:t p_size:i p_container:t p_retailprice:d p_comment:t"},
	{"supplier", []string{"s_suppkey"}, "s_suppkey:i s_name:t s_address:t s_nationkey:i s_phone:t s_acctbal:d s_comment:t"},
	{"partsupp", []string{"ps_partkey", "ps_suppkey"}, "ps_partkey:i ps_suppkey:i ps_availqty:i ps_supplycost:d ps_comment:t"},
	{"customer", []string{"c_custkey"}, "c_custkey:i c_name:t c_address:t c_nationkey:i c_phone:t c_acctbal:d c_mktsegment:t c_comment:t"},
	{"orders", []string{"o_orderkey"}, "o_orderkey:i o_custkey:i o_orderstatus:t o_totalprice:d o_orderdate:D o_orderpriority:t o_clerk:t o_shippriority:i o_comment:t"},
	{"lineitem", []string{"l_orderkey", "l_linenumber"}, "l_orderkey:i l_partkey:i l_suppkey:i l_linenumber:i l_quantity:d l_extendedprice:d l_discount:d l_tax:d l_returnflag:t l_linestatus:t l_shipdate:D l_commitdate:D l_receiptdate:D l_shipinstruct:t l_shipmode:t l_comment:t"},
}

var edges = []Edge{
	{"lineitem", "l_orderkey", "orders", "o_orderkey"},
	{"lineitem", "l_partkey", "part", "p_partkey"},
	{"lineitem", "l_suppkey", "supplier", "s_suppkey"},
	{"lineitem", "l_partkey", "partsupp", "ps_partkey"},
	{"lineitem", "l_suppkey", "partsupp", "ps_suppkey"},
	{"orders", "o_custkey", "customer", "c_custkey"},
	{"customer", "c_nationkey", "nation", "n_nationkey"},
	{"supplier", "s_nationkey", "nation", "n_nationkey"},
	{"customer", "c_nationkey", "supplier", "s_nationkey"},
	{"nation", "n_regionkey", "region", "r_regionkey"},
	{"partsupp", "ps_partkey", "part", "p_partkey"},
	{"partsupp", "ps_suppkey", "supplier", "s_suppkey"},
}

// maxSamples bounds the sample literals kept per column.
const maxSamples = 24

// loadCatalog reads row counts and sample values from DuckDB.
func loadCatalog(ctx context.Context, db *sql.DB) (*Catalog, error) {
	c := &Catalog{Tables: map[string]*Table{}, Edges: edges}
	for _, s := range schema {
		t := &Table{Name: s.name, PK: s.pk}
		for _, f := range strings.Fields(s.cols) {
			name, k, _ := strings.Cut(f, ":")
			col := &Col{Name: name}
			switch k {
			case "i":
				col.T = tInt
			case "t":
				col.T = tText
			case "d":
				col.T = tDec(2)
			case "D":
				col.T = tDate
			}
			t.Cols = append(t.Cols, col)
		}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+s.name).Scan(&t.Rows); err != nil {
			return nil, err
		}
		for _, col := range t.Cols {
			// Evenly spread distinct values, in a fixed order.
			q := fmt.Sprintf(`SELECT CAST(v AS VARCHAR) FROM (
				SELECT v, row_number() OVER (ORDER BY v) AS rn, count(*) OVER () AS n
				FROM (SELECT DISTINCT %s AS v FROM %s WHERE %s IS NOT NULL))
				WHERE (rn - 1) %% greatest(1, n // %d) = 0 ORDER BY v`, col.Name, s.name, col.Name, maxSamples)
			rows, err := db.QueryContext(ctx, q)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return nil, err
				}
				col.Samples = append(col.Samples, literal(v, col.T))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		c.Tables[s.name] = t
		c.Names = append(c.Names, s.name)
	}
	return c, nil
}

// literal spells a value of type t as SQL.
func literal(v string, t Type) string {
	switch t.K {
	case KText:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case KDate:
		return "DATE '" + v + "'"
	}
	return v
}

func (t *Table) col(name string) *Col {
	for _, c := range t.Cols {
		if c.Name == name {
			return c
		}
	}
	return nil
}
