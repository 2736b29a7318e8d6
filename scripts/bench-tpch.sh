#!/usr/bin/env bash
# Times the 22 TPC-H queries as whole flint processes (local mode, all
# cores; best of RUNS, default 3) next to DuckDB with 2 threads on the same
# Parquet files (best of RUNS inside one process), and prints per-query
# wall time, the Flint/DuckDB ratio and Flint's peak RSS.
#
# usage: scripts/bench-tpch.sh DIR   (DIR holds <table>.parquet; see `make bench`)
set -euo pipefail
dir=${1:?usage: $0 DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/bin"
[ -x "$root/bin/flint" ] || (cd "$root" && go build -o bin/flint ./cmd/flint)
(cd "$root/tools/duckref" && go build -o "$root/bin/duckref" .)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# DuckDB: per-query wall time measured inside one process (best of 3).
runs=${RUNS:-3}
"$root/bin/duckref" bench --dir "$dir" --threads 2 --runs "$runs" > "$tmp/duck.tsv"

printf "%-5s %10s %10s %8s %10s\n" query flint_s duckdb_s ratio peak_MiB
awk_prog='
  { f=$2; d=$3; r=f/d; s+=log(r); n++; if (r>mx) mx=r; if ($4>mem) mem=$4; tf+=f; td+=d
    printf "%-5s %10.3f %10.3f %8.2f %10.0f\n", $1, f, d, r, $4/1024 }
  END { printf "total %10.3f %10.3f\n", tf, td;
        printf "geometric mean of flint/duckdb: %.2f   max ratio: %.2f   max peak RSS: %.0f MiB\n", exp(s/n), mx, mem/1024 }'
for q in $(seq 1 22); do
  qq=$(printf "q%02d" "$q")
  secs=; rss=0
  for r in $(seq 1 "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$root/bin/flint" sql --tables "$dir" -f "$root/tpch/queries/$qq.sql" --format csv > /dev/null
    read -r s m < "$tmp/time"
    if [ -z "$secs" ] || awk -v a="$s" -v b="$secs" 'BEGIN{exit !(a<b)}'; then secs=$s; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  duck=$(awk -v q="$qq" '$1==q {print $2}' "$tmp/duck.tsv")
  echo "$qq $secs $duck $rss"
done | awk "$awk_prog"
