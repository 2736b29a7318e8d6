package connectors

import "github.com/flint-engine/flint/connectors/s3"

// Every program that reads tables (the CLI, sessions, executors) goes
// through this package, so registering storage schemes here makes them
// work everywhere a location is taken.
func init() { s3.Register() }
