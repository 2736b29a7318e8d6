#!/usr/bin/env bash
# Times the 22 TPC-H queries as whole flint processes (local mode, all
# cores; best of RUNS, default 3) next to DuckDB with 2 threads on the same
# Parquet files, and prints per query: wall time of each, the Flint/DuckDB
# ratio, the peak RSS of each (DuckDB's from one process per query) and
# the bytes Flint spilled (operators + exchanges, from flint sql --stats).
# FLINT_ARGS is added to every flint command line, e.g.
# FLINT_ARGS="--memory-limit 1GiB".
#
# usage: scripts/bench-tpch.sh DIR   (DIR holds <table>.parquet; see `make bench`)
set -euo pipefail
dir=${1:?usage: $0 DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/bin"
[ -x "$root/bin/flint" ] || (cd "$root" && go build -o bin/flint ./cmd/flint)
(cd "$root/tools/duckref" && go build -o "$root/bin/duckref" .)
read -r -a flint_args <<< "${FLINT_ARGS:-}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# DuckDB: per-query wall time measured inside one process (best of RUNS),
# then each query once in a process of its own for its peak RSS.
runs=${RUNS:-3}
"$root/bin/duckref" bench --dir "$dir" --threads 2 --runs "$runs" > "$tmp/duck.tsv"
for q in $(seq 1 22); do
  /usr/bin/time -f "%M" -o "$tmp/dtime" "$root/bin/duckref" bench --dir "$dir" --threads 2 --runs 1 --only "$q" > /dev/null
  printf "q%02d %s\n" "$q" "$(cat "$tmp/dtime")" >> "$tmp/duckrss"
done

echo "flint ${FLINT_ARGS:-}"
printf "%-5s %9s %9s %7s %10s %10s %12s\n" query flint_s duck_s ratio flint_MiB duck_MiB spilled_MiB
awk_prog='
  { f=$2; d=$3; r=f/d; s+=log(r); n++; if (r>mx) mx=r; if ($4>mem) mem=$4; tf+=f; td+=d; sp+=$6
    printf "%-5s %9.3f %9.3f %7.2f %10.0f %10.0f %12.1f\n", $1, f, d, r, $4/1024, $5/1024, $6/1048576 }
  END { printf "total %9.3f %9.3f\n", tf, td;
        printf "geometric mean of flint/duckdb: %.2f   max ratio: %.2f   max peak RSS: %.0f MiB   spilled: %.0f MiB\n", exp(s/n), mx, mem/1024, sp/1048576 }'
to_bytes() { # "12.3 MiB" -> bytes
  awk -v v="$1" -v u="$2" 'BEGIN { m = (u=="KiB")?1024:(u=="MiB")?1048576:(u=="GiB")?1073741824:1; printf "%.0f", v*m }'
}
for q in $(seq 1 22); do
  qq=$(printf "q%02d" "$q")
  secs=; rss=0
  for r in $(seq 1 "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$root/bin/flint" sql --tables "$dir" -f "$root/tpch/queries/$qq.sql" --format csv --stats "${flint_args[@]}" > /dev/null 2> "$tmp/stats"
    read -r s m < "$tmp/time"
    if [ -z "$secs" ] || awk -v a="$s" -v b="$secs" 'BEGIN{exit !(a<b)}'; then secs=$s; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  # flint: 1 queries, 1.2s; memory pool peak X U; spilled A U by operators, B U of exchanges
  read -r a au b bu < <(sed -n 's/.*spilled \([0-9.]*\) \([A-Za-z]*\) by operators, \([0-9.]*\) \([A-Za-z]*\) of exchanges.*/\1 \2 \3 \4/p' "$tmp/stats")
  spilled=$(( $(to_bytes "$a" "$au") + $(to_bytes "$b" "$bu") ))
  duck=$(awk -v q="$qq" '$1==q {print $2}' "$tmp/duck.tsv")
  drss=$(awk -v q="$qq" '$1==q {print $2}' "$tmp/duckrss")
  echo "$qq $secs $duck $rss $drss $spilled"
done | awk "$awk_prog"
