// Package metrics holds the Prometheus collectors of the cluster processes
// (flint driver, flint executor) and the HTTP listener that serves them
// with net/http/pprof.
//
// The engine packages (driver/cluster, executor/service) call plain
// methods on a *Driver or *Executor where events already happen; they do
// not import Prometheus themselves. Every method is safe on a nil
// receiver, so a process without --metrics passes nil and pays nothing.
// Each Driver and Executor owns its own prometheus.Registry: nothing is
// registered with the global default registry, so tests can run many
// processes in one binary.
//
// The package must not import any Flint package: it knows events and
// numbers, not jobs or plans.
package metrics
