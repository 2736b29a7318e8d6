// Code generated from a template expanding one loop per comparison operator; DO NOT EDIT.

package expr

import (
	"cmp"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

func cmpEqAA[T cmp.Ordered](a, b []T, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] == y[0]) |
			b2u(x[1] == y[1])<<1 |
			b2u(x[2] == y[2])<<2 |
			b2u(x[3] == y[3])<<3 |
			b2u(x[4] == y[4])<<4 |
			b2u(x[5] == y[5])<<5 |
			b2u(x[6] == y[6])<<6 |
			b2u(x[7] == y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] == b[i]) << (i & 7)
	}
}

func cmpEqAS[T cmp.Ordered](a []T, s T, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] == s) |
			b2u(x[1] == s)<<1 |
			b2u(x[2] == s)<<2 |
			b2u(x[3] == s)<<3 |
			b2u(x[4] == s)<<4 |
			b2u(x[5] == s)<<5 |
			b2u(x[6] == s)<<6 |
			b2u(x[7] == s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] == s) << (i & 7)
	}
}

func decEqAA(a, b []decimal128.Num, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] == y[0]) |
			b2u(x[1] == y[1])<<1 |
			b2u(x[2] == y[2])<<2 |
			b2u(x[3] == y[3])<<3 |
			b2u(x[4] == y[4])<<4 |
			b2u(x[5] == y[5])<<5 |
			b2u(x[6] == y[6])<<6 |
			b2u(x[7] == y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] == b[i]) << (i & 7)
	}
}

func decEqAS(a []decimal128.Num, s decimal128.Num, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] == s) |
			b2u(x[1] == s)<<1 |
			b2u(x[2] == s)<<2 |
			b2u(x[3] == s)<<3 |
			b2u(x[4] == s)<<4 |
			b2u(x[5] == s)<<5 |
			b2u(x[6] == s)<<6 |
			b2u(x[7] == s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] == s) << (i & 7)
	}
}

func cmpNeAA[T cmp.Ordered](a, b []T, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] != y[0]) |
			b2u(x[1] != y[1])<<1 |
			b2u(x[2] != y[2])<<2 |
			b2u(x[3] != y[3])<<3 |
			b2u(x[4] != y[4])<<4 |
			b2u(x[5] != y[5])<<5 |
			b2u(x[6] != y[6])<<6 |
			b2u(x[7] != y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] != b[i]) << (i & 7)
	}
}

func cmpNeAS[T cmp.Ordered](a []T, s T, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] != s) |
			b2u(x[1] != s)<<1 |
			b2u(x[2] != s)<<2 |
			b2u(x[3] != s)<<3 |
			b2u(x[4] != s)<<4 |
			b2u(x[5] != s)<<5 |
			b2u(x[6] != s)<<6 |
			b2u(x[7] != s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] != s) << (i & 7)
	}
}

func decNeAA(a, b []decimal128.Num, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] != y[0]) |
			b2u(x[1] != y[1])<<1 |
			b2u(x[2] != y[2])<<2 |
			b2u(x[3] != y[3])<<3 |
			b2u(x[4] != y[4])<<4 |
			b2u(x[5] != y[5])<<5 |
			b2u(x[6] != y[6])<<6 |
			b2u(x[7] != y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] != b[i]) << (i & 7)
	}
}

func decNeAS(a []decimal128.Num, s decimal128.Num, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] != s) |
			b2u(x[1] != s)<<1 |
			b2u(x[2] != s)<<2 |
			b2u(x[3] != s)<<3 |
			b2u(x[4] != s)<<4 |
			b2u(x[5] != s)<<5 |
			b2u(x[6] != s)<<6 |
			b2u(x[7] != s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] != s) << (i & 7)
	}
}

func cmpLtAA[T cmp.Ordered](a, b []T, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] < y[0]) |
			b2u(x[1] < y[1])<<1 |
			b2u(x[2] < y[2])<<2 |
			b2u(x[3] < y[3])<<3 |
			b2u(x[4] < y[4])<<4 |
			b2u(x[5] < y[5])<<5 |
			b2u(x[6] < y[6])<<6 |
			b2u(x[7] < y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] < b[i]) << (i & 7)
	}
}

func cmpLtAS[T cmp.Ordered](a []T, s T, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] < s) |
			b2u(x[1] < s)<<1 |
			b2u(x[2] < s)<<2 |
			b2u(x[3] < s)<<3 |
			b2u(x[4] < s)<<4 |
			b2u(x[5] < s)<<5 |
			b2u(x[6] < s)<<6 |
			b2u(x[7] < s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] < s) << (i & 7)
	}
}

