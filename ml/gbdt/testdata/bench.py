#!/usr/bin/env python3
"""Time XGBoost 1.7.4's hist trainer on BenchmarkTrain200k's data.

The rows are train.csv.gz tiled 10 times, tile k's features shifted by
0.001·k (200,000 rows × 8 features); binary:logistic, 60 rounds, depth 6,
eta 0.3, max_bin 256, nthread 2. Prints the best of 3 xgb.train times
(xgb.train bins the data itself). Not run by tests:

  nice -n 19 /usr/bin/python3 ml/gbdt/testdata/bench.py
"""

import os
import time

import numpy as np
import pandas as pd
import xgboost as xgb

OUT = os.path.dirname(os.path.abspath(__file__))
df = pd.read_csv(os.path.join(OUT, "train.csv.gz"))
x = df[[f"f{j}" for j in range(8)]].to_numpy()
x = np.concatenate([x + 0.001 * k for k in range(10)])
y = np.tile(df["y_bin"].to_numpy(), 10)
params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.3,
          "max_bin": 256, "nthread": 2, "seed": 0}
times = []
for _ in range(3):
    d = xgb.DMatrix(x, label=y, missing=np.nan, nthread=2)
    start = time.perf_counter()
    xgb.train(params, d, num_boost_round=60)
    times.append(time.perf_counter() - start)
print(f"xgboost {xgb.__version__} hist, {len(y)} rows, 60 rounds, nthread 2: "
      f"best {min(times):.3f}s of {['%.3f' % t for t in times]}")
