// Package coordinator holds the driver's bookkeeping of executors, jobs,
// stages and tasks as one deterministic state machine. The state changes
// only through Apply(Event); Apply never reads clocks, random numbers or
// anything outside the event, so replaying the same events gives the same
// state. That is what lets a later step replicate the driver with
// hashicorp/raft (the events become log entries, Apply becomes the FSM).
//
// Scheduling decisions are made outside Apply by Plan, a pure function of
// the state that proposes TaskStarted events; the driver applies them (or
// commits them through raft first) and only then contacts executors.
//
// The package imports nothing of the engine: stages are described by their
// IDs, inputs and task counts.
package coordinator
