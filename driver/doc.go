// Package driver schedules a query's stages. A stage starts when every stage
// it reads has finished; its tasks (one per scan split group or per
// partition) run on a fixed number of slots, and the exchange data a stage
// read is dropped once its last consumer finishes.
//
// A write plan (a physical.Write at the root of the final stage) runs with
// ExecuteWrite, which also commits it: connectors.BeginWrite checks the
// target first, each final task runs executor.RunWrite (a failed attempt
// is retried: its files are its own), and the first successful attempt of
// every task is committed by WriteJob.Commit, manifest last.
//
// Local mode runs tasks on in-process slots through executor.Run; cluster
// mode (package driver/cluster, the driver process) hands the same
// physical.Task descriptions to executor processes over gRPC.
package driver
