package flint_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/driverclient"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// TestTrainCluster trains on a cluster: the rows stay on the executors
// that computed them (one worker per final task, four here on two
// executors) and the model reaches XGBoost's quality (expected.json's
// figures, as ml_train.slt checks them). Then an executor is killed in
// the middle of a training: its rows are computed again elsewhere, the
// training goes on from the round it was in, and the model is the one
// trained without the loss, byte for byte.
func TestTrainCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := clustertest.Start(t, clustertest.Options{Executors: 2, HeartbeatTimeout: 3 * time.Second})
	ctx := context.Background()
	s, exec, dir, data := trainSession(t, c)
	exec("CREATE EXTERNAL TABLE gtest STORED AS CSV LOCATION '" + data + "/test.csv.gz'")
	// DISTINCT: a hash aggregate, so the rows end in four final tasks.
	const rows = "SELECT DISTINCT f0, f1, f2, f3, f4, f5, f6, f7, y_bin FROM gtrain"
	exec(`CREATE MODEL bin OPTIONS (model_type = 'boosted_tree_classifier', input_label_cols = ['y_bin'], max_iterations = 60,
	  learn_rate = 0.3, max_tree_depth = 6, max_bins = 256, early_stop = FALSE, data_split_method = 'NO_SPLIT') AS ` + rows)
	prepared := regexp.MustCompile(`msg="training prepared".* workers=(\d+)`)
	m := prepared.FindStringSubmatch(c.Driver().Output())
	if m == nil || m[1] != "4" {
		t.Fatalf("the driver did not prepare the training on 4 workers: %q", m)
	}
	got, err := s.SQL(ctx, "SELECT roc_auc, log_loss FROM ml.evaluate(MODEL bin, (SELECT * FROM gtest))").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	auc, logloss := floatAt(t, got, 0), floatAt(t, got, 1)
	// XGBoost 1.7.4 (expected.json): AUC 0.8169866652656181, log loss 0.5307333294981181.
	if d := auc - 0.8169866652656181; d > 0.005 || d < -0.005 {
		t.Errorf("AUC %v, XGBoost's 0.81699", auc)
	}
	if d := logloss/0.5307333294981181 - 1; d > 0.02 || d < -0.02 {
		t.Errorf("log loss %v, XGBoost's 0.53073", logloss)
	}

	// The same long training twice; an executor killed in the second.
	long := `OPTIONS (model_type = 'boosted_tree_classifier', input_label_cols = ['y_bin'], max_iterations = 400,
	  max_tree_depth = 8, subsample = 0.8, seed = 5, early_stop = FALSE, data_split_method = 'RANDOM') AS ` + rows
	exec("CREATE MODEL calm " + long)
	before := len(prepared.FindAllString(c.Driver().Output(), -1))
	done := make(chan error, 1)
	go func() {
		_, err := s.SQL(ctx, "CREATE MODEL storm "+long).Collect(ctx)
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for len(prepared.FindAllString(c.Driver().Output(), -1)) == before {
		if time.Now().After(deadline) {
			t.Fatal("the second training was never prepared")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Executor(1).Kill()
	if err := <-done; err != nil {
		t.Fatalf("training with an executor killed: %v", err)
	}
	if !strings.Contains(c.Driver().Output(), "training worker lost") {
		for _, l := range strings.Split(c.Driver().Output(), "\n") {
			if strings.Contains(l, "training") || strings.Contains(l, "lost") {
				t.Log(l)
			}
		}
		t.Fatal("the killed executor's worker was not rebuilt (did the training end before the kill?)")
	}
	for _, name := range []string{"calm", "storm"} {
		exec("EXPORT MODEL " + name + " TO '" + filepath.Join(dir, name+".json") + "'")
	}
	a, _ := os.ReadFile(filepath.Join(dir, "calm.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "storm.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("the model trained through an executor's loss differs from the one trained without (%d and %d bytes)", len(a), len(b))
	}
}

// trainSession is a session on cluster c with a model store in dir, four
// partitions and table gtrain (the GBDT fixture's training rows, in data);
// exec runs a statement, failing the test on an error.
func trainSession(t *testing.T, c *clustertest.Cluster) (s *flint.Session, exec func(string), dir, data string) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	s, err := flint.NewSession(ctx, flint.WithDriver(c.Addr()), flint.WithModels(filepath.Join(dir, "models")), flint.WithPartitions(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	data, _ = filepath.Abs("ml/gbdt/testdata")
	exec = func(sql string) {
		t.Helper()
		if _, err := s.SQL(ctx, sql).Collect(ctx); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE EXTERNAL TABLE gtrain STORED AS CSV LOCATION '" + data + "/train.csv.gz'")
	return s, exec, dir, data
}

// floatAt is column col of the first row of a result of DOUBLE columns.
func floatAt(t *testing.T, batches []arrow.RecordBatch, col int) float64 {
	t.Helper()
	for _, b := range batches {
		if b.NumRows() > 0 {
			return b.Column(col).(*array.Float64).Value(0)
		}
	}
	t.Fatal("no rows")
	return 0
}

// TestTrainDriverGroup trains on a replicated driver group whose leader is
// SIGKILLed in the middle of a training: the session prepares the
// training again on the new leader and trains there, and the model is the
// one trained without the loss, byte for byte.
func TestTrainDriverGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := clustertest.Start(t, clustertest.Options{Drivers: 3, Executors: 2, HeartbeatTimeout: 3 * time.Second})
	ctx := context.Background()
	s, exec, dir, _ := trainSession(t, c)
	const model = `OPTIONS (model_type = 'boosted_tree_classifier', input_label_cols = ['y_bin'], max_iterations = 300,
	  max_tree_depth = 8, subsample = 0.8, seed = 5, early_stop = FALSE, data_split_method = 'RANDOM')
	  AS SELECT DISTINCT f0, f1, f2, f3, f4, f5, f6, f7, y_bin FROM gtrain`
	exec("CREATE MODEL calm " + model)

	leader := func() *clustertest.Process {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			for _, p := range c.Drivers() {
				if p.Exited() {
					continue
				}
				conn, err := driverclient.Dial(p.Addr)
				if err != nil {
					continue
				}
				mctx, cancel := context.WithTimeout(ctx, time.Second)
				m, err := conn.Client.Member(mctx, &pb.MemberRequest{})
				cancel()
				conn.Close()
				if err == nil && m.GetState() == "leader" {
					return p
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("no leader within 30s")
		return nil
	}
	lead := leader()
	prepared := regexp.MustCompile(`msg="training prepared"`)
	before := len(prepared.FindAllString(lead.Output(), -1))
	done := make(chan error, 1)
	go func() {
		_, err := s.SQL(ctx, "CREATE MODEL storm "+model).Collect(ctx)
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for len(prepared.FindAllString(lead.Output(), -1)) == before {
		if time.Now().After(deadline) {
			t.Fatal("the second training was never prepared")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // some rounds in
	lead.Kill()
	killed := time.Now()
	if err := <-done; err != nil {
		t.Fatalf("training with the leader killed: %v", err)
	}
	next := leader()
	if !prepared.MatchString(next.Output()) {
		t.Fatal("the new leader prepared no training: did the training end before the kill?")
	}
	t.Logf("the training ended %s after the leader was killed", time.Since(killed).Round(time.Millisecond))
	for _, name := range []string{"calm", "storm"} {
		exec("EXPORT MODEL " + name + " TO '" + filepath.Join(dir, name+".json") + "'")
	}
	a, _ := os.ReadFile(filepath.Join(dir, "calm.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "storm.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("the model trained through a leader change differs from the one trained without (%d and %d bytes)", len(a), len(b))
	}
}
