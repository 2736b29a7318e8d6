package binder

import (
	"sort"
	"strings"

	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/sql/ast"
)

// scopeCol is one column visible by name in a scope.
type scopeCol struct {
	table string // qualifier: table name or alias ("" for computed columns)
	name  string
	col   plan.Column
	// hidden columns are reachable only qualified and are left out of "*"
	// (the right-hand duplicate of a USING column).
	hidden bool
	// synthetic columns (the COALESCE of a FULL JOIN USING column) are
	// reachable only unqualified and are left out of "t.*".
	synthetic bool
}

// scope is the set of columns a clause can name, with the enclosing
// query's scope as parent (correlated references).
type scope struct {
	cols   []scopeCol
	parent *scope
}

// scopeOf exposes node's columns under qualifier (or each column's own
// Table when qualifier is ""). names, when non-nil, renames the columns
// (column aliases of derived tables and CTEs).
func scopeOf(node plan.Node, qualifier string, parent *scope) *scope {
	s := &scope{parent: parent}
	if node == nil {
		return s
	}
	for _, c := range node.Schema() {
		t := qualifier
		if t == "" {
			t = c.Table
		}
		s.cols = append(s.cols, scopeCol{table: t, name: c.Name, col: c})
	}
	return s
}

func nameEq(a, b string) bool { return a == b || strings.EqualFold(a, b) }

// lookup finds the columns named parts in s alone. It returns the matches
// (deduplicated by ID) and whether the qualifier (if any) is known here.
func (s *scope) lookup(parts []string) (matches []scopeCol, qualKnown bool) {
	name := parts[len(parts)-1]
	var qual string
	if len(parts) >= 2 {
		qual = parts[len(parts)-2]
	}
	seen := map[plan.ColumnID]bool{}
	add := func(c scopeCol) {
		if !seen[c.col.ID] {
			seen[c.col.ID] = true
			matches = append(matches, c)
		}
	}
	// Prefer exact-case matches (quoted identifiers), then case-insensitive.
	for pass := 0; pass < 2 && len(matches) == 0; pass++ {
		eq := func(a, b string) bool { return a == b }
		if pass == 1 {
			eq = strings.EqualFold
		}
		for _, c := range s.cols {
			if qual == "" {
				if c.hidden || !eq(c.name, name) {
					continue
				}
				add(c)
				continue
			}
			if c.synthetic || !nameEq(c.table, qual) {
				continue
			}
			qualKnown = true
			if eq(c.name, name) {
				add(c)
			}
		}
	}
	if qual == "" {
		qualKnown = true
	}
	return matches, qualKnown
}

// resolve finds a column by (possibly qualified) name in s or its
// ancestors; outer reports that it came from an enclosing query.
func (b *Binder) resolve(s *scope, ref *ast.ColumnRef) (col plan.Column, outer bool, err error) {
	parts := ref.Parts
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	anyQual := false
	for sc, depth := s, 0; sc != nil; sc, depth = sc.parent, depth+1 {
		m, qk := sc.lookup(parts)
		anyQual = anyQual || qk
		switch {
		case len(m) == 1:
			return m[0].col, depth > 0, nil
		case len(m) > 1:
			names := make([]string, len(m))
			for i, c := range m {
				names[i] = qualified(c)
			}
			return plan.Column{}, false, b.errf(ref.At, "column reference %q is ambiguous: it could be %s", ref.String(), strings.Join(names, " or "))
		}
	}
	if len(parts) == 2 && !anyQual {
		return plan.Column{}, false, b.errf(ref.At, "unknown table or alias %q in column reference %s%s", parts[0], ref.String(), suggest(parts[0], s.tableNames()))
	}
	return plan.Column{}, false, b.errf(ref.At, "unknown column %s%s", ref.String(), suggest(ref.String(), s.visibleNames()))
}

func qualified(c scopeCol) string {
	if c.table != "" {
		return c.table + "." + c.name
	}
	return c.name
}

func (s *scope) visibleNames() []string {
	var out []string
	for _, c := range s.cols {
		if !c.hidden {
			out = append(out, c.name)
		}
		if c.table != "" && !c.synthetic {
			out = append(out, c.table+"."+c.name)
		}
	}
	return out
}

func (s *scope) tableNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range s.cols {
		if c.table != "" && !seen[c.table] {
			seen[c.table] = true
			out = append(out, c.table)
		}
	}
	return out
}

// suggest returns "; did you mean X?" for the candidates closest to name
// (at most three, within an edit distance that grows with the length), or
// "" when none is close.
func suggest(name string, candidates []string) string {
	type cand struct {
		s string
		d int
	}
	limit := max(2, len(name)/3)
	var cs []cand
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		if d := editDistance(name, c); d <= limit {
			cs = append(cs, cand{c, d})
		}
	}
	if len(cs) == 0 {
		return ""
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].s < cs[j].s
	})
	var names []string
	for i := 0; i < len(cs) && i < 3; i++ {
		names = append(names, cs[i].s)
	}
	return "; did you mean " + strings.Join(names, ", ") + "?"
}

// editDistance is the case-insensitive Levenshtein distance.
func editDistance(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
