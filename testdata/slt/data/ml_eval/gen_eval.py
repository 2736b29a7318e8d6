#!/usr/bin/env python3
"""Generate the fixtures of testdata/slt/ml_evaluate.slt: labels for the
rows of the ml.predict fixtures, two tiny models whose scores tie a lot,
and scikit-learn's metrics for the models' predictions (as the libraries
made them) against those labels.

Reads (from the repository):
  testdata/slt/data/ml/xgb_*.csv, lgb_*.csv   the ml.slt tables: rows and
                                              the libraries' predictions
  ml/xgboost/testdata/binary_hinge.pred,      XGBoost fixtures ml.slt does
  reg_multi_target.pred                       not tabulate

Writes (next to this script):
  labels.csv         per row of xgb_inputs.csv (by id): yb (0/1, drawn from
                     binary_logistic's probability), yn (yb with some
                     NULLs), yc (class 0..3 drawn from multi_softprob's
                     probabilities), y3 (min(yc, 2)), yr (reg_squarederror's
                     prediction plus noise, rounded to 3 decimals), y2a,
                     y2b (the same for reg_multi_target's two outputs)
  cancer_labels.csv  per row of lgb_breast_cancer.csv: y (0/1 drawn from
                     the model's probability)
  tiny_binary.json   XGBoost binary:logistic, 2 stumps: 4 distinct scores
  tiny_multi.json    XGBoost multi:softprob, 3 classes, 1 round of stumps
  tiny_pred.csv      id, b1 (tiny_binary), m1..m3 (tiny_multi): XGBoost's
                     predictions, float32 widened to float64
  expected.csv       one row per case of ml_evaluate.slt: scikit-learn's
                     precision, recall, accuracy, f1_score, log_loss,
                     roc_auc (classifiers) or mean_absolute_error,
                     mean_squared_error, r2_score (regressors); an empty
                     field is NULL (scikit-learn: undefined)

Definitions (what ml.evaluate promises):
  binary      precision/recall/f1 of class 1 (zero_division=0), accuracy,
              log_loss(y, p, labels=[0, 1]) on the probability of class 1
              (the sigmoid of the margin for binary:logitraw),
              roc_auc_score(y, p) (undefined with one class present)
  multiclass  precision/recall/f1 average='macro' (zero_division=0),
              accuracy, log_loss(y, P, labels=range(K)),
              roc_auc_score(y, P, multi_class='ovr', average='macro')
              (undefined unless every class is present)
  class-only  binary:hinge, multi:softmax: no log_loss, no roc_auc
  regression  mean_absolute_error, mean_squared_error, r2_score (uniform
              average over outputs)
Predicted labels follow the libraries' scikit-learn wrappers: p > 0.5,
margin > 0, argmax, or the class the model outputs.

Regenerate from the repository root (XGBoost 1.7.4, scikit-learn 1.2):
  nice -n 19 /usr/bin/python3 testdata/slt/data/ml_eval/gen_eval.py
Deterministic; tests never run it.
"""

import csv
import math
import os

import numpy as np
import sklearn
import xgboost as xgb
from sklearn import metrics

OUT = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(OUT, "..", "..", "..", ".."))
ML = os.path.join(ROOT, "testdata", "slt", "data", "ml")
XGB = os.path.join(ROOT, "ml", "xgboost", "testdata")

rng = np.random.default_rng(20250101)


def read_table(name):
    with open(os.path.join(ML, name)) as f:
        r = csv.reader(f)
        header = next(r)
        rows = list(r)
    cols = {h: [row[i] for row in rows] for i, h in enumerate(header)}
    return cols


def floats(vals):
    return np.array([float(v) if v != "" else np.nan for v in vals])


def read_pred(name):
    with open(os.path.join(XGB, name + ".pred")) as f:
        return np.array([[float(v) for v in l.split()] for l in f if l.strip()])


def sigmoid(m):
    return 1 / (1 + np.exp(-m))


# ---- predictions as the libraries made them

