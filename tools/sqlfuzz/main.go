// Command sqlfuzz is a random differential tester: it generates SELECT
// queries over a small TPC-H sample with NULLs (testdata/slt/data/tpchn),
// runs each in DuckDB (the oracle) and in Flint in-process under several
// session configurations, and compares the results. Every disagreement
// (different rows, an error only one engine raises, a leaked buffer) is
// reduced automatically on the query's AST and printed as a ready-to-paste
// .slt record with DuckDB's answer, next to the original query and seed.
//
// It lives in its own module because DuckDB comes in through cgo; the
// engine never imports it.
//
// Usage (from this directory):
//
//	go run . [-seed N] [-n COUNT] [-timeout 20s] [-out DIR] [-subquery-or=false]
//	go run . -seed N -query I        # rerun (and reduce) query I of seed N
//	go run . -seed N -n 5 -print     # print the queries, run nothing
//	go run . gendata                 # rewrite testdata/slt/data/tpchn
//
// The exit status is 1 when any query failed (2 on a usage error).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flint-engine/flint/sqllogictest/slt"
)

func main() {
	code, err := run(context.Background(), os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlfuzz:", err)
	}
	os.Exit(code)
}

type options struct {
	seed       uint64
	n          int
	query      int
	timeout    time.Duration
	out        string
	configs    string
	subqueryOr bool
	generalSub bool
	strict     bool
	print      bool
	verbose    bool
	maxFind    int
	maxChecks  int
	sql        string
	repeat     int
	printSLT   bool
	data       string
}

func run(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	if len(args) > 0 && args[0] == "gendata" {
		root, err := findRoot()
		if err != nil {
			return 1, err
		}
		gs := flag.NewFlagSet("sqlfuzz gendata", flag.ContinueOnError)
		gs.SetOutput(stdout)
		salt := gs.Int("salt", 0, "vary the sample and the NULLs (0: the committed data set)")
		out := gs.String("out", "", "output directory (default: testdata/slt/data/tpchn, salt 0 only)")
		if err := gs.Parse(args[1:]); err != nil {
			return 2, err
		}
		dir := *out
		if dir == "" {
			if *salt != 0 {
				return 2, fmt.Errorf("gendata -salt %d needs -out (the committed data set is salt 0)", *salt)
			}
			dir = dataDir(root)
		}
		if err := genData(ctx, root, dir, *salt); err != nil {
			return 1, err
		}
		fmt.Fprintf(stdout, "wrote %s\n", dir)
		return 0, nil
	}
	var o options
	fs := flag.NewFlagSet("sqlfuzz", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the run (0: random, printed)")
	fs.IntVar(&o.n, "n", 200, "number of queries")
	fs.IntVar(&o.query, "query", -1, "run only query number I of the seed")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Second, "time limit of one query in one engine")
	fs.StringVar(&o.out, "out", "", "directory to write one file per finding into")
	fs.StringVar(&o.configs, "configs", "", "comma-separated Flint configurations (default: all of "+configNames()+")")
	fs.BoolVar(&o.subqueryOr, "subquery-or", true, "also generate EXISTS/IN under OR and op ANY|ALL (subquery)")
	fs.BoolVar(&o.generalSub, "general-subquery", true, "also generate correlated scalar subqueries with non-equality correlation or ORDER BY ... LIMIT")
	fs.BoolVar(&o.strict, "strict", false, "count \"not supported\" errors from Flint as failures")
	fs.BoolVar(&o.print, "print", false, "print the generated queries and exit")
	fs.BoolVar(&o.verbose, "v", false, "print every query and its outcome")
	fs.IntVar(&o.maxFind, "max-findings", 10, "stop after this many findings")
	fs.IntVar(&o.maxChecks, "reduce-checks", 400, "most candidate queries tried when reducing one finding (0: do not reduce)")
	fs.StringVar(&o.sql, "e", "", "run this SQL (compared as a multiset) instead of generated queries")
	fs.IntVar(&o.repeat, "repeat", 1, "with -e: run it this many times")
	fs.StringVar(&o.data, "data", "", "directory of another tpchn data set (gendata -salt N -out DIR)")
	fs.BoolVar(&o.printSLT, "slt", false, "with -e: print a rowsort .slt record with DuckDB's answer")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if fs.NArg() > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano()) % 1_000_000_000
	}
	fmt.Fprintf(stdout, "sqlfuzz: seed %d\n", o.seed)

	root, err := findRoot()
	if err != nil {
		return 1, err
	}
	dir := dataDir(root)
	if o.data != "" {
		dir = o.data
	}
	duck, err := newDuckEngine(ctx, dir)
	if err != nil {
		return 1, err
	}
	defer duck.Close()
	cat, err := loadCatalog(ctx, duck.db)
	if err != nil {
		return 1, err
	}
	gopt := GenOptions{SubqueryOr: o.subqueryOr, GeneralSubquery: o.generalSub}
	first, last := 0, o.n
	if o.query >= 0 {
		first, last = o.query, o.query+1
	}
	if o.print {
		for i := first; i < last; i++ {
			fmt.Fprintf(stdout, "-- query %d\n%s;\n", i, NewGen(cat, querySeed(o.seed, i), gopt).Query().SQL())
		}
		return 0, nil
	}
	cfgs, err := selectConfigs(o.configs)
	if err != nil {
		return 2, err
	}
	c := &checker{duck: duck, timeout: o.timeout}
	for _, cfg := range cfgs {
		f, err := newFlintEngine(ctx, cfg, dir)
		if err != nil {
			return 1, err
		}
		defer f.Close()
		c.flints = append(c.flints, f)
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return 1, err
		}
	}

	if o.sql != "" {
		return runOne(ctx, c, o, stdout)
	}
	counts := map[string]int{}
	findings := 0
	start := time.Now()
	for i := first; i < last; i++ {
		q := NewGen(cat, querySeed(o.seed, i), gopt).Query()
		out := c.check(ctx, q, -1)
		counts[out.Kind]++
		if o.verbose {
			fmt.Fprintf(stdout, "-- query %d: %s\n%s;\n", i, out.Kind, q.SQL())
		}
		if !out.Failed(o.strict) {
			continue
		}
		findings++
		report := c.finding(ctx, o, q, out, i)
		fmt.Fprint(stdout, report)
		if o.out != "" {
			name := filepath.Join(o.out, fmt.Sprintf("seed%d-q%d-%s.txt", o.seed, i, out.Kind))
			if err := os.WriteFile(name, []byte(report), 0o644); err != nil {
				return 1, err
			}
		}
		if findings >= o.maxFind {
			fmt.Fprintf(stdout, "sqlfuzz: stopping after %d findings\n", findings)
			break
		}
	}
	var kinds []string
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	fmt.Fprintf(stdout, "sqlfuzz: seed %d: %d queries in %s: %s\n", o.seed, last-first, time.Since(start).Round(time.Second), strings.Join(parts, ", "))
	if findings > 0 {
		return 1, fmt.Errorf("%d findings (rerun one with -seed %d -query I)", findings, o.seed)
	}
	return 0, nil
}

