#!/usr/bin/env bash
# The late-delivery pipeline (examples/late-delivery) end to end, Flint
# next to pandas + XGBoost (the way its users run it today), on TPC-H at
# scale factor SF (default 1; data from `flint bench tpch gen`, cached).
#
#   flint   each SQL step as one `flint sql` process (local mode, all
#           cores): wall seconds and peak RSS per step
#   pandas  scripts/bench-pipeline.py as one python process (XGBoost
#           nthread=2): wall seconds per step, peak RSS of the process
#
# and the ratios of the totals. PIPELINE_EXECUTORS (e.g. "1 2 4") then
# trains the model again on a local cluster of that many executors each
# (a driver and executor processes on this machine, --slots 2), over the
# features the local run wrote, and reports the training's time and the
# driver's and executors' peak RSS. PANDAS_MEM (e.g. 4G) runs the pandas
# process under that memory cap (a systemd-run scope or ulimit -v),
# reporting what happens; FLINT_MEM (e.g. 8GiB) gives every flint process
# that --memory-limit (and is PANDAS_MEM's default). Needs /usr/bin/python3 with pandas, xgboost,
# scikit-learn (Debian: python3-pandas python3-xgboost python3-sklearn).
#
# usage: scripts/bench-pipeline.sh [SF]
set -euo pipefail
sf=${1:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
flint=$root/bin/flint
cache=${XDG_CACHE_HOME:-$HOME/.cache}/flint
data=$cache/tpch-sf$sf
csv=$cache/tpch-sf$sf-csv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o bin/flint ./cmd/flint)
[ -f "$data/lineitem.parquet" ] || nice -n 19 "$flint" bench tpch gen --sf "$sf" --out "$data" > /dev/null
if [ ! -f "$csv/.done" ]; then
  for t in lineitem orders customer part supplier nation; do
    nice -n 19 "$flint" sql --tables "$data" -e "COPY $t TO '$csv/$t.csv' (FORMAT csv, MODE overwrite)" > /dev/null
  done
  touch "$csv/.done"
fi
sql=$root/examples/late-delivery/sql
mem=()
[ -n "${FLINT_MEM:-}" ] && mem=(--memory-limit "$FLINT_MEM")
PANDAS_MEM=${PANDAS_MEM:-${FLINT_MEM:-}}
PANDAS_MEM=${PANDAS_MEM%B}
PANDAS_MEM=${PANDAS_MEM%i}
echo "late-delivery pipeline, TPC-H SF$sf${FLINT_MEM:+, flint --memory-limit $FLINT_MEM}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s | %8s %8s | %8s\n' step flint_s flint_MiB pandas_s
ftotal=0 fpeak=0
declare -A fs fm
for s in 01_etl 02_train 03_evaluate 04_score; do
  tables=(--table "features=$work/features")
  [ $s = 01_etl ] && tables=(--tables "$data")
  /usr/bin/time -f "%e %M" -o "$work/time" "$flint" sql "${mem[@]}" --models "$work/models" "${tables[@]}" --var WORK="$work" -f "$sql/$s.sql" > /dev/null
  read -r secs kib < "$work/time"
  fs[$s]=$secs fm[$s]=$((kib / 1024))
  ftotal=$(awk -v a="$ftotal" -v b="$secs" 'BEGIN { print a + b }')
  [ $((kib / 1024)) -gt $fpeak ] && fpeak=$((kib / 1024))
done
auc=$("$flint" sql --table e="$work/evaluation" --format csv -e "SELECT roc_auc FROM e" | tail -1)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for n in ${PIPELINE_EXECUTORS:-}; do
  port=$(free_port)
  "$flint" driver --listen 127.0.0.1:$port > "$work/driver.log" 2>&1 &
  dpid=$!
  epids=()
  for i in $(seq "$n"); do
    "$flint" executor "${mem[@]}" --driver 127.0.0.1:$port --listen 127.0.0.1:0 --slots 2 > "$work/exec$i.log" 2>&1 &
    epids+=($!)
  done
  for i in $(seq "$n"); do
    until grep -q "registered with driver" "$work/exec$i.log"; do sleep 0.2; done
  done
  /usr/bin/time -f "%e %M" -o "$work/ctime" "$flint" sql --driver 127.0.0.1:$port --models "$work/cmodels" --table "features=$work/features" \
    --var WORK="$work" -f "$sql/02_train.sql" > /dev/null
  read -r csecs ckib < "$work/ctime"
  hwm() { awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$1/status"; }
  dmax=$(hwm "$dpid") emax=0
  for p in "${epids[@]}"; do r=$(hwm "$p"); [ "$r" -gt "$emax" ] && emax=$r; done
  kill -INT "${epids[@]}" "$dpid" 2> /dev/null || true
  wait "${epids[@]}" "$dpid" 2> /dev/null || true
  echo "cluster of $n executor(s): training ${csecs}s (local mode ${fs[02_train]}s); peak RSS: driver $dmax MiB, largest executor $emax MiB, client $((ckib / 1024)) MiB"
done
cap=()
if [ -n "${PANDAS_MEM:-}" ]; then
  cap=(systemd-run --scope --quiet -p MemoryMax="$PANDAS_MEM" -p MemorySwapMax=0)
  # Without a systemd to ask (a container), cap the address space.
  systemd-run --scope --quiet true > /dev/null 2>&1 ||
    cap=(bash -c 'ulimit -v $(( $(numfmt --from=iec "$PANDAS_MEM") / 1024 )); exec "$@"' _)
fi
set +e
/usr/bin/time -f "%e %M" -o "$work/ptime" "${cap[@]}" /usr/bin/python3 "$root/scripts/bench-pipeline.py" "$csv" "$work/pandas-out" > "$work/psteps" 2> "$work/perr"
prc=$?
set -e
read -r ptotal pkib < "$work/ptime" || true
declare -A ps
while read -r name secs; do ps[$name]=$secs; done < "$work/psteps"
printf '%-10s | %8s %8s | %8s\n' etl "${fs[01_etl]}" "${fm[01_etl]}" "$(awk -v a="${ps[read]:-0}" -v b="${ps[etl]:-0}" 'BEGIN { print a + b }')"
printf '%-10s | %8s %8s | %8s\n' train "${fs[02_train]}" "${fm[02_train]}" "$(awk -v a="${ps[features]:-0}" -v b="${ps[train]:-0}" 'BEGIN { print a + b }')"
printf '%-10s | %8s %8s | %8s\n' evaluate "${fs[03_evaluate]}" "${fm[03_evaluate]}" "${ps[evaluate]:-}"
printf '%-10s | %8s %8s | %8s\n' score "${fs[04_score]}" "${fm[04_score]}" "${ps[score]:-}"
echo "flint:  total ${ftotal}s, peak RSS ${fpeak} MiB, test AUC $auc"
if [ $prc -eq 0 ]; then
  echo "pandas: total ${ptotal}s, peak RSS $((pkib / 1024)) MiB, test AUC ${ps[auc]}"
  awk -v f="$ftotal" -v p="$ptotal" -v fm="$fpeak" -v pm="$((pkib / 1024))" 'BEGIN { printf "pandas/flint: time %.2fx, peak memory %.2fx\n", p / f, pm / fm }'
else
  echo "pandas: failed (exit $prc${PANDAS_MEM:+, memory cap $PANDAS_MEM}) after ${ptotal:-?}s: $(tail -1 "$work/perr")"
fi
