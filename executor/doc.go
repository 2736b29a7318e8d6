// Package executor runs tasks: it turns one stage of a physical plan into a
// tree of vectorized exec operators for one partition, drains it, and
// delivers the output either to the exchange the stage feeds (split by
// partition) or, for the final stage, back to the caller.
//
// A stage whose root is a physical.Write runs with RunWrite instead: its
// rows stream into files of the dataset (connectors.TaskWriter) and the
// task returns the files it completed; a failed attempt removes what it
// wrote.
//
// The same code runs inside local mode's in-process slots and inside
// executor processes (package executor/service, which gives each attempt
// its own Store through Env.WithStore); everything a task needs arrives in
// a Task and an Env.
// It imports physical, exec, exec/expr, connectors and shuffle, and must
// not import the driver.
package executor
