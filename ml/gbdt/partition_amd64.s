//go:build amd64 && !purego

#include "textflag.h"

// func partitionBits512(rows *uint32, n int, scratch *uint32, codes *uint8, bits *[8]uint32) (nl, nr int)
//
// SI reads the rows, R8 + 4·R10 writes the left ones, R9 + 4·R11 the
// others. A row's code is the low byte of the dword gathered at codes +
// row; its bit is word code>>5 of bits (Z9, looked up by a permute),
// shifted right by code&31.
TEXT ·partitionBits512(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ scratch+16(FP), R9
	MOVQ codes+24(FP), BX
	MOVQ bits+32(FP), AX
	MOVQ SI, R8
	XORQ R10, R10
	XORQ R11, R11
	VMOVDQU (AX), Y9
	MOVL $0xFF, DX
	VPBROADCASTD DX, Z6
	MOVL $31, DX
	VPBROADCASTD DX, Z5
	MOVL $1, DX
	VPBROADCASTD DX, Z7
	SHRQ $4, CX
	JZ done

loop:
	VMOVDQU32 (SI), Z0
	KXNORW K0, K0, K1
	VPXORD Z1, Z1, Z1
	VPGATHERDD (BX)(Z0*1), K1, Z1
	VPANDD Z6, Z1, Z1
	VPSRLD $5, Z1, Z2
	VPERMD Z9, Z2, Z3
	VPANDD Z5, Z1, Z4
	VPSRLVD Z4, Z3, Z3
	VPTESTMD Z7, Z3, K2
	KNOTW K2, K3
	VPCOMPRESSD Z0, K2, Z10
	VMOVDQU32 Z10, (R8)(R10*4)
	VPCOMPRESSD Z0, K3, Z11
	VMOVDQU32 Z11, (R9)(R11*4)
	KMOVW K2, DX
	POPCNTL DX, DX
	ADDQ DX, R10
	MOVQ $16, DI
	SUBQ DX, DI
	ADDQ DI, R11
	ADDQ $64, SI
	DECQ CX
	JNZ loop

done:
	MOVQ R10, nl+40(FP)
	MOVQ R11, nr+48(FP)
	VZEROUPPER
	RET
