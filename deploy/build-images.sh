#!/usr/bin/env bash
# Builds the container images without pulling anything: both are FROM
# scratch and get every file from this machine (make image runs this).
#
#   flint:latest            deploy/Dockerfile
#   flint-versitygw:latest  deploy/versitygw.Dockerfile
#
# Environment: GO (default go), FLINT_IMAGE, VERSITYGW_IMAGE (tags),
# BUILD_DIR (the docker build context, default deploy/build), CA_BUNDLE
# (default /etc/ssl/certs/ca-certificates.crt).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
GO="${GO:-go}"
FLINT_IMAGE="${FLINT_IMAGE:-flint:latest}"
VERSITYGW_IMAGE="${VERSITYGW_IMAGE:-flint-versitygw:latest}"
ctx="${BUILD_DIR:-$root/deploy/build}"
ca="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

if [ ! -s "$ca" ]; then
	echo "build-images: no CA bundle at $ca (Debian/Ubuntu: apt-get install ca-certificates; or set CA_BUNDLE)" >&2
	exit 1
fi
rm -rf "$ctx"
mkdir -p "$ctx/work"

# Static, stripped, without local paths: runs on an empty base image.
(cd "$root" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$ctx/flint" ./cmd/flint)
# versitygw from the module that pins it for the S3 tests, with the flags
# internal/s3test builds it with (so the build cache is shared).
(cd "$root/tools/versitygw" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 \
	"$GO" build -ldflags "-s -w" -o "$ctx/versitygw" github.com/versity/versitygw/cmd/versitygw)

cp "$ca" "$ctx/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\nflint:x:10001:10001:flint:/work:/sbin/nologin\n' >"$ctx/passwd"
printf 'root:x:0:\nflint:x:10001:\n' >"$ctx/group"

docker build -q -f "$root/deploy/Dockerfile" -t "$FLINT_IMAGE" "$ctx"
docker build -q -f "$root/deploy/versitygw.Dockerfile" -t "$VERSITYGW_IMAGE" "$ctx"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$FLINT_IMAGE"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$VERSITYGW_IMAGE"
