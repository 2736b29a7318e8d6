// Package deploy holds what runs Flint in containers: the FROM-scratch
// images (Dockerfile, versitygw.Dockerfile, built by build-images.sh, which
// `make image` runs) and a compose file (compose.yaml: versitygw as S3,
// three drivers as a raft group, two executors; `make cluster-up` /
// `make cluster-down`).
//
// It has no Go code of its own: its test builds the images, starts the
// compose cluster, loads TPC-H into its S3 and checks query answers against
// DuckDB's, then repeats its faults five times: an executor killed
// mid-query and restarted, one paused past the heartbeat timeout, one
// killed mid-COPY (every row committed once, nothing left beside the
// manifest's files); last, the leading driver is killed mid-query and
// started again.
package deploy
