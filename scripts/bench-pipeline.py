"""The pandas + XGBoost side of scripts/bench-pipeline.sh: the
late-delivery pipeline of examples/late-delivery as its users run it
today, in one Python process: read the TPC-H tables from CSV, ETL with
pandas merges, label-encode the categories (by descending count, ties by
value, fitted on the training rows, as ml.label_encoder), train XGBoost
(hist, 60 rounds, depth 6, eta 0.3, max_bin 256, nthread 2) on 80% of
the orders, evaluate on the rest with scikit-learn, score every line item
and write the scores as CSV, one file per ship year.

usage: bench-pipeline.py CSV_DIR OUT_DIR   (prints one line per step:
name wall_seconds, then the test AUC)
"""
import glob
import os
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

csv_dir, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
t = time.time()
steps = []


def step(name):
    global t
    now = time.time()
    steps.append((name, now - t))
    t = now


def read(table, cols, dates=()):
    parts = sorted(glob.glob(os.path.join(csv_dir, table + ".csv", "*.csv")))
    return pd.concat([pd.read_csv(p, usecols=cols, parse_dates=list(dates)) for p in parts], ignore_index=True)


li = read("lineitem", ["l_orderkey", "l_linenumber", "l_partkey", "l_suppkey", "l_quantity", "l_extendedprice",
                       "l_discount", "l_tax", "l_shipmode", "l_shipinstruct", "l_shipdate", "l_commitdate",
                       "l_receiptdate"], ["l_shipdate", "l_commitdate", "l_receiptdate"])
orders = read("orders", ["o_orderkey", "o_custkey", "o_orderstatus", "o_totalprice", "o_orderdate", "o_orderpriority"],
              ["o_orderdate"])
customer = read("customer", ["c_custkey", "c_mktsegment", "c_acctbal", "c_nationkey"])
part = read("part", ["p_partkey", "p_size", "p_container", "p_retailprice"])
supplier = read("supplier", ["s_suppkey", "s_acctbal", "s_nationkey"])
nation = read("nation", ["n_nationkey", "n_name"])
step("read")

orders["filled"] = (orders.o_orderstatus == "F").astype(np.int64)
history = orders.groupby("o_custkey").agg(cust_orders=("o_orderkey", "size"),
                                          cust_avg_order=("o_totalprice", "mean"),
                                          cust_orders_filled=("filled", "sum")).reset_index()
df = (li.merge(orders, left_on="l_orderkey", right_on="o_orderkey")
        .merge(customer, left_on="o_custkey", right_on="c_custkey")
        .merge(history, on="o_custkey")
        .merge(part, left_on="l_partkey", right_on="p_partkey")
        .merge(supplier, left_on="l_suppkey", right_on="s_suppkey")
        .merge(nation.rename(columns={"n_nationkey": "c_nationkey", "n_name": "cust_nation"}), on="c_nationkey")
        .merge(nation.rename(columns={"n_nationkey": "s_nationkey", "n_name": "supp_nation"}), on="s_nationkey"))
del li, orders, customer, part, supplier, history
feat = pd.DataFrame({
    "l_orderkey": df.l_orderkey, "l_linenumber": df.l_linenumber,
    "late": (df.l_receiptdate > df.l_commitdate).astype(np.int64),
    "quantity": df.l_quantity, "price": df.l_extendedprice, "discount": df.l_discount, "tax": df.l_tax,
    "ship_mode": df.l_shipmode, "ship_instruct": df.l_shipinstruct,
    "days_order_to_ship": (df.l_shipdate - df.o_orderdate).dt.days,
    "days_ship_to_commit": (df.l_commitdate - df.l_shipdate).dt.days,
    "ship_month": df.l_shipdate.dt.month, "order_priority": df.o_orderpriority, "order_total": df.o_totalprice,
    "segment": df.c_mktsegment, "cust_balance": df.c_acctbal, "cust_nation": df.cust_nation,
    "cust_orders": df.cust_orders, "cust_avg_order": df.cust_avg_order, "cust_orders_filled": df.cust_orders_filled,
    "part_size": df.p_size, "part_container": df.p_container, "part_price": df.p_retailprice,
    "supp_balance": df.s_acctbal, "supp_nation": df.supp_nation,
    "same_nation": (df.c_nationkey == df.s_nationkey).astype(np.int64),
    "ship_year": df.l_shipdate.dt.year,
})
del df
step("etl")

train_mask = (feat.l_orderkey % 10 < 8).to_numpy()
cats = ["ship_mode", "ship_instruct", "order_priority", "segment", "cust_nation", "part_container", "supp_nation"]
for c in cats:
    counts = feat.loc[train_mask, c].value_counts()
    order = sorted(counts.index, key=lambda v: (-counts[v], v))
    feat[c] = feat[c].map({v: i for i, v in enumerate(order)}).fillna(len(order))
columns = ["quantity", "price", "discount", "tax", "ship_mode", "ship_instruct", "days_order_to_ship",
           "days_ship_to_commit", "ship_month", "order_priority", "order_total", "segment", "cust_balance",
           "cust_nation", "cust_orders", "cust_avg_order", "cust_orders_filled", "part_size", "part_container",
           "part_price", "supp_balance", "supp_nation", "same_nation"]
X = feat[columns].to_numpy(np.float32)
y = feat.late.to_numpy()
step("features")

params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.3, "max_bin": 256,
          "nthread": 2, "seed": 7}
bst = xgb.train(params, xgb.DMatrix(X[train_mask], label=y[train_mask]), 60)
step("train")

p = bst.predict(xgb.DMatrix(X[~train_mask]))
auc = roc_auc_score(y[~train_mask], p)
step("evaluate")

pall = bst.predict(xgb.DMatrix(X))
scores = pd.DataFrame({"l_orderkey": feat.l_orderkey, "l_linenumber": feat.l_linenumber, "p_late": pall,
                       "predicted_late": (pall > 0.5).astype(np.int64), "ship_year": feat.ship_year})
for year, g in scores.groupby("ship_year"):
    g.drop(columns="ship_year").to_csv(os.path.join(out, f"ship_year={year}.csv"), index=False)
step("score")

for name, secs in steps:
    print(f"{name} {secs:.2f}")
print(f"auc {auc:.6f}")
