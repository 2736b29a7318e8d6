#!/usr/bin/env python3
"""Generate the XGBoost fixtures of Flint's ml/xgboost tests.

Trains small models with XGBoost itself (1.7.4, Debian's python3-xgboost)
on synthetic data with missing values, saves each as JSON and UBJSON, and
writes the rows to score with XGBoost's own predictions for them:

  inputs.csv        the rows: header f0..f7, one row a line, values as
                    Python's repr of a float64, an empty field for missing
  <name>.json       Booster.save_model("<name>.json")
  <name>.ubj        Booster.save_model("<name>.ubj")
  <name>.pred       Booster.predict(DMatrix(rows, missing=nan)): one row a
                    line, the row's outputs separated by spaces, each the
                    repr of the float32 prediction widened to float64
  cases.json        per model: objective, booster, num_classes,
                    num_outputs, feature names (as XGBoost reports them)

Regenerate (from the repository root):

  sudo apt-get install -y python3-xgboost python3-sklearn python3-pandas
  nice -n 19 /usr/bin/python3 ml/xgboost/testdata/gen.py

The script is deterministic for a given XGBoost; tests never run it.
"""

import json
import os

import numpy as np
import xgboost as xgb

OUT = os.path.dirname(os.path.abspath(__file__))
NF = 8
NAMES = ["age", "income", "score", "tenure", "visits", "ratio", "delta", "segment"]
CAT = 7  # f7 holds small integer codes; one model treats it as categorical

rng = np.random.default_rng(20240601)


def make_x(n):
    x = rng.normal(size=(n, NF))
    x[:, 5] = np.round(x[:, 5] * 4) / 4  # many ties at round values
    x[:, CAT] = rng.integers(0, 10, size=n)
    x[rng.random(x.shape) < 0.12] = np.nan
    return x


def signal(x):
    z = np.nan_to_num(x)
    return (1.5 * z[:, 0] - z[:, 1] + 0.5 * z[:, 2] * z[:, 3] + np.sin(z[:, 4])
            + (z[:, CAT] % 3 == 0) - 0.3 * z[:, 5])


x_train = make_x(800)
s_train = signal(x_train)
noise = rng.normal(scale=0.5, size=len(s_train))


def labels(kind):
    s = s_train + noise
    if kind == "binary":
        return (s > 0.2).astype(float)
    if kind == "prob":
        return 1 / (1 + np.exp(-s))
    if kind == "count":
        return rng.poisson(np.exp(0.3 * s)).astype(float)
    if kind == "tweedie":
        return rng.poisson(np.exp(0.3 * s)) * rng.gamma(2.0, 1.0, size=len(s))
    if kind == "positive":
        return rng.gamma(2.0, np.exp(0.3 * s) / 2)
    if kind == "class4":
        return np.digitize(s, [-1.5, 0, 1.5]).astype(float)
    if kind == "survival":
        t = rng.exponential(np.exp(-0.3 * s))
        censored = rng.random(len(s)) < 0.3
        return np.where(censored, -t, t)
    if kind == "two":
        return np.column_stack([s, 0.5 * s * s])
    return s


# name, params, rounds, label kind, feature names?, extra
CASES = [
    ("binary_logistic", {"objective": "binary:logistic", "max_depth": 4}, 12, "binary", True, {}),
    ("binary_logitraw", {"objective": "binary:logitraw", "max_depth": 3, "tree_method": "exact"}, 10, "binary", False, {}),
    ("binary_hinge", {"objective": "binary:hinge", "max_depth": 3}, 8, "binary", False, {}),
    ("binary_base_score", {"objective": "binary:logistic", "max_depth": 3, "base_score": 0.2}, 8, "binary", False, {}),
    ("reg_squarederror", {"objective": "reg:squarederror", "max_depth": 4}, 12, "reg", False, {}),
    ("reg_lossguide", {"objective": "reg:squarederror", "grow_policy": "lossguide", "max_depth": 0,
                       "max_leaves": 24, "tree_method": "hist"}, 8, "reg", True, {}),
    ("reg_logistic", {"objective": "reg:logistic", "max_depth": 3}, 10, "prob", False, {}),
    ("reg_squaredlogerror", {"objective": "reg:squaredlogerror", "max_depth": 3}, 8, "positive", False, {}),
    ("reg_pseudohubererror", {"objective": "reg:pseudohubererror", "max_depth": 3}, 8, "reg", False, {}),
    ("reg_absoluteerror", {"objective": "reg:absoluteerror", "max_depth": 3}, 8, "reg", False, {}),
    ("reg_multi_target", {"objective": "reg:squarederror", "max_depth": 3, "tree_method": "hist"}, 6, "two", False, {}),
    ("count_poisson", {"objective": "count:poisson", "max_depth": 3}, 10, "count", True, {}),
    ("reg_tweedie", {"objective": "reg:tweedie", "max_depth": 3, "tweedie_variance_power": 1.4}, 10, "tweedie", False, {}),
    ("reg_gamma", {"objective": "reg:gamma", "max_depth": 3}, 10, "positive", False, {}),
    ("reg_gamma_base_score", {"objective": "reg:gamma", "max_depth": 3, "base_score": 3.0}, 6, "positive", False, {}),
    ("survival_cox", {"objective": "survival:cox", "max_depth": 3}, 8, "survival", False, {}),
    ("rank_pairwise", {"objective": "rank:pairwise", "max_depth": 3}, 8, "class4", False, {"group": True}),
    ("multi_softprob", {"objective": "multi:softprob", "num_class": 4, "max_depth": 3}, 8, "class4", True, {}),
    ("multi_softmax", {"objective": "multi:softmax", "num_class": 4, "max_depth": 3}, 8, "class4", False, {}),
    ("forest_softprob", {"objective": "multi:softprob", "num_class": 4, "max_depth": 3, "num_parallel_tree": 3,
                         "subsample": 0.8, "colsample_bynode": 0.8}, 3, "class4", False, {}),
    ("dart_binary", {"objective": "binary:logistic", "booster": "dart", "max_depth": 3, "rate_drop": 0.3,
                     "skip_drop": 0.0}, 12, "binary", True, {}),
    ("dart_reg", {"objective": "reg:squarederror", "booster": "dart", "max_depth": 3, "rate_drop": 0.2,
                  "one_drop": 1, "normalize_type": "forest", "sample_type": "weighted"}, 10, "reg", False, {}),
    ("categorical", {"objective": "binary:logistic", "max_depth": 4, "tree_method": "hist",
                     "max_cat_to_onehot": 1}, 10, "binary", True, {"categorical": True}),
    ("categorical_onehot", {"objective": "reg:squarederror", "max_depth": 3, "tree_method": "hist",
                            "max_cat_to_onehot": 16}, 6, "reg", False, {"categorical": True}),
]


