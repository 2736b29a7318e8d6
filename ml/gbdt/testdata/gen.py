#!/usr/bin/env python3
"""Generate the fixtures of Flint's ml/gbdt tests with XGBoost 1.7.4.

Two steps, run from the repository root:

  nice -n 19 /usr/bin/python3 ml/gbdt/testdata/gen.py data
      writes the data sets and what XGBoost's own `hist` trainer reaches
      on them:
        train.csv.gz, test.csv.gz   features f0..f7 (an empty field is
                                    missing) and the labels y_bin, y_multi,
                                    y_reg; values rounded to 3 decimals
        expected.json               per case: objective, parameters (by
                                    XGBoost's names), rounds, class weights
                                    and XGBoost's test-set metrics; per
                                    exact case (features quantized to
                                    floor(4v)/4) XGBoost's training loss
                                    after every round

  go test ./ml/gbdt -run TestWriteExportFixtures -update-fixtures
      has Flint train small models and export them as flint_<name>.json

  nice -n 19 /usr/bin/python3 ml/gbdt/testdata/gen.py predict
      loads every flint_<name>.json with xgb.Booster(model_file=...) and
      writes XGBoost's predictions for the first 1000 test rows to
      flint_<name>.pred (one row a line, outputs separated by spaces, each
      the repr of the float32 prediction widened to float64)

Tests never run this script. It is deterministic for a given XGBoost.
"""

import gzip
import io
import json
import os
import sys
import time

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
NF = 8
N_TRAIN, N_TEST = 20000, 5000
PRED_ROWS = 1000


def make_data(rng, n):
    x = np.empty((n, NF))
    x[:, 0] = rng.normal(size=n)
    x[:, 1] = rng.uniform(-2, 2, size=n)
    x[:, 2] = rng.exponential(1.0, size=n)           # skewed
    x[:, 3] = np.round(rng.normal(size=n) * 2) / 2   # many ties
    x[:, 4] = rng.integers(0, 10, size=n)            # low cardinality
    x[:, 5] = rng.normal(size=n)
    x[:, 6] = rng.normal(size=n)
    x[:, 7] = rng.lognormal(0, 1, size=n)
    x = np.round(x, 3)
    for j, frac in ((0, 0.1), (2, 0.1), (5, 0.1), (6, 0.3)):
        x[rng.random(n) < frac, j] = np.nan
    z = np.nan_to_num(x)
    miss6 = np.isnan(x[:, 6]).astype(float)

    logit = (1.2 * z[:, 0] - z[:, 1] + 0.8 * np.sin(2 * z[:, 2]) + 0.5 * (z[:, 3] > 0) * z[:, 5]
             + 0.3 * (z[:, 4] % 3 == 0) - 0.7 * miss6 + 0.3 * np.log(z[:, 7]) - 0.3)
    y_bin = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    scores = np.column_stack([
        z[:, 0] + 0.5 * z[:, 3],
        -z[:, 1] + np.sin(2 * z[:, 2]) + 0.4 * miss6,
        0.8 * z[:, 5] * (z[:, 4] > 4) + 0.3 * np.log(z[:, 7]),
    ])
    y_multi = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)

    y_reg = (z[:, 0] * z[:, 1] + 2 * np.sin(z[:, 2]) + 0.5 * z[:, 3] ** 2 + 0.3 * z[:, 4]
             - 1.0 * miss6 + rng.normal(scale=1.0, size=n))
    y_reg = np.round(y_reg, 3)
    return x, y_bin, y_multi, y_reg


def write_csv(path, x, y_bin, y_multi, y_reg):
    buf = io.StringIO()
    buf.write(",".join([f"f{j}" for j in range(NF)] + ["y_bin", "y_multi", "y_reg"]) + "\n")
    for i in range(len(x)):
        fields = ["" if np.isnan(v) else repr(float(v)) for v in x[i]]
        fields += [str(int(y_bin[i])), str(int(y_multi[i])), repr(float(y_reg[i]))]
        buf.write(",".join(fields) + "\n")
    # mtime=0 keeps the bytes reproducible.
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
        g.write(buf.getvalue().encode())


BASE = {"tree_method": "hist", "max_depth": 6, "eta": 0.3, "max_bin": 256, "seed": 0, "nthread": 2}

# name, objective, label column, extra parameters, class weights
CASES = [
    ("binary", "binary:logistic", "y_bin", {}, None),
    ("binary_regularized", "binary:logistic", "y_bin",
     {"gamma": 1.0, "lambda": 2.0, "alpha": 0.5, "min_child_weight": 5, "subsample": 0.8,
      "colsample_bytree": 0.75}, None),
    ("binary_class_weights", "binary:logistic", "y_bin", {}, [1.0, 3.0]),
    ("multiclass", "multi:softprob", "y_multi", {"num_class": 3}, None),
    ("regression", "reg:squarederror", "y_reg", {}, None),
    ("regression_deep", "reg:squarederror", "y_reg", {"max_depth": 8, "max_bin": 64, "eta": 0.1},
     None),
]
ROUNDS = 60

