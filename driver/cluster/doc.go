// Package cluster is the driver process of cluster mode: the gRPC Driver
// service (proto/flint/v1/service.proto) that executors register with and
// clients submit jobs to.
//
// All bookkeeping of executors, jobs, stages and task attempts lives in one
// coordinator.State, changed only by coordinator events applied under the
// Driver's mutex. After every applied event the driver runs coordinator.Plan
// and carries out its proposals: it applies each TaskStarted and only then
// sends the attempt to its executor (Executor.RunTask, one goroutine per
// attempt, whose context is cancelled when the job ends or the executor is
// lost). The attempt's answer comes back as another event; the state machine
// says whether it is stale (a superseded attempt), in which case it is
// dropped. What the state machine does not hold — the plans, scan splits,
// exchange schemas, gRPC connections, result data, watchers — lives beside
// it in the Driver.
//
// Data flow of a job: the client sends a logical plan; the driver plans it
// (planner.Compile, exactly as local mode) and splits scan stages itself
// (the table files must be readable at the same paths by the driver and
// every executor). Map outputs stay on the executors that wrote them;
// consumers are told where they are (executor address, map task, attempt).
// A final-stage task writes its result as exchange <stage ID> with one
// partition; the driver fetches it over Arrow Flight on the executor's
// connection as soon as the task reports success, before applying the
// success, so a result lost with its executor is just a failed attempt and
// is rerun, and the job is complete only with every result in memory.
// Finished results are kept as one Arrow IPC stream for a bounded time.
//
// A write job (SubmitRequest.write) ends differently: its final tasks
// report the files they wrote (RunTaskResponse.written) instead of a
// result to fetch, and the driver commits them (write.go).
//
// Notifications (notify.go) leave the mutex as values on a bounded queue;
// one poster goroutine POSTs them in order, each with a timeout, so a slow
// or dead webhook costs dropped messages at worst, never scheduling.
//
// With Config.Replica the driver is one member of a replicated group
// (replicated.go, driver/replica): every event is committed through raft,
// with the records a successor needs, before the leader applies it; the
// other members refuse calls naming the leader; a new leader rebuilds its
// jobs from the replicated records and resumes them. Without it nothing of
// that runs and events are applied directly.
//
// Attempt numbers: the coordinator counts attempts from 1; on the wire
// (wire.TaskSpec.Attempt, input locations, TaskAttemptId, shuffle files)
// they count retries from 0, i.e. wire attempt = coordinator attempt - 1.
//
// The package must not be imported by the engine packages below it
// (executor, exec, physical, ...); it is the top of the cluster stack.
package cluster
