"""Python side of scripts/bench-ml.sh: the data, the model and the two
reference paths (XGBoost's inplace_predict on rows in memory, and the
pandas path as a whole process).

The rows are deterministic: chunk c (CHUNK rows each) comes from its own
seed, so the first million rows of the 10M set are the 1M set, and any
process can rebuild them bit for bit. Every feature value is a multiple
of 1/256 below 2^15 in magnitude, so its decimal text in the CSV is exact
and every reader (Flint's CSV reader, pandas, strconv) gets the same
double; about 5% of the values are missing (empty in the CSV, NULL in
Parquet, NaN in numpy).

usage:
  bench-ml.py gen     --rows N --csv PATH          write id,f0..f7,label
  bench-ml.py train   --model PATH                 60 trees, depth 6, binary:logistic
  bench-ml.py inplace --rows N --model PATH [--runs R] [--sample CSV]
        best-of-R wall seconds (and that run's CPU seconds) of
        Booster.inplace_predict (nthread=2) on the rows as a float32 numpy array; with --sample (id,prediction rows
        from Flint) checks them against XGBoost's predictions (1e-6)
  bench-ml.py pandas  --csv PATH --model PATH --out PATH
        read_csv, DMatrix, predict, to_csv(id,prediction): the pandas path
"""

import argparse
import sys
import time

# DATA_VERSION names the rows and the model: change it with chunk() or
# train() so that bench-ml.sh makes them again.
DATA_VERSION = 1
CHUNK = 1_000_000
FEATURES = [f"f{i}" for i in range(8)]
MISSING = 0.05
TRAIN_ROWS = 200_000


def chunk(c, rows):
    """Rows [c*CHUNK, c*CHUNK+rows) as (ids, features float64 n×8, labels)."""
    import numpy as np

    rng = np.random.default_rng([20240611, c])
    scale = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 1.5, 1.0])
    x = np.round(rng.standard_normal((rows, 8)) * scale * 256) / 256
    z = x  # the label is drawn before values go missing
    logit = (
        1.2 * z[:, 0]
        - 0.8 * z[:, 1] * z[:, 2]
        + np.sin(2 * z[:, 3])
        + 0.5 * (z[:, 4] > 0.3) * z[:, 5]
        - 0.6 * np.abs(z[:, 6])
        + 0.3 * z[:, 7] ** 2
        - 0.2
        + rng.standard_normal(rows) * 0.7
    )
    x[rng.random((rows, 8)) < MISSING] = np.nan
    ids = np.arange(c * CHUNK + 1, c * CHUNK + rows + 1, dtype=np.int64)
    return ids, x, (logit > 0).astype(np.int64)


def chunks(rows):
    c = 0
    while c * CHUNK < rows:
        yield chunk(c, min(CHUNK, rows - c * CHUNK))
        c += 1


def features(rows, dtype):
    import numpy as np

    return np.concatenate([x.astype(dtype) for _, x, _ in chunks(rows)])


def gen(a):
    import pandas as pd

    with open(a.csv, "w") as f:
        for i, (ids, x, y) in enumerate(chunks(a.rows)):
            df = pd.DataFrame(x, columns=FEATURES)
            df.insert(0, "id", ids)
            df["label"] = y
            # repr of a multiple of 1/256 is its exact decimal; NaN -> empty.
            df.to_csv(f, index=False, header=(i == 0))


def train(a):
    import pandas as pd
    import xgboost as xgb

    ids, x, y = chunk(0, TRAIN_ROWS)
    d = xgb.DMatrix(pd.DataFrame(x, columns=FEATURES), label=y)
    params = {
        "objective": "binary:logistic",
        "max_depth": 6,
        "eta": 0.3,
        "tree_method": "hist",
        "nthread": 2,
        "seed": 1,
    }
    b = xgb.train(params, d, num_boost_round=60)
    b.save_model(a.model)


def inplace(a):
    import numpy as np
    import xgboost as xgb

    b = xgb.Booster(model_file=a.model)
    b.set_param({"nthread": 2})
    x = np.ascontiguousarray(features(a.rows, np.float32))
    b.inplace_predict(x[:1000])  # warm up
    best = None
    for _ in range(a.runs):
        t, c = time.perf_counter(), time.process_time()
        p = b.inplace_predict(x)
        t, c = time.perf_counter() - t, time.process_time() - c
        if best is None or t < best[0]:
            best = (t, c)
    assert p.shape == (a.rows,), p.shape
    print(f"{best[0]:.3f} {best[1]:.3f}")
    if a.sample:
        check(a.sample, a.rows, p)


def check(sample, rows, want):
    """Flint's id,prediction rows against XGBoost's predictions."""
    import numpy as np

    got = np.loadtxt(sample, delimiter=",", skiprows=1, ndmin=2)
    if len(got) == 0:
        sys.exit(f"check: {sample} has no rows")
    ids = got[:, 0].astype(np.int64)
    if ids.min() < 1 or ids.max() > rows:
        sys.exit(f"check: {sample} has ids outside 1..{rows}")
    diff = np.abs(got[:, 1] - want[ids - 1])
    bad = np.flatnonzero(diff > 1e-6)
    if len(bad):
        i = bad[0]
        sys.exit(
            f"check: {len(bad)} of {len(got)} sampled predictions differ from XGBoost's by more than 1e-6; "
            f"first: id {ids[i]} flint {got[i, 1]!r} xgboost {want[ids[i] - 1]!r}"
        )
    print(f"check: {len(got)} sampled predictions agree with XGBoost's (max diff {diff.max():.1e})", file=sys.stderr)


def pandas_path(a):
    import pandas as pd
    import xgboost as xgb

    b = xgb.Booster(model_file=a.model)
    b.set_param({"nthread": 2})
    df = pd.read_csv(a.csv)
    d = xgb.DMatrix(df[FEATURES], nthread=2)
    p = b.predict(d)
    pd.DataFrame({"id": df["id"], "prediction": p}).to_csv(a.out, index=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["gen", "train", "inplace", "pandas"])
    ap.add_argument("--rows", type=int)
    ap.add_argument("--csv")
    ap.add_argument("--model")
    ap.add_argument("--out")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample")
    a = ap.parse_args()
    {"gen": gen, "train": train, "inplace": inplace, "pandas": pandas_path}[a.cmd](a)


if __name__ == "__main__":
    main()
