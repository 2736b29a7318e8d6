package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/flint-engine/flint/sql/ast"
)

// syntaxErrorTests are inputs with the exact error position and message.
var syntaxErrorTests = []struct {
	name      string
	sql       string
	line, col int
	msg       string // substring of Error.Msg
}{
	{"misspelled FROM", "select a\nFORM t", 2, 1, `expected FROM, found "FORM"`},
	{"create model without options", "create model m", 1, 15, `expected OPTIONS (model_type = ..., model_path = ...), found end of input`},
	{"create model twice an option", "create model m options (a = 1, A = 2)", 1, 32, `option "a" given twice`},
	{"create model list of numbers", "create model m options (a = [1])", 1, 30, `expected a string in the list, found "1"`},
	{"hparam range above", "create model m options (a = hparam_range(0.5, 0.1))", 1, 42, "option a: HPARAM_RANGE: the lower bound 0.5 is above the upper bound 0.1"},
	{"hparam range negative above", "create model m options (a = hparam_range(-1, -2))", 1, 42, "the lower bound -1 is above the upper bound -2"},
	{"hparam range string", "create model m options (a = hparam_range('0', 1))", 1, 42, "expected the lower bound of HPARAM_RANGE(lo, hi), a number, found string"},
	{"hparam range one bound", "create model m options (a = hparam_range(1))", 1, 43, `expected ",", found ")"`},
	{"hparam range list", "create model m options (a = hparam_range([1, 2]))", 1, 42, "expected the lower bound of HPARAM_RANGE(lo, hi), a number"},
	{"hparam range infinite", "create model m options (a = hparam_range(0, 1e999))", 1, 45, "option a: HPARAM_RANGE: 1e999 is not a finite number"},
	{"hparam candidates empty", "create model m options (a = hparam_candidates([]))", 1, 48, "option a: HPARAM_CANDIDATES needs at least one candidate"},
	{"hparam candidates twice", "create model m\n  options (max_tree_depth = hparam_candidates([2, 6, 2.0]))", 2, 54, "option max_tree_depth: HPARAM_CANDIDATES: candidate 2.0 is given twice (as 2)"},
	{"hparam candidates no list", "create model m options (a = hparam_candidates(2, 6))", 1, 47, `expected "[", found "2"`},
	{"hparam candidates string", "create model m options (a = hparam_candidates(['gbtree']))", 1, 48, "expected a number in the list of HPARAM_CANDIDATES([a, b, ...]), found string"},
	{"hparam candidates unclosed", "create model m options (a = hparam_candidates([1, 2)", 1, 52, `expected "]", found ")"`},
	{"create or replace model if not exists", "create or replace model if not exists m options (a = 1)", 1, 25, `give OR REPLACE or IF NOT EXISTS, not both`},
	{"unclosed subscript", "select x[1 from t", 1, 12, `expected "]", found "from"`},
	{"misspelled WHERE", "select a from t\n  wehre x > 1", 2, 3, `expected WHERE, found "wehre"`},
	{"unterminated string", "select 'abc\n from t", 1, 8, "unterminated string literal"},
	{"unterminated quoted ident", `select "abc`, 1, 8, "unterminated quoted identifier"},
	{"empty quoted ident", `select ""`, 1, 8, "zero-length quoted identifier"},
	{"unterminated comment", "select 1 /* abc /* x */", 1, 10, "unterminated /* comment"},
	{"bad exponent", "select 1e+", 1, 8, `invalid number "1e+"`},
	{"trailing junk after number", "select 12abc", 1, 8, `invalid number "12abc"`},
	{"unexpected character", "select a # b", 1, 10, `unexpected character "#"`},
	{"eof after operator", "select 1 +", 1, 11, "expected an expression, found end of input"},
	{"eof in where", "select a from t where", 1, 22, "found end of input"},
	{"missing paren", "select (1 + 2 from t", 1, 15, `expected ")", found "from"`},
	{"reserved as column", "select a from t where select = 1", 1, 23, `reserved keyword "select"`},
	{"reserved as table name", "select a from order", 1, 15, `reserved keyword "order"`},
	{"join without on", "select * from a join b where x", 1, 24, "expected ON or USING"},
	{"left without join", "select * from a left b", 1, 22, "expected JOIN"},
	{"is what", "select a is 3", 1, 13, "expected NULL, TRUE, FALSE or DISTINCT FROM after IS"},
	{"case without when", "select case end", 1, 13, "expected an expression"},
	{"case no when", "select case a end", 1, 15, "expected WHEN"},
	{"bad statement", "selec 1", 1, 1, "expected a statement"},
	{"empty rollup", "select a from t group by rollup()", 1, 33, `expected an expression, found ")"`},
	{"empty grouping sets", "select a from t group by grouping sets ()", 1, 41, `expected an expression, found ")"`},
	{"grouping sets unclosed", "select a from t group by grouping sets ((a), b", 1, 47, `expected ")", found end of input`},
	{"key list then operator", "select a from t group by (a, b) + 1", 1, 33, `found "+"`},
	{"two statements no semicolon", "select 1 select 2", 1, 10, `expected ";" or end of input, found "select"`},
	{"tab aligned", "select\t\ta\n\tfrm t", 2, 2, `expected FROM, found "frm"`},
	{"multibyte column", "select 'é', é, ) from t", 1, 16, `expected an expression, found ")"`},
	{"interval without unit", "select interval 3", 1, 18, "expected an interval unit"},
	{"interval garbage", "select interval x", 1, 17, "expected an interval string"},
	{"cast missing as", "select cast(a int)", 1, 15, "expected AS"},
	{"bad param", "select $0", 1, 8, "invalid parameter number"},
	{"frame order", "select sum(x) over (rows between current row and 1 preceding) from t", 1, 34, "frame starts after it ends"},
	{"frame start", "select sum(x) over (rows unbounded following) from t", 1, 26, "frame start cannot be UNBOUNDED FOLLOWING"},
	{"values arity", "values (1, 2), (3)", 1, 18, "same number of columns"},
	{"create without location", "create external table t stored as parquet", 1, 42, "expected LOCATION"},
	{"duplicate option", "copy t to 'x' (format 'csv', FORMAT 'json')", 1, 30, `option "format" given twice`},
	{"limit twice", "select 1 limit 1 limit 2", 1, 18, "LIMIT given twice"},
	{"nested explain", "explain explain select 1", 1, 9, "EXPLAIN cannot be nested"},
	{"union missing operand", "select 1 union", 1, 15, `expected SELECT, VALUES or "("`},
	{"in without paren", "select a in b", 1, 13, `expected "(" after IN`},
	{"in subquery unclosed", "select a in (select 1", 1, 22, `expected ")"`},
	{"any without subquery", "select a = any (1, 2)", 1, 17, `expected a subquery after ANY (`},
	{"all without paren", "select a > all b", 1, 16, `expected "(" after ALL`},
	{"some unclosed", "select a < some (select 1", 1, 26, `expected ")"`},
	{"bad type param", "select cast(a as decimal(x))", 1, 26, "expected a type parameter (integer)"},
	{"parenthesized join bad", "select * from ((select 1) x join", 1, 33, "expected table name"},
	{"star in expression", "select a + * from t", 1, 12, `expected an expression, found "*"`},
	{"deep nesting", "select " + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000), 1, 0, "nested too deeply"},
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range syntaxErrorTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.sql)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error %q", tc.sql, tc.msg)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *parser.Error: %v", err, err)
			}
			if !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("Msg = %q, want it to contain %q", pe.Msg, tc.msg)
			}
			if tc.col == 0 { // position not checked
				return
			}
			if pe.Pos.Line != tc.line || pe.Pos.Col != tc.col {
				t.Fatalf("Pos = %d:%d, want %d:%d (msg %q)", pe.Pos.Line, pe.Pos.Col, tc.line, tc.col, pe.Msg)
			}
			// Offset must agree with line/col.
			lines := strings.Split(tc.sql, "\n")
			off := 0
			for _, l := range lines[:tc.line-1] {
				off += len(l) + 1
			}
			prefix := []rune(lines[tc.line-1])
			if tc.col-1 > len(prefix) {
				t.Fatalf("col %d beyond line %q", tc.col, lines[tc.line-1])
			}
			off += len(string(prefix[:tc.col-1]))
			if pe.Pos.Offset != off {
				t.Fatalf("Offset = %d, want %d", pe.Pos.Offset, off)
			}
		})
	}
}

