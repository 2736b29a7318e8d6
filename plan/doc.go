// Package plan defines Flint's logical plan: relational operators (Scan,
// Filter, Project, Aggregate, Join, Sort, Limit, Union, Window, Values,
// Predict) and the bound, typed expressions they carry. Predict names its
// model by a ModelRef (the model file's location and content hash), never
// holding the model itself.
//
// Every column a node produces has a query-wide unique ColumnID; expressions
// refer to columns by ID, never by position, so optimizer rules can move
// predicates and projections without renumbering. Nodes and expressions are
// plain data (no closures, no open handles) so that plans can be printed,
// compared in tests and serialized for executors.
//
// The SQL binder and the DataFrame API build plans; package optimizer
// rewrites them; package physical lowers them. This package imports neither.
package plan
