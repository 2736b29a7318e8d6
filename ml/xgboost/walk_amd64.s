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

// A level's step for the sixteen rows of a group: Z0 their positions,
// Z2 the nodes' thresholds, Z3 their value offsets (+ the rows, Z1), Z4
// the values (gathered under the live rows, K7), K2 the rows going left
// (value < threshold, ordered: false for NaN); position = 2·position +
// (1 going right).
#define DESCEND \
	VPADDD Z1, Z3, Z3; \
	KMOVW K7, K1; \
	VPXORD Z4, Z4, Z4; \
	VGATHERDPS (BX)(Z3*4), K1, Z4; \
	VCMPPS $1, Z2, Z4, K7, K2; \
	VPADDD Z0, Z0, Z0; \
	KNOTW K2, K3; \
	VPADDD Z7, Z0, K3, Z0

// A level of at most 16 nodes: one table each.
#define LEVEL16(TT, TF) \
	VPERMPS TT, Z0, Z2; \
	VPERMD TF, Z0, Z3; \
	DESCEND

// func walkTree512(tab *uint32, x *float32, a *float32, n int)
//
// Registers: thresholds of levels 0-4 in Z16-Z20, level 5 in Z21:Z22;
// value offsets likewise in Z23-Z27, Z28:Z29; the 64 leaves in Z10-Z13.
// (Z15 is left alone: Go keeps X15 zero.)
TEXT ·walkTree512(SB), NOSPLIT, $0-32
	MOVQ tab+0(FP), AX
	MOVQ x+8(FP), BX
	MOVQ a+16(FP), DI
	MOVQ n+24(FP), CX
	VMOVDQU32 0(AX), Z16
	VMOVDQU32 64(AX), Z17
	VMOVDQU32 128(AX), Z18
	VMOVDQU32 192(AX), Z19
	VMOVDQU32 256(AX), Z20
	VMOVDQU32 320(AX), Z21
	VMOVDQU32 384(AX), Z22
	VMOVDQU32 448(AX), Z23
	VMOVDQU32 512(AX), Z24
	VMOVDQU32 576(AX), Z25
	VMOVDQU32 640(AX), Z26
	VMOVDQU32 704(AX), Z27
	VMOVDQU32 768(AX), Z28
	VMOVDQU32 832(AX), Z29
	VMOVDQU32 896(AX), Z10
	VMOVDQU32 960(AX), Z11
	VMOVDQU32 1024(AX), Z12
	VMOVDQU32 1088(AX), Z13
	VMOVDQU32 lanes16<>(SB), Z1
	MOVL $1, R8
	VPBROADCASTD R8, Z7
	MOVL $16, R8
	VPBROADCASTD R8, Z8
	MOVL $32, R8
	VPBROADCASTD R8, Z9

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
	LEVEL16(Z16, Z23)
	LEVEL16(Z17, Z24)
	LEVEL16(Z18, Z25)
	LEVEL16(Z19, Z26)
	LEVEL16(Z20, Z27)
	// Level 5: 32 nodes, two tables each.
	VMOVAPS Z21, Z2
	VPERMT2PS Z22, Z0, Z2
	VMOVDQA32 Z28, Z3
	VPERMT2D Z29, Z0, Z3
	DESCEND
	// The leaves: 64, in four tables; position bit 5 picks the half.
	VMOVAPS Z10, Z2
	VPERMT2PS Z11, Z0, Z2
	VMOVAPS Z12, Z5
	VPERMT2PS Z13, Z0, Z5
	VPTESTMD Z9, Z0, K4
	VMOVAPS Z5, K4, Z2
	VPXORD Z6, Z6, Z6
	VMOVUPS (DI), K7, Z6
	VADDPS Z2, Z6, Z6
	VMOVUPS Z6, K7, (DI)
	ADDQ $64, DI
	VPADDD Z8, Z1, Z1
	SUBQ $16, CX
	JMP group

done:
	VZEROUPPER
	RET
