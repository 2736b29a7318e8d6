package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flint-engine/flint/internal/clustertest"
)

// Models from the CLI: --models, $FLINT_MODELS, the default store in the
// user's data directory, and on a cluster the driver's --models.

const (
	mlData   = "../../testdata/slt/data/ml/"
	xgbModel = "../../ml/xgboost/testdata/"
)

// createChurn is CREATE MODEL churn over XGBoost's binary_logistic fixture
// with the inputs' columns as its features.
const createChurn = "CREATE MODEL churn OPTIONS (model_type = 'xgboost', model_path = '" + xgbModel + "binary_logitraw.ubj', " +
	"feature_columns = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'])"

// scoreChurn scores the first three rows of the fixture's inputs.
const scoreChurn = "SELECT id, prediction, predicted_label FROM ml.predict(MODEL churn, TABLE xin) WHERE id <= 3 ORDER BY id"

// checkChurn checks scoreChurn's CSV output against XGBoost's margins for
// those rows (binary_logitraw.pred).
func checkChurn(t *testing.T, out string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != "id,prediction,predicted_label" {
		t.Fatalf("output %q (%v)", out, err)
	}
	b, err := os.ReadFile(xgbModel + "binary_logitraw.pred")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(b))[:3]
	for i, r := range recs[1:] {
		got, err1 := strconv.ParseFloat(r[1], 64)
		w, err2 := strconv.ParseFloat(want[i], 64)
		label := "0"
		if w > 0 {
			label = "1"
		}
		if err1 != nil || err2 != nil || math.Abs(got-w) > 1e-6*math.Max(1, math.Abs(w)) || r[0] != strconv.Itoa(i+1) || r[2] != label {
			t.Errorf("row %v, XGBoost says %s (label %s)", r, want[i], label)
		}
	}
}

// cleanEnv is the environment of a CLI run that names no store: HOME is
// home and XDG_DATA_HOME unset.
func cleanEnv(home string) []string {
	return []string{"HOME=" + home, "XDG_DATA_HOME=", modelsEnv + "=", driverEnv + "="}
}

