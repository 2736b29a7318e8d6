"""Fixtures of ml_transform.slt's CREATE MODEL ... TRANSFORM records.

Run with Debian's python3 (xgboost 1.7.4, pandas, numpy):
    /usr/bin/python3 gen.py
It writes train.csv and test.csv (raw rows), model.json (an XGBoost
regressor trained on the transformed training rows) and expected.csv (the
model's predictions for the test rows, transformed with the statistics of
the training rows). The transforms are computed here from their
definitions, independently of Flint:
  a_s      standard_scaler(imputer(a, 'mean')): NULL a -> mean of a, then
           (v - mean) / sample standard deviation (n - 1)
  b_mm     min_max_scaler(b): (b - min) / (max - min)
  city_idx label_encoder(city): categories by descending count, ties
           alphabetical, indices 0..k-1; NULL and unseen -> k
"""
import numpy as np
import pandas as pd
import xgboost as xgb

rng = np.random.default_rng(20261206)
cities = ["paris", "lyon", "nice", "lille", "brest", "metz"]
probs = [0.3, 0.25, 0.2, 0.1, 0.1, 0.05]


def rows(n, start):
    a = rng.normal(50, 12, n)
    a[rng.random(n) < 0.1] = np.nan
    b = rng.uniform(-5, 20, n)
    city = rng.choice(cities, n, p=probs).astype(object)
    city[rng.random(n) < 0.05] = None
    return pd.DataFrame({"id": np.arange(start, start + n), "a": a, "b": b, "city": city})


train = rows(800, 1)
test = rows(300, 10001)
test.loc[test.index[:3], "city"] = "rennes"  # unseen in training

a_mean = train["a"].mean()  # pandas skips NaN
a_imp = train["a"].fillna(a_mean)
a_s_mean, a_s_sd = a_imp.mean(), a_imp.std(ddof=1)
b_min, b_max = train["b"].min(), train["b"].max()
counts = train["city"].dropna().value_counts()
order = sorted(counts.index, key=lambda c: (-counts[c], c))
index = {c: i for i, c in enumerate(order)}
k = len(order)


def transform(df):
    out = pd.DataFrame()
    out["a_s"] = (df["a"].fillna(a_mean) - a_s_mean) / a_s_sd
    out["b_mm"] = (df["b"] - b_min) / (b_max - b_min)
    out["city_idx"] = [index.get(c, k) if c is not None else k for c in df["city"]]
    return out


y = 3 * np.sin(train["a"].fillna(40) / 10) + 0.2 * train["b"] + np.array([index.get(c, k) if c is not None else k for c in train["city"]]) + rng.normal(0, 0.1, len(train))
m = xgb.XGBRegressor(n_estimators=30, max_depth=4, learning_rate=0.3)
m.fit(transform(train), y)
m.get_booster().save_model("model.json")
pred = m.predict(transform(test))
train.to_csv("train.csv", index=False)
test.to_csv("test.csv", index=False)
pd.DataFrame({"id": test["id"], "prediction": pred.astype(np.float64)}).to_csv("expected.csv", index=False, float_format="%.9g")
