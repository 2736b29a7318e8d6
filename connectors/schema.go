package connectors

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// ParseSchema parses a simple column list such as
// `a INT, b DECIMAL(15,2), "c d" DATE` into an Arrow schema in engine types.
// Supported types: BOOLEAN, TINYINT, SMALLINT, INT/INTEGER, BIGINT, REAL/FLOAT,
// DOUBLE, DECIMAL(p,s)/NUMERIC(p,s) (p ≤ 38), DATE, TIMESTAMP, and
// VARCHAR/VARCHAR(n)/CHAR(n)/TEXT/STRING. Every column is nullable.
func ParseSchema(s string) (*arrow.Schema, error) {
	var fields []arrow.Field
	seen := map[string]bool{}
	for i, part := range splitTopLevel(s) {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("column %d: empty definition in %q", i+1, s)
		}
		var name, typ string
		if part[0] == '"' {
			end := strings.IndexByte(part[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("column %d: unterminated quoted name in %q", i+1, part)
			}
			name, typ = part[1:end+1], strings.TrimSpace(part[end+2:])
		} else {
			sp := strings.IndexAny(part, " \t")
			if sp < 0 {
				return nil, fmt.Errorf("column %d (%s): missing type", i+1, part)
			}
			name, typ = part[:sp], strings.TrimSpace(part[sp+1:])
		}
		dt, err := parseTypeName(typ)
		if err != nil {
			return nil, fmt.Errorf("column %d (%s): %w", i+1, name, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("column %d: duplicate name %q", i+1, name)
		}
		seen[name] = true
		fields = append(fields, arrow.Field{Name: name, Type: dt, Nullable: true})
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("no columns in %q", s)
	}
	return arrow.NewSchema(fields, nil), nil
}

func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseTypeName(t string) (arrow.DataType, error) {
	u := strings.ToUpper(strings.Join(strings.Fields(t), " "))
	base, args := u, ""
	if i := strings.IndexByte(u, '('); i >= 0 {
		if !strings.HasSuffix(u, ")") {
			return nil, fmt.Errorf("bad type %q", t)
		}
		base, args = strings.TrimSpace(u[:i]), u[i+1:len(u)-1]
	}
	switch base {
	case "BOOLEAN", "BOOL":
		return arrow.FixedWidthTypes.Boolean, nil
	case "TINYINT", "INT8":
		return arrow.PrimitiveTypes.Int8, nil
	case "SMALLINT", "INT16":
		return arrow.PrimitiveTypes.Int16, nil
	case "INT", "INTEGER", "INT32":
		return arrow.PrimitiveTypes.Int32, nil
	case "BIGINT", "INT64", "LONG":
		return arrow.PrimitiveTypes.Int64, nil
	case "REAL", "FLOAT", "FLOAT32":
		return arrow.PrimitiveTypes.Float32, nil
	case "DOUBLE", "DOUBLE PRECISION", "FLOAT64":
		return arrow.PrimitiveTypes.Float64, nil
	case "DATE":
		return arrow.FixedWidthTypes.Date32, nil
	case "TIMESTAMP", "DATETIME":
		return engineTimestamp, nil
	case "VARCHAR", "CHAR", "TEXT", "STRING", "CHARACTER VARYING":
		return arrow.BinaryTypes.String, nil
	case "DECIMAL", "NUMERIC":
		p, s := 38, 0
		if args != "" {
			parts := strings.Split(args, ",")
			if len(parts) > 2 {
				return nil, fmt.Errorf("bad type %q", t)
			}
			var err error
			if p, err = strconv.Atoi(strings.TrimSpace(parts[0])); err != nil {
				return nil, fmt.Errorf("bad precision in %q", t)
			}
			if len(parts) == 2 {
				if s, err = strconv.Atoi(strings.TrimSpace(parts[1])); err != nil {
					return nil, fmt.Errorf("bad scale in %q", t)
				}
			}
		}
		if p < 1 || p > 38 || s < 0 || s > p {
			return nil, fmt.Errorf("decimal precision/scale out of range in %q (want 1 ≤ p ≤ 38, 0 ≤ s ≤ p)", t)
		}
		return engineDecimal(int32(p), int32(s)), nil
	}
	return nil, fmt.Errorf("unsupported type %q", t)
}
