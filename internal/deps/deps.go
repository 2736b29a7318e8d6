// Package deps pins the project's chosen third-party modules in go.mod while
// the packages that use them are being written, so that parallel work does
// not race on go.mod. It is removed once every dependency has a real user.
package deps

import (
	_ "github.com/apache/arrow-go/v18/arrow"
	_ "github.com/apache/arrow-go/v18/parquet/pqarrow"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/pingcap/go-tpc/tpch/dbgen"
	_ "github.com/spf13/cobra"
	_ "github.com/zeebo/xxh3"
	_ "go.uber.org/goleak"
	_ "google.golang.org/grpc"
)