def dmatrix(x, names, categorical, label=None):
    kw = {"missing": np.nan}
    if names:
        kw["feature_names"] = NAMES
    if categorical:
        kw["feature_types"] = ["q"] * CAT + ["c"]
        kw["enable_categorical"] = True
    if label is not None:
        kw["label"] = label
    return xgb.DMatrix(x, **kw)


def train(name, params, rounds, kind, names, extra):
    params = dict(params, seed=7, eta=0.3, nthread=1)
    d = dmatrix(x_train, names, extra.get("categorical"), labels(kind))
    if extra.get("group"):
        d.set_group([100] * (len(x_train) // 100))
    return xgb.train(params, d, rounds)


def test_rows(thresholds):
    """Rows to score: fresh random rows with missing values, edge rows, and
    rows sitting exactly on split thresholds (and on float64 values that
    round to them), where '<' against a float32 threshold decides."""
    x = make_x(240)
    edge = np.full((6, NF), np.nan)
    edge[1] = 0.0
    edge[2] = -0.0
    edge[3] = 1e30
    edge[4] = -1e30
    edge[5, :4] = [1e-40, -1e-40, 3.5, -3.5]
    cats = np.array([[2.5], [-1.0], [10.0], [1e9], [-0.5], [0.999]])
    catrows = make_x(len(cats))
    catrows[:, CAT] = cats[:, 0]
    rows = [x, edge, catrows]
    for f, thr in thresholds:
        r = make_x(3)
        r[0, f] = thr
        r[1, f] = np.nextafter(thr, -np.inf)  # rounds back to thr in float32
        r[2, f] = float(np.nextafter(np.float32(thr), np.float32(-np.inf)))
        rows.append(r)
    return np.vstack(rows)


def thresholds_of(bst):
    out = []
    model = json.loads(bst.save_raw("json"))
    for tree in model["learner"]["gradient_booster"]["model"]["trees"][:6]:
        for i, left in enumerate(tree["left_children"]):
            if left != -1:
                out.append((tree["split_indices"][i], float(np.float32(tree["split_conditions"][i]))))
    return out[:30]


def main():
    boosters = {}
    for name, params, rounds, kind, names, extra in CASES:
        boosters[name] = train(name, params, rounds, kind, names, extra)
    x_test = test_rows(thresholds_of(boosters["binary_logistic"]) + thresholds_of(boosters["reg_squarederror"]))

    with open(os.path.join(OUT, "inputs.csv"), "w") as f:
        f.write(",".join("f%d" % j for j in range(NF)) + "\n")
        for row in x_test:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")

    cases = []
    for name, params, rounds, kind, names, extra in CASES:
        bst = boosters[name]
        bst.save_model(os.path.join(OUT, name + ".json"))
        bst.save_model(os.path.join(OUT, name + ".ubj"))
        pred = bst.predict(dmatrix(x_test, names, extra.get("categorical")))
        assert pred.dtype == np.float32, pred.dtype
        pred = pred.reshape(len(x_test), -1)
        with open(os.path.join(OUT, name + ".pred"), "w") as f:
            for row in pred:
                f.write(" ".join(repr(float(v)) for v in row) + "\n")
        objective = params["objective"]
        if objective.startswith("binary:"):
            num_classes = 2
        elif objective.startswith("multi:"):
            num_classes = params["num_class"]
        else:
            num_classes = 0
        cases.append({
            "name": name,
            "objective": objective,
            "booster": params.get("booster", "gbtree"),
            "num_classes": num_classes,
            "num_outputs": pred.shape[1],
            "features": bst.feature_names or [""] * NF,
        })
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"xgboost": xgb.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
