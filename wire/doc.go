// Package wire converts Flint's Go plan types to and from the protobuf
// messages of package flintpb (proto/flint/v1): logical plans and
// expressions (client → driver), physical stage plans and tasks (driver →
// executor).
//
// Every top-level message (LogicalPlan, StagePlan, Task) carries a version;
// decoders reject any version other than PlanVersion with an error naming
// both. Decoders validate what they read — node kinds, operators, child
// references, types — and return errors that name the offending node or
// field; garbage input never panics.
//
// Physical plans travel as a node table in which a node shared by several
// Go pointers (an Exchange that is a leaf of its consumer stage and the
// Output of its producer stage; a Stage's Scan) appears once, so decoding
// rebuilds the same sharing. A Task carries only its stage's subtree: the
// exchanges the stage reads become leaves whose Input is a StageInput
// placeholder that only knows the columns.
//
// Arrow schemas (table sources, exchange schemas) are encoded with
// flintpb.DataType/Field messages rather than Arrow IPC bytes, so that a
// plan stays readable with protobuf tooling alone. Supported types: null,
// bool, (u)int8..64, float32/64, utf8, large utf8, binary, large binary,
// decimal64 and decimal128 (the width is encoded: DECIMAL(p<=18) travels
// as a Decimal64), date32/64, timestamp, month-day-nano interval, struct,
// list.
//
// User functions are referenced by name (plan.Func.Name), so nothing
// executable ever crosses the wire.
//
// The package must not import driver (the driver imports it) nor run
// anything; it only translates.
package wire
