-- Step 1, ETL: one row per line item with what was known when it shipped
-- (the line, its order, the customer and the customer's order history,
-- the part, the supplier and both nations) and the label: was the item
-- received after its commit date?
-- Idempotent: MODE overwrite replaces the whole output, committed with
-- _SUCCESS only when every file is written.
COPY (
  WITH history AS (
    SELECT o_custkey,
           count(*)                   AS cust_orders,
           avg(o_totalprice)          AS cust_avg_order,
           sum(CASE WHEN o_orderstatus = 'F' THEN 1 ELSE 0 END) AS cust_orders_filled
    FROM orders GROUP BY o_custkey
  )
  SELECT
    l_orderkey, l_linenumber,
    CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END AS late,
    CAST(l_quantity AS DOUBLE)       AS quantity,
    CAST(l_extendedprice AS DOUBLE)  AS price,
    CAST(l_discount AS DOUBLE)       AS discount,
    CAST(l_tax AS DOUBLE)            AS tax,
    l_shipmode                       AS ship_mode,
    l_shipinstruct                   AS ship_instruct,
    datediff('day', o_orderdate, l_shipdate)   AS days_order_to_ship,
    datediff('day', l_shipdate, l_commitdate)  AS days_ship_to_commit,
    month(l_shipdate)                AS ship_month,
    o_orderpriority                  AS order_priority,
    CAST(o_totalprice AS DOUBLE)     AS order_total,
    c_mktsegment                     AS segment,
    CAST(c_acctbal AS DOUBLE)        AS cust_balance,
    cn.n_name                        AS cust_nation,
    h.cust_orders, h.cust_avg_order, h.cust_orders_filled,
    p_size                           AS part_size,
    p_container                      AS part_container,
    CAST(p_retailprice AS DOUBLE)    AS part_price,
    CAST(s_acctbal AS DOUBLE)        AS supp_balance,
    sn.n_name                        AS supp_nation,
    CASE WHEN cn.n_nationkey = sn.n_nationkey THEN 1 ELSE 0 END AS same_nation,
    l_shipdate                       AS ship_date
  FROM lineitem
  JOIN orders   ON o_orderkey = l_orderkey
  JOIN customer ON c_custkey = o_custkey
  JOIN history h ON h.o_custkey = c_custkey
  JOIN part     ON p_partkey = l_partkey
  JOIN supplier ON s_suppkey = l_suppkey
  JOIN nation cn ON cn.n_nationkey = c_nationkey
  JOIN nation sn ON sn.n_nationkey = s_nationkey
) TO '${WORK}/features' (FORMAT parquet, MODE overwrite);
