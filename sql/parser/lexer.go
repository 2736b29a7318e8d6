package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flint-engine/flint/sql/ast"
)

type tokenKind uint8

const (
	tEOF    tokenKind = iota
	tWord             // unquoted identifier or keyword
	tQIdent           // "quoted identifier"
	tString           // 'string'
	tNumber           // 42, 0.06, 1e3
	tParam            // $1 or ?
	tOp               // punctuation and operators
)

// token is one lexical token. For tWord, upper is the upper-cased text used
// for keyword matching and val the lower-cased identifier; for tQIdent and
// tString val holds the unescaped content; for tOp val is the operator text.
type token struct {
	kind  tokenKind
	pos   ast.Pos
	end   int // byte offset just past the token
	val   string
	upper string
}

// lexer turns SQL text into tokens. It tracks line and column (in runes)
// incrementally so positions cost O(1) per byte.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (lx *lexer) pos() ast.Pos { return ast.Pos{Line: lx.line, Col: lx.col, Offset: lx.off} }

// advance moves past one byte, updating line and column.
func (lx *lexer) advance() {
	c := lx.src[lx.off]
	lx.off++
	if c == '\n' {
		lx.line++
		lx.col = 1
	} else if c < utf8.RuneSelf || c >= 0xC0 { // count rune starts only
		lx.col++
	}
}

func (lx *lexer) advanceN(n int) {
	for i := 0; i < n && lx.off < len(lx.src); i++ {
		lx.advance()
	}
}

func (lx *lexer) peekByte(k int) byte {
	if lx.off+k < len(lx.src) {
		return lx.src[lx.off+k]
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= utf8.RuneSelf
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// tokenize lexes all of src. The final token is always tEOF, positioned just
// after the last real token so "unexpected end of input" points there.
func tokenize(src string) ([]token, error) {
	lx := &lexer{src: src, line: 1, col: 1}
	toks := make([]token, 0, len(src)/4+1)
	lastEnd := ast.Pos{Line: 1, Col: 1}
	for {
		if err := lx.skipSpaceAndComments(); err != nil {
			return nil, err
		}
		if lx.off >= len(lx.src) {
			toks = append(toks, token{kind: tEOF, pos: lastEnd, end: lastEnd.Offset})
			return toks, nil
		}
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		t.end = lx.off
		lastEnd = lx.pos()
		toks = append(toks, t)
	}
}

func (lx *lexer) errorf(pos ast.Pos, msg string) error {
	return &Error{Msg: msg, Pos: pos, SQL: lx.src}
}

func (lx *lexer) skipSpaceAndComments() error {
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.advance()
		case c == '-' && lx.peekByte(1) == '-':
			for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
				lx.advance()
			}
		case c == '/' && lx.peekByte(1) == '*':
			start := lx.pos()
			lx.advanceN(2)
			depth := 1 // block comments nest, as in PostgreSQL
			for depth > 0 {
				if lx.off >= len(lx.src) {
					return lx.errorf(start, "unterminated /* comment")
				}
				switch {
				case lx.src[lx.off] == '*' && lx.peekByte(1) == '/':
					depth--
					lx.advanceN(2)
				case lx.src[lx.off] == '/' && lx.peekByte(1) == '*':
					depth++
					lx.advanceN(2)
				default:
					lx.advance()
				}
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
			if !unicode.IsSpace(r) && r != '\uFEFF' { // byte order marks are blanks
				return nil
			}
			lx.advanceN(size)
		default:
			return nil
		}
	}
	return nil
}

