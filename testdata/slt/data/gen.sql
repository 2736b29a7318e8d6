-- DuckDB script that writes the Parquet and derived files of the corpus.
-- Run with: cd tools/sltcomplete && go run . -gendata
-- __DATA__ is this directory.
COPY (SELECT * FROM read_csv('__DATA__/emp.csv', header = true,
  columns = {'id': 'INTEGER', 'name': 'VARCHAR', 'dept': 'VARCHAR', 'salary': 'DECIMAL(10,2)',
             'hired': 'DATE', 'manager_id': 'INTEGER', 'active': 'BOOLEAN'}))
  TO '__DATA__/emp.parquet' (FORMAT parquet);
COPY (SELECT i AS order_id, 1 + i % 5 AS cust_id, CAST(i * 7 % 100 AS DECIMAL(12,2)) + 0.25 AS amount,
        DATE '2024-01-01' + CAST(i AS INTEGER) AS order_date
      FROM range(1, 21) t(i) WHERE i <= 10)
  TO '__DATA__/orders_parts/part-0.parquet' (FORMAT parquet);
COPY (SELECT i AS order_id, 1 + i % 5 AS cust_id, CAST(i * 7 % 100 AS DECIMAL(12,2)) + 0.25 AS amount,
        DATE '2024-01-01' + CAST(i AS INTEGER) AS order_date
      FROM range(1, 21) t(i) WHERE i > 10)
  TO '__DATA__/orders_parts/part-1.parquet' (FORMAT parquet);
COPY (SELECT CAST(i AS INTEGER) AS id, CAST(i % 37 AS INTEGER) AS k,
        CASE WHEN i % 11 = 0 THEN NULL ELSE CAST(i % 13 AS BIGINT) END AS v,
        'name' || CAST(i % 101 AS VARCHAR) AS s,
        CAST(i * 0.25 AS DECIMAL(12,2)) AS amt,
        CAST(DATE '2020-01-01' + CAST(i % 1000 AS INTEGER) AS DATE) AS d,
        CAST(i AS DOUBLE) * 1.5 AS f
      FROM range(1, 3001) t(i))
  TO '__DATA__/big.parquet' (FORMAT parquet);
-- Features for the ML transforms (ml_transform.slt): groups with a NULL
-- group, a DOUBLE with NULLs and ties, a small INTEGER with NULLs, and
-- categories of uneven frequency with NULLs.
COPY (SELECT CAST(i AS INTEGER) AS id,
        CASE i % 4 WHEN 0 THEN 'a' WHEN 1 THEN 'b' WHEN 2 THEN 'c' ELSE NULL END AS grp,
        CASE WHEN i % 17 = 0 THEN NULL ELSE CAST((i * 7919) % 1009 AS DOUBLE) / 10 - 20 END AS x,
        CASE WHEN i % 13 = 0 THEN NULL ELSE CAST((i * 31) % 23 AS INTEGER) END AS n,
        CASE WHEN i % 19 = 0 THEN NULL ELSE 'c' || CAST((i * i) % 29 % 11 AS VARCHAR) END AS cat
      FROM range(1, 3001) t(i))
  TO '__DATA__/ml_features.parquet' (FORMAT parquet);