func decLtAA(a, b []decimal128.Num, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(decLess(x[0], y[0])) |
			b2u(decLess(x[1], y[1]))<<1 |
			b2u(decLess(x[2], y[2]))<<2 |
			b2u(decLess(x[3], y[3]))<<3 |
			b2u(decLess(x[4], y[4]))<<4 |
			b2u(decLess(x[5], y[5]))<<5 |
			b2u(decLess(x[6], y[6]))<<6 |
			b2u(decLess(x[7], y[7]))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(decLess(a[i], b[i])) << (i & 7)
	}
}

func decLtAS(a []decimal128.Num, s decimal128.Num, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(decLess(x[0], s)) |
			b2u(decLess(x[1], s))<<1 |
			b2u(decLess(x[2], s))<<2 |
			b2u(decLess(x[3], s))<<3 |
			b2u(decLess(x[4], s))<<4 |
			b2u(decLess(x[5], s))<<5 |
			b2u(decLess(x[6], s))<<6 |
			b2u(decLess(x[7], s))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(decLess(a[i], s)) << (i & 7)
	}
}

func cmpLeAA[T cmp.Ordered](a, b []T, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] <= y[0]) |
			b2u(x[1] <= y[1])<<1 |
			b2u(x[2] <= y[2])<<2 |
			b2u(x[3] <= y[3])<<3 |
			b2u(x[4] <= y[4])<<4 |
			b2u(x[5] <= y[5])<<5 |
			b2u(x[6] <= y[6])<<6 |
			b2u(x[7] <= y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] <= b[i]) << (i & 7)
	}
}

func cmpLeAS[T cmp.Ordered](a []T, s T, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] <= s) |
			b2u(x[1] <= s)<<1 |
			b2u(x[2] <= s)<<2 |
			b2u(x[3] <= s)<<3 |
			b2u(x[4] <= s)<<4 |
			b2u(x[5] <= s)<<5 |
			b2u(x[6] <= s)<<6 |
			b2u(x[7] <= s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] <= s) << (i & 7)
	}
}

func decLeAA(a, b []decimal128.Num, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(!decLess(y[0], x[0])) |
			b2u(!decLess(y[1], x[1]))<<1 |
			b2u(!decLess(y[2], x[2]))<<2 |
			b2u(!decLess(y[3], x[3]))<<3 |
			b2u(!decLess(y[4], x[4]))<<4 |
			b2u(!decLess(y[5], x[5]))<<5 |
			b2u(!decLess(y[6], x[6]))<<6 |
			b2u(!decLess(y[7], x[7]))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(!decLess(b[i], a[i])) << (i & 7)
	}
}

func decLeAS(a []decimal128.Num, s decimal128.Num, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(!decLess(s, x[0])) |
			b2u(!decLess(s, x[1]))<<1 |
			b2u(!decLess(s, x[2]))<<2 |
			b2u(!decLess(s, x[3]))<<3 |
			b2u(!decLess(s, x[4]))<<4 |
			b2u(!decLess(s, x[5]))<<5 |
			b2u(!decLess(s, x[6]))<<6 |
			b2u(!decLess(s, x[7]))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(!decLess(s, a[i])) << (i & 7)
	}
}

func cmpGtAA[T cmp.Ordered](a, b []T, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] > y[0]) |
			b2u(x[1] > y[1])<<1 |
			b2u(x[2] > y[2])<<2 |
			b2u(x[3] > y[3])<<3 |
			b2u(x[4] > y[4])<<4 |
			b2u(x[5] > y[5])<<5 |
			b2u(x[6] > y[6])<<6 |
			b2u(x[7] > y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] > b[i]) << (i & 7)
	}
}

func cmpGtAS[T cmp.Ordered](a []T, s T, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] > s) |
			b2u(x[1] > s)<<1 |
			b2u(x[2] > s)<<2 |
			b2u(x[3] > s)<<3 |
			b2u(x[4] > s)<<4 |
			b2u(x[5] > s)<<5 |
			b2u(x[6] > s)<<6 |
			b2u(x[7] > s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] > s) << (i & 7)
	}
}

func decGtAA(a, b []decimal128.Num, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(decLess(y[0], x[0])) |
			b2u(decLess(y[1], x[1]))<<1 |
			b2u(decLess(y[2], x[2]))<<2 |
			b2u(decLess(y[3], x[3]))<<3 |
			b2u(decLess(y[4], x[4]))<<4 |
			b2u(decLess(y[5], x[5]))<<5 |
			b2u(decLess(y[6], x[6]))<<6 |
			b2u(decLess(y[7], x[7]))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(decLess(b[i], a[i])) << (i & 7)
	}
}

