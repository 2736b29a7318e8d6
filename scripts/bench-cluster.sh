#!/usr/bin/env bash
# Times the 22 TPC-H queries on a cluster on this machine (one `flint
# driver`, two `flint executor --slots 1`) through `flint sql --driver`,
# next to local mode `flint sql --slots 2`, as whole client processes (best
# of RUNS, default 3). Prints per-query wall time, the cluster/local ratio
# and its geometric mean, and checks that both print the same CSV (rows
# compared sorted when only the order of ties differs). Then the same
# comparison between long-lived processes (flint bench tpch run, local and
# --driver). Exits 1 on a difference or a failed query.
#
# usage: scripts/bench-cluster.sh DIR   (DIR holds <table>.parquet; see `make bench-cluster`)
set -euo pipefail
dir=${1:?usage: $0 DIR}
dir=$(cd "$dir" && pwd) # executors read the same absolute paths
root=$(cd "$(dirname "$0")/.." && pwd)
flint=$root/bin/flint
mkdir -p "$root/bin"
[ -x "$flint" ] || (cd "$root" && go build -o bin/flint ./cmd/flint)
runs=${RUNS:-3}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_log FILE REGEX: prints the first match of REGEX (grep -o) in FILE,
# waiting up to 60s for it.
wait_log() {
  for _ in $(seq 1 600); do
    if m=$(grep -o -m1 -E "$2" "$1" 2>/dev/null); then echo "$m"; return 0; fi
    sleep 0.1
  done
  echo "bench-cluster: no '$2' in $1 after 60s:" >&2
  cat "$1" >&2
  return 1
}

"$flint" driver --listen 127.0.0.1:0 2> "$tmp/driver.log" &
pids+=($!)
addr=$(wait_log "$tmp/driver.log" 'msg="driver listening" addr=[^ ]+')
addr=${addr##*addr=}
for i in 1 2; do
  "$flint" executor --driver "$addr" --listen 127.0.0.1:0 --slots 1 --work-dir "$tmp/executor-$i" 2> "$tmp/executor-$i.log" &
  pids+=($!)
done
for i in 1 2; do wait_log "$tmp/executor-$i.log" 'msg="registered with driver"' > /dev/null; done
echo "driver $addr, 2 executors with 1 slot each; local mode with 2 slots; best of $runs"

# timed TIMES OUT ARGS...: runs flint ARGS with stdout to OUT and appends
# its wall seconds to TIMES; on failure it prints flint's error.
timed() {
  local times=$1 out=$2
  shift 2
  if ! /usr/bin/time -f "%e" -o "$tmp/time" "$flint" "$@" > "$out" 2> "$tmp/err"; then
    echo "bench-cluster: flint $* failed:" >&2
    cat "$tmp/err" >&2
    return 1
  fi
  tail -1 "$tmp/time" >> "$times"
}

status=0
printf "%-5s %9s %10s %7s  %s\n" query local_s cluster_s ratio output
for q in $(seq 1 22); do
  qq=$(printf "q%02d" "$q")
  sql=$root/tpch/queries/$qq.sql
  : > "$tmp/local.times"
  : > "$tmp/cluster.times"
  for _ in $(seq 1 "$runs"); do
    timed "$tmp/local.times" "$tmp/local.csv" sql --slots 2 --tables "$dir" -f "$sql" --format csv || exit 1
    timed "$tmp/cluster.times" "$tmp/cluster.csv" sql --driver "$addr" --tables "$dir" -f "$sql" --format csv || exit 1
  done
  if cmp -s "$tmp/local.csv" "$tmp/cluster.csv"; then
    same=identical
  elif cmp -s <(sort "$tmp/local.csv") <(sort "$tmp/cluster.csv"); then
    same="identical sorted (ties in another order)"
  else
    same=DIFFERENT
    diff "$tmp/local.csv" "$tmp/cluster.csv" | head -20 >&2 || true
  fi
  echo "$qq $(sort -g "$tmp/local.times" | head -1) $(sort -g "$tmp/cluster.times" | head -1) $same"
done | awk '
  { l=($2 > 0.01 ? $2 : 0.01); c=$3; r=c/l; s+=log(r); n++; tl+=l; tc+=c; if (r>mx) mx=r; if ($4=="DIFFERENT") bad++
    out=$4; for (i=5; i<=NF; i++) out=out " " $i
    printf "%-5s %9.2f %10.2f %7.2f  %s\n", $1, l, c, r, out }
  END { if (n == 0) exit 1
        printf "total %9.2f %10.2f\n", tl, tc
        printf "geometric mean of cluster/local: %.2f   max ratio: %.2f\n", exp(s/n), mx
        if (n < 22 || bad) { printf "%d of 22 queries ran, %d outputs differ\n", n, bad; exit 1 } }' || status=1

# The same comparison between long-lived processes: local mode runs the
# queries in one process (flint bench tpch run --slots 2), the cluster
# through one client; each best of RUNS after the runs above warmed the
# cluster. Whole-process local times include faulting in a fresh heap,
# which long-lived executors pay once; this one leaves that out.
echo
echo "in-process (warm) comparison, best of $runs:"
"$flint" bench tpch run --slots 2 --tables "$dir" --repeat "$runs" > "$tmp/warm-local" 2> "$tmp/err" || { cat "$tmp/err" >&2; status=1; }
"$flint" bench tpch run --driver "$addr" --tables "$dir" --repeat "$runs" > "$tmp/warm-cluster" 2> "$tmp/err" || { cat "$tmp/err" >&2; status=1; }
printf "%-5s %9s %10s %7s\n" query local_s cluster_s ratio
join <(awk '/^Q[0-9]/{print $1, $2+0}' "$tmp/warm-local") <(awk '/^Q[0-9]/{print $1, $2+0}' "$tmp/warm-cluster") | awk '
  { l=($2 > 0.001 ? $2 : 0.001); c=$3; r=c/l; s+=log(r); n++; tl+=l; tc+=c; if (r>mx) mx=r
    printf "%-5s %9.3f %10.3f %7.2f\n", $1, l, c, r }
  END { if (n == 0) exit 1
        printf "total %9.2f %10.2f\n", tl, tc
        printf "geometric mean of cluster/local (warm): %.2f   max ratio: %.2f\n", exp(s/n), mx }' || status=1

for p in "${pids[@]}"; do
  if ! kill -0 "$p" 2>/dev/null; then
    echo "bench-cluster: a cluster process (pid $p) died during the run; the ends of the logs:" >&2
    tail -n 5 "$tmp"/*.log >&2
    status=1
  fi
done
exit $status