xin = read_table("xgb_inputs.csv")
ids = np.array([int(v) for v in xin["id"]])
X = np.column_stack([floats(xin["f%d" % j]) for j in range(8)])
p_logistic = floats(read_table("xgb_binary_logistic.csv")["e1"])
m_logitraw = floats(read_table("xgb_binary_logitraw.csv")["e1"])
sp = read_table("xgb_multi_softprob.csv")
P_softprob = np.column_stack([floats(sp["e%d" % k]) for k in range(1, 5)])
c_softmax = floats(read_table("xgb_multi_softmax.csv")["e1"])
p_reg = floats(read_table("xgb_reg_squarederror.csv")["e1"])
p_hinge = read_pred("binary_hinge")[:, 0]
P_multi_target = read_pred("reg_multi_target")
cancer = read_table("lgb_breast_cancer.csv")
p_cancer = floats(cancer["e1"])
multi = read_table("lgb_multiclass.csv")
y_multi = floats(multi["label"])
P_multi = np.column_stack([floats(multi["e%d" % k]) for k in range(1, 6)])

# ---- labels

n = len(ids)
yb = (rng.random(n) < p_logistic).astype(float)
yn = yb.copy()
yn[rng.random(n) < 0.1] = np.nan
u = rng.random(n)
yc = (u[:, None] > np.cumsum(P_softprob, axis=1)).sum(axis=1).clip(0, 3).astype(float)
y3 = np.minimum(yc, 2)
yr = np.round(p_reg + rng.normal(scale=0.7, size=n), 3)
y2a = np.round(P_multi_target[:, 0] + rng.normal(scale=0.5, size=n), 3)
y2b = np.round(P_multi_target[:, 1] + rng.normal(scale=0.5, size=n), 3)
y_cancer = (rng.random(len(p_cancer)) < p_cancer).astype(float)


def fmt(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


with open(os.path.join(OUT, "labels.csv"), "w") as f:
    f.write("id,yb,yn,yc,y3,yr,y2a,y2b\n")
    for i in range(n):
        f.write(",".join([str(ids[i])] + [fmt(a[i]) for a in (yb, yn, yc, y3)] +
                         [repr(float(a[i])) for a in (yr, y2a, y2b)]) + "\n")
with open(os.path.join(OUT, "cancer_labels.csv"), "w") as f:
    f.write("id,y\n")
    for i, v in zip(cancer["id"], y_cancer):
        f.write("%s,%s\n" % (i, fmt(v)))

# ---- tiny models: stumps, so that many rows share a score

names = ["f%d" % j for j in range(8)]
tb = xgb.train({"objective": "binary:logistic", "max_depth": 1, "eta": 0.5, "seed": 7, "nthread": 1},
               xgb.DMatrix(X, label=yb, missing=np.nan, feature_names=names), 2)
tm = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 1, "eta": 0.5, "seed": 7,
                "nthread": 1}, xgb.DMatrix(X, label=y3, missing=np.nan, feature_names=names), 1)
tb.save_model(os.path.join(OUT, "tiny_binary.json"))
tm.save_model(os.path.join(OUT, "tiny_multi.json"))
d = xgb.DMatrix(X, missing=np.nan, feature_names=names)
p_tiny = tb.predict(d)
P_tiny = tm.predict(d).reshape(n, 3)
assert p_tiny.dtype == np.float32 and P_tiny.dtype == np.float32
p_tiny, P_tiny = p_tiny.astype(np.float64), P_tiny.astype(np.float64)
assert len(np.unique(p_tiny)) <= 4 and len(np.unique(P_tiny[:, 0])) <= 8
with open(os.path.join(OUT, "tiny_pred.csv"), "w") as f:
    f.write("id,b1,m1,m2,m3\n")
    for i in range(n):
        f.write(",".join([str(ids[i])] + [repr(float(v)) for v in (p_tiny[i], *P_tiny[i])]) + "\n")

# ---- metrics

CLS = ["precision", "recall", "accuracy", "f1_score", "log_loss", "roc_auc"]
REG = ["mean_absolute_error", "mean_squared_error", "r2_score"]
cases = []


