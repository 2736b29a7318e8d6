package flint_test

import (
	"context"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
	"github.com/flint-engine/flint/internal/s3test"
)

// TestModelsS3 keeps the model store on S3 (versitygw): CREATE MODEL reads
// the model file from S3 and commits it there; local sessions and a
// cluster's executors (their S3 settings from the environment) score
// from it; DROP leaves nothing.
func TestModelsS3(t *testing.T) {
	srv, f := s3Target(t)
	ctx := context.Background()
	keys := func(prefix string) []string {
		out, err := srv.Client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, strings.TrimPrefix(aws.ToString(o.Key), prefix))
		}
		sort.Strings(ks)
		return ks
	}
	put := func(path, local string) {
		b, err := os.ReadFile(local)
		if err != nil {
			t.Fatal(err)
		}
		w, err := f.Create(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	put("s3://lake/train/tier.json", xgbFixtures+"multi_softprob.json")
	put("s3://lake/data/xin.csv", mlInputs)

	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithModels("s3://lake/models"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := s.SQL(ctx, "CREATE MODEL tier OPTIONS (model_type = 'xgboost', model_path = 's3://lake/train/tier.json', feature_columns = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'])"); r.Err() != nil {
		t.Fatal(r.Err())
	}
	if ks := keys("models/"); len(ks) != 2 || ks[0] != "tier/_MODEL" || !strings.HasPrefix(ks[1], "tier/model-") {
		t.Fatalf("objects of the store: %v", ks)
	}
	const q = "SELECT id, prediction[1], prediction[4], predicted_label FROM ml.predict(MODEL tier, TABLE xin) WHERE id IN (1, 2) ORDER BY id"
	want := fixturePreds(t, "multi_softprob")
	check := func(s *flint.Session) {
		t.Helper()
		if err := s.RegisterTable(ctx, "xin", "csv", "s3://lake/data/xin.csv", nil); err != nil {
			t.Fatal(err)
		}
		rows := collectRows(t, ctx, s.SQL(ctx, q))
		if len(rows) != 2 {
			t.Fatalf("rows %v", rows)
		}
		for i, r := range rows {
			c := strings.Split(r, "|")
			if !close6(c[1], want[i][0]) || !close6(c[2], want[i][3]) {
				t.Errorf("row %v, XGBoost says %v", r, want[i])
			}
		}
	}
	check(s)

	// On a cluster: the executors read the model from S3 themselves.
	if !testing.Short() {
		t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
		t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
		t.Setenv("AWS_REGION", s3test.Region)
		c := clustertest.Start(t, clustertest.Options{Executors: 2, DriverArgs: []string{"--models", "s3://lake/models"}})
		cs, err := flint.NewSession(ctx, flint.WithDriver(c.Addr()), flint.WithBatchSize(50))
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if st, err := cs.ModelStore(); err != nil || st != "s3://lake/models" {
			t.Errorf("the cluster session's store is %q (%v), want the driver's", st, err)
		}
		check(cs)
	}

	if r := s.SQL(ctx, "DROP MODEL tier"); r.Err() != nil {
		t.Fatal(r.Err())
	}
	if ks := keys("models/"); len(ks) != 0 {
		t.Errorf("DROP left %v", ks)
	}
}

// close6 reports whether text s is within 1e-6 of want (XGBoost scores in
// float32).
func close6(s string, want float64) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && math.Abs(v-want) <= 1e-6
}
