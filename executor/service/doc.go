// Package service is the executor process of cluster mode: a gRPC server
// that runs task attempts for the driver (flintpb.Executor) and serves
// their shuffle output to other executors (Arrow Flight, same server), plus
// a loop that registers the executor with the driver and sends heartbeats.
//
// Per job, the executor keeps one executor.Env (exchange schemas, broadcast
// join tables built once per job and process; table sources are shared by
// all jobs), a shuffle.FileStore under <work dir>/<job> and a
// shuffle.RemoteReader. Each attempt runs on a view of the job's Env whose
// Store writes the attempt's own files (FileStore.PutAttempt with the
// attempt number, so a retry never overwrites a committed attempt) and
// reads its inputs from the locations in the task (local files directly,
// others over Flight). A final-stage task keeps its result the same way,
// as exchange <stage ID> with one partition, for the driver to fetch.
//
// A task of a write stage (a physical.Write at the root) writes its rows
// into files of the dataset instead (executor.RunWrite, files named with
// the attempt number) and lists them in RunTaskResponse.written; nothing
// is kept for the driver to fetch.
//
// RunTask blocks until the attempt ends. A task's failure, including the
// map outputs it could not read (fetch_failures), is in the response; a
// gRPC error means the call was cancelled. Cancelling the call, EndJob of
// its job, or stopping the executor cancels the attempt. EndJob drops the
// job's state and removes its files; Stop ends every job; Start removes
// what earlier runs left in the work dir.
//
// Logs say when the executor registers, loses or regains the driver, and
// which attempts failed; they never contain table data or SQL (a task's
// error text, which may quote values, goes only to the driver).
//
// The package must not import the driver packages (driver, driver/cluster):
// the two sides meet only through the proto services.
package service
