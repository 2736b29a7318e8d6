// Package flintpb holds the Go code generated from proto/flint/v1/*.proto:
// Flint's wire format for logical plans (client → driver), physical stage
// plans and tasks (driver → executor). Regenerate with `make proto`; the
// generated files are committed so that building never needs protoc.
// Conversion to and from the engine's Go types lives in package wire.
package flintpb
