// Package hashing holds the vectorized building blocks of Flint's hash-based
// operators (hash aggregate, hash join, exchange partitioning): whole-batch
// key hashing, a typed open-addressing key table with columnar key storage,
// a typed gather (Take) kernel and helpers that turn Go slices into Arrow
// arrays.
//
// It owns no operator and knows nothing of SQL; package exec builds the
// operators on top of it.
//
// # Key hash (stable contract)
//
// Shuffles between executors depend on the hash, so it is fixed and must
// not change between versions. For a row with key values v1..vk:
//
//	h0 = 0x9E3779B97F4A7C15
//	hi = fmix64(h(i-1) XOR digest(vi))
//
// where fmix64 is the MurmurHash3 64-bit finalizer and digest is:
//   - NULL of any type: 0x6A09E667F3BCC909
//   - signed integers, Date32/64, Time32/64, Timestamp, Duration: the value
//     sign-extended to 64 bits (so Int32(5) and Int64(5) hash alike);
//     unsigned integers zero-extended
//   - Boolean: 0 or 1
//   - Float32/Float64: the IEEE bits of the value widened to float64, with
//     -0 mapped to +0 and every NaN mapped to the canonical NaN
//   - Decimal128: lo + hi*0x9FB21C651E98DF25 over the two's-complement
//     64-bit halves; Decimal64: the same over its value sign-extended to
//     128 bits (so both widths of a value hash alike)
//   - String/Binary: xxh3 (github.com/zeebo/xxh3) of the bytes, seed 0.
//
// The in-memory table uses the top bits of the hash for the slot and the
// low 32 bits as a tag; exchange partitioning uses PartitionOf, which
// remixes the hash with a different constant before taking it modulo n, so
// a table built after a shuffle does not see correlated slots.
package hashing
