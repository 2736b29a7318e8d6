package s3

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flint-engine/flint/connectors/fs"
)

// ErrAccessDenied is wrapped by errors for requests the store refused:
// missing permissions, an unknown access key, a bad signature or expired
// credentials.
var ErrAccessDenied = errors.New("access denied")

// errBadCredentials is the ErrAccessDenied for credentials the store does
// not accept at all (unknown key, bad signature, expired token).
var errBadCredentials = fmt.Errorf("%w: credentials refused", ErrAccessDenied)

// errPreconditionFailed marks a GET refused because the object's ETag no
// longer matches the one seen at Open.
var errPreconditionFailed = errors.New("object changed while it was being read")

// credentialCodes are the S3 error codes that mean the credentials
// themselves were refused. versitygw answers an unknown access key with
// 404 XAdminUserNotFound, so codes are checked before status 404.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"ExpiredToken":          true,
	"InvalidToken":          true,
	"TokenRefreshRequired":  true,
	"XAdminUserNotFound":    true,
}

// policyCodes are the codes for valid credentials lacking permission.
var policyCodes = map[string]bool{
	"AccessDenied":      true,
	"Forbidden":         true,
	"AllAccessDisabled": true,
	"AccountProblem":    true,
}

func apiDetails(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// isNotFound reports a 404 that does not come with a code naming bad
// credentials.
func isNotFound(err error) bool {
	code, status := apiDetails(err)
	return !credentialCodes[code] && (status == 404 || code == "NoSuchKey" || code == "NotFound" || code == "NoSuchBucket")
}

func bucketMissing(loc location) error {
	return fmt.Errorf("%s: bucket %q does not exist: %w", loc.uri, loc.bucket, fs.ErrNotExist)
}

// classify turns an SDK error from request op on loc into an error that
// names the location, wraps fs.ErrNotExist or ErrAccessDenied where they
// apply, and carries no credentials.
func (f *FS) classify(op string, loc location, err error) error {
	code, status := apiDetails(err)
	switch {
	case code == "NoSuchBucket":
		return bucketMissing(loc)
	case !credentialCodes[code] && (status == 404 || code == "NoSuchKey" || code == "NotFound"):
		return fmt.Errorf("%s: %w", loc.uri, fs.ErrNotExist)
	case status == 403 || credentialCodes[code] || policyCodes[code]:
		detail := code
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorMessage() != "" {
			detail += ": " + ae.ErrorMessage()
		}
		wrapped := ErrAccessDenied
		if credentialCodes[code] {
			wrapped = errBadCredentials
		}
		return f.scrubbed(fmt.Sprintf("%s: %s (%s: %s); check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE) and the bucket policy",
			loc.uri, ErrAccessDenied, op, detail), wrapped)
	case status == 412 || code == "PreconditionFailed":
		return fmt.Errorf("%s: %w (its ETag no longer matches); run the query again", loc.uri, errPreconditionFailed)
	}
	return f.scrubbed(fmt.Sprintf("s3 %s %s: %v", op, loc.uri, err), err)
}

// scrubbed is an error whose text has the current credentials masked; it
// still unwraps to err for errors.Is/As.
func (f *FS) scrubbed(msg string, err error) error {
	for _, s := range f.secrets() {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return &scrubbedError{msg: msg, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
