// Package replica replicates the cluster driver's coordinator state over
// hashicorp/raft, so that a group of drivers (usually three) survives the
// loss of any one of them.
//
// What is replicated is an Entry: at most one coordinator.Event and the
// side Records that go with it (a job's submission and compiled stages
// with its JobSubmitted, a stage's splits with its StageTasksSet, an
// exchange's schema or a write task's files with the TaskSucceeded that
// produced them), or a batch of events applied each on its own (the
// attempts one scheduling round starts). The raft
// FSM applies the event to its own coordinator.State — Apply stays the
// deterministic function it is without raft — and keeps the records of
// the jobs the state holds; JobForgotten drops them. The leader stamps an
// entry's time (Entry.UnixMs) before it is proposed: nothing in the FSM
// reads a clock.
//
// The package knows no engine type: records are named bytes (the driver
// decides their encoding, protobuf for plans and splits) so that the FSM
// can snapshot and restore them without understanding them. Snapshots
// are one JSON document (state and records), written to raft's file
// snapshot store; the log and raft's stable store live in raft-boltdb
// under the member's directory. Raft's own log goes to the member's
// slog.Logger.
//
// A group starts from a list: every member is given every member (Peer:
// raft ID, raft address, client address). A member whose directory holds
// no raft state bootstraps the group with that list, as etcd's initial
// cluster does: when all start empty they agree on the same first
// configuration. Later members start with Config.Join (no bootstrap) and
// are added by the leader (AddMember: their addresses committed as an
// entry, then raft's configuration changed); RemoveMember takes one out.
//
// Concurrency: Apply, State and Status may be called from any goroutine.
// The FSM's methods run on raft's goroutines and never call back into the
// caller; leadership changes reach the caller through Config.OnLeader,
// called from one goroutine of the Node, in order.
//
// The package must not import the engine (plans, executors, gRPC
// services): driver/cluster builds on it, not the other way round.
package replica
