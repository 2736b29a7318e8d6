//go:build amd64 && !purego

#include "textflag.h"

// Lane offsets 0…15: a group's rows, relative to its first.
DATA lanes16<>+0(SB)/4, $0
DATA lanes16<>+4(SB)/4, $1
DATA lanes16<>+8(SB)/4, $2
DATA lanes16<>+12(SB)/4, $3
DATA lanes16<>+16(SB)/4, $4
DATA lanes16<>+20(SB)/4, $5
DATA lanes16<>+24(SB)/4, $6
DATA lanes16<>+28(SB)/4, $7
DATA lanes16<>+32(SB)/4, $8
DATA lanes16<>+36(SB)/4, $9
DATA lanes16<>+40(SB)/4, $10
DATA lanes16<>+44(SB)/4, $11
DATA lanes16<>+48(SB)/4, $12
DATA lanes16<>+52(SB)/4, $13
DATA lanes16<>+56(SB)/4, $14
DATA lanes16<>+60(SB)/4, $15
GLOBL lanes16<>(SB), RODATA|NOPTR, $64

// The steps of one group of sixteen rows: POS their positions in the
// complete tree, T the nodes' thresholds, F their value offsets (+ the
// rows, ROW), V the values, gathered under the live rows (K7); K2 marks
// the rows going left (value < threshold, ordered: false for NaN), and
// position = 2·position + (1 going right). The vecTable's levels are
// looked up from memory (AX): 0-4 by one permute, 5 (32 nodes) by a
// two-table one, the 64 leaves by two and a blend on position bit 5 (a
// tree deeper than six levels has, in place of the leaf values, the node
// indexes (int32) its walk goes on from, which a permute moves as it
// moves floats).
#define DESC(POS, T, F, V, ROW) \
	VPADDD ROW, F, F; \
	KMOVW K7, K1; \
	VPXORD V, V, V; \
	VGATHERDPS (BX)(F*4), K1, V; \
	VCMPPS $1, T, V, K7, K2; \
	VPADDD POS, POS, POS; \
	KNOTW K2, K2; \
	VPADDD Z7, POS, K2, POS

#define LVL(TOFF, FOFF, POS, T, F, V, ROW) \
	VPERMPS TOFF(AX), POS, T; \
	VPERMD FOFF(AX), POS, F; \
	DESC(POS, T, F, V, ROW)

#define LVL5(POS, T, F, V, ROW) \
	VMOVDQU32 320(AX), T; \
	VPERMT2PS 384(AX), POS, T; \
	VMOVDQU32 768(AX), F; \
	VPERMT2D 832(AX), POS, F; \
	DESC(POS, T, F, V, ROW)

#define LEAVES(POS, OUT, TMP) \
	VMOVDQU32 896(AX), OUT; \
	VPERMT2PS 960(AX), POS, OUT; \
	VMOVDQU32 1024(AX), TMP; \
	VPERMT2PS 1088(AX), POS, TMP; \
	VPTESTMD Z9, POS, K3; \
	VMOVAPS TMP, K3, OUT

// func walkTree512(tab *uint32, x *float32, out unsafe.Pointer, n int, store int)
//
// out is the rows' margins (float32), to which each row's leaf value is
// added; or, with store set, their node indexes (int32), which the looked
// up words are written to. Each group's walk is a chain of dependent steps (a permute, a gather,
// a compare a level), so four groups go at once while 64 rows are left —
// rows in Z1, Z14, Z20, Z25; positions in Z0, Z10, Z16, Z21 — and the
// rest a group at a time. The four go level by level, interleaved: one
// group's whole walk after another's leaves the core waiting (1M rows ×
// 60 trees took 0.30 s so, 0.18 s interleaved). (Z15 is left alone: Go
// keeps X15 zero.)
TEXT ·walkTree512(SB), NOSPLIT, $0-40
	MOVQ tab+0(FP), AX
	MOVQ x+8(FP), BX
	MOVQ out+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ store+32(FP), R12
	VMOVDQU32 lanes16<>(SB), Z1
	MOVL $1, R8
	VPBROADCASTD R8, Z7
	MOVL $16, R8
	VPBROADCASTD R8, Z8
	MOVL $32, R8
	VPBROADCASTD R8, Z9
	KXNORW K0, K0, K7

