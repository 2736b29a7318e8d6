package ast

import "strings"

// reserved lists the keywords that cannot be used as bare identifiers
// (column, table or alias names) anywhere. Every other keyword (YEAR, MONTH,
// DAY, DATE, VALUE, FIRST, LAST, KEY, FORMAT, ...) doubles as an identifier
// where the grammar allows one. Keep in sync with the parser, which uses
// IsReserved for this decision.
var reserved = map[string]bool{
	"ALL": true, "AND": true, "ANY": true, "AS": true, "ASC": true,
	"BETWEEN": true, "BOTH": true, "BY": true, "CASE": true, "CAST": true,
	"CROSS": true, "CURRENT_DATE": true, "CURRENT_TIME": true,
	"CURRENT_TIMESTAMP": true, "DESC": true, "DISTINCT": true, "ELSE": true,
	"END": true, "ESCAPE": true, "EXCEPT": true, "EXISTS": true, "EXTRACT": true,
	"FALSE": true, "FETCH": true, "FOR": true, "FROM": true,
	"FULL": true, "GROUP": true, "HAVING": true, "ILIKE": true, "IN": true,
	"INNER": true, "INTERSECT": true, "INTERVAL": true, "IS": true,
	"ISNULL": true, "JOIN": true, "LEADING": true, "LEFT": true, "LIKE": true,
	"LIMIT": true, "NATURAL": true, "NOT": true, "NOTNULL": true, "NULL": true,
	"OFFSET": true, "ON": true, "OR": true, "ORDER": true, "OUTER": true,
	"OVER": true, "POSITION": true, "QUALIFY": true, "RIGHT": true,
	"SELECT": true, "SIMILAR": true, "SOME": true, "SUBSTRING": true,
	"TABLE": true, "THEN": true, "TO": true, "TRAILING": true, "TRIM": true,
	"TRUE": true, "TRY_CAST": true, "UNION": true, "UNKNOWN": true,
	"USING": true, "VALUES": true, "WHEN": true, "WHERE": true, "WINDOW": true,
	"WITH": true,
}

// IsReserved reports whether word (any case) is a reserved keyword.
func IsReserved(word string) bool { return reserved[strings.ToUpper(word)] }

// QuoteIdent renders an identifier for SQL text: bare when it is a lower-case
// simple name that is not reserved, otherwise double-quoted with embedded
// quotes doubled.
func QuoteIdent(s string) string {
	if isBareIdent(s) && !reserved[strings.ToUpper(s)] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func isBareIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// FormatName renders a possibly qualified name (table or column parts).
func FormatName(parts []string) string {
	var b strings.Builder
	writeName(&b, parts)
	return b.String()
}

func writeName(b *strings.Builder, parts []string) {
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(QuoteIdent(p))
	}
}

// QuoteString renders s as a SQL string literal with ” escapes.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