// next lexes one token starting at a non-space byte.
func (lx *lexer) next() (token, error) {
	start := lx.pos()
	c := lx.src[lx.off]
	switch {
	case c >= utf8.RuneSelf:
		r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
		if r == utf8.RuneError && size <= 1 {
			return token{}, lx.errorf(start, "invalid UTF-8 in SQL text")
		}
		if !unicode.IsLetter(r) {
			return token{}, lx.errorf(start, "unexpected character "+quoteText(string(r)))
		}
		return lx.word(start), nil
	case isIdentStart(c):
		return lx.word(start), nil
	case isDigit(c) || c == '.' && isDigit(lx.peekByte(1)):
		return lx.number(start)
	case c == '\'':
		s, err := lx.quoted('\'', start, "unterminated string literal")
		return token{kind: tString, pos: start, val: s}, err
	case c == '"':
		s, err := lx.quoted('"', start, "unterminated quoted identifier")
		if err == nil && s == "" {
			err = lx.errorf(start, "zero-length quoted identifier")
		}
		return token{kind: tQIdent, pos: start, val: s}, err
	case c == '$' && isDigit(lx.peekByte(1)):
		lx.advance()
		b := lx.off
		for lx.off < len(lx.src) && isDigit(lx.src[lx.off]) {
			lx.advance()
		}
		return token{kind: tParam, pos: start, val: lx.src[b:lx.off]}, nil
	case c == '?':
		lx.advance()
		return token{kind: tParam, pos: start}, nil
	}
	// Operators: longest match first.
	if lx.off+1 < len(lx.src) {
		switch two := lx.src[lx.off : lx.off+2]; two {
		case "<>", "!=", "<=", ">=", "||", "::", "==":
			lx.advanceN(2)
			return token{kind: tOp, pos: start, val: two}, nil
		}
	}
	switch c {
	case '(', ')', ',', ';', '.', '*', '+', '-', '/', '%', '=', '<', '>', '[', ']', ':':
		lx.advance()
		return token{kind: tOp, pos: start, val: string(c)}, nil
	}
	r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
	return token{}, lx.errorf(start, "unexpected character "+quoteText(string(r)))
}

func (lx *lexer) word(start ast.Pos) token {
	b := lx.off
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		if c < utf8.RuneSelf {
			if !isIdentPart(c) {
				break
			}
			lx.advance()
			continue
		}
		r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) {
			break
		}
		lx.advanceN(size)
	}
	text := lx.src[b:lx.off]
	return token{kind: tWord, pos: start, val: strings.ToLower(text), upper: strings.ToUpper(text)}
}

func (lx *lexer) number(start ast.Pos) (token, error) {
	b := lx.off
	for lx.off < len(lx.src) && isDigit(lx.src[lx.off]) {
		lx.advance()
	}
	// A '.' belongs to the number ("1." is 1.0) unless it starts "..".
	if lx.off < len(lx.src) && lx.src[lx.off] == '.' && lx.peekByte(1) != '.' {
		lx.advance()
		for lx.off < len(lx.src) && isDigit(lx.src[lx.off]) {
			lx.advance()
		}
	}
	if lx.off < len(lx.src) && (lx.src[lx.off] == 'e' || lx.src[lx.off] == 'E') {
		k := 1
		if s := lx.peekByte(1); s == '+' || s == '-' {
			k = 2
		}
		if !isDigit(lx.peekByte(k)) {
			lx.advanceN(k)
			return token{}, lx.errorf(start, "invalid number "+quoteText(lx.src[b:lx.off])+": exponent has no digits")
		}
		lx.advanceN(k)
		for lx.off < len(lx.src) && isDigit(lx.src[lx.off]) {
			lx.advance()
		}
	}
	if lx.off < len(lx.src) && (isIdentStart(lx.src[lx.off]) || lx.src[lx.off] == '.') {
		end := lx.off
		for end < len(lx.src) && (isIdentPart(lx.src[end]) || lx.src[end] == '.') {
			end++
		}
		return token{}, lx.errorf(start, "invalid number "+quoteText(lx.src[b:end]))
	}
	return token{kind: tNumber, pos: start, val: lx.src[b:lx.off]}, nil
}

// quoted lexes a q-delimited literal where qq stands for one q.
func (lx *lexer) quoted(q byte, start ast.Pos, unterminated string) (string, error) {
	lx.advance() // opening quote
	b := lx.off
	var sb *strings.Builder
	for {
		if lx.off >= len(lx.src) {
			return "", lx.errorf(start, unterminated)
		}
		c := lx.src[lx.off]
		if c != q {
			lx.advance()
			continue
		}
		if lx.peekByte(1) == q { // escaped quote
			if sb == nil {
				sb = &strings.Builder{}
			}
			sb.WriteString(lx.src[b : lx.off+1])
			lx.advanceN(2)
			b = lx.off
			continue
		}
		s := lx.src[b:lx.off]
		lx.advance() // closing quote
		if sb != nil {
			sb.WriteString(s)
			return sb.String(), nil
		}
		return s, nil
	}
}

// quoteText quotes s for an error message, shortening very long text.
func quoteText(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return `"` + s + `"`
}
