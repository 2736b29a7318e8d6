package s3_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/goleak"

	"github.com/flint-engine/flint/connectors/s3"
	"github.com/flint-engine/flint/internal/s3test"
)

// One versitygw serves the whole package: bucket "tpch" holds the TPC-H
// sample under sf-sample/, bucket "misc" is for the other tests.
var (
	srv      *s3test.Server
	startErr error
)

const sampleDir = "../../testdata/tpch/sf-sample"

func TestMain(m *testing.M) {
	flag.Parse()
	code := run(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func run(m *testing.M) int {
	bin, err := s3test.ShortBinary()
	if err != nil {
		startErr = err
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "flint-s3test-")
	if err != nil {
		startErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	srv, startErr = s3test.StartServer(bin, dir)
	if startErr != nil {
		return m.Run()
	}
	defer srv.Stop()
	if err := setup(context.Background()); err != nil {
		startErr = fmt.Errorf("%w\nserver output: %s", err, srv.Output())
	}
	// The FS that flint registers for "s3://" reads the standard AWS
	// variables, as it would in production.
	for k, v := range srv.Env() {
		os.Setenv(k, v)
	}
	return m.Run()
}

func setup(ctx context.Context) error {
	for _, b := range []string{"tpch", "misc"} {
		if err := srv.CreateBucket(ctx, b); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(sampleDir)
	if err != nil {
		return err
	}
	return srv.PutDir(ctx, "tpch", "sf-sample", abs)
}

// server returns the shared server, skipping under -short when versitygw
// is not built yet and failing when it could not be built or started.
func server(t *testing.T) *s3test.Server {
	t.Helper()
	if startErr != nil {
		if testing.Short() {
			t.Skip(startErr)
		}
		t.Fatal(startErr)
	}
	return srv
}

// newFS returns an FS with explicit endpoint and credentials.
func newFS(t *testing.T, opts s3.Options) *s3.FS {
	s := server(t)
	if opts.Endpoint == "" {
		opts.Endpoint = s.Endpoint
	}
	if opts.Credentials == nil {
		opts.Credentials = credentials.NewStaticCredentialsProvider(s3test.AccessKey, s3test.SecretKey, "")
	}
	return s3.New(opts)
}