func decGtAS(a []decimal128.Num, s decimal128.Num, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(decLess(s, x[0])) |
			b2u(decLess(s, x[1]))<<1 |
			b2u(decLess(s, x[2]))<<2 |
			b2u(decLess(s, x[3]))<<3 |
			b2u(decLess(s, x[4]))<<4 |
			b2u(decLess(s, x[5]))<<5 |
			b2u(decLess(s, x[6]))<<6 |
			b2u(decLess(s, x[7]))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(decLess(s, a[i])) << (i & 7)
	}
}

func cmpGeAA[T cmp.Ordered](a, b []T, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] >= y[0]) |
			b2u(x[1] >= y[1])<<1 |
			b2u(x[2] >= y[2])<<2 |
			b2u(x[3] >= y[3])<<3 |
			b2u(x[4] >= y[4])<<4 |
			b2u(x[5] >= y[5])<<5 |
			b2u(x[6] >= y[6])<<6 |
			b2u(x[7] >= y[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] >= b[i]) << (i & 7)
	}
}

func cmpGeAS[T cmp.Ordered](a []T, s T, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(x[0] >= s) |
			b2u(x[1] >= s)<<1 |
			b2u(x[2] >= s)<<2 |
			b2u(x[3] >= s)<<3 |
			b2u(x[4] >= s)<<4 |
			b2u(x[5] >= s)<<5 |
			b2u(x[6] >= s)<<6 |
			b2u(x[7] >= s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(a[i] >= s) << (i & 7)
	}
}

func decGeAA(a, b []decimal128.Num, out []byte) {
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		out[i>>3] = b2u(!decLess(x[0], y[0])) |
			b2u(!decLess(x[1], y[1]))<<1 |
			b2u(!decLess(x[2], y[2]))<<2 |
			b2u(!decLess(x[3], y[3]))<<3 |
			b2u(!decLess(x[4], y[4]))<<4 |
			b2u(!decLess(x[5], y[5]))<<5 |
			b2u(!decLess(x[6], y[6]))<<6 |
			b2u(!decLess(x[7], y[7]))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(!decLess(a[i], b[i])) << (i & 7)
	}
}

func decGeAS(a []decimal128.Num, s decimal128.Num, out []byte) {
	n := len(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := a[i : i+8 : i+8]
		out[i>>3] = b2u(!decLess(x[0], s)) |
			b2u(!decLess(x[1], s))<<1 |
			b2u(!decLess(x[2], s))<<2 |
			b2u(!decLess(x[3], s))<<3 |
			b2u(!decLess(x[4], s))<<4 |
			b2u(!decLess(x[5], s))<<5 |
			b2u(!decLess(x[6], s))<<6 |
			b2u(!decLess(x[7], s))<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(!decLess(a[i], s)) << (i & 7)
	}
}

func cmpAA[T cmp.Ordered](op cmpOp, a, b []T, out []byte) {
	switch op {
	case opEq:
		cmpEqAA(a, b, out)
	case opNe:
		cmpNeAA(a, b, out)
	case opLt:
		cmpLtAA(a, b, out)
	case opLe:
		cmpLeAA(a, b, out)
	case opGt:
		cmpGtAA(a, b, out)
	case opGe:
		cmpGeAA(a, b, out)
	}
}

func cmpAS[T cmp.Ordered](op cmpOp, a []T, s T, out []byte) {
	switch op {
	case opEq:
		cmpEqAS(a, s, out)
	case opNe:
		cmpNeAS(a, s, out)
	case opLt:
		cmpLtAS(a, s, out)
	case opLe:
		cmpLeAS(a, s, out)
	case opGt:
		cmpGtAS(a, s, out)
	case opGe:
		cmpGeAS(a, s, out)
	}
}

func decAA(op cmpOp, a, b []decimal128.Num, out []byte) {
	switch op {
	case opEq:
		decEqAA(a, b, out)
	case opNe:
		decNeAA(a, b, out)
	case opLt:
		decLtAA(a, b, out)
	case opLe:
		decLeAA(a, b, out)
	case opGt:
		decGtAA(a, b, out)
	case opGe:
		decGeAA(a, b, out)
	}
}

func decAS(op cmpOp, a []decimal128.Num, s decimal128.Num, out []byte) {
	switch op {
	case opEq:
		decEqAS(a, s, out)
	case opNe:
		decNeAS(a, s, out)
	case opLt:
		decLtAS(a, s, out)
	case opLe:
		decLeAS(a, s, out)
	case opGt:
		decGtAS(a, s, out)
	case opGe:
		decGeAS(a, s, out)
	}
}
