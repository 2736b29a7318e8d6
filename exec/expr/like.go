package expr

import (
	"bytes"
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
)

type likeKind int

const (
	likeExact    likeKind = iota // 'abc'
	likePrefix                   // 'abc%'
	likeSuffix                   // '%abc'
	likeContains                 // '%abc%'
	likeSegments                 // 'a%b%c' (no '_')
	likeGeneral                  // anything with '_'
	likeAll                      // '%'
)

// likeTok is one token of a compiled pattern.
type likeTok struct {
	kind byte // 'l' literal byte, '_' one character, '%' any run
	b    byte
}

// likeMatcher is a compiled LIKE pattern working on UTF-8 bytes.
type likeMatcher struct {
	kind       likeKind
	lit        []byte
	segs       [][]byte // likeSegments: literal runs between '%'
	start, end bool     // likeSegments: anchored at start / end
	toks       []likeTok
}

func compileLike(pattern string, escape rune) (*likeMatcher, error) {
	var toks []likeTok
	hasUnderscore := false
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case escape != 0 && r == escape:
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("LIKE pattern %q ends with the escape character", pattern)
			}
			i++
			for _, b := range []byte(string(rs[i])) {
				toks = append(toks, likeTok{kind: 'l', b: b})
			}
		case r == '%':
			if len(toks) == 0 || toks[len(toks)-1].kind != '%' {
				toks = append(toks, likeTok{kind: '%'})
			}
		case r == '_':
			hasUnderscore = true
			toks = append(toks, likeTok{kind: '_'})
		default:
			for _, b := range []byte(string(r)) {
				toks = append(toks, likeTok{kind: 'l', b: b})
			}
		}
	}
	m := &likeMatcher{toks: toks}
	if hasUnderscore {
		m.kind = likeGeneral
		return m, nil
	}
	var segs [][]byte
	var cur []byte
	pct := 0
	for _, t := range toks {
		if t.kind == '%' {
			segs = append(segs, cur)
			cur = nil
			pct++
			continue
		}
		cur = append(cur, t.b)
	}
	segs = append(segs, cur)
	// segs has pct+1 entries; an empty first/last entry means a leading /
	// trailing '%'.
	m.start = len(toks) == 0 || toks[0].kind != '%'
	m.end = len(toks) == 0 || toks[len(toks)-1].kind != '%'
	switch {
	case pct == 0:
		m.kind, m.lit = likeExact, segs[0]
	case pct == 1 && len(toks) == 1:
		m.kind = likeAll
	case pct == 1 && m.start && !m.end:
		m.kind, m.lit = likePrefix, segs[0]
	case pct == 1 && !m.start && m.end:
		m.kind, m.lit = likeSuffix, segs[1]
	case pct == 2 && !m.start && !m.end:
		m.kind, m.lit = likeContains, segs[1]
	default:
		m.kind, m.segs = likeSegments, segs
	}
	return m, nil
}

func (m *likeMatcher) match(s []byte) bool {
	switch m.kind {
	case likeExact:
		return bytes.Equal(s, m.lit)
	case likePrefix:
		return bytes.HasPrefix(s, m.lit)
	case likeSuffix:
		return bytes.HasSuffix(s, m.lit)
	case likeContains:
		return bytes.Contains(s, m.lit)
	case likeAll:
		return true
	case likeSegments:
		return m.matchSegments(s)
	}
	return m.matchGeneral(s)
}

func (m *likeMatcher) matchSegments(s []byte) bool {
	segs := m.segs
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !bytes.HasPrefix(s, first) || !bytes.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		j := bytes.Index(s, seg)
		if j < 0 {
			return false
		}
		s = s[j+len(seg):]
	}
	return true
}

// matchGeneral is the classic greedy wildcard match with backtracking to
// the last '%'; '_' consumes one UTF-8 character.
func (m *likeMatcher) matchGeneral(s []byte) bool {
	toks := m.toks
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		if ti < len(toks) {
			switch t := toks[ti]; t.kind {
			case '%':
				starT, starS = ti, si
				ti++
				continue
			case '_':
				_, w := utf8.DecodeRune(s[si:])
				si += w
				ti++
				continue
			default:
				if s[si] == t.b {
					si++
					ti++
					continue
				}
			}
		}
		if starT < 0 {
			return false
		}
		// Let the last '%' absorb one more character.
		_, w := utf8.DecodeRune(s[starS:])
		starS += w
		si = starS
		ti = starT + 1
	}
	for ti < len(toks) && toks[ti].kind == '%' {
		ti++
	}
	return ti == len(toks)
}

type likeExpr struct {
	e        exec.Expr
	pattern  string
	m        *likeMatcher
	negated  bool
	caseFold bool
}

// Like returns `e [NOT] [I]LIKE pattern [ESCAPE escape]` for a constant
// pattern (escape 0 = none). The pattern is compiled once into a fast path
// (exact, prefix, suffix, contains, '%'-separated segments) or a general
// matcher when it has '_'. caseInsensitive is ILIKE (Unicode lower case).
func Like(e exec.Expr, pattern string, escape rune, negated, caseInsensitive bool) (exec.Expr, error) {
	if t := e.DataType(); t.ID() != arrow.STRING && t.ID() != arrow.NULL {
		return nil, fmt.Errorf("LIKE on %s: operand must be VARCHAR, got %s", e, types.TypeName(t))
	}
	p := pattern
	if caseInsensitive {
		p = string(bytes.ToLower([]byte(pattern)))
	}
	m, err := compileLike(p, escape)
	if err != nil {
		return nil, err
	}
	return &likeExpr{e: e, pattern: pattern, m: m, negated: negated, caseFold: caseInsensitive}, nil
}

func (l *likeExpr) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }

func (l *likeExpr) String() string {
	op := "LIKE"
	if l.caseFold {
		op = "ILIKE"
	}
	if l.negated {
		op = "NOT " + op
	}
	return fmt.Sprintf("(%s %s '%s')", l.e, op, l.pattern)
}

func (l *likeExpr) Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error) {
	mem := exec.Allocator(ctx)
	a, err := l.e.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	n := a.Len()
	if a.DataType().ID() == arrow.NULL {
		return nullArray(mem, arrow.FixedWidthTypes.Boolean, n), nil
	}
	offs, data := strData(a)
	vbuf, out := allocBits(mem, n)
	want := !l.negated
	var scratch []byte
	for i := 0; i < n; i++ {
		s := data[offs[i]:offs[i+1]]
		if l.caseFold {
			scratch = appendLower(scratch[:0], s)
			s = scratch
		}
		out[i>>3] |= b2u(l.m.match(s) == want) << (i & 7)
	}
	valid, _ := andValidity(mem, n, a)
	return makeArray(arrow.FixedWidthTypes.Boolean, n, -1, valid, vbuf), nil
}

// appendLower appends the lower case of s, with an ASCII fast path.
func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return append(dst, bytes.ToLower(s)...)
		}
	}
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
