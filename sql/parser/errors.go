package parser

import (
	"fmt"
	"strings"

	"github.com/flint-engine/flint/sql/ast"
)

// Error is a syntax error at a position of the SQL text.
type Error struct {
	Msg string  // e.g. `expected FROM, found "FORM"`
	Pos ast.Pos // position of the offending token
	SQL string  // the whole source text, used to render the caret
}

// Error renders the message with the source line and a caret
// (see FormatError).
func (e *Error) Error() string { return FormatError(e.SQL, e.Pos, e.Msg) }

// FormatError renders a syntax error with its position, the source line and
// a caret under the offending character. The line before the offending one
// is shown too, for context:
//
//	syntax error at line 2, column 1: expected FROM, found "FORM"
//	  select a
//	  FORM t
//	  ^
//
// The binder renders its own errors the same way with FormatErrorKind.
func FormatError(sql string, pos ast.Pos, msg string) string {
	return FormatErrorKind("syntax error", sql, pos, msg)
}

// FormatErrorKind is FormatError with a different leading word, e.g.
// FormatErrorKind("binder error", sql, pos, `column "x" not found`). When
// pos is not valid (zero) only "kind: msg" is returned.
func FormatErrorKind(kind, sql string, pos ast.Pos, msg string) string {
	if !pos.IsValid() {
		return kind + ": " + msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s at line %d, column %d: %s", kind, pos.Line, pos.Col, msg)
	off := pos.Offset
	if off < 0 || off > len(sql) {
		return b.String()
	}
	lineStart := strings.LastIndexByte(sql[:off], '\n') + 1
	lineEnd := strings.IndexByte(sql[off:], '\n')
	if lineEnd < 0 {
		lineEnd = len(sql)
	} else {
		lineEnd += off
	}
	line := strings.TrimRight(sql[lineStart:lineEnd], "\r")
	if lineStart > 0 {
		prevStart := strings.LastIndexByte(sql[:lineStart-1], '\n') + 1
		if prev := strings.TrimRight(sql[prevStart:lineStart-1], "\r"); strings.TrimSpace(prev) != "" {
			b.WriteString("\n  ")
			b.WriteString(prev)
		}
	}
	b.WriteString("\n  ")
	b.WriteString(line)
	b.WriteString("\n  ")
	// Copy tabs so the caret lines up; one space per other character.
	for _, r := range sql[lineStart:off] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}