func TestModelsFlagAndEnvironment(t *testing.T) {
	home := t.TempDir()
	table := "xin=" + mlData + "xgb_inputs.csv"

	// --models.
	dir := t.TempDir()
	r := runEnv(t, cleanEnv(home), "sql", "--models", dir, "-e", createChurn)
	if r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "churn", "_MODEL")); err != nil {
		t.Fatalf("no model in --models: %v", err)
	}
	r = runEnv(t, cleanEnv(home), "sql", "--models", dir, "--table", table, "-e", scoreChurn)
	if r.code != 0 {
		t.Fatalf("score: %+v", r)
	}
	checkChurn(t, r.stdout)
	r = runEnv(t, cleanEnv(home), "sql", "--models", dir, "-e", "SHOW MODELS")
	if r.code != 0 || r.stdout != "name,model_type,objective,num_classes,num_outputs,features\nchurn,xgboost,binary:logitraw,2,1,\"f0, f1, f2, f3, f4, f5, f6, f7\"\n" {
		t.Errorf("SHOW MODELS: %+v", r)
	}

	// $FLINT_MODELS, and --models over it.
	env := append(cleanEnv(home), modelsEnv+"="+dir)
	r = runEnv(t, env, "sql", "--table", table, "-e", scoreChurn)
	if r.code != 0 {
		t.Fatalf("score with $%s: %+v", modelsEnv, r)
	}
	checkChurn(t, r.stdout)
	r = runEnv(t, env, "sql", "--models", t.TempDir(), "--table", table, "-e", scoreChurn)
	if r.code != 1 || !strings.Contains(r.stderr, "unknown model churn in the model store") {
		t.Errorf("--models must win over $%s: %+v", modelsEnv, r)
	}

	// The default store: $XDG_DATA_HOME/flint/models, else
	// ~/.local/share/flint/models.
	r = runEnv(t, cleanEnv(home), "sql", "-e", createChurn)
	if r.code != 0 {
		t.Fatalf("create in the default store: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(home, ".local", "share", "flint", "models", "churn", "_MODEL")); err != nil {
		t.Errorf("not in ~/.local/share/flint/models: %v", err)
	}
	xdg := t.TempDir()
	r = runEnv(t, append(cleanEnv(home), "XDG_DATA_HOME="+xdg), "sql", "-e", createChurn+"; DROP MODEL churn; "+createChurn)
	if r.code != 0 {
		t.Fatalf("create in $XDG_DATA_HOME: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(xdg, "flint", "models", "churn", "_MODEL")); err != nil {
		t.Errorf("not in $XDG_DATA_HOME/flint/models: %v", err)
	}

	// A failed CREATE leaves nothing; DROP then SHOW.
	r = runEnv(t, cleanEnv(home), "sql", "--models", dir, "-e", "CREATE MODEL broken OPTIONS (model_type = 'lightgbm', model_path = '"+mlData+"truncated.model')")
	if r.code != 1 || !strings.Contains(r.stderr, "model broken: model_path "+mlData+"truncated.model: lightgbm model: ") {
		t.Errorf("truncated model: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "broken")); !os.IsNotExist(err) {
		t.Errorf("a failed CREATE MODEL left %s/broken: %v", dir, err)
	}
	r = runEnv(t, cleanEnv(home), "sql", "--models", dir, "-e", "DROP MODEL churn; SHOW MODELS")
	if r.code != 0 || r.stdout != "name,model_type,objective,num_classes,num_outputs,features\n" {
		t.Errorf("DROP, SHOW: %+v", r)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("DROP MODEL left %v", left)
	}
}

// TestModelsOutput prints a multi-class model's LIST predictions in every
// output format.
func TestModelsOutput(t *testing.T) {
	dir := t.TempDir()
	table := "xin=" + mlData + "xgb_inputs.csv"
	create := "CREATE MODEL tier OPTIONS (model_type = 'xgboost', model_path = '" + xgbModel + "multi_softprob.json', feature_columns = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7']); "
	r := runEnv(t, cleanEnv(t.TempDir()), "sql", "--models", dir, "--table", table, "--format", "json", "-e",
		create+"SELECT id, prediction, predicted_label FROM ml.predict(MODEL tier, TABLE xin) WHERE id = 1")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var row struct {
		ID    int64     `json:"id"`
		Pred  []float64 `json:"prediction"`
		Label int64     `json:"predicted_label"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &row); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	b, err := os.ReadFile(xgbModel + "multi_softprob.pred")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	if row.ID != 1 || len(row.Pred) != len(want) || row.Label != 2 {
		t.Fatalf("row %+v, XGBoost says %v", row, want)
	}
	for i, w := range want {
		if v, _ := strconv.ParseFloat(w, 64); math.Abs(v-row.Pred[i]) > 1e-6 {
			t.Errorf("output %d: %v, XGBoost says %s", i, row.Pred[i], w)
		}
	}
	r = runEnv(t, cleanEnv(t.TempDir()), "sql", "--models", dir, "--table", table, "--format", "csv", "-e",
		"SELECT prediction FROM ml.predict(MODEL tier, TABLE xin) WHERE id = 1")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "prediction\n\"[0.0645470") || strings.Count(r.stdout, ", ") != 3 {
		t.Errorf("CSV: %+v", r)
	}
}

// TestModelsOnCluster creates a model through a driver whose --models is
// the cluster's store, scores it on the executors with flint sql and
// flint submit, and checks a client's own --models wins.
func TestModelsOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of OS processes")
	}
	store := t.TempDir()
	c := clustertestStart(t, "--models", store)
	table := "xin=" + mlData + "xgb_inputs.csv"
	env := append(cleanEnv(t.TempDir()), driverEnv+"="+c)
	r := runEnv(t, env, "sql", "-e", createChurn)
	if r.code != 0 {
		t.Fatalf("create on the cluster: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(store, "churn", "_MODEL")); err != nil {
		t.Fatalf("the model is not in the driver's store: %v", err)
	}
	r = runEnv(t, env, "sql", "-e", "SHOW MODELS")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "name,model_type,objective,num_classes,num_outputs,features\nchurn,xgboost,binary:logitraw,") {
		t.Errorf("SHOW MODELS on the cluster: %+v", r)
	}
	r = runEnv(t, env, "sql", "--table", table, "--batch-size", "5", "-e", scoreChurn)
	if r.code != 0 {
		t.Fatalf("score on the cluster: %+v", r)
	}
	checkChurn(t, r.stdout)

	job := filepath.Join(t.TempDir(), "job.sql")
	out := filepath.Join(t.TempDir(), "scored")
	if err := os.WriteFile(job, []byte("CREATE EXTERNAL TABLE xin STORED AS CSV LOCATION '"+mlData+"xgb_inputs.csv';\n"+
		"COPY (SELECT id, prediction FROM ml.predict(MODEL churn, TABLE xin)) TO '"+out+"' (FORMAT csv)"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runEnv(t, env, "submit", "-f", job, "--wait")
	if r.code != 0 || !strings.Contains(r.stderr, "wrote 432 rows") {
		t.Fatalf("submit: %+v", r)
	}

	own := t.TempDir()
	r = runEnv(t, env, "sql", "--models", own, "--table", table, "-e", scoreChurn)
	if r.code != 1 || !strings.Contains(r.stderr, "unknown model churn in the model store "+filepath.ToSlash(own)) {
		t.Errorf("a client's --models must win over the driver's: %+v", r)
	}
}

// clustertestStart starts a driver with driverArgs and two executors and
// returns the driver's address.
func clustertestStart(t *testing.T, driverArgs ...string) string {
	t.Helper()
	return clustertest.Start(t, clustertest.Options{Executors: 2, Binary: flintBin, DriverArgs: driverArgs}).Addr()
}
