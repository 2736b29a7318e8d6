#!/usr/bin/env bash
# Times the 22 TPC-H queries reading the same Parquet files from local disk
# and from a real S3 server (versitygw, posix backend, on 127.0.0.1), each
# as a whole flint process with only the standard AWS variables set; checks
# both give identical output; prints per-query times, the S3/local ratio
# and its geometric mean. Then measures a full scan of lineitem (all 16
# columns) in MB/s and rows/s: Flint local, Flint over S3, DuckDB local.
#
# usage: scripts/bench-s3.sh DIR   (DIR holds <table>.parquet; see `make bench`)
#        RUNS=3 (best of); versitygw is built from tools/versitygw.
set -euo pipefail
dir=$(cd "${1:?usage: $0 DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
mkdir -p "$root/bin"
(cd "$root" && go build -o bin/flint ./cmd/flint)
(cd "$root/tools/duckref" && go build -o "$root/bin/duckref" .)
gw="$root/bin/versitygw"
(cd "$root/tools/versitygw" && GOWORK=off go build -o "$gw" github.com/versity/versitygw/cmd/versitygw)

tmp=$(mktemp -d)
s3root="$tmp/s3"
mkdir -p "$s3root/tpch"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$gw" --access benchkey --secret benchsecret1234 --region us-east-1 \
  --port "127.0.0.1:$port" --health /health --quiet posix "$s3root" >"$tmp/gw.log" 2>&1 &
gwpid=$!
trap 'kill $gwpid 2>/dev/null; rm -rf "$tmp"' EXIT
tables="nation region part supplier partsupp customer orders lineitem"
# The posix backend serves the files of its root as objects: a bucket is a
# folder. Copy (or hard-link) the files in.
for t in $tables; do
  ln "$dir/$t.parquet" "$s3root/tpch/$t.parquet" 2>/dev/null || cp "$dir/$t.parquet" "$s3root/tpch/$t.parquet"
done
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret1234 AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$port" AWS_EC2_METADATA_DISABLED=true
s3tables=()
for t in $tables; do s3tables+=(--table "$t=s3://tpch/$t.parquet"); done

best() { # best wall seconds of $runs runs of "$@" (stdout to $out)
  local b=
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e" -o "$tmp/time" "$@" > "$out"
    local s; s=$(cat "$tmp/time")
    if [ -z "$b" ] || awk -v a="$s" -v b="$b" 'BEGIN{exit !(a<b)}'; then b=$s; fi
  done
  echo "$b"
}

printf "%-5s %9s %9s %7s\n" query local_s s3_s ratio
for q in $(seq 1 22); do
  qq=$(printf "q%02d" "$q")
  out="$tmp/local.csv"; l=$(best "$root/bin/flint" sql --tables "$dir" -f "$root/tpch/queries/$qq.sql" --format csv)
  out="$tmp/s3.csv"; s=$(best "$root/bin/flint" sql "${s3tables[@]}" -f "$root/tpch/queries/$qq.sql" --format csv)
  cmp -s "$tmp/local.csv" "$tmp/s3.csv" || { echo "$qq: S3 output differs from local" >&2; diff "$tmp/local.csv" "$tmp/s3.csv" | head >&2; exit 1; }
  echo "$qq $l $s"
done | awk '{ r=$3/$2; s+=log(r); n++; printf "%-5s %9.3f %9.3f %7.2f\n", $1, $2, $3, r }
  END { printf "geometric mean of s3/local: %.2f (all %d outputs identical)\n", exp(s/n), n }'

scan="select count(*), sum(l_orderkey), sum(l_partkey), sum(l_suppkey), sum(l_linenumber), sum(l_quantity), sum(l_extendedprice), sum(l_discount), sum(l_tax), max(l_returnflag), max(l_linestatus), max(l_shipdate), max(l_commitdate), max(l_receiptdate), max(l_shipinstruct), max(l_shipmode), max(l_comment) from lineitem"
bytes=$(stat -c %s "$dir/lineitem.parquet")
rows=$("$root/bin/flint" sql --tables "$dir" -e "select count(*) from lineitem" --format csv | tail -1)
out=/dev/null
fl=$(best "$root/bin/flint" sql --tables "$dir" -e "$scan" --format csv)
fs=$(best "$root/bin/flint" sql --table "lineitem=s3://tpch/lineitem.parquet" -e "$scan" --format csv)
dk=$("$root/bin/duckref" time --dir "$dir" --threads 2 --runs "$runs" --sql "$scan")
echo
echo "full scan of lineitem.parquet ($((bytes / 1048576)) MiB, $rows rows, all 16 columns):"
for row in "flint-local $fl whole process" "flint-s3 $fs whole process" "duckdb-local $dk in-process, 2 threads"; do
  set -- $row
  awk -v n="$1" -v t="$2" -v b="$bytes" -v r="$rows" -v note="${*:3}" \
    'BEGIN { printf "  %-13s %6.3f s %8.1f MB/s %6.1f Mrows/s  (%s)\n", n, t, b/t/1e6, r/t/1e6, note }'
done
