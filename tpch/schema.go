package tpch

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Tables lists the eight TPC-H tables, smallest first. Generate writes
// <outDir>/<table>.parquet for each.
var Tables = []string{"nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"}

var (
	typInt   = arrow.PrimitiveTypes.Int64
	typMoney = &arrow.Decimal64Type{Precision: 15, Scale: 2}
	typDate  = arrow.FixedWidthTypes.Date32
	typStr   = arrow.BinaryTypes.String
)

func col(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: false}
}

var schemas = map[string]*arrow.Schema{
	"nation": arrow.NewSchema([]arrow.Field{
		col("n_nationkey", typInt), col("n_name", typStr), col("n_regionkey", typInt), col("n_comment", typStr),
	}, nil),
	"region": arrow.NewSchema([]arrow.Field{
		col("r_regionkey", typInt), col("r_name", typStr), col("r_comment", typStr),
	}, nil),
	"part": arrow.NewSchema([]arrow.Field{
		col("p_partkey", typInt), col("p_name", typStr), col("p_mfgr", typStr), col("p_brand", typStr),
		col("p_type", typStr), col("p_size", typInt), col("p_container", typStr),
		col("p_retailprice", typMoney), col("p_comment", typStr),
	}, nil),
	"supplier": arrow.NewSchema([]arrow.Field{
		col("s_suppkey", typInt), col("s_name", typStr), col("s_address", typStr), col("s_nationkey", typInt),
		col("s_phone", typStr), col("s_acctbal", typMoney), col("s_comment", typStr),
	}, nil),
	"partsupp": arrow.NewSchema([]arrow.Field{
		col("ps_partkey", typInt), col("ps_suppkey", typInt), col("ps_availqty", typInt),
		col("ps_supplycost", typMoney), col("ps_comment", typStr),
	}, nil),
	"customer": arrow.NewSchema([]arrow.Field{
		col("c_custkey", typInt), col("c_name", typStr), col("c_address", typStr), col("c_nationkey", typInt),
		col("c_phone", typStr), col("c_acctbal", typMoney), col("c_mktsegment", typStr), col("c_comment", typStr),
	}, nil),
	"orders": arrow.NewSchema([]arrow.Field{
		col("o_orderkey", typInt), col("o_custkey", typInt), col("o_orderstatus", typStr),
		col("o_totalprice", typMoney), col("o_orderdate", typDate), col("o_orderpriority", typStr),
		col("o_clerk", typStr), col("o_shippriority", typInt), col("o_comment", typStr),
	}, nil),
	"lineitem": arrow.NewSchema([]arrow.Field{
		col("l_orderkey", typInt), col("l_partkey", typInt), col("l_suppkey", typInt), col("l_linenumber", typInt),
		col("l_quantity", typMoney), col("l_extendedprice", typMoney), col("l_discount", typMoney),
		col("l_tax", typMoney), col("l_returnflag", typStr), col("l_linestatus", typStr),
		col("l_shipdate", typDate), col("l_commitdate", typDate), col("l_receiptdate", typDate),
		col("l_shipinstruct", typStr), col("l_shipmode", typStr), col("l_comment", typStr),
	}, nil),
}

// Schema returns the Arrow schema of a TPC-H table (see the package doc for
// the type conventions). It returns an error for an unknown table name.
func Schema(table string) (*arrow.Schema, error) {
	s, ok := schemas[table]
	if !ok {
		return nil, fmt.Errorf("tpch: unknown table %q (want one of %v)", table, Tables)
	}
	return s, nil
}

// fileSchema is the schema the Parquet files are written with: pqarrow
// encodes decimals from Decimal128 arrays only, so the money columns are
// Decimal128(15,2) in the writer (still stored as INT64 DECIMAL) and
// readers get the engine's Decimal64 back.
func fileSchema(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i, f := range fields {
		if d, ok := f.Type.(*arrow.Decimal64Type); ok {
			fields[i].Type = &arrow.Decimal128Type{Precision: d.Precision, Scale: d.Scale}
		}
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// plainColumns are written without dictionary encoding: unique keys and
// near-unique values (names, addresses, phones, comments, prices), for which
// a dictionary only adds bytes. Every other column is dictionary encoded, so
// scans can keep low-cardinality strings (flags, modes, types) as indices.
// Keeping high-cardinality strings out of dictionaries also means no column
// chunk of the sample ever falls back from dictionary to plain mid-chunk,
// which keeps the written files byte-for-byte reproducible (arrow-go orders
// a chunk's page-encoding statistics by map iteration).
var plainColumns = map[string]bool{
	"n_comment": true, "r_comment": true,
	"p_partkey": true, "p_name": true, "p_comment": true,
	"s_suppkey": true, "s_name": true, "s_address": true, "s_phone": true, "s_acctbal": true, "s_comment": true,
	"ps_supplycost": true, "ps_comment": true,
	"c_custkey": true, "c_name": true, "c_address": true, "c_phone": true, "c_acctbal": true, "c_comment": true,
	"o_orderkey": true, "o_totalprice": true, "o_comment": true,
	"l_extendedprice": true, "l_comment": true,
}
