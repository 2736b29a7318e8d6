-- DuckDB script that writes testdata/slt/data/tpchn: a small TPC-H sample
-- (about 1/64 of orders and lineitem, sampled by key so joins still match)
-- with NULLs, empty strings and padded strings injected deterministically.
-- Run with: cd tools/sqlfuzz && go run . gendata
-- __SRC__ is testdata/tpch/sf-sample (SF 0.01), __OUT__ the output folder.
-- Primary keys stay non-null and unique; foreign keys and other columns get
-- NULLs. mix(k, c) is a cheap deterministic hash of key k and column c into
-- 0..99 (plain integer arithmetic, so the data does not depend on DuckDB's
-- hash function).
SET threads = 1;
-- __SALT__ (0 for the committed data; gendata -salt N) varies the sample
-- and where the NULLs fall, for runs over data the tests have not seen.
CREATE MACRO mix(k, c) AS (((k * 2654435761 + (c + __SALT__ * 17) * 40503) % 4294967296) // 65536) % 100;
CREATE MACRO nul(v, k, c, pct) AS CASE WHEN mix(k, c) < pct THEN NULL ELSE v END;
CREATE TABLE s_orders AS SELECT * FROM read_parquet('__SRC__/orders.parquet')
  WHERE ((o_orderkey * 2654435761) % 4294967296) // 65536 % 64 = __SALT__ % 64;
CREATE TABLE s_lineitem AS SELECT * FROM read_parquet('__SRC__/lineitem.parquet')
  WHERE l_orderkey IN (SELECT o_orderkey FROM s_orders);
CREATE TABLE s_customer AS SELECT * FROM read_parquet('__SRC__/customer.parquet')
  WHERE (c_custkey IN (SELECT o_custkey FROM s_orders) AND mix(c_custkey, 0) < 85)
     OR mix(c_custkey, 1) < 2;
CREATE TABLE s_part AS SELECT * FROM read_parquet('__SRC__/part.parquet')
  WHERE (p_partkey IN (SELECT l_partkey FROM s_lineitem) AND mix(p_partkey, 0) < 60)
     OR mix(p_partkey, 1) < 1;
CREATE TABLE s_partsupp AS SELECT * FROM read_parquet('__SRC__/partsupp.parquet')
  WHERE ((ps_partkey, ps_suppkey) IN (SELECT (l_partkey, l_suppkey) FROM s_lineitem) AND mix(ps_partkey * 101 + ps_suppkey, 0) < 80)
     OR (ps_partkey IN (SELECT p_partkey FROM s_part) AND mix(ps_partkey * 101 + ps_suppkey, 1) < 5);
COPY (SELECT n_nationkey, nul(n_name, n_nationkey, 1, 4) AS n_name,
        nul(n_regionkey, n_nationkey, 2, 8) AS n_regionkey, nul(n_comment, n_nationkey, 3, 10) AS n_comment
      FROM read_parquet('__SRC__/nation.parquet') ORDER BY n_nationkey)
  TO '__OUT__/nation.parquet' (FORMAT parquet);
COPY (SELECT r_regionkey, r_name, nul(r_comment, r_regionkey, 3, 20) AS r_comment
      FROM read_parquet('__SRC__/region.parquet') ORDER BY r_regionkey)
  TO '__OUT__/region.parquet' (FORMAT parquet);
COPY (SELECT s_suppkey, nul(s_name, s_suppkey, 1, 5) AS s_name, nul(s_address, s_suppkey, 2, 5) AS s_address,
        nul(s_nationkey, s_suppkey, 3, 8) AS s_nationkey, nul(s_phone, s_suppkey, 4, 5) AS s_phone,
        nul(s_acctbal, s_suppkey, 5, 8) AS s_acctbal, nul(s_comment, s_suppkey, 6, 5) AS s_comment
      FROM read_parquet('__SRC__/supplier.parquet') ORDER BY s_suppkey)
  TO '__OUT__/supplier.parquet' (FORMAT parquet);
COPY (SELECT c_custkey, nul(c_name, c_custkey, 1, 5) AS c_name, nul(c_address, c_custkey, 2, 5) AS c_address,
        nul(c_nationkey, c_custkey, 3, 8) AS c_nationkey, nul(c_phone, c_custkey, 4, 5) AS c_phone,
        nul(c_acctbal, c_custkey, 5, 8) AS c_acctbal,
        CASE WHEN mix(c_custkey, 7) < 3 THEN '' ELSE nul(c_mktsegment, c_custkey, 6, 8) END AS c_mktsegment,
        nul(c_comment, c_custkey, 8, 5) AS c_comment
      FROM s_customer ORDER BY c_custkey)
  TO '__OUT__/customer.parquet' (FORMAT parquet);
COPY (SELECT p_partkey, nul(p_name, p_partkey, 1, 5) AS p_name, nul(p_mfgr, p_partkey, 2, 5) AS p_mfgr,
        nul(p_brand, p_partkey, 3, 8) AS p_brand, nul(p_type, p_partkey, 4, 8) AS p_type,
        nul(p_size, p_partkey, 5, 8) AS p_size,
        CASE WHEN mix(p_partkey, 7) < 4 THEN '  ' || p_container || ' ' ELSE nul(p_container, p_partkey, 6, 8) END AS p_container,
        nul(p_retailprice, p_partkey, 8, 8) AS p_retailprice, nul(p_comment, p_partkey, 9, 5) AS p_comment
      FROM s_part ORDER BY p_partkey)
  TO '__OUT__/part.parquet' (FORMAT parquet);
COPY (SELECT ps_partkey, ps_suppkey, nul(ps_availqty, ps_partkey * 101 + ps_suppkey, 1, 8) AS ps_availqty,
        nul(ps_supplycost, ps_partkey * 101 + ps_suppkey, 2, 8) AS ps_supplycost,
        nul(ps_comment, ps_partkey * 101 + ps_suppkey, 3, 5) AS ps_comment
      FROM s_partsupp ORDER BY ps_partkey, ps_suppkey)
  TO '__OUT__/partsupp.parquet' (FORMAT parquet);
COPY (SELECT o_orderkey, nul(o_custkey, o_orderkey, 1, 8) AS o_custkey, nul(o_orderstatus, o_orderkey, 2, 6) AS o_orderstatus,
        nul(o_totalprice, o_orderkey, 3, 8) AS o_totalprice, nul(o_orderdate, o_orderkey, 4, 8) AS o_orderdate,
        nul(o_orderpriority, o_orderkey, 5, 6) AS o_orderpriority,
        CASE WHEN mix(o_orderkey, 9) < 3 THEN '' ELSE nul(o_clerk, o_orderkey, 6, 6) END AS o_clerk,
        nul(o_shippriority, o_orderkey, 7, 6) AS o_shippriority, nul(o_comment, o_orderkey, 8, 6) AS o_comment
      FROM s_orders ORDER BY o_orderkey)
  TO '__OUT__/orders.parquet' (FORMAT parquet);
COPY (SELECT l_orderkey, nul(l_partkey, l_orderkey * 8 + l_linenumber, 1, 8) AS l_partkey,
        nul(l_suppkey, l_orderkey * 8 + l_linenumber, 2, 8) AS l_suppkey, l_linenumber,
        nul(l_quantity, l_orderkey * 8 + l_linenumber, 3, 7) AS l_quantity,
        nul(l_extendedprice, l_orderkey * 8 + l_linenumber, 4, 7) AS l_extendedprice,
        nul(l_discount, l_orderkey * 8 + l_linenumber, 5, 7) AS l_discount,
        nul(l_tax, l_orderkey * 8 + l_linenumber, 6, 7) AS l_tax,
        nul(l_returnflag, l_orderkey * 8 + l_linenumber, 7, 7) AS l_returnflag,
        nul(l_linestatus, l_orderkey * 8 + l_linenumber, 8, 7) AS l_linestatus,
        nul(l_shipdate, l_orderkey * 8 + l_linenumber, 9, 7) AS l_shipdate,
        nul(l_commitdate, l_orderkey * 8 + l_linenumber, 10, 7) AS l_commitdate,
        nul(l_receiptdate, l_orderkey * 8 + l_linenumber, 11, 7) AS l_receiptdate,
        nul(l_shipinstruct, l_orderkey * 8 + l_linenumber, 12, 7) AS l_shipinstruct,
        CASE WHEN mix(l_orderkey * 8 + l_linenumber, 14) < 3 THEN '' ELSE nul(l_shipmode, l_orderkey * 8 + l_linenumber, 13, 7) END AS l_shipmode,
        nul(l_comment, l_orderkey * 8 + l_linenumber, 15, 7) AS l_comment
      FROM s_lineitem ORDER BY l_orderkey, l_linenumber)
  TO '__OUT__/lineitem.parquet' (FORMAT parquet);
