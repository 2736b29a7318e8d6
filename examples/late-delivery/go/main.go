// Command late-delivery is the late-delivery pipeline of ../sql written
// with Flint's Go API: ETL with DataFrames, feature engineering and
// training with an ml/pipeline Pipeline, evaluation and batch scoring.
//
//	go run ./examples/late-delivery/go -tpch DIR -work DIR [-driver HOST:PORT]
//
// Every step overwrites its output, so a re-run after a failure gives the
// same result and no duplicates.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	flint "github.com/flint-engine/flint"
	"github.com/flint-engine/flint/ml/pipeline"
)

func main() {
	tpch := flag.String("tpch", "", "folder of TPC-H Parquet tables (flint bench tpch gen)")
	work := flag.String("work", "", "folder for the features, the model store, the evaluation and the scores")
	driver := flag.String("driver", os.Getenv("FLINT_DRIVER"), "run on the cluster of this driver (default: local mode)")
	flag.Parse()
	if *tpch == "" || *work == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *tpch, *work, *driver); err != nil {
		log.Fatal(err)
	}
}

func step(name string, fn func() error) error {
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("%-10s %6.2f s\n", name, time.Since(start).Seconds())
	return nil
}

func run(ctx context.Context, tpch, work, driver string) error {
	opts := []flint.Option{flint.WithModels(filepath.Join(work, "models"))}
	if driver != "" {
		opts = append(opts, flint.WithDriver(driver))
	}
	s, err := flint.NewSession(ctx, opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	t := func(name string) *flint.DataFrame { return s.ReadParquet(ctx, filepath.Join(tpch, name+".parquet")) }
	features := filepath.Join(work, "features")

	// ETL: one row per line item with its order, customer (and the
	// customer's order history), part, supplier and nations.
	if err := step("etl", func() error {
		history := t("orders").GroupBy(flint.Col("o_custkey").Alias("h_custkey")).Agg(
			flint.CountAll().Alias("cust_orders"), flint.Avg(flint.Col("o_totalprice")).Alias("cust_avg_order"))
		cn := t("nation").SelectExpr("n_nationkey AS cn_key", "n_name AS cust_nation")
		sn := t("nation").SelectExpr("n_nationkey AS sn_key", "n_name AS supp_nation")
		rows := t("lineitem").
			Join(t("orders"), flint.Col("o_orderkey").Eq(flint.Col("l_orderkey")), "inner").
			Join(t("customer"), flint.Col("c_custkey").Eq(flint.Col("o_custkey")), "inner").
			Join(history, flint.Col("h_custkey").Eq(flint.Col("c_custkey")), "inner").
			Join(t("part"), flint.Col("p_partkey").Eq(flint.Col("l_partkey")), "inner").
			Join(t("supplier"), flint.Col("s_suppkey").Eq(flint.Col("l_suppkey")), "inner").
			Join(cn, flint.Col("cn_key").Eq(flint.Col("c_nationkey")), "inner").
			Join(sn, flint.Col("sn_key").Eq(flint.Col("s_nationkey")), "inner").
			SelectExpr("l_orderkey", "l_linenumber",
				"CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END AS late",
				"CAST(l_quantity AS DOUBLE) AS quantity", "CAST(l_extendedprice AS DOUBLE) AS price",
				"CAST(l_discount AS DOUBLE) AS discount", "l_shipmode AS ship_mode",
				"datediff('day', o_orderdate, l_shipdate) AS days_order_to_ship",
				"datediff('day', l_shipdate, l_commitdate) AS days_ship_to_commit",
				"month(l_shipdate) AS ship_month", "o_orderpriority AS order_priority",
				"c_mktsegment AS segment", "cust_nation", "cust_orders", "cust_avg_order",
				"p_size AS part_size", "supp_nation", "year(l_shipdate) AS ship_year")
		_, err := rows.Write().Mode("overwrite").Save(ctx, features)
		return err
	}); err != nil {
		return err
	}

	all := s.ReadParquet(ctx, features)
	train := all.Where("l_orderkey % 10 < 8")
	test := all.Where("l_orderkey % 10 >= 8")
	p := pipeline.New(
		pipeline.LabelEncoder("ship_mode", "ship_mode"),
		pipeline.LabelEncoder("order_priority", "order_priority"),
		pipeline.LabelEncoder("segment", "segment"),
		pipeline.LabelEncoder("cust_nation", "cust_nation"),
		pipeline.LabelEncoder("supp_nation", "supp_nation"),
		pipeline.BoostedTrees("late_delivery_go", map[string]string{
			"feature_columns": "quantity, price, discount, ship_mode, days_order_to_ship, days_ship_to_commit, " +
				"ship_month, order_priority, segment, cust_nation, cust_orders, cust_avg_order, part_size, supp_nation",
			"model_type": "boosted_tree_classifier", "input_label_cols": "late", "max_iterations": "60",
			"early_stop": "true", "data_split_method": "random", "data_split_eval_fraction": "0.1", "seed": "7"}),
	)
	var model *pipeline.Model
	if err := step("train", func() error {
		model, err = p.Fit(ctx, train)
		if err != nil {
			return err
		}
		return model.Save(ctx, filepath.Join(work, "pipeline.json"))
	}); err != nil {
		return err
	}
	if err := step("evaluate", func() error {
		// The pipeline without its scoring step, then ml.evaluate's metrics.
		prep := &pipeline.Model{Version: model.Version, Steps: model.Steps[:len(model.Steps)-1]}
		_, err := prep.Transform(test).Evaluate("late_delivery_go").Write().Format("csv").Mode("overwrite").
			Save(ctx, filepath.Join(work, "evaluation-go"))
		return err
	}); err != nil {
		return err
	}
	return step("score", func() error {
		scored := model.Transform(all).SelectExpr("l_orderkey", "l_linenumber", "ship_year",
			"prediction AS p_late", "predicted_label AS predicted_late")
		_, err := scored.Write().Mode("overwrite").PartitionBy("ship_year").Save(ctx, filepath.Join(work, "scores-go"))
		return err
	})
}