func TestFormatError(t *testing.T) {
	_, err := Parse("select a\nFORM t")
	want := "syntax error at line 2, column 1: expected FROM, found \"FORM\"\n" +
		"  select a\n" +
		"  FORM t\n" +
		"  ^"
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}

	sql := "select\n  a,\n  b\nfrom t\nwhere x >"
	_, err = Parse(sql)
	want = "syntax error at line 5, column 10: expected an expression, found end of input\n" +
		"  from t\n" +
		"  where x >\n" +
		"           ^"
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}

	// Tabs are copied so the caret lines up; multi-byte characters count once.
	_, err = Parse("select\t'ü', #")
	want = "syntax error at line 1, column 13: unexpected character \"#\"\n" +
		"  select\t'ü', #\n" +
		"        \t     ^"
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%q\nwant:\n%q", err, want)
	}

	got := FormatErrorKind("binder error", "select x\nfrom t", ast.Pos{Line: 1, Col: 8, Offset: 7}, `column "x" not found`)
	want = "binder error at line 1, column 8: column \"x\" not found\n  select x\n         ^"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := FormatError("x", ast.Pos{}, "boom"); got != "syntax error: boom" {
		t.Fatalf("zero pos: %q", got)
	}
	if got := FormatError("x", ast.Pos{Line: 1, Col: 1, Offset: 99}, "boom"); got != "syntax error at line 1, column 1: boom" {
		t.Fatalf("offset out of range: %q", got)
	}
}

