// Package s3test runs a real S3 server for tests: versitygw (the Versity S3
// Gateway) over a temporary directory, listening on 127.0.0.1. Tests talk
// to it with the AWS SDK exactly as they would to AWS.
//
// The server needs no installation: the first test that starts one builds
// versitygw Version from the module in tools/versitygw (which pins it and
// its dependencies with a go.sum) into the user cache directory, once per
// machine, and every later test run reuses that build (see Binary). Under
// go test -short nothing is built: the tests use a build that is already
// there and skip otherwise.
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Version is the versitygw release the tests are written against.
const Version = "v1.8.0"

// Credentials of the root account of every server started here. They are
// test-only values; tests check they never leak into error text.
const (
	AccessKey = "FLINTTESTAKIA7QX2"
	SecretKey = "flint-test-secret-9Vq2LrT8wZ"
	Region    = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint string
	// Dir is the posix backend root: each subdirectory is a bucket.
	Dir string
	// Client is an SDK client with the root credentials, for setting up
	// buckets and objects.
	Client *s3.Client

	cmd    *exec.Cmd
	output *lockedBuffer
	done   chan struct{} // closed when the process has exited
}

// Start starts a server on a temporary directory for t and stops it when t
// ends. Under -short it skips t when versitygw is not built yet (see
// ShortBinary); otherwise it builds versitygw if need be and fails t if
// that fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := ShortBinary()
	if err != nil {
		if testing.Short() {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	s, err := StartServer(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// StartServer starts versitygw bin with dir as its posix root on a free
// 127.0.0.1 port and waits until it answers. Stop it with Stop.
func StartServer(bin, dir string) (*Server, error) {
	var lastErr error
	// A port picked free can be taken before the server binds it; try again.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := start(bin, dir, port)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("s3test: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin, dir string, port int) (*Server, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &Server{Endpoint: "http://" + addr, Dir: dir, output: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin,
		"--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "--health", "/health", "--quiet",
		"posix", dir)
	s.cmd.Stdout = s.output
	s.cmd.Stderr = s.output
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("s3test: starting %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(15 * time.Second); err != nil {
		_ = s.Stop()
		return nil, err
	}
	s.Client = s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		UsePathStyle: true,
	})
	return s, nil
}

// waitReady polls the health endpoint until it answers 200.
func (s *Server) waitReady(limit time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("s3test: versitygw exited at start: %s", s.output.String())
		default:
		}
		resp, err := client.Get(s.Endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("health check answered %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("s3test: versitygw at %s not ready after %v: %v; output: %s", s.Endpoint, limit, err, s.output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s) and waits
// for it. It is idempotent.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// Output is what the server printed so far (for failure messages).
func (s *Server) Output() string { return s.output.String() }

// Env is the environment a client process needs to reach the server with
// the standard AWS variables (endpoint, credentials, region), with the EC2
// metadata lookup disabled.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":         s.Endpoint,
		"AWS_ACCESS_KEY_ID":           AccessKey,
		"AWS_SECRET_ACCESS_KEY":       SecretKey,
		"AWS_REGION":                  Region,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	}
}

// CreateBucket creates bucket.
func (s *Server) CreateBucket(ctx context.Context, bucket string) error {
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		return fmt.Errorf("s3test: creating bucket %s: %w", bucket, err)
	}
	return nil
}

// Put uploads data as bucket/key.
func (s *Server) Put(ctx context.Context, bucket, key string, data []byte) error {
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		return fmt.Errorf("s3test: uploading s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// PutFile uploads the local file path as bucket/key.
func (s *Server) PutFile(ctx context.Context, bucket, key, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("s3test: %w", err)
	}
	return s.Put(ctx, bucket, key, data)
}

// PutDir uploads every regular file below dir as bucket/prefix/<relative
// path>.
func (s *Server) PutDir(ctx context.Context, bucket, prefix, dir string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := strings.TrimPrefix(prefix+"/"+filepath.ToSlash(rel), "/")
		return s.PutFile(ctx, bucket, key, p)
	})
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
