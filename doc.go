// Package flint is the Go API of Flint, a distributed, data-parallel query
// engine built on Apache Arrow.
//
// A Session holds the catalog of tables and views and runs queries, either
// in local mode (stages run on in-process executor slots) or on a cluster
// (WithDriver: the bound plan goes to a `flint driver`, which plans it the
// same way and runs it on `flint executor` processes; EXPLAIN stays
// local). DataFrames are lazy: each call builds a logical plan; Collect,
// Count, Show and the writers optimize it, cut it into stages and run it.
// DataFrame.Submit starts a cluster job without waiting for it.
// SQL and DataFrames mix freely: a DataFrame can be registered as a view
// and queried with SQL, and SQL returns a DataFrame.
//
//	s, _ := flint.NewSession(ctx)
//	lineitem, _ := s.ReadParquet("data/lineitem.parquet")
//	out := lineitem.
//		Filter(flint.Col("l_shipdate").Lt(flint.Date("1998-09-02"))).
//		GroupBy(flint.Col("l_returnflag")).
//		Agg(flint.Sum(flint.Col("l_quantity")).Alias("qty"))
//	batches, err := out.Collect(ctx)
package flint
