package s3

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestAddressing checks which URL style the client is built with, from
// the endpoint, FLINT_S3_PATH_STYLE and Options.Addressing. No request is
// made.
func TestAddressing(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_ENDPOINT_URL", "")
	os.Unsetenv("AWS_ENDPOINT_URL")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	os.Unsetenv("AWS_ENDPOINT_URL_S3")
	creds := credentials.NewStaticCredentialsProvider("AK", "SK", "")
	cases := []struct {
		name       string
		endpoint   string // Options.Endpoint
		envURL     string // AWS_ENDPOINT_URL_S3
		env        string // FLINT_S3_PATH_STYLE
		addressing Addressing
		wantPath   bool
	}{
		{name: "AWS", wantPath: false},
		{name: "custom endpoint", endpoint: "http://127.0.0.1:9", wantPath: true},
		{name: "endpoint from the environment", envURL: "http://127.0.0.1:9", wantPath: true},
		{name: "env forces virtual", endpoint: "http://127.0.0.1:9", env: "false", wantPath: false},
		{name: "env forces path on AWS", env: "true", wantPath: true},
		{name: "option beats env", endpoint: "http://127.0.0.1:9", env: "true", addressing: VirtualHostStyle, wantPath: false},
		{name: "option path", addressing: PathStyle, wantPath: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(PathStyleEnv, tc.env)
			if tc.envURL != "" {
				t.Setenv("AWS_ENDPOINT_URL_S3", tc.envURL)
			}
			f := New(Options{Endpoint: tc.endpoint, Credentials: creds, Addressing: tc.addressing})
			cl, err := f.s3Client(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			o := cl.Options()
			if o.UsePathStyle != tc.wantPath {
				t.Errorf("UsePathStyle = %v, want %v", o.UsePathStyle, tc.wantPath)
			}
			if o.Region != "us-east-1" {
				t.Errorf("region %q, want the us-east-1 default", o.Region)
			}
		})
	}
}

func TestMaskUserInfo(t *testing.T) {
	for in, want := range map[string]string{
		"s3://AK:SK@bucket/key": "s3://***@bucket/key",
		"s3://SK@bucket":        "s3://***@bucket",
		"s3://bucket/a@b":       "s3://bucket/a@b",
		"plain":                 "plain",
	} {
		if got := maskUserInfo(in); got != want {
			t.Errorf("maskUserInfo(%q) = %q, want %q", in, got, want)
		}
	}
}