def binary(name, y, p, yhat):
    """p: the probability of class 1, or None for a model without one."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    r = {
        "precision": metrics.precision_score(y, yhat, zero_division=0),
        "recall": metrics.recall_score(y, yhat, zero_division=0),
        "accuracy": metrics.accuracy_score(y, yhat),
        "f1_score": metrics.f1_score(y, yhat, zero_division=0),
    }
    if p is not None:
        r["log_loss"] = metrics.log_loss(y, p, labels=[0, 1])
        if len(np.unique(y)) == 2:
            r["roc_auc"] = metrics.roc_auc_score(y, p)
    cases.append((name, r))


def multiclass(name, y, P, yhat, k):
    r = {
        "precision": metrics.precision_score(y, yhat, average="macro", zero_division=0),
        "recall": metrics.recall_score(y, yhat, average="macro", zero_division=0),
        "accuracy": metrics.accuracy_score(y, yhat),
        "f1_score": metrics.f1_score(y, yhat, average="macro", zero_division=0),
    }
    if P is not None:
        r["log_loss"] = metrics.log_loss(y, P, labels=list(range(k)))
        if len(np.unique(y)) == k:
            r["roc_auc"] = metrics.roc_auc_score(y, P, multi_class="ovr", average="macro")
    cases.append((name, r))


def regression(name, y, p):
    r = {
        "mean_absolute_error": metrics.mean_absolute_error(y, p),
        "mean_squared_error": metrics.mean_squared_error(y, p),
        "r2_score": metrics.r2_score(y, p),
    }
    cases.append((name, r))


lab_logistic = (p_logistic > 0.5).astype(float)
binary("xgb_logistic", yb, p_logistic, lab_logistic)
neg = p_logistic <= 0.5  # predicted 0 throughout: no true positive
assert yb[neg].sum() > 0
binary("xgb_logistic_no_tp", yb[neg], p_logistic[neg], lab_logistic[neg])
pos = yb == 1  # one class: AUC undefined
binary("xgb_logistic_one_class", yb[pos], p_logistic[pos], lab_logistic[pos])
known = ~np.isnan(yn)
binary("xgb_logistic_nulls", yn[known], p_logistic[known], lab_logistic[known])
p_raw = sigmoid(m_logitraw)
binary("xgb_logitraw", yb, p_raw, (m_logitraw > 0).astype(float))
binary("xgb_hinge", yb, None, p_hinge)
binary("lgb_binary", y_cancer, p_cancer, (p_cancer > 0.5).astype(float))
binary("tiny_binary", yb, p_tiny, (p_tiny > 0.5).astype(float))
multiclass("xgb_softprob", yc, P_softprob, P_softprob.argmax(axis=1).astype(float), 4)
multiclass("xgb_softmax", yc, None, c_softmax, 4)
multiclass("lgb_multiclass", y_multi, P_multi, P_multi.argmax(axis=1).astype(float), 5)
multiclass("tiny_multi", y3, P_tiny, P_tiny.argmax(axis=1).astype(float), 3)
drop0 = (yc != 0) & (P_softprob.argmax(axis=1) != 0)  # class 0 neither labelled nor predicted
multiclass("xgb_softprob_no_class0", yc[drop0], P_softprob[drop0], P_softprob[drop0].argmax(axis=1).astype(float), 4)
regression("xgb_reg", yr, p_reg)
regression("xgb_reg_constant", np.full(n, 2.0), p_reg)
with np.errstate(all="ignore"):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regression("xgb_reg_one_row", yr[:1], p_reg[:1])  # r2 undefined: nan
regression("xgb_reg_multi_target", np.column_stack([y2a, y2b]), P_multi_target)

with open(os.path.join(OUT, "expected.csv"), "w") as f:
    f.write("name," + ",".join(CLS + REG) + "\n")
    for name, r in cases:
        f.write(",".join([name] + [("" if r.get(m) is None or math.isnan(r[m]) else repr(float(r[m])))
                                   for m in CLS + REG]) + "\n")
print("xgboost", xgb.__version__, "sklearn", sklearn.__version__, "cases", len(cases))