# Cases trained on the training set with every feature value v replaced
# by floor(4·v)/4: each feature then has fewer than max_bin distinct
# values, so XGBoost's cut points are all of them, whatever its sketch,
# and Flint's are the same. The trees must then be XGBoost's: the test
# compares the training loss of every round.
EXACT_ROUNDS = 30
EXACT_CASES = [
    ("exact_binary", "binary:logistic", "y_bin", {}, None),
    ("exact_binary_regularized", "binary:logistic", "y_bin",
     {"gamma": 0.5, "lambda": 2.0, "alpha": 0.5, "min_child_weight": 5, "max_delta_step": 0.7},
     None),
    ("exact_binary_class_weights", "binary:logistic", "y_bin", {}, [1.0, 3.0]),
    ("exact_multiclass", "multi:softprob", "y_multi", {"num_class": 3, "max_depth": 4}, None),
    ("exact_regression", "reg:squarederror", "y_reg", {"max_depth": 8, "max_bin": 64}, None),
]


def metrics(objective, y, pred):
    from sklearn.metrics import log_loss, roc_auc_score
    if objective == "binary:logistic":
        return {"auc": float(roc_auc_score(y, pred)), "logloss": float(log_loss(y, pred))}
    if objective == "multi:softprob":
        return {"mlogloss": float(log_loss(y, pred, labels=[0, 1, 2])),
                "accuracy": float(np.mean(np.argmax(pred, axis=1) == y))}
    return {"rmse": float(np.sqrt(np.mean((pred - y) ** 2)))}


def data():
    import xgboost as xgb
    rng = np.random.default_rng(20240611)
    train = make_data(rng, N_TRAIN)
    test = make_data(rng, N_TEST)
    write_csv(os.path.join(OUT, "train.csv.gz"), *train)
    write_csv(os.path.join(OUT, "test.csv.gz"), *test)
    label_index = {"y_bin": 1, "y_multi": 2, "y_reg": 3}
    cases = []
    for name, objective, label, extra, class_weights in CASES:
        params = dict(BASE, objective=objective, **extra)
        y = train[label_index[label]]
        weight = None
        if class_weights is not None:
            weight = np.asarray(class_weights)[y.astype(int)]
        dtrain = xgb.DMatrix(train[0], label=y, weight=weight, missing=np.nan)
        dtest = xgb.DMatrix(test[0], missing=np.nan)
        start = time.perf_counter()
        bst = xgb.train(params, dtrain, num_boost_round=ROUNDS)
        seconds = time.perf_counter() - start
        pred = bst.predict(dtest)
        m = metrics(objective, test[label_index[label]], pred)
        print(f"{name}: {m} ({seconds:.2f}s)")
        cases.append({
            "name": name,
            "objective": objective,
            "label": label,
            "rounds": ROUNDS,
            "params": {k: v for k, v in params.items() if k not in ("objective", "nthread")},
            "class_weights": class_weights,
            "xgboost": m,
        })
    exact = []
    xq = np.floor(train[0] * 4) / 4
    for name, objective, label, extra, class_weights in EXACT_CASES:
        params = dict(BASE, objective=objective, **extra)
        y = train[label_index[label]]
        weight = None
        if class_weights is not None:
            weight = np.asarray(class_weights)[y.astype(int)]
        dtrain = xgb.DMatrix(xq, label=y, weight=weight, missing=np.nan)
        result = {}
        xgb.train(params, dtrain, num_boost_round=EXACT_ROUNDS, evals=[(dtrain, "train")],
                  evals_result=result, verbose_eval=False)
        (metric, losses), = result["train"].items()
        print(f"{name}: train {metric} {losses[-1]:.6f}")
        exact.append({
            "name": name,
            "objective": objective,
            "label": label,
            "rounds": EXACT_ROUNDS,
            "params": {k: v for k, v in params.items() if k not in ("objective", "nthread")},
            "class_weights": class_weights,
            "metric": metric,
            "train_loss": [float(v) for v in losses],
        })
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"xgboost_version": xgb.__version__, "cases": cases, "exact_cases": exact}, f,
                  indent=1)
        f.write("\n")


def read_test_features():
    with gzip.open(os.path.join(OUT, "test.csv.gz"), "rt") as f:
        lines = f.read().strip().split("\n")
    rows = []
    for line in lines[1:PRED_ROWS + 1]:
        fields = line.split(",")[:NF]
        rows.append([np.nan if v == "" else float(v) for v in fields])
    return np.asarray(rows)


def predict():
    import xgboost as xgb
    x = read_test_features()
    names = sorted(f for f in os.listdir(OUT) if f.startswith("flint_") and f.endswith(".json"))
    if not names:
        sys.exit("no flint_*.json: run the Go export step first")
    for fname in names:
        bst = xgb.Booster(model_file=os.path.join(OUT, fname))
        pred = bst.predict(xgb.DMatrix(x, missing=np.nan, feature_names=bst.feature_names))
        pred = pred.reshape(len(x), -1)
        with open(os.path.join(OUT, fname[:-len(".json")] + ".pred"), "w") as f:
            for row in pred:
                f.write(" ".join(repr(float(np.float32(v))) for v in row) + "\n")
        print(f"{fname}: {bst.num_boosted_rounds()} rounds, {pred.shape[1]} outputs")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("data", "predict"):
        sys.exit("usage: gen.py data|predict")
    {"data": data, "predict": predict}[sys.argv[1]]()
