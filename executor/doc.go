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
// Models of Predict nodes are loaded through Env.Models (by default the
// process's ml/store cache, keyed by the model file's content hash), so a
// process reads each model once for all the tasks that score with it.
//
// It imports physical, exec, exec/expr, connectors, shuffle and ml/store,
// and must not import the driver.
package executor
