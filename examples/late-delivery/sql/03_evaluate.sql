-- Step 3, evaluation on the held-out orders (the other 20%): precision,
-- recall, accuracy, F1, log loss and ROC AUC, written next to the scores.
-- Idempotent: MODE overwrite.
COPY (
  SELECT * FROM ml.evaluate(MODEL late_delivery, (SELECT * FROM features WHERE l_orderkey % 10 >= 8))
) TO '${WORK}/evaluation' (FORMAT csv, MODE overwrite);
