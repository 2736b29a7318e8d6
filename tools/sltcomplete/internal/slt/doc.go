// Package slt is a verbatim copy of github.com/flint-engine/flint/sqllogictest/slt
// (slt.go only), kept here because this module cannot require the engine's
// module offline (its dependency graph is not all in the module cache).
// sqllogictest/slt's TestCopyInSync fails when the two drift apart; refresh
// with: cp ../../sqllogictest/slt/slt.go internal/slt/slt.go
package slt
