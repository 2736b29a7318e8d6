// Package mempool is the memory budget of a Flint process: one Pool per
// process (or per query in local mode), from which every operator that can
// hold a table (hash join build, aggregation, sort, window, exchange
// buffers) takes a Reservation before it grows and gives it back when it
// shrinks.
//
// The pool follows DataFusion's fair spill pool: reservations that cannot
// spill (an exchange buffer that must commit, a broadcast table) take what
// they need first; the memory left is shared equally between the
// reservations that can spill, so one greedy operator never starves the
// others of a task or of another task. When TryGrow fails a spillable
// operator writes its state to disk (package spill) and frees its
// reservation; an operator that cannot spill any more returns the
// LimitError, which names it.
//
// The pool counts bytes the operators report (Arrow buffers, hash table
// slices): it does not allocate. The Go GC target follows the budget
// (SetProcessLimit), so garbage never pushes the process past it.
//
// The package imports only the standard library; exec and shuffle use it.
package mempool
