#!/usr/bin/env bash
# Scores ROWS (default 1M and 10M) rows × 8 DOUBLE features (5% NULL) from
# Parquet with a 60-tree depth-6 binary:logistic XGBoost model, end to end
# as one whole flint process (CREATE MODEL, read Parquet, ml.predict, COPY
# the ids and predictions to Parquet), and prints per row count:
#   flint       wall s (best of RUNS), rows/s, CPU s (user+sys), peak RSS
#   inplace     XGBoost's Booster.inplace_predict, nthread=2, on the same
#               rows already in memory (float32 numpy): best wall of RUNS
#               and its CPU s
#   pandas      the pandas path as a whole python process: read_csv,
#               DMatrix, predict, to_csv; best wall of RUNS, CPU s, peak RSS
# and the ratios flint/inplace and pandas/flint. Before timing, it checks
# that Flint's predictions (every 997th row of its output) agree with
# XGBoost's within 1e-6, and that the output has every row.
#
# Data, CSV copies and the model are made once under DIR (see `make
# bench-ml`): the rows by scripts/bench-ml.py (deterministic), Parquet from
# the CSV by flint's COPY, the model trained by python3-xgboost on 200k of
# the rows. Needs /usr/bin/python3 with xgboost, pandas and numpy (Debian:
# apt-get install python3-xgboost python3-pandas). Generation runs under
# nice; the timed runs do not. FLINT_ARGS is added to the timed flint
# command lines.
#
# usage: scripts/bench-ml.sh DIR   (ROWS="1000000 10000000" RUNS=3)
set -euo pipefail
dir=${1:?usage: $0 DIR}
rows_list=${ROWS:-"1000000 10000000"}
runs=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
helper=$root/scripts/bench-ml.py
flint=$root/bin/flint
mkdir -p "$root/bin" "$dir"
[ -x "$flint" ] || (cd "$root" && go build -o bin/flint ./cmd/flint)
read -r -a flint_args <<< "${FLINT_ARGS:-}"
if ! "$py" -c 'import xgboost, pandas, numpy' 2> /dev/null; then
  echo "bench-ml needs $py with xgboost, pandas and numpy (apt-get install python3-xgboost python3-pandas)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Data and model, once; a new DATA_VERSION in bench-ml.py makes them again.
gen=$(sed -n 's/^DATA_VERSION = //p' "$helper")
if [ "$(cat "$dir/GENERATION" 2> /dev/null)" != "$gen" ]; then
  rm -rf "$dir"/rows-*.csv "$dir"/rows-*.parquet "$dir"/model.json
  echo "$gen" > "$dir/GENERATION"
fi
model=$dir/model.json
if [ ! -f "$model" ]; then
  echo "training the model into $model" >&2
  nice -n 19 "$py" "$helper" train --model "$dir/model.tmp.json" && mv "$dir/model.tmp.json" "$model"
fi
for n in $rows_list; do
  csv=$dir/rows-$n.csv
  pq=$dir/rows-$n.parquet
  if [ ! -f "$csv" ]; then
    echo "writing $n rows to $csv" >&2
    nice -n 19 "$py" "$helper" gen --rows "$n" --csv "$csv.tmp" && mv "$csv.tmp" "$csv"
  fi
  if [ ! -f "$pq/_SUCCESS" ]; then
    echo "writing $n rows to $pq" >&2
    rm -rf "$pq"
    nice -n 19 "$flint" sql --table src="$csv" -e "COPY (SELECT * FROM src) TO '$pq' (FORMAT parquet)" > /dev/null
  fi
done

# The timed flint command (after rm -rf "$tmp/models" "$tmp/out.parquet"):
# a fresh model store, so CREATE MODEL is part of it.
score=(sql --models "$tmp/models" --table t="$dir/rows-N.parquet" "${flint_args[@]}" -e "
    CREATE MODEL m OPTIONS (model_type = 'xgboost', model_path = '$model');
    COPY (SELECT id, prediction FROM ml.predict(MODEL m, TABLE t)) TO '$tmp/out.parquet' (FORMAT parquet)")
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 > b + 0) ? a : b }'; }

