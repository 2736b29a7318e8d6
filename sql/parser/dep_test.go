package parser

import (
	goparser "go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the front end at the bottom of the import graph:
// sql/parser may import only the standard library and sql/ast, and sql/ast
// only the standard library (test files may also use goleak).
func TestImports(t *testing.T) {
	check := func(dir string, allowed map[string]bool) {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := goparser.ParseFile(gotoken.NewFileSet(), f, src, goparser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				std := !strings.Contains(strings.SplitN(path, "/", 2)[0], ".")
				test := strings.HasSuffix(f, "_test.go") && path == "go.uber.org/goleak"
				if !std && !allowed[path] && !test {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
	check(".", map[string]bool{"github.com/flint-engine/flint/sql/ast": true})
	check("../ast", nil)
}
