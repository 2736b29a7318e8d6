package tpch

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed queries/*.sql
var queryFS embed.FS

// NumQueries is the number of TPC-H queries.
const NumQueries = 22

// Query returns the text of TPC-H query n (1..22) with the spec's
// validation substitution parameters (TPC-H 2.4.x.4), in standard SQL that
// DuckDB and PostgreSQL-style parsers accept: a leading "--" comment line
// naming the query, no trailing semicolon. It returns "" for n outside 1..22.
func Query(n int) string {
	q, err := QueryText(n)
	if err != nil {
		return ""
	}
	return q
}

// QueryText is Query with an error for an unknown query number.
func QueryText(n int) (string, error) {
	if n < 1 || n > NumQueries {
		return "", fmt.Errorf("tpch: no query %d (want 1..%d)", n, NumQueries)
	}
	b, err := queryFS.ReadFile(QueryFile(n))
	if err != nil {
		return "", fmt.Errorf("tpch: read query %d: %w", n, err)
	}
	return strings.TrimRight(strings.TrimSpace(string(b)), ";"), nil
}

// QueryFile returns the embedded file name of query n, e.g. "queries/q01.sql".
func QueryFile(n int) string { return fmt.Sprintf("queries/q%02d.sql", n) }