for n in $rows_list; do
  # Correctness first: the output has every row once, and a sample of the
  # predictions is XGBoost's.
  cmd=("${score[@]/rows-N/rows-$n}")
  rm -rf "$tmp/models" "$tmp/out.parquet"
  "$flint" "${cmd[@]}" > /dev/null
  read -r count distinct < <("$flint" sql --table o="$tmp/out.parquet" --format csv \
    -e "SELECT count(*), count(DISTINCT id) FROM o" | tail -1 | tr , ' ')
  if [ "$count" != "$n" ] || [ "$distinct" != "$n" ]; then
    echo "flint wrote $count rows ($distinct ids) for $n" >&2
    exit 1
  fi
  "$flint" sql --table o="$tmp/out.parquet" --format csv -e "SELECT id, prediction FROM o WHERE id % 997 = 0" > "$tmp/sample.csv"
  inplace=$("$py" "$helper" inplace --rows "$n" --model "$model" --runs "$runs" --sample "$tmp/sample.csv")

  fs=; fc=; fm=; ps=; pc=; pm=
  for r in $(seq 1 "$runs"); do
    rm -rf "$tmp/models" "$tmp/out.parquet"
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$flint" "${cmd[@]}" > /dev/null
    read -r s u k m < "$tmp/time"
    if [ "$(min "$s" "$fs")" = "$s" ]; then fs=$s; fc=$(awk -v u="$u" -v k="$k" 'BEGIN { print u + k }'); fi
    fm=$(max "$m" "$fm")
    rm -f "$tmp/out.csv"
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$py" "$helper" pandas --csv "$dir/rows-$n.csv" --model "$model" --out "$tmp/out.csv"
    read -r s u k m < "$tmp/time"
    if [ "$(min "$s" "$ps")" = "$s" ]; then ps=$s; pc=$(awk -v u="$u" -v k="$k" 'BEGIN { print u + k }'); fi
    pm=$(max "$m" "$pm")
  done
  echo "$n $fs $fc $fm $inplace $ps $pc $pm"
done > "$tmp/results"

echo "flint ${FLINT_ARGS:-}; best of $runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%9s | %7s %9s %6s %6s | %9s %9s %6s | %8s %6s %6s | %13s %12s\n" \
  rows flint_s rows/s cpu_s MiB inplace_s rows/s cpu_s pandas_s cpu_s MiB flint/inplace pandas/flint
awk '{ printf "%9d | %7.2f %9.0f %6.2f %6.0f | %9.3f %9.0f %6.2f | %8.2f %6.2f %6.0f | %6.2f (cpu %4.2f) %5.2f (cpu %4.2f)\n",
         $1, $2, $1 / $2, $3, $4 / 1024, $5, $1 / $5, $6, $7, $8, $9 / 1024, $2 / $5, $3 / $6, $7 / $2, $8 / $3 }' "$tmp/results"
# The goals, on the first ROWS (1M) and, for memory, flint at the last
# (10M) against pandas at the first.
awk 'NR == 1 { n = $1; fi = $2 / $5; pf = $7 / $2; pm = $9 } { last = $1; fm = $4 }
     END { yn = "no"; if (fi <= 2) yn = "yes"; printf "goals at %d rows: flint within 2x of inplace: %s (%.2f)", n, yn, fi
           yn = "no"; if (pf >= 4) yn = "yes"; printf "; pandas path 4x slower: %s (%.2f)\n", yn, pf
           yn = "no"; if (fm < pm) yn = "yes"; printf "flint peak RSS at %d rows below pandas at %d rows: %s (%.0f vs %.0f MiB)\n", last, n, yn, fm / 1024, pm / 1024 }' "$tmp/results"
echo "cpu_s: user+sys of the whole process (flint, pandas) or of the predict call (inplace); on a busy machine its ratios are steadier than wall time's"