// TestPositions checks Pos on expressions and table references.
func TestPositions(t *testing.T) {
	sql := "select a,\n  t.b + 1 as c,\n  count(*)\nfrom tab t\n  join (select 1) s on x = y\nwhere é = 'x'"
	st, err := ParseOne(sql)
	if err != nil {
		t.Fatal(err)
	}
	sel := st.(*ast.Query).Body.(*ast.SelectCore)
	check := func(what string, got ast.Pos, line, col int) {
		t.Helper()
		if got.Line != line || got.Col != col {
			t.Errorf("%s at %d:%d, want %d:%d", what, got.Line, got.Col, line, col)
		}
		// Offset is independent: find line start by counting newlines.
		off := 0
		for l := 1; l < line; l++ {
			off += strings.IndexByte(sql[off:], '\n') + 1
		}
		off += len(string([]rune(sql[off:])[:col-1]))
		if got.Offset != off {
			t.Errorf("%s offset %d, want %d", what, got.Offset, off)
		}
	}
	check("a", sel.Items[0].Expr.Pos(), 1, 8)
	bin := sel.Items[1].Expr.(*ast.Binary)
	check("t.b", bin.Left.Pos(), 2, 3)
	check("+", bin.Pos(), 2, 7)
	check("1", bin.Right.Pos(), 2, 9)
	check("count", sel.Items[2].Expr.Pos(), 3, 3)
	join := sel.From[0].(*ast.Join)
	check("tab", join.Left.Pos(), 4, 6)
	check("join", join.Pos(), 5, 3)
	check("derived", join.Right.Pos(), 5, 8)
	check("x", join.On.(*ast.Binary).Left.Pos(), 5, 24)
	where := sel.Where.(*ast.Binary)
	check("é", where.Left.Pos(), 6, 7)
	check("=", where.Pos(), 6, 9)
	check("'x'", where.Right.Pos(), 6, 11)
}