quad:
	CMPQ CX, $64
	JLT group
	VPADDD Z8, Z1, Z14
	VPADDD Z8, Z14, Z20
	VPADDD Z8, Z20, Z25
	VPXORD Z0, Z0, Z0
	VPXORD Z10, Z10, Z10
	VPXORD Z16, Z16, Z16
	VPXORD Z21, Z21, Z21
	LVL(0, 448, Z0, Z2, Z3, Z4, Z1)
	LVL(0, 448, Z10, Z11, Z12, Z13, Z14)
	LVL(0, 448, Z16, Z17, Z18, Z19, Z20)
	LVL(0, 448, Z21, Z22, Z23, Z24, Z25)
	LVL(64, 512, Z0, Z2, Z3, Z4, Z1)
	LVL(64, 512, Z10, Z11, Z12, Z13, Z14)
	LVL(64, 512, Z16, Z17, Z18, Z19, Z20)
	LVL(64, 512, Z21, Z22, Z23, Z24, Z25)
	LVL(128, 576, Z0, Z2, Z3, Z4, Z1)
	LVL(128, 576, Z10, Z11, Z12, Z13, Z14)
	LVL(128, 576, Z16, Z17, Z18, Z19, Z20)
	LVL(128, 576, Z21, Z22, Z23, Z24, Z25)
	LVL(192, 640, Z0, Z2, Z3, Z4, Z1)
	LVL(192, 640, Z10, Z11, Z12, Z13, Z14)
	LVL(192, 640, Z16, Z17, Z18, Z19, Z20)
	LVL(192, 640, Z21, Z22, Z23, Z24, Z25)
	LVL(256, 704, Z0, Z2, Z3, Z4, Z1)
	LVL(256, 704, Z10, Z11, Z12, Z13, Z14)
	LVL(256, 704, Z16, Z17, Z18, Z19, Z20)
	LVL(256, 704, Z21, Z22, Z23, Z24, Z25)
	LVL5(Z0, Z2, Z3, Z4, Z1)
	LVL5(Z10, Z11, Z12, Z13, Z14)
	LVL5(Z16, Z17, Z18, Z19, Z20)
	LVL5(Z21, Z22, Z23, Z24, Z25)
	LEAVES(Z0, Z2, Z5)
	LEAVES(Z10, Z11, Z5)
	LEAVES(Z16, Z17, Z5)
	LEAVES(Z21, Z22, Z5)
	TESTQ R12, R12
	JNZ quadstore
	VADDPS (DI), Z2, Z2
	VMOVUPS Z2, (DI)
	VADDPS 64(DI), Z11, Z11
	VMOVUPS Z11, 64(DI)
	VADDPS 128(DI), Z17, Z17
	VMOVUPS Z17, 128(DI)
	VADDPS 192(DI), Z22, Z22
	VMOVUPS Z22, 192(DI)
	JMP quadnext

quadstore:
	VMOVDQU32 Z2, (DI)
	VMOVDQU32 Z11, 64(DI)
	VMOVDQU32 Z17, 128(DI)
	VMOVDQU32 Z22, 192(DI)

quadnext:
	VPADDD Z8, Z25, Z1
	ADDQ $256, DI
	SUBQ $64, CX
	JMP quad

group:
	TESTQ CX, CX
	JLE done
	MOVQ $0xFFFF, R10
	CMPQ CX, $16
	JGE full
	MOVQ $1, R10
	SHLQ CX, R10
	DECQ R10

full:
	KMOVW R10, K7
	VPXORD Z0, Z0, Z0
	LVL(0, 448, Z0, Z2, Z3, Z4, Z1)
	LVL(64, 512, Z0, Z2, Z3, Z4, Z1)
	LVL(128, 576, Z0, Z2, Z3, Z4, Z1)
	LVL(192, 640, Z0, Z2, Z3, Z4, Z1)
	LVL(256, 704, Z0, Z2, Z3, Z4, Z1)
	LVL5(Z0, Z2, Z3, Z4, Z1)
	LEAVES(Z0, Z2, Z5)
	TESTQ R12, R12
	JNZ groupstore
	VPXORD Z6, Z6, Z6
	VMOVUPS (DI), K7, Z6
	VADDPS Z2, Z6, Z6
	VMOVUPS Z6, K7, (DI)
	JMP groupnext

groupstore:
	VMOVDQU32 Z2, K7, (DI)

groupnext:
	ADDQ $64, DI
	VPADDD Z8, Z1, Z1
	SUBQ $16, CX
	JMP group

done:
	VZEROUPPER
	RET
