#!/usr/bin/env bash
# Runs TPC-H queries under a sweep of --memory-limit values, each query a
# whole flint process, and prints wall time, peak RSS and bytes spilled
# per (limit, query).
#
# usage: scripts/bench-memory.sh DIR "4GiB 2GiB 1GiB" "5 9 18 21"
set -euo pipefail
dir=${1:?usage: $0 DIR LIMITS QUERIES}
limits=${2:-"4GiB 2GiB 1GiB 512MiB"}
queries=${3:-"5 9 18 21"}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$root/bin/flint" ] || (cd "$root" && go build -o bin/flint ./cmd/flint)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-8s %-5s %9s %10s  %s\n" limit query wall_s peak_MiB stats
for l in $limits; do
  for q in $queries; do
    qq=$(printf "q%02d" "$q")
    if /usr/bin/time -f "%e %M" -o "$tmp/time" "$root/bin/flint" sql --tables "$dir" -f "$root/tpch/queries/$qq.sql" \
         --format csv --stats --memory-limit "$l" > /dev/null 2> "$tmp/stats"; then
      read -r s m < "$tmp/time"
      printf "%-8s %-5s %9.2f %10.0f  %s\n" "$l" "$qq" "$s" "$((m / 1024))" "$(sed -n 's/^flint: 1 queries, [^;]*; //p' "$tmp/stats")"
    else
      printf "%-8s %-5s %9s %10s  %s\n" "$l" "$qq" - - "$(tail -1 "$tmp/stats")"
    fi
  done
done
