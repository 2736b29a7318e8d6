-- Step 2, features and training: the TRANSFORM encodes the categories
-- and is fitted on the training rows (80% of the orders, chosen by order
-- key so that all lines of an order fall on one side); Flint trains
-- gradient-boosted trees on them and stores the model, TRANSFORM
-- included, in the model store.
-- Idempotent: CREATE OR REPLACE commits the new model atomically.
CREATE OR REPLACE MODEL late_delivery
TRANSFORM (
  quantity, price, discount, tax,
  ml.label_encoder(ship_mode) OVER ()      AS ship_mode,
  ml.label_encoder(ship_instruct) OVER ()  AS ship_instruct,
  days_order_to_ship, days_ship_to_commit, ship_month,
  ml.label_encoder(order_priority) OVER () AS order_priority,
  order_total,
  ml.label_encoder(segment) OVER ()        AS segment,
  cust_balance,
  ml.label_encoder(cust_nation) OVER ()    AS cust_nation,
  cust_orders, cust_avg_order, cust_orders_filled,
  part_size,
  ml.label_encoder(part_container) OVER () AS part_container,
  part_price, supp_balance,
  ml.label_encoder(supp_nation) OVER ()    AS supp_nation,
  same_nation,
  late)
OPTIONS (model_type = 'boosted_tree_classifier', input_label_cols = ['late'],
         max_iterations = 60, learn_rate = 0.3, max_tree_depth = 6, max_bins = 256,
         early_stop = FALSE, data_split_method = 'NO_SPLIT', seed = 7)
AS SELECT * FROM features WHERE l_orderkey % 10 < 8;