// querySeed derives the seed of query i of a run (splitmix64), so that
// one query can be regenerated alone.
func querySeed(seed uint64, i int) uint64 {
	z := seed + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func configNames() string {
	var names []string
	for _, c := range flintConfigs {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

func selectConfigs(list string) ([]flintConfig, error) {
	if list == "" {
		return flintConfigs, nil
	}
	var out []flintConfig
	for _, name := range strings.Split(list, ",") {
		found := false
		for _, c := range flintConfigs {
			if c.Name == strings.TrimSpace(name) {
				out = append(out, c)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown configuration %q (have %s)", name, configNames())
		}
	}
	return out, nil
}

// finding reduces a failing query and renders the report.
func (c *checker) finding(ctx context.Context, o options, q *Query, out Outcome, index int) string {
	cfg := 0
	for i, f := range c.flints {
		if f.cfg.Name == out.Config {
			cfg = i
		}
	}
	reduced, checks := q, 0
	if o.maxChecks > 0 && out.Kind != "timeout" {
		c.maxRows = 10000
		if out.Want != nil && len(out.Want.Rows) > c.maxRows {
			c.maxRows = len(out.Want.Rows)
		}
		defer func() { c.maxRows = 0 }()
		reduced, checks = reduce(q, func(cand *Query) bool {
			co := c.check(ctx, cand, cfg)
			return co.Kind == out.Kind && co.Sig == out.Sig
		}, o.maxChecks)
	}
	final := c.check(ctx, reduced, cfg)
	if final.Kind != out.Kind {
		final = out
	}
	var b strings.Builder
	fmt.Fprintf(&b, "=== %s under config %s (seed %d, query %d)\n", out.Kind, out.Config, o.seed, index)
	fmt.Fprintf(&b, "original: %s\n", q.SQL())
	fmt.Fprintf(&b, "reduced (%d checks): %s\n", checks, reduced.SQL())
	fmt.Fprintf(&b, "%s\n", strings.TrimRight(final.Detail, "\n"))
	if final.Want != nil {
		fmt.Fprintf(&b, "slt record (answer from DuckDB):\n\n%s\n", sltRecord(reduced, final.Want))
	}
	b.WriteString("\n")
	return b.String()
}

// sltRecord renders a query record with DuckDB's answer.
func sltRecord(q *Query, want *Result) string {
	return sltRecordSQL(q.SQL(), orderOf(q).Total, want)
}

// sltRecordSQL renders a query record for sql; total says whether its
// ORDER BY fixes the row order (otherwise the record is rowsort).
func sltRecordSQL(sql string, total bool, want *Result) string {
	letters := make([]byte, len(want.Cols))
	for i, k := range want.Cols {
		switch k {
		case KInt:
			letters[i] = 'I'
		case KDecimal, KFloat:
			letters[i] = 'R'
		case KBool:
			letters[i] = 'B'
		case KDate:
			letters[i] = 'D'
		default:
			letters[i] = 'T'
		}
	}
	mode := slt.RowSort
	head := "query " + string(letters) + " rowsort"
	if total {
		mode = slt.NoSort
		head = "query " + string(letters)
	}
	lines := slt.Rows(want.Rows, mode)
	return head + "\n" + sql + "\n----\n" + strings.Join(lines, "\n") + "\n"
}

// runOne runs one SQL text in every configuration, repeat times.
func runOne(ctx context.Context, c *checker, o options, stdout io.Writer) (int, error) {
	want, derr := c.duck.Query(ctx, o.sql)
	failed := 0
	for r := 0; r < o.repeat; r++ {
		for _, f := range c.flints {
			got, _, ferr := f.Query(ctx, o.sql, c.timeout)
			out := classify(want, derr, got, ferr, Order{})
			if out.Kind != "ok" {
				failed++
				fmt.Fprintf(stdout, "run %d, config %s: %s\n%s\n", r, f.cfg.Name, out.Kind, out.Detail)
			}
		}
	}
	if derr == nil {
		fmt.Fprintf(stdout, "DuckDB: %d rows; %d failed runs\n", len(want.Rows), failed)
		if o.printSLT {
			fmt.Fprintf(stdout, "\n%s\n", sltRecordSQL(o.sql, false, want))
		}
	}
	if failed > 0 {
		return 1, nil
	}
	return 0, nil
}
