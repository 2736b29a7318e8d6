-- Step 4, batch scoring: every line item gets its probability of arriving
-- late, written as Parquet partitioned by ship year and committed with
-- _SUCCESS. Idempotent: MODE overwrite replaces the whole output.
COPY (
  SELECT l_orderkey, l_linenumber, prediction AS p_late, predicted_label AS predicted_late,
         year(ship_date) AS ship_year
  FROM ml.predict(MODEL late_delivery, TABLE features)
) TO '${WORK}/scores' (FORMAT parquet, PARTITION_BY (ship_year), MODE overwrite);
