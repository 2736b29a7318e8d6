package flint_test

import (
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Third-party modules, by module path; each is a prefix (modAWS is every
// module of the AWS SDK).
const (
	modArrow    = "github.com/apache/arrow-go/v18"
	modAWS      = "github.com/aws/aws-sdk-go-v2"
	modSmithy   = "github.com/aws/smithy-go"
	modCobra    = "github.com/spf13/cobra"
	modCompress = "github.com/klauspost/compress"
	modGoTPC    = "github.com/pingcap/go-tpc"
	modGRPC     = "google.golang.org/grpc"
	modProtobuf = "google.golang.org/protobuf"
	modMPB      = "github.com/vbauerster/mpb/v8"
	modProm     = "github.com/prometheus/client_golang"
	modPromText = "github.com/prometheus/common" // the text exposition parser (expfmt)
	modPromData = "github.com/prometheus/client_model"
	modXXH3     = "github.com/zeebo/xxh3"
	modRaft     = "github.com/hashicorp/raft"
	modRaftBolt = "github.com/hashicorp/raft-boltdb/v2"
	modHCLog    = "github.com/hashicorp/go-hclog"
	modSys      = "golang.org/x/sys" // cpu: the AVX2 kernels' feature check
)

// layer is what a package's non-test files may import besides the
// standard library.
type layer struct {
	imports  []string // packages of this module ("." is the root package)
	external []string // third-party modules
}

// layers is the one table of allowed imports. It has an entry for every
// package of the module and lists exactly what each imports: a new
// package, a new import, an import no longer used or an entry for a
// package that is gone all fail TestLayering, so a change of layering is
// always a visible change of this table. The rules below it (mustNot,
// onlyReach) say which edges must never be added.
var layers = map[string]layer{
	// Front end: syntax, then names and types.
	"sql":        {},
	"sql/ast":    {},
	"sql/parser": {imports: []string{"sql/ast"}},
	"sql/binder": {imports: []string{"plan", "sql/ast", "sql/parser", "types"}, external: []string{modArrow}},
	"types":      {external: []string{modArrow}},

	// Logical plans and their rewrites.
	"plan":      {external: []string{modArrow}},
	"optimizer": {imports: []string{"plan", "types"}, external: []string{modArrow}},

	// Physical planning.
	"physical": {imports: []string{"connectors", "plan"}, external: []string{modArrow}},
	"planner":  {imports: []string{"connectors", "optimizer", "physical", "plan"}},

	// Execution: operators, kernels, storage.
	"exec":                   {imports: []string{"connectors", "exec/hashing", "mempool", "ml/model", "ml/quantile", "spill", "types"}, external: []string{modArrow}},
	"exec/expr":              {imports: []string{"exec", "ml/quantile", "types"}, external: []string{modArrow}},
	"exec/expr/internal/gen": {},
	"exec/hashing":           {external: []string{modArrow, modXXH3}},
	"connectors":             {imports: []string{"connectors/fs"}, external: []string{modArrow, modCompress}},
	"connectors/fs":          {},
	"connectors/s3":          {imports: []string{"connectors/fs"}, external: []string{modAWS, modSmithy}},
	"shuffle":                {imports: []string{"mempool", "spill"}, external: []string{modArrow, modGRPC}},
	"mempool":                {},
	"spill":                  {external: []string{modArrow}},
	"executor":               {imports: []string{"connectors", "exec", "exec/expr", "mempool", "ml/store", "physical", "plan", "shuffle"}, external: []string{modArrow}},

	// Scheduling and processes.
	"coordinator":      {},
	"driver/replica":   {imports: []string{"coordinator"}, external: []string{modHCLog, modRaft, modRaftBolt}},
	"driver":           {imports: []string{"connectors", "connectors/fs", "executor", "mempool", "physical", "shuffle", "spill"}, external: []string{modArrow}},
	"driver/cluster":   {imports: []string{"connectors", "coordinator", "driver/replica", "executor", "internal/driverclient", "internal/metrics", "ml/gbdt", "ml/train", "optimizer", "physical", "plan", "planner", "proto/flintpb", "shuffle", "wire"}, external: []string{modArrow, modGRPC, modProtobuf}},
	"executor/service": {imports: []string{"connectors", "exec", "executor", "internal/driverclient", "internal/metrics", "mempool", "ml/train", "physical", "proto/flintpb", "shuffle", "spill", "wire"}, external: []string{modArrow, modGRPC}},
	"wire":             {imports: []string{"connectors", "physical", "plan", "proto/flintpb"}, external: []string{modArrow}},
	"proto/flintpb":    {external: []string{modGRPC, modProtobuf}},

	// Machine learning: models and their loaders.
	"ml/model":                 {},
	"ml/quantile":              {},
	"ml/gbdt":                  {imports: []string{"ml/internal/xgbmath", "ml/model", "ml/quantile"}, external: []string{modSys}},
	"ml/train":                 {imports: []string{"ml/gbdt", "ml/quantile"}, external: []string{modArrow}},
	"ml/internal/xgbmath":      {external: []string{modSys}},
	"ml/gbdt/internal/histgen": {},
	"ml/lightgbm":              {imports: []string{"ml/model"}},
	"ml/xgboost":               {imports: []string{"ml/internal/xgbmath", "ml/model"}, external: []string{modSys}},
	"ml/store":                 {imports: []string{"connectors/fs", "ml/lightgbm", "ml/model", "ml/xgboost"}},

	// The API, the command and their helpers.
	".":                         {imports: []string{"connectors", "connectors/s3", "driver", "exec", "executor", "mempool", "ml/gbdt", "ml/store", "ml/train", "internal/bufpool", "internal/driverclient", "internal/output", "plan", "planner", "proto/flintpb", "sql/ast", "sql/binder", "sql/parser", "types", "wire"}, external: []string{modArrow, modGRPC, modProtobuf}},
	"ml/pipeline":               {imports: []string{".", "connectors/fs"}},
	"examples/late-delivery":    {},
	"examples/late-delivery/go": {imports: []string{".", "ml/pipeline"}},
	"cmd/flint":                 {imports: []string{".", "connectors/s3", "examples/late-delivery", "driver/cluster", "driver/replica", "executor/service", "internal/bufpool", "internal/driverclient", "internal/gctune", "internal/metrics", "internal/output", "internal/progress", "mempool", "proto/flintpb", "sql/ast", "sql/parser", "tpch"}, external: []string{modArrow, modCobra, modGRPC, modProm}},
	"internal/driverclient":     {imports: []string{"proto/flintpb", "shuffle"}, external: []string{modGRPC}},
	"internal/bufpool":          {},
	"internal/gctune":           {},
	"internal/metrics":          {external: []string{modProm, modPromData, modPromText}},
	"internal/output":           {imports: []string{"types"}, external: []string{modArrow}},
	"internal/progress":         {imports: []string{"proto/flintpb"}, external: []string{modMPB}},
	"tpch":                      {external: []string{modArrow, modGoTPC}},
	"tpch/cmd/tpchgen":          {imports: []string{"tpch"}},

	// Test support: imported by tests only (see testOnly).
	"deploy":               {},
	"internal/clustertest": {imports: []string{"internal/porttest"}},
	"internal/hivetest":    {external: []string{modArrow}},
	"internal/porttest":    {},
	"internal/resultcmp":   {external: []string{modArrow}},
	"internal/s3test":      {external: []string{modAWS}},
	"sqllogictest":         {imports: []string{".", "internal/bufpool", "internal/output", "sqllogictest/slt"}, external: []string{modArrow}},
	"sqllogictest/slt":     {},
}

// testOnly packages serve tests; no package's non-test files import them,
// except another test-only package's.
var testOnly = []string{"internal/clustertest", "internal/hivetest", "internal/porttest", "internal/resultcmp", "internal/s3test"}

// mustNot lists, per package, the packages (and their subpackages) it must
// never reach, directly or through others: imports flow parse -> plan ->
// optimize -> physical -> execute, and the execution layer knows nothing
// of SQL or plans.
var mustNot = map[string][]string{
	"sql/binder":       {"optimizer", "physical", "planner", "exec", "executor", "driver"},
	"plan":             {"sql", "optimizer", "physical", "planner", "exec", "executor", "driver", "connectors"},
	"optimizer":        {"sql", "physical", "planner", "exec", "executor", "driver", "connectors", "shuffle"},
	"physical":         {"sql", "exec", "executor", "driver"},
	"planner":          {"sql", "exec", "executor", "driver"},
	"exec":             {"plan", "sql", "optimizer", "physical", "planner", "executor", "driver", "ml/store", "ml/lightgbm", "ml/xgboost"},
	"executor":         {"sql", "optimizer", "planner", "driver", "connectors/s3"},
	"executor/service": {"sql", "optimizer", "planner", "driver", "coordinator", "connectors/s3"},
	"wire":             {"sql", "exec", "executor", "driver"},
	// Storage backends are chosen by programs (package flint, cmd/flint),
	// which import them; the engine only sees connectors/fs.
	"connectors":     {"connectors/s3"},
	"driver":         {"connectors/s3"},
	"driver/cluster": {"connectors/s3"},
}

// onlyReach lists packages that reach nothing of the module but these
// (and their own subpackages).
var onlyReach = map[string][]string{
	"types":       {},
	"coordinator": {},
	// Replication knows the state machine, not the engine.
	"driver/replica": {"coordinator"},
	// The cluster's metrics know events and numbers, not the engine.
	"internal/metrics": {},
	"sql/ast":          {},
	"sql/parser":       {"sql/ast"},
	"connectors":       {},
	"ml/model":         {},
	"ml/quantile":      {},
	"ml/gbdt":          {"ml/internal/xgbmath", "ml/model", "ml/quantile"},
	"ml/train":         {"ml/gbdt", "ml/internal/xgbmath", "ml/model", "ml/quantile"},
}

const module = "github.com/flint-engine/flint"

// listed is one package as go list reports it.
type listed struct {
	standard bool
	module   string
	imports  []string
}

// goList lists the module's packages and all their dependencies.
func goList(t *testing.T) map[string]listed {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{.ImportPath}}\t{{.Standard}}\t{{with .Module}}{{.Path}}{{end}}\t{{join .Imports \" \"}}",
		"./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	pkgs := map[string]listed{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		pkgs[f[0]] = listed{standard: f[1] == "true", module: f[2], imports: strings.Fields(f[3])}
	}
	return pkgs
}

// rel is the table's name of a module package.
func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

// under reports whether pkg is p or one of its subpackages.
func under(pkg, p string) bool {
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}

func TestLayering(t *testing.T) {
	pkgs := goList(t)
	var own []string
	for path, p := range pkgs {
		if p.module == module {
			own = append(own, rel(path))
		}
	}
	sort.Strings(own)
	for _, pkg := range own {
		if _, ok := layers[pkg]; !ok {
			t.Errorf("package %s has no entry in the table of allowed imports (layers in layering_test.go): add one, with what it may import", pkg)
		}
	}
	for pkg := range layers {
		if !slices.Contains(own, pkg) {
			t.Errorf("layers has an entry for %s, which is no longer a package of the module: remove it", pkg)
		}
	}

	for _, pkg := range own {
		l, ok := layers[pkg]
		if !ok {
			continue
		}
		usedImport := map[string]bool{}
		usedExternal := map[string]bool{}
		path := module
		if pkg != "." {
			path += "/" + pkg
		}
		for _, imp := range pkgs[path].imports {
			dep, ok := pkgs[imp]
			switch {
			case !ok:
				t.Errorf("%s imports %s, which go list did not report", pkg, imp)
			case dep.standard:
			case dep.module == module:
				r := rel(imp)
				usedImport[r] = true
				if !slices.Contains(l.imports, r) {
					t.Errorf("%s imports %s, which the table of allowed imports does not allow (layering)", pkg, r)
				}
			default:
				i := slices.IndexFunc(l.external, func(m string) bool { return under(dep.module, m) })
				if i < 0 {
					t.Errorf("%s imports %s (module %s), which the table of allowed imports does not allow", pkg, imp, dep.module)
					continue
				}
				usedExternal[l.external[i]] = true
			}
		}
		for _, imp := range l.imports {
			if !usedImport[imp] {
				t.Errorf("the table allows %s to import %s, which it does not: keep the table exact", pkg, imp)
			}
		}
		for _, m := range l.external {
			if !usedExternal[m] {
				t.Errorf("the table allows %s to use module %s, which it does not: keep the table exact", pkg, m)
			}
		}
	}

	checkRules(t)
}

// reach returns every module package pkg reaches through the table.
func reach(pkg string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, q := range layers[p].imports {
			if !seen[q] {
				seen[q] = true
				walk(q)
			}
		}
	}
	walk(pkg)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// checkRules checks the table against the rules: since every import is in
// the table, what the table reaches is what the code reaches.
func checkRules(t *testing.T) {
	for pkg, bad := range mustNot {
		if _, ok := layers[pkg]; !ok {
			t.Errorf("mustNot names %s, which has no entry in layers", pkg)
		}
		for _, dep := range reach(pkg) {
			for _, b := range bad {
				if under(dep, b) {
					t.Errorf("%s reaches %s, which it must not (layering)", pkg, dep)
				}
			}
		}
	}
	for root, allowed := range onlyReach {
		found := false
		for pkg := range layers {
			if !under(pkg, root) {
				continue
			}
			found = true
			for _, dep := range reach(pkg) {
				if !under(dep, root) && !slices.ContainsFunc(allowed, func(a string) bool { return under(dep, a) }) {
					t.Errorf("%s reaches %s; %s may reach only %v and its own subpackages", pkg, dep, root, allowed)
				}
			}
		}
		if !found {
			t.Errorf("onlyReach names %s, which has no entry in layers", root)
		}
	}
	for pkg, l := range layers {
		if slices.Contains(testOnly, pkg) {
			continue // test helpers may build on one another
		}
		for _, imp := range l.imports {
			if slices.Contains(testOnly, imp) {
				t.Errorf("%s imports %s, which is for tests only", pkg, imp)
			}
		}
	}
}
